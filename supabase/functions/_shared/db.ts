// How the functions reach the database: through the transaction pooler (Supavisor on a hosted
// project, PgBouncer in the local stack), with a small pool, no prepared statements, bounded waits,
// and every statement run as the role the handler names, the way PostgREST runs a request, in one
// round trip (pg.ts).

import { PgError, Pool, type Statement } from "./pg.ts";

export type Sql = Pool;

/** The roles a statement may run as; the handler chooses, the database enforces grants and RLS. */
export type DbRole = "anon" | "authenticated" | "service_role";

export interface Query {
  sql: string;
  params: unknown[];
  role: DbRole;
  /** What `request.jwt.claims` holds for the statement (auth.uid(), auth.jwt() read it). */
  claims: Record<string, unknown>;
  /**
   * Set: it may share a transaction with other requests' shared queries (SharedTransactions), which run
   * in the order of these keys; queries that lock the same rows name them by the same key.
   */
  shared?: string;
}

/** How long one statement may run; the platform gives the API's `authenticated` role 8 s. */
export const STATEMENT_TIMEOUT = "8s";
const ROLES: ReadonlySet<string> = new Set(["anon", "authenticated", "service_role"]);
const SWITCH_SQL = "select set_config('role', $1, true), set_config('request.jwt.claims', $2, true), " +
  "set_config('statement_timeout', $3, true)";

/**
 * The pool of one function instance. BUCKETS_DB_URL names the pooler's transaction port (a secret
 * set with `supabase secrets set`); SUPABASE_DB_URL, which the platform sets, is the fallback.
 * Serverless instances come and go, so each keeps at most BUCKETS_DB_POOL_SIZE connections (8 unless
 * set: a connection is held for one round trip, and the pooler multiplexes them onto its own) and
 * drops idle ones.
 */
export function connect(env: (name: string) => string | undefined = (n) => Deno.env.get(n)): Sql {
  const url = env("BUCKETS_DB_URL") ?? env("SUPABASE_DB_URL");
  if (!url) throw new Error("set BUCKETS_DB_URL (the pooler's transaction-mode URL) or SUPABASE_DB_URL");
  const max = Number(env("BUCKETS_DB_POOL_SIZE") ?? 8);
  if (!Number.isInteger(max) || max < 1) throw new Error("BUCKETS_DB_POOL_SIZE must be a whole number of connections, 1 or more");
  return new Pool(url, {
    max,
    idleTimeoutS: 20,
    maxLifetimeS: 30 * 60,
    // Fail fast while the database or the pooler is unreachable: the caller gets a 503 and retries.
    connectTimeoutS: 3,
    applicationName: "buckets-edge",
    caCerts: env("BUCKETS_DB_CA_CERT") ? [env("BUCKETS_DB_CA_CERT")!] : undefined,
  });
}

/** The statements that run `query` as its role: the switch, then the statement, whose rows are wanted. */
function asRole(query: Query): Statement[] {
  if (!ROLES.has(query.role)) throw new Error(`refusing to run a statement as ${JSON.stringify(query.role)}`);
  return [
    { sql: SWITCH_SQL, params: [query.role, JSON.stringify(query.claims), STATEMENT_TIMEOUT] },
    { sql: query.sql, params: query.params, rows: true },
  ];
}

/**
 * Runs `query` in one transaction after switching to its role and claims, in a statement of its
 * own: privileges and row level security are checked when a statement starts, so the switch must
 * come before, exactly as PostgREST does it (`set_config('role', …, true)` is `SET LOCAL ROLE`).
 * Both statements go in one pipeline, one implicit transaction (pg.ts): one round trip.
 */
export async function runAs(sql: Sql, query: Query): Promise<unknown[]> {
  const [, rows] = await sql.pipeline(asRole(query));
  return rows;
}

interface Waiting {
  query: Query;
  resolve: (rows: unknown[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Runs the `shared` queries of one instance (edge/src/http.rs, Query) so that concurrent ones share a
 * transaction, as group commit shares a flush: at most `running` transactions at once; a query that
 * arrives while they all run waits, and the next transaction takes every query waiting (up to
 * `most`), each after its own role and claims. Under light load a query runs at once, alone.
 *
 * - Each request is answered after the transaction that holds its statement committed (the
 *   pipeline's ReadyForQuery), with its own statement's rows.
 * - The statements run in the order of their lock keys (`shared`: passport.ingest's caller,
 *   redeem's ticket), so two transactions that hold statements on the same rows lock them in the same
 *   order and do not deadlock each other over them.
 * - When the database refused any statement, it rolled the whole transaction back: each query is
 *   run again alone, and gets its own answer. When the connection failed, whether the transaction
 *   committed is unknown: every query gets the connection's error (a 503), as it would alone.
 */
export class SharedTransactions {
  private waiting: Waiting[] = [];
  private active = 0;

  constructor(private readonly sql: Sql, private readonly running: number, private readonly most = 64) {}

  run(query: Query): Promise<unknown[]> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ query, resolve, reject });
      this.next();
    });
  }

  private next() {
    while (this.active < this.running && this.waiting.length > 0) {
      const batch = this.waiting.splice(0, this.most);
      this.active++;
      this.commit(batch).finally(() => {
        this.active--;
        this.next();
      });
    }
  }

  private async commit(batch: Waiting[]) {
    if (batch.length === 1) return await alone(this.sql, batch[0]);
    batch.sort((a, b) => lockKey(a.query).localeCompare(lockKey(b.query)));
    let results: unknown[][];
    try {
      results = await this.sql.pipeline(batch.flatMap((w) => asRole(w.query)));
    } catch (e) {
      if (e instanceof PgError && e.fromServer) return await Promise.all(batch.map((w) => alone(this.sql, w)));
      for (const w of batch) w.reject(e);
      return;
    }
    batch.forEach((w, i) => w.resolve(results[2 * i + 1]));
  }
}

function lockKey(query: Query): string {
  return query.shared ?? "";
}

async function alone(sql: Sql, w: Waiting) {
  try {
    w.resolve(await runAs(sql, w.query));
  } catch (e) {
    w.reject(e);
  }
}
