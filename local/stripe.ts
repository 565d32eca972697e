// A local stand-in for Stripe's API (docs/local-stack.md, "Stripe and Resend stand-ins"): the
// endpoints the backend calls, answered with Stripe's published object shapes (typed with the
// `stripe` package), from in-memory state, with Stripe's authentication, form encoding,
// idempotency, Stripe-Account header and error shape. Under /_stand-in/ (not Stripe's): the
// recorded requests, fault injection, account state, and triggers that complete a flow the way
// a customer or a bank would and deliver genuinely signed events to the webhook.
//
//   deno run --allow-net=127.0.0.1 --allow-env local/stripe.ts
//
// Environment: STRIPE_STANDIN_PORT (default 54340), STRIPE_WEBHOOK_URL and STRIPE_WEBHOOK_SECRET
// (where triggers deliver, and the secret they sign with), STRIPE_SECRET_KEY (when set, the only
// key accepted; otherwise any sk_test_ key). Tests start it in-process with startStripeStandIn().
import type Stripe from "stripe";
import * as S from "./stripe_objects.ts";
import type { StripeEvent, StripeObject } from "./stripe_objects.ts";
import { FaultError, Faults, json, pathMatches, pickHeaders, type Running, serve } from "./standin_http.ts";

// ---------------------------------------------------------------------------
// Form parameters, as Stripe's libraries encode them: a[b][0][c]=v

export type FormValue = string | FormValue[] | { [key: string]: FormValue };
export type FormParams = { [key: string]: FormValue };

/** Parses `a[b][0][c]=v&e[]=x` into nested objects; objects keyed 0..n-1 (and `[]`) become arrays. */
export function parseForm(text: string): FormParams {
  const root: FormParams = {};
  for (const [key, value] of new URLSearchParams(text)) {
    const first = key.indexOf("[");
    const path = first < 0
      ? [key]
      : [key.slice(0, first), ...[...key.slice(first).matchAll(/\[([^\]]*)\]/g)].map((m) => m[1])];
    let node: Record<string, FormValue> = root;
    path.forEach((segment, i) => {
      const last = i === path.length - 1;
      // `expand[]=a&expand[]=b`: the next free index.
      const name = segment === "" ? String(Object.keys(node).length) : segment;
      if (last) {
        node[name] = value;
      } else {
        const next = node[name];
        if (typeof next !== "object" || next === null) node[name] = {};
        node = node[name] as Record<string, FormValue>;
      }
    });
  }
  return arrays(root) as FormParams;
}

function arrays(value: FormValue): FormValue {
  if (typeof value === "string" || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const entries = keys.map((k) => [k, arrays(value[k])] as const);
  if (keys.length > 0 && keys.every((k, i) => k === String(i))) return entries.map(([, v]) => v);
  return Object.fromEntries(entries);
}

// ---------------------------------------------------------------------------
// Errors in Stripe's shape

export interface StripeErrorBody {
  type: string;
  code?: string;
  decline_code?: string;
  message: string;
  param?: string;
}

class ApiError extends Error {
  constructor(readonly status: number, readonly body: StripeErrorBody) {
    super(body.message);
  }
}

const invalid = (message: string, param?: string, code?: string) =>
  new ApiError(400, { type: "invalid_request_error", message, ...(param ? { param } : {}), ...(code ? { code } : {}) });
const missingParam = (param: string) => invalid(`Missing required param: ${param}.`, param, "parameter_missing");
const noSuch = (what: string, id: string, param?: string) =>
  new ApiError(param ? 400 : 404, {
    type: "invalid_request_error",
    code: "resource_missing",
    message: `No such ${what}: '${id}'`,
    ...(param ? { param } : {}),
  });

/** A trigger option that must be a whole number ≥ 1 when given. */
function positiveInt(v: unknown, name: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) throw invalid(`${name} must be a whole number >= 1`, name);
  return v;
}

// ---------------------------------------------------------------------------
// Reading parameters

function str(p: FormParams, name: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
  const v = p[name];
  if (v === undefined || v === "") {
    if (opts.required) throw missingParam(name);
    return undefined;
  }
  if (typeof v !== "string") throw invalid(`Invalid string: ${name} must be a string`, name);
  if (opts.max && v.length > opts.max) {
    throw invalid(`Invalid string: ${name} must be at most ${opts.max} characters`, name);
  }
  return v;
}

function int(
  p: FormParams,
  name: string,
  opts: { required?: boolean; min?: number; param?: string } = {},
): number | undefined {
  const param = opts.param ?? name;
  const v = p[name];
  if (v === undefined || v === "") {
    if (opts.required) throw missingParam(param);
    return undefined;
  }
  if (typeof v !== "string" || !/^-?\d+$/.test(v)) {
    throw invalid(`Invalid integer: ${typeof v === "string" ? v : "(object)"}`, param, "parameter_invalid_integer");
  }
  const n = Number(v);
  if (opts.min !== undefined && n < opts.min) {
    throw invalid(`This value must be greater than or equal to ${opts.min}.`, param, "parameter_invalid_integer");
  }
  return n;
}

function bool(p: FormParams, name: string): boolean | undefined {
  const v = p[name];
  if (v === undefined || v === "") return undefined;
  if (v === "true") return true;
  if (v === "false") return false;
  throw invalid(`Invalid boolean: ${typeof v === "string" ? v : "(object)"}`, name);
}

function obj(p: FormParams, name: string, param = name): FormParams | undefined {
  const v = p[name];
  if (v === undefined || v === "") return undefined;
  if (typeof v !== "object" || Array.isArray(v)) throw invalid(`Invalid hash`, param, "parameter_invalid_empty");
  return v;
}

function arr(p: FormParams, name: string): FormValue[] | undefined {
  const v = p[name];
  if (v === undefined || v === "") return undefined;
  if (!Array.isArray(v)) throw invalid(`Invalid array`, name);
  return v;
}

/** Metadata as Stripe checks it: up to 50 string values, keys up to 40 characters, values up to 500; `key=` unsets. */
function metadata(p: FormParams, name = "metadata", base: Record<string, string> = {}): Record<string, string> {
  const m = obj(p, name);
  const out = { ...base };
  if (!m) return out;
  for (const [k, v] of Object.entries(m)) {
    if (typeof v !== "string") throw invalid(`Invalid metadata: values must be strings (${k})`, `${name}[${k}]`);
    if (k.length > 40) throw invalid(`Metadata keys can have up to 40 characters (${k})`, `${name}[${k}]`);
    if (v.length > 500) throw invalid(`Metadata values can have up to 500 characters (${k})`, `${name}[${k}]`);
    if (v === "") delete out[k];
    else out[k] = v;
  }
  if (Object.keys(out).length > 50) throw invalid("Metadata can have up to 50 keys", name);
  return out;
}

function currency(p: FormParams, name: string, param = name): string {
  const c = str(p, name);
  if (!c) throw missingParam(param);
  if (!/^[a-zA-Z]{3}$/.test(c)) throw invalid(`Invalid currency: ${c}`, param, "parameter_invalid_string");
  return c.toLowerCase();
}

function url(p: FormParams, name: string, opts: { required?: boolean } = {}): string | undefined {
  const v = str(p, name, { required: opts.required, max: 5000 });
  if (v === undefined) return undefined;
  try {
    new URL(v.replaceAll("{CHECKOUT_SESSION_ID}", "x"));
  } catch {
    throw invalid("Not a valid URL", name, "url_invalid");
  }
  return v;
}

// ---------------------------------------------------------------------------
// State

export interface RecordedRequest {
  seq: number;
  time: string;
  method: string;
  path: string;
  /** Query string and form body, parsed into nested objects (values are strings, as sent). */
  params: FormParams;
  body: string;
  headers: Record<string, string>;
  idempotency_key: string | null;
  stripe_account: string | null;
  stripe_version: string | null;
  status: number;
  /** Answered from the idempotency store (Idempotent-Replayed: true). */
  replayed: boolean;
  /** The injected fault or failure that answered it, if any. */
  injected: string | null;
}

export interface Failure {
  id: string;
  method: string | null;
  path: string | null;
  /** Matches the Stripe-Account header or a `destination` / `account` parameter. */
  account: string | null;
  /** Matches the `amount` parameter. */
  amount: number | null;
  /** How many more calls fail (null: every one). */
  remaining: number | null;
  status: number;
  error: StripeErrorBody;
}

interface SessionRecord {
  session: Stripe.Checkout.Session;
  lineItems: Stripe.LineItem[];
  paymentIntentMetadata: Record<string, string>;
  subscriptionMetadata: Record<string, string>;
}

interface SubscriptionRecord {
  sub: Stripe.Subscription;
  email: string | null;
  /**
   * A billing period of this many seconds instead of the price's interval: a test clock for the
   * tests, so that a period can end while they run (Stripe's own Test Clocks advance time instead).
   */
  periodSeconds: number | null;
  /** The renewal invoice not paid yet (after a failed renewal). */
  openInvoice: string | null;
}

interface PayoutRecord {
  payout: Stripe.Payout;
  account: string | null;
}

interface Stored {
  status: number;
  body: string;
  requestId: string;
  fingerprint: string;
}

export interface Delivery {
  event: string;
  type: string;
  status: number | null;
  // deno-lint-ignore no-explicit-any
  body: any;
  error?: string;
}

export interface StripeStandInOptions {
  webhookUrl?: string;
  webhookSecret?: string;
  /** The only secret key accepted; any sk_test_… key when unset. */
  secretKey?: string;
  /** Where the stand-in is reachable, for the URLs it hands out (Checkout, onboarding, portal). */
  publicUrl?: string;
}

export class StripeStandIn {
  readonly customers = new Map<string, Stripe.Customer>();
  readonly sessions = new Map<string, SessionRecord>();
  readonly accounts = new Map<string, Stripe.Account>();
  readonly transfers = new Map<string, Stripe.Transfer>();
  readonly payouts = new Map<string, PayoutRecord>();
  readonly subscriptions = new Map<string, SubscriptionRecord>();
  readonly invoices = new Map<string, Stripe.Invoice>();
  readonly paymentIntents = new Map<string, StripeObject>();
  readonly charges = new Map<string, StripeObject>();
  readonly refunds = new Map<string, Stripe.Refund>();
  /** Connected accounts' available balances, `acct:currency` → minor units. */
  readonly balances = new Map<string, number>();
  private idempotency = new Map<string, Stored>();
  requests: RecordedRequest[] = [];
  deliveries: (Delivery & { time: string })[] = [];
  readonly faults = new Faults();
  failures: Failure[] = [];
  private seq = 0;
  private invoiceNumber = 0;
  /** Deliveries that API calls started (a refund's events), not awaited by the call. */
  private background = new Set<Promise<unknown>>();

  constructor(readonly options: StripeStandInOptions = {}) {}

  reset() {
    for (
      const m of [
        this.customers,
        this.sessions,
        this.accounts,
        this.transfers,
        this.payouts,
        this.subscriptions,
        this.invoices,
        this.paymentIntents,
        this.charges,
        this.refunds,
        this.balances,
        this.idempotency,
      ]
    ) m.clear();
    this.requests = [];
    this.deliveries = [];
    this.faults.clear();
    this.failures = [];
  }

  private get base() {
    return this.options.publicUrl ?? "http://127.0.0.1:54340";
  }

  // -------------------------------------------------------------------------
  // HTTP

  handle = async (req: Request): Promise<Response> => {
    const u = new URL(req.url);
    if (u.pathname.startsWith("/_stand-in/") || u.pathname === "/_stand-in") {
      try {
        return await this.control(req, u);
      } catch (e) {
        if (e instanceof ApiError) return json(e.status, { error: e.body });
        if (e instanceof FaultError) return json(400, { error: { type: "invalid_request_error", message: e.message } });
        return json(400, {
          error: { type: "invalid_request_error", message: String(e instanceof Error ? e.message : e) },
        });
      }
    }
    if (u.pathname.startsWith("/c/pay/")) return await this.checkoutPage(req, u);
    return await this.api(req, u);
  };

  private async api(req: Request, u: URL): Promise<Response> {
    const body = req.method === "GET" || req.method === "DELETE" ? "" : await req.text();
    const params = { ...parseForm(u.search.slice(1)), ...parseForm(body) };
    const idempotencyKey = req.headers.get("idempotency-key");
    const stripeAccount = req.headers.get("stripe-account");
    const requestId = S.stripeId("req").slice(0, 18);
    const record: RecordedRequest = {
      seq: ++this.seq,
      time: new Date().toISOString(),
      method: req.method,
      path: u.pathname,
      params,
      body,
      headers: pickHeaders(req, [
        "authorization",
        "content-type",
        "idempotency-key",
        "stripe-account",
        "stripe-version",
        "user-agent",
      ]),
      idempotency_key: idempotencyKey,
      stripe_account: stripeAccount,
      stripe_version: req.headers.get("stripe-version"),
      status: 0,
      replayed: false,
      injected: null,
    };
    this.requests.push(record);
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      return json(status, payload, {
        "request-id": requestId,
        "stripe-version": record.stripe_version ?? S.API_VERSION,
        ...headers,
      });
    };

    const auth = this.authenticate(req.headers.get("authorization"));
    if (auth) return answer(401, { error: auth });

    const faulted = this.faults.respond(record, req.method, u.pathname, (status, fault) =>
      answer(
        status,
        status === 429
          ? {
            error: {
              type: "invalid_request_error",
              code: "rate_limit",
              message:
                "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
            },
          }
          : { error: { type: "api_error", message: "An unknown error occurred" } },
        fault.should_retry === null ? {} : { "stripe-should-retry": String(fault.should_retry) },
      ));
    if (faulted) return faulted;

    // Idempotency: keys are scoped to the account (platform or connected), and remembered for POSTs.
    const scope = `${stripeAccount ?? "platform"} ${idempotencyKey}`;
    const fingerprint = JSON.stringify([req.method, u.pathname, canonical(params)]);
    if (idempotencyKey && req.method === "POST") {
      if (idempotencyKey.length > 255) {
        return answer(400, { error: invalid("Idempotency keys can be at most 255 characters long.", undefined).body });
      }
      const stored = this.idempotency.get(scope);
      if (stored) {
        if (stored.fingerprint !== fingerprint) {
          return answer(400, {
            error: {
              type: "idempotency_error",
              message:
                `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
            },
          });
        }
        record.replayed = true;
        record.status = stored.status;
        return new Response(stored.body, {
          status: stored.status,
          headers: {
            "content-type": "application/json",
            "request-id": stored.requestId,
            "idempotent-replayed": "true",
            "idempotency-key": idempotencyKey,
          },
        });
      }
    }

    let status = 200;
    let payload: unknown;
    let save = false;
    try {
      const route = this.route(req.method, u.pathname);
      if (!route) {
        throw new ApiError(404, {
          type: "invalid_request_error",
          message: `Unrecognized request URL (${req.method}: ${u.pathname}).`,
        });
      }
      const failure = this.takeFailure(req.method, u.pathname, params, stripeAccount);
      if (failure) {
        record.injected = `failure ${failure.id}`;
        save = true;
        throw new ApiError(failure.status, failure.error);
      }
      payload = route(params, stripeAccount);
      save = true;
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      status = e.status;
      payload = { error: { ...e.body, request_log_url: `https://dashboard.stripe.com/test/logs/${requestId}` } };
    }
    if (save && idempotencyKey && req.method === "POST") {
      this.idempotency.set(scope, { status, body: JSON.stringify(payload), requestId, fingerprint });
    }
    const headers: Record<string, string> = {};
    if (idempotencyKey) headers["idempotency-key"] = idempotencyKey;
    return answer(status, payload, headers);
  }

  private authenticate(header: string | null): StripeErrorBody | null {
    // Bearer, or Basic with the key as the user name (curl -u sk_test_…:), as Stripe takes both.
    const basic = header?.match(/^Basic (.+)$/)?.[1];
    let key = header?.match(/^Bearer (.+)$/)?.[1];
    if (basic) {
      try {
        key = atob(basic).split(":")[0];
      } catch {
        key = undefined;
      }
    }
    if (!key) {
      return {
        type: "invalid_request_error",
        message:
          "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.",
      };
    }
    const ok = this.options.secretKey ? key === this.options.secretKey : /^(sk|rk)_test_[A-Za-z0-9_]+$/.test(key);
    if (ok) return null;
    return {
      type: "invalid_request_error",
      message: `Invalid API Key provided: ${key.slice(0, 8)}${"*".repeat(Math.max(0, key.length - 12))}${
        key.slice(-4)
      }`,
    };
  }

  private takeFailure(method: string, path: string, params: FormParams, account: string | null): Failure | undefined {
    const amount = typeof params.amount === "string" ? Number(params.amount) : null;
    const accounts = [account, params.destination, params.account].filter((a) => typeof a === "string");
    const failure = this.failures.find((f) =>
      (f.remaining === null || f.remaining > 0) &&
      (f.method === null || f.method === method) &&
      (f.path === null || pathMatches(f.path, path)) &&
      (f.account === null || accounts.includes(f.account)) &&
      (f.amount === null || f.amount === amount)
    );
    if (failure && failure.remaining !== null) failure.remaining--;
    this.failures = this.failures.filter((f) => f.remaining === null || f.remaining > 0);
    return failure;
  }

  private route(method: string, path: string): ((p: FormParams, account: string | null) => unknown) | undefined {
    const routes: [string, RegExp, (m: string[], p: FormParams, account: string | null) => unknown][] = [
      ["POST", /^\/v1\/checkout\/sessions$/, (_m, p) => this.createSession(p)],
      ["GET", /^\/v1\/checkout\/sessions\/([^/]+)$/, (m) => this.session(m[1]).session],
      [
        "GET",
        /^\/v1\/checkout\/sessions\/([^/]+)\/line_items$/,
        (m) => S.list(this.session(m[1]).lineItems, `/v1/checkout/sessions/${m[1]}/line_items`),
      ],
      ["POST", /^\/v1\/checkout\/sessions\/([^/]+)\/expire$/, (m) => this.expireSession(m[1]).session],
      ["POST", /^\/v1\/customers$/, (_m, p) => this.createCustomer(p)],
      ["GET", /^\/v1\/customers\/([^/]+)$/, (m) => this.customer(m[1])],
      ["POST", /^\/v1\/billing_portal\/sessions$/, (_m, p) => this.createPortalSession(p)],
      ["POST", /^\/v1\/accounts$/, (_m, p) => this.createAccount(p)],
      ["GET", /^\/v1\/accounts\/([^/]+)$/, (m) => this.account(m[1])],
      ["POST", /^\/v1\/account_links$/, (_m, p) => this.createAccountLink(p)],
      ["POST", /^\/v1\/transfers$/, (_m, p) => this.createTransfer(p)],
      ["GET", /^\/v1\/transfers\/([^/]+)$/, (m) => this.transfer(m[1])],
      ["POST", /^\/v1\/transfers\/([^/]+)\/reversals$/, (m, p) => this.reverseTransfer(m[1], p)],
      ["POST", /^\/v1\/payouts$/, (_m, p, a) => this.createPayout(p, a)],
      ["GET", /^\/v1\/payouts\/([^/]+)$/, (m, _p, a) => this.payout(m[1], a).payout],
      ["GET", /^\/v1\/subscriptions\/([^/]+)$/, (m) => this.subscription(m[1]).sub],
      ["POST", /^\/v1\/subscriptions\/([^/]+)$/, (m, p) => this.updateSubscription(m[1], p)],
      ["DELETE", /^\/v1\/subscriptions\/([^/]+)$/, (m) => this.endSubscription(m[1]).sub],
      ["GET", /^\/v1\/invoices\/([^/]+)$/, (m) => this.invoice(m[1])],
      ["POST", /^\/v1\/refunds$/, (_m, p) => this.createRefund(p)],
      ["GET", /^\/v1\/refunds\/([^/]+)$/, (m) => this.refund(m[1])],
    ];
    for (const [m, re, fn] of routes) {
      const match = path.match(re);
      if (m === method && match) return (p, a) => fn(match.map(decodeURIComponent), p, a);
    }
    return undefined;
  }

  // -------------------------------------------------------------------------
  // Lookups

  session(id: string): SessionRecord {
    const s = this.sessions.get(id);
    if (!s) throw noSuch("checkout.session", id);
    return s;
  }

  customer(id: string, param?: string): Stripe.Customer {
    const c = this.customers.get(id);
    if (!c) throw noSuch("customer", id, param);
    return c;
  }

  account(id: string, param?: string): Stripe.Account {
    const a = this.accounts.get(id);
    if (!a) throw noSuch("account", id, param);
    return a;
  }

  transfer(id: string): Stripe.Transfer {
    const t = this.transfers.get(id);
    if (!t) throw noSuch("transfer", id);
    return t;
  }

  payout(id: string, account?: string | null): PayoutRecord {
    const p = this.payouts.get(id);
    // A connected account's payout is visible only with its Stripe-Account header.
    if (!p || (account !== undefined && p.account !== account)) throw noSuch("payout", id);
    return p;
  }

  subscription(id: string): SubscriptionRecord {
    const s = this.subscriptions.get(id);
    if (!s) throw noSuch("subscription", id);
    return s;
  }

  invoice(id: string): Stripe.Invoice {
    const i = this.invoices.get(id);
    if (!i) throw noSuch("invoice", id);
    return i;
  }

  // -------------------------------------------------------------------------
  // Checkout

  private createSession(p: FormParams): Stripe.Checkout.Session {
    const mode = str(p, "mode", { required: true }) as Stripe.Checkout.Session.Mode;
    if (mode !== "payment" && mode !== "subscription") {
      throw invalid(`Invalid mode: the stand-in supports payment and subscription (got ${mode})`, "mode");
    }
    const items = arr(p, "line_items");
    if (!items || items.length === 0) {
      throw invalid("You must provide at least one line item (`line_items`).", "line_items", "parameter_missing");
    }
    if (p.customer !== undefined && p.customer_email !== undefined) {
      throw invalid("You may only specify one of these parameters: customer, customer_email.", "customer");
    }
    const customerId = str(p, "customer");
    if (customerId) this.customer(customerId, "customer");
    if (mode === "subscription" && p.payment_intent_data !== undefined) {
      throw invalid("You can not pass `payment_intent_data` in `subscription` mode.", "payment_intent_data");
    }
    if (mode === "payment" && p.subscription_data !== undefined) {
      throw invalid("You can not pass `subscription_data` in `payment` mode.", "subscription_data");
    }
    const created = S.nowSeconds();
    const expiresAt = int(p, "expires_at") ?? created + 86_400;
    if (expiresAt < created + 1800 - 5) {
      throw invalid(
        "The `expires_at` timestamp must be at least 30 minutes from Checkout Session creation.",
        "expires_at",
      );
    }
    if (expiresAt > created + 86_400) {
      throw invalid(
        "The `expires_at` timestamp must be less than 24 hours from Checkout Session creation.",
        "expires_at",
      );
    }

    const lineItems = items.map((raw, i) => {
      const param = `line_items[${i}]`;
      if (typeof raw !== "object" || Array.isArray(raw)) throw invalid("Invalid hash", param);
      const priceId = str(raw, "price");
      if (priceId) throw noSuch("price", priceId, `${param}[price]`);
      const pd = obj(raw, "price_data", `${param}[price_data]`);
      if (!pd) {
        throw invalid(
          `You must specify either \`price\` or \`price_data\` in \`${param}\`.`,
          `${param}[price_data]`,
          "parameter_missing",
        );
      }
      const quantity = int(raw, "quantity", { min: 1, param: `${param}[quantity]` });
      if (quantity === undefined) {
        throw invalid(
          `Quantity is required. Add \`quantity\` to \`${param}\``,
          `${param}[quantity]`,
          "parameter_missing",
        );
      }
      const unitAmount = int(pd, "unit_amount", {
        required: true,
        min: 0,
        param: `${param}[price_data][unit_amount]`,
      })!;
      const productData = obj(pd, "product_data", `${param}[price_data][product_data]`);
      const productId = str(pd, "product");
      if (!productData && !productId) throw missingParam(`${param}[price_data][product_data]`);
      const name = productData ? str(productData, "name", { max: 5000 }) : undefined;
      if (productData && !name) throw missingParam(`${param}[price_data][product_data][name]`);
      if (productData) metadata(productData, "metadata");
      const rec = obj(pd, "recurring", `${param}[price_data][recurring]`);
      let recurring: Stripe.Price.Recurring | null = null;
      if (rec) {
        const interval = str(rec, "interval", { required: true }) as Stripe.Price.Recurring.Interval;
        if (!["day", "week", "month", "year"].includes(interval)) {
          throw invalid(`Invalid recurring[interval]: ${interval}`, `${param}[price_data][recurring][interval]`);
        }
        const count =
          int(rec, "interval_count", { min: 1, param: `${param}[price_data][recurring][interval_count]` }) ?? 1;
        recurring = { interval, interval_count: count, meter: null, trial_period_days: null, usage_type: "licensed" };
      }
      if (mode === "payment" && recurring) {
        throw invalid(
          "You specified `payment` mode but passed a recurring price. Either switch to `subscription` mode or use only one-time prices.",
          `${param}[price_data][recurring]`,
        );
      }
      const price = S.price({
        currency: currency(pd, "currency", `${param}[price_data][currency]`),
        unit_amount: unitAmount,
        product: productId ?? S.stripeId("prod").slice(0, 19),
        recurring,
      });
      return S.checkoutLineItem(price, quantity, name ?? null);
    });
    const currencies = new Set(lineItems.map((l) => l.currency));
    if (currencies.size > 1) throw invalid("Checkout does not support multiple currencies.", "line_items");
    if (mode === "subscription" && !lineItems.some((l) => l.price?.recurring)) {
      throw invalid(
        "You must provide at least one recurring price in `subscription` mode when using prices.",
        "line_items",
      );
    }
    const total = lineItems.reduce((sum, l) => sum + l.amount_total, 0);
    const pid = obj(p, "payment_intent_data");
    const sd = obj(p, "subscription_data");
    const id = S.stripeId("cs_test");
    const session = S.checkoutSession({
      id,
      mode,
      created,
      expires_at: expiresAt,
      amount_subtotal: total,
      amount_total: total,
      currency: lineItems[0].currency,
      cancel_url: url(p, "cancel_url") ?? null,
      success_url: url(p, "success_url") ?? null,
      client_reference_id: str(p, "client_reference_id", { max: 200 }) ?? null,
      customer: customerId ?? null,
      customer_email: str(p, "customer_email", { max: 800 }) ?? null,
      metadata: metadata(p),
      url: `${this.base}/c/pay/${id}`,
    });
    this.sessions.set(id, {
      session,
      lineItems,
      paymentIntentMetadata: pid ? metadata(pid, "metadata") : {},
      subscriptionMetadata: sd ? metadata(sd, "metadata") : {},
    });
    return session;
  }

  private expireSession(id: string): SessionRecord {
    const rec = this.session(id);
    if (rec.session.status !== "open") {
      throw invalid(
        `Only Checkout Sessions with a status in ["open"] can be expired. This Checkout Session has a status of "${rec.session.status}".`,
        undefined,
        "checkout_session_not_open" as string,
      );
    }
    rec.session = { ...rec.session, status: "expired", url: null };
    return rec;
  }

  // -------------------------------------------------------------------------
  // Customers and the portal

  private createCustomer(p: FormParams): Stripe.Customer {
    const c = S.customer({
      email: str(p, "email", { max: 512 }) ?? null,
      name: str(p, "name", { max: 256 }) ?? null,
      description: str(p, "description") ?? null,
      phone: str(p, "phone", { max: 20 }) ?? null,
      metadata: metadata(p),
    });
    this.customers.set(c.id, c);
    return c;
  }

  private createPortalSession(p: FormParams): Stripe.BillingPortal.Session {
    const customer = str(p, "customer", { required: true })!;
    this.customer(customer, "customer");
    const id = S.stripeId("bps");
    return S.billingPortalSession({
      id,
      customer,
      return_url: url(p, "return_url") ?? null,
      url: `${this.base}/p/session/${id}`,
    });
  }

  // -------------------------------------------------------------------------
  // Connect

  private createAccount(p: FormParams): Stripe.Account {
    const controller = obj(p, "controller");
    const dashboard = controller ? obj(controller, "stripe_dashboard", "controller[stripe_dashboard]") : undefined;
    const dashboardType = dashboard ? str(dashboard, "type") : undefined;
    let type = str(p, "type") as Stripe.Account.Type | undefined;
    if (type && controller) throw invalid("You cannot specify both `type` and `controller`.", "type");
    if (!type && !controller) {
      throw invalid(
        "You must specify either `type` or `controller` when creating an account.",
        "type",
        "parameter_missing",
      );
    }
    if (type && !["express", "standard", "custom"].includes(type)) throw invalid(`Invalid type: ${type}`, "type");
    type ??= dashboardType === "full" ? "standard" : dashboardType === "none" ? "custom" : "express";
    const capabilities: Stripe.Account.Capabilities = {};
    const requested = obj(p, "capabilities") ?? {};
    for (const [name, v] of Object.entries(requested)) {
      if (typeof v !== "object" || Array.isArray(v)) throw invalid("Invalid hash", `capabilities[${name}]`);
      if (bool(v, "requested")) (capabilities as Record<string, string>)[name] = "inactive";
    }
    const schedule = obj(obj(obj(p, "settings") ?? {}, "payouts") ?? {}, "schedule") ?? {};
    const interval = str(schedule, "interval");
    if (interval && !["manual", "daily", "weekly", "monthly"].includes(interval)) {
      throw invalid(`Invalid settings[payouts][schedule][interval]: ${interval}`, "settings[payouts][schedule][interval]");
    }
    const a = S.account({
      type,
      capabilities,
      settings: S.accountSettings(interval ?? "daily"),
      country: str(p, "country") ?? "DE",
      email: str(p, "email") ?? null,
      metadata: metadata(p),
      ...(controller
        ? {
          controller: {
            fees: {
              payer:
                (str(obj(controller, "fees") ?? {}, "payer") ?? "application") as Stripe.Account.Controller.Fees.Payer,
            },
            is_controller: true,
            losses: {
              payments: (str(obj(controller, "losses") ?? {}, "payments") ??
                "application") as Stripe.Account.Controller.Losses.Payments,
            },
            requirement_collection: (str(controller, "requirement_collection") ??
              "stripe") as Stripe.Account.Controller.RequirementCollection,
            stripe_dashboard: { type: (dashboardType ?? "express") as Stripe.Account.Controller.StripeDashboard.Type },
            type: "application",
          },
        }
        : {}),
    });
    a.external_accounts = S.list([], `/v1/accounts/${a.id}/external_accounts`);
    this.accounts.set(a.id, a);
    return a;
  }

  private createAccountLink(p: FormParams): Stripe.AccountLink {
    const account = str(p, "account", { required: true })!;
    this.account(account, "account");
    const type = str(p, "type", { required: true })!;
    if (type !== "account_onboarding" && type !== "account_update") throw invalid(`Invalid type: ${type}`, "type");
    url(p, "refresh_url", { required: true });
    url(p, "return_url", { required: true });
    const created = S.nowSeconds();
    return {
      object: "account_link",
      created,
      expires_at: created + 300,
      url: `${this.base}/setup/e/${account}/${S.stripeId("x").slice(2, 14)}`,
    };
  }

  /** Sets an account's state (onboarding done, payouts enabled, requirements…); answers what changed. */
  setAccountState(id: string, p: Record<string, unknown>): { account: Stripe.Account; previous: StripeObject } {
    const before = this.account(id);
    const a: Stripe.Account = structuredClone(before);
    const fields = ["payouts_enabled", "charges_enabled", "details_submitted"] as const;
    const onboarded = p.onboarded ?? (!fields.some((f) => f in p) && !("requirements" in p));
    if (onboarded === true) {
      a.payouts_enabled = a.charges_enabled = a.details_submitted = true;
      a.requirements = S.accountRequirements([], null);
      a.capabilities = Object.fromEntries(Object.keys({ transfers: 1, ...a.capabilities }).map((c) => [c, "active"]));
    }
    for (const f of fields) {
      if (f in p) {
        if (typeof p[f] !== "boolean") throw invalid(`${f} must be a boolean`, f);
        a[f] = p[f] as boolean;
      }
    }
    if ("payouts_enabled" in p && onboarded !== true) {
      const status = p.payouts_enabled ? "active" : "inactive";
      a.capabilities = { ...a.capabilities, transfers: status };
    }
    if (p.requirements !== undefined) {
      if (typeof p.requirements !== "object" || p.requirements === null) {
        throw invalid("requirements must be an object", "requirements");
      }
      a.requirements = { ...a.requirements!, ...(p.requirements as Partial<Stripe.Account.Requirements>) };
    }
    if (p.capabilities !== undefined) {
      a.capabilities = { ...a.capabilities, ...(p.capabilities as Stripe.Account.Capabilities) };
    }
    const previous: StripeObject = {};
    for (const k of Object.keys(a) as (keyof Stripe.Account)[]) {
      if (JSON.stringify(a[k]) !== JSON.stringify(before[k])) previous[k] = before[k] ?? null;
    }
    this.accounts.set(id, a);
    return { account: a, previous };
  }

  private balanceKey = (account: string, currency: string) => `${account}:${currency}`;
  private addBalance(account: string, currency: string, amount: number) {
    const key = this.balanceKey(account, currency);
    this.balances.set(key, (this.balances.get(key) ?? 0) + amount);
  }

  private createTransfer(p: FormParams): Stripe.Transfer {
    const amount = int(p, "amount", { required: true, min: 1 })!;
    const cur = currency(p, "currency");
    const destination = str(p, "destination", { required: true })!;
    const dest = this.accounts.get(destination);
    if (!dest) throw invalid(`No such destination: '${destination}'`, "destination", "resource_missing");
    if (dest.capabilities?.transfers !== "active") {
      throw invalid(
        "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
        "destination",
        "insufficient_capabilities_for_transfer",
      );
    }
    const t = S.transfer({
      amount,
      currency: cur,
      destination,
      description: str(p, "description") ?? null,
      metadata: metadata(p),
      transfer_group: str(p, "transfer_group") ?? null,
      source_transaction: str(p, "source_transaction") ?? null,
    });
    this.transfers.set(t.id, t);
    this.addBalance(destination, cur, amount);
    return t;
  }

  refund(id: string): Stripe.Refund {
    const r = this.refunds.get(id);
    if (!r) throw noSuch("refund", id);
    return r;
  }

  /**
   * POST /v1/refunds as Stripe answers it: the charge named (or the PaymentIntent's latest charge),
   * the amount (all that is left when omitted) at most what is left unrefunded, Stripe's reasons
   * only. The refund succeeds at once, as a card refund does; the charge's amount_refunded grows, and
   * Stripe's events (charge.refunded, refund.created) go to the webhook after the answer, signed.
   */
  private createRefund(p: FormParams): Stripe.Refund {
    const piId = str(p, "payment_intent");
    const chargeParam = str(p, "charge");
    if (!piId && !chargeParam) throw invalid("One of the following params should be provided for this request: payment_intent or charge.");
    let chargeId = chargeParam;
    if (piId) {
      const pi = this.paymentIntents.get(piId);
      if (!pi) throw noSuch("payment_intent", piId, "payment_intent");
      const latest = typeof pi.latest_charge === "string" ? pi.latest_charge : pi.latest_charge?.id;
      if (chargeParam && chargeParam !== latest) {
        throw invalid(`The charge ${chargeParam} does not belong to the PaymentIntent ${piId}.`, "charge");
      }
      chargeId = latest;
    }
    const charge = chargeId ? this.charges.get(chargeId) : undefined;
    if (!charge) throw noSuch("charge", chargeId ?? "", "charge");
    const left = charge.amount - charge.amount_refunded;
    if (left === 0) throw invalid(`Charge ${charge.id} has already been refunded.`, undefined, "charge_already_refunded");
    const amount = int(p, "amount", { min: 1 }) ?? left;
    if (amount > left) {
      throw invalid(
        `Refund amount (${amount}) is greater than unrefunded amount on charge (${left})`,
        "amount",
        "amount_too_large",
      );
    }
    const reason = str(p, "reason");
    if (reason !== undefined && !["duplicate", "fraudulent", "requested_by_customer"].includes(reason)) {
      throw invalid(
        `Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer`,
        "reason",
      );
    }
    const r = S.refund({
      amount,
      currency: charge.currency,
      charge: charge.id,
      payment_intent: charge.payment_intent ?? null,
      metadata: metadata(p),
      reason: (reason ?? null) as Stripe.Refund.Reason | null,
    });
    this.refunds.set(r.id, r);
    const refunds = [r, ...(charge.refunds?.data ?? [])];
    const updated: StripeObject = {
      ...charge,
      amount_refunded: charge.amount_refunded + amount,
      refunded: charge.amount_refunded + amount === charge.amount,
      refunds: { ...charge.refunds, data: refunds, total_count: refunds.length },
    };
    this.charges.set(charge.id, updated);
    this.deliverLater([
      S.event("charge.refunded", updated, r.created, { previous: { amount_refunded: charge.amount_refunded, refunded: charge.refunded } }),
      S.event("refund.created", r, r.created),
    ]);
    return r;
  }

  private reverseTransfer(id: string, p: FormParams): Stripe.TransferReversal {
    const t = this.transfer(id);
    const remaining = t.amount - t.amount_reversed;
    const amount = int(p, "amount", { min: 1 }) ?? remaining;
    if (remaining === 0) {
      throw invalid(
        `Transfer ${id} has already been fully reversed.`,
        undefined,
        "transfer_already_reversed" as string,
      );
    }
    if (amount > remaining) {
      throw invalid(
        `Amount (${amount}) is greater than the unreversed amount of the transfer (${remaining}).`,
        "amount",
      );
    }
    const r = S.transferReversal({ amount, currency: t.currency, transfer: id, metadata: metadata(p) });
    const reversals = [r, ...t.reversals.data];
    this.transfers.set(id, {
      ...t,
      amount_reversed: t.amount_reversed + amount,
      reversed: t.amount_reversed + amount === t.amount,
      reversals: { ...t.reversals, data: reversals },
    });
    if (typeof t.destination === "string") this.addBalance(t.destination, t.currency, -amount);
    return r;
  }

  private createPayout(p: FormParams, account: string | null): Stripe.Payout {
    const amount = int(p, "amount", { required: true, min: 1 })!;
    const cur = currency(p, "currency");
    if (account) {
      const a = this.accounts.get(account);
      if (!a) {
        throw new ApiError(403, {
          type: "invalid_request_error",
          code: "account_invalid",
          message:
            `The provided key does not have access to account '${account}' (or that account does not exist). Application access may have been revoked.`,
        });
      }
      if (!a.payouts_enabled) {
        throw invalid("Payouts have been disabled on the connected account.", undefined, "payouts_not_allowed");
      }
      const available = this.balances.get(this.balanceKey(account, cur)) ?? 0;
      if (available < amount) {
        throw invalid(
          "You have insufficient funds in your Stripe account for this transfer.",
          "amount",
          "balance_insufficient",
        );
      }
      this.addBalance(account, cur, -amount);
    }
    const method = str(p, "method") ?? "standard";
    if (method !== "standard" && method !== "instant") throw invalid(`Invalid method: ${method}`, "method");
    const po = S.payout({
      amount,
      currency: cur,
      method,
      description: str(p, "description") ?? null,
      statement_descriptor: str(p, "statement_descriptor", { max: 22 }) ?? null,
      metadata: metadata(p),
    });
    this.payouts.set(po.id, { payout: po, account });
    return po;
  }

  // -------------------------------------------------------------------------
  // Subscriptions

  private updateSubscription(id: string, p: FormParams): Stripe.Subscription {
    const rec = this.subscription(id);
    if (rec.sub.status === "canceled") {
      throw invalid(
        "A canceled subscription can only update its cancellation_details and metadata.",
        undefined,
        "resource_missing",
      );
    }
    const cancel = bool(p, "cancel_at_period_end");
    const next = { ...rec.sub, metadata: metadata(p, "metadata", rec.sub.metadata) };
    if (cancel !== undefined) Object.assign(next, this.cancellation(rec.sub, cancel));
    rec.sub = next;
    return next;
  }

  private cancellation(sub: Stripe.Subscription, cancel: boolean): Partial<Stripe.Subscription> {
    return cancel
      ? {
        cancel_at_period_end: true,
        cancel_at: sub.items.data[0].current_period_end,
        canceled_at: S.nowSeconds(),
        cancellation_details: {
          comment: null,
          feedback: null,
          feedback_option: null,
          reason: "cancellation_requested",
        },
      }
      : {
        cancel_at_period_end: false,
        cancel_at: null,
        canceled_at: null,
        cancellation_details: { comment: null, feedback: null, feedback_option: null, reason: null },
      };
  }

  endSubscription(id: string): SubscriptionRecord {
    const rec = this.subscription(id);
    if (rec.sub.status === "canceled") {
      throw invalid(`No such subscription: '${id}' is already canceled`, undefined, "resource_missing");
    }
    const now = S.nowSeconds();
    rec.sub = {
      ...rec.sub,
      status: "canceled",
      ended_at: rec.sub.cancel_at_period_end && rec.sub.cancel_at ? Math.min(rec.sub.cancel_at, now) : now,
      canceled_at: rec.sub.canceled_at ?? now,
      cancellation_details: rec.sub.cancellation_details?.reason
        ? rec.sub.cancellation_details
        : { comment: null, feedback: null, feedback_option: null, reason: "cancellation_requested" },
    };
    return rec;
  }

  // -------------------------------------------------------------------------
  // Flows the triggers complete

  /** The customer pays an open session: its PaymentIntent and Charge, or its customer, subscription and first invoice. */
  paySession(id: string, opts: { email?: string; name?: string; periodSeconds?: number } = {}) {
    const rec = this.session(id);
    const s = rec.session;
    if (s.status !== "open") throw invalid(`Checkout Session ${id} is ${s.status}, not open`, "session");
    const now = S.nowSeconds();
    const existing = typeof s.customer === "string" ? this.customers.get(s.customer) : undefined;
    const email = opts.email ?? existing?.email ?? s.customer_email ??
      `fan.${id.slice(8, 16).toLowerCase()}@fans.example`;
    const details: Stripe.Checkout.Session.CustomerDetails = {
      address: null,
      business_name: null,
      email,
      individual_name: null,
      name: opts.name ?? existing?.name ?? "A Fan",
      phone: null,
      tax_exempt: "none",
      tax_ids: [],
    };
    const events: StripeEvent[] = [];
    const complete = (fields: Partial<Stripe.Checkout.Session>) =>
      rec.session = {
        ...s,
        status: "complete",
        payment_status: "paid",
        customer_details: details,
        url: null,
        ...fields,
      };
    const objects: Record<string, unknown> = {};
    if (s.mode === "payment") {
      const facts: S.PaymentFacts = {
        paymentIntent: S.stripeId("pi"),
        charge: S.stripeId("ch"),
        customer: existing?.id ?? null,
        amount: s.amount_total ?? 0,
        currency: s.currency ?? "eur",
        metadata: rec.paymentIntentMetadata,
        created: now,
      };
      const pi = S.paymentIntentObject(facts);
      const charge = S.chargeObject(facts);
      this.paymentIntents.set(pi.id, pi);
      this.charges.set(charge.id, charge);
      complete({ payment_intent: pi.id });
      events.push(
        S.event("charge.succeeded", charge, now),
        S.event("payment_intent.succeeded", pi, now),
        S.event("checkout.session.completed", rec.session, now),
      );
      Object.assign(objects, { payment_intent: pi, charge });
    } else {
      let cust = existing;
      if (!cust) {
        cust = S.customer({ email, name: details.name });
        this.customers.set(cust.id, cust);
        events.push(S.event("customer.created", cust, now));
      }
      const subId = S.stripeId("sub");
      const items = rec.lineItems.filter((l) => l.price?.recurring).map((l) => {
        const p = l.price!;
        const end = opts.periodSeconds
          ? now + opts.periodSeconds
          : S.periodEnd(now, p.recurring!.interval, p.recurring!.interval_count);
        return S.subscriptionItem(subId, { ...p, active: true }, l.quantity ?? 1, { start: now, end }, now);
      });
      let sub = S.subscription({
        id: subId,
        customer: cust.id,
        currency: s.currency ?? "eur",
        items: S.list(items, `/v1/subscription_items?subscription=${subId}`),
        metadata: rec.subscriptionMetadata,
        start_date: now,
        billing_cycle_anchor: now,
      });
      const inv = S.subscriptionInvoice(sub, {
        billingReason: "subscription_create",
        period: { start: items[0].current_period_start, end: items[0].current_period_end },
        status: "paid",
        created: now,
        customerEmail: cust.email,
        number: this.nextInvoiceNumber(),
      });
      sub = { ...sub, latest_invoice: inv.id };
      this.subscriptions.set(subId, {
        sub,
        email: cust.email,
        openInvoice: null,
        periodSeconds: opts.periodSeconds ?? null,
      });
      this.invoices.set(inv.id, inv);
      complete({ customer: cust.id, subscription: subId, invoice: inv.id });
      events.push(
        S.event("customer.subscription.created", sub, now),
        S.event("invoice.paid", inv, now),
        S.event("checkout.session.completed", rec.session, now),
      );
      Object.assign(objects, { customer: cust, subscription: sub, invoice: inv });
    }
    return { events, objects: { checkout_session: rec.session, ...objects } };
  }

  private nextInvoiceNumber() {
    return `BUCKETS-${String(++this.invoiceNumber).padStart(4, "0")}`;
  }

  /** The next period's invoice is paid (or, after a failed renewal, the open one). */
  renewSubscription(id: string) {
    const rec = this.subscription(id);
    const before = rec.sub;
    if (before.status === "canceled") throw invalid(`Subscription ${id} is canceled`, "subscription");
    if (before.cancel_at_period_end && !rec.openInvoice) {
      throw invalid(`Subscription ${id} cancels at the period end: end it instead`, "subscription");
    }
    const now = S.nowSeconds();
    let inv: Stripe.Invoice;
    let sub = before;
    if (rec.openInvoice) {
      const open = this.invoice(rec.openInvoice);
      inv = {
        ...open,
        status: "paid",
        amount_paid: open.amount_due,
        amount_remaining: 0,
        attempt_count: open.attempt_count + 1,
        next_payment_attempt: null,
        auto_advance: false,
        status_transitions: { ...open.status_transitions, paid_at: now },
      };
      rec.openInvoice = null;
    } else {
      sub = this.advancePeriod(before, rec.periodSeconds);
      inv = this.renewalInvoice(sub, rec, "paid", now);
    }
    sub = { ...sub, status: "active", latest_invoice: inv.id };
    rec.sub = sub;
    this.invoices.set(inv.id, inv);
    const events = [
      S.event("customer.subscription.updated", sub, now, { previous: diff(sub, before) }),
      S.event("invoice.paid", inv, now),
    ];
    return { events, objects: { subscription: sub, invoice: inv } };
  }

  /** The renewal's payment fails: the period moves on, the invoice stays open, the subscription is past_due. */
  failRenewal(id: string) {
    const rec = this.subscription(id);
    const before = rec.sub;
    if (before.status === "canceled") throw invalid(`Subscription ${id} is canceled`, "subscription");
    const now = S.nowSeconds();
    let inv: Stripe.Invoice;
    let sub = before;
    if (rec.openInvoice) {
      const open = this.invoice(rec.openInvoice);
      inv = { ...open, attempt_count: open.attempt_count + 1, next_payment_attempt: now + 3 * 86_400 };
    } else {
      if (before.cancel_at_period_end) {
        throw invalid(`Subscription ${id} cancels at the period end: end it instead`, "subscription");
      }
      sub = this.advancePeriod(before, rec.periodSeconds);
      inv = this.renewalInvoice(sub, rec, "open", now);
      rec.openInvoice = inv.id;
    }
    sub = { ...sub, status: "past_due", latest_invoice: inv.id };
    rec.sub = sub;
    this.invoices.set(inv.id, inv);
    const events = [S.event("invoice.payment_failed", inv, now)];
    const previous = diff(sub, before);
    if (Object.keys(previous).length > 0) {
      events.unshift(S.event("customer.subscription.updated", sub, now, { previous }));
    }
    return { events, objects: { subscription: sub, invoice: inv } };
  }

  private advancePeriod(sub: Stripe.Subscription, periodSeconds: number | null): Stripe.Subscription {
    const items = sub.items.data.map((item) => {
      const r = item.price.recurring!;
      const start = item.current_period_end;
      return {
        ...item,
        current_period_start: start,
        current_period_end: periodSeconds ? start + periodSeconds : S.periodEnd(start, r.interval, r.interval_count),
      };
    });
    return { ...sub, items: { ...sub.items, data: items } };
  }

  private renewalInvoice(
    sub: Stripe.Subscription,
    rec: SubscriptionRecord,
    status: "paid" | "open",
    now: number,
  ): Stripe.Invoice {
    const first = sub.items.data[0];
    return S.subscriptionInvoice(sub, {
      billingReason: "subscription_cycle",
      period: { start: first.current_period_start, end: first.current_period_end },
      status,
      created: now,
      customerEmail: rec.email,
      attemptCount: 1,
      nextPaymentAttempt: status === "open" ? now + 3 * 86_400 : null,
      number: this.nextInvoiceNumber(),
    });
  }

  cancelAtPeriodEnd(id: string, cancel: boolean) {
    const rec = this.subscription(id);
    const before = rec.sub;
    if (before.status === "canceled") throw invalid(`Subscription ${id} is canceled`, "subscription");
    rec.sub = { ...before, ...this.cancellation(before, cancel) };
    const now = S.nowSeconds();
    return {
      events: [S.event("customer.subscription.updated", rec.sub, now, { previous: diff(rec.sub, before) })],
      objects: { subscription: rec.sub },
    };
  }

  endSubscriptionFlow(id: string) {
    const rec = this.endSubscription(id);
    return { events: [S.event("customer.subscription.deleted", rec.sub)], objects: { subscription: rec.sub } };
  }

  updateAccountFlow(id: string, p: Record<string, unknown>) {
    const { account, previous } = this.setAccountState(id, p);
    return {
      events: [S.event("account.updated", account, S.nowSeconds(), { account: id, previous })],
      objects: { account },
    };
  }

  payoutFlow(id: string, outcome: "paid" | "failed" | "created", p: Record<string, unknown>) {
    const rec = this.payout(id);
    const before = rec.payout;
    if (
      outcome !== "created" && before.status !== "pending" && before.status !== "in_transit" &&
      !(outcome === "failed" && before.status === "paid")
    ) {
      throw invalid(`Payout ${id} is ${before.status}`, "payout");
    }
    let po = before;
    if (outcome === "paid") po = { ...before, status: "paid" };
    if (outcome === "failed") {
      const code = typeof p.failure_code === "string" ? p.failure_code : "could_not_process";
      const message = typeof p.failure_message === "string"
        ? p.failure_message
        : "The bank could not process this payout.";
      po = {
        ...before,
        status: "failed",
        failure_code: code,
        failure_message: message,
        failure_balance_transaction: S.stripeId("txn"),
      };
      if (rec.account) this.addBalance(rec.account, po.currency, po.amount);
    }
    rec.payout = po;
    const previous = outcome === "created" ? undefined : diff(po, before);
    const e = S.event(`payout.${outcome}`, po, S.nowSeconds(), { account: rec.account ?? undefined, previous });
    return { events: [e], objects: { payout: po } };
  }

  transferFlow(id: string, what: "created" | "reversed") {
    const before = this.transfer(id);
    if (what === "reversed" && before.amount_reversed < before.amount) {
      this.reverseTransfer(id, {});
    }
    const t = this.transfer(id);
    const previous = what === "reversed" ? diff(t, before) : undefined;
    return {
      events: [
        S.event(`transfer.${what}`, t, S.nowSeconds(), {
          previous: previous && Object.keys(previous).length ? previous : undefined,
        }),
      ],
      objects: { transfer: t },
    };
  }

  // -------------------------------------------------------------------------
  // Deliveries

  /** Where events go, and the secret they are signed with. */
  private webhook(opts: DeliveryOptions): { target: string; secret: string } {
    const target = opts.webhook_url ?? this.options.webhookUrl;
    const secret = this.options.webhookSecret;
    if (!target || !secret) {
      throw invalid(
        "No webhook to deliver to: start the stand-in with STRIPE_WEBHOOK_URL and STRIPE_WEBHOOK_SECRET (or pass webhook_url), or pass deliver: false",
        "webhook_url",
      );
    }
    return { target, secret };
  }

  /**
   * Delivers the events of an API call after its answer, in Stripe's order, when a webhook is set
   * (without one they are only built, as Stripe would send them to no endpoint).
   */
  private deliverLater(events: StripeEvent[]) {
    if (!this.options.webhookUrl || !this.options.webhookSecret) return;
    const p = new Promise((resolve) => setTimeout(resolve, 0))
      .then(() => this.deliver(events, { order: "as_stripe" }))
      .catch(() => undefined)
      .finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Waits for the deliveries that API calls started. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  async deliver(events: StripeEvent[], opts: DeliveryOptions): Promise<{ deliveries: Delivery[]; seed: number }> {
    const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    const random = mulberry32(seed);
    let sequence: StripeEvent[];
    if (opts.sequence) {
      sequence = opts.sequence.map((name) => {
        const e = events.find((e) => e.id === name || e.type === name);
        if (!e) {
          throw invalid(
            `sequence names ${name}, which is none of this trigger's events (${events.map((e) => e.type).join(", ")})`,
            "sequence",
          );
        }
        return e;
      });
    } else {
      sequence = [...events];
      if (opts.order === "reversed") sequence.reverse();
      if (opts.order === "shuffled") shuffle(sequence, random);
      for (let i = 0; i < (opts.duplicates ?? 0); i++) {
        const e = events[Math.floor(random() * events.length)];
        // A redelivery comes after the first delivery of its event.
        const first = sequence.indexOf(e);
        const at = first + 1 + Math.floor(random() * (sequence.length - first));
        sequence.splice(at, 0, e);
      }
    }
    if (opts.deliver === false) return { deliveries: [], seed };
    const { target, secret } = this.webhook(opts);
    const send = async (e: StripeEvent): Promise<Delivery> => {
      const payload = S.payloadOf(e);
      try {
        const res = await fetch(target, {
          method: "POST",
          headers: S.deliveryHeaders(await S.signPayload(payload, secret)),
          body: payload,
        });
        const text = await res.text();
        let body: unknown = text;
        try {
          body = text ? JSON.parse(text) : null;
        } catch {
          // Kept as text.
        }
        return { event: e.id, type: e.type, status: res.status, body };
      } catch (err) {
        return { event: e.id, type: e.type, status: null, body: null, error: String(err) };
      }
    };
    const deliveries = opts.parallel ? await Promise.all(sequence.map(send)) : [];
    if (!opts.parallel) { for (const e of sequence) deliveries.push(await send(e)); }
    const time = new Date().toISOString();
    this.deliveries.push(...deliveries.map((d) => ({ ...d, time })));
    return { deliveries, seed };
  }

  // -------------------------------------------------------------------------
  // /_stand-in/

  private async control(req: Request, u: URL): Promise<Response> {
    const path = u.pathname.replace(/\/+$/, "");
    // deno-lint-ignore no-explicit-any
    const body: any = req.method === "POST" ? await req.json().catch(() => ({})) : {};
    if (path === "/_stand-in/health") return json(200, { status: "ok" });
    if (path === "/_stand-in" && req.method === "DELETE") {
      this.reset();
      return json(200, { reset: true });
    }
    if (path === "/_stand-in/requests") {
      if (req.method === "DELETE") {
        this.requests = [];
        return json(200, { cleared: true });
      }
      const method = u.searchParams.get("method");
      const p = u.searchParams.get("path");
      const since = Number(u.searchParams.get("since") ?? 0);
      return json(200, {
        requests: this.requests.filter((r) =>
          (!method || r.method === method) && (!p || pathMatches(p, r.path)) && r.seq > since
        ),
      });
    }
    if (path === "/_stand-in/deliveries") {
      // The deliveries API calls started (a refund's events) are made before they are listed.
      await this.settled();
      if (req.method === "DELETE") this.deliveries = [];
      return json(200, { deliveries: this.deliveries });
    }
    if (path === "/_stand-in/faults") {
      if (req.method === "DELETE") {
        this.faults.clear();
        this.failures = [];
        return json(200, { cleared: true });
      }
      if (req.method === "GET") return json(200, { faults: this.faults.list, failures: this.failures });
      return json(200, this.faults.add(body));
    }
    if (path === "/_stand-in/failures" && req.method === "POST") {
      const e = body.error ?? {};
      if (typeof e.message !== "string" && typeof e.code !== "string") {
        throw invalid("a failure needs error.code or error.message", "error");
      }
      const failure: Failure = {
        id: S.stripeId("fail").slice(0, 13),
        method: typeof body.method === "string" ? body.method.toUpperCase() : null,
        path: typeof body.path === "string" ? body.path : null,
        account: typeof body.account === "string" ? body.account : null,
        amount: typeof body.amount === "number" ? body.amount : null,
        remaining: typeof body.times === "number" ? body.times : null,
        status: Number(body.status ?? 400),
        error: {
          type: e.type ?? "invalid_request_error",
          ...(e.code ? { code: e.code } : {}),
          ...(e.decline_code ? { decline_code: e.decline_code } : {}),
          message: e.message ?? `Injected failure: ${e.code}`,
          ...(e.param ? { param: e.param } : {}),
        },
      };
      this.failures.push(failure);
      return json(200, failure);
    }
    let m = path.match(/^\/_stand-in\/accounts\/([^/]+)$/);
    if (m && req.method === "POST") return json(200, this.setAccountState(m[1], body).account);
    m = path.match(/^\/_stand-in\/objects\/([^/]+)$/);
    if (m && req.method === "GET") {
      const id = m[1];
      const found = this.sessions.get(id)?.session ?? this.customers.get(id) ?? this.accounts.get(id) ??
        this.transfers.get(id) ??
        this.payouts.get(id)?.payout ?? this.subscriptions.get(id)?.sub ?? this.invoices.get(id) ??
        this.paymentIntents.get(id) ?? this.charges.get(id) ?? this.refunds.get(id);
      if (!found) throw noSuch("object", id);
      return json(200, found);
    }
    m = path.match(/^\/_stand-in\/trigger\/(.+)$/);
    if (m && req.method === "POST") return json(200, await this.trigger(m[1], body));
    throw new ApiError(404, {
      type: "invalid_request_error",
      message: `Unrecognized stand-in request (${req.method}: ${u.pathname}).`,
    });
  }

  // deno-lint-ignore no-explicit-any
  async trigger(name: string, body: any) {
    const need = (field: string) => {
      if (typeof body[field] !== "string" || body[field] === "") throw missingParam(field);
      return body[field] as string;
    };
    if (body.deliver !== false) this.webhook(body);
    let flow: { events: StripeEvent[]; objects: Record<string, unknown> };
    switch (name) {
      case "checkout.session.paid":
        flow = this.paySession(need("session"), {
          email: body.email,
          name: body.name,
          periodSeconds: positiveInt(body.period_seconds, "period_seconds"),
        });
        break;
      case "checkout.session.expired": {
        const rec = this.expireSession(need("session"));
        flow = {
          events: [S.event("checkout.session.expired", rec.session)],
          objects: { checkout_session: rec.session },
        };
        break;
      }
      case "subscription.renewed":
        flow = this.renewSubscription(need("subscription"));
        break;
      case "subscription.renewal_failed":
        flow = this.failRenewal(need("subscription"));
        break;
      case "subscription.cancel_at_period_end":
        flow = this.cancelAtPeriodEnd(need("subscription"), body.cancel_at_period_end !== false);
        break;
      case "subscription.ended":
        flow = this.endSubscriptionFlow(need("subscription"));
        break;
      case "account.updated":
        flow = this.updateAccountFlow(need("account"), body);
        break;
      case "payout.created":
      case "payout.paid":
      case "payout.failed":
        flow = this.payoutFlow(need("payout"), name.slice(7) as "created" | "paid" | "failed", body);
        break;
      case "transfer.created":
      case "transfer.reversed":
        flow = this.transferFlow(need("transfer"), name.slice(9) as "created" | "reversed");
        break;
      default:
        throw new ApiError(404, { type: "invalid_request_error", message: `Unknown trigger: ${name}` });
    }
    const { deliveries, seed } = await this.deliver(flow.events, body);
    return { events: flow.events, deliveries, seed, objects: flow.objects };
  }

  /** Stripe's hosted pages, reduced to a button: Checkout (pays the session and goes to success_url), onboarding, the portal. */
  private async checkoutPage(req: Request, u: URL): Promise<Response> {
    const id = decodeURIComponent(u.pathname.slice("/c/pay/".length));
    const rec = this.sessions.get(id);
    if (!rec) return new Response("No such Checkout Session", { status: 404 });
    if (req.method === "POST") {
      try {
        const flow = this.paySession(id);
        await this.deliver(flow.events, { order: "as_stripe" }).catch(() => undefined);
      } catch (e) {
        return new Response(String(e instanceof Error ? e.message : e), { status: 400 });
      }
      const success = rec.session.success_url?.replaceAll("{CHECKOUT_SESSION_ID}", id);
      return success ? Response.redirect(success, 303) : new Response("Paid", { status: 200 });
    }
    const s = rec.session;
    const esc = (t: string) => t.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
    const lines = rec.lineItems.map((l) =>
      `<li>${l.quantity} × ${esc(l.description ?? "item")}: ${l.amount_total} ${l.currency}</li>`
    ).join("");
    return new Response(
      `<!doctype html><title>Checkout (local stand-in)</title><h1>Pay ${s.amount_total} ${s.currency}</h1><ul>${lines}</ul>` +
        `<p>Status: ${s.status}</p><form method="post"><button${
          s.status === "open" ? "" : " disabled"
        }>Pay</button></form>`,
      { headers: { "content-type": "text/html; charset=utf-8" } },
    );
  }
}

export interface DeliveryOptions {
  /** as_stripe (default): the order Stripe usually sends them; shuffled; reversed. */
  order?: "as_stripe" | "shuffled" | "reversed";
  /** How many extra deliveries of events already delivered (Stripe's retries), at random places after the first. */
  duplicates?: number;
  /** An explicit order, by event type or id; a name twice is a redelivery of the same event. Overrides order and duplicates. */
  sequence?: string[];
  /** The seed of the shuffle and duplicates (the answer carries the one used). */
  seed?: number;
  /** false: build the events, deliver none (the caller delivers them). */
  deliver?: boolean;
  /** All at once instead of one after the other. */
  parallel?: boolean;
  webhook_url?: string;
}

// ---------------------------------------------------------------------------
// Helpers

function canonical(v: FormValue): unknown {
  if (typeof v === "string" || Array.isArray(v)) return Array.isArray(v) ? v.map(canonical) : v;
  return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canonical(v[k])]));
}

/** The fields of `before` that differ in `after` (Stripe's previous_attributes). */
// deno-lint-ignore no-explicit-any
function diff(after: any, before: any): StripeObject {
  const out: StripeObject = {};
  for (const k of Object.keys(before)) {
    if (JSON.stringify(after[k]) !== JSON.stringify(before[k])) out[k] = before[k];
  }
  return out;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle<T>(items: T[], random: () => number) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

// ---------------------------------------------------------------------------
// Serving

/** Starts the stand-in on 127.0.0.1 (port 0: any free port). */
export function startStripeStandIn(
  opts: StripeStandInOptions & { port?: number; log?: boolean } = {},
): Running<StripeStandIn> {
  const standIn = new StripeStandIn(opts);
  const running = serve(standIn, standIn.handle, opts.port, opts.log ? "stripe" : undefined);
  standIn.options.publicUrl ??= running.url;
  // Stops once the deliveries API calls started are made.
  const close = running.close;
  return { ...running, close: async () => (await standIn.settled(), await close()) };
}
