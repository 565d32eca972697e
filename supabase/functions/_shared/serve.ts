// The Deno host of the Rust edge functions (crate `buckets_edge`, compiled to WASM).
//
// It does only I/O: read the request, hand it to the WASM `handle`, carry out the action the handler
// answers — run its one SQL statement as the role it names (db.ts), fetch the project's signing keys
// again, or respond — and hand the rows (or the error) back to `complete` (or `fail`). Every rule
// lives in Rust and is tested there; see edge/src/lib.rs for the protocol.

import init, { complete, fail, handle } from "./edge/buckets_edge.js";
import { connect, type Query, runAs } from "./db.ts";

/** A body larger than this is refused before it is buffered; handlers have their own, lower limits. */
const MAX_BODY_BYTES = 1024 * 1024;
/** The environment variables the handlers read. */
const HANDLER_ENV = [
  "SUPABASE_URL",
  "JWT_SECRET",
  "SUPABASE_JWT_SECRET",
  "STRIPE_LIVEMODE",
  "STRIPE_WEBHOOK_SECRET",
  "STRIPE_WEBHOOK_TOLERANCE_S",
  "TICKET_SIGNING_KEY",
];
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
type Action = Respond | { query: Query; state: unknown } | { refresh_jwks: true };

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
  const sql = connect();
  const handlerEnv: Record<string, string> = {};
  for (const name of HANDLER_ENV) {
    const value = Deno.env.get(name);
    if (value) handlerEnv[name] = value;
  }
  const env = JSON.stringify(handlerEnv);
  const supabaseUrl = handlerEnv.SUPABASE_URL?.replace(/\/+$/, "");
  const keys = new KeySet(supabaseUrl && `${supabaseUrl}/auth/v1/.well-known/jwks.json`);
  // postgres.js rejects a promise nobody awaits when the pooler reports an error on an idle
  // connection (PgBouncer's "server login has been failing" while the database is down). The next
  // request fails on its own and is answered; the instance must not exit over it.
  addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    logLine({ level: "error", function: fn, message: `unhandled rejection: ${event.reason}` });
  });

  /** Carries out a handler's action; `now` is the time the request was handled with. */
  async function run(action: Action, now: number, requestId: string): Promise<Answer> {
    if ("respond" in action) return respond(action);
    if ("refresh_jwks" in action) throw new Error("the handler asked for fresh keys twice");
    const state = JSON.stringify(action.state ?? null);
    let rows;
    try {
      rows = await runAs(sql, action.query);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      const error = JSON.stringify({ code: err.code, message: err.message ?? String(e) });
      return respond(JSON.parse(fail(fn, state, error, requestId)));
    }
    return respond(JSON.parse(complete(fn, state, JSON.stringify(rows), now, env, requestId)));
  }

  Deno.serve(async (req) => {
    const requestId = crypto.randomUUID();
    try {
      const body = await readBody(req);
      if (!body) {
        return answer(error(413, "request_too_large", `the request body is larger than ${MAX_BODY_BYTES} bytes`));
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

/** Writes what the handler asked to log (one JSON line, for the platform's log search) and answers. */
function respond(action: Respond): Answer {
  if (action.log) logLine(action.log);
  return action.respond;
}

function logLine(fields: Record<string, unknown>) {
  console.error(JSON.stringify({ at: new Date().toISOString(), ...fields }));
}

/** The body bytes, or null when there are more than MAX_BODY_BYTES (reading stops there). */
async function readBody(req: Request): Promise<Uint8Array | null> {
  if (Number(req.headers.get("content-length") ?? 0) > MAX_BODY_BYTES) return null;
  if (!req.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of req.body) {
    size += chunk.byteLength;
    if (size > MAX_BODY_BYTES) return null;
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
