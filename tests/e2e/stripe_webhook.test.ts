// stripe-webhook over real HTTP: events built as Stripe sends them, signed with
// the official `stripe` library, through the gateway to the WASM function and
// treasury.receive_stripe_event; then checked in the database (payments, split
// lines, ledger, balances, Passport, the event and rejection records).
import { assert, assertEquals } from "../lib/assert.ts";
import { db, newUser } from "../lib/stack.ts";
import {
  chargeRefunded,
  checkoutSessionCompleted,
  deliver,
  disputeClosed,
  disputeCreated,
  event,
  addedViolations,
  violationLines,
  newProduct,
  nowSeconds,
  payeeBalances,
  paymentIntentSucceeded,
  payloadOf,
  post,
  type Product,
  sale,
  type Sale,
  sha256Hex,
  signatureHeader,
  stripeId,
  WEBHOOK_URL,
} from "../lib/stripe.ts";

const sql = db(30);

// ---------------------------------------------------------------------------
// Reading what the database holds

async function eventRow(id: string) {
  const [row] = await sql`select status, note, type, payload, attempts, outcome from treasury.stripe_events where event_id = ${id}`;
  return row;
}

async function paymentRow(pi: string) {
  const [row] = await sql`select * from treasury.payments where id = ${pi}`;
  return row;
}

/** Σ of the split lines per party index (1 artist, 2 host, 3 platform), by reason. */
async function splitTotals(pi: string) {
  const rows = await sql`
    select reason, party_index, sum(amount_minor)::bigint as total, count(*)::int as lines
      from public.treasury_splits where payment_id = ${pi} group by reason, party_index order by reason, party_index`;
  const by: Record<string, number[]> = {};
  for (const r of rows) (by[r.reason] ??= [])[r.party_index - 1] = Number(r.total);
  return by;
}

/** What each party holds of the payment now: Σ of all its lines. */
async function holdings(pi: string): Promise<number[]> {
  const rows = await sql`
    select party_index, sum(amount_minor)::bigint as total from public.treasury_splits
     where payment_id = ${pi} group by party_index order by party_index`;
  return rows.map((r) => Number(r.total));
}

async function ledgerTransactions(pi: string) {
  return await sql`
    select t.kind, t.reference, sum(l.amount)::bigint as net, count(*)::int as postings
      from treasury.ledger_transactions as t join public.treasury_ledger as l on l.txn_id = t.id
     where t.reference = ${pi} or t.reference like ${pi + ":%"} or t.reference in (select d.id from treasury.disputes as d where d.payment_id = ${pi})
        or t.reference like any (select d.id || ':%' from treasury.disputes as d where d.payment_id = ${pi})
     group by t.id, t.kind, t.reference order by t.id`;
}

async function treasuryPassport(user: string) {
  return await sql`
    select kind, client_event_id, artist_id, payload from public.passport_entries
     where user_id = ${user} and source = 'treasury' order by id`;
}

/** The rejection rows whose newest request had this body: requests are aggregated (by code and address when
 * unsigned, by body when signed), and a row's detail is its newest request's. */
async function rejectionFor(body: string) {
  return await sql`
    select code, message, detail, hits::int as hits, signed, source from treasury.webhook_rejections
     where detail ->> 'body_sha256' = ${await sha256Hex(body)}`;
}

async function platformRevenue(currency = "EUR"): Promise<number> {
  const [r] = await sql`select coalesce(sum(normal_balance), 0)::bigint as v from treasury.balances
                         where owner_id is null and purpose = 'platform_revenue' and currency = ${currency}`;
  return Number(r.v);
}

// What the ledger's invariants flag before these tests (another test may leave a payee below zero on
// purpose); these tests must add nothing.
const violationsBefore = await violationLines(sql);

async function assertNoViolations() {
  assertEquals(await addedViolations(sql, violationsBefore), []);
}

function assertApplied(res: { status: number; body: any }, note?: string) {
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assertEquals(res.body.received, true, JSON.stringify(res.body));
  assertEquals(res.body.status, "applied", JSON.stringify(res.body));
  if (note !== undefined) assertEquals(res.body.note, note, JSON.stringify(res.body));
}

async function world(bp?: [number, number, number]): Promise<{ product: Product; buyer: string }> {
  const product = await newProduct(sql, { bp });
  const buyer = (await newUser(sql)).id;
  return { product, buyer };
}

// ---------------------------------------------------------------------------
// A good delivery is applied

Deno.test("a signed checkout.session.completed records the payment: split lines, ledger, payee balances, Passport", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 2501, { quantity: 2, eventId: crypto.randomUUID() });
  const evt = checkoutSessionCompleted(s);
  const res = await deliver(evt);
  // The 2xx says the event is stored; applying it shows on its row.
  assertEquals(res.answer, { received: true, status: "received", event_id: evt.id, type: "checkout.session.completed" });
  assertApplied(res);
  assertEquals(res.body.event_id, evt.id);
  assertEquals(res.body.payment_id, s.paymentIntent);

  const stored = await eventRow(evt.id);
  assertEquals([stored.status, stored.type], ["applied", "checkout.session.completed"]);
  assertEquals(stored.outcome, { status: "applied", payment_id: s.paymentIntent });
  assertEquals(stored.payload, evt); // kept exactly as received

  const pay = await paymentRow(s.paymentIntent);
  assertEquals(pay.checkout_session_id, s.session);
  assertEquals([pay.buyer_id, pay.artist_id, pay.host_id, pay.product_id], [buyer, product.artist, product.host, product.id]);
  assertEquals([Number(pay.amount_minor), pay.currency, pay.quantity, pay.event_id], [2501, "EUR", 2, s.metadata.event_id]);
  assertEquals(pay.shares_bp, [7000, 2000, 1000]);

  // 2501 × 70/20/10 = 1750.7 / 500.2 / 250.1: the leftover unit goes to the largest remainder, the artist.
  assertEquals(await splitTotals(s.paymentIntent), { payment: [1751, 500, 250] });

  // One balanced ledger transaction: Dr stripe_balance 2501, Cr payables and platform revenue.
  const txns = await ledgerTransactions(s.paymentIntent);
  assertEquals(txns.map((t: any) => [t.kind, Number(t.net), t.postings]), [["payment", 0, 4]]);
  const [{ debit }] = await sql`
    select l.amount as debit from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
     where l.reference = ${s.paymentIntent} and a.purpose = 'stripe_balance'`;
  assertEquals(Number(debit), 2501);
  assertEquals(await payeeBalances(sql, product.artist), { payable: 1751, held: 0 });
  assertEquals(await payeeBalances(sql, product.host), { payable: 500, held: 0 });

  // Passport, in the same transaction: the buyer spent, each payee earned (the platform logs nothing).
  const spent = await treasuryPassport(buyer);
  assertEquals(spent.map((e: any) => [e.kind, e.client_event_id, e.artist_id]), [
    ["treasury.money_spent", `stripe:${s.paymentIntent}:spent`, product.artist],
  ]);
  assertEquals(spent[0].payload, { payment_id: s.paymentIntent, amount_minor: 2501, currency: "EUR", product_type: "ticket" });
  for (const [user, role, amount] of [[product.artist, "artist", 1751], [product.host, "host", 500]] as const) {
    const earned = await treasuryPassport(user);
    assertEquals(earned.map((e: any) => [e.kind, e.artist_id, e.payload]), [
      ["treasury.money_earned", null, { payment_id: s.paymentIntent, amount_minor: amount, currency: "EUR", role }],
    ]);
  }
  await assertNoViolations();
});

Deno.test("payment_intent.succeeded alone records the payment, with its charge, and an expanded charge's fee", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 1000);
  const charge = {
    id: s.charge,
    object: "charge",
    amount: 1000,
    balance_transaction: { id: stripeId("txn"), object: "balance_transaction", amount: 1000, currency: "eur", fee: 39, net: 961 },
    currency: "eur",
    payment_intent: s.paymentIntent,
    status: "succeeded",
  };
  const res = await deliver(paymentIntentSucceeded(s, s.created, charge));
  assertApplied(res);
  const pay = await paymentRow(s.paymentIntent);
  assertEquals([pay.charge_id, Number(pay.fee_minor), pay.checkout_session_id], [s.charge, 39, null]);
  assertEquals(await splitTotals(s.paymentIntent), { payment: [700, 200, 100] });
  const txns = await ledgerTransactions(s.paymentIntent);
  assertEquals(txns.map((t: any) => [t.kind, Number(t.net)]), [["payment", 0], ["processing_fee", 0]]);
  await assertNoViolations();
});

Deno.test("while Stripe rolls the secret, a header with one v1 per secret is accepted when one of them matches", async () => {
  const { product, buyer } = await world();
  const evt = checkoutSessionCompleted(sale(product, buyer, 900));
  const payload = payloadOf(evt);
  const t = nowSeconds();
  const good = await signatureHeader(payload, { timestamp: t });
  const other = await signatureHeader(payload, { timestamp: t, secret: "whsec_the_previous_secret_rolled_out" });
  const header = `${other},${good.split(",")[1]},v0=${"0".repeat(64)}`;
  assertApplied(await post(payload, { header }));
  assertEquals((await eventRow(evt.id)).status, "applied");
});

// ---------------------------------------------------------------------------
// Refused deliveries: 400 with the code, one rejection row, nothing applied

async function assertRefused(
  payload: string,
  evt: { id: string },
  pi: string,
  opts: Parameters<typeof post>[1],
  code: string,
  detail: Record<string, unknown> = {},
) {
  const res = await post(payload, opts);
  assertEquals(res.status, 400, JSON.stringify(res.body));
  assertEquals(res.body.code, code, JSON.stringify(res.body));
  assertEquals(typeof res.body.message, "string");
  const rows = await rejectionFor(payload);
  assertEquals(rows.length, 1, `rejections for this body: ${JSON.stringify(rows)}`);
  assertEquals(rows[0].code, code);
  assertEquals(rows[0].message, res.body.message);
  assertEquals(rows[0].detail.body_bytes, new TextEncoder().encode(payload).length);
  for (const [k, v] of Object.entries(detail)) assertEquals(rows[0].detail[k], v, `detail.${k}: ${JSON.stringify(rows[0].detail)}`);
  assertEquals(await eventRow(evt.id), undefined, "the event must not be recorded");
  assertEquals(await paymentRow(pi), undefined, "nothing may be applied");
}

Deno.test("a wrong secret is refused: 400 signature_mismatch, logged, nothing applied", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 1500);
  const evt = checkoutSessionCompleted(s);
  await assertRefused(payloadOf(evt), evt, s.paymentIntent, { secret: "whsec_someone_elses_endpoint_secret" }, "signature_mismatch", {
    signature_header: true,
    event_id: evt.id,
  });
});

Deno.test("a stale or future timestamp is refused: 400 stale_timestamp, logged, nothing applied", async () => {
  const { product, buyer } = await world();
  for (const offset of [-3600, -301 - 5, +3600]) {
    const s = sale(product, buyer, 1500);
    const evt = checkoutSessionCompleted(s);
    const t = nowSeconds() + offset;
    await assertRefused(payloadOf(evt), evt, s.paymentIntent, { timestamp: t }, "stale_timestamp", { timestamp: t, event_id: evt.id });
    const [r] = await rejectionFor(payloadOf(evt));
    assert(Math.abs(r.detail.age_s + offset) <= 5, `age_s ${r.detail.age_s} for an offset of ${offset}`);
  }
});

Deno.test("a tampered body is refused: 400 signature_mismatch, logged, nothing applied", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 1500);
  const evt = checkoutSessionCompleted(s);
  const header = await signatureHeader(payloadOf(evt));
  // Somebody raises the amount in flight; the signature is the original's.
  const tampered = payloadOf({ ...evt, data: { object: { ...evt.data.object, amount_total: 150 } } });
  await assertRefused(tampered, evt, s.paymentIntent, { header }, "signature_mismatch", { event_id: evt.id });
  // One byte of whitespace is enough.
  const s2 = sale(product, buyer, 1500);
  const evt2 = checkoutSessionCompleted(s2);
  const header2 = await signatureHeader(payloadOf(evt2));
  await assertRefused(payloadOf(evt2) + "\n", evt2, s2.paymentIntent, { header: header2 }, "signature_mismatch");
});

Deno.test("a missing or malformed Stripe-Signature header is refused: 400, the right code, logged, nothing applied", async () => {
  const { product, buyer } = await world();
  const t = nowSeconds();
  const hex = "ab".repeat(32);
  const cases: [string | null, string][] = [
    [null, "missing_signature"],
    ["", "missing_signature"],
    ["garbage", "malformed_signature"],
    [`t=${t}`, "malformed_signature"],
    [`v1=${hex}`, "malformed_signature"],
    [`t=abc,v1=${hex}`, "malformed_signature"],
    [`t=${t},v1=xyz`, "malformed_signature"],
    [`t=${t},t=${t},v1=${hex}`, "malformed_signature"],
    [`t=${t},v0=${hex}`, "malformed_signature"],
    [`t=${t},v1=${hex}`, "signature_mismatch"],
  ];
  for (const [header, code] of cases) {
    const s = sale(product, buyer, 700);
    const evt = checkoutSessionCompleted(s);
    await assertRefused(payloadOf(evt), evt, s.paymentIntent, { header }, code, { signature_header: header !== null });
  }
});

Deno.test("signed but not a Stripe event: 400 invalid_json / invalid_event, logged, nothing recorded", async () => {
  const suffix = crypto.randomUUID();
  for (const [payload, code] of [[`{not json ${suffix}`, "invalid_json"], [`{"id":"evt_${suffix}","type":"charge.refunded"}`, "invalid_event"]]) {
    const res = await post(payload);
    assertEquals([res.status, res.body.code], [400, code], JSON.stringify(res.body));
    const rows = await rejectionFor(payload);
    assertEquals(rows.map((r: any) => r.code), [code]);
    assertEquals(rows[0].detail.signature_header, true);
  }
});

Deno.test("a flood of unsigned probes from one address is one row with its count; signed deliveries keep rows of their own", async () => {
  // An address of the benchmarking range, fresh for this run; the gateway appends the peer it saw after it.
  const address = `198.18.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}`;
  const probes = async () =>
    await sql`select hits::int as hits, jsonb_array_length(samples) as samples from treasury.webhook_rejections
               where code = 'missing_signature' and not signed and source = ${address}`;
  const before = (await probes())[0]?.hits ?? 0;
  const answers = await Promise.all(Array.from({ length: 40 }, async (_, i) => {
    const res = await fetch(WEBHOOK_URL, {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": address },
      body: JSON.stringify({ id: `evt_probe_${i}`, type: "charge.refunded" }),
    });
    return [res.status, (await res.json()).code];
  }));
  assertEquals(answers, Array(40).fill([400, "missing_signature"]));
  const rows = await probes();
  assertEquals(rows.length, 1, JSON.stringify(rows));
  assertEquals(rows[0].hits, before + 40);
  assert(rows[0].samples <= 5, `at most five samples: ${rows[0].samples}`);

  // Two signed bodies that are not events: a row each, with Stripe's signature noted.
  const suffix = crypto.randomUUID();
  for (const payload of [`not json ${suffix}`, `still not json ${suffix}`]) {
    assertEquals((await post(payload)).body.code, "invalid_json");
    const signed = await rejectionFor(payload);
    assertEquals(signed.map((r: any) => [r.code, r.signed, r.hits]), [["invalid_json", true, 1]]);
  }
});

Deno.test("an event id longer than 255 characters: 400 invalid_event, logged, never a 500", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 1500);
  const evt = { ...checkoutSessionCompleted(s), id: stripeId("evt") + "x".repeat(256) };
  for (let delivery = 0; delivery < 2; delivery++) {
    const res = await post(payloadOf(evt));
    assertEquals([res.status, res.body.code], [400, "invalid_event"], JSON.stringify(res.body));
    assert(!JSON.stringify(res.body).includes("char_length"), "no database text in the answer");
  }
  const rows = await rejectionFor(payloadOf(evt));
  assertEquals(rows.map((r: any) => [r.code, r.detail.event_id, r.hits, r.signed]), [["invalid_event", null, 2, true]],
    "a signed delivery and its redelivery are one row");
  assertEquals(await paymentRow(s.paymentIntent), undefined, "nothing is applied");
});

Deno.test("an event of the other Stripe mode: 400 livemode_mismatch, logged, nothing recorded or booked", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 1500);
  const evt = { ...checkoutSessionCompleted(s), livemode: true };
  // The local stack runs in test mode (STRIPE_LIVEMODE unset).
  await assertRefused(payloadOf(evt), evt, s.paymentIntent, {}, "livemode_mismatch", { event_id: evt.id, signature_header: true });
  assertApplied(await deliver(checkoutSessionCompleted(s)), undefined);
});

// ---------------------------------------------------------------------------
// Events the database could not store as sent are recorded and applied

Deno.test("U+0000 in a signed event's text: recorded with U+FFFD, the raw body's hash kept, the payment applied", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 2500);
  const evt = checkoutSessionCompleted(s);
  evt.data.object.customer_details.name = "A\u0000Fan";
  evt.data.object["gift\u0000note"] = "for\u0000you";
  const payload = payloadOf(evt);
  assert(payload.includes("\\u0000"), "the body carries \\u0000 as Stripe would send it");
  for (let delivery = 0; delivery < 2; delivery++) {
    const res = await deliver(evt);
    assertEquals(res.status, 200, JSON.stringify(res.body));
    assertEquals(res.body.status, delivery === 0 ? "applied" : "duplicate", JSON.stringify(res.body));
  }
  const [row] = await sql`select status, payload, body_sha256 from treasury.stripe_events where event_id = ${evt.id}`;
  assertEquals(row.status, "applied");
  assertEquals(row.payload.data.object.customer_details.name, "A\uFFFDFan");
  assertEquals(row.payload.data.object["gift\uFFFDnote"], "for\uFFFDyou");
  assertEquals(row.body_sha256, await sha256Hex(payload));
  const p = await paymentRow(s.paymentIntent);
  assertEquals([Number(p.amount_minor), p.buyer_id], [2500, buyer]);
  await assertNoViolations();
});

Deno.test("an event without created is recorded and applied, as created when received", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 1800);
  const { created: _created, ...evt } = checkoutSessionCompleted(s);
  const before = Date.now();
  const res = await post(payloadOf(evt));
  assertApplied(res);
  const [row] = await sql`select stripe_created from treasury.stripe_events where event_id = ${evt.id}`;
  const at = new Date(row.stripe_created).getTime();
  assert(at >= before - 5000 && at <= Date.now() + 5000, `stripe_created ${row.stripe_created}`);
  assertEquals(Number((await paymentRow(s.paymentIntent)).amount_minor), 1800);
});

// ---------------------------------------------------------------------------
// Exactly once

async function assertOnePayment(s: Sale, buyer: string) {
  const [{ n }] = await sql`select count(*)::int as n from treasury.payments where id = ${s.paymentIntent}`;
  assertEquals(n, 1);
  const txns = await ledgerTransactions(s.paymentIntent);
  assertEquals(txns.filter((t: any) => t.kind === "payment").length, 1);
  const [{ lines }] = await sql`select count(*)::int as lines from public.treasury_splits where payment_id = ${s.paymentIntent}`;
  assertEquals(lines, 3);
  const spent = (await treasuryPassport(buyer)).filter((e: any) => e.payload.payment_id === s.paymentIntent);
  assertEquals(spent.length, 1);
}

Deno.test("a redelivery is answered 200 duplicate and applied once", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 3000);
  const evt = checkoutSessionCompleted(s);
  assertApplied(await deliver(evt));
  // Stripe retries with the same body and a fresh signature.
  for (let i = 0; i < 2; i++) {
    const again = await deliver(evt);
    assertEquals(again.status, 200, JSON.stringify(again.body));
    assertEquals([again.body.status, again.body.event_id, again.body.recorded_status], ["duplicate", evt.id, "applied"]);
  }
  await assertOnePayment(s, buyer);
  assertEquals(await payeeBalances(sql, product.artist), { payable: 2100, held: 0 });
  assertEquals((await eventRow(evt.id)).attempts, 1);
});

Deno.test("20 concurrent deliveries of one event: exactly one is applied, 19 are duplicates", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 4999);
  const evt = checkoutSessionCompleted(s);
  const payload = payloadOf(evt);
  const header = await signatureHeader(payload);
  const answers = await Promise.all(Array.from({ length: 20 }, () => post(payload, { header })));
  assert(answers.every((a) => a.status === 200), JSON.stringify(answers.map((a) => [a.status, a.body])));
  const statuses = answers.map((a) => a.body.status).sort();
  assertEquals(statuses, ["applied", ...Array(19).fill("duplicate")]);
  await assertOnePayment(s, buyer);
  assertEquals(await splitTotals(s.paymentIntent), { payment: [3499, 1000, 500] });
  await assertNoViolations();
});

Deno.test("checkout.session.completed and payment_intent.succeeded of one PaymentIntent make one payment, in either order or at once", async () => {
  const { product, buyer } = await world();
  // Session first, then the PaymentIntent: the second completes the first with the charge id.
  const a = sale(product, buyer, 1200);
  assertApplied(await deliver(checkoutSessionCompleted(a)));
  const second = await deliver(paymentIntentSucceeded(a));
  assertApplied(second, "already_recorded");
  assertEquals(second.body.payment_id, a.paymentIntent);
  await assertOnePayment(a, buyer);
  const payA = await paymentRow(a.paymentIntent);
  assertEquals([payA.checkout_session_id, payA.charge_id], [a.session, a.charge]);

  // The PaymentIntent first, then the session.
  const b = sale(product, buyer, 1300);
  assertApplied(await deliver(paymentIntentSucceeded(b)));
  assertApplied(await deliver(checkoutSessionCompleted(b)), "already_recorded");
  await assertOnePayment(b, buyer);
  assertEquals((await paymentRow(b.paymentIntent)).checkout_session_id, b.session);

  // Both at the same moment, five times over.
  const both = Array.from({ length: 5 }, () => sale(product, buyer, 1400));
  const answers = await Promise.all(both.flatMap((s) => [deliver(checkoutSessionCompleted(s)), deliver(paymentIntentSucceeded(s))]));
  for (let i = 0; i < both.length; i++) {
    const pair = [answers[2 * i], answers[2 * i + 1]];
    pair.forEach((r) => assertApplied(r));
    assertEquals(pair.filter((r) => r.body.note === "already_recorded").length, 1, JSON.stringify(pair.map((r) => r.body)));
    await assertOnePayment(both[i], buyer);
  }
  assertEquals(await payeeBalances(sql, product.artist), { payable: (7 * (1200 + 1300 + 5 * 1400)) / 10, held: 0 });
  await assertNoViolations();
});

// ---------------------------------------------------------------------------
// Out of order

/** A payment of 10,000 whose refund (2,500, Stripe time t+30) and dispute (3,000, t+60) arrive first, dispute first. */
async function earlyRefundAndDispute() {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 10_000, { created: nowSeconds() - 120 });
  const refund = chargeRefunded(s, 2500, s.created + 30);
  const opened = disputeCreated(s, stripeId("dp"), 3000, s.created + 60);
  for (const early of [opened, refund]) {
    const res = await deliver(early);
    assertEquals([res.status, res.body.status], [200, "deferred"], JSON.stringify(res.body));
    assertEquals((await eventRow(early.id)).status, "deferred");
  }
  assertEquals(await paymentRow(s.paymentIntent), undefined);
  const [{ n }] = await sql`select count(*)::int as n from treasury.stripe_event_problems where payment_intent_id = ${s.paymentIntent}`;
  assertEquals(n, 2);
  return { product, buyer, s, refund, opened };
}

Deno.test("a refund and a dispute that arrive before their payment are kept, then applied when it arrives", async () => {
  const { product, buyer, s, refund, opened } = await earlyRefundAndDispute();
  assertApplied(await deliver(checkoutSessionCompleted(s, s.created)));
  assertEquals((await eventRow(refund.id)).status, "applied");
  assertEquals((await eventRow(opened.id)).status, "applied");

  const p = await paymentRow(s.paymentIntent);
  assertEquals([Number(p.refunded_minor), p.dispute_state, p.charge_id], [2500, "open", s.charge]);
  assertEquals(await splitTotals(s.paymentIntent), { payment: [7000, 2000, 1000], refund: [-1750, -500, -250] });
  // The refund (t+30) came before the dispute (t+60) in Stripe's order, so the dispute holds its 3000 of what
  // was left (7500): artist 2100, host 600, platform 300.
  const [d] = await sql`select hold_lines from treasury.disputes where id = ${opened.data.object.id}`;
  assertEquals(d.hold_lines.map(Number), [2100, 600, 300]);
  assertEquals(await payeeBalances(sql, product.artist), { payable: 5250 - 2100, held: 2100 });
  assertEquals(await payeeBalances(sql, product.host), { payable: 1500 - 600, held: 600 });
  assertEquals((await treasuryPassport(buyer)).map((e: any) => e.kind), ["treasury.money_spent", "treasury.refund"]);

  // A redelivery of the early refund changes nothing.
  assertEquals((await deliver(refund)).body.status, "duplicate");
  assertEquals(Number((await paymentRow(s.paymentIntent)).refunded_minor), 2500);
  await assertNoViolations();
});

Deno.test("the payment's answer lists the deferred events it applied, in Stripe's order, each applied once", async () => {
  const { s, refund, opened } = await earlyRefundAndDispute();
  const res = await deliver(checkoutSessionCompleted(s, s.created));
  assertApplied(res);
  assertEquals(res.body.deferred_events, [
    { event_id: refund.id, status: "applied" },
    { event_id: opened.id, status: "applied" },
  ]);
  for (const e of [refund, opened]) {
    const row = await eventRow(e.id);
    assertEquals([row.status, row.note ?? null, row.attempts], ["applied", null, 2], `${e.type}: ${JSON.stringify(row)}`);
  }
});

Deno.test("out of order refunds: an older cumulative total after a newer one is already recorded", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 5000);
  assertApplied(await deliver(paymentIntentSucceeded(s)));
  const first = chargeRefunded(s, 1000);
  const second = chargeRefunded(s, 1500); // cumulative 2500
  assertApplied(await deliver(second));
  assertApplied(await deliver(first), "already_recorded");
  assertEquals(Number((await paymentRow(s.paymentIntent)).refunded_minor), 2500);
  assertEquals(await holdings(s.paymentIntent), [1750, 500, 250]);
  await assertNoViolations();
});

// ---------------------------------------------------------------------------
// Refunds and disputes

Deno.test("a partial then a full refund leave every party of the payment at exactly zero", async () => {
  const { product, buyer } = await world([3333, 3333, 3334]);
  const s = sale(product, buyer, 1001);
  const revenueBefore = await platformRevenue();
  assertApplied(await deliver(checkoutSessionCompleted(s)));
  assertEquals(await holdings(s.paymentIntent), [334, 333, 334]);

  const partial = await deliver(chargeRefunded(s, 333));
  assertApplied(partial);
  assertEquals(partial.body.refunded_minor, 333);
  // Each party holds the split of what is left (668): 222.6444, 222.6444, 222.7112.
  assertEquals(await holdings(s.paymentIntent), [223, 222, 223]);

  const full = await deliver(chargeRefunded(s, 668));
  assertApplied(full);
  assertEquals(full.body.refunded_minor, 1001);
  assertEquals(await holdings(s.paymentIntent), [0, 0, 0]);
  const totals = await splitTotals(s.paymentIntent);
  assertEquals(totals.payment.reduce((a, b) => a + b, 0), 1001);
  assertEquals(totals.refund.reduce((a, b) => a + b, 0), -1001);
  assertEquals(await payeeBalances(sql, product.artist), { payable: 0, held: 0 });
  assertEquals(await payeeBalances(sql, product.host), { payable: 0, held: 0 });
  assertEquals(await platformRevenue(), revenueBefore);
  const p = await paymentRow(s.paymentIntent);
  assertEquals(Number(p.refunded_minor), 1001);
  // Two refund transactions, each balanced; the buyer's Passport has both refunds.
  const txns = await ledgerTransactions(s.paymentIntent);
  assertEquals(txns.map((t: any) => [t.kind, t.reference, Number(t.net)]), [
    ["payment", s.paymentIntent, 0],
    ["refund", `${s.paymentIntent}:refunded:333`, 0],
    ["refund", `${s.paymentIntent}:refunded:1001`, 0],
  ]);
  const refunds = (await treasuryPassport(buyer)).filter((e: any) => e.kind === "treasury.refund");
  assertEquals(refunds.map((e: any) => e.payload.amount_minor), [333, 668]);
  await assertNoViolations();
});

Deno.test("a lost dispute holds the shares, then writes them off: payees keep the split of what is left", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 8000);
  assertApplied(await deliver(checkoutSessionCompleted(s)));
  const dp = stripeId("dp");
  const opened = await deliver(disputeCreated(s, dp, 8000));
  assertApplied(opened);
  assertEquals(opened.body.dispute_id, dp);
  assertEquals(await payeeBalances(sql, product.artist), { payable: 0, held: 5600 });
  assertEquals(await payeeBalances(sql, product.host), { payable: 0, held: 1600 });
  const [d] = await sql`select outcome, hold_lines, fee_minor from treasury.disputes where id = ${dp}`;
  assertEquals([d.outcome, d.hold_lines.map(Number), Number(d.fee_minor)], [null, [5600, 1600, 800], 1500]);

  const closed = await deliver(disputeClosed(s, dp, 8000, "lost"));
  assertApplied(closed);
  assertEquals(await payeeBalances(sql, product.artist), { payable: 0, held: 0 });
  assertEquals(await payeeBalances(sql, product.host), { payable: 0, held: 0 });
  const p = await paymentRow(s.paymentIntent);
  assertEquals([p.dispute_state, Number(p.dispute_lost_minor)], ["lost", 8000]);
  assertEquals(await splitTotals(s.paymentIntent), { dispute: [-5600, -1600, -800], payment: [5600, 1600, 800] });
  assertEquals(await holdings(s.paymentIntent), [0, 0, 0]);
  const lost = (await treasuryPassport(buyer)).filter((e: any) => e.kind === "treasury.refund");
  assertEquals(lost.map((e: any) => [e.client_event_id, e.payload.amount_minor]), [[`stripe:${dp}:lost`, 8000]]);
  // A second closed event changes nothing.
  assertApplied(await deliver(disputeClosed(s, dp, 8000, "lost")), "already_recorded");
  await assertNoViolations();
});

Deno.test("a won dispute releases exactly what it held, and the returned fee is reversed", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 6000);
  assertApplied(await deliver(paymentIntentSucceeded(s)));
  assertApplied(await deliver(chargeRefunded(s, 1000)));
  const before = [await payeeBalances(sql, product.artist), await payeeBalances(sql, product.host)];
  assertEquals(before, [{ payable: 3500, held: 0 }, { payable: 1000, held: 0 }]);

  const dp = stripeId("dp");
  assertApplied(await deliver(disputeCreated(s, dp, 2000)));
  assertEquals(await payeeBalances(sql, product.artist), { payable: 2100, held: 1400 });
  assertApplied(await deliver(disputeClosed(s, dp, 2000, "won")));
  assertEquals([await payeeBalances(sql, product.artist), await payeeBalances(sql, product.host)], before);
  const p = await paymentRow(s.paymentIntent);
  assertEquals([p.dispute_state, Number(p.dispute_lost_minor)], ["won", 0]);
  const [d] = await sql`select outcome, status, fee_minor from treasury.disputes where id = ${dp}`;
  assertEquals([d.outcome, d.status, Number(d.fee_minor)], ["won", "won", 0]);
  const txns = await ledgerTransactions(s.paymentIntent);
  assertEquals(txns.map((t: any) => t.kind), ["payment", "refund", "dispute_hold", "dispute_fee", "dispute_fee", "dispute_release"]);
  assertEquals((await splitTotals(s.paymentIntent)).dispute, undefined);
  await assertNoViolations();
});

Deno.test("a won dispute closed before it was created ends with no fee: the late, older created changes nothing", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 5000);
  assertApplied(await deliver(paymentIntentSucceeded(s)));
  const losses = async () => {
    const [r] = await sql`select coalesce(sum(normal_balance), 0)::bigint as v from treasury.balances
                           where owner_id is null and purpose = 'dispute_losses' and currency = 'EUR'`;
    return Number(r.v);
  };
  const dp = stripeId("dp");
  const t = nowSeconds();
  const created = disputeCreated(s, dp, 5000, t - 600);
  const closed = disputeClosed(s, dp, 5000, "won", t - 60);
  const lossesBefore = await losses();
  assertApplied(await deliver(closed));
  assertApplied(await deliver(created), "already_recorded");
  const [d] = await sql`select outcome, status, fee_minor from treasury.disputes where id = ${dp}`;
  assertEquals([d.outcome, d.status, Number(d.fee_minor)], ["won", "won", 0]);
  assertEquals(await losses(), lossesBefore, "no dispute fee is booked");
  assertEquals(await payeeBalances(sql, product.artist), { payable: 3500, held: 0 });
  await assertNoViolations();
});

// ---------------------------------------------------------------------------
// Everything else

Deno.test("an event type Treasury does not handle is answered 200 and recorded as ignored", async () => {
  const evt = event("customer.created", { id: stripeId("cus"), object: "customer", email: "fan@example.com", metadata: {} });
  const res = await deliver(evt);
  assertEquals([res.status, res.body.received, res.body.status], [200, true, "ignored"], JSON.stringify(res.body));
  assertEquals((await eventRow(evt.id)).status, "ignored");
  assertEquals((await deliver(evt)).body.status, "duplicate");
});

Deno.test("a payment whose metadata breaks the contract is answered 200 failed and shows for an operator", async () => {
  const { product, buyer } = await world();
  const s = sale(product, buyer, 1000);
  delete s.metadata.buyer_id;
  const evt = checkoutSessionCompleted(s);
  const res = await deliver(evt);
  assertEquals([res.status, res.body.status, res.body.note], [200, "failed", "metadata.buyer_id is required"]);
  const [row] = await sql`select status, note from treasury.stripe_event_problems where event_id = ${evt.id}`;
  assertEquals([row.status, row.note], ["failed", "metadata.buyer_id is required"]);
  assertEquals(await paymentRow(s.paymentIntent), undefined);
});

Deno.test("the ledger's invariants hold after everything above", async () => {
  await assertNoViolations();
  const [{ n }] = await sql`select count(*)::int as n from treasury.stripe_events where status = 'received'`;
  assertEquals(n, 0);
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });

