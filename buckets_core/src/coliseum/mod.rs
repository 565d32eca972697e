//! Coliseum: the math that turns Passport events into artist DNA.

pub mod weight;

pub use weight::{event_weight, recency_decay, tier_multiplier, Tier};
