// How the functions reach the database: through the transaction pooler (Supavisor on a hosted
// project, PgBouncer in the local stack), with a small pool, no prepared statements, bounded waits,
// and every statement run as the role the handler names, the way PostgREST runs a request.

import { postgres } from "./deps.ts";

export type Sql = ReturnType<typeof postgres>;

/** The roles a statement may run as; the handler chooses, the database enforces grants and RLS. */
export type DbRole = "anon" | "authenticated" | "service_role";

export interface Query {
  sql: string;
  params: unknown[];
  role: DbRole;
  /** What `request.jwt.claims` holds for the statement (auth.uid(), auth.jwt() read it). */
  claims: Record<string, unknown>;
}

/** How long one statement may run; the platform gives the API's `authenticated` role 8 s. */
export const STATEMENT_TIMEOUT = "8s";
const ROLES: ReadonlySet<string> = new Set(["anon", "authenticated", "service_role"]);

/**
 * The pool of one function instance. BUCKETS_DB_URL names the pooler's transaction port (a secret
 * set with `supabase secrets set`); SUPABASE_DB_URL, which the platform sets, is the fallback.
 * Serverless instances come and go, so each keeps at most 3 connections and drops idle ones.
 */
export function connect(env: (name: string) => string | undefined = (n) => Deno.env.get(n)): Sql {
  const url = env("BUCKETS_DB_URL") ?? env("SUPABASE_DB_URL");
  if (!url) throw new Error("set BUCKETS_DB_URL (the pooler's transaction-mode URL) or SUPABASE_DB_URL");
  return postgres(url, {
    max: 3,
    // A transaction pooler hands each transaction any server connection: no named statements.
    prepare: false,
    idle_timeout: 20,
    max_lifetime: 30 * 60,
    // Fail fast while the database or the pooler is unreachable: the caller gets a 503 and retries.
    connect_timeout: 3,
    connection: { application_name: "buckets-edge" },
    onnotice: () => {},
  });
}

/**
 * Runs `query` in one transaction after switching to its role and claims, in a statement of its
 * own: privileges and row level security are checked when a statement starts, so the switch must
 * come before, exactly as PostgREST does it (`set_config('role', …, true)` is `SET LOCAL ROLE`).
 */
export async function runAs(sql: Sql, query: Query): Promise<unknown[]> {
  if (!ROLES.has(query.role)) throw new Error(`refusing to run a statement as ${JSON.stringify(query.role)}`);
  return await sql.begin(async (tx) => {
    await tx.unsafe(
      "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), " +
        "set_config('statement_timeout', $3, true)",
      [query.role, JSON.stringify(query.claims), STATEMENT_TIMEOUT],
    );
    // deno-lint-ignore no-explicit-any
    return await tx.unsafe(query.sql, query.params as any[]);
  });
}
