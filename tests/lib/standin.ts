// The Stripe and Resend stand-ins (local/stripe.ts, local/resend.ts) from a test: their
// recorded requests and emails, faults, account state and triggers, over their /_stand-in/
// endpoints; and expectSameAsStripeLibrary, which checks that a request our code sent to Stripe
// is the one Stripe's own library sends for the same typed parameters.
//
// Nothing here needs the stack: the URLs default to ./stack env's STRIPE_API_BASE and
// RESEND_API_BASE, and tests that start their own stand-ins pass theirs.
import Stripe from "stripe";
import { assertEquals } from "./assert.ts";
import type { DeliveryOptions, Failure, FormParams, RecordedRequest, StripeErrorBody } from "../../local/stripe.ts";
import { StripeStandIn } from "../../local/stripe.ts";
import type { Email, ResendRequest } from "../../local/resend.ts";
import type { Fault } from "../../local/standin_http.ts";
import type { StripeEvent } from "../../local/stripe_objects.ts";

export type { Email, Fault, RecordedRequest, StripeEvent };

const envOr = (name: string, fallback: string) => Deno.env.get(name) || fallback;

async function call<T>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} on the stand-in: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

export interface TriggerResult {
  events: StripeEvent[];
  deliveries: { event: string; type: string; status: number | null; body: unknown; error?: string }[];
  seed: number;
  objects: Record<string, unknown>;
}

export type TriggerName =
  | "checkout.session.paid"
  | "checkout.session.expired"
  | "subscription.renewed"
  | "subscription.renewal_failed"
  | "subscription.cancel_at_period_end"
  | "subscription.ended"
  | "account.updated"
  | "payout.created"
  | "payout.paid"
  | "payout.failed"
  | "transfer.created"
  | "transfer.reversed";

/** The Stripe stand-in's control endpoints. */
export class StripeStandInClient {
  constructor(readonly base = envOr("STRIPE_API_BASE", "http://127.0.0.1:54340")) {}

  /** Recorded API requests, oldest first; `path` may end in `*` (a prefix); `since`: after that request's seq. */
  async requests(filter: { method?: string; path?: string; since?: number } = {}): Promise<RecordedRequest[]> {
    const q = new URLSearchParams();
    if (filter.method) q.set("method", filter.method);
    if (filter.path) q.set("path", filter.path);
    if (filter.since) q.set("since", String(filter.since));
    return (await call<{ requests: RecordedRequest[] }>(this.base, "GET", `/_stand-in/requests?${q}`)).requests;
  }

  async clearRequests() {
    await call(this.base, "DELETE", "/_stand-in/requests");
  }

  /** Forgets everything: objects, requests, idempotency keys, faults, deliveries. */
  async reset() {
    await call(this.base, "DELETE", "/_stand-in");
  }

  /** The next `times` calls of method + path answer `status` (Stripe-Should-Retry: should_retry), or lose the connection (drop). */
  async fault(
    f: { method: string; path: string; times?: number; status?: number; should_retry?: boolean; drop?: boolean },
  ): Promise<Fault> {
    return await call<Fault>(this.base, "POST", "/_stand-in/faults", f);
  }

  /** Calls matching every given field (account: Stripe-Account or destination; amount) fail with a Stripe error, `times` times (default: always). */
  async failure(f: {
    method?: string;
    path?: string;
    account?: string;
    amount?: number;
    times?: number;
    status?: number;
    error: Partial<StripeErrorBody>;
  }): Promise<Failure> {
    return await call<Failure>(this.base, "POST", "/_stand-in/failures", f);
  }

  async clearFaults() {
    await call(this.base, "DELETE", "/_stand-in/faults");
  }

  /** Sets an account's state without an event ({} or {onboarded: true}: payouts and charges enabled, nothing due). */
  async setAccount(id: string, state: Record<string, unknown>): Promise<Stripe.Account> {
    return await call<Stripe.Account>(this.base, "POST", `/_stand-in/accounts/${id}`, state);
  }

  /** Any object the stand-in holds, by id (sessions, payment intents, charges, invoices, …). */
  async object<T = Record<string, unknown>>(id: string): Promise<T> {
    return await call<T>(this.base, "GET", `/_stand-in/objects/${encodeURIComponent(id)}`);
  }

  /** The webhook deliveries made so far, oldest first, once those API calls started (a refund's events) are made. */
  async deliveries(): Promise<TriggerResult["deliveries"]> {
    return (await call<{ deliveries: TriggerResult["deliveries"] }>(this.base, "GET", "/_stand-in/deliveries")).deliveries;
  }

  /** Completes a flow and delivers its events (docs/local-stack.md, "Triggers"). */
  async trigger(name: TriggerName, body: Record<string, unknown> & DeliveryOptions): Promise<TriggerResult> {
    return await call<TriggerResult>(this.base, "POST", `/_stand-in/trigger/${name}`, body);
  }
}

/** The Resend stand-in's control endpoints. */
export class ResendStandInClient {
  constructor(readonly base = envOr("RESEND_API_BASE", "http://127.0.0.1:54341")) {}

  /** The emails accepted, oldest first (to: only those to that address). */
  async emails(to?: string): Promise<Email[]> {
    return (await call<{ emails: Email[] }>(
      this.base,
      "GET",
      `/_stand-in/emails${to ? `?to=${encodeURIComponent(to)}` : ""}`,
    )).emails;
  }

  async requests(): Promise<ResendRequest[]> {
    return (await call<{ requests: ResendRequest[] }>(this.base, "GET", "/_stand-in/requests")).requests;
  }

  async reset() {
    await call(this.base, "DELETE", "/_stand-in");
  }

  async fault(f: { method: string; path: string; times?: number; status?: number; drop?: boolean }): Promise<Fault> {
    return await call<Fault>(this.base, "POST", "/_stand-in/faults", f);
  }

  /** Resend's rate limit: at most `perSecond` requests answered in any second, the rest 429; null: none. */
  async rateLimit(perSecond: number | null): Promise<{ per_second: number | null }> {
    return await call(this.base, "POST", "/_stand-in/rate-limit", { per_second: perSecond });
  }

  /** Emails to `to` are refused with this error (default 422 validation_error). */
  async failure(f: { to: string; statusCode?: number; name?: string; message?: string }) {
    return await call(this.base, "POST", "/_stand-in/failures", f);
  }
}

// ---------------------------------------------------------------------------
// The same request as Stripe's library

interface Options {
  /** The Stripe-Account header the call carries (a connected account's payout). */
  stripeAccount?: string;
}

/**
 * Sends `params` through the official `stripe` client (to a private stand-in, so nothing of the
 * test's stand-in changes) and checks that what our code sent — `recorded`, a request the
 * stand-in recorded — has the same method, path, Stripe-Account and form parameters (nested, as
 * parsed from the body). The parameters are typed by the library: a field Stripe does not have,
 * or a wrong type, fails `deno check`.
 */
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.Checkout.SessionCreateParams,
  method: "POST",
  path: "/v1/checkout/sessions",
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.Checkout.SessionExpireParams,
  method: "POST",
  path: `/v1/checkout/sessions/${string}/expire`,
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.CustomerCreateParams,
  method: "POST",
  path: "/v1/customers",
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.BillingPortal.SessionCreateParams,
  method: "POST",
  path: "/v1/billing_portal/sessions",
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.AccountCreateParams,
  method: "POST",
  path: "/v1/accounts",
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.AccountLinkCreateParams,
  method: "POST",
  path: "/v1/account_links",
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.TransferCreateParams,
  method: "POST",
  path: "/v1/transfers",
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.TransferCreateReversalParams,
  method: "POST",
  path: `/v1/transfers/${string}/reversals`,
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.PayoutCreateParams,
  method: "POST",
  path: "/v1/payouts",
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.SubscriptionUpdateParams,
  method: "POST",
  path: `/v1/subscriptions/${string}`,
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  params: Stripe.RefundCreateParams,
  method: "POST",
  path: "/v1/refunds",
  opts?: Options,
): Promise<void>;
export async function expectSameAsStripeLibrary(
  recorded: RecordedRequest,
  // deno-lint-ignore no-explicit-any
  params: any,
  method: string,
  path: string,
  opts: Options = {},
): Promise<void> {
  const library = await libraryRequest(params, method, path, opts);
  assertEquals(
    { method: recorded.method, path: recorded.path, stripe_account: recorded.stripe_account, params: recorded.params },
    { method: library.method, path: library.path, stripe_account: library.stripe_account, params: library.params },
    `our ${recorded.method} ${recorded.path} differs from what Stripe's library sends for the same parameters`,
  );
}

/** What the `stripe` library sends for a call: recorded by a private stand-in. */
export async function libraryRequest(
  // deno-lint-ignore no-explicit-any
  params: any,
  method: string,
  path: string,
  opts: Options = {},
): Promise<RecordedRequest> {
  const standIn = new StripeStandIn();
  const stripe = new Stripe("sk_test_buckets_library_check", {
    httpClient: Stripe.createFetchHttpClient((input: string | URL | Request, init?: RequestInit) =>
      standIn.handle(new Request(input, init))
    ),
    host: "stand-in.local",
    protocol: "http",
    maxNetworkRetries: 0,
  });
  const options = opts.stripeAccount ? { stripeAccount: opts.stripeAccount } : {};
  const id = (re: RegExp) => {
    const m = path.match(re);
    if (!m) throw new Error(`expectSameAsStripeLibrary: no library call for ${method} ${path}`);
    return decodeURIComponent(m[1]);
  };
  const calls: [RegExp, () => Promise<unknown>][] = [
    [/^\/v1\/checkout\/sessions$/, () => stripe.checkout.sessions.create(params, options)],
    [
      /^\/v1\/checkout\/sessions\/[^/]+\/expire$/,
      () => stripe.checkout.sessions.expire(id(/sessions\/([^/]+)\/expire$/), params, options),
    ],
    [/^\/v1\/customers$/, () => stripe.customers.create(params, options)],
    [/^\/v1\/billing_portal\/sessions$/, () => stripe.billingPortal.sessions.create(params, options)],
    [/^\/v1\/accounts$/, () => stripe.accounts.create(params, options)],
    [/^\/v1\/account_links$/, () => stripe.accountLinks.create(params, options)],
    [/^\/v1\/transfers$/, () => stripe.transfers.create(params, options)],
    [
      /^\/v1\/transfers\/[^/]+\/reversals$/,
      () => stripe.transfers.createReversal(id(/transfers\/([^/]+)\/reversals$/), params, options),
    ],
    [/^\/v1\/payouts$/, () => stripe.payouts.create(params, options)],
    [/^\/v1\/refunds$/, () => stripe.refunds.create(params, options)],
    [/^\/v1\/subscriptions\/[^/]+$/, () => stripe.subscriptions.update(id(/subscriptions\/([^/]+)$/), params, options)],
  ];
  const found = calls.find(([re]) => re.test(path));
  if (!found || method !== "POST") throw new Error(`expectSameAsStripeLibrary: no library call for ${method} ${path}`);
  // The private stand-in knows none of the ids: the call may well be refused; it is recorded all the same.
  await found[1]().catch(() => undefined);
  const [request] = standIn.requests;
  if (!request) throw new Error(`the library sent nothing for ${method} ${path}`);
  return request;
}

export type { FormParams };
