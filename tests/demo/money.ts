// The money part of `./stack demo` (issue 11): money that moves, through the app's own client and the
// local Stripe and Resend stand-ins. A fan buys two seats through POST /functions/v1/checkout and pays;
// the tickets are issued and the receipt is emailed once. Another fan subscribes to pro, reads the T
// board, cancels, and loses it when the (short, test-clock) period ends. An artist onboards to Stripe
// Connect, earns from a sale and a tip, asks for the money, and the payout worker sends it; Stripe
// says payout.paid; every step of the ledger balances.
import { asRole, newUser, type Sql } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";
import { newShow } from "../lib/concierto.ts";
import { addedViolations, newProduct, payeeBalances, violationLines } from "../lib/stripe.ts";
import { ResendStandInClient } from "../lib/standin.ts";
import { buy, drainOutbox, drainPayoutQueue, expectDelivered, onboard, runWorker, stripe, stripeCallsFor } from "../lib/money.ts";

const resend = new ResendStandInClient();
const eur = (minor: number) => `EUR ${(minor / 100).toFixed(2)}`;

async function plan(sql: Sql, user: string) {
  const [{ p }] = await asRole(sql, "authenticated", user, (tx) => tx`select coliseum.my_plan() as p`);
  return p as string;
}

async function readsTBoard(sql: Sql, user: string): Promise<string> {
  try {
    const rows = await asRole(sql, "authenticated", user, (tx) => tx`select rank from coliseum.leaderboard('T', '7d', 10, 0)`);
    return `yes (${rows.length} ranks)`;
  } catch (e) {
    return `no: ${(e as Error).message}`;
  }
}

export async function runMoneyDemo(sql: Sql) {
  const started = performance.now();
  const violationsBefore = await violationLines(sql);

  heading("Money in — a fan buys two seats: POST /functions/v1/checkout (supabase-js), paid at Stripe, receipt by email");
  const show = await newShow(sql, { price: 2500, title: "Lagos Lights" });
  const fan = await newUser(sql, `ngozi.${crypto.randomUUID().slice(0, 6)}@fans.example`);
  const { session, paid } = await buy(fan, { kind: "ticket", tier_id: show.tier, quantity: 2 }, { order: "shuffled", duplicates: 2 });
  table(["step", "what happened"], [
    ["checkout", `${session.id} (${session.url.slice(0, 48)}…), expires ${new Date(session.expires_at * 1000).toISOString().slice(11, 16)} UTC`],
    ...paid.deliveries.map((d) => [`stripe-webhook ${d.type}`, `${d.status} ${(d.body as { status?: string })?.status ?? ""}`]),
  ]);
  const tickets = await sql`select t.id, t.state from public.event_tickets as t
                             join treasury.checkouts as c on c.order_id = t.order_id where c.id = ${session.checkout_id}`;
  await drainOutbox(sql);
  await runWorker("receipts-sender");
  const [{ email }] = await sql`select email from auth.users where id = ${fan.id}`;
  const mail = await resend.emails(email);
  table(["result", ""], [
    ["tickets issued", tickets.map((t) => `${t.id.slice(0, 8)} ${t.state}`).join(", ")],
    ["emails to the fan (the sender run until nothing is due, then again)", mail.map((m) => `"${m.subject}"`).join(", ")],
  ]);

  heading("Plans — a fan subscribes to pro (billing periods of 4 s on the stand-in's test clock), cancels, loses the T board");
  const reader = await newUser(sql);
  const before = [await plan(sql, reader.id), await readsTBoard(sql, reader.id)];
  const sub = await buy(reader, { kind: "plan", plan: "pro" }, { period_seconds: 4 });
  const subscription = (sub.paid.objects.subscription as { id: string }).id;
  const during = [await plan(sql, reader.id), await readsTBoard(sql, reader.id)];
  await expectDelivered(await stripe.trigger("subscription.cancel_at_period_end", { subscription }));
  const cancelled = [await plan(sql, reader.id), await readsTBoard(sql, reader.id)];
  const [s] = await sql`select access_until from treasury.subscriptions where stripe_subscription_id = ${subscription}`;
  await new Promise((r) => setTimeout(r, Math.max(0, s.access_until.getTime() - Date.now()) + 500));
  const after = [await plan(sql, reader.id), await readsTBoard(sql, reader.id)];
  table(["moment", "coliseum.my_plan()", "reads the T board"], [
    ["before subscribing", ...before],
    ["invoice.paid", ...during],
    ["cancelled at period end", ...cancelled],
    [`after the period (${s.access_until.toISOString().slice(11, 19)} UTC)`, ...after],
  ]);

  heading("Money out — an artist onboards to Connect, earns, asks for a payout; the worker sends it; payout.paid");
  const drop = await newProduct(sql, { type: "drop", price: 4000, title: "Vinyl drop" });
  await asRole(sql, "service_role", null, (tx) =>
    tx`insert into treasury.products (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
       values ('tip', 'Tips', ${drop.artist}, ${drop.host}, null, 'EUR', ${drop.rule})`);
  const { account } = await onboard(drop.artist);
  const buyer = await newUser(sql);
  await buy(buyer, { kind: "drop", product_id: drop.id, quantity: 1 });
  await buy(buyer, { kind: "tip", artist_id: drop.artist, amount_minor: 1500, currency: "EUR" });
  const earned = (await payeeBalances(sql, drop.artist)).payable;
  await drainPayoutQueue(sql);
  const [{ payout }] = await asRole(sql, "authenticated", drop.artist, (tx) =>
    tx`select (treasury.request_payout(${earned}::bigint, 'EUR')).id as payout`);
  await asRole(sql, "service_role", null, (tx) => tx`select treasury.process_payouts()`);
  const run = await runWorker("payout-worker");
  const calls = await stripeCallsFor(payout);
  const [attempt] = await sql`select stripe_payout_id, transfer_id from treasury.payout_attempts where payout_id = ${payout}`;
  await expectDelivered(await stripe.trigger("payout.paid", { payout: attempt.stripe_payout_id }));
  const [done] = await sql`select state, paid_at from treasury.payouts where id = ${payout}`;
  const violations = await addedViolations(sql, violationsBefore);
  table(["step", "what happened"], [
    ["POST /functions/v1/payout-account", `Express account ${account}, account.updated → wallet verified`],
    ["a drop (EUR 40.00) and a tip (EUR 15.00)", `the artist's payable: ${eur(earned)} (70% of each)`],
    ["treasury.request_payout → process_payouts", `payout ${payout.slice(0, 8)}…: processing, attempt 1 opened`],
    ["POST /functions/v1/payout-worker", `${run.status} ${JSON.stringify(run.body)}`],
    ["at Stripe", `transfer ${attempt.transfer_id} (${calls.transfers.length} call), payout ${attempt.stripe_payout_id} on ${account}`],
    ["payout.paid", `${done.state} at ${done.paid_at.toISOString().slice(11, 19)} UTC`],
    ["check_invariants(), check_payout_invariants()", violations.length === 0 ? "nothing new: every step balanced" : JSON.stringify(violations)],
  ]);
  console.log(`\nmoney demo: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
