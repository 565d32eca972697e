//! The batch applier keeps every payment's order under shuffled, duplicated deliveries.
//!
//! Many random payment stories (a payment announced by its Checkout Session and its PaymentIntent,
//! up to two refunds with cumulative totals, maybe a dispute opened and won or lost) are told to
//! the database twice, with their own products and payees:
//!
//! - **in order**: each event, in Stripe's created order, through `treasury.receive_stripe_event`,
//!   which applies it at once;
//! - **batched**: in two waves, the payments' events, then everything that follows them (so that
//!   in the second wave only the applier's order keeps a refund made before a dispute ahead of
//!   it: applied after it, the dispute would hold different shares). Each wave is shuffled, a
//!   third of it twice, recorded through `treasury.record_stripe_event` (as the webhook does),
//!   then applied by several connections calling `treasury.apply_stripe_events` with small
//!   batches at the same time (and pg_cron's job beside them), with its duplicates recorded
//!   again while they run. (Applying newest first instead makes this test fail.)
//!
//! Then every batched payment must equal its in-order twin (the payment row, its split lines, its
//! ledger postings by kind and account, its dispute), the two sets of payees must hold the same
//! balances, every batched event must have left `received`, and `check_invariants()` must add no
//! row. Inputs come from a seeded generator; `BUCKETS_SEED=<n>` replays a failure.
//!
//! The webhook's drive (`treasury.drive_stripe_events`, which answers at once when a batch runs whose
//! driver promised to call again) must never leave an event for pg_cron: see
//! `drive_leaves_nothing_behind`.

use std::collections::BTreeMap;

use buckets_e2e::treasury::{ledger_violations, service, split_product, stripe_event};
use buckets_e2e::{connect, hosted_url_var, seeded_rng, MAIN_URL_VAR};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use tokio_postgres::Client;
use uuid::Uuid;

const STORIES: usize = 60;
const APPLIERS: usize = 3;
const BATCH: i32 = 7;

struct Story {
    /// The PaymentIntent id without its `pi_` and without the run's prefix.
    key: String,
    amount: i64,
    /// Cumulative refunded totals, increasing.
    refunds: Vec<i64>,
    /// (amount, won)
    dispute: Option<(i64, bool)>,
    created: i64,
}

fn story(rng: &mut StdRng, i: usize, base: i64) -> Story {
    let amount = rng.random_range(100..=50_000);
    let mut refunds = vec![];
    let mut total = 0;
    for _ in 0..rng.random_range(0..=2) {
        if amount - total > 1 {
            total += rng.random_range(1..(amount - total));
            refunds.push(total);
        }
    }
    let dispute = (rng.random_bool(0.4) && amount - total > 0).then(|| (rng.random_range(1..=amount - total), rng.random_bool(0.5)));
    Story {
        key: format!("{i}"),
        amount,
        refunds,
        dispute,
        created: base + 100 * i as i64,
    }
}

/// The story's events as Stripe makes them, in Stripe's order (created, then id), for the
/// payment `pi`, paid for `product`.
fn events(s: &Story, pi: &str, product: Uuid) -> Vec<Value> {
    let rest = &pi[3..];
    let charge_id = format!("ch_{rest}");
    let meta = json!({"product_id": product.to_string(), "buyer_id": Uuid::new_v4().to_string(), "quantity": "1"});
    let mut out = vec![
        stripe_event(
            &format!("evt_{rest}_cs"),
            "checkout.session.completed",
            s.created,
            json!({"id": format!("cs_{rest}"), "object": "checkout.session", "mode": "payment", "payment_status": "paid",
                     "status": "complete", "payment_intent": pi, "amount_total": s.amount, "currency": "eur", "metadata": meta}),
        ),
        stripe_event(
            &format!("evt_{rest}_pi"),
            "payment_intent.succeeded",
            s.created + 1,
            json!({"id": pi, "object": "payment_intent", "status": "succeeded", "amount": s.amount,
                     "amount_received": s.amount, "currency": "eur", "metadata": meta, "latest_charge": charge_id}),
        ),
    ];
    for (n, total) in s.refunds.iter().enumerate() {
        out.push(stripe_event(
            &format!("evt_{rest}_r{n}"),
            "charge.refunded",
            s.created + 10 + 10 * n as i64,
            json!({"id": charge_id, "object": "charge", "payment_intent": pi, "amount": s.amount, "amount_captured": s.amount,
                   "amount_refunded": total, "refunded": *total == s.amount, "currency": "eur", "balance_transaction": "txn_x"}),
        ));
    }
    if let Some((disputed, won)) = s.dispute {
        let withdrawal = json!({"amount": -disputed, "fee": 1500, "currency": "eur"});
        let object = |status: &str, transactions: Value| {
            json!({"id": format!("dp_{rest}"), "object": "dispute", "charge": charge_id, "payment_intent": pi,
                   "amount": disputed, "currency": "eur", "status": status, "reason": "fraudulent", "created": s.created + 50,
                   "balance_transactions": transactions})
        };
        out.push(stripe_event(
            &format!("evt_{rest}_d0"),
            "charge.dispute.created",
            s.created + 50,
            object("needs_response", json!([withdrawal])),
        ));
        let closed = if won {
            object("won", json!([withdrawal, {"amount": disputed, "fee": -1500, "currency": "eur"}]))
        } else {
            object("lost", json!([withdrawal]))
        };
        out.push(stripe_event(
            &format!("evt_{rest}_d1"),
            "charge.dispute.closed",
            s.created + 60,
            closed,
        ));
    }
    out
}

/// A product split 70/20/10 between two fresh payees and the platform; answers (product, payees).
async fn product(client: &Client, label: &str) -> (Uuid, Vec<Uuid>) {
    let (artist, host) = (Uuid::new_v4(), Uuid::new_v4());
    let parties = [(Some(artist), "artist", 7000), (Some(host), "host", 2000), (None, "platform", 1000)];
    let id = split_product(client, &format!("batch order {label}"), &parties, artist, Some(host)).await;
    (id, vec![artist, host])
}

/// What a payment came to, with the run's prefix taken out of every id.
async fn payment_state(client: &Client, pi: &str, prefix: &str) -> Value {
    let row = client
        .query_one(
            "select jsonb_build_object(
               'payment', (select jsonb_build_object('amount', p.amount_minor, 'refunded', p.refunded_minor,
                                                     'lost', p.dispute_lost_minor, 'fee', p.fee_minor,
                                                     'charge', p.charge_id, 'session', p.checkout_session_id)
                           from treasury.payments as p where p.id = $1),
               'splits', (select jsonb_agg(jsonb_build_array(s.reason, s.party_index, s.amount) order by s.reason, s.party_index)
                          from (select reason, party_index, sum(amount_minor) as amount from public.treasury_splits
                                where payment_id = $1 group by 1, 2) as s),
               'ledger', (select jsonb_agg(jsonb_build_array(l.kind, l.purpose, l.party, l.amount) order by l.kind, l.purpose, l.party)
                          from (select t.kind, a.purpose, array_position(p.party_ids, a.owner_id) as party, sum(x.amount) as amount
                                from treasury.ledger_transactions as t
                                join public.treasury_ledger as x on x.txn_id = t.id
                                join treasury.accounts as a on a.id = x.account_id
                                cross join (select party_ids from treasury.payments where id = $1) as p
                                where t.reference = $1 or t.reference like $1 || ':%'
                                   or t.reference in (select d.id from treasury.disputes as d where d.payment_id = $1)
                                   or t.reference like any (select d.id || ':%' from treasury.disputes as d where d.payment_id = $1)
                                group by 1, 2, 3) as l),
               'dispute', (select jsonb_agg(jsonb_build_array(d.status, d.outcome, d.hold_lines, d.fee_minor))
                           from treasury.disputes as d where d.payment_id = $1))::text",
            &[&pi],
        )
        .await
        .unwrap_or_else(|e| panic!("the state of {pi}: {e}"));
    let text: String = row.get(0);
    serde_json::from_str(&text.replace(prefix, "")).unwrap()
}

/// Every payee's EUR balances by purpose, in the payees' order.
async fn payee_balances(client: &Client, payees: &[Uuid]) -> Vec<(usize, String, i64)> {
    let rows = client
        .query(
            "select array_position($1::uuid[], owner_id), purpose, normal_balance from treasury.balances
             where owner_id = any($1) and currency = 'EUR' order by 1, 2",
            &[&payees],
        )
        .await
        .expect("balances");
    rows.iter().map(|r| (r.get::<_, i32>(0) as usize, r.get(1), r.get(2))).collect()
}

/// Applies batches until one finds nothing to apply; answers how many events it applied.
async fn drive(client: &Client) -> i64 {
    let mut total = 0;
    loop {
        let row = client
            .query_one("select (treasury.apply_stripe_events($1) ->> 'events')::bigint", &[&BATCH])
            .await
            .expect("apply_stripe_events");
        let n: i64 = row.get(0);
        if n == 0 {
            return total;
        }
        total += n;
    }
}

async fn run(var: &str, tag: &str) {
    let client = service(var).await;
    let mut rng = seeded_rng(&format!("treasury_batch_order {tag}"));
    let run_id = Uuid::new_v4().simple().to_string()[..10].to_string();
    let base = chrono::Utc::now().timestamp() - 100 * STORIES as i64 - 3600;
    let stories: Vec<Story> = (0..STORIES).map(|i| story(&mut rng, i, base)).collect();
    let (product_a, payees_a) = product(&client, &format!("{run_id} in order")).await;
    let (product_b, payees_b) = product(&client, &format!("{run_id} batched")).await;
    let before = ledger_violations(&client).await;
    let (prefix_a, prefix_b) = (format!("bo{run_id}a"), format!("bo{run_id}b"));

    // In order, one event at a time.
    for s in &stories {
        let pi = format!("pi_{prefix_a}{}", s.key);
        let mut evts = events(s, &pi, product_a);
        evts.sort_by_key(|e| (e["created"].as_i64().unwrap(), e["id"].as_str().unwrap().to_owned()));
        for e in evts {
            client
                .query_one("select treasury.receive_stripe_event($1::jsonb)", &[&e])
                .await
                .unwrap_or_else(|err| panic!("{tag}: receive_stripe_event({e}): {err}"));
        }
    }

    // Batched, in two waves as Stripe sends them: first the payments, then what follows them (refunds,
    // disputes), so that within the second wave only the applier's order keeps a refund made before a
    // dispute ahead of it. Each wave is recorded shuffled and partly twice, in one transaction (so
    // that no batch sees part of it), then applied by several drivers at once while duplicates of it
    // keep coming.
    let all: Vec<Vec<Value>> = stories
        .iter()
        .map(|s| events(s, &format!("pi_{prefix_b}{}", s.key), product_b))
        .collect();
    let payments: Vec<Value> = all.iter().flat_map(|e| e[..2].to_vec()).collect();
    let follow_ups: Vec<Value> = all.iter().flat_map(|e| e[2..].to_vec()).collect();
    let mut ids = vec![];
    let mut deliveries = 0;
    for wave in [payments, follow_ups] {
        let (wave_ids, delivered) = deliver_batched(var, &client, wave, &mut rng, tag).await;
        ids.extend(wave_ids);
        deliveries += delivered;
    }
    for s in &stories {
        let a = payment_state(&client, &format!("pi_{prefix_a}{}", s.key), &prefix_a).await;
        let b = payment_state(&client, &format!("pi_{prefix_b}{}", s.key), &prefix_b).await;
        assert_eq!(
            b, a,
            "{tag}: story {} (amount {}, refunds {:?}, dispute {:?}) batched vs in order",
            s.key, s.amount, s.refunds, s.dispute
        );
    }
    assert_eq!(
        payee_balances(&client, &payees_b).await,
        payee_balances(&client, &payees_a).await,
        "{tag}: the payees' balances"
    );
    let statuses: BTreeMap<String, i64> = client
        .query(
            "select status, count(*) from treasury.stripe_events where event_id = any($1) group by 1",
            &[&ids],
        )
        .await
        .expect("statuses")
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert!(!statuses.contains_key("failed"), "{tag}: no batched event failed: {statuses:?}");
    let added: Vec<String> = ledger_violations(&client)
        .await
        .into_iter()
        .filter(|v| !before.contains(v))
        .collect();
    assert!(added.is_empty(), "{tag}: the run broke the ledger's invariants: {added:?}");
    eprintln!(
        "{tag}: {STORIES} stories, {deliveries} deliveries of {} events, statuses {statuses:?}",
        ids.len()
    );
}

/// Records `wave` shuffled, a third of it twice, in one transaction; then applies it with
/// `APPLIERS` concurrent drivers while the duplicates are recorded again. Answers the wave's event
/// ids and the number of deliveries made.
async fn deliver_batched(var: &str, client: &Client, mut wave: Vec<Value>, rng: &mut StdRng, tag: &str) -> (Vec<String>, usize) {
    let again: Vec<Value> = wave.iter().filter(|_| rng.random_bool(0.33)).cloned().collect();
    wave.extend(again.iter().cloned());
    wave.shuffle(rng);
    let mut ids: Vec<String> = wave.iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect();
    ids.sort();
    ids.dedup();
    let mut recorder = service(var).await;
    let tx = recorder.transaction().await.expect("begin");
    let mut first = 0;
    for e in &wave {
        let answer: Value = tx
            .query_one("select treasury.record_stripe_event($1::jsonb)", &[e])
            .await
            .unwrap_or_else(|err| panic!("{tag}: record_stripe_event({e}): {err}"))
            .get(0);
        if answer["status"] == "received" {
            first += 1;
        } else {
            assert_eq!(answer["status"], "duplicate", "{tag}: {answer}");
        }
    }
    tx.commit().await.expect("commit the recorded events");
    assert_eq!(first, ids.len(), "{tag}: each event is recorded once");

    let mut drivers = vec![];
    for _ in 0..APPLIERS {
        let driver = service(var).await;
        drivers.push(tokio::spawn(async move { drive(&driver).await }));
    }
    let mut late = again.clone();
    late.shuffle(rng);
    let duplicates = async {
        for e in &late {
            let answer: Value = client
                .query_one("select treasury.record_stripe_event($1::jsonb)", &[e])
                .await
                .expect("record a duplicate")
                .get(0);
            assert_eq!(answer["status"], "duplicate", "{tag}: {answer}");
        }
    };
    let applied = async {
        let mut total = 0;
        for driver in drivers {
            total += driver.await.expect("a driver panicked");
        }
        total
    };
    let (_, applied) = tokio::join!(duplicates, applied);
    let waiting: i64 = client
        .query_one(
            "select count(*) from treasury.stripe_events where event_id = any($1) and status = 'received'",
            &[&ids],
        )
        .await
        .expect("count received")
        .get(0);
    assert_eq!(
        waiting, 0,
        "{tag}: every recorded event was applied ({applied} by the drivers, the rest by pg_cron)"
    );
    (ids, wave.len() + late.len())
}

#[tokio::test]
async fn batched_apply_keeps_each_payments_order_main() {
    run(MAIN_URL_VAR, "main").await;
}

#[tokio::test]
async fn batched_apply_keeps_each_payments_order_hosted() {
    run(hosted_url_var(), "hosted").await;
}

/// A batch whose server process is ended halfway (as in a crash of the applier) leaves nothing
/// half applied: its events are all still received, or, had it committed, all applied; the next
/// batch applies each once.
async fn killed_batch(var: &str, tag: &str) {
    let client = service(var).await;
    let run_id = Uuid::new_v4().simple().to_string()[..10].to_string();
    let (product_id, _) = product(&client, &format!("{run_id} killed")).await;
    let before = ledger_violations(&client).await;
    let stories: Vec<Story> = (0..80)
        .map(|i| Story {
            key: format!("{i}"),
            amount: 1000 + i as i64,
            refunds: vec![],
            dispute: None,
            created: chrono::Utc::now().timestamp() - 600,
        })
        .collect();
    let mut ids = vec![];
    let mut recorder = service(var).await;
    let tx = recorder.transaction().await.expect("begin");
    for s in &stories {
        for e in events(s, &format!("pi_bk{run_id}x{}", s.key), product_id) {
            tx.query_one("select treasury.record_stripe_event($1::jsonb)", &[&e])
                .await
                .expect("record");
            ids.push(e["id"].as_str().unwrap().to_owned());
        }
    }
    tx.commit().await.expect("commit the recorded events");
    // A batch (or pg_cron's, which may come first: then the victim finds less or nothing to do)
    // whose server process is ended once it holds the applier's lock.
    let victim = service(var).await;
    let pid: i32 = victim.query_one("select pg_backend_pid()", &[]).await.expect("pid").get(0);
    let batch = victim.query_one("select treasury.apply_stripe_events(10000)", &[]);
    let killer = async {
        loop {
            let running: bool = client
                .query_one(
                    "select exists (select from pg_locks where pid = $1 and locktype = 'advisory' and granted)",
                    &[&pid],
                )
                .await
                .expect("pg_locks")
                .get(0);
            if running {
                break;
            }
            tokio::task::yield_now().await;
        }
        // As the cluster's superuser: the victim's session is one too (its role is set to service_role).
        connect(var)
            .await
            .query_one("select pg_terminate_backend($1)", &[&pid])
            .await
            .expect("pg_terminate_backend")
    };
    let _ = tokio::join!(batch, killer);
    let received: i64 = client
        .query_one(
            "select count(*) from treasury.stripe_events where event_id = any($1) and status = 'received'",
            &[&ids],
        )
        .await
        .expect("count")
        .get(0);
    assert!(
        received == 0 || received == ids.len() as i64,
        "{tag}: a killed batch is all or nothing, {received} of {} left",
        ids.len()
    );
    eprintln!("{tag}: after the kill, {received} of {} events were still received", ids.len());
    drive(&client).await;
    let rows = client
        .query(
            "select p.id, (select count(*) from treasury.ledger_transactions as t where t.kind = 'payment' and t.reference = p.id)
             from treasury.payments as p where p.id like $1",
            &[&format!("pi_bk{run_id}x%")],
        )
        .await
        .expect("payments");
    assert_eq!(rows.len(), stories.len(), "{tag}: every payment recorded");
    assert!(rows.iter().all(|r| r.get::<_, i64>(1) == 1), "{tag}: each posted once");
    let added: Vec<String> = ledger_violations(&client)
        .await
        .into_iter()
        .filter(|v| !before.contains(v))
        .collect();
    assert!(added.is_empty(), "{tag}: {added:?}");
}

#[tokio::test]
async fn a_killed_batch_is_all_or_nothing_main() {
    killed_batch(MAIN_URL_VAR, "main").await;
}

/// Calls `treasury.drive_stripe_events` as stripe-webhook does after recording an event (its
/// `MAX_DRIVE_ROUNDS`, 8: the last call promises nothing).
async fn drive_as_the_webhook(client: &Client) {
    const ROUNDS: u32 = 8;
    for round in 1..=ROUNDS {
        let result: Value = client
            .query_one("select treasury.drive_stripe_events($1, $2)", &[&BATCH, &(round < ROUNDS)])
            .await
            .expect("drive_stripe_events")
            .get(0);
        if result["again"] != true {
            break;
        }
    }
}

/// The webhook's drive never leaves an event to pg_cron: in each of `ROUNDS` rounds, `DELIVERERS`
/// connections each record a payment's events and drive the applier as stripe-webhook does (batches
/// of 7), while another connection keeps running batches that promise nothing
/// (`treasury.apply_stripe_events`, as pg_cron's job does); once every delivery of a round has been
/// answered, none of the round's events may still be `received`. A delivery that returned on finding
/// any batch running would leave its event behind whenever that batch began before it was recorded
/// (dropping the promise check makes this test fail).
async fn drive_leaves_nothing_behind(var: &str, tag: &str) {
    const ROUNDS: usize = 40;
    const DELIVERERS: usize = 6;
    let client = service(var).await;
    let run_id = Uuid::new_v4().simple().to_string()[..10].to_string();
    let (product, _) = product(&client, &format!("{run_id} drive")).await;
    let before = ledger_violations(&client).await;
    let base = chrono::Utc::now().timestamp() - 3600;
    let mut deliverers = vec![];
    for _ in 0..DELIVERERS {
        deliverers.push(service(var).await);
    }
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let other = {
        let (stop, other) = (stop.clone(), service(var).await);
        tokio::spawn(async move {
            let mut batches = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                other
                    .query_one("select treasury.apply_stripe_events(3)", &[])
                    .await
                    .expect("apply_stripe_events");
                batches += 1;
            }
            batches
        })
    };
    let mut events_total = 0;
    for round in 0..ROUNDS {
        let mut tasks = vec![];
        let mut ids = vec![];
        for (d, deliverer) in deliverers.drain(..).enumerate() {
            let pi = format!("pi_dr{run_id}{round}x{d}");
            let story = Story {
                key: String::new(),
                amount: 1000 + 10 * d as i64,
                refunds: vec![],
                dispute: None,
                created: base + round as i64,
            };
            let evts = events(&story, &pi, product);
            ids.extend(evts.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
            tasks.push(tokio::spawn(async move {
                for e in &evts {
                    let answer: Value = deliverer
                        .query_one("select treasury.record_stripe_event($1::jsonb)", &[e])
                        .await
                        .expect("record_stripe_event")
                        .get(0);
                    assert_eq!(answer["status"], "received", "{answer}");
                    drive_as_the_webhook(&deliverer).await;
                }
                deliverer
            }));
        }
        for task in tasks {
            deliverers.push(task.await.expect("a delivery panicked"));
        }
        let left: Vec<String> = client
            .query(
                "select event_id from treasury.stripe_events where event_id = any($1) and status = 'received' order by 1",
                &[&ids],
            )
            .await
            .expect("received events")
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert!(
            left.is_empty(),
            "{tag}: round {round}: every delivery was answered, yet {left:?} wait for pg_cron"
        );
        let failed: i64 = client
            .query_one(
                "select count(*) from treasury.stripe_events where event_id = any($1) and status <> 'applied'",
                &[&ids],
            )
            .await
            .expect("statuses")
            .get(0);
        assert_eq!(failed, 0, "{tag}: round {round}: every event applied");
        events_total += ids.len();
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let batches = other.await.expect("the other applier panicked");
    let added: Vec<String> = ledger_violations(&client)
        .await
        .into_iter()
        .filter(|v| !before.contains(v))
        .collect();
    assert!(added.is_empty(), "{tag}: {added:?}");
    eprintln!("{tag}: {ROUNDS} rounds of {DELIVERERS} deliveries, {events_total} events, {batches} batches beside them");
}

#[tokio::test]
async fn the_webhooks_drive_leaves_nothing_behind_main() {
    drive_leaves_nothing_behind(MAIN_URL_VAR, "main").await;
}

#[tokio::test]
async fn the_webhooks_drive_leaves_nothing_behind_hosted() {
    drive_leaves_nothing_behind(hosted_url_var(), "hosted").await;
}
