//! The generated migrations and docs must match their sources.

use buckets_core::codegen::sources::{self, carried, parse_manifest, MANIFEST, MIGRATIONS_DIR};
use buckets_core::codegen::{catalog_migration, generated_files, newest_catalog_migration, read_twins};
use std::path::{Path, PathBuf};

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
    let newest = newest_catalog_migration(&root)
        .expect("supabase/migrations is readable")
        .expect("a catalog migration exists");
    assert!(
        std::fs::read_to_string(root.join(&newest)).unwrap_or_default() == catalog_migration(),
        "{newest} differs from the catalog: run `cargo run -p buckets_core --bin buckets-codegen -- write`"
    );
    let plan = sources::plan(&root).expect("sql/ and supabase/migrations are readable");
    assert!(
        plan.is_current(),
        "the database sources and their migrations disagree; run `cargo run -p buckets_core --bin buckets-codegen -- write`:\n{}",
        plan.problems().join("\n")
    );
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A copy of the manifest, the sources and the migrations in a fresh directory.
fn scratch_copy(name: &str) -> PathBuf {
    fn copy_dir(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            let target = to.join(path.file_name().unwrap());
            if path.is_dir() {
                copy_dir(&path, &target);
            } else {
                std::fs::copy(&path, &target).unwrap();
            }
        }
    }
    let dir = std::env::temp_dir().join(format!("buckets-sources-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("sql"), &dir.join("sql"));
    copy_dir(&root().join(MIGRATIONS_DIR), &dir.join(MIGRATIONS_DIR));
    dir
}

#[test]
fn every_source_is_carried_by_a_migration() {
    let steps = parse_manifest(&std::fs::read_to_string(root().join(MANIFEST)).unwrap()).unwrap();
    let listed: usize = steps.iter().map(|s| s.sources.len()).sum();
    assert!(listed > 200, "{MANIFEST} lists {listed} sources");
    for step in &steps {
        let text = std::fs::read_to_string(root().join(MIGRATIONS_DIR).join(format!("{}.sql", step.migration))).unwrap();
        let paths: Vec<String> = carried(&text).into_iter().map(|(p, _)| p).collect();
        assert_eq!(paths, step.sources, "{} carries what its step lists", step.migration);
    }
}

#[test]
fn a_changed_source_needs_a_new_migration() {
    let dir = scratch_copy("changed");
    assert!(sources::plan(&dir).unwrap().is_current(), "the copy starts current");
    let source = "sql/treasury/treasury.check_invariants.sql";
    let changed = std::fs::read_to_string(dir.join(source)).unwrap() + "\ncomment on schema treasury is 'changed';\n";
    std::fs::write(dir.join(source), &changed).unwrap();

    let plan = sources::plan(&dir).unwrap();
    assert!(!plan.is_current());
    assert_eq!(
        plan.problems(),
        vec![format!("changed: {source} differs from the newest migration carrying it")]
    );

    let written = sources::write(&dir, &plan, "20991231235959").unwrap();
    assert_eq!(written, vec![format!("{MIGRATIONS_DIR}/20991231235959_sources.sql")]);
    let migration = std::fs::read_to_string(dir.join(&written[0])).unwrap();
    assert_eq!(carried(&migration), vec![(source.to_string(), changed.trim_end().to_string())]);
    assert!(sources::plan(&dir).unwrap().is_current(), "the new migration makes it current");

    // Changing it back is a change too: the newest migration carries the other text.
    let original = std::fs::read_to_string(root().join(source)).unwrap();
    std::fs::write(dir.join(source), original).unwrap();
    assert_eq!(sources::plan(&dir).unwrap().changed.len(), 1);
    assert!(
        sources::write(&dir, &sources::plan(&dir).unwrap(), "20991231235959").is_err(),
        "a version must sort last"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_source_in_no_step_and_a_missing_step_are_reported() {
    let dir = scratch_copy("unlisted");
    std::fs::create_dir_all(dir.join("sql/companon")).unwrap();
    std::fs::write(dir.join("sql/companon/companon.nothing.sql"), "select 1;\n").unwrap();
    let plan = sources::plan(&dir).unwrap();
    assert!(
        plan.errors
            .iter()
            .any(|e| e.starts_with("sql/companon/companon.nothing.sql is in no step")),
        "{:?}",
        plan.errors
    );

    std::fs::remove_file(dir.join("sql/companon/companon.nothing.sql")).unwrap();
    // A new step of its own (the real steps' sources may have changed since they were written, which
    // later sources migrations carry): listed, it is missing; written, then removed and written again,
    // it comes out the same.
    let step = "20991231235900_probe_code";
    std::fs::write(
        dir.join("sql/companon/companon.probe.sql"),
        "create or replace function companon.probe() returns int language sql as $$ select 1 $$;\n",
    )
    .unwrap();
    let manifest = std::fs::read_to_string(dir.join(MANIFEST)).unwrap();
    std::fs::write(dir.join(MANIFEST), format!("{manifest}\n[{step}]\ncompanon/companon.probe.sql\n")).unwrap();
    let plan = sources::plan(&dir).unwrap();
    assert!(plan.changed.is_empty(), "a step not written yet carries today's text");
    assert_eq!(plan.new_steps.len(), 1, "{:?}", plan.errors);
    sources::write(&dir, &plan, "20991231235959").unwrap();
    let first = std::fs::read_to_string(dir.join(MIGRATIONS_DIR).join(format!("{step}.sql"))).unwrap();
    assert!(first.contains("companon.probe()"), "{first}");
    std::fs::remove_file(dir.join(MIGRATIONS_DIR).join(format!("{step}.sql"))).unwrap();
    let plan = sources::plan(&dir).unwrap();
    assert_eq!(plan.new_steps.len(), 1);
    sources::write(&dir, &plan, "20991231235959").unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join(MIGRATIONS_DIR).join(format!("{step}.sql"))).unwrap(),
        first,
        "the step is written exactly as it was"
    );
    std::fs::remove_dir_all(&dir).unwrap();
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
