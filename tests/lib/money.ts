// The money flows of issue 11 as the app, Stripe and pg_cron drive them, for the end-to-end tests and
// the demo: a checkout paid at the Stripe stand-in (its signed events delivered to stripe-webhook), a
// payee onboarded to Stripe Connect, the workers run as pg_cron runs them, and the Stripe requests
// recorded for a payout.
import { asRole, callFunction, serviceToken, type Sql, type User, userToken } from "./stack.ts";
import { type Checkout, checkout, invoke } from "./app.ts";
import { type RecordedRequest, StripeStandInClient, type TriggerResult } from "./standin.ts";
import { untilApplied } from "./stripe.ts";

export const stripe = new StripeStandInClient();

/** Every delivery of a trigger answered 200 by stripe-webhook (else throws with what it said), and applied. */
export async function expectDelivered(result: TriggerResult): Promise<TriggerResult> {
  for (const d of result.deliveries) {
    if (d.status !== 200) throw new Error(`stripe-webhook answered ${d.status} to ${d.type}: ${JSON.stringify(d.body)}`);
  }
  await untilApplied(result.deliveries.map((d) => d.event));
  return result;
}

/** A checkout of one item through the app, then paid by the customer at the stand-in. */
export async function buy(
  fan: User,
  item: Record<string, unknown>,
  opts: { duplicates?: number; order?: "as_stripe" | "shuffled"; period_seconds?: number } = {},
): Promise<{ session: Checkout; paid: TriggerResult }> {
  const session = await checkout(fan, [item]);
  const paid = await expectDelivered(await stripe.trigger("checkout.session.paid", { session: session.id, ...opts }));
  return { session, paid };
}

/** The payee onboards: POST /functions/v1/payout-account, then finishes at Stripe (account.updated). */
export async function onboard(payee: string, country = "FR"): Promise<{ user: User; account: string; url: string }> {
  const user: User = { id: payee, token: await userToken(payee) };
  const link = await invoke<{ url: string; expires_at: number; account_id: string }>(user, "payout-account", { country });
  await expectDelivered(await stripe.trigger("account.updated", { account: link.account_id, onboarded: true }));
  return { user, account: link.account_id, url: link.url };
}

/** One run of a worker as pg_cron calls it (the service role key). */
export async function runWorker(fn: "payout-worker" | "receipts-sender" | "refund-worker") {
  return await callFunction(fn, {}, { token: serviceToken() });
}

/** The transfer and payout requests the stand-in recorded for one payout (by its metadata). */
export async function stripeCallsFor(payout: string): Promise<{ transfers: RecordedRequest[]; payouts: RecordedRequest[] }> {
  const of = (rs: RecordedRequest[]) =>
    rs.filter((r) => (r.params as { metadata?: { payout_id?: string } }).metadata?.payout_id === payout);
  return {
    transfers: of(await stripe.requests({ method: "POST", path: "/v1/transfers" })),
    payouts: of(await stripe.requests({ method: "POST", path: "/v1/payouts" })),
  };
}

/** Runs a worker until it claims nothing (at most `maxRuns` times); answers how many runs claimed anything. */
export async function runUntilIdle(
  fn: "payout-worker" | "receipts-sender" | "refund-worker",
  maxRuns: number,
): Promise<number> {
  for (let run = 0; run < maxRuns; run++) {
    const res = await runWorker(fn);
    if (res.status !== 200) throw new Error(`${fn} answered ${res.status}: ${JSON.stringify(res.body)}`);
    if (res.body.claimed === 0) return run;
  }
  throw new Error(`${fn} still had work after ${maxRuns} runs`);
}

/**
 * Sends whatever other tests left in the payout queue (payouts to accounts the stand-in never made,
 * which it refuses: their attempts fail and are retried minutes later), so that the next worker run
 * works on what the caller queues next. The queue first, then the worker until it claims nothing.
 */
export async function drainPayoutQueue(sql: Sql, maxRuns = 50) {
  await asRole(sql, "service_role", null, (tx) => tx`select treasury.process_payouts()`);
  await runUntilIdle("payout-worker", maxRuns);
}

/**
 * Runs the receipts sender until it claims nothing: everything due in the outbox is sent (by Resend's
 * stand-in), also a backlog that benches left (a concierto bench queues thousands of messages). A run
 * that claims anything claims at least one message, so the runs are bounded by what is due now, plus
 * what concurrent tests queue meanwhile.
 */
export async function drainOutbox(sql: Sql) {
  const [{ due }] = await sql`select count(*)::int as due from treasury.outbox
                              where status in ('pending', 'sending') and next_attempt_at <= now()`;
  await runUntilIdle("receipts-sender", due + 100);
}
