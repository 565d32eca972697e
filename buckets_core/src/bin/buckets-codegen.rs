//! `buckets-codegen write` regenerates the catalog migration, the math
//! migration and the catalog doc, and writes the migrations that carry the
//! database sources (`sql/manifest.txt`): a step not written yet, and a
//! `<UTC now>_sources.sql` when a source changed, and a
//! `<UTC now>_passport_catalog_data.sql` when the catalog changed.
//! `buckets-codegen check` fails, naming each, if any of that is due.

use buckets_core::codegen::sources::{self, version_at};
use buckets_core::codegen::{catalog_migration, generated_files, new_catalog_migration, newest_catalog_migration, read_twins};
use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mode = std::env::args().nth(1).unwrap_or_default();
    if mode != "write" && mode != "check" {
        eprintln!("usage: buckets-codegen write|check");
        return ExitCode::from(2);
    }
    let twins = match read_twins(&root) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("buckets-codegen: cannot read sql/twins: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut stale = 0;
    for (rel, contents) in generated_files(&twins) {
        let path = root.join(rel);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == contents {
            continue;
        }
        if mode == "write" {
            if let Err(e) = std::fs::write(&path, &contents) {
                eprintln!("buckets-codegen: cannot write {rel}: {e}");
                return ExitCode::FAILURE;
            }
            eprintln!("wrote {rel}");
        } else {
            eprintln!("stale: {rel} (run `cargo run -p buckets_core --bin buckets-codegen -- write`)");
            stale += 1;
        }
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let newest_catalog = match newest_catalog_migration(&root) {
        Ok(n) => n,
        Err(e) => {
            eprintln!("buckets-codegen: cannot read the migrations: {e}");
            return ExitCode::FAILURE;
        }
    };
    let catalog = catalog_migration();
    let catalog_current = newest_catalog
        .as_ref()
        .is_some_and(|rel| std::fs::read_to_string(root.join(rel)).unwrap_or_default() == catalog);
    if !catalog_current && mode != "write" {
        eprintln!(
            "stale: {} differs from the catalog (run `cargo run -p buckets_core --bin buckets-codegen -- write`)",
            newest_catalog.as_deref().unwrap_or("the catalog migration")
        );
        stale += 1;
    }
    let plan = match sources::plan(&root) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("buckets-codegen: cannot read the sources or migrations: {e}");
            return ExitCode::FAILURE;
        }
    };
    for error in &plan.errors {
        eprintln!("error: {error}");
    }
    if !plan.errors.is_empty() {
        return ExitCode::FAILURE;
    }
    if mode == "write" {
        let written = match sources::write(&root, &plan, &version_at(now)) {
            Ok(written) => written,
            Err(e) => {
                eprintln!("buckets-codegen: {e}");
                return ExitCode::FAILURE;
            }
        };
        written.iter().for_each(|p| eprintln!("wrote {p}"));
        // After the sources' migration, a second later: every version is unique.
        if !catalog_current {
            let rel = new_catalog_migration(&version_at(now + i64::from(!written.is_empty())));
            if let Err(e) = std::fs::write(root.join(&rel), &catalog) {
                eprintln!("buckets-codegen: cannot write {rel}: {e}");
                return ExitCode::FAILURE;
            }
            eprintln!("wrote {rel}");
        }
    } else {
        for problem in plan.problems() {
            eprintln!("stale: {problem} (run `cargo run -p buckets_core --bin buckets-codegen -- write`)");
            stale += 1;
        }
    }
    if stale > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
