// The Deno host of the Rust edge functions (crate `buckets_edge`, compiled to WASM).
//
// It does only I/O: read the request, hand it to the WASM `handle`, run the one SQL query the
// handler asks for, hand the rows (or the error) back to `complete` (or `fail`), write the
// answer. Every rule lives in Rust and is tested there; see edge/src/lib.rs for the protocol.

import init, { complete, fail, handle } from "./edge/buckets_edge.js";
import postgres from "npm:postgres@3.4.9";

/** A body larger than this is refused before it is buffered; handlers have their own, lower limits. */
const MAX_BODY_BYTES = 1024 * 1024;
/** The environment variables the handlers read. */
const HANDLER_ENV = ["SUPABASE_JWT_SECRET", "STRIPE_WEBHOOK_SECRET", "STRIPE_WEBHOOK_TOLERANCE_S", "TICKET_SIGNING_KEY"];

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}
type Respond = { respond: Answer };
type Action = Respond | { query: { sql: string; params: postgres.ParameterOrJSON<never>[] }; state: unknown };

/** Serves the edge function `fn` (its name under /functions/v1/) with Deno.serve. */
export async function serveEdge(fn: string): Promise<void> {
  const wasm = new URL("./edge/buckets_edge_bg.wasm", import.meta.url);
  const bytes = await Deno.readFile(wasm).catch((e) => {
    throw new Error(`cannot read ${wasm.pathname} (${e}); build the edge functions first (./stack up builds them)`);
  });
  await init({ module_or_path: bytes });
  const dbUrl = Deno.env.get("SUPABASE_DB_URL");
  if (!dbUrl) throw new Error("SUPABASE_DB_URL is not set");
  const sql = postgres(dbUrl, { max: 20, prepare: true });
  const handlerEnv: Record<string, string> = {};
  for (const name of HANDLER_ENV) {
    const value = Deno.env.get(name);
    if (value) handlerEnv[name] = value;
  }
  const env = JSON.stringify(handlerEnv);

  /** Carries out a handler's action; `now` is the time the request was handled with. */
  async function run(action: Action, now: number): Promise<Answer> {
    if ("respond" in action) return action.respond;
    const state = JSON.stringify(action.state ?? null);
    let rows;
    try {
      rows = await sql.unsafe(action.query.sql, action.query.params);
    } catch (e) {
      const err = e as { code?: string; message?: string };
      console.error(`${fn}: query failed: ${err.code ?? "no code"} ${err.message ?? e}`);
      return parse(fail(fn, state, JSON.stringify({ code: err.code, message: err.message })));
    }
    return parse(complete(fn, state, JSON.stringify(rows), now, env));
  }

  Deno.serve(async (req) => {
    try {
      const body = await readBody(req);
      if (!body) {
        return answer(error(413, "request_too_large", `the request body is larger than ${MAX_BODY_BYTES} bytes`));
      }
      const head = JSON.stringify({ method: req.method, url: req.url, headers: Object.fromEntries(req.headers) });
      const now = Date.now();
      return answer(await run(JSON.parse(handle(fn, head, body, now, env)), now));
    } catch (e) {
      console.error(`${fn}: ${e instanceof Error ? e.stack : e}`);
      return answer(error(500, "internal", "the function failed; retry later or contact support"));
    }
  });
}

function parse(json: string): Answer {
  return (JSON.parse(json) as Respond).respond;
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

function error(status: number, code: string, message: string): Answer {
  return {
    status,
    headers: { "content-type": "application/json", "access-control-allow-origin": "*" },
    body: JSON.stringify({ code, message }),
  };
}

function answer(a: Answer): Response {
  return new Response(a.body === "" ? null : a.body, { status: a.status, headers: a.headers });
}
