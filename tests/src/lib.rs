//! Connections to the running local stack (`./stack up`), for the tests in
//! `tests/tests/`. They run in `./stack test`, which exports the stack's env.

use tokio_postgres::{Client, NoTls};

/// The main cluster: pg_coliseum installed.
pub const MAIN_URL_VAR: &str = "SUPABASE_DB_URL";
/// The twins cluster: the same migrations with `buckets.math = 'sql'`.
pub const TWINS_URL_VAR: &str = "BUCKETS_TWINS_DB_URL";

/// Connects to the database named by `var`; panics with what to do when the
/// stack is not running, so a missing stack fails the test instead of skipping it.
pub async fn connect(var: &str) -> Client {
    let url = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run these tests with `./stack test`"));
    let (client, connection) = tokio_postgres::connect(&url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {var}={url}: {e} (is `./stack up` running?)"));
    let name = var.to_string();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection to {name} ended: {e}");
        }
    });
    client
}

/// Which implementation of the coliseum math a database runs: "extension" or "sql".
pub async fn math_implementation(client: &Client) -> String {
    let row = client
        .query_one(
            "select case when exists (select 1 from pg_extension where extname = 'pg_coliseum') then 'extension' else 'sql' end",
            &[],
        )
        .await
        .expect("pg_extension is readable");
    row.get(0)
}
