// The hosts part of `./stack demo` (issue 14): a verified host runs their own show. The draft
// invites two artists with their shares; one accepts, the host moves the other's share and so
// re-opens their acceptance, both accept, the host publishes. Fans buy through POST
// /functions/v1/checkout and pay at the Stripe stand-in. Then the venue floods: the host cancels,
// every ticket turns void, the refund worker has Stripe refund every payment, stripe-webhook books
// charge.refunded, and the buyers find an event.cancelled notification. A free show takes RSVPs
// up to its capacity.
import { asRole, type Sql, until, type User } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";
import { checkout } from "../lib/app.ts";
import { newUsers } from "../lib/concierto.ts";
import { expectDelivered, runWorker, stripe } from "../lib/money.ts";

async function as<T>(sql: Sql, user: User, call: (tx: Sql) => Promise<{ r: T }[]>): Promise<T> {
  return await asRole(sql, "authenticated", user.id, async (tx) => (await call(tx))[0].r);
}

async function lineup(sql: Sql, event: string, names: Map<string, string>) {
  const rows = await sql`select artist_id, position, share_bp, state, revision from concierto.event_artists
                          where event_id = ${event} order by position`;
  return rows.map((r) => [names.get(r.artist_id) ?? r.artist_id, r.position, r.share_bp, r.state, r.revision]);
}

export async function runHostsDemo(sql: Sql) {
  const started = performance.now();
  heading("Hosts — a host runs their own show: draft, the lineup accepts, on sale, sold, cancelled, refunded through Stripe");

  const [host, ada, kofi] = await newUsers(sql, 3, "hosts");
  await sql`insert into people.role_grants (user_id, role, reason)
            values (${host.id}, 'host', 'demo'), (${ada.id}, 'artist', 'demo'), (${kofi.id}, 'artist', 'demo')`;
  const names = new Map([[ada.id, "Ada Nwosu"], [kofi.id, "Kofi Mensah"]]);
  const starts = new Date(Date.now() + 14 * 86_400_000);
  const event = await as<string>(sql, host, (tx) =>
    tx`select concierto.create_draft_event('Lagos Rooftop Live', 'Eko Rooftop', 'Lagos', 'NG',
         ${starts.toISOString()}::timestamptz, ${new Date(starts.getTime() - 3_600_000).toISOString()}::timestamptz, 'EUR',
         2500, ${sql.json([{ artist_id: ada.id, share_bp: 4500 }, { artist_id: kofi.id, share_bp: 2000 }])}::jsonb) as r`);
  const tier = await as<string>(sql, host, (tx) =>
    tx`select concierto.create_tier(${event}::uuid, 'General', 3000::bigint, 100) as r`);
  await as(sql, ada, (tx) => tx`select concierto.respond_to_lineup(${event}::uuid, true, 1) as r`);
  console.log("The draft as the lineup answered it (Ada accepted; Kofi has not yet):");
  table(["artist", "billing", "share (bp)", "state", "revision"], await lineup(sql, event, names), ["l", "r", "r", "l", "r"]);

  let refused = "";
  try {
    await as(sql, host, (tx) => tx`select concierto.publish_event(${event}::uuid) as r`);
  } catch (e) {
    refused = `${(e as { detail?: string }).detail}: ${(e as Error).message}`;
  }
  console.log(`\npublish_event before everyone accepted → ${refused}`);
  await as(sql, host, (tx) =>
    tx`select concierto.set_lineup(${event}::uuid, ${sql.json([{ artist_id: ada.id, share_bp: 4500 }, { artist_id: kofi.id, share_bp: 2500 }])}::jsonb, 2000) as r`);
  await as(sql, kofi, (tx) => tx`select concierto.respond_to_lineup(${event}::uuid, true, 2) as r`);
  const published = await as<{ split_total_bp: number }>(sql, host, (tx) => tx`select concierto.publish_event(${event}::uuid) as r`);
  console.log(`The host raised Kofi's share (revision 2, notified again), Kofi accepted, the split sums to ${published.split_total_bp} bp: published.`);
  table(["artist", "billing", "share (bp)", "state", "revision"], await lineup(sql, event, names), ["l", "r", "r", "l", "r"]);

  const fans = await newUsers(sql, 6, "hostsfan");
  for (const [i, fan] of fans.entries()) {
    const session = await checkout(fan, [{ kind: "ticket", tier_id: tier, quantity: 1 + (i % 2) }]);
    await expectDelivered(await stripe.trigger("checkout.session.paid", { session: session.id }));
  }
  const [sold] = await sql`select count(*)::int as n from public.event_tickets where event_id = ${event} and state = 'valid'`;
  console.log(`\n${fans.length} fans bought ${sold.n} tickets through Checkout at the Stripe stand-in.`);

  const cancelled = await as<Record<string, number>>(sql, host, (tx) =>
    tx`select concierto.cancel_event(${event}::uuid, 'the rooftop failed its safety inspection') as r`);
  console.log(`The host cancels: ${cancelled.tickets_voided} tickets void at once, ${cancelled.refunds_requested} refunds requested, ${cancelled.notified} buyers told.`);
  for (let run = 0; run < 20; run++) {
    await runWorker("refund-worker");
    const [{ left }] = await sql`select count(*)::int as left from treasury.refund_requests as r
                                 join concierto.orders as o on o.payment_id = r.payment_id
                                 where o.event_id = ${event} and r.state = 'requested'`;
    if (left === 0) break;
  }
  await until("the cancelled show's orders refunded", async () => {
    const [{ open }] = await sql`select count(*)::int as open from concierto.orders
                                 where event_id = ${event} and payment_id is not null and state <> 'refunded'`;
    return open === 0;
  }, { seconds: 30 });
  const orders = await sql`select o.state, count(*)::int as n, sum(o.refunded_minor)::bigint as refunded
                           from concierto.orders as o where o.event_id = ${event} and o.payment_id is not null group by 1`;
  table(["order state", "orders", "refunded (EUR)"], orders.map((o) => [o.state, o.n, (Number(o.refunded) / 100).toFixed(2)]), ["l", "r", "r"]);
  const [told] = await sql`select count(distinct user_id)::int as n from people.notifications
                           where kind = 'event.cancelled' and payload ->> 'event_id' = ${event}`;
  console.log(`${told.n} buyers have an event.cancelled notification in their inbox.`);

  // A free show with 5 places and 7 fans who want one.
  const free = await as<string>(sql, host, (tx) =>
    tx`select concierto.create_draft_event('Sunday Acoustic (free)', 'Freedom Park', 'Lagos', 'NG',
         ${starts.toISOString()}::timestamptz, ${new Date(starts.getTime() - 3_600_000).toISOString()}::timestamptz, 'EUR',
         5000, ${sql.json([{ artist_id: ada.id, share_bp: 4000 }])}::jsonb, rsvp_capacity => 5) as r`);
  await as(sql, ada, (tx) => tx`select concierto.respond_to_lineup(${free}::uuid, true) as r`);
  await as(sql, host, (tx) => tx`select concierto.publish_event(${free}::uuid) as r`);
  const rsvps = await Promise.allSettled((await newUsers(sql, 7, "rsvp")).map((f) =>
    as(sql, f, (tx) => tx`select concierto.rsvp(${free}::uuid) as r`)
  ));
  const stats = await as<{ rsvps: { going: number; capacity: number } }>(sql, host, (tx) =>
    tx`select concierto.host_stats(${free}::uuid) as r`);
  console.log(`\nA free show: ${rsvps.length} fans RSVP at once, ${rsvps.filter((r) => r.status === "fulfilled").length} get a place, ` +
    `${rsvps.filter((r) => r.status === "rejected").length} are told it is full; host_stats: ${stats.rsvps.going} of ${stats.rsvps.capacity} going.`);
  console.log(`\nhosts part finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
