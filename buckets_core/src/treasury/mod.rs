//! Treasury: the money rules that must give the same answer in Rust and in SQL.

pub mod money;
pub mod split;

pub use money::{format_amount, minor_unit_digits};
pub use split::{allocate_refund, allocate_split, SplitError, BASIS_POINTS};
