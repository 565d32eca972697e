// Shared helpers for the end-to-end tests, benchmarks and demo: they talk to
// the running local stack (`./stack up`) exactly as the app and operators do.
import postgres from "postgres";
import { SignJWT } from "jose";
import { mintUserToken } from "../../local/jwt.ts";
export { mintToken } from "../../local/jwt.ts";

export function env(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set: run through ./stack (test, bench, demo) or eval "$(./stack env)"`);
  return value;
}

export const SUPABASE_URL = env("SUPABASE_URL");

/** The two hosts of the same edge functions (docs/workers.md): Supabase's Deno runtime, Cloudflare Workers. */
export type EdgeHost = "deno" | "workers";
/** The host this run calls: BUCKETS_EDGE_HOST=deno (the default: the local gateway) or workers (workerd). */
export const EDGE_HOST: EdgeHost = edgeHost(Deno.env.get("BUCKETS_EDGE_HOST") || "deno");
/** Where each host serves /functions/v1/<name>. */
export function functionsUrlOf(host: EdgeHost): string {
  return host === "workers" ? env("WORKERS_URL") : `${SUPABASE_URL}/functions/v1`;
}
export const FUNCTIONS_URL = functionsUrlOf(EDGE_HOST);

function edgeHost(name: string): EdgeHost {
  if (name !== "deno" && name !== "workers") throw new Error(`BUCKETS_EDGE_HOST must be deno or workers, not ${JSON.stringify(name)}`);
  return name;
}

/** A postgres.js client on the main cluster, as the operators' psql would be. */
export function db(max = 10) {
  return postgres(env("SUPABASE_DB_URL"), { max, onnotice: () => {} });
}

export type Sql = ReturnType<typeof db>;

/** An access token as Supabase Auth issues it for a signed-in user, valid for an hour (or until `expiresAt`, in epoch seconds). */
export async function userToken(sub: string, expiresAt = Math.floor(Date.now() / 1000) + 3600): Promise<string> {
  return await mintUserToken(sub, undefined, expiresAt);
}

/** A token signed with another key: the gateway must refuse it. */
export async function forgedToken(sub: string): Promise<string> {
  return await new SignJWT({ role: "authenticated", aud: "authenticated" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(new TextEncoder().encode("not-the-secret-not-the-secret-not-the-secret"));
}

export interface User {
  id: string;
  token: string;
}

/** Signs up a fresh user (a row in auth.users) and returns its token. */
export async function newUser(sql: Sql, email?: string): Promise<User> {
  const id = crypto.randomUUID();
  await sql`insert into auth.users (id, email) values (${id}, ${email ?? `${id}@test.buckets.local`})`;
  return { id, token: await userToken(id) };
}

/** Passport entries the Coliseum processor has not folded yet. */
export async function pendingEntries(sql: Sql): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from public.passport_entries where coliseum_processed_at is null`;
  return n;
}

export function serviceToken(): string {
  return env("SUPABASE_SERVICE_ROLE_KEY");
}

/** POSTs a JSON body (or raw text) to an edge function. */
export async function callFunction(
  name: string,
  body: unknown,
  opts: { token?: string | null; contentType?: string; method?: string; raw?: boolean } = {},
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { "content-type": opts.contentType ?? "application/json" };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const res = await fetch(`${FUNCTIONS_URL}/${name}`, {
    method: opts.method ?? "POST",
    headers,
    body: opts.method === "GET" ? undefined : opts.raw ? (body as string) : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // Left as text: the assertion that reads it will say what came back.
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** Runs `fn` inside a transaction as an app role, the way PostgREST does. */
export async function asRole<T>(
  sql: Sql,
  role: "anon" | "authenticated" | "service_role",
  sub: string | null,
  fn: (tx: Sql) => Promise<T>,
): Promise<T> {
  const claims = JSON.stringify(sub ? { sub, role } : { role });
  return await sql.begin(async (tx: any) => {
    await tx`select set_config('role', ${role}, true), set_config('request.jwt.claims', ${claims}, true)`;
    return await fn(tx);
  }) as T;
}

export const uuid = () => crypto.randomUUID();

/**
 * Polls `probe` until it answers something other than undefined or false, and returns that; throws naming
 * `what` after `seconds`. For what the stack does by itself (the processor, the functions, pg_cron).
 */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined | false>,
  { seconds = 20, everyMs = 50 }: { seconds?: number; everyMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const found = await probe();
    if (found !== undefined && found !== false) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${seconds} s`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
