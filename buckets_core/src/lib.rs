//! The rules of the Buckets platform that are shared by the Postgres extension
//! (`pg_coliseum`) and the edge functions: nothing here knows about Postgres,
//! HTTP or WASM, so all of it is tested with plain `cargo test`.

pub mod codegen;
pub mod coliseum;
pub mod companon;
pub mod passport;
pub mod treasury;
