//! `buckets-codegen write` regenerates the catalog migration, the math
//! migration and the catalog doc, and writes the migrations that carry the
//! database sources (`sql/manifest.txt`): a step not written yet, and a
//! `<UTC now>_sources.sql` when a source changed, and a
//! `<UTC now>_passport_catalog_data.sql` when the catalog changed.
//! `buckets-codegen check` fails, naming each, if any of that is due.
//!
//! `buckets-codegen types [--db-url <url>] [--check]` writes the app's
//! `Database` type (`supabase/types/database.ts`) from the catalog of the
//! migrated database at `<url>` (default: `$SUPABASE_DB_URL`, which
//! `./stack env` sets), read with psql; `--check` fails when the committed
//! file differs from it.

use buckets_core::codegen::sources::{self, version_at};
use buckets_core::codegen::typescript::{self, DATABASE_QUERY, DATABASE_TS, SUPABASE_CONFIG};
use buckets_core::codegen::{catalog_migration, generated_files, new_catalog_migration, newest_catalog_migration, read_twins};
use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str =
    "usage: buckets-codegen write|check\n       buckets-codegen types [--db-url <postgres url>] [--check]   (default: $SUPABASE_DB_URL)";

fn main() -> ExitCode {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().cloned().unwrap_or_default();
    if mode == "types" {
        return types(&root, &args[1..]);
    }
    if (mode != "write" && mode != "check") || args.len() != 1 {
        eprintln!("{USAGE}");
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
            if let Some(Err(e)) = path.parent().map(std::fs::create_dir_all) {
                eprintln!("buckets-codegen: cannot create the directory of {rel}: {e}");
                return ExitCode::FAILURE;
            }
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

/// `types [--db-url <url>] [--check]`.
fn types(root: &Path, args: &[String]) -> ExitCode {
    let mut url = std::env::var("SUPABASE_DB_URL").ok().filter(|u| !u.is_empty());
    let mut check = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--check" => check = true,
            "--db-url" if args.len() > 0 => url = args.next().cloned(),
            _ => {
                eprintln!("{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let Some(url) = url else {
        eprintln!("buckets-codegen types: no database: give --db-url or set SUPABASE_DB_URL (eval \"$(./stack env)\")");
        return ExitCode::from(2);
    };
    let url = &url;
    let rendered = match database_types(root, url) {
        Ok(ts) => ts,
        Err(e) => {
            eprintln!("buckets-codegen types: {e}");
            return ExitCode::FAILURE;
        }
    };
    let path = root.join(DATABASE_TS);
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    if current == rendered {
        return ExitCode::SUCCESS;
    }
    if check {
        eprintln!(
            "stale: {DATABASE_TS} differs from the database's catalog (run `cargo run -p buckets_core --bin buckets-codegen -- types --db-url <url>` on a database migrated from this checkout)"
        );
        return ExitCode::FAILURE;
    }
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&path, &rendered));
    if let Err(e) = written {
        eprintln!("buckets-codegen types: cannot write {DATABASE_TS}: {e}");
        return ExitCode::FAILURE;
    }
    eprintln!("wrote {DATABASE_TS}");
    ExitCode::SUCCESS
}

/// Reads the catalog of the database at `url` with psql (the exposed schemas
/// of supabase/config.toml) and renders it.
fn database_types(root: &Path, url: &str) -> Result<String, String> {
    let config = std::fs::read_to_string(root.join(SUPABASE_CONFIG)).map_err(|e| format!("cannot read {SUPABASE_CONFIG}: {e}"))?;
    let schemas = typescript::exposed_schemas(&config).map_err(|e| format!("{SUPABASE_CONFIG}: {e}"))?;
    // A text[] literal; exposed_schemas admits no quote or backslash in a name.
    let literal = format!("{{{}}}", schemas.iter().map(|s| format!("\"{s}\"")).collect::<Vec<_>>().join(","));
    let mut psql = Command::new("psql")
        .args(["--no-psqlrc", "--quiet", "--tuples-only", "--no-align", "--set", "ON_ERROR_STOP=1"])
        .arg("--set")
        .arg(format!("schemas={literal}"))
        .args(["--file", "-", "--dbname"])
        .arg(url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run psql (PostgreSQL's client must be on PATH): {e}"))?;
    psql.stdin
        .take()
        .ok_or("psql has no stdin")?
        .write_all(DATABASE_QUERY.as_bytes())
        .map_err(|e| format!("cannot send the catalog query to psql: {e}"))?;
    let output = psql.wait_with_output().map_err(|e| format!("psql failed: {e}"))?;
    if !output.status.success() {
        return Err(format!("psql failed: {}", String::from_utf8_lossy(&output.stderr).trim()));
    }
    let catalog: typescript::Catalog =
        serde_json::from_slice(&output.stdout).map_err(|e| format!("the catalog query printed no catalog document: {e}"))?;
    typescript::database_ts(&catalog)
}
