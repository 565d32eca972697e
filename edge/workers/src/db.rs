//! A handler's `query` action, carried out from the Worker: one connection
//! per request (a Worker's sockets live only as long as the request that
//! opened them), reached through Hyperdrive when the `HYPERDRIVE` binding is
//! configured, else over a TCP socket to `BUCKETS_DB_URL` (the transaction
//! pooler) or `SUPABASE_DB_URL`.
//!
//! What a query means is the Deno host's (`supabase/functions/_shared/db.ts`,
//! `buckets_edge::db`): the role and the claims are set in the statement's
//! transaction, in a statement of their own, before it, as PostgREST does.
//! `begin`, the switch, the statement and `commit` are sent together
//! (tokio-postgres pipelines requests polled at once): one round trip.
//! Parameters go as text with no declared type, so the server infers them as
//! it does for the Deno host; the rows come back as objects with the values
//! the Deno host makes of the same columns ([`cell`]).

use crate::cell::Cell;
use futures_util::future::{select, Either};
use serde_json::{json, Map, Value};
use std::pin::pin;
use std::time::Duration;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::types::{Format, IsNull, ToSql, Type};
use tokio_postgres::{Client, Config};
use worker::postgres_tls::PassthroughTls;
use worker::{Delay, Env, SecureTransport, Socket};

/// How long one statement may run: the Deno host's (db.ts) and the
/// platform's limit for the API's `authenticated` role.
const STATEMENT_TIMEOUT: &str = "8s";
/// Fail fast while the database or the pooler is unreachable: the caller gets
/// a 503 and retries.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const ROLES: [&str; 3] = ["anon", "authenticated", "service_role"];
const SWITCH_SQL: &str = "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), \
                          set_config('statement_timeout', $3, true)";
/// The binding `wrangler.toml` names for Hyperdrive.
pub const HYPERDRIVE_BINDING: &str = "HYPERDRIVE";

/// A failed query as the handlers read it (`buckets_edge::db::DbError`):
/// `{"code","message","detail"}`, `code` a SQLSTATE or a connection code.
pub struct Failure(Value);

impl Failure {
    fn connection(code: &str, message: impl Into<String>) -> Self {
        Failure(json!({ "code": code, "message": message.into() }))
    }

    pub fn to_json(&self) -> String {
        self.0.to_string()
    }
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        match e.as_db_error() {
            Some(db) => Failure(json!({ "code": db.code().code(), "message": db.message(), "detail": db.detail() })),
            None => Failure::connection("CONNECTION_CLOSED", e.to_string()),
        }
    }
}

/// One request's connection, opened at its first query.
#[derive(Default)]
pub struct Database {
    client: Option<Client>,
}

impl Database {
    /// Runs the `query` of a handler's action as its role with its claims,
    /// and answers its rows as a JSON array of objects.
    pub async fn run(&mut self, env: &Env, query: &Value) -> Result<String, Failure> {
        let role = query["role"]
            .as_str()
            .filter(|r| ROLES.contains(r))
            .ok_or_else(|| Failure::connection("XX000", format!("refusing to run a statement as {}", query["role"])))?;
        let sql = query["sql"].as_str().unwrap_or_default();
        let claims = query["claims"].to_string();
        let params: Vec<Text> = query["params"].as_array().into_iter().flatten().map(Text::of).collect();
        let params = typed(&params);
        if self.client.is_none() {
            self.client = Some(connect(env).await?);
        }
        let client = self.client.as_ref().expect("connected above");
        let switch = [
            Text(Some(role.to_owned())),
            Text(Some(claims)),
            Text(Some(STATEMENT_TIMEOUT.to_owned())),
        ];
        let switch = typed(&switch);
        // Polled together, the four go out in one write; an error in the
        // switch or the statement makes `commit` a rollback.
        let (begun, switched, rows, committed) = futures_util::join!(
            client.simple_query("begin"),
            client.query_typed(SWITCH_SQL, &switch),
            client.query_typed(sql, &params),
            client.simple_query("commit"),
        );
        begun?;
        switched?;
        let rows = rows?;
        committed?;
        let rows: Vec<Value> = rows.iter().map(row_object).collect::<Result<_, _>>()?;
        Ok(Value::Array(rows).to_string())
    }
}

fn row_object(row: &tokio_postgres::Row) -> Result<Value, Failure> {
    let mut object = Map::new();
    for (i, column) in row.columns().iter().enumerate() {
        let Cell(value) = row.try_get(i)?;
        object.insert(column.name().to_owned(), value);
    }
    Ok(Value::Object(object))
}

/// Connects as the configuration says, within [`CONNECT_TIMEOUT`].
async fn connect(env: &Env) -> Result<Client, Failure> {
    let connecting = pin!(open(env));
    match select(connecting, pin!(Delay::from(CONNECT_TIMEOUT))).await {
        Either::Left((client, _)) => client,
        Either::Right(_) => Err(Failure::connection(
            "CONNECT_TIMEOUT",
            format!("no connection to the database within {} s", CONNECT_TIMEOUT.as_secs()),
        )),
    }
}

async fn open(env: &Env) -> Result<Client, Failure> {
    let (config, socket) = match env.hyperdrive(HYPERDRIVE_BINDING) {
        // Hyperdrive hands a socket to its pool near the Worker; it speaks
        // plain Postgres to the Worker and TLS to the database itself.
        Ok(hyperdrive) => {
            let mut config = parse_url(&hyperdrive.connection_string())?;
            config.ssl_mode(SslMode::Disable);
            let socket = hyperdrive
                .connect()
                .map_err(|e| Failure::connection("ECONNREFUSED", e.to_string()))?;
            (config, socket)
        }
        Err(_) => {
            let url = ["BUCKETS_DB_URL", "SUPABASE_DB_URL"]
                .into_iter()
                .find_map(|name| env.var(name).ok().map(|v| v.to_string()).filter(|v| !v.is_empty()))
                .ok_or_else(|| {
                    Failure::connection(
                        "XX000",
                        "no database: bind Hyperdrive as HYPERDRIVE, or set the secret BUCKETS_DB_URL (the pooler's transaction-mode URL)",
                    )
                })?;
            let mut config = parse_url(&url)?;
            let socket = direct_socket(&mut config)?;
            (config, socket)
        }
    };
    // With sslmode disable tokio-postgres never asks for TLS; otherwise the
    // socket was opened for StartTLS and upgrades when the server agrees.
    let (client, connection) = config.connect_raw(socket, PassthroughTls).await?;
    // The connection's messages are read while the request runs; it ends
    // when the client is dropped with the request.
    worker::wasm_bindgen_futures::spawn_local(async move {
        if let Err(e) = connection.await {
            worker::console_error!("{}", json!({ "level": "warn", "message": format!("database connection: {e}") }));
        }
    });
    Ok(client)
}

fn parse_url(url: &str) -> Result<Config, Failure> {
    url.parse::<Config>()
        .map_err(|e| Failure::connection("XX000", format!("the database URL does not parse: {e}")))
}

/// A TCP socket to the URL's host: StartTLS when its `sslmode` is `require`
/// (the Worker's TLS verifies the server's certificate against public CAs),
/// plain otherwise (`prefer` too: no TLS is tried that could not be
/// verified, as the Deno host does).
fn direct_socket(config: &mut Config) -> Result<Socket, Failure> {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        _ => return Err(Failure::connection("XX000", "the database URL names no TCP host")),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let transport = match config.get_ssl_mode() {
        SslMode::Disable | SslMode::Prefer => {
            config.ssl_mode(SslMode::Disable);
            SecureTransport::Off
        }
        _ => SecureTransport::StartTls,
    };
    Socket::builder()
        .secure_transport(transport)
        .connect(host, port)
        .map_err(|e| Failure::connection("ECONNREFUSED", e.to_string()))
}

/// A parameter as the Deno host binds it (pg.ts `paramText`): text, with no
/// declared type; objects and arrays as JSON, `null` as NULL.
#[derive(Debug)]
struct Text(Option<String>);

impl Text {
    fn of(value: &Value) -> Text {
        Text(match value {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            Value::Bool(b) => Some(if *b { "t" } else { "f" }.to_owned()),
            Value::Number(n) => Some(n.to_string()),
            other => Some(other.to_string()),
        })
    }
}

impl ToSql for Text {
    fn to_sql(&self, _ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match &self.0 {
            Some(text) => {
                out.extend_from_slice(text.as_bytes());
                Ok(IsNull::No)
            }
            None => Ok(IsNull::Yes),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    tokio_postgres::types::to_sql_checked!();
}

/// `unknown` is what an undeclared parameter is to the server: it takes the
/// type the statement gives it (`$1::jsonb`).
fn typed(params: &[Text]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    params.iter().map(|p| (p as &(dyn ToSql + Sync), Type::UNKNOWN)).collect()
}
