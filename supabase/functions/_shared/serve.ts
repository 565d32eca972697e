// The Deno host of the Rust edge functions (crate `buckets_edge`, compiled to WASM).
//
// It does only I/O: read the request, hand it to the WASM `handle`, carry out the actions the handler
// answers — run an SQL statement as the role it names (db.ts) and hand the rows (or the error) to
// `complete` (or `fail`), make the HTTP calls it asks for (Stripe, Resend) and hand what came back to
// `received`, fetch the project's signing keys again — until it answers a response. Every rule,
// retries and backoff included, lives in Rust and is tested there; see edge/src/lib.rs for the protocol.

import init, { complete, fail, handle, host_settings, received } from "./edge/buckets_edge.js";
import { connect, type Query, runAs, SharedTransactions } from "./db.ts";

/** How long one outbound HTTP call may take before it counts as unanswered (the handler may retry). */
const OUTBOUND_TIMEOUT_MS = 1000 * Number(Deno.env.get("OUTBOUND_TIMEOUT_S") || 20);
/**
 * Keys are kept JWKS_CACHE_TTL_S seconds (default 600, as Supabase's edge caches them): a key removed
 * from the project's JWKS (revoked) stops verifying within that time. They are fetched again at
 * most every 30 s when a token names an unknown kid.
 */
const JWKS_TTL_MS = 1000 * Number(Deno.env.get("JWKS_CACHE_TTL_S") || 600);
const JWKS_MIN_REFETCH_MS = Math.min(30 * 1000, JWKS_TTL_MS);
const JWKS_FETCH_TIMEOUT_MS = 3000;

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}
type Respond = { respond: Answer; log?: Record<string, unknown> };
/** One HTTP call a handler asks for; the handler reads the answer, and decides whether to retry. */
interface Outbound {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}
type HttpResult = { status: number; headers: Record<string, string>; body: string } | { error: string };
type Action =
  | Respond
  | { query: Query; state: unknown }
  | { http: { calls: Outbound[]; delay_ms: number }; state: unknown }
  | { refresh_jwks: true };

/**
 * The project's JSON Web Key Set, from Supabase Auth's discovery URL, fetched only when a handler
 * asks for it (a token signed with a key pair): a function that never meets one (the Stripe webhook,
 * public keys, HS256 tokens) never fetches. A copy is handed out for JWKS_TTL_MS, after which the
 * handler gets none and asks again, so a revoked key stops verifying; a token with an unknown kid
 * asks too. Fetches happen at most every JWKS_MIN_REFETCH_MS (a flood of made-up kids costs nothing);
 * a failed fetch keeps the keys already known. The keys are serialised once per fetch, not per request.
 */
class KeySet {
  private json = "null";
  private fetchedAt = -Infinity;
  private inflight?: Promise<void>;

  constructor(private readonly url: string | undefined) {}

  /** What `handle` gets first: the copy while it is current (else none), and whether it is fresh. */
  current(): string {
    const age = Date.now() - this.fetchedAt;
    return this.describe(age <= JWKS_TTL_MS ? this.json : "null", age <= JWKS_MIN_REFETCH_MS);
  }

  /** A fresh copy, unless one was fetched moments ago. */
  async refresh(): Promise<string> {
    if (Date.now() - this.fetchedAt > JWKS_MIN_REFETCH_MS) await this.fetch();
    return this.describe(this.json, true);
  }

  private describe(jwks: string, fresh: boolean): string {
    return `{"jwks":${jwks},"fresh":${fresh}}`;
  }

  private fetch(): Promise<void> {
    if (!this.url) return Promise.resolve();
    this.inflight ??= (async () => {
      try {
        const res = await fetch(this.url!, { signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.json = JSON.stringify(await res.json());
      } catch (e) {
        logLine({ level: "warn", message: `cannot fetch the JWKS at ${this.url}: ${e}` });
      } finally {
        // A failure is retried no sooner than a refresh would be.
        this.fetchedAt = Date.now();
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }
}

/** Serves the edge function `fn` (its name under /functions/v1/) with Deno.serve. */
export async function serveEdge(fn: string): Promise<void> {
  const wasm = new URL("./edge/buckets_edge_bg.wasm", import.meta.url);
  const bytes = await Deno.readFile(wasm).catch((e) => {
    throw new Error(`cannot read ${wasm.pathname} (${e}); build the edge functions first (./stack up builds them)`);
  });
  await init({ module_or_path: bytes });
  // The environment variables the handlers read, the largest body a host buffers (handlers have their
  // own, lower limits) and the most steps (queries, rounds of HTTP calls) one request may take: the
  // handlers' own constants (edge/src/lib.rs host_settings).
  const settings: { env: string[]; max_body_bytes: number; max_steps: number } = JSON.parse(host_settings());
  const sql = connect();
  // Shared queries (passport.ingest, a scan's redeem) of concurrent requests commit together, at most
  // this many transactions of them at once (db.ts).
  const shared = new SharedTransactions(sql, Number(Deno.env.get("BUCKETS_DB_SHARED_TRANSACTIONS") || 2));
  const handlerEnv: Record<string, string> = {};
  for (const name of settings.env) {
    const value = Deno.env.get(name);
    if (value) handlerEnv[name] = value;
  }
  const env = JSON.stringify(handlerEnv);
  const supabaseUrl = handlerEnv.SUPABASE_URL?.replace(/\/+$/, "");
  const keys = new KeySet(supabaseUrl && `${supabaseUrl}/auth/v1/.well-known/jwks.json`);
  // A promise nobody awaits that rejects (a socket error on an idle connection while the database is
  // down, say) must not end the instance: the next request fails on its own and is answered.
  addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    logLine({ level: "error", function: fn, message: `unhandled rejection: ${event.reason}` });
  });

  /**
   * Carries out a handler's actions until it answers a response; `now` and `env` stay those the
   * request was handled with.
   */
  async function run(first: Action, now: number, requestId: string): Promise<Answer> {
    let action = first;
    for (let step = 0; step < settings.max_steps; step++) {
      if ("respond" in action) return respond(action);
      if ("refresh_jwks" in action) throw new Error("the handler asked for fresh keys after its first step");
      const state = JSON.stringify(action.state ?? null);
      let next: string;
      if ("query" in action) {
        try {
          const rows = await (action.query.shared !== undefined ? shared.run(action.query) : runAs(sql, action.query));
          next = complete(fn, state, JSON.stringify(rows), now, env, requestId);
        } catch (e) {
          const err = e as { code?: string; message?: string; detail?: string };
          const error = JSON.stringify({ code: err.code, message: err.message ?? String(e), detail: err.detail });
          next = fail(fn, state, error, now, env, requestId);
        }
      } else {
        const { calls, delay_ms } = action.http;
        if (delay_ms > 0) await new Promise((resolve) => setTimeout(resolve, delay_ms));
        const results = await Promise.all(calls.map(perform));
        next = received(fn, state, JSON.stringify(results), now, env, requestId);
      }
      action = JSON.parse(next);
    }
    throw new Error(`the handler took more than ${settings.max_steps} steps`);
  }

  Deno.serve(async (req) => {
    const requestId = crypto.randomUUID();
    try {
      const body = await readBody(req, settings.max_body_bytes);
      if (!body) {
        return answer(error(413, "request_too_large", `the request body is larger than ${settings.max_body_bytes} bytes`));
      }
      const head = JSON.stringify({
        method: req.method,
        url: req.url,
        headers: Object.fromEntries(req.headers),
        request_id: requestId,
      });
      const now = Date.now();
      let action: Action = JSON.parse(handle(fn, head, body, now, env, keys.current()));
      if ("refresh_jwks" in action) action = JSON.parse(handle(fn, head, body, now, env, await keys.refresh()));
      return answer(await run(action, now, requestId));
    } catch (e) {
      logLine({ level: "error", request_id: requestId, function: fn, status: 500, message: String(e), stack: (e as Error)?.stack });
      return answer(error(500, "internal", "the function failed; retry later or contact support", requestId));
    }
  });
}

/**
 * Makes one call as given (no redirects followed, no retries: the handler decides) and reports the
 * answer, whatever its status, or that none came.
 */
async function perform(call: Outbound): Promise<HttpResult> {
  try {
    const res = await fetch(call.url, {
      method: call.method,
      headers: call.headers,
      body: call.method === "GET" || call.method === "HEAD" ? undefined : call.body,
      redirect: "manual",
      signal: AbortSignal.timeout(OUTBOUND_TIMEOUT_MS),
    });
    return { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() };
  } catch (e) {
    // The URL's origin only: a query string may carry what the log should not.
    return { error: `${call.method} ${originOf(call.url)}: ${e instanceof Error ? e.message : String(e)}` };
  }
}

function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "(an invalid URL)";
  }
}

/** Writes what the handler asked to log (one JSON line, for the platform's log search) and answers. */
function respond(action: Respond): Answer {
  if (action.log) logLine(action.log);
  return action.respond;
}

function logLine(fields: Record<string, unknown>) {
  console.error(JSON.stringify({ at: new Date().toISOString(), ...fields }));
}

/**
 * The body bytes, or null when there are more than maxBytes (reading stops there). A body whose
 * Content-Length is given (and within the limit) is read in one piece, which costs less than reading
 * it chunk by chunk; the runtime enforces that the bytes match the length.
 */
async function readBody(req: Request, maxBytes: number): Promise<Uint8Array | null> {
  const length = req.headers.get("content-length");
  if (Number(length ?? 0) > maxBytes) return null;
  if (!req.body) return new Uint8Array();
  if (length !== null) return await req.bytes();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > maxBytes) return null;
    chunks.push(chunk);
  }
  const body = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    body.set(chunk, at);
    at += chunk.byteLength;
  }
  return body;
}

function error(status: number, code: string, message: string, requestId?: string): Answer {
  return {
    status,
    headers: {
      "content-type": "application/json",
      "access-control-allow-origin": "*",
      ...(requestId ? { "x-request-id": requestId } : {}),
    },
    body: JSON.stringify(requestId ? { code, message, request_id: requestId } : { code, message }),
  };
}

function answer(a: Answer): Response {
  return new Response(a.body === "" ? null : a.body, { status: a.status, headers: a.headers });
}
