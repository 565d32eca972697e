//! Concierto under real concurrency, on the main cluster: fifty buyers on fifty connections
//! race for the last ten seats of a tier and exactly ten get one (capacity is never oversold,
//! nobody who could have had a seat is refused); seats an expired checkout held go to exactly
//! as many of the next racers; two gates scanning the same ticket at the same moment get one
//! "admitted" and one "already_admitted" naming the winner's gate.

use buckets_e2e::{connect, MAIN_URL_VAR};
use serde_json::{json, Value};
use tokio_postgres::Client;
use uuid::Uuid;

/// A connection acting as `user` the way PostgREST does (role and JWT claims), inside an open
/// transaction that the caller commits or rolls back.
async fn as_user(user: Uuid) -> Client {
    let client = connect(MAIN_URL_VAR).await;
    client
        .batch_execute(&format!(
            "begin; select set_config('role', 'authenticated', true), \
             set_config('request.jwt.claims', '{{\"sub\": \"{user}\", \"role\": \"authenticated\"}}', true)"
        ))
        .await
        .expect("acting as a user");
    client
}

/// `concierto.reserve` as `user`, committed.
async fn reserve(user: Uuid, tier: Uuid, quantity: i32) -> Value {
    let client = as_user(user).await;
    let row = client
        .query_one("select concierto.reserve($1, $2)", &[&tier, &quantity])
        .await
        .expect("reserve");
    client.batch_execute("commit").await.unwrap();
    row.get(0)
}

/// Pays a reservation the way Stripe reports it: a Checkout Session with the order's metadata.
async fn pay(admin: &Client, reservation: &Value) -> Value {
    let pi = format!("pi_race_{}", Uuid::new_v4().simple());
    let event = json!({
        "id": format!("evt_{pi}"), "object": "event", "type": "checkout.session.completed",
        "created": chrono::Utc::now().timestamp() - 5, "livemode": false,
        "data": {"object": {
            "id": format!("cs_{pi}"), "object": "checkout.session", "mode": "payment", "payment_status": "paid",
            "payment_intent": pi, "amount_total": reservation["amount_minor"], "currency": "eur",
            "metadata": reservation["metadata"],
        }},
    });
    let row = admin
        .query_one("select treasury.receive_stripe_event($1::jsonb)", &[&event])
        .await
        .expect("receive_stripe_event");
    let answer: Value = row.get(0);
    assert_eq!(answer["status"], "applied", "{answer}");
    answer
}

/// An event of a fresh host with one fresh artist, on now (its doors are open, so its tickets can be
/// scanned), and a tier of `capacity` seats at 25.00 EUR.
async fn event_with_tier(admin: &Client, capacity: i32) -> (Uuid, Uuid, Uuid) {
    let host = Uuid::new_v4();
    let event: Uuid = admin
        .query_one(
            "select concierto.create_event($1, 'Race night', 'The Shrine', 'Lagos', 'NG', now() + interval '1 hour', \
             now() - interval '30 minutes', 'EUR', 2000, 7000, 1000, array[$2]::uuid[])",
            &[&host, &Uuid::new_v4()],
        )
        .await
        .expect("create_event")
        .get(0);
    let tier: Uuid = admin
        .query_one("select concierto.create_tier($1, 'General', 2500, $2)", &[&event, &capacity])
        .await
        .expect("create_tier")
        .get(0);
    (host, event, tier)
}

/// `racers` buyers, each on their own connection, reserve one seat of `tier` at the same moment.
/// Returns the order ids of the winners and the SQLSTATEs of the others.
async fn race(tier: Uuid, racers: usize) -> (Vec<Uuid>, Vec<String>) {
    // Connect everyone first, so the reservations hit the database together.
    let mut clients = Vec::with_capacity(racers);
    for _ in 0..racers {
        clients.push(as_user(Uuid::new_v4()).await);
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            tokio::spawn(async move {
                match client.query_one("select concierto.reserve($1, 1)", &[&tier]).await {
                    Ok(row) => {
                        client.batch_execute("commit").await.expect("commit");
                        let answer: Value = row.get(0);
                        Ok(answer["order_id"].as_str().unwrap().parse::<Uuid>().unwrap())
                    }
                    Err(e) => {
                        let code = e.code().map(|c| c.code().to_string()).unwrap_or_else(|| e.to_string());
                        client.batch_execute("rollback").await.expect("rollback");
                        Err(code)
                    }
                }
            })
        })
        .collect();
    let (mut won, mut lost) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.expect("a racer panicked") {
            Ok(order) => won.push(order),
            Err(code) => lost.push(code),
        }
    }
    (won, lost)
}

/// Seats sold plus seats held by unexpired reservations.
async fn taken(admin: &Client, tier: Uuid) -> i64 {
    admin
        .query_one(
            "select t.seats_sold + coalesce((select sum(o.quantity) from concierto.orders as o \
               where o.tier_id = t.id and o.state = 'reserved' and o.expires_at > now()), 0) \
             from concierto.ticket_tiers as t where t.id = $1",
            &[&tier],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn fifty_buyers_racing_for_the_last_ten_seats_get_exactly_ten() {
    let admin = connect(MAIN_URL_VAR).await;
    let (_, _, tier) = event_with_tier(&admin, 25).await;
    // 10 seats sold and 5 held by a live checkout: 10 left.
    let sold = reserve(Uuid::new_v4(), tier, 10).await;
    pay(&admin, &sold).await;
    let held = reserve(Uuid::new_v4(), tier, 5).await;
    assert_eq!(taken(&admin, tier).await, 15);

    let (won, lost) = race(tier, 50).await;
    assert_eq!(won.len(), 10, "exactly the ten free seats are reserved; refused: {lost:?}");
    assert_eq!(lost.len(), 40);
    assert!(
        lost.iter().all(|code| code == "55000"),
        "every other buyer is told it is sold out: {lost:?}"
    );
    assert_eq!(taken(&admin, tier).await, 25, "sold plus held is the capacity, not more");

    // The held checkout expires: its five seats go to exactly five of the next twenty racers.
    admin
        .execute(
            "update concierto.orders set expires_at = now() - interval '1 second' where id = $1",
            &[&held["order_id"].as_str().unwrap().parse::<Uuid>().unwrap()],
        )
        .await
        .unwrap();
    let (won, lost) = race(tier, 20).await;
    assert_eq!(won.len(), 5, "the expired reservation's seats, and only those; refused: {lost:?}");
    assert!(lost.iter().all(|code| code == "55000"), "{lost:?}");
    assert_eq!(taken(&admin, tier).await, 25);
}

#[tokio::test]
async fn two_gates_scanning_one_ticket_at_once_admit_it_once() {
    let admin = connect(MAIN_URL_VAR).await;
    let (host, event, tier) = event_with_tier(&admin, 10).await;
    let reservation = reserve(Uuid::new_v4(), tier, 10).await;
    pay(&admin, &reservation).await;
    let order: Uuid = reservation["order_id"].as_str().unwrap().parse().unwrap();
    let tickets: Vec<Uuid> = admin
        .query("select id from public.event_tickets where order_id = $1 order by seat", &[&order])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(tickets.len(), 10);

    for ticket in tickets {
        let gates = [("North", as_user(host).await), ("South", as_user(host).await)];
        let scans: Vec<_> = gates
            .into_iter()
            .map(|(gate, client)| {
                tokio::spawn(async move {
                    let row = client
                        .query_one("select concierto.redeem($1, 1, $2, $3)", &[&ticket, &event, &gate])
                        .await
                        .expect("redeem");
                    client.batch_execute("commit").await.expect("commit");
                    row.get::<_, Value>(0)
                })
            })
            .collect();
        let mut answers = Vec::new();
        for scan in scans {
            answers.push(scan.await.expect("a gate panicked"));
        }
        let admitted: Vec<_> = answers.iter().filter(|a| a["status"] == "admitted").collect();
        let again: Vec<_> = answers.iter().filter(|a| a["status"] == "already_admitted").collect();
        assert_eq!(
            (admitted.len(), again.len()),
            (1, 1),
            "one admitted, one already admitted: {answers:?}"
        );
        assert_eq!(again[0]["gate"], admitted[0]["gate"], "the second names the first scan's gate");
        assert_eq!(again[0]["at"], admitted[0]["at"], "and its time");
    }
    let redeemed: i64 = admin
        .query_one(
            "select count(*) from public.event_tickets where order_id = $1 and state = 'redeemed'",
            &[&order],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(redeemed, 10);
}
