// Companon end to end (issue 13): a brand's owner creates a campaign, an admin approves it, the matcher
// finds the artists whose DNA fits, the brand offers a sponsorship, the artist accepts, the brand pays
// through POST /functions/v1/checkout (supabase-js) at the Stripe stand-in, the payment is split between
// the artist and the platform, the app's views and clicks and the platform's conversion arrive through
// passport-log and are attributed to the campaign, and the brand's dashboard adds up to the ledger.
// Reads and RPCs run as PostgREST runs them: the caller's role and JWT claims set in the transaction.
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, callFunction, db, newUser, serviceToken, type Sql, type User, uuid , until } from "../lib/stack.ts";
import { checkout, refusal } from "../lib/app.ts";
import { expectDelivered, stripe } from "../lib/money.ts";
import { addedViolations, violationLines } from "../lib/stripe.ts";

const sql = db(10);
const violationsBefore = await violationLines(sql);

const as = <T>(user: User, fn: (tx: Sql) => Promise<T>) => asRole(sql, "authenticated", user.id, fn);


/** Fans play an artist's tracks in a genre and place of their own, over HTTP, as the app logs them. */
async function fansPlay(artist: string, fans: User[], genre: string, country: string, plays = 3) {
  for (const fan of fans) {
    const track = uuid();
    const res = await callFunction("passport-log", {
      events: [
        { kind: "social.follow", client_event_id: uuid(), artist_id: artist, payload: { city: "Lagos", country } },
        ...Array.from({ length: plays }, (_, i) => ({
          kind: "audio.play", client_event_id: uuid(), artist_id: artist,
          occurred_at: new Date(Date.now() - i * 40 * 60_000).toISOString(),
          payload: { track_id: track, duration_ms: 200_000, genre, city: "Lagos", country },
        })),
      ],
    }, { token: fan.token });
    assertEquals(res.status, 200, JSON.stringify(res.body));
  }
}

/** Logs app events (views, clicks) for a user through passport-log; every one accepted. */
async function appEvents(user: User, events: Record<string, unknown>[]) {
  const res = await callFunction("passport-log", { events }, { token: user.token });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assert(res.body.results.every((r: { status: string }) => r.status === "accepted"), JSON.stringify(res.body));
}

Deno.test("a brand sponsors the artists its campaign matches, pays through Checkout, and its dashboard adds up to the ledger", async () => {
  // The people: a brand owner, a viewer of the brand, an admin, two artists that fit and one that does not.
  const [owner, viewer, admin, stranger] = await Promise.all([newUser(sql), newUser(sql), newUser(sql), newUser(sql)]);
  await sql`insert into treasury.admins (user_id, note) values (${admin.id}, 'e2e companon reviewer')`;
  const [fitA, fitB, other] = await Promise.all([newUser(sql), newUser(sql), newUser(sql)]);
  const genre = `e2e-genre-${uuid().slice(0, 8)}`;
  const fans = await Promise.all(Array.from({ length: 6 }, () => newUser(sql)));
  await fansPlay(fitA.id, fans, genre, "NG");
  await fansPlay(fitB.id, fans.slice(0, 2), genre, "NG");
  await fansPlay(other.id, fans.slice(0, 3), `${genre}-other`, "NG");
  // The fast path folds them: wait for the three artists' 30d vectors.
  await until("the artists' DNA", async () => {
    const [{ n }] = await sql`select count(distinct artist_id)::int as n from public.coliseum_domain_strength
                              where artist_id in (${fitA.id}, ${fitB.id}, ${other.id}) and period = '30d' and score > 0`;
    return n === 3 ? n : undefined;
  }, { seconds: 30 });

  // The brand and its campaign, created by the owner; the viewer joins.
  const [{ brand }] = await as(owner, (tx) => tx`select companon.create_brand(${"E2E Drinks " + uuid().slice(0, 6)}) as brand`);
  await as(owner, (tx) => tx`select companon.add_member(${brand}::uuid, ${viewer.id}::uuid, 'viewer')`);
  const starts = new Date(Date.now() - 60_000).toISOString();
  const ends = new Date(Date.now() + 30 * 86_400_000).toISOString();
  const target = { domains: { A: 1, T: 0.5 }, genres: [genre] };
  const [{ campaign }] = await as(owner, (tx) =>
    tx`select companon.create_campaign(${brand}::uuid, 'Summer of sound', 'conversions', 300000, 'EUR',
                                       ${starts}::timestamptz, ${ends}::timestamptz, ${sql.json(target)}::jsonb,
                                       ${sql.json([{ url: "https://drinks.example.com/summer", label: "Summer" }])}::jsonb) as campaign`);
  await as(owner, (tx) => tx`select companon.transition_campaign(${campaign}::uuid, 'submit')`);
  await as(admin, (tx) => tx`select companon.transition_campaign(${campaign}::uuid, 'approve')`);
  const [{ state }] = await sql`select state from companon.campaigns where id = ${campaign}`;
  assertEquals(state, "active");

  // Matching: the two artists of the genre, best fit first; the other artist is excluded, and says why.
  const matches = await as(viewer, (tx) => tx`select artist_id, similarity, rank, drivers, scores from companon.match_artists(${campaign}::uuid, 10, 0)`);
  assertEquals(matches.map((m) => m.artist_id).sort(), [fitA.id, fitB.id].sort());
  assert(matches[0].similarity >= matches[1].similarity);
  assert(matches.every((m) => m.similarity > 0 && m.similarity <= 1 && m.drivers.length > 0), JSON.stringify(matches));
  const [why] = await as(owner, (tx) => tx`select matched, reasons from companon.explain_match(${campaign}::uuid, ${other.id}::uuid)`);
  assertEquals([why.matched, why.reasons], [false, ["genre"]]);
  // Someone outside the brand is told the campaign does not exist.
  await as(stranger, (tx) => tx`select * from companon.match_artists(${campaign}::uuid, 10, 0)`).then(
    () => { throw new Error("a stranger matched the campaign"); },
    (e) => assertEquals(e.code, "P0002"),
  );

  // Offers to both; artist A accepts, artist B declines.
  const [{ offer }] = await as(owner, (tx) => tx`select companon.make_offer(${campaign}::uuid, ${fitA.id}::uuid, 200000, 'Two posts and a live set') as offer`);
  const [{ offer: offerB }] = await as(owner, (tx) => tx`select companon.make_offer(${campaign}::uuid, ${fitB.id}::uuid, 150000, 'One post') as offer`);
  const mine = await as(fitA, (tx) => tx`select id, amount_minor, state from companon.my_offers()`);
  assertEquals(mine.map((o) => [o.id, Number(o.amount_minor), o.state]), [[offer, 200000, "offered"]]);
  assertEquals((await as(fitA, (tx) => tx`select companon.transition_offer(${offer}::uuid, 'accept') as s`))[0].s, "accepted");
  assertEquals((await as(fitB, (tx) => tx`select companon.transition_offer(${offerB}::uuid, 'decline', 'Busy touring') as s`))[0].s, "declined");

  // A viewer may not pay; the owner pays through the app's checkout, the customer completes it at Stripe.
  const refused = await refusal(viewer, "checkout", { items: [{ kind: "sponsorship", offer_id: offer }] });
  assertEquals([refused.status, refused.body.code], [403, "not_a_payer"]);
  const session = await checkout(owner, [{ kind: "sponsorship", offer_id: offer }]);
  const created = await stripe.requests({ method: "POST", path: "/v1/checkout/sessions" });
  const sent = created.find((r) => (r.params as { metadata?: Record<string, string> }).metadata?.checkout_id === session.checkout_id);
  assert(sent, "the stand-in recorded the session request");
  const meta = (sent.params as { metadata: Record<string, string> }).metadata;
  assertEquals([meta.offer_id, meta.campaign_id, meta.brand_id], [offer, campaign, brand]);
  await expectDelivered(await stripe.trigger("checkout.session.paid", { session: session.id }));

  // Paid: the offer names its payment, split 85 % to the artist, 15 % to the platform.
  const [paid] = await sql`select state, payment_id from companon.offers where id = ${offer}`;
  assertEquals(paid.state, "paid");
  const lines = await sql`select party_id, role, amount_minor from public.treasury_splits
                          where payment_id = ${paid.payment_id} and reason = 'payment' order by party_index`;
  assertEquals(lines.map((l) => [l.party_id, Number(l.amount_minor)]), [[fitA.id, 170000], [null, 30000]]);

  // What the app and the platform log: views and clicks by fans who saw the creative on artist A's page,
  // and one conversion worth 5,000 EUR minor units after a click.
  const [f1, f2, f3] = fans;
  const ev = (kind: string) => ({ kind, client_event_id: uuid(), artist_id: fitA.id, payload: { campaign_id: campaign } });
  await appEvents(f1, [ev("companon.campaign_viewed"), ev("companon.campaign_clicked")]);
  await appEvents(f2, [ev("companon.campaign_viewed")]);
  await appEvents(f3, [ev("companon.campaign_viewed"), ev("companon.campaign_viewed")]);
  const conv = await callFunction("passport-log", {
    kind: "companon.campaign_converted", source: "companon", client_event_id: `order-${uuid()}`, user_id: f1.id,
    artist_id: fitA.id, payload: { campaign_id: campaign, amount_minor: 5000, currency: "EUR" },
  }, { token: serviceToken() });
  assertEquals(conv.status, 200, JSON.stringify(conv.body));
  // The measurement job runs every minute; run it now as pg_cron would.
  await sql`select companon_private.measure_pending()`;

  const [total] = await as(viewer, (tx) => tx`select impressions, reach, clicks, conversions, click_conversions, conversion_value
                                            from companon.campaign_results(${campaign}::uuid) where day is null`);
  assertEquals([Number(total.impressions), Number(total.reach), Number(total.clicks), Number(total.conversions),
    Number(total.click_conversions)], [4, 3, 1, 1, 1]);
  assertEquals(total.conversion_value, [{ currency: "EUR", amount_minor: 5000 }]);

  // The dashboard's money is the ledger's: what the brand paid is the payment's postings.
  const [spend] = await as(viewer, (tx) => tx`select currency, budget_minor, committed_minor, payments, paid_minor, net_minor
                                              from companon.campaign_spend(${campaign}::uuid)`);
  const [{ ledger }] = await sql`select coalesce(sum(l.amount), 0)::bigint as ledger
                                 from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
                                 where a.purpose = 'stripe_balance' and l.reference in
                                   (select reference from public.treasury_splits where payment_id = ${paid.payment_id})`;
  assertEquals([spend.currency, Number(spend.budget_minor), Number(spend.committed_minor), Number(spend.payments), Number(spend.paid_minor)],
    ["EUR", 300000, 200000, 1, 200000]);
  assertEquals(Number(spend.net_minor), Number(ledger));
  const invoices = await as(owner, (tx) => tx`select payment_id, offer_id, amount_minor, status from companon.brand_invoices(${brand}::uuid)`);
  assertEquals(invoices.map((i) => [i.payment_id, i.offer_id, Number(i.amount_minor), i.status]), [[paid.payment_id, offer, 200000, "paid"]]);

  // The dashboard row of the campaign: the same money, the same results, what each result cost.
  const [row] = await as(owner, (tx) => tx`select * from companon.brand_dashboard(${brand}::uuid)`);
  assertEquals([row.campaign_id, Number(row.spent_minor), Number(row.impressions), Number(row.clicks), Number(row.conversions),
    Number(row.conversion_value_minor), Number(row.sponsored_artists)], [campaign, Number(ledger), 4, 1, 1, 5000, 1]);
  assertEquals([Number(row.cpc_minor), Number(row.cpa_minor), Number(row.roi)], [200000, 200000, -0.975]);

  // The ledger's invariants hold: the run added no violation.
  assertEquals(await addedViolations(sql, violationsBefore), []);
});
