//! Connections to the running local stack (`./stack up`), for the tests in
//! `tests/tests/`. They run in `./stack test`, which exports the stack's env.

use tokio_postgres::{Client, NoTls};

/// The main cluster: pg_coliseum installed, `postgres` a superuser.
pub const MAIN_URL_VAR: &str = "SUPABASE_DB_URL";
/// The cluster in hosted Supabase's shape: `postgres` is not a superuser, no
/// pg_coliseum (the migrations install the SQL twins), migrations applied by
/// the Supabase CLI.
pub const HOSTED_URL_VAR: &str = "BUCKETS_HOSTED_DB_URL";
/// The name the stack gave that cluster's URL before it took hosted shape.
pub const TWINS_URL_VAR: &str = "BUCKETS_TWINS_DB_URL";

/// The variable that names the hosted-shape cluster: `BUCKETS_HOSTED_DB_URL`,
/// or `BUCKETS_TWINS_DB_URL` where only the old name is exported.
pub fn hosted_url_var() -> &'static str {
    if std::env::var_os(HOSTED_URL_VAR).is_some() {
        HOSTED_URL_VAR
    } else {
        TWINS_URL_VAR
    }
}

/// Connects to the database named by `var`; panics with what to do when the
/// stack is not running, so a missing stack fails the test instead of skipping it.
pub async fn connect(var: &str) -> Client {
    connect_to(var, None).await
}

/// Connects to another database (`dbname`) of the cluster `var` names, as the same role.
pub async fn connect_to_database(var: &str, dbname: &str) -> Client {
    connect_to(var, Some(dbname)).await
}

async fn connect_to(var: &str, dbname: Option<&str>) -> Client {
    let url = std::env::var(var).unwrap_or_else(|_| panic!("{var} is not set: run these tests with `./stack test`"));
    let mut config: tokio_postgres::Config = url.parse().unwrap_or_else(|e| panic!("{var}={url} is not a database URL: {e}"));
    if let Some(dbname) = dbname {
        config.dbname(dbname);
    }
    let (client, connection) = config
        .connect(NoTls)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {var}={url} (database {dbname:?}): {e} (is `./stack up` running?)"));
    let name = var.to_string();
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection to {name} ended: {e}");
        }
    });
    client
}

/// A generator seeded from the clock, or from `BUCKETS_SEED` to replay a
/// failure; the seed is printed so a failing run names it.
pub fn seeded_rng(test: &str) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let seed = std::env::var("BUCKETS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_micros() as u64);
    eprintln!("{test}: BUCKETS_SEED={seed}");
    rand::rngs::StdRng::seed_from_u64(seed)
}

/// Stores normalized events through `passport.ingest`, 500 per call, and
/// returns every per-event result in order.
pub async fn ingest(client: &Client, events: &[serde_json::Value]) -> Vec<serde_json::Value> {
    let mut results = Vec::with_capacity(events.len());
    for chunk in events.chunks(500) {
        let row = client
            .query_one("select passport.ingest($1::jsonb)", &[&serde_json::Value::Array(chunk.to_vec())])
            .await
            .expect("passport.ingest runs");
        let answer: serde_json::Value = row.get(0);
        results.extend(answer.as_array().cloned().unwrap_or_default());
    }
    results
}

/// Calls `coliseum.process_pending` until none of `artists`' entries is pending.
pub async fn process_all(client: &Client, artists: &[uuid::Uuid]) {
    loop {
        let row = client
            .query_one(
                "select count(*) from public.passport_entries where coliseum_processed_at is null and artist_id = any($1)",
                &[&artists],
            )
            .await
            .unwrap();
        if row.get::<_, i64>(0) == 0 {
            return;
        }
        client
            .execute("select coliseum.process_pending(5000)", &[])
            .await
            .expect("process_pending runs");
    }
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

/// The main cluster (which must run pg_coliseum) and the hosted-shape one (which must run the SQL
/// twins), for the differential tests.
pub async fn extension_and_twins() -> (Client, Client) {
    let main = connect(MAIN_URL_VAR).await;
    let twins = connect(hosted_url_var()).await;
    assert_eq!(
        math_implementation(&main).await,
        "extension",
        "the main cluster must run pg_coliseum"
    );
    assert_eq!(
        math_implementation(&twins).await,
        "sql",
        "the hosted-shape cluster must run the SQL twins"
    );
    (main, twins)
}

pub mod treasury;

/// Random but valid Passport events for the processor tests: kinds that feed
/// DNA, small vocabularies for genre and place so the metrics have something
/// to count, amounts in a few currencies, times spread over `days` days.
pub mod workload {
    use buckets_core::passport::{FieldType, Source, KINDS};
    use chrono::{DateTime, SecondsFormat, Utc};
    use rand::rngs::StdRng;
    use rand::Rng;
    use serde_json::{json, Map, Value};

    pub const GENRES: [&str; 6] = ["afrobeats", "amapiano", "highlife", "jazz", "reggaeton", "indie pop"];
    pub const PLACES: [(&str, &str); 7] = [
        ("Lagos", "NG"),
        ("Accra", "GH"),
        ("Paris", "FR"),
        ("London", "GB"),
        ("Austin", "US"),
        ("Lagos", "PT"),
        ("Tokyo", "JP"),
    ];
    pub const CURRENCIES: [&str; 4] = ["EUR", "USD", "NGN", "GBP"];

    fn value(rng: &mut StdRng, name: &str, ty: FieldType) -> Value {
        match (name, ty) {
            ("genre", _) => json!(GENRES[rng.random_range(0..GENRES.len())]),
            ("city", _) => json!(PLACES[rng.random_range(0..PLACES.len())].0),
            ("country", _) => json!(PLACES[rng.random_range(0..PLACES.len())].1),
            ("currency", _) => json!(CURRENCIES[rng.random_range(0..CURRENCIES.len())]),
            ("duration_ms", _) => json!(rng.random_range(5_000..240_000)),
            (_, FieldType::Integer { min }) => json!(rng.random_range(min.unwrap_or(0).max(1)..5_000)),
            (_, FieldType::Number { min }) => json!(min.unwrap_or(0) as f64 + rng.random_range(0.0..100.0)),
            (_, FieldType::Boolean) => json!(rng.random_bool(0.5)),
            (_, FieldType::Uuid) => json!(uuid::Uuid::new_v4().to_string()),
            (_, FieldType::Timestamp) => json!(Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true)),
            (_, FieldType::Currency) => json!("EUR"),
            (_, FieldType::Country) => json!("NG"),
            (_, FieldType::Text) => json!(format!("v{}", rng.random_range(0..20))),
        }
    }

    /// One event as `passport.ingest` takes it (normalized, with user and source).
    pub fn event(rng: &mut StdRng, fans: &[uuid::Uuid], artists: &[uuid::Uuid], now: DateTime<Utc>, days: i64) -> Value {
        let kind = loop {
            let k = &KINDS[rng.random_range(0..KINDS.len())];
            if !k.domains.is_empty() || rng.random_bool(0.05) {
                break k;
            }
        };
        let mut payload = Map::new();
        for f in kind.fields {
            if f.required || rng.random_bool(0.7) {
                payload.insert(f.name.to_string(), value(rng, f.name, f.ty));
            }
        }
        let source: Source = kind.producers[0];
        let artist = (kind.needs_artist || rng.random_bool(0.7)).then(|| artists[rng.random_range(0..artists.len())].to_string());
        let occurred = now - chrono::Duration::seconds(rng.random_range(0..days * 86_400));
        json!({
            "user_id": fans[rng.random_range(0..fans.len())].to_string(),
            "source": source.name(),
            "kind": kind.name,
            "client_event_id": uuid::Uuid::new_v4().to_string(),
            "occurred_at": occurred.to_rfc3339_opts(SecondsFormat::Micros, true),
            "artist_id": artist,
            "payload": payload,
        })
    }
}

/// A tip of `amount_minor` EUR paid to a fresh artist (all of it the artist's), recorded through
/// `treasury.receive_stripe_event` as Stripe's checkout.session.completed; the artist and the
/// PaymentIntent id (`pi_<label>_<uuid>`). `client` must be allowed to define split rules and products.
pub async fn paid_tip(client: &Client, amount_minor: i64, label: &str) -> (uuid::Uuid, String) {
    let artist = uuid::Uuid::new_v4();
    let rule: uuid::Uuid = client
        .query_one(
            "select treasury.define_split_rule($2 || ' ' || $1::text, jsonb_build_array( \
               jsonb_build_object('party_id', $1::text, 'role', 'artist', 'share_bp', 10000)))",
            &[&artist.to_string(), &label],
        )
        .await
        .expect("define_split_rule")
        .get(0);
    let product: uuid::Uuid = client
        .query_one(
            "insert into treasury.products (type, title, artist_id, price_minor, currency, split_rule_id) \
             values ('tip', $4 || ' tip', $1, $2, 'EUR', $3) returning id",
            &[&artist, &amount_minor, &rule, &label],
        )
        .await
        .expect("product")
        .get(0);
    let pi = format!("pi_{label}_{}", uuid::Uuid::new_v4().simple());
    let event = serde_json::json!({
        "id": format!("evt_{pi}"), "object": "event", "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp() - 60, "livemode": false,
        "data": {"object": {
            "id": format!("cs_{pi}"), "object": "checkout.session", "mode": "payment", "payment_status": "paid",
            "payment_intent": pi, "amount_total": amount_minor, "currency": "eur",
            "metadata": {"product_id": product.to_string(), "buyer_id": uuid::Uuid::new_v4().to_string(), "quantity": "1"},
        }},
    });
    let answer: serde_json::Value = client
        .query_one("select treasury.receive_stripe_event($1::jsonb)", &[&event])
        .await
        .expect("receive_stripe_event")
        .get(0);
    assert_eq!(answer["status"], "applied", "{answer}");
    (artist, pi)
}
