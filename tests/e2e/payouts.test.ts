// Money out, end to end over HTTP (issue 11): an artist onboards to Stripe Connect through
// POST /functions/v1/payout-account, earns from a sale and a tip paid through Checkout, requests a
// payout; the queue (treasury.process_payouts, pg_cron's job) opens the attempt, the payout worker
// (POST /functions/v1/payout-worker, as pg_cron calls it with the service role key) makes the
// transfer and the payout at the Stripe stand-in, and payout.paid marks it paid, every step
// balanced. Receipts leave through POST /functions/v1/receipts-sender and the Resend stand-in,
// once each, also when the sender runs again. A worker that dies between Stripe's answer and our
// commit pays nothing twice.
import type Stripe from "stripe";
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, callFunction, db, newUser, type User, userToken } from "../lib/stack.ts";
import { invoke } from "../lib/app.ts";
import { buy, drainOutbox, drainPayoutQueue, expectDelivered, runWorker, stripe, stripeCallsFor } from "../lib/money.ts";
import { addedViolations, newProduct, payeeBalances, violationLines } from "../lib/stripe.ts";
import { expectSameAsStripeLibrary, ResendStandInClient } from "../lib/standin.ts";

// Recorded form parameters, read field by field.
// deno-lint-ignore no-explicit-any
type Form = Record<string, any>;

const sql = db(10);
const resend = new ResendStandInClient();
// What the ledger's invariants flag before these tests; they must add nothing.
const violationsBefore = await violationLines(sql);

async function payoutState(id: string) {
  const [p] = await sql`select state from treasury.payouts where id = ${id}`;
  return p.state as string;
}

/** An artist with a drop and a tip product (70% artist, 20% host, 10% platform), onboarded to Connect. */
async function onboardedArtist() {
  const drop = await newProduct(sql, { type: "drop", price: 4000, title: "Vinyl drop" });
  await asRole(sql, "service_role", null, (tx) =>
    tx`insert into treasury.products (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
       values ('tip', 'Tips', ${drop.artist}, ${drop.host}, null, 'EUR', ${drop.rule})`);
  const artist: User = { id: drop.artist, token: await userToken(drop.artist) };

  const link = await invoke<{ url: string; expires_at: number; account_id: string }>(artist, "payout-account", {
    country: "FR",
  });
  assert(link.account_id.startsWith("acct_") && link.url.startsWith("http"), JSON.stringify(link));
  // Asking again reuses the account and makes a fresh link.
  const again = await invoke<{ account_id: string }>(artist, "payout-account", {});
  assertEquals(again.account_id, link.account_id);
  const created = await stripe.requests({ method: "POST", path: "/v1/accounts" });
  const mine = created.filter((r) => (r.params as { metadata?: { user_id?: string } }).metadata?.user_id === artist.id);
  assertEquals(mine.length, 1, "one Express account per payee");
  const p = mine[0].params as Form;
  const params: Stripe.AccountCreateParams = {
    type: "express",
    country: "FR",
    email: p.email,
    capabilities: { transfers: { requested: true } },
    settings: { payouts: { schedule: { interval: "manual" } } },
    metadata: p.metadata,
  };
  await expectSameAsStripeLibrary(mine[0], params, "POST", "/v1/accounts");
  assertEquals(mine[0].idempotency_key, `buckets_connect_account_${artist.id}`);

  const [before] = await sql`select verification from treasury.wallets where user_id = ${artist.id}`;
  assertEquals(before.verification, "unverified");
  // The payee finishes onboarding at Stripe: account.updated verifies the wallet.
  await expectDelivered(await stripe.trigger("account.updated", { account: link.account_id, onboarded: true }));
  const [after] = await sql`select verification from treasury.wallets where user_id = ${artist.id}`;
  assertEquals(after.verification, "verified");
  return { artist, drop, account: link.account_id };
}

Deno.test("an artist onboards, earns from a sale and a tip, is paid out by the worker; every step balanced; receipts once", async () => {
  const { artist, drop, account } = await onboardedArtist();
  const fanAddress = `fan.${crypto.randomUUID().slice(0, 8)}@fans.example`;
  const fan = await newUser(sql, fanAddress);
  const { session: sale } = await buy(fan, { kind: "drop", product_id: drop.id, quantity: 1 }, { duplicates: 1 });
  const { session: tip } = await buy(fan, { kind: "tip", artist_id: artist.id, amount_minor: 1000, currency: "EUR" });
  const checkouts = await sql`select id, status from treasury.checkouts where id in ${sql([sale.checkout_id, tip.checkout_id])}`;
  assertEquals(checkouts.map((c) => c.status), ["completed", "completed"]);
  const earned = (4000 + 1000) * 0.7;
  assertEquals((await payeeBalances(sql, artist.id)).payable, earned);

  // The artist asks for everything; the queue opens the attempt; the worker sends it.
  await drainPayoutQueue(sql);
  const [{ payout }] = await asRole(sql, "authenticated", artist.id, (tx) =>
    tx`select (treasury.request_payout(${earned}::bigint, 'EUR')).id as payout`);
  await asRole(sql, "service_role", null, (tx) => tx`select treasury.process_payouts()`);
  assertEquals(await payoutState(payout), "processing");
  const run = await runWorker("payout-worker");
  assertEquals(run.status, 200, JSON.stringify(run.body));
  const calls = await stripeCallsFor(payout);
  assertEquals([calls.transfers.length, calls.payouts.length], [1, 1], JSON.stringify(run.body));
  const t = calls.transfers[0].params as Form;
  const transfer: Stripe.TransferCreateParams = {
    amount: earned,
    currency: "eur",
    destination: account,
    transfer_group: t.transfer_group,
    metadata: t.metadata,
  };
  await expectSameAsStripeLibrary(calls.transfers[0], transfer, "POST", "/v1/transfers");
  const po = calls.payouts[0].params as Form;
  const payoutParams: Stripe.PayoutCreateParams = { amount: earned, currency: "eur", metadata: po.metadata };
  await expectSameAsStripeLibrary(calls.payouts[0], payoutParams, "POST", "/v1/payouts", { stripeAccount: account });
  assertEquals(calls.payouts[0].stripe_account, account);
  assertEquals(calls.transfers[0].idempotency_key, `buckets_payout_${payout}_1_transfer`);

  // A second run finds nothing to do; the bank pays: payout.paid.
  await runWorker("payout-worker");
  assertEquals((await stripeCallsFor(payout)).transfers.length, 1);
  const [attempt] = await sql`select stripe_payout_id from treasury.payout_attempts where payout_id = ${payout}`;
  await expectDelivered(await stripe.trigger("payout.paid", { payout: attempt.stripe_payout_id, duplicates: 1 }));
  assertEquals(await payoutState(payout), "paid");
  assertEquals((await payeeBalances(sql, artist.id)).payable, 0);
  assertEquals(await addedViolations(sql, violationsBefore), [], "check_invariants and check_payout_invariants");

  // Receipts: the fan's two payments, the artist's payout; each sent once, however often the sender runs.
  await drainOutbox(sql);
  const again = await runWorker("receipts-sender");
  assertEquals([again.status, again.body.sent], [200, 0], JSON.stringify(again.body));
  const toFan = await resend.emails(fanAddress);
  assertEquals(toFan.length, 2, toFan.map((m) => m.subject).join(" | "));
  const texts = toFan.map((m) => m.text ?? "").join("\n");
  assert(texts.includes("40.00") && texts.includes("10.00"), texts);
  const [{ email }] = await sql`select email from auth.users where id = ${artist.id}`;
  const toArtist = await resend.emails(email);
  assertEquals(toArtist.length, 1, toArtist.map((m) => m.subject).join(" | "));
  const rows = await sql`select kind, status from treasury.outbox where recipient_id in ${sql([fan.id, artist.id])} order by kind`;
  assertEquals(rows.map((r) => `${r.kind} ${r.status}`), ["payment_receipt sent", "payment_receipt sent", "payout_sent sent"]);
});

Deno.test("a worker that dies between Stripe's answer and our commit pays nothing twice", async () => {
  const { artist, drop } = await onboardedArtist();
  const fan = await newUser(sql);
  await buy(fan, { kind: "drop", product_id: drop.id, quantity: 1 });
  await drainPayoutQueue(sql);
  const [{ payout }] = await asRole(sql, "authenticated", artist.id, (tx) =>
    tx`select (treasury.request_payout(2800, 'EUR')).id as payout`);
  await asRole(sql, "service_role", null, (tx) => tx`select treasury.process_payouts()`);

  // While the worker runs, the ledger's EUR lock is held elsewhere: Stripe's transfer and payout are
  // made, then the statement that records them waits and times out, as if the worker died before
  // its commit.
  const blocker = db(1);
  let release!: () => void;
  let holding!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const taken = new Promise<void>((r) => (holding = r));
  const locked = blocker.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(hashtextextended('treasury.ledger:EUR', 0))`;
    holding();
    await held;
  });
  await taken;
  const crashed = await runWorker("payout-worker");
  release();
  await locked;
  await blocker.end();
  assert(crashed.status >= 500, `the run that could not commit fails: ${crashed.status} ${JSON.stringify(crashed.body)}`);
  const first = await stripeCallsFor(payout);
  assertEquals([first.transfers.length, first.payouts.length], [1, 1]);
  const [stuck] = await sql`select stripe_payout_id, transfer_id from treasury.payout_attempts where payout_id = ${payout}`;
  assertEquals([stuck.stripe_payout_id, stuck.transfer_id], [null, null], "nothing of Stripe's answer was committed");

  // The lease of the dead run ends (5 minutes on the clock; here, now) and the next run repeats the
  // same calls under the same keys: Stripe answers them with what it made the first time.
  await sql`update treasury.payout_attempts set leased_until = now() where payout_id = ${payout}`;
  const rerun = await runWorker("payout-worker");
  assertEquals(rerun.status, 200, JSON.stringify(rerun.body));
  const second = await stripeCallsFor(payout);
  assertEquals([second.transfers.length, second.payouts.length], [2, 2]);
  assertEquals(second.transfers[1].idempotency_key, second.transfers[0].idempotency_key);
  assertEquals(second.payouts[1].idempotency_key, second.payouts[0].idempotency_key);
  assertEquals([second.transfers[1].replayed, second.payouts[1].replayed], [true, true], "Stripe made each once");
  const [done] = await sql`select stripe_payout_id, transfer_id from treasury.payout_attempts where payout_id = ${payout}`;
  assert(done.stripe_payout_id && done.transfer_id, JSON.stringify(done));
  await expectDelivered(await stripe.trigger("payout.paid", { payout: done.stripe_payout_id }));
  assertEquals(await payoutState(payout), "paid");
  assertEquals(await addedViolations(sql, violationsBefore), []);
});

Deno.test("the workers answer only the service role", async () => {
  const user = await newUser(sql);
  for (const fn of ["payout-worker", "receipts-sender"]) {
    const asUser = await callFunction(fn, {}, { token: user.token });
    assertEquals(asUser.status, 403, `${fn}: ${JSON.stringify(asUser.body)}`);
    const anonymous = await callFunction(fn, {}, {});
    assertEquals(anonymous.status, 401, `${fn}: ${JSON.stringify(anonymous.body)}`);
  }
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
