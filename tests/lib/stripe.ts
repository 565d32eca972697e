// Stripe as the webhook endpoint sees it, for the end-to-end tests, the demo and
// the benchmark: event objects shaped as Stripe sends them (the fields Treasury
// reads and the usual ones around them), signed with the official `stripe`
// library's test-header helper, delivered over HTTP through the gateway. Also
// the products and split rules they pay for, set up as the service role would.
import { asRole, db, env, FUNCTIONS_URL, type Sql, until } from "./stack.ts";
import {
  chargeObject,
  checkoutSession,
  deliveryHeaders,
  event,
  nowSeconds,
  payloadOf,
  paymentIntentObject,
  signPayload,
  type StripeEvent,
  stripeId,
  type StripeObject,
} from "../../local/stripe_objects.ts";

// The event shapes live in local/stripe_objects.ts, which the Stripe stand-in builds its events with too.
export { API_VERSION, event, nowSeconds, payloadOf, stripeId } from "../../local/stripe_objects.ts";
export type { StripeEvent, StripeObject } from "../../local/stripe_objects.ts";

export const WEBHOOK_URL = `${FUNCTIONS_URL}/stripe-webhook`;

/** A `Stripe-Signature` header from the official library (its async variant: Deno gets the Web Crypto build). */
export async function signatureHeader(payload: string, opts: { secret?: string; timestamp?: number } = {}) {
  return await signPayload(payload, opts.secret ?? env("STRIPE_WEBHOOK_SECRET"), opts.timestamp);
}

export interface Delivery {
  status: number;
  /** The webhook's answer; for a newly recorded event, merged with what applying it answered (its `outcome`). */
  // deno-lint-ignore no-explicit-any
  body: any;
  /** The webhook's answer as it came: for a new event `{"received": true, "status": "received", ...}`. */
  // deno-lint-ignore no-explicit-any
  answer: any;
  ms: number;
}

/**
 * Waits, as the app would, until the batch applier has applied each event (its row in
 * treasury.stripe_events is no longer `received`), and answers each event's outcome by id.
 */
// deno-lint-ignore no-explicit-any
export async function untilApplied(eventIds: string[], sql?: Sql): Promise<Map<string, any>> {
  const own = sql ? undefined : db(1);
  const client = sql ?? own!;
  try {
    return await until(`Stripe events ${eventIds.join(", ")} applied`, async () => {
      const rows = await client`select event_id, status, outcome from treasury.stripe_events where event_id = any(${eventIds})`;
      if (rows.length < new Set(eventIds).size || rows.some((r) => r.status === "received")) return undefined;
      return new Map(rows.map((r) => [r.event_id as string, r.outcome ?? { status: r.status }]));
    });
  } finally {
    await own?.end();
  }
}

/**
 * POSTs a body to the webhook as Stripe does. `header` overrides the signature
 * (null: none at all); otherwise the body is signed now (or at `timestamp`) with
 * `secret` (default: the endpoint's). A newly recorded event is waited for until
 * it is applied (`wait: false`: not), and `body` carries what applying it answered.
 */
export async function post(
  payload: string,
  opts: { header?: string | null; secret?: string; timestamp?: number; wait?: boolean } = {},
): Promise<Delivery> {
  const header = opts.header === undefined ? await signatureHeader(payload, opts) : opts.header;
  const headers = deliveryHeaders(header);
  const t0 = performance.now();
  const res = await fetch(WEBHOOK_URL, { method: "POST", headers, body: payload });
  const text = await res.text();
  const ms = performance.now() - t0;
  // deno-lint-ignore no-explicit-any
  let answer: any = text;
  try {
    answer = text ? JSON.parse(text) : null;
  } catch {
    // Left as text: the assertion that reads it will say what came back.
  }
  let body = answer;
  if (res.status === 200 && answer?.status === "received" && opts.wait !== false) {
    const outcome = (await untilApplied([answer.event_id])).get(answer.event_id);
    body = { ...answer, ...outcome };
  }
  return { status: res.status, body, answer, ms };
}

/** Signs and delivers one event. */
export const deliver = (e: StripeEvent, opts: { secret?: string; timestamp?: number } = {}) => post(payloadOf(e), opts);

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// ---------------------------------------------------------------------------
// One purchase and the Stripe objects around it

export interface Sale {
  paymentIntent: string;
  charge: string;
  session: string;
  customer: string;
  amount: number;
  currency: string; // Stripe's: lower case
  metadata: Record<string, string>;
  created: number;
  refunds: StripeObject[];
}

/** A purchase of `product` by `buyer`: the metadata contract of docs/treasury-webhook.md. */
export function sale(
  product: { id: string; artist: string },
  buyer: string,
  amount: number,
  opts: { quantity?: number; currency?: string; created?: number; eventId?: string; tierId?: string } = {},
): Sale {
  const metadata: Record<string, string> = {
    product_id: product.id,
    buyer_id: buyer,
    quantity: String(opts.quantity ?? 1),
    artist_id: product.artist,
  };
  if (opts.eventId) metadata.event_id = opts.eventId;
  if (opts.tierId) metadata.tier_id = opts.tierId;
  return {
    paymentIntent: stripeId("pi"),
    charge: stripeId("ch"),
    session: stripeId("cs_test"),
    customer: stripeId("cus"),
    amount,
    currency: opts.currency ?? "eur",
    metadata,
    created: opts.created ?? nowSeconds(),
    refunds: [],
  };
}

export function checkoutSessionCompleted(s: Sale, created = s.created): StripeEvent {
  return event(
    "checkout.session.completed",
    checkoutSession({
      id: s.session,
      mode: "payment",
      amount_subtotal: s.amount,
      amount_total: s.amount,
      cancel_url: "https://buckets.example/checkout/cancel",
      client_reference_id: s.metadata.buyer_id,
      created: s.created - 40,
      currency: s.currency,
      customer: s.customer,
      customer_details: {
        address: null,
        business_name: null,
        email: `fan.${s.customer.slice(4, 12).toLowerCase()}@fans.example`,
        individual_name: null,
        name: "A Fan",
        phone: null,
        tax_exempt: "none",
        tax_ids: [],
      },
      expires_at: s.created + 86_400,
      metadata: s.metadata,
      payment_intent: s.paymentIntent,
      payment_status: "paid",
      status: "complete",
      success_url: "https://buckets.example/checkout/success?session_id={CHECKOUT_SESSION_ID}",
    }),
    created,
  );
}

/** `latestCharge`: the charge id, as webhooks send it; an object to carry an expanded charge (and its fee). */
export function paymentIntentSucceeded(s: Sale, created = s.created, latestCharge?: StripeObject): StripeEvent {
  return event("payment_intent.succeeded", paymentIntentObject(s, latestCharge), created);
}

/** The charge after a refund of `amount` (Stripe's amount_refunded is the cumulative total). */
export function chargeRefunded(s: Sale, amount: number, created = nowSeconds()): StripeEvent {
  const refund = {
    id: stripeId("re"),
    object: "refund",
    amount,
    balance_transaction: stripeId("txn"),
    charge: s.charge,
    created,
    currency: s.currency,
    payment_intent: s.paymentIntent,
    reason: "requested_by_customer",
    status: "succeeded",
  };
  s.refunds = [refund, ...s.refunds];
  return event("charge.refunded", chargeObject(s, s.refunds), created);
}

const DISPUTE_FEE = 1500;

function dispute(s: Sale, id: string, amount: number, status: string, balanceTransactions: StripeObject[]): StripeObject {
  return {
    id,
    object: "dispute",
    amount,
    balance_transactions: balanceTransactions,
    charge: s.charge,
    created: s.created + 3600,
    currency: s.currency,
    evidence_details: { due_by: s.created + 8 * 86_400, has_evidence: false, past_due: false, submission_count: 0 },
    is_charge_refundable: false,
    livemode: false,
    metadata: {},
    payment_intent: s.paymentIntent,
    reason: "fraudulent",
    status,
  };
}

const withdrawal = (s: Sale, amount: number) => ({
  id: stripeId("txn"),
  object: "balance_transaction",
  amount: -amount,
  currency: s.currency,
  fee: DISPUTE_FEE,
  net: -amount - DISPUTE_FEE,
  reporting_category: "dispute",
  type: "adjustment",
});

/** A chargeback opened: Stripe withdraws the amount and a dispute fee. */
export function disputeCreated(s: Sale, id: string, amount: number, created = nowSeconds()): StripeEvent {
  return event("charge.dispute.created", dispute(s, id, amount, "needs_response", [withdrawal(s, amount)]), created);
}

/** The dispute closed: won (the amount and the fee come back) or lost. */
export function disputeClosed(s: Sale, id: string, amount: number, outcome: "won" | "lost", created = nowSeconds()): StripeEvent {
  const txns = [withdrawal(s, amount)];
  if (outcome === "won") {
    txns.push({ ...withdrawal(s, amount), id: stripeId("txn"), amount, fee: -DISPUTE_FEE, net: amount + DISPUTE_FEE, reporting_category: "dispute_reversal" });
  }
  return event("charge.dispute.closed", dispute(s, id, amount, outcome, txns), created);
}

// ---------------------------------------------------------------------------
// What is sold

export interface Product {
  id: string;
  artist: string;
  host: string;
  rule: string;
  shares: { party: string | null; role: string; bp: number }[];
}

/**
 * A product owned by a fresh artist and host, paid for under a split rule
 * (artist, host, platform by default 70/20/10), created by the service role
 * as the app's back office would.
 */
export async function newProduct(
  sql: Sql,
  opts: { type?: string; title?: string; bp?: [number, number, number]; price?: number; currency?: string } = {},
): Promise<Product> {
  const [artist, host] = [crypto.randomUUID(), crypto.randomUUID()];
  await sql`insert into auth.users (id, email) values
    (${artist}, ${`artist.${artist.slice(0, 8)}@test.buckets.local`}), (${host}, ${`host.${host.slice(0, 8)}@test.buckets.local`})`;
  const [a, h, p] = opts.bp ?? [7000, 2000, 1000];
  const shares = [{ party: artist, role: "artist", bp: a }, { party: host, role: "host", bp: h }, { party: null, role: "platform", bp: p }];
  const parties = shares.map((s) => ({ party_id: s.party, role: s.role, share_bp: s.bp }));
  const title = opts.title ?? "Live at the Shrine";
  const { rule, id } = await asRole(sql, "service_role", null, async (tx) => {
    const [{ rule }] = await tx`select treasury.define_split_rule(${title}, ${tx.json(parties)}::jsonb) as rule`;
    const [{ id }] = await tx`
      insert into treasury.products (type, title, artist_id, host_id, price_minor, currency, split_rule_id)
      values (${opts.type ?? "ticket"}, ${title}, ${artist}, ${host}, ${opts.price ?? 2500}, ${opts.currency ?? "EUR"}, ${rule})
      returning id`;
    return { rule, id };
  });
  return { id, artist, host, rule, shares };
}

/** A payee's balances in one currency, on their normal side: { payable, held }. */
export async function payeeBalances(sql: Sql, owner: string, currency = "EUR") {
  const rows = await sql`select purpose, normal_balance from treasury.balances where owner_id = ${owner} and currency = ${currency}`;
  const of = (purpose: string) => Number(rows.find((r) => r.purpose === purpose)?.normal_balance ?? 0);
  return { payable: of("payable"), held: of("held") };
}

/** treasury.check_invariants(), as the service role. */
export async function invariantViolations(sql: Sql) {
  return await asRole(sql, "service_role", null, (tx) => tx`select invariant, reference, detail from treasury.check_invariants()`);
}

/**
 * The ledger's invariant violations now, one line each. A test or the demo compares them with those
 * before it ran (addedViolations): the whole ledger is shared, and another test may leave one on
 * purpose (the Treasury model test's payees refunded after a payout are below zero, which the
 * invariant exists to flag).
 */
export async function violationLines(sql: Sql): Promise<Set<string>> {
  const rows = await asRole(sql, "service_role", null, (tx) =>
    tx`select invariant, reference, detail from treasury.check_invariants()
       union all select invariant, reference, detail from treasury.check_payout_invariants()`);
  return new Set(rows.map((r) => `${r.invariant} ${r.reference}: ${r.detail}`));
}

/** The violations (of check_invariants and check_payout_invariants) that are not among `before`. */
export async function addedViolations(sql: Sql, before: Set<string>): Promise<string[]> {
  return [...await violationLines(sql)].filter((v) => !before.has(v));
}
