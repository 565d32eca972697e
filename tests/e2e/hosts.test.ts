// Hosts run their own events, end to end (issue 14): a verified host creates a draft with its lineup
// and shares, the artists accept through the RPCs the app calls (as PostgREST runs them: role and
// JWT claims), the host publishes, fans buy through POST /functions/v1/checkout and pay at the
// Stripe stand-in, the host cancels; the refund worker asks Stripe for every payment back, Stripe's
// charge.refunded is booked by stripe-webhook, the tickets are void at the door and the buyers are
// notified. Free events: RSVPs up to the capacity.
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, db, newUser, type Sql, until, type User } from "../lib/stack.ts";
import { checkout } from "../lib/app.ts";
import { drainOutbox, expectDelivered, runWorker, stripe } from "../lib/money.ts";
import { addedViolations, violationLines } from "../lib/stripe.ts";

const sql = db(10);
const violationsBefore = await violationLines(sql);

/** A user with a role granted by the platform (people.role_grants). */
async function withRole(role: "host" | "artist"): Promise<User> {
  const user = await newUser(sql);
  await sql`insert into people.role_grants (user_id, role, reason) values (${user.id}, ${role}, 'e2e hosts')`;
  return user;
}

/** One RPC as the signed-in user, the way the app's supabase-js call runs in PostgREST. */
async function rpc<T>(user: User, call: (tx: Sql) => Promise<{ r: T }[]>): Promise<T> {
  return await asRole(sql, "authenticated", user.id, async (tx) => (await call(tx))[0].r);
}

async function failure(user: User, call: (tx: Sql) => Promise<unknown>): Promise<{ code: string; detail?: string }> {
  try {
    await asRole(sql, "authenticated", user.id, call);
  } catch (e) {
    const err = e as { code: string; detail?: string };
    return { code: err.code, detail: err.detail };
  }
  throw new Error("the call was not refused");
}

/** A draft of `host` in ten days with `artists` at 3500 bp each and the host's share making 10000 with the platform's. */
async function draft(host: User, artists: User[], opts: { rsvp?: number } = {}): Promise<string> {
  const lineup = artists.map((a) => ({ artist_id: a.id, share_bp: 3500 }));
  const [{ bp }] = await sql`select platform_share_bp as bp from concierto.settings`;
  const hostBp = 10000 - Number(bp) - 3500 * artists.length;
  const starts = new Date(Date.now() + 10 * 86_400_000);
  const doors = new Date(starts.getTime() - 90 * 60_000);
  return await rpc<string>(host, (tx) =>
    tx`select concierto.create_draft_event(
         title => 'Hosts night e2e', venue => 'The Shrine', city => 'Lagos', country => 'NG',
         starts_at => ${starts.toISOString()}::timestamptz, doors_at => ${doors.toISOString()}::timestamptz,
         currency => 'EUR', host_share_bp => ${hostBp}::int, lineup => ${sql.json(lineup)}::jsonb,
         rsvp_capacity => ${opts.rsvp ?? null}::int) as r`);
}

Deno.test("a host's event: draft, the lineup accepts, on sale, bought through Checkout, cancelled, refunded through Stripe, tickets void, buyers told", async () => {
  const host = await withRole("host");
  const [a, b] = [await withRole("artist"), await withRole("artist")];
  const event = await draft(host, [a, b]);
  const tier = await rpc<string>(host, (tx) =>
    tx`select concierto.create_tier(event_id => ${event}::uuid, name => 'General', price_minor => 3000, capacity => 50) as r`);

  // Before the lineup accepted, nothing is on sale.
  const fan = await newUser(sql);
  const early = await failure(fan, (tx) => tx`select concierto.reserve(${tier}::uuid, 1)`);
  assertEquals([early.code, early.detail], ["55000", "event_draft"]);

  // The artists see their invitations (and a notification each) and accept.
  for (const artist of [a, b]) {
    const invitations = await asRole(sql, "authenticated", artist.id, (tx) =>
      tx`select event_id, share_bp, state, revision from concierto.lineup_invitations()`);
    assertEquals(invitations.map((i) => [i.event_id, i.share_bp, i.state]), [[event, 3500, "invited"]]);
    const [n] = await asRole(sql, "authenticated", artist.id, (tx) =>
      tx`select count(*)::int as n from people.notifications where kind = 'event.lineup' and payload ->> 'event_id' = ${event}`);
    assertEquals(n.n, 1);
    const answer = await rpc<{ state: string }>(artist, (tx) =>
      tx`select concierto.respond_to_lineup(${event}::uuid, true, ${invitations[0].revision}::int) as r`);
    assertEquals(answer.state, "accepted");
  }
  const published = await rpc<{ state: string; split_total_bp: number }>(host, (tx) =>
    tx`select concierto.publish_event(${event}::uuid) as r`);
  assertEquals([published.state, published.split_total_bp], ["published", 10000]);

  // Two fans buy through Checkout and pay at the Stripe stand-in.
  const fans = [fan, await newUser(sql)];
  for (const f of fans) {
    const session = await checkout(f, [{ kind: "ticket", tier_id: tier, quantity: 2 }]);
    await expectDelivered(await stripe.trigger("checkout.session.paid", { session: session.id }));
  }
  const valid = await sql`select owner_id from public.event_tickets where event_id = ${event} and state = 'valid'`;
  assertEquals(valid.length, 4);

  // The host cancels: every ticket void at once, one refund request per payment.
  const cancelled = await rpc<Record<string, unknown>>(host, (tx) =>
    tx`select concierto.cancel_event(${event}::uuid, 'the venue flooded') as r`);
  assertEquals([cancelled.tickets_voided, cancelled.refunds_requested, cancelled.notified], [4, 2, 2]);
  const requests = await sql`select r.id, r.amount_minor from treasury.refund_requests as r
                             join concierto.orders as o on o.payment_id = r.payment_id where o.event_id = ${event}`;
  assertEquals(requests.map((r) => Number(r.amount_minor)), [6000, 6000]);

  // The refund worker calls Stripe (as pg_cron would); Stripe's charge.refunded books each refund.
  for (let run = 0; run < 20; run++) {
    const res = await runWorker("refund-worker");
    assertEquals(res.status, 200, JSON.stringify(res.body));
    const [{ left }] = await sql`select count(*)::int as left from treasury.refund_requests
                                 where id = any(${requests.map((r) => r.id)}::uuid[]) and state = 'requested'`;
    if (left === 0) break;
  }
  const refunded = await until("both orders refunded", async () => {
    const rows = await sql`select state, refunded_minor from concierto.orders where event_id = ${event} and payment_id is not null`;
    return rows.length === 2 && rows.every((o) => o.state === "refunded") && rows;
  });
  assertEquals(refunded.map((o) => Number(o.refunded_minor)), [6000, 6000]);
  await until("the requests settled", async () => {
    const rows = await sql`select state from treasury.refund_requests where id = any(${requests.map((r) => r.id)}::uuid[])`;
    return rows.every((r) => r.state === "refunded");
  });

  // The door refuses the tickets; the buyers were told.
  const [{ states }] = await sql`select array_agg(distinct state) as states from public.event_tickets where event_id = ${event}`;
  assertEquals(states, ["void"]);
  const ticket = await sql`select id from public.event_tickets where event_id = ${event} and owner_id = ${fan.id} limit 1`;
  const noToken = await failure(fan, (tx) => tx`select concierto.ticket_for_token(${ticket[0].id}::uuid)`);
  assertEquals([noToken.code, noToken.detail], ["55000", "void_ticket"]);
  for (const f of fans) {
    const told = await asRole(sql, "authenticated", f.id, (tx) =>
      tx`select title from people.notifications where kind = 'event.cancelled' and payload ->> 'event_id' = ${event}`);
    assertEquals(told.map((t) => t.title), ["Hosts night e2e is cancelled"]);
  }
  await drainOutbox(sql);
  assertEquals(await addedViolations(sql, violationsBefore), [], "every step balanced");
});

Deno.test("a free event takes RSVPs up to its capacity; the host counts them", async () => {
  const host = await withRole("host");
  const artist = await withRole("artist");
  const event = await draft(host, [artist], { rsvp: 2 });
  await rpc(artist, (tx) => tx`select concierto.respond_to_lineup(${event}::uuid, true) as r`);
  await rpc(host, (tx) => tx`select concierto.publish_event(${event}::uuid) as r`);
  const fans = [await newUser(sql), await newUser(sql), await newUser(sql)];
  const answers = await Promise.allSettled(fans.map((f) => rpc(f, (tx) => tx`select concierto.rsvp(${event}::uuid) as r`)));
  assertEquals(answers.filter((x) => x.status === "fulfilled").length, 2, "two places, two RSVPs");
  const refused = answers.find((x) => x.status === "rejected") as PromiseRejectedResult;
  assertEquals((refused.reason as { detail?: string }).detail, "full");
  const stats = await rpc<{ rsvps: { going: number; capacity: number } }>(host, (tx) =>
    tx`select concierto.host_stats(${event}::uuid) as r`);
  assertEquals([stats.rsvps.going, stats.rsvps.capacity], [2, 2]);
  const mine = await asRole(sql, "authenticated", fans[0].id, (tx) => tx`select event_id, state from concierto.my_rsvps()`);
  assert(mine.length <= 1);
});
