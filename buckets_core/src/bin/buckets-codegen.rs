//! `buckets-codegen write` regenerates the catalog migration, the math
//! migration and the catalog doc; `buckets-codegen check` fails if any is stale.

use buckets_core::codegen::{generated_files, read_twins};
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
    if stale > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
