//! RSVPs under real concurrency, on the main cluster: forty fans on forty connections RSVP to a
//! free event with ten places left at the same moment and exactly ten get one; the others are
//! told it is full. A withdrawal racing with new RSVPs frees exactly one place.

use buckets_e2e::{connect, MAIN_URL_VAR};
use serde_json::Value;
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

/// Runs `sql` (one value) as `user`, committed.
async fn run_as(user: Uuid, sql: &str, args: &[&(dyn tokio_postgres::types::ToSql + Sync)]) -> Value {
    let client = as_user(user).await;
    let row = client.query_one(sql, args).await.expect(sql);
    client.batch_execute("commit").await.unwrap();
    row.get(0)
}

/// A published free event of a fresh host with `capacity` places, its one artist accepted.
async fn free_event(admin: &Client, capacity: i32) -> Uuid {
    let (host, artist) = (Uuid::new_v4(), Uuid::new_v4());
    admin
        .execute(
            "insert into people.role_grants (user_id, role) values ($1, 'host'), ($2, 'artist')",
            &[&host, &artist],
        )
        .await
        .expect("roles");
    let lineup = serde_json::json!([{"artist_id": artist.to_string(), "share_bp": 4000}]);
    let event: Value = run_as(
        host,
        "select to_jsonb(concierto.create_draft_event('Race RSVP', 'Freedom Park', 'Lagos', 'NG', \
         now() + interval '2 days', now() + interval '2 days' - interval '1 hour', 'EUR', 5000, $1, \
         rsvp_capacity => $2))",
        &[&lineup, &capacity],
    )
    .await;
    let event: Uuid = event.as_str().unwrap().parse().unwrap();
    run_as(artist, "select concierto.respond_to_lineup($1, true)", &[&event]).await;
    run_as(host, "select concierto.publish_event($1)", &[&event]).await;
    event
}

/// `racers` fans (or the given ones), each on their own connection, RSVP at the same moment.
/// Returns how many got a place and the SQLSTATEs of the others.
async fn race(event: Uuid, fans: Vec<Uuid>) -> (usize, Vec<String>) {
    let mut clients = Vec::with_capacity(fans.len());
    for fan in fans {
        clients.push(as_user(fan).await);
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|client| {
            tokio::spawn(async move {
                match client.query_one("select concierto.rsvp($1)", &[&event]).await {
                    Ok(_) => {
                        client.batch_execute("commit").await.expect("commit");
                        Ok(())
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
    let (mut won, mut lost) = (0, Vec::new());
    for task in tasks {
        match task.await.expect("a racer panicked") {
            Ok(()) => won += 1,
            Err(code) => lost.push(code),
        }
    }
    (won, lost)
}

async fn going(admin: &Client, event: Uuid) -> i64 {
    admin
        .query_one(
            "select count(*) from concierto.event_rsvp where event_id = $1 and state = 'going'",
            &[&event],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn forty_fans_racing_for_ten_places_get_exactly_ten() {
    let admin = connect(MAIN_URL_VAR).await;
    let event = free_event(&admin, 15).await;
    // 5 places taken before the race: 10 left.
    for _ in 0..5 {
        run_as(Uuid::new_v4(), "select concierto.rsvp($1)", &[&event]).await;
    }
    let (won, lost) = race(event, (0..40).map(|_| Uuid::new_v4()).collect()).await;
    assert_eq!(won, 10, "exactly the places left are taken");
    assert_eq!(lost.len(), 30);
    assert!(lost.iter().all(|c| c == "55000"), "the others are told it is full: {lost:?}");
    assert_eq!(going(&admin, event).await, 15, "never more than the capacity");
}

#[tokio::test]
async fn a_withdrawal_racing_with_rsvps_frees_exactly_one_place() {
    let admin = connect(MAIN_URL_VAR).await;
    let event = free_event(&admin, 3).await;
    let leaver = Uuid::new_v4();
    run_as(leaver, "select concierto.rsvp($1)", &[&event]).await;
    run_as(Uuid::new_v4(), "select concierto.rsvp($1)", &[&event]).await;
    run_as(Uuid::new_v4(), "select concierto.rsvp($1)", &[&event]).await;
    let withdrawal = tokio::spawn(async move { run_as(leaver, "select concierto.cancel_rsvp($1)", &[&event]).await });
    let (won, lost) = race(event, (0..20).map(|_| Uuid::new_v4()).collect()).await;
    withdrawal.await.expect("withdrawal");
    assert!(won <= 1, "at most the freed place is taken: {won}");
    assert_eq!(lost.len(), 20 - won);
    assert_eq!(
        going(&admin, event).await,
        2 + won as i64,
        "the two who stayed and whoever took the place"
    );
}
