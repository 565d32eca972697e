// Stripe's objects and events as Stripe sends them, for the Stripe stand-in (local/stripe.ts)
// and the tests (tests/lib/stripe.ts). Every object the API answers with is typed with the
// `stripe` package's own types (Stripe.Checkout.Session, Stripe.Subscription, …), so a shape
// that drifts from Stripe's published one fails `deno check`. The payment_intent and charge of
// a payment's events are the fields Treasury reads and the usual ones around them.
//
// Nothing here reads the environment or starts anything: importing it is free.
import Stripe from "stripe";

/**
 * The API version the backend pins (Stripe-Version, edge/src/stripe_api.rs) and events are rendered
 * in: the one the `stripe` package is typed for, so that every object here is typed for the version
 * it claims (tests/standin/stripe.test.ts checks the three agree).
 */
export const API_VERSION: typeof Stripe.API_VERSION = Stripe.API_VERSION;

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A Stripe-looking id: `pi_3Qx…` (24 characters after the prefix). */
export function stripeId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  return `${prefix}_${[...bytes].map((b) => ALPHABET[b % ALPHABET.length]).join("")}`;
}

export const nowSeconds = () => Math.floor(Date.now() / 1000);

// deno-lint-ignore no-explicit-any
export type StripeObject = Record<string, any>;

export interface StripeEvent {
  id: string;
  object: "event";
  /** The connected account the event is about (Connect events: account.updated, a connected account's payout.*). */
  account?: string;
  api_version: string;
  created: number;
  data: { object: StripeObject; previous_attributes?: StripeObject };
  livemode: boolean;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export function event(
  type: string,
  object: StripeObject,
  created = nowSeconds(),
  opts: { account?: string; previous?: StripeObject; request?: { id: string | null; idempotency_key: string | null } } =
    {},
): StripeEvent {
  const e: StripeEvent = {
    id: stripeId("evt"),
    object: "event",
    api_version: API_VERSION,
    created,
    data: opts.previous ? { object, previous_attributes: opts.previous } : { object },
    livemode: false,
    pending_webhooks: 1,
    request: opts.request ?? { id: stripeId("req"), idempotency_key: crypto.randomUUID() },
    type,
  };
  if (opts.account) e.account = opts.account;
  return e;
}

/** The body exactly as Stripe sends it (pretty-printed, two spaces). */
export const payloadOf = (e: unknown) => JSON.stringify(e, null, 2);

// The library wants a key to sign; nothing here calls Stripe's API.
const signer = new Stripe("sk_test_buckets_local_no_api_calls");

/** A `Stripe-Signature` header from the official library (its async variant: Deno gets the Web Crypto build). */
export async function signPayload(payload: string, secret: string, timestamp?: number): Promise<string> {
  return await signer.webhooks.generateTestHeaderStringAsync({ payload, secret, timestamp });
}

/** The headers Stripe's webhook deliveries carry. */
export function deliveryHeaders(signature: string | null): Record<string, string> {
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "user-agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
    "cache-control": "no-cache",
    accept: "*/*; q=0.5, application/xml",
  };
  if (signature !== null) headers["stripe-signature"] = signature;
  return headers;
}

// ---------------------------------------------------------------------------
// A payment's PaymentIntent and Charge, as their events carry them

export interface PaymentFacts {
  paymentIntent: string;
  charge: string;
  customer: string | null;
  amount: number;
  currency: string; // Stripe's: lower case
  metadata: Record<string, string>;
  created: number;
}

/** `latestCharge`: the charge id, as webhooks send it; an object to carry an expanded charge (and its fee). */
export function paymentIntentObject(p: PaymentFacts, latestCharge?: StripeObject): StripeObject {
  return {
    id: p.paymentIntent,
    object: "payment_intent",
    amount: p.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: p.amount,
    automatic_payment_methods: { enabled: true },
    capture_method: "automatic",
    client_secret: `${p.paymentIntent}_secret_${stripeId("x").slice(2)}`,
    confirmation_method: "automatic",
    created: p.created - 30,
    currency: p.currency,
    customer: p.customer,
    latest_charge: latestCharge ?? p.charge,
    livemode: false,
    metadata: p.metadata,
    payment_method: stripeId("pm"),
    payment_method_types: ["card"],
    status: "succeeded",
  };
}

/** A succeeded charge; `refunds`: the refunds so far, newest first (amount_refunded is their sum). */
export function chargeObject(p: PaymentFacts, refunds: StripeObject[] = []): StripeObject {
  const refunded = refunds.reduce((sum, r) => sum + r.amount, 0);
  return {
    id: p.charge,
    object: "charge",
    amount: p.amount,
    amount_captured: p.amount,
    amount_refunded: refunded,
    balance_transaction: stripeId("txn"),
    captured: true,
    created: p.created - 30,
    currency: p.currency,
    customer: p.customer,
    disputed: false,
    livemode: false,
    metadata: p.metadata,
    outcome: {
      network_status: "approved_by_network",
      reason: null,
      risk_level: "normal",
      seller_message: "Payment complete.",
      type: "authorized",
    },
    paid: true,
    payment_intent: p.paymentIntent,
    payment_method: stripeId("pm"),
    refunded: refunds.length > 0 && refunded === p.amount,
    refunds: {
      object: "list",
      data: refunds,
      has_more: false,
      total_count: refunds.length,
      url: `/v1/charges/${p.charge}/refunds`,
    },
    status: "succeeded",
  };
}

// ---------------------------------------------------------------------------
// Typed objects: what the API answers with

export function list<T>(data: T[], url: string): Stripe.ApiList<T> {
  return { object: "list", data, has_more: false, url };
}

/** A Checkout Session as created (open, unpaid); the fields not given are Stripe's defaults. */
export function checkoutSession(
  fields: Partial<Stripe.Checkout.Session> & Pick<Stripe.Checkout.Session, "mode">,
): Stripe.Checkout.Session {
  const created = fields.created ?? nowSeconds();
  const id = fields.id ?? stripeId("cs_test");
  return {
    id,
    object: "checkout.session",
    adaptive_pricing: { enabled: false },
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: null,
    amount_total: null,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: null,
    client_reference_id: null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created,
    currency: null,
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: null,
    customer_account: null,
    customer_creation: fields.mode === "payment" ? "if_required" : null,
    customer_details: null,
    customer_email: null,
    discounts: [],
    expires_at: created + 86_400,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: {},
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: fields.mode === "subscription" ? "always" : null,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: ["card"],
    payment_status: "unpaid",
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: "open",
    submit_type: null,
    subscription: null,
    success_url: null,
    total_details: { amount_discount: 0, amount_shipping: 0, amount_tax: 0 },
    ui_mode: "hosted",
    url: null,
    wallet_options: null,
    ...fields,
  };
}

export function customer(fields: Partial<Stripe.Customer> = {}): Stripe.Customer {
  return {
    id: stripeId("cus"),
    object: "customer",
    address: null,
    balance: 0,
    created: nowSeconds(),
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    discount: null,
    email: null,
    invoice_prefix: stripeId("x").slice(2, 10).toUpperCase(),
    invoice_settings: { custom_fields: null, default_payment_method: null, footer: null, rendering_options: null },
    livemode: false,
    metadata: {},
    name: null,
    next_invoice_sequence: 1,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: "none",
    test_clock: null,
    ...fields,
  };
}

/** What an Express account still needs before it can be paid out, as Stripe lists it for a new one. */
export const ONBOARDING_REQUIREMENTS = [
  "business_profile.mcc",
  "business_profile.url",
  "business_type",
  "external_account",
  "representative.first_name",
  "representative.last_name",
  "tos_acceptance.date",
  "tos_acceptance.ip",
];

export function accountRequirements(
  currentlyDue: string[],
  disabledReason: Stripe.Account.Requirements.DisabledReason | null,
): Stripe.Account.Requirements {
  return {
    alternatives: [],
    current_deadline: null,
    currently_due: currentlyDue,
    disabled_reason: disabledReason,
    errors: [],
    eventually_due: currentlyDue,
    past_due: currentlyDue,
    pending_verification: [],
  };
}

/**
 * An account's settings with its payout schedule: `interval` "manual" (the platform creates each
 * payout) or Stripe's default for a new account, "daily" after 2 days (Stripe pays out by itself).
 */
export function accountSettings(interval = "daily"): Stripe.Account.Settings {
  return {
    branding: { icon: null, logo: null, primary_color: null, secondary_color: null },
    card_payments: {
      statement_descriptor_prefix: null,
      statement_descriptor_prefix_kana: null,
      statement_descriptor_prefix_kanji: null,
    },
    dashboard: { display_name: null, timezone: "Etc/UTC" },
    payments: {
      statement_descriptor: null,
      statement_descriptor_kana: null,
      statement_descriptor_kanji: null,
      statement_descriptor_prefix_kana: null,
      statement_descriptor_prefix_kanji: null,
    },
    payouts: {
      debit_negative_balances: true,
      schedule: { delay_days: interval === "manual" ? 0 : 2, interval },
      statement_descriptor: null,
    },
  };
}

export function account(fields: Partial<Stripe.Account> & Pick<Stripe.Account, "type">): Stripe.Account {
  return {
    id: stripeId("acct").slice(0, 21),
    object: "account",
    business_profile: null,
    business_type: null,
    capabilities: {},
    charges_enabled: false,
    country: "DE",
    created: nowSeconds(),
    default_currency: "eur",
    details_submitted: false,
    email: null,
    external_accounts: list([], "/v1/accounts/acct/external_accounts"),
    future_requirements: {
      alternatives: [],
      current_deadline: null,
      currently_due: [],
      disabled_reason: null,
      errors: [],
      eventually_due: [],
      past_due: [],
      pending_verification: [],
    },
    metadata: {},
    payouts_enabled: false,
    requirements: accountRequirements(ONBOARDING_REQUIREMENTS, "requirements.past_due"),
    settings: accountSettings(),
    tos_acceptance: { date: null, ip: null, user_agent: null },
    ...fields,
  };
}

export function billingPortalSession(
  fields: Pick<Stripe.BillingPortal.Session, "customer" | "url"> & Partial<Stripe.BillingPortal.Session>,
): Stripe.BillingPortal.Session {
  return {
    id: stripeId("bps"),
    object: "billing_portal.session",
    configuration: "bpc_buckets_local_default",
    created: nowSeconds(),
    customer_account: null,
    flow: null,
    livemode: false,
    locale: null,
    on_behalf_of: null,
    return_url: null,
    ...fields,
  };
}

export function transfer(
  fields: Pick<Stripe.Transfer, "amount" | "currency" | "destination"> & Partial<Stripe.Transfer>,
): Stripe.Transfer {
  const id = fields.id ?? stripeId("tr");
  return {
    id,
    object: "transfer",
    amount_reversed: 0,
    balance_transaction: stripeId("txn"),
    created: nowSeconds(),
    description: null,
    destination_payment: stripeId("py"),
    livemode: false,
    metadata: {},
    reversals: list([], `/v1/transfers/${id}/reversals`),
    reversed: false,
    source_transaction: null,
    source_type: "card",
    transfer_group: null,
    ...fields,
  };
}

/** A refund of a charge, as POST /v1/refunds answers it (a card refund succeeds at once). */
export function refund(
  fields: Pick<Stripe.Refund, "amount" | "currency" | "charge" | "payment_intent"> & Partial<Stripe.Refund>,
): Stripe.Refund {
  return {
    id: stripeId("re"),
    object: "refund",
    balance_transaction: stripeId("txn"),
    created: nowSeconds(),
    customer: null,
    customer_account: null,
    destination_details: { card: { reference_status: "pending", reference_type: "acquirer_reference_number", type: "refund" }, type: "card" },
    metadata: {},
    payment_method: stripeId("pm"),
    reason: null,
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
    ...fields,
  };
}

export function transferReversal(
  fields: Pick<Stripe.TransferReversal, "amount" | "currency" | "transfer"> & Partial<Stripe.TransferReversal>,
): Stripe.TransferReversal {
  return {
    id: stripeId("trr"),
    object: "transfer_reversal",
    balance_transaction: stripeId("txn"),
    created: nowSeconds(),
    destination_payment_refund: stripeId("pyr"),
    metadata: {},
    source_refund: null,
    ...fields,
  };
}

export function payout(fields: Pick<Stripe.Payout, "amount" | "currency"> & Partial<Stripe.Payout>): Stripe.Payout {
  const created = fields.created ?? nowSeconds();
  return {
    id: stripeId("po"),
    object: "payout",
    application_fee: null,
    application_fee_amount: null,
    arrival_date: created + 86_400,
    automatic: false,
    balance_transaction: stripeId("txn"),
    created,
    description: null,
    destination: stripeId("ba"),
    failure_balance_transaction: null,
    failure_code: null,
    failure_message: null,
    livemode: false,
    metadata: {},
    method: "standard",
    original_payout: null,
    payout_method: null,
    reconciliation_status: "not_applicable",
    reversed_by: null,
    source_type: "card",
    statement_descriptor: null,
    status: "pending",
    trace_id: null,
    type: "bank_account",
    ...fields,
  };
}

/** A price made from a Checkout line item's `price_data` (Stripe creates one per session). */
export function price(fields: Pick<Stripe.Price, "currency" | "unit_amount" | "product" | "recurring">): Stripe.Price {
  return {
    id: stripeId("price"),
    object: "price",
    active: false,
    billing_scheme: "per_unit",
    created: nowSeconds(),
    custom_unit_amount: null,
    livemode: false,
    lookup_key: null,
    metadata: {},
    nickname: null,
    tax_behavior: "unspecified",
    tiers_mode: null,
    transform_quantity: null,
    type: fields.recurring ? "recurring" : "one_time",
    unit_amount_decimal: null,
    ...fields,
  };
}

/** The legacy plan Stripe still renders beside a recurring price on subscription items. */
export function planOf(p: Stripe.Price): Stripe.Plan {
  return {
    id: p.id,
    object: "plan",
    active: p.active,
    amount: p.unit_amount,
    amount_decimal: null,
    billing_scheme: "per_unit",
    created: p.created,
    currency: p.currency,
    interval: p.recurring?.interval ?? "month",
    interval_count: p.recurring?.interval_count ?? 1,
    livemode: false,
    metadata: {},
    meter: null,
    nickname: null,
    product: typeof p.product === "string" ? p.product : p.product.id,
    tiers_mode: null,
    transform_usage: null,
    trial_period_days: null,
    usage_type: "licensed",
  };
}

export function checkoutLineItem(p: Stripe.Price, quantity: number, description: string | null): Stripe.LineItem {
  const amount = (p.unit_amount ?? 0) * quantity;
  return {
    id: stripeId("li"),
    object: "item",
    adjustable_quantity: null,
    amount_discount: 0,
    amount_subtotal: amount,
    amount_tax: 0,
    amount_total: amount,
    currency: p.currency,
    description,
    metadata: {},
    price: p,
    quantity,
  };
}

/** The end of a billing period of `interval_count` intervals starting at `start` (UTC calendar months and years, as Stripe). */
export function periodEnd(start: number, interval: Stripe.Price.Recurring.Interval, count: number): number {
  const d = new Date(start * 1000);
  switch (interval) {
    case "day":
      d.setUTCDate(d.getUTCDate() + count);
      break;
    case "week":
      d.setUTCDate(d.getUTCDate() + 7 * count);
      break;
    case "month": {
      const day = d.getUTCDate();
      d.setUTCDate(1);
      d.setUTCMonth(d.getUTCMonth() + count);
      const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
      d.setUTCDate(Math.min(day, last));
      break;
    }
    case "year":
      d.setUTCFullYear(d.getUTCFullYear() + count);
      break;
  }
  return Math.floor(d.getTime() / 1000);
}

export function subscriptionItem(
  subscription: string,
  p: Stripe.Price,
  quantity: number,
  period: { start: number; end: number },
  created: number,
): Stripe.SubscriptionItem {
  return {
    id: stripeId("si"),
    object: "subscription_item",
    billing_thresholds: null,
    created,
    current_period_end: period.end,
    current_period_start: period.start,
    current_trial: null,
    discounts: [],
    metadata: {},
    plan: planOf(p),
    price: p,
    quantity,
    subscription,
    tax_rates: [],
  };
}

export function subscription(
  fields:
    & Pick<
      Stripe.Subscription,
      "id" | "customer" | "currency" | "items" | "metadata" | "start_date" | "billing_cycle_anchor"
    >
    & Partial<Stripe.Subscription>,
): Stripe.Subscription {
  return {
    object: "subscription",
    application: null,
    application_fee_percent: null,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null },
    billing_cycle_anchor_config: null,
    billing_mode: { flexible: null, type: "classic" },
    billing_schedules: [],
    billing_thresholds: null,
    cancel_at: null,
    cancel_at_period_end: false,
    canceled_at: null,
    cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
    collection_method: "charge_automatically",
    created: fields.start_date,
    customer_account: null,
    days_until_due: null,
    default_payment_method: stripeId("pm"),
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    ended_at: null,
    invoice_settings: {
      account_tax_ids: null,
      custom_fields: null,
      description: null,
      footer: null,
      issuer: { type: "self" },
    },
    latest_invoice: null,
    livemode: false,
    managed_payments: null,
    next_pending_invoice_item_invoice: null,
    on_behalf_of: null,
    pause_collection: null,
    payment_settings: { payment_method_options: null, payment_method_types: null, save_default_payment_method: "off" },
    pending_invoice_item_interval: null,
    pending_setup_intent: null,
    pending_update: null,
    schedule: null,
    status: "active",
    test_clock: null,
    transfer_data: null,
    trial_end: null,
    trial_settings: { end_behavior: { billing_cycle_anchor: null, missing_payment_method: "create_invoice" } },
    trial_start: null,
    ...fields,
  };
}

/**
 * An invoice of a subscription for one period (API version API_VERSION): the subscription and its
 * metadata under `parent.subscription_details`, the service period on each line (`lines.data[].period`).
 * `invoice.period_start/period_end` are Stripe's: for the first invoice both are its creation time; for
 * a renewal, the period that just ended.
 */
export function subscriptionInvoice(
  sub: Stripe.Subscription,
  opts: {
    billingReason: Stripe.Invoice.BillingReason;
    period: { start: number; end: number };
    status: Stripe.Invoice.Status;
    created: number;
    customerEmail: string | null;
    attemptCount?: number;
    nextPaymentAttempt?: number | null;
    number: string;
  },
): Stripe.Invoice {
  const id = stripeId("in");
  const customerId = typeof sub.customer === "string" ? sub.customer : sub.customer.id;
  const lines: Stripe.InvoiceLineItem[] = sub.items.data.map((item) => {
    const amount = (item.price.unit_amount ?? 0) * (item.quantity ?? 1);
    return {
      id: stripeId("il"),
      object: "line_item",
      amount,
      currency: sub.currency,
      description: `${item.quantity ?? 1} × subscription`,
      discount_amounts: [],
      discountable: true,
      discounts: [],
      invoice: id,
      livemode: false,
      metadata: sub.metadata,
      parent: {
        invoice_item_details: null,
        subscription_item_details: {
          invoice_item: null,
          proration: false,
          proration_details: { credited_items: null },
          subscription: sub.id,
          subscription_item: item.id,
        },
        type: "subscription_item_details",
      },
      period: opts.period,
      pretax_credit_amounts: [],
      pricing: {
        price_details: {
          price: item.price.id,
          product: typeof item.price.product === "string" ? item.price.product : item.price.product.id,
        },
        type: "price_details",
        unit_amount_decimal: null,
      },
      quantity: item.quantity ?? 1,
      quantity_decimal: null,
      subscription: sub.id,
      subtotal: amount,
      taxes: [],
    };
  });
  const total = lines.reduce((sum, l) => sum + l.amount, 0);
  const paid = opts.status === "paid";
  const first = opts.billingReason === "subscription_create";
  return {
    id,
    object: "invoice",
    account_country: "DE",
    account_name: "Buckets (local)",
    account_tax_ids: null,
    amount_due: total,
    amount_overpaid: 0,
    amount_paid: paid ? total : 0,
    amount_remaining: paid ? 0 : total,
    amount_shipping: 0,
    application: null,
    attempt_count: opts.attemptCount ?? 1,
    attempted: true,
    auto_advance: !paid,
    automatic_tax: { disabled_reason: null, enabled: false, liability: null, provider: null, status: null },
    automatically_finalizes_at: null,
    billing_reason: opts.billingReason,
    collection_method: "charge_automatically",
    created: opts.created,
    currency: sub.currency,
    custom_fields: null,
    customer: customerId,
    customer_account: null,
    customer_address: null,
    customer_email: opts.customerEmail,
    customer_name: null,
    customer_phone: null,
    customer_shipping: null,
    customer_tax_exempt: "none",
    customer_tax_ids: [],
    default_payment_method: null,
    default_source: null,
    default_tax_rates: [],
    description: null,
    discounts: [],
    due_date: null,
    effective_at: opts.created,
    ending_balance: 0,
    footer: null,
    from_invoice: null,
    hosted_invoice_url: `https://invoice.stripe.com/i/acct_buckets_local/test_${id}`,
    invoice_pdf: `https://pay.stripe.com/invoice/acct_buckets_local/test_${id}/pdf`,
    issuer: { type: "self" },
    last_finalization_error: null,
    latest_revision: null,
    lines: list(lines, `/v1/invoices/${id}/lines`),
    livemode: false,
    metadata: {},
    next_payment_attempt: opts.nextPaymentAttempt ?? null,
    number: opts.number,
    on_behalf_of: null,
    parent: {
      quote_details: null,
      subscription_details: { metadata: sub.metadata, subscription: sub.id },
      type: "subscription_details",
    },
    payment_settings: { default_mandate: null, payment_method_options: null, payment_method_types: null },
    period_end: first ? opts.created : opts.period.start,
    period_start: first ? opts.created : periodStartBefore(sub, opts.period.start),
    post_payment_credit_notes_amount: 0,
    pre_payment_credit_notes_amount: 0,
    receipt_number: null,
    rendering: null,
    shipping_cost: null,
    shipping_details: null,
    starting_balance: 0,
    statement_descriptor: null,
    status: opts.status,
    status_transitions: {
      finalized_at: opts.created,
      marked_uncollectible_at: null,
      paid_at: paid ? opts.created : null,
      voided_at: null,
    },
    subtotal: total,
    subtotal_excluding_tax: total,
    test_clock: null,
    total,
    total_discount_amounts: [],
    total_excluding_tax: total,
    total_pretax_credit_amounts: [],
    total_taxes: [],
    webhooks_delivered_at: opts.created,
  };
}

/** The start of the period that ends at `end` for the subscription's (first) price. */
function periodStartBefore(sub: Stripe.Subscription, end: number): number {
  const recurring = sub.items.data[0]?.price.recurring;
  if (!recurring) return end;
  // Step forward from the anchor until the next period would reach `end`.
  let start = sub.billing_cycle_anchor;
  for (let next = periodEnd(start, recurring.interval, recurring.interval_count); next < end;) {
    start = next;
    next = periodEnd(start, recurring.interval, recurring.interval_count);
  }
  return start;
}
