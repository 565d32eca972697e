//! Companon: the math of brand campaigns. Matching compares a campaign's
//! target with each artist's DNA (docs/companon.md, "Matching").

pub mod matching;

pub use matching::{
    dna_vector, drivers, normalise, similarity, target_vector, Dimension, Driver, MatchError, Scale, DIMENSIONS, DNA_LEN, DOMAINS, FLUSH,
};
