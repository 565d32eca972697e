//! Companon's budget under real concurrency, on the main cluster: artists on their own connections
//! accept their offers of one campaign at the same moment. What the campaign commits never passes its
//! budget, and nobody is refused whose offer would still have fit: every accept locks the campaign's
//! row and reads what is committed after the lock.

use buckets_e2e::{connect, seeded_rng, MAIN_URL_VAR};
use rand::Rng;
use tokio_postgres::Client;
use uuid::Uuid;

/// A brand with an active campaign of `budget` EUR minor units, made as the platform.
async fn active_campaign(admin: &Client, budget: i64) -> Uuid {
    let owner = Uuid::new_v4();
    let brand: Uuid = admin
        .query_one("select companon.create_brand('Race Drinks', $1)", &[&owner])
        .await
        .expect("create_brand")
        .get(0);
    let campaign: Uuid = admin
        .query_one(
            "select companon.create_campaign($1, 'Race', 'awareness', $2, 'EUR', now(), now() + interval '30 days', \
             '{\"domains\": {\"A\": 1}}', '[{\"url\": \"https://race.example/a\"}]')",
            &[&brand, &budget],
        )
        .await
        .expect("create_campaign")
        .get(0);
    admin
        .batch_execute(&format!(
            "select companon.transition_campaign('{campaign}', 'submit'); \
             select companon.transition_campaign('{campaign}', 'approve')"
        ))
        .await
        .expect("approve");
    campaign
}

/// An offer of `amount` to a fresh artist (a user), made as the platform.
async fn offer(admin: &Client, campaign: Uuid, amount: i64) -> (Uuid, Uuid) {
    let artist = Uuid::new_v4();
    admin
        .execute(
            "insert into auth.users (id, email) values ($1::uuid, $1::uuid::text || '@race.test')",
            &[&artist],
        )
        .await
        .expect("a user for the artist");
    let offer: Uuid = admin
        .query_one("select companon.make_offer($1, $2, $3, 'One post')", &[&campaign, &artist, &amount])
        .await
        .expect("make_offer")
        .get(0);
    (artist, offer)
}

/// Every artist accepts their offer on their own connection, at once. Returns the accepted offers and
/// the refused ones with their SQLSTATE and DETAIL.
async fn race(offers: &[(Uuid, Uuid, i64)]) -> (Vec<Uuid>, Vec<(Uuid, String)>) {
    // Connect and sign everyone in first, so the accepts reach the database together.
    let mut clients = Vec::with_capacity(offers.len());
    for &(artist, offer, _) in offers {
        let client = connect(MAIN_URL_VAR).await;
        client
            .batch_execute(&format!(
                "begin; select set_config('role', 'authenticated', true), \
                 set_config('request.jwt.claims', '{{\"sub\": \"{artist}\", \"role\": \"authenticated\"}}', true)"
            ))
            .await
            .expect("acting as the artist");
        clients.push((offer, client));
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|(offer, client)| {
            tokio::spawn(async move {
                match client.query_one("select companon.transition_offer($1, 'accept')", &[&offer]).await {
                    Ok(_) => {
                        client.batch_execute("commit").await.expect("commit");
                        Ok(offer)
                    }
                    Err(e) => {
                        let refusal = e.as_db_error().map_or_else(
                            || e.to_string(),
                            |db| format!("{} {}", db.code().code(), db.detail().unwrap_or_default()),
                        );
                        client.batch_execute("rollback").await.expect("rollback");
                        Err((offer, refusal))
                    }
                }
            })
        })
        .collect();
    let (mut won, mut lost) = (Vec::new(), Vec::new());
    for task in tasks {
        match task.await.expect("a racer panicked") {
            Ok(offer) => won.push(offer),
            Err(refused) => lost.push(refused),
        }
    }
    (won, lost)
}

async fn committed(admin: &Client, campaign: Uuid) -> i64 {
    admin
        .query_one(
            "select coalesce(sum(amount_minor), 0)::bigint from companon.offers \
             where campaign_id = $1 and state in ('accepted', 'paid')",
            &[&campaign],
        )
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn forty_artists_accepting_at_once_commit_exactly_the_budget() {
    let admin = connect(MAIN_URL_VAR).await;
    let campaign = active_campaign(&admin, 1_000_000).await;
    let mut offers = Vec::new();
    for _ in 0..40 {
        let (artist, offer) = offer(&admin, campaign, 100_000).await;
        offers.push((artist, offer, 100_000));
    }
    let (won, lost) = race(&offers).await;
    assert_eq!(
        won.len(),
        10,
        "ten offers of 1,000.00 fill a budget of 10,000.00; refused: {lost:?}"
    );
    assert_eq!(lost.len(), 30);
    assert!(
        lost.iter().all(|(_, refusal)| refusal == "55000 budget_exceeded"),
        "every other artist is told the budget is spent: {lost:?}"
    );
    assert_eq!(committed(&admin, campaign).await, 1_000_000);
}

#[tokio::test]
async fn offers_of_any_size_never_commit_more_than_the_budget_and_none_that_fits_is_refused() {
    let admin = connect(MAIN_URL_VAR).await;
    let mut rng = seeded_rng("companon_race");
    let budget = 1_000_000;
    let campaign = active_campaign(&admin, budget).await;
    let mut offers = Vec::new();
    for _ in 0..40 {
        let amount = rng.random_range(20_000..=150_000);
        let (artist, offer) = offer(&admin, campaign, amount).await;
        offers.push((artist, offer, amount));
    }
    let (won, lost) = race(&offers).await;
    let total = committed(&admin, campaign).await;
    let accepted: i64 = offers.iter().filter(|o| won.contains(&o.1)).map(|o| o.2).sum();
    assert_eq!(total, accepted, "what is committed is the accepted offers");
    assert!(total <= budget, "committed {total} of a budget of {budget}");
    // What is committed only grows during the race, so each refused offer would not fit even now.
    for (offer, refusal) in &lost {
        assert_eq!(refusal, "55000 budget_exceeded", "{offer}");
        let amount = offers.iter().find(|o| o.1 == *offer).unwrap().2;
        assert!(
            total + amount > budget,
            "offer {offer} of {amount} was refused though it fits ({total} committed)"
        );
    }
    assert!(
        !won.is_empty() && !lost.is_empty(),
        "the race had winners and losers: {} / {}",
        won.len(),
        lost.len()
    );
}
