// The refunds part of `./stack demo` (issue 14): Treasury asks Stripe for a refund itself. A fan buys two
// seats at the Stripe stand-in; a Treasury admin asks for the whole payment back (treasury.request_refund,
// as the app's supabase-js rpc runs it); the refund worker sends POST /v1/refunds under the request's
// idempotency key; Stripe's signed charge.refunded is booked: each party's share reversed, the tickets
// void, the request refunded. Asking again under the same key answers the same request; more is refused.
import { asRole, newUser, type Sql, until } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";
import { newShow } from "../lib/concierto.ts";
import { addedViolations, violationLines } from "../lib/stripe.ts";
import { buy, runWorker, stripe } from "../lib/money.ts";

export async function runRefundsDemo(sql: Sql) {
  const started = performance.now();
  const violationsBefore = await violationLines(sql);
  heading("Refunds — an admin refunds an order through Stripe: treasury.request_refund, POST /functions/v1/refund-worker, charge.refunded");
  const show = await newShow(sql, { price: 2500, title: "Abuja Nights" });
  const fan = await newUser(sql);
  const { session, paid } = await buy(fan, { kind: "ticket", tier_id: show.tier, quantity: 2 });
  const pi = (paid.objects.payment_intent as { id: string }).id;
  const admin = await newUser(sql);
  await sql`insert into treasury.admins (user_id, note) values (${admin.id}, 'demo refunds')`;
  const key = `demo_refund_${pi}`;
  const ask = () =>
    asRole(sql, "authenticated", admin.id, (tx) =>
      tx`select (treasury.request_refund(${pi}, 5000::bigint, 'event cancelled', ${key})).id as id`);
  const [{ id }] = await ask();
  const [{ id: again }] = await ask();
  let refused = "";
  await asRole(sql, "authenticated", admin.id, (tx) =>
    tx`select treasury.request_refund(${pi}, 1::bigint, 'one more cent', ${key + "_more"})`)
    .catch((e) => (refused = `${(e as { code?: string }).code} ${(e as Error).message}`));
  // The gateway's schedule may run the worker first: either way the request ends refunded.
  const run = await runWorker("refund-worker");
  await stripe.deliveries();
  await until("the refund booked", async () =>
    (await sql`select 1 from treasury.refund_requests where id = ${id} and state = 'refunded'`).length > 0);
  const [r] = await sql`select state, stripe_refund_id, attempts from treasury.refund_requests where id = ${id}`;
  const [p] = await sql`select refunded_minor::int as refunded from treasury.payments where id = ${pi}`;
  const tickets = await sql`select t.state from public.event_tickets as t
                             join treasury.checkouts as c on c.order_id = t.order_id where c.id = ${session.checkout_id}`;
  const splits = await sql`select role, sum(amount_minor)::int as amount from public.treasury_splits
                           where payment_id = ${pi} and reason = 'refund' group by role order by role`;
  const violations = await addedViolations(sql, violationsBefore);
  table(["step", "what happened"], [
    ["paid at the stand-in", `${pi}: EUR 50.00 for two seats`],
    ["treasury.request_refund (admin)", `request ${String(id).slice(0, 8)}…: requested; the same key again → ${id === again ? "the same request" : "ANOTHER request"}`],
    ["one cent more, another key", refused || "accepted (unexpected)"],
    ["POST /functions/v1/refund-worker", `${run.status} ${JSON.stringify(run.body)}`],
    ["at Stripe, then charge.refunded", `${r.stripe_refund_id}; payment refunded_minor ${p.refunded}`],
    ["the request", `${r.state} after ${r.attempts} attempt(s)`],
    ["the shares reversed", splits.map((s) => `${s.role} ${s.amount}`).join(", ")],
    ["the tickets", tickets.map((t) => t.state).join(", ")],
    ["check_invariants()", violations.length === 0 ? "nothing new: every step balanced" : JSON.stringify(violations)],
  ]);
  console.log(`\nrefunds demo: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
