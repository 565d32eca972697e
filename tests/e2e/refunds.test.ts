// Refunds Treasury asks Stripe for, end to end (docs/treasury-refunds.md): a ticket order paid at the
// Stripe stand-in; an admin calls treasury.request_refund (as PostgREST runs it, under the admin's JWT);
// the refund worker (POST /functions/v1/refund-worker, as pg_cron calls it) sends POST /v1/refunds under
// the request's idempotency key; the stand-in refunds the charge and delivers Stripe's signed
// charge.refunded to stripe-webhook, which books it: the ledger reversed, the tickets void, the request
// refunded. A worker that crashed after Stripe answered repeats the call and Stripe answers it once; two
// admins racing for more than is left get one refund between them.
import type Stripe from "stripe";
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, db, newUser, type User, until } from "../lib/stack.ts";
import { newShow } from "../lib/concierto.ts";
import { expectSameAsStripeLibrary } from "../lib/standin.ts";
import { buy, runWorker, stripe } from "../lib/money.ts";
import { addedViolations, violationLines } from "../lib/stripe.ts";

const sql = db(10);
// What the ledger's invariants flag before these tests; they must add nothing.
const violationsBefore = await violationLines(sql);

interface RefundRequest {
  id: string;
  payment_id: string;
  amount_minor: number;
  state: string;
  stripe_refund_id: string | null;
  attempts: number;
}

async function newAdmin(): Promise<User> {
  const admin = await newUser(sql);
  await sql`insert into treasury.admins (user_id, note) values (${admin.id}, 'e2e refunds')`;
  return admin;
}

/** treasury.request_refund as the admin, the way the app's supabase-js rpc call runs it. */
async function requestRefund(admin: User, payment: string, amount: number, key: string): Promise<RefundRequest> {
  return await asRole(sql, "authenticated", admin.id, async (tx) => {
    const [r] = await tx`select (treasury.request_refund(${payment}, ${amount}::bigint, 'event cancelled', ${key})).*`;
    return { ...r, amount_minor: Number(r.amount_minor) } as RefundRequest;
  });
}

async function request(id: string): Promise<RefundRequest> {
  const [r] = await sql`select id, payment_id, amount_minor::int as amount_minor, state, stripe_refund_id, attempts
                        from treasury.refund_requests where id = ${id}`;
  return r as RefundRequest;
}

/** A paid two-seat order at the stand-in: its PaymentIntent, charge and order. */
async function paidOrder(): Promise<{ fan: User; pi: string; charge: string; order: string }> {
  const show = await newShow(sql, { price: 2500 });
  const fan = await newUser(sql);
  const { session, paid } = await buy(fan, { kind: "ticket", tier_id: show.tier, quantity: 2 });
  const pi = (paid.objects.payment_intent as { id: string }).id;
  const charge = (paid.objects.charge as { id: string }).id;
  const [c] = await sql`select order_id from treasury.checkouts where id = ${session.checkout_id}`;
  return { fan, pi, charge, order: c.order_id as string };
}

/** Runs the worker until this request is no longer waiting for its call, then waits for Stripe's events. */
async function work(id: string): Promise<RefundRequest> {
  for (let run = 0; run < 10 && (await request(id)).state === "requested"; run++) {
    const res = await runWorker("refund-worker");
    assertEquals(res.status, 200, JSON.stringify(res.body));
  }
  await stripe.deliveries();
  return await request(id);
}

Deno.test("an admin refunds a paid order through Stripe: the worker's request, the booking, void tickets, the request refunded", async () => {
  const { pi, charge, order } = await paidOrder();
  const admin = await newAdmin();
  const key = `e2e_refund_${crypto.randomUUID()}`;
  const asked = await requestRefund(admin, pi, 5000, key);
  assertEquals([asked.payment_id, asked.amount_minor, asked.state], [pi, 5000, "requested"]);
  assertEquals((await requestRefund(admin, pi, 5000, key)).id, asked.id, "the same key answers the same request");

  // A fan (even the buyer) may neither ask nor read.
  const [{ n }] = await asRole(sql, "authenticated", (await newUser(sql)).id, (tx) =>
    tx`select count(*)::int as n from treasury.refund_requests`);
  assertEquals(n, 0);

  const sent = await work(asked.id);
  assert(sent.stripe_refund_id?.startsWith("re_"), JSON.stringify(sent));

  // What our Rust sent is what Stripe's library sends for these typed parameters, under the request's key.
  const calls = (await stripe.requests({ method: "POST", path: "/v1/refunds" }))
    .filter((r) => (r.params as { metadata?: { refund_request_id?: string } }).metadata?.refund_request_id === asked.id);
  assertEquals(calls.length, 1);
  assertEquals(calls[0].idempotency_key, key);
  const params: Stripe.RefundCreateParams = {
    payment_intent: pi,
    amount: 5000,
    metadata: { refund_request_id: asked.id, payment_id: pi, reason: "event cancelled" },
  };
  await expectSameAsStripeLibrary(calls[0], params, "POST", "/v1/refunds");

  // Stripe's charge.refunded reached the webhook and was booked; the booking refunded the request.
  const refunded = await until("the request refunded", async () => (await request(asked.id)).state === "refunded");
  assert(refunded);
  const [p] = await sql`select refunded_minor::int as r from treasury.payments where id = ${pi}`;
  assertEquals(p.r, 5000);
  const [s] = await sql`select coalesce(sum(amount_minor), 0)::int as total from public.treasury_splits
                        where payment_id = ${pi} and reason = 'refund'`;
  assertEquals(s.total, -5000, "every party's share reversed");
  const tickets = await sql`select state from public.event_tickets where order_id = ${order}`;
  assertEquals(tickets.map((t) => t.state), ["void", "void"]);
  const stand = await stripe.object<{ amount_refunded: number }>(charge);
  assertEquals(stand.amount_refunded, 5000);

  // Nothing is left: a new key is refused; another worker run sends nothing for this payment.
  await asRole(sql, "authenticated", admin.id, (tx) =>
    tx`select treasury.request_refund(${pi}, 1, 'again', ${key + "_again"})`).then(
    () => assert(false, "a refund of a refunded payment was accepted"),
    (e) => assertEquals((e as { code?: string }).code, "55000"),
  );
  await runWorker("refund-worker");
  assertEquals(
    (await stripe.requests({ method: "POST", path: "/v1/refunds" }))
      .filter((r) => (r.params as { payment_intent?: string }).payment_intent === pi).length,
    1,
  );
  assertEquals(await addedViolations(sql, violationsBefore), []);
});

Deno.test("a worker that crashed after Stripe answered repeats the call under the same key: one refund, booked once", async () => {
  const { pi, charge } = await paidOrder();
  const admin = await newAdmin();
  const part = await requestRefund(admin, pi, 2000, `e2e_refund_${crypto.randomUUID()}`);
  await work(part.id);
  await until("the part refunded", async () => (await request(part.id)).state === "refunded");

  // The crash: Stripe made the refund, our record of it never committed; the lease ran out.
  await sql`update treasury.refund_requests
            set state = 'requested', stripe_refund_id = null, stripe_status = null, sent_at = null, refunded_at = null,
                next_attempt_at = now(), leased_until = null
            where id = ${part.id}`;
  const again = await work(part.id);
  const mine = (await stripe.requests({ method: "POST", path: "/v1/refunds" }))
    .filter((r) => (r.params as { metadata?: { refund_request_id?: string } }).metadata?.refund_request_id === part.id);
  assertEquals(mine.map((r) => r.replayed), [false, true], "the second call is Stripe's replay of the first");
  assertEquals(again.state, "refunded", "recorded again, and already covered by the booking");
  assertEquals(again.attempts, 2);
  assertEquals((await stripe.object<{ amount_refunded: number }>(charge)).amount_refunded, 2000);
  const [p] = await sql`select refunded_minor::int as r from treasury.payments where id = ${pi}`;
  assertEquals(p.r, 2000, "booked once");

  // The rest, then: 3000 left, and asking for more is refused.
  await asRole(sql, "authenticated", admin.id, (tx) =>
    tx`select treasury.request_refund(${pi}, 3001, 'too much', ${`e2e_refund_${crypto.randomUUID()}`})`).then(
    () => assert(false, "an over-refund was accepted"),
    (e) => assertEquals((e as { code?: string }).code, "55000"),
  );
  const rest = await requestRefund(admin, pi, 3000, `e2e_refund_${crypto.randomUUID()}`);
  await work(rest.id);
  await until("the rest refunded", async () => (await request(rest.id)).state === "refunded");
  assertEquals((await stripe.object<{ amount_refunded: number }>(charge)).amount_refunded, 5000);
  assertEquals(await addedViolations(sql, violationsBefore), []);
});

Deno.test("two admins racing on one payment for more than is left: one request between them", async () => {
  const { pi } = await paidOrder();
  const [a, b] = [await newAdmin(), await newAdmin()];
  const results = await Promise.allSettled([
    requestRefund(a, pi, 3000, `e2e_refund_${crypto.randomUUID()}`),
    requestRefund(b, pi, 3000, `e2e_refund_${crypto.randomUUID()}`),
  ]);
  const ok = results.filter((r) => r.status === "fulfilled");
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  assertEquals([ok.length, refused.length], [1, 1]);
  assertEquals((refused[0].reason as { code?: string }).code, "55000");
  const [{ n }] = await sql`select count(*)::int as n from treasury.refund_requests where payment_id = ${pi}`;
  assertEquals(n, 1);
});

Deno.test("a refusal by Stripe fails the request for good, with Stripe's words", async () => {
  const { pi } = await paidOrder();
  const admin = await newAdmin();
  const r = await requestRefund(admin, pi, 1234, `e2e_refund_${crypto.randomUUID()}`);
  await stripe.failure({
    method: "POST",
    path: "/v1/refunds",
    amount: 1234,
    times: 1,
    error: { type: "invalid_request_error", code: "charge_disputed", message: "This charge has been disputed." },
  });
  const failed = await work(r.id);
  assertEquals(failed.state, "failed");
  const [row] = await sql`select last_error from treasury.refund_requests where id = ${r.id}`;
  assert(String(row.last_error).includes("charge_disputed"), row.last_error);
  // A failed request no longer holds the amount.
  const again = await requestRefund(admin, pi, 5000, `e2e_refund_${crypto.randomUUID()}`);
  assertEquals(again.state, "requested");
  await work(again.id);
  await until("the second request refunded", async () => (await request(again.id)).state === "refunded");
});
