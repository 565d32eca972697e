// The Companon part of `./stack demo` (issue 13): a drinks brand creates a campaign aimed at West African
// sounds, an admin approves it, the matcher ranks the artists whose DNA fits (and says why one does not),
// the brand offers two sponsorships, one artist accepts and one declines, the brand pays through Checkout
// at the Stripe stand-in (split between the artist and the platform), fans see and click the campaign in
// the app and one buys, and the brand's dashboard shows spend from the ledger beside the results.
import { asRole, callFunction, newUser, serviceToken, type Sql, type User, uuid } from "../lib/stack.ts";
import { buy } from "../lib/money.ts";
import { heading, table } from "../lib/print.ts";

const money = (minor: number | bigint | null, currency = "EUR") =>
  minor === null ? "—" : `${currency} ${(Number(minor) / 100).toLocaleString("en-GB", { minimumFractionDigits: 2 })}`;

export async function runCompanonDemo(sql: Sql, names: Map<string, string>) {
  const started = performance.now();
  const as = <T>(user: User, fn: (tx: Sql) => Promise<T>) => asRole(sql, "authenticated", user.id, fn);
  const name = (id: string) => names.get(id) ?? id.slice(0, 8);
  const [owner, admin] = [await newUser(sql, `brand.${uuid().slice(0, 6)}@lagoslager.example`), await newUser(sql)];
  await sql`insert into treasury.admins (user_id, note) values (${admin.id}, 'demo: campaign reviewer')`;

  heading("Companon — Lagos Lager creates a campaign for West African sounds; an admin approves it");
  const [{ brand }] = await as(owner, (tx) => tx`select companon.create_brand('Lagos Lager') as brand`);
  const target = { domains: { A: 1, T: 0.6, C: 0.4 }, components: { C: { touring_viability: 1 } },
    genres: ["afrobeats", "amapiano", "highlife"] };
  const [{ campaign }] = await as(owner, (tx) =>
    tx`select companon.create_campaign(${brand}::uuid, 'Sounds of the coast', 'conversions', 500000, 'EUR',
         ${new Date(Date.now() - 60_000).toISOString()}::timestamptz, ${new Date(Date.now() + 30 * 86_400_000).toISOString()}::timestamptz,
         ${sql.json(target)}::jsonb, ${sql.json([{ url: "https://lagoslager.example/coast", label: "Coast" }])}::jsonb) as campaign`);
  await as(owner, (tx) => tx`select companon.transition_campaign(${campaign}::uuid, 'submit')`);
  await as(admin, (tx) => tx`select companon.transition_campaign(${campaign}::uuid, 'approve')`);
  const history = await sql`select action, to_state, actor from companon.campaign_transitions where campaign_id = ${campaign} order by id`;
  table(["transition", "state", "by"], history.map((h) => [h.action, h.to_state, h.actor]));

  heading("The matcher: companon.match_artists (cosine of the target and each artist's 30d DNA, filters, holds)");
  const matches = await as(owner, (tx) => tx`select artist_id, similarity, rank, drivers, scores from companon.match_artists(${campaign}::uuid, 5, 0)`);
  table(["#", "artist", "similarity", "drove it", "30d scores A / T / G / C"], matches.map((m) => [
    Number(m.rank), name(m.artist_id), m.similarity.toFixed(3),
    m.drivers.slice(0, 2).map((d: { domain: string; component: string }) => `${d.domain}.${d.component}`).join(", "),
    ["A", "T", "G", "C"].map((d) => Number(m.scores[d] ?? 0).toFixed(0)).join(" / "),
  ]), ["r", "l", "r", "l", "l"]);
  const [outsider] = await sql`select artist_id from public.coliseum_domain_strength
                               where period = '30d' and domain = 'A' and components ->> 'main_genre' = 'jazz'
                               order by score desc limit 1`;
  if (outsider) {
    const [why] = await as(owner, (tx) => tx`select matched, reasons, similarity from companon.explain_match(${campaign}::uuid, ${outsider.artist_id}::uuid)`);
    console.log(`companon.explain_match for ${name(outsider.artist_id)}: matched ${why.matched}, excluded for ${why.reasons.join(", ")}` +
      ` (similarity ${why.similarity === null ? "—" : why.similarity.toFixed(3)})`);
  }

  heading("Offers: two sponsorships; the first artist accepts, the second declines; the brand pays through Checkout");
  const [first, second] = matches;
  const [{ offer }] = await as(owner, (tx) => tx`select companon.make_offer(${campaign}::uuid, ${first.artist_id}::uuid, 250000, 'Two posts and a live set in Lagos') as offer`);
  const [{ offer: declined }] = await as(owner, (tx) => tx`select companon.make_offer(${campaign}::uuid, ${second.artist_id}::uuid, 150000, 'One post') as offer`);
  await asRole(sql, "authenticated", first.artist_id, (tx) => tx`select companon.transition_offer(${offer}::uuid, 'accept')`);
  await asRole(sql, "authenticated", second.artist_id, (tx) => tx`select companon.transition_offer(${declined}::uuid, 'decline', 'On tour that month')`);
  const { session } = await buy(owner, { kind: "sponsorship", offer_id: offer });
  const [paid] = await sql`select state, payment_id from companon.offers where id = ${offer}`;
  const split = await sql`select party_id, role, amount_minor from public.treasury_splits
                          where payment_id = ${paid.payment_id} and reason = 'payment' order by party_index`;
  const offers = await as(owner, (tx) => tx`select artist_id, amount_minor, state, reason from companon.campaign_offers(${campaign}::uuid)`);
  table(["artist", "offer", "state"], offers.map((o) => [name(o.artist_id), money(o.amount_minor), o.state + (o.reason ? ` (${o.reason})` : "")]), ["l", "r", "l"]);
  table(["step", "what happened"], [
    ["POST /functions/v1/checkout {kind: sponsorship}", `${session.id}, paid at the Stripe stand-in → ${paid.payment_id}`],
    ["the split (product sponsorship)", split.map((s) => `${s.role} ${money(s.amount_minor)}`).join(", ")],
  ]);

  heading("Fans meet the campaign in the app (passport-log), one buys; measurement attributes it (last touch)");
  const fans = await Promise.all(Array.from({ length: 12 }, () => newUser(sql)));
  const ev = (kind: string) => ({ kind, client_event_id: uuid(), artist_id: first.artist_id, payload: { campaign_id: campaign } });
  await Promise.all(fans.map((f, i) =>
    callFunction("passport-log", { events: i % 3 === 0 ? [ev("companon.campaign_viewed"), ev("companon.campaign_clicked")] : [ev("companon.campaign_viewed")] },
      { token: f.token })));
  for (const [i, amount] of [[0, 4500], [3, 12000]] as const) {
    await callFunction("passport-log", {
      kind: "companon.campaign_converted", source: "companon", client_event_id: `order-${uuid()}`, user_id: fans[i].id,
      artist_id: first.artist_id, payload: { campaign_id: campaign, amount_minor: amount, currency: "EUR" },
    }, { token: serviceToken() });
  }
  await sql`select companon_private.measure_pending()`; // pg_cron's companon-measure, run now
  console.log(`${fans.length} fans saw the campaign on ${name(first.artist_id)}'s page, ${fans.filter((_, i) => i % 3 === 0).length} clicked it, ` +
    `2 of the clickers bought (EUR 45.00 and EUR 120.00, logged by the platform as companon.campaign_converted)`);

  heading("Lagos Lager's dashboard (companon.brand_dashboard: spend from the ledger, results from Passport)");
  const rows = await as(owner, (tx) => tx`select * from companon.brand_dashboard(${brand}::uuid)`);
  table(["campaign", "budget", "spent", "impressions", "reach", "clicks", "conversions", "value", "CPC", "CPA", "ROI"],
    rows.map((r) => [r.campaign_name, money(r.budget_minor), money(r.spent_minor), Number(r.impressions), Number(r.reach),
      Number(r.clicks), Number(r.conversions), money(r.conversion_value_minor), money(r.cpc_minor), money(r.cpa_minor),
      r.roi === null ? "—" : `${(Number(r.roi) * 100).toFixed(1)}%`]),
    ["l", "r", "r", "r", "r", "r", "r", "r", "r", "r", "r"]);
  const [{ ledger }] = await sql`select coalesce(sum(l.amount), 0)::bigint as ledger
                                 from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
                                 where a.purpose = 'stripe_balance' and a.owner_id is null and l.reference in
                                   (select reference from public.treasury_splits where payment_id = ${paid.payment_id})`;
  console.log(`the ledger's postings on the platform's Stripe balance for the payment: ${money(ledger)} — the dashboard's "spent"`);
  console.log(`\ncompanon demo: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
