//! Coliseum: the math that turns Passport events into artist DNA.

pub mod counting;
pub mod metrics;
pub mod weight;

pub use counting::{day_cap_units, play_counts, play_slot, play_units, PlayCounter, RankError};
pub use metrics::{concentration, normalized_entropy, strength_score, MetricError};
pub use weight::{
    bucket_decayed_units, bucket_terms, decay_region, decayed_units, event_weight, recency_decay, tier_multiplier, tier_units, BucketError,
    DecayRegion, Tier,
};
