//! The generated migrations and docs must match their sources.

use buckets_core::codegen::{generated_files, read_twins};
use std::path::Path;

#[test]
fn generated_files_are_current() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let twins = read_twins(&root).expect("sql/twins is readable");
    assert!(!twins.is_empty(), "sql/twins has no .sql file");
    for (rel, expected) in generated_files(&twins) {
        let actual = std::fs::read_to_string(root.join(rel)).unwrap_or_default();
        assert!(
            actual == expected,
            "{rel} is stale: run `cargo run -p buckets_core --bin buckets-codegen -- write`"
        );
    }
}

#[test]
fn catalog_migration_names_every_kind_once() {
    let sql = buckets_core::codegen::catalog_migration();
    for kind in buckets_core::passport::KINDS {
        assert_eq!(sql.matches(&format!("('{}',", kind.name)).count(), 1, "{}", kind.name);
    }
}

#[test]
fn catalog_migration_names_every_alias_once() {
    let sql = buckets_core::codegen::catalog_migration();
    for alias in buckets_core::passport::ALIASES {
        assert_eq!(
            sql.matches(&format!("('{}', '{}',", alias.alias, alias.kind)).count(),
            1,
            "{}",
            alias.alias
        );
    }
}
