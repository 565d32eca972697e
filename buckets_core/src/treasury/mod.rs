//! Treasury: the money rules that must give the same answer in Rust and in SQL.

pub mod split;

pub use split::{allocate_refund, allocate_split, SplitError, BASIS_POINTS};
