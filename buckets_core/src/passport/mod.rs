//! Passport: the canonical, append-only log of everything users do.
//!
//! The event catalog here is the single source of truth: the edge validates
//! against it, and `buckets-codegen` writes it into the migration that fills
//! `passport.event_kinds`, which the database validates against.

pub mod catalog;
pub mod validate;

pub use catalog::{find_alias, find_kind, Domain, EventKind, Field, FieldType, KindAlias, Rename, Source, ALIASES, ARTIST_ID, KINDS};
pub use validate::{check_event, restate, Rejection, RejectionCode, Restated};
