// Money that moves, end to end over HTTP (issue 11): the app's supabase-js client starts a Checkout
// Session through POST /functions/v1/checkout, the local Stripe stand-in completes it as a customer
// would and delivers Stripe's signed events to stripe-webhook, and what the user relies on follows:
// tickets issued, a plan's boards unlocked and locked again, the request our Rust sent to Stripe the
// very one Stripe's own library sends for the same typed parameters.
import type Stripe from "stripe";
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, db, newUser, type User , until } from "../lib/stack.ts";
import { app, checkout, refusal } from "../lib/app.ts";
import { newShow } from "../lib/concierto.ts";
import { expectSameAsStripeLibrary, type RecordedRequest, ResendStandInClient } from "../lib/standin.ts";
import { buy, drainOutbox, expectDelivered, runWorker, stripe } from "../lib/money.ts";
import { addedViolations, violationLines } from "../lib/stripe.ts";

// Recorded form parameters, read field by field.
// deno-lint-ignore no-explicit-any
type Form = Record<string, any>;

const sql = db(10);
const resend = new ResendStandInClient();
// What the ledger's invariants flag before these tests; they must add nothing.
const violationsBefore = await violationLines(sql);

/** The one Checkout Session request the stand-in recorded for a session id. */
async function sessionRequest(sessionId: string): Promise<RecordedRequest> {
  // Recorded requests carry no answer: match the session's checkout id in the metadata sent.
  const created = await stripe.requests({ method: "POST", path: "/v1/checkout/sessions" });
  const session = await stripe.object<Stripe.Checkout.Session>(sessionId);
  const mine = created.filter((r) => (r.params as { metadata?: Record<string, string> }).metadata?.checkout_id ===
    session.metadata?.checkout_id);
  assertEquals(mine.length >= 1, true, `no recorded request created ${sessionId}`);
  return mine[0];
}

async function plan(user: User): Promise<string> {
  const [{ p }] = await asRole(sql, "authenticated", user.id, (tx) => tx`select coliseum.my_plan() as p`);
  return p as string;
}

/** Whether the user may read the T board (the pro plan's), through the RPC the app calls. */
async function readsTBoard(user: User): Promise<boolean> {
  try {
    await asRole(sql, "authenticated", user.id, (tx) => tx`select * from coliseum.leaderboard('T', '7d', 10, 0)`);
    return true;
  } catch (e) {
    if ((e as { code?: string }).code === "42501") return false;
    throw e;
  }
}


Deno.test("a fan buys two seats: Checkout through supabase-js, Stripe's request as its library sends it, paid, two tickets", async () => {
  const show = await newShow(sql, { price: 2500 });
  const fan = await newUser(sql);
  const session = await checkout(fan, [{ kind: "ticket", tier_id: show.tier, quantity: 2 }]);
  assert(session.id.startsWith("cs_"), session.id);
  assert(session.url.includes(session.id), session.url);
  assert(session.expires_at * 1000 > Date.now() + 29 * 60_000, "the session lives at least 30 minutes");

  // The seats are held for exactly as long as the session lives.
  const [order] = await sql`select o.state, o.quantity, extract(epoch from o.expires_at)::bigint as expires
                            from treasury.checkouts as c join concierto.orders as o on o.id = c.order_id
                            where c.id = ${session.checkout_id}`;
  assertEquals([order.state, order.quantity, Number(order.expires)], ["reserved", 2, session.expires_at]);

  // What our Rust sent is what Stripe's library sends for these typed parameters.
  const recorded = await sessionRequest(session.id);
  assertEquals(recorded.idempotency_key, `buckets_checkout_${session.checkout_id}`);
  assertEquals(recorded.stripe_version, "2026-10-28.endive");
  const p = recorded.params as Form;
  const meta = p.metadata as Record<string, string>;
  assertEquals([meta.buyer_id, meta.tier_id, meta.quantity, meta.checkout_id], [fan.id, show.tier, "2", session.checkout_id]);
  const params: Stripe.Checkout.SessionCreateParams = {
    mode: "payment",
    line_items: [{
      quantity: 2,
      price_data: {
        currency: "eur",
        unit_amount: 2500,
        product_data: { name: p.line_items[0].price_data.product_data.name },
      },
    }],
    metadata: meta,
    payment_intent_data: { metadata: p.payment_intent_data.metadata },
    client_reference_id: fan.id,
    customer_email: p.customer_email,
    expires_at: session.expires_at,
    success_url: p.success_url,
    cancel_url: p.cancel_url,
  };
  await expectSameAsStripeLibrary(recorded, params, "POST", "/v1/checkout/sessions");
  assertEquals(p.line_items[0].price_data.unit_amount, "2500", "the price is the database's, never the client's");

  // The customer pays; Stripe's events arrive shuffled and twice over.
  await expectDelivered(await stripe.trigger("checkout.session.paid", { session: session.id, order: "shuffled", duplicates: 2 }));
  const tickets = await sql`select t.owner_id, t.state from public.event_tickets as t
                            join concierto.orders as o on o.id = t.order_id
                            join treasury.checkouts as c on c.order_id = o.id where c.id = ${session.checkout_id}`;
  assertEquals(tickets.map((t) => [t.owner_id, t.state]), [[fan.id, "valid"], [fan.id, "valid"]]);
  const [c] = await sql`select status from treasury.checkouts where id = ${session.checkout_id}`;
  assertEquals(c.status, "completed");
  assertEquals(await addedViolations(sql, violationsBefore), [], "every step balanced");

  // The receipt, and the tickets, emailed once each however often the sender runs (pg_cron's job):
  // it runs until nothing is due (other tests' messages go first, oldest first), then once more.
  await drainOutbox(sql);
  const again = await runWorker("receipts-sender");
  assertEquals([again.status, again.body.sent], [200, 0], JSON.stringify(again.body));
  const mail = await resend.emails(`${fan.id}@test.buckets.local`);
  assertEquals(mail.length, 2, mail.map((m) => m.subject).join(" | "));
  const receipt = mail.find((m) => m.text?.includes("50.00"));
  assert(receipt, `no receipt for EUR 50.00 among: ${mail.map((m) => m.text).join("\n---\n")}`);
  const ticketMail = mail.find((m) => m !== receipt)!;
  assert(ticketMail.text?.includes("Night at the Shrine"), ticketMail.text ?? "");
  const sent = await sql`select request_key from treasury.outbox where recipient_id = ${fan.id} and status = 'sent'`;
  assertEquals(sent.length, 2);
  assertEquals(
    new Set(mail.map((m) => m.idempotency_key)),
    new Set(sent.map((r) => r.request_key)),
    "sent in Resend batch requests, under the keys the outbox gave them",
  );
});

Deno.test("an expired session gives its seats back", async () => {
  const show = await newShow(sql, { capacity: 2 });
  const fan = await newUser(sql);
  const other = await newUser(sql);
  const session = await checkout(fan, [{ kind: "ticket", tier_id: show.tier, quantity: 2 }]);
  const refused = await refusal(other, "checkout", { items: [{ kind: "ticket", tier_id: show.tier, quantity: 1 }] });
  assertEquals([refused.status, refused.body.code], [409, "sold_out"], "the seats are held while the session lives");
  await expectDelivered(await stripe.trigger("checkout.session.expired", { session: session.id }));
  const again = await checkout(other, [{ kind: "ticket", tier_id: show.tier, quantity: 1 }]);
  assert(again.id.startsWith("cs_"));
});

Deno.test("bad items are refused with a code before Stripe is called", async () => {
  const fan = await newUser(sql);
  const before = (await stripe.requests({ method: "POST", path: "/v1/checkout/sessions" })).length;
  const cases: [Record<string, unknown>[], number, string][] = [
    [[{ kind: "tip", artist_id: crypto.randomUUID(), amount_minor: 1, currency: "EUR" }], 400, "amount_out_of_bounds"],
    [[{ kind: "plan", plan: "platinum" }], 404, "unknown_item"],
    [[{ kind: "ticket", tier_id: crypto.randomUUID(), quantity: 1 }], 404, "unknown_item"],
    [[{ kind: "lunch" }], 400, "invalid_item"],
  ];
  for (const [items, status, code] of cases) {
    const refused = await refusal(fan, "checkout", { items });
    assertEquals([refused.status, refused.body.code], [status, code], JSON.stringify(items));
  }
  assertEquals((await stripe.requests({ method: "POST", path: "/v1/checkout/sessions" })).length, before);
});

/** Subscribes `fan` to pro with billing periods of `periodSeconds`, paid. */
async function subscribePro(fan: User, periodSeconds: number): Promise<string> {
  const { paid } = await buy(fan, { kind: "plan", plan: "pro" }, { period_seconds: periodSeconds });
  return (paid.objects.subscription as { id: string }).id;
}

Deno.test("a fan subscribes to pro: the T board unlocks when the invoice is paid, and locks at the end of a cancelled period", async () => {
  const fan = await newUser(sql);
  assertEquals([await plan(fan), await readsTBoard(fan)], ["free", false]);
  const subscription = await subscribePro(fan, 6);
  assertEquals([await plan(fan), await readsTBoard(fan)], ["pro", true]);

  await expectDelivered(await stripe.trigger("subscription.cancel_at_period_end", { subscription }));
  assertEquals(await plan(fan), "pro", "a cancelled subscription keeps its plan until the period ends");
  await until("the plan ends with its period", async () => (await plan(fan)) === "free", { everyMs: 200 });
  assertEquals(await readsTBoard(fan), false);
  const [s] = await sql`select status, cancel_at_period_end from treasury.subscriptions where stripe_subscription_id = ${subscription}`;
  assertEquals(s.cancel_at_period_end, true);
});

async function withGrace<T>(grace: string, body: () => Promise<T>): Promise<T> {
  const [{ before }] = await sql`select renewal_grace::text as before from treasury.checkout_settings`;
  await sql`update treasury.checkout_settings set renewal_grace = ${grace}::interval`;
  try {
    return await body();
  } finally {
    await sql`update treasury.checkout_settings set renewal_grace = ${before}::interval`;
  }
}

Deno.test("a failed renewal keeps the plan through the grace period, then downgrades", async () => {
  await withGrace("4 seconds", async () => {
    const fan = await newUser(sql);
    const subscription = await subscribePro(fan, 2);
    // The period ends; the renewal's payment fails: the grace period starts.
    await new Promise((r) => setTimeout(r, 2500));
    await expectDelivered(await stripe.trigger("subscription.renewal_failed", { subscription }));
    assertEquals(await plan(fan), "pro", "within the grace period the plan holds");
    await until("the plan downgrades after the grace period", async () => (await plan(fan)) === "free", { everyMs: 200 });
    assertEquals(await readsTBoard(fan), false);
  });
});

Deno.test("the billing portal opens for a subscriber, and is 404 for someone who never subscribed", async () => {
  const fan = await newUser(sql);
  const never = await refusal(await newUser(sql), "billing-portal", {});
  assertEquals([never.status, never.body.code], [404, "no_billing_account"]);
  await subscribePro(fan, 3600);
  const { data, error } = await app(fan).functions.invoke("billing-portal", { body: {} });
  assertEquals(error, null);
  assert(typeof data.url === "string" && data.url.startsWith("http"), JSON.stringify(data));
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
