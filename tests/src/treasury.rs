//! What the Treasury tests share: Stripe events as Stripe sends them, a product
//! with its own split rule, a service connection and the ledger's invariant checks.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use tokio_postgres::Client;
use uuid::Uuid;

/// A Stripe Event object around `object`, created at `created` (Unix seconds).
pub fn stripe_event(id: &str, kind: &str, created: i64, object: Value) -> Value {
    json!({"id": id, "object": "event", "api_version": "2025-01-27.acacia", "type": kind, "created": created,
           "livemode": false, "pending_webhooks": 1, "data": {"object": object}})
}

/// A connection to the cluster `var` names, as `service_role` (what the webhook and workers are).
pub async fn service(var: &str) -> Client {
    let client = crate::connect(var).await;
    client.batch_execute("set role service_role").await.expect("set role service_role");
    client
}

/// A party of a split rule: the payee (None: the platform), its role and its share in basis points.
pub type Party<'a> = (Option<Uuid>, &'a str, i32);

/// A EUR ticket product named `label` of `artist` (and `host`), split by a new rule among `parties`.
pub async fn split_product(client: &Client, label: &str, parties: &[Party<'_>], artist: Uuid, host: Option<Uuid>) -> Uuid {
    let spec: Vec<Value> = parties
        .iter()
        .map(|(p, role, bp)| json!({"party_id": p.map(|u| u.to_string()), "role": role, "share_bp": bp}))
        .collect();
    let rule: Uuid = client
        .query_one("select treasury.define_split_rule($1, $2::jsonb)", &[&label, &Value::Array(spec)])
        .await
        .expect("define_split_rule")
        .get(0);
    client
        .query_one(
            "insert into treasury.products (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
             values ('ticket', $1, $2, $3, null, 'EUR', $4) returning id",
            &[&label, &artist, &host, &rule],
        )
        .await
        .expect("insert product")
        .get(0)
}

/// Every row of `treasury.check_invariants()` and `treasury.check_payout_invariants()`, as
/// "invariant reference: detail".
///
/// Turns JIT compilation off for the client's session first: the checks read every table, so their plans
/// soon cost more than `jit_above_cost`, and compiling them took 150 of the 170 ms a call of
/// `check_payout_invariants` took on a stack of a few runs' payments (the answer is the same either way). The
/// model test calls this after each of its steps.
pub async fn ledger_violations(client: &Client) -> BTreeSet<String> {
    client.batch_execute("set jit = off").await.expect("set jit = off");
    let rows = client
        .query(
            "select invariant || ' ' || reference || ': ' || detail from treasury.check_invariants()
             union all
             select invariant || ' ' || reference || ': ' || detail from treasury.check_payout_invariants()",
            &[],
        )
        .await
        .expect("invariant checks run");
    rows.iter().map(|r| r.get::<_, String>(0)).collect()
}
