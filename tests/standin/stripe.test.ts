// The Stripe stand-in (local/stripe.ts) against Stripe's own library, with no stack: each test
// starts the stand-in (and, for triggers, a webhook receiver that verifies signatures with
// stripe.webhooks.constructEventAsync) on free ports.
import Stripe from "stripe";
import { assert, assertEquals, assertMatch } from "../lib/assert.ts";
import { type RecordedRequest, startStripeStandIn } from "../../local/stripe.ts";
import { expectSameAsStripeLibrary, StripeStandInClient } from "../lib/standin.ts";
import type { StripeEvent } from "../../local/stripe_objects.ts";

const KEY = "sk_test_buckets_standin_test";
const SECRET = "whsec_standin_test_secret";

interface Receiver {
  url: string;
  events: StripeEvent[];
  close(): Promise<void>;
}

/** A webhook endpoint that accepts only deliveries Stripe's library verifies. */
function receiver(): Receiver {
  const verifier = new Stripe(KEY);
  const events: StripeEvent[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    try {
      const e = await verifier.webhooks.constructEventAsync(body, req.headers.get("stripe-signature") ?? "", SECRET);
      events.push(e as unknown as StripeEvent);
      return Response.json({ received: true, event_id: e.id });
    } catch (err) {
      return Response.json({ code: "signature_mismatch", message: String(err) }, { status: 400 });
    }
  });
  return { url: `http://127.0.0.1:${server.addr.port}/webhook`, events, close: () => server.shutdown() };
}

async function withStandIn(
  fn: (ctx: { stripe: Stripe; control: StripeStandInClient; url: string; hook: Receiver }) => Promise<void>,
  opts: { maxNetworkRetries?: number } = {},
) {
  const hook = receiver();
  const running = startStripeStandIn({ webhookUrl: hook.url, webhookSecret: SECRET });
  const stripe = new Stripe(KEY, {
    host: "127.0.0.1",
    port: running.port,
    protocol: "http",
    maxNetworkRetries: opts.maxNetworkRetries ?? 0,
  });
  try {
    await fn({ stripe, control: new StripeStandInClient(running.url), url: running.url, hook });
  } finally {
    await running.close();
    await hook.close();
  }
}

async function rejection(p: Promise<unknown>): Promise<Stripe.errors.StripeError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof Stripe.errors.StripeError) return e;
    throw e;
  }
  throw new Error("expected Stripe to refuse the call");
}

const ticketParams = (): Stripe.Checkout.SessionCreateParams => ({
  mode: "payment",
  line_items: [{ price_data: { currency: "eur", unit_amount: 2500, product_data: { name: "Ticket" } }, quantity: 2 }],
  metadata: { product_id: crypto.randomUUID(), buyer_id: crypto.randomUUID(), quantity: "2" },
  payment_intent_data: { metadata: { product_id: "p-1", buyer_id: "b-1", quantity: "2" } },
  client_reference_id: "buyer-1",
  expires_at: Math.floor(Date.now() / 1000) + 3600,
  success_url: "https://buckets.example/ok?session_id={CHECKOUT_SESSION_ID}",
  cancel_url: "https://buckets.example/cancel",
});

const planParams = (metadata: Record<string, string>): Stripe.Checkout.SessionCreateParams => ({
  mode: "subscription",
  line_items: [{
    price_data: {
      currency: "eur",
      unit_amount: 900,
      product_data: { name: "Coliseum pro" },
      recurring: { interval: "month" },
    },
    quantity: 1,
  }],
  customer_email: "fan@fans.example",
  metadata: { kind: "plan" },
  subscription_data: { metadata },
  success_url: "https://buckets.example/ok",
});

Deno.test("the stripe library creates and reads every object and gets Stripe's shapes back", async () => {
  await withStandIn(async ({ stripe, control }) => {
    const customer = await stripe.customers.create({ email: "fan@fans.example", metadata: { user_id: "u-1" } });
    assertMatch(customer.id, /^cus_/);
    assertEquals([customer.object, customer.email, customer.metadata], ["customer", "fan@fans.example", {
      user_id: "u-1",
    }]);
    assertEquals((await stripe.customers.retrieve(customer.id)).id, customer.id);

    const session = await stripe.checkout.sessions.create({ ...ticketParams(), customer: customer.id });
    assertMatch(session.id, /^cs_test_/);
    assertEquals(
      [
        session.object,
        session.mode,
        session.status,
        session.payment_status,
        session.amount_total,
        session.currency,
        session.customer,
      ],
      ["checkout.session", "payment", "open", "unpaid", 5000, "eur", customer.id],
    );
    assertEquals(session.client_reference_id, "buyer-1");
    assertEquals(session.payment_intent, null);
    assert(session.url?.startsWith("http://127.0.0.1:"), session.url ?? "no url");
    assertEquals(await stripe.checkout.sessions.retrieve(session.id), session);
    const expired = await stripe.checkout.sessions.expire(session.id);
    assertEquals([expired.status, expired.url], ["expired", null]);

    const portal = await stripe.billingPortal.sessions.create({
      customer: customer.id,
      return_url: "https://buckets.example/account",
    });
    assertEquals([portal.object, portal.customer, portal.return_url], [
      "billing_portal.session",
      customer.id,
      "https://buckets.example/account",
    ]);
    assertMatch(portal.url, /^http:\/\/127\.0\.0\.1:\d+\/p\/session\/bps_/);

    const account = await stripe.accounts.create({
      controller: {
        stripe_dashboard: { type: "express" },
        fees: { payer: "application" },
        losses: { payments: "application" },
      },
      capabilities: { transfers: { requested: true } },
      metadata: { user_id: "artist-1" },
    });
    assertMatch(account.id, /^acct_/);
    assertEquals([account.type, account.payouts_enabled, account.capabilities?.transfers], [
      "express",
      false,
      "inactive",
    ]);
    assert((account.requirements?.currently_due ?? []).length > 0);
    const link = await stripe.accountLinks.create({
      account: account.id,
      type: "account_onboarding",
      refresh_url: "https://buckets.example/onboarding/refresh",
      return_url: "https://buckets.example/onboarding/done",
    });
    assertEquals(link.object, "account_link");
    assert(link.expires_at > link.created);

    // Not onboarded yet: Stripe refuses the transfer.
    const refused = await rejection(
      stripe.transfers.create({ amount: 5000, currency: "eur", destination: account.id }),
    );
    assertEquals([refused.statusCode, refused.code], [400, "insufficient_capabilities_for_transfer"]);
    await control.setAccount(account.id, { onboarded: true });
    assertEquals((await stripe.accounts.retrieve(account.id)).payouts_enabled, true);

    const transfer = await stripe.transfers.create({
      amount: 5000,
      currency: "eur",
      destination: account.id,
      transfer_group: "payout_1",
      metadata: { payout_id: "p-1", payout_attempt: "1" },
    });
    assertEquals([transfer.object, transfer.amount, transfer.destination, transfer.reversed], [
      "transfer",
      5000,
      account.id,
      false,
    ]);
    const payout = await stripe.payouts.create({ amount: 3000, currency: "eur", metadata: { payout_id: "p-1" } }, {
      stripeAccount: account.id,
    });
    assertEquals([payout.object, payout.status, payout.amount, payout.automatic], ["payout", "pending", 3000, false]);
    // Only 2,000 are left on the connected account.
    const short = await rejection(
      stripe.payouts.create({ amount: 3000, currency: "eur" }, { stripeAccount: account.id }),
    );
    assertEquals(short.code, "balance_insufficient");
    const reversal = await stripe.transfers.createReversal(transfer.id, { amount: 2000 });
    assertEquals([reversal.object, reversal.amount, reversal.transfer], ["transfer_reversal", 2000, transfer.id]);
    const after = await stripe.transfers.retrieve(transfer.id);
    assertEquals([after.amount_reversed, after.reversed, after.reversals.data.length], [2000, false, 1]);

    const plan = await stripe.checkout.sessions.create(planParams({ user_id: "u-1", plan: "pro" }));
    const paid = await control.trigger("checkout.session.paid", { session: plan.id, deliver: false });
    const subId = (paid.objects.subscription as Stripe.Subscription).id;
    const sub = await stripe.subscriptions.retrieve(subId);
    assertEquals([sub.object, sub.status, sub.metadata], ["subscription", "active", { user_id: "u-1", plan: "pro" }]);
    const cancelling = await stripe.subscriptions.update(subId, { cancel_at_period_end: true });
    assertEquals([cancelling.cancel_at_period_end, cancelling.cancel_at], [true, sub.items.data[0].current_period_end]);
    const invoice = await stripe.invoices.retrieve(sub.latest_invoice as string);
    assertEquals([invoice.status, invoice.amount_paid, invoice.parent?.subscription_details?.metadata], [
      "paid",
      900,
      sub.metadata,
    ]);
  });
});

Deno.test("errors come in Stripe's shape and statuses", async () => {
  await withStandIn(async ({ stripe, url }) => {
    const missing = await rejection(stripe.customers.retrieve("cus_nope"));
    assertEquals([missing.statusCode, missing.type, missing.code], [
      404,
      "StripeInvalidRequestError",
      "resource_missing",
    ]);
    const noMode = await rejection(stripe.checkout.sessions.create({ line_items: [] }));
    assertEquals([noMode.statusCode, noMode.code, noMode.param], [400, "parameter_missing", "mode"]);
    const recurringInPayment = await rejection(stripe.checkout.sessions.create({ ...planParams({}), mode: "payment" }));
    assertEquals([recurringInPayment.statusCode, recurringInPayment.param], [
      400,
      "line_items[0][price_data][recurring]",
    ]);
    const noDestination = await rejection(
      stripe.transfers.create({ amount: 100, currency: "eur", destination: "acct_nope" }),
    );
    assertEquals([noDestination.code, noDestination.param], ["resource_missing", "destination"]);

    const basic = await fetch(`${url}/v1/customers`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa(`${KEY}:`)}` },
    });
    assertEquals([basic.status, (await basic.json()).object], [200, "customer"]);
    const anonymous = await fetch(`${url}/v1/customers`, { method: "POST" });
    assertEquals(anonymous.status, 401);
    const body = await anonymous.json();
    assertEquals(body.error.type, "invalid_request_error");
    const wrongKey = await rejection(
      new Stripe("pk_live_nope", { host: "127.0.0.1", port: new URL(url).port, protocol: "http" }).customers.create({}),
    );
    assertEquals([wrongKey.statusCode, wrongKey.type], [401, "StripeAuthenticationError"]);
  });
});

Deno.test("an Idempotency-Key replays the first answer, and refuses other parameters", async () => {
  await withStandIn(async ({ stripe, control, url }) => {
    const a = await stripe.customers.create({ email: "a@fans.example" }, { idempotencyKey: "buckets_customer_1" });
    const b = await stripe.customers.create({ email: "a@fans.example" }, { idempotencyKey: "buckets_customer_1" });
    assertEquals(b, a);
    const mismatch = await rejection(
      stripe.customers.create({ email: "b@fans.example" }, { idempotencyKey: "buckets_customer_1" }),
    );
    assertEquals([mismatch.statusCode, mismatch.type], [400, "StripeIdempotencyError"]);
    const raw = await fetch(`${url}/v1/customers`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${KEY}`,
        "idempotency-key": "buckets_customer_1",
        "content-type": "application/x-www-form-urlencoded",
      },
      body: "email=a%40fans.example",
    });
    assertEquals([raw.status, raw.headers.get("idempotent-replayed"), (await raw.json()).id], [200, "true", a.id]);
    // Keys are per account: the same key on a connected account is another request.
    const requests = await control.requests({ path: "/v1/customers" });
    assertEquals(requests.map((r) => [r.idempotency_key, r.replayed, r.status]), [
      ["buckets_customer_1", false, 200],
      ["buckets_customer_1", true, 200],
      ["buckets_customer_1", false, 400],
      ["buckets_customer_1", true, 200],
    ]);
  });
});

Deno.test("injected faults: 500 and 429 retried by the library with one key, a dropped connection, Stripe errors by account and amount", async () => {
  await withStandIn(async ({ stripe, control }) => {
    await control.fault({ method: "POST", path: "/v1/customers", status: 500, times: 1, should_retry: true });
    await control.fault({ method: "POST", path: "/v1/customers", status: 429, times: 1, should_retry: true });
    const c = await stripe.customers.create({ email: "retry@fans.example" });
    const tries = await control.requests({ path: "/v1/customers" });
    assertEquals(tries.map((r) => r.status), [500, 429, 200]);
    assertEquals(new Set(tries.map((r) => r.idempotency_key)).size, 1, "the library retries with one idempotency key");
    assertEquals(((await stripe.customers.retrieve(c.id)) as Stripe.Customer).email, "retry@fans.example");

    // A lost connection: the library retries it with the same key; after three, it gives up.
    await control.clearRequests();
    await control.fault({ method: "POST", path: "/v1/customers", drop: true });
    await stripe.customers.create({ email: "drop@fans.example" });
    const dropped = await control.requests({ path: "/v1/customers" });
    assertEquals(dropped.map((r) => [r.status, r.injected?.split(" ")[0] ?? null]), [[-1, "fault"], [200, null]]);
    assertEquals(dropped[0].idempotency_key, dropped[1].idempotency_key);
    await control.fault({ method: "POST", path: "/v1/customers", drop: true, times: 3 });
    const lost = await rejection(stripe.customers.create({ email: "lost@fans.example" }));
    assertEquals(lost.type, "StripeConnectionError");

    const account = await stripe.accounts.create({ type: "express" });
    await control.setAccount(account.id, {});
    await control.failure({
      path: "/v1/transfers",
      account: account.id,
      times: 1,
      error: { code: "balance_insufficient", message: "You have insufficient funds in your Stripe account." },
    });
    const poor = await rejection(
      stripe.transfers.create({ amount: 700, currency: "eur", destination: account.id }, { idempotencyKey: "t-1" }),
    );
    assertEquals([poor.statusCode, poor.code], [400, "balance_insufficient"]);
    // Stripe saves an executed request's error under its key: the retry gets the same answer.
    const again = await rejection(
      stripe.transfers.create({ amount: 700, currency: "eur", destination: account.id }, { idempotencyKey: "t-1" }),
    );
    assertEquals(again.code, "balance_insufficient");
    const ok = await stripe.transfers.create({ amount: 700, currency: "eur", destination: account.id }, {
      idempotencyKey: "t-2",
    });
    assertEquals(ok.amount, 700);

    await control.failure({
      path: "/v1/payouts",
      amount: 500,
      status: 400,
      error: { code: "payout_reconciliation_not_ready", message: "nope" },
    });
    const failed = await rejection(
      stripe.payouts.create({ amount: 500, currency: "eur" }, { stripeAccount: account.id }),
    );
    assertEquals(failed.code, "payout_reconciliation_not_ready");
    assertEquals(
      (await stripe.payouts.create({ amount: 600, currency: "eur" }, { stripeAccount: account.id })).amount,
      600,
    );
  }, { maxNetworkRetries: 2 });
});

Deno.test("the recorded request holds what the library sent, and matches Stripe's library for the same typed parameters", async () => {
  await withStandIn(async ({ stripe, control, url }) => {
    const params = ticketParams();
    await stripe.checkout.sessions.create(params, { idempotencyKey: "buckets_checkout_1" });
    const [recorded] = await control.requests({ method: "POST", path: "/v1/checkout/sessions" });
    assertEquals(recorded.idempotency_key, "buckets_checkout_1");
    assertEquals(recorded.headers.authorization, `Bearer ${KEY}`);
    assert(recorded.stripe_version, "the library sends its Stripe-Version");
    assertEquals(recorded.params, {
      mode: "payment",
      line_items: [{
        price_data: { currency: "eur", unit_amount: "2500", product_data: { name: "Ticket" } },
        quantity: "2",
      }],
      metadata: params.metadata as Record<string, string>,
      payment_intent_data: { metadata: { product_id: "p-1", buyer_id: "b-1", quantity: "2" } },
      client_reference_id: "buyer-1",
      expires_at: String(params.expires_at),
      success_url: params.success_url!,
      cancel_url: params.cancel_url!,
    });
    await expectSameAsStripeLibrary(recorded, params, "POST", "/v1/checkout/sessions");

    // A request encoded by hand (as our Rust functions do), on a connected account.
    const send = (body: string) =>
      fetch(`${url}/v1/payouts`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${KEY}`,
          "stripe-account": "acct_1",
          "content-type": "application/x-www-form-urlencoded",
        },
        body,
      }).then((r) => r.body?.cancel());
    await send("amount=5000&currency=eur&metadata[payout_id]=p-1&metadata[payout_attempt]=2");
    await send("amount=5000&currency=eur&metadata[payout_id]=p-1");
    const [good, bad] = await control.requests({ path: "/v1/payouts" });
    const payout: Stripe.PayoutCreateParams = {
      amount: 5000,
      currency: "eur",
      metadata: { payout_id: "p-1", payout_attempt: "2" },
    };
    await expectSameAsStripeLibrary(good, payout, "POST", "/v1/payouts", { stripeAccount: "acct_1" });
    let differs = false;
    await expectSameAsStripeLibrary(bad, payout, "POST", "/v1/payouts", { stripeAccount: "acct_1" }).catch(
      () => (differs = true),
    );
    assert(differs, "a missing metadata key is a difference");
    differs = false;
    await expectSameAsStripeLibrary(good, payout, "POST", "/v1/payouts").catch(() => (differs = true));
    assert(differs, "a missing Stripe-Account is a difference");
  });
});

function byType(events: StripeEvent[]) {
  return Object.fromEntries(events.map((e) => [e.type, e]));
}

Deno.test("triggers: a paid session's events arrive signed, consistent, shuffled and with duplicates", async () => {
  await withStandIn(async ({ stripe, control, hook }) => {
    const params = ticketParams();
    const session = await stripe.checkout.sessions.create(params);
    const result = await control.trigger("checkout.session.paid", {
      session: session.id,
      order: "shuffled",
      duplicates: 2,
      seed: 7,
    });
    assertEquals(result.seed, 7);
    assertEquals(result.deliveries.length, 5);
    assert(result.deliveries.every((d) => d.status === 200), JSON.stringify(result.deliveries));
    assertEquals(hook.events.length, 5, "every delivery verified by stripe.webhooks.constructEventAsync");
    assertEquals(new Set(hook.events.map((e) => e.id)).size, 3);
    const e = byType(hook.events);
    assertEquals(Object.keys(e).sort(), ["charge.succeeded", "checkout.session.completed", "payment_intent.succeeded"]);
    const completed = e["checkout.session.completed"].data.object;
    const pi = e["payment_intent.succeeded"].data.object;
    const charge = e["charge.succeeded"].data.object;
    assertEquals([completed.id, completed.status, completed.payment_status, completed.payment_intent], [
      session.id,
      "complete",
      "paid",
      pi.id,
    ]);
    assertEquals([completed.metadata, pi.metadata, charge.metadata], [
      params.metadata,
      params.payment_intent_data!.metadata,
      pi.metadata,
    ]);
    assertEquals([pi.amount, pi.amount_received, charge.amount, completed.amount_total], [5000, 5000, 5000, 5000]);
    assertEquals([pi.latest_charge, charge.payment_intent, pi.currency], [charge.id, pi.id, "eur"]);
    assertEquals((await stripe.checkout.sessions.retrieve(session.id)).payment_intent, pi.id);

    // As Stripe orders them, or exactly the list asked for.
    const other = await stripe.checkout.sessions.create(ticketParams());
    const explicit = await control.trigger("checkout.session.paid", {
      session: other.id,
      sequence: ["checkout.session.completed", "payment_intent.succeeded", "checkout.session.completed"],
    });
    assertEquals(explicit.deliveries.map((d) => d.type), [
      "checkout.session.completed",
      "payment_intent.succeeded",
      "checkout.session.completed",
    ]);
    assertEquals(explicit.deliveries[0].event, explicit.deliveries[2].event);
    const paidTwice = await rejection(stripe.checkout.sessions.expire(other.id));
    assertEquals(paidTwice.statusCode, 400);

    const third = await stripe.checkout.sessions.create(ticketParams());
    const expired = await control.trigger("checkout.session.expired", { session: third.id });
    assertEquals([expired.events[0].type, expired.events[0].data.object.status], [
      "checkout.session.expired",
      "expired",
    ]);
  });
});

Deno.test("triggers: a subscription is paid, renewed, fails a renewal, cancels at period end and ends", async () => {
  await withStandIn(async ({ stripe, hook, control }) => {
    const meta = { user_id: "u-1", plan: "pro" };
    const session = await stripe.checkout.sessions.create(planParams(meta));
    const paid = await control.trigger("checkout.session.paid", { session: session.id });
    assertEquals(paid.deliveries.map((d) => [d.type, d.status]), [
      ["customer.created", 200],
      ["customer.subscription.created", 200],
      ["invoice.paid", 200],
      ["checkout.session.completed", 200],
    ]);
    const e = byType(hook.events);
    const sub = e["customer.subscription.created"].data.object as Stripe.Subscription;
    const completed = e["checkout.session.completed"].data.object as Stripe.Checkout.Session;
    const first = e["invoice.paid"].data.object as Stripe.Invoice;
    assertEquals([completed.mode, completed.subscription, completed.customer], ["subscription", sub.id, sub.customer]);
    assertEquals(sub.metadata, meta);
    assertEquals(first.parent?.subscription_details, { metadata: meta, subscription: sub.id });
    assertEquals([first.billing_reason, first.amount_paid, first.currency], ["subscription_create", 900, "eur"]);
    const period1 = first.lines.data[0].period;
    assertEquals(period1, { start: sub.items.data[0].current_period_start, end: sub.items.data[0].current_period_end });

    const renewed = await control.trigger("subscription.renewed", { subscription: sub.id });
    const second = renewed.events.find((x) => x.type === "invoice.paid")!.data.object as Stripe.Invoice;
    assertEquals(second.billing_reason, "subscription_cycle");
    assertEquals(second.lines.data[0].period.start, period1.end);
    assert(second.lines.data[0].period.end > period1.end);
    assertEquals(second.parent?.subscription_details?.metadata, meta);

    const failed = await control.trigger("subscription.renewal_failed", { subscription: sub.id });
    assertEquals(failed.events.map((x) => x.type), ["customer.subscription.updated", "invoice.payment_failed"]);
    const unpaid = failed.events[1].data.object as Stripe.Invoice;
    assertEquals([unpaid.status, unpaid.amount_paid, unpaid.attempt_count], ["open", 0, 1]);
    assertEquals([failed.events[0].data.object.status, failed.events[0].data.previous_attributes?.status], [
      "past_due",
      "active",
    ]);
    // Paid on the retry: the same invoice.
    const recovered = await control.trigger("subscription.renewed", { subscription: sub.id });
    const recoveredInvoice = recovered.events.find((x) => x.type === "invoice.paid")!.data.object;
    assertEquals([recoveredInvoice.id, recoveredInvoice.status], [unpaid.id, "paid"]);

    const cancelling = await control.trigger("subscription.cancel_at_period_end", { subscription: sub.id });
    const updated = cancelling.events[0];
    assertEquals([
      updated.type,
      updated.data.object.cancel_at_period_end,
      updated.data.previous_attributes?.cancel_at_period_end,
    ], [
      "customer.subscription.updated",
      true,
      false,
    ]);
    const ended = await control.trigger("subscription.ended", { subscription: sub.id });
    assertEquals([ended.events[0].type, ended.events[0].data.object.status], [
      "customer.subscription.deleted",
      "canceled",
    ]);
    assertEquals((await stripe.subscriptions.retrieve(sub.id)).status, "canceled");
  });
});

Deno.test("triggers: account.updated, payouts paid and failed on the connected account, transfer events", async () => {
  await withStandIn(async ({ stripe, control }) => {
    const account = await stripe.accounts.create({ type: "express", capabilities: { transfers: { requested: true } } });
    const onboarded = await control.trigger("account.updated", {
      account: account.id,
      payouts_enabled: true,
      requirements: { currently_due: [], past_due: [], disabled_reason: null },
    });
    const e = onboarded.events[0];
    assertEquals([e.type, e.account, e.data.object.payouts_enabled, e.data.previous_attributes?.payouts_enabled], [
      "account.updated",
      account.id,
      true,
      false,
    ]);
    assertEquals(e.data.object.requirements.currently_due, []);

    const transfer = await stripe.transfers.create({
      amount: 4000,
      currency: "eur",
      destination: account.id,
      metadata: { payout_id: "p-9", payout_attempt: "1" },
    });
    const created = await control.trigger("transfer.created", { transfer: transfer.id });
    assertEquals(
      [created.events[0].type, created.events[0].data.object.metadata.payout_id, created.events[0].account],
      ["transfer.created", "p-9", undefined],
    );
    const payout = await stripe.payouts.create({ amount: 4000, currency: "eur", metadata: { payout_id: "p-9" } }, {
      stripeAccount: account.id,
    });
    const paid = await control.trigger("payout.paid", { payout: payout.id });
    assertEquals([paid.events[0].type, paid.events[0].account, paid.events[0].data.object.status], [
      "payout.paid",
      account.id,
      "paid",
    ]);
    // The bank returns it.
    const failed = await control.trigger("payout.failed", { payout: payout.id, failure_code: "account_closed" });
    const f = failed.events[0].data.object as Stripe.Payout;
    assertEquals([failed.events[0].type, f.status, f.failure_code, failed.events[0].account], [
      "payout.failed",
      "failed",
      "account_closed",
      account.id,
    ]);

    const reversed = await control.trigger("transfer.reversed", { transfer: transfer.id });
    const t = reversed.events[0].data.object as Stripe.Transfer;
    assertEquals([reversed.events[0].type, t.amount_reversed, t.reversed], ["transfer.reversed", 4000, true]);
    const reversals = await control.requests({ path: "/v1/transfers/*" });
    assertEquals(reversals.length, 0, "a trigger is not an API request");
  });
});

Deno.test("a trigger without a webhook answers the events undelivered when asked, and refuses otherwise", async () => {
  const running = startStripeStandIn();
  try {
    const stripe = new Stripe(KEY, { host: "127.0.0.1", port: running.port, protocol: "http", maxNetworkRetries: 0 });
    const control = new StripeStandInClient(running.url);
    const session = await stripe.checkout.sessions.create(ticketParams());
    let refused = "";
    await control.trigger("checkout.session.expired", { session: session.id }).catch((e) => (refused = String(e)));
    assertMatch(refused, /No webhook/);
    const built = await control.trigger("checkout.session.paid", { session: session.id, deliver: false });
    assertEquals([built.deliveries.length, built.events.length], [0, 3]);
    const recorded: RecordedRequest[] = await control.requests();
    assertEquals(recorded.length, 1);
  } finally {
    await running.close();
  }
});

Deno.test("the backend pins the API version the stripe package is typed for, and the events use it", async () => {
  const rust = await Deno.readTextFile(new URL("../../edge/src/stripe_api.rs", import.meta.url));
  const pinned = rust.match(/pub const STRIPE_VERSION: &str = "([^"]+)";/)?.[1];
  assertEquals(pinned, Stripe.API_VERSION, "edge/src/stripe_api.rs STRIPE_VERSION is not the stripe package's version");
  const { API_VERSION, event } = await import("../../local/stripe_objects.ts");
  assertEquals(API_VERSION, Stripe.API_VERSION);
  assertEquals(event("customer.created", { id: "cus_1", object: "customer" }).api_version, Stripe.API_VERSION);
});

Deno.test("refunds: Stripe's rules for amounts, keys and reasons, the charge's amount_refunded, and charge.refunded delivered signed", async () => {
  await withStandIn(async ({ stripe, control, hook }) => {
    const session = await stripe.checkout.sessions.create(ticketParams());
    const paid = await control.trigger("checkout.session.paid", { session: session.id });
    const pi = (paid.objects.payment_intent as { id: string }).id;
    const chargeId = (paid.objects.charge as { id: string }).id;
    hook.events.length = 0;
    const before = (await control.deliveries()).length;

    const params: Stripe.RefundCreateParams = {
      payment_intent: pi,
      amount: 2000,
      reason: "requested_by_customer",
      metadata: { refund_request_id: "rr-1" },
    };
    const first = await stripe.refunds.create(params, { idempotencyKey: "refund-rr-1" });
    assertMatch(first.id, /^re_/);
    assertEquals([first.object, first.amount, first.currency, first.status, first.charge, first.payment_intent], [
      "refund",
      2000,
      "eur",
      "succeeded",
      chargeId,
      pi,
    ]);
    assertEquals(first.metadata, { refund_request_id: "rr-1" });
    assertEquals(await stripe.refunds.retrieve(first.id), first);

    // The same key answers the same refund, and refunds nothing more.
    const again = await stripe.refunds.create(params, { idempotencyKey: "refund-rr-1" });
    assertEquals(again.id, first.id);
    const charge = await control.object<{ amount_refunded: number; refunded: boolean }>(chargeId);
    assertEquals([charge.amount_refunded, charge.refunded], [2000, false]);
    const reused = await rejection(stripe.refunds.create({ ...params, amount: 1000 }, { idempotencyKey: "refund-rr-1" }));
    assertEquals([reused.statusCode, reused.type], [400, "StripeIdempotencyError"]);

    // Stripe's events follow the answer, signed with the endpoint's secret; a replay sends none.
    const deliveries = (await control.deliveries()).slice(before);
    assertEquals(deliveries.map((d) => [d.type, d.status]), [["charge.refunded", 200], ["refund.created", 200]]);
    const refunded = byType(hook.events)["charge.refunded"].data.object;
    assertEquals([refunded.id, refunded.payment_intent, refunded.amount_refunded, refunded.refunded], [
      chargeId,
      pi,
      2000,
      false,
    ]);
    assertEquals(byType(hook.events)["refund.created"].data.object.id, first.id);

    // More than is left is refused; the rest (amount omitted: all of it) is refunded by the charge.
    const tooMuch = await rejection(stripe.refunds.create({ payment_intent: pi, amount: 3001 }, { idempotencyKey: "refund-rr-2" }));
    assertEquals([tooMuch.statusCode, tooMuch.code, tooMuch.param], [400, "amount_too_large", "amount"]);
    const badReason = await rejection(
      stripe.refunds.create({ charge: chargeId, reason: "event_cancelled" }, { idempotencyKey: "refund-rr-3" }),
    );
    assertEquals([badReason.statusCode, badReason.param], [400, "reason"]);
    const rest = await stripe.refunds.create({ charge: chargeId }, { idempotencyKey: "refund-rr-4" });
    assertEquals(rest.amount, 3000);
    const full = await control.object<{ amount_refunded: number; refunded: boolean }>(chargeId);
    assertEquals([full.amount_refunded, full.refunded], [5000, true]);
    const done = await rejection(stripe.refunds.create({ payment_intent: pi, amount: 1 }, { idempotencyKey: "refund-rr-5" }));
    assertEquals([done.statusCode, done.code], [400, "charge_already_refunded"]);
    const unknown = await rejection(stripe.refunds.create({ payment_intent: "pi_unknown" }, { idempotencyKey: "refund-rr-6" }));
    assertEquals([unknown.statusCode, unknown.code, unknown.param], [400, "resource_missing", "payment_intent"]);
    const none = await rejection(stripe.refunds.create({ amount: 1 }, { idempotencyKey: "refund-rr-7" }));
    assertEquals(none.statusCode, 400);
    const missing = await rejection(stripe.refunds.retrieve("re_missing"));
    assertEquals([missing.statusCode, missing.code], [404, "resource_missing"]);

    const refundEvents = (await control.deliveries()).slice(before).filter((d) => d.type === "charge.refunded");
    assertEquals(refundEvents.length, 2, "one charge.refunded per refund made, none for a replay or a refusal");

    // Our worker's request is the library's for the same typed parameters.
    const [recorded] = await control.requests({ method: "POST", path: "/v1/refunds" });
    await expectSameAsStripeLibrary(recorded, params, "POST", "/v1/refunds");
  });
});
