// The functions' database client: node-postgres (`pg`, with its pool), plus one thing it does not do
// on its own, so that a statement run as a role takes one round trip through the transaction pooler.
//
// A function's statement must run after the caller's role and claims are set, in the same
// transaction (db.ts). As separate queries that is BEGIN, the settings, the statement and COMMIT: four
// round trips at least. Here every statement of a call goes in one write, as the extended protocol
// allows (Parse/Bind/Execute each, then one Sync), sent by a `Pipeline` that node-postgres runs as any
// other query (its documented extension point, a Submittable, the way pg-cursor works): everything
// before a Sync is one implicit transaction, the server runs the messages in order (so the role is in
// force when the statement is parsed, planned and checked), an error skips the rest and rolls the
// transaction back at the Sync, and nothing outlives it. PgBouncer and Supavisor in transaction mode
// give the server connection back at the ReadyForQuery after the Sync. Statements are unnamed (nothing
// prepared is left on a pooled server connection; PgBouncer before 1.21 cannot carry named ones, and
// pg_stat_statements measured their planning at under 1 % of a scan's database time: see
// docs/concierto-tokens.md#speed); parameters stay bound, sent as text.
//
// Connecting, authentication (SCRAM-SHA-256, which Supabase and the local PgBouncer use), TLS and the
// pool are node-postgres's. TLS: `sslmode=require`, `verify-ca` or `verify-full` in the URL turns it on
// with the certificate verified (against the system's CAs, or BUCKETS_DB_CA_CERT when set: Supabase's
// pooler CA); anything else is a plain connection, as on the local stack.

import { pg } from "./deps.ts";

/**
 * A failed statement or connection: `code` is the SQLSTATE, or one of this file's connection codes.
 * `fromServer`: the database reported it, so the transaction was rolled back; otherwise the
 * connection failed and whether the transaction committed is unknown.
 */
export class PgError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly detail?: string,
    readonly fromServer = false,
  ) {
    super(message);
  }
}

/** The connection codes, as edge/src/db.rs maps them (503, retry). */
const CONNECTION_CLOSED = "CONNECTION_CLOSED";
const CONNECT_TIMEOUT = "CONNECT_TIMEOUT";

export interface PoolOptions {
  max: number;
  idleTimeoutS: number;
  maxLifetimeS: number;
  connectTimeoutS: number;
  applicationName: string;
  /** PEM certificates to trust for TLS instead of the system's (Supabase's pooler CA, say). */
  caCerts?: string[];
}

/** One statement of a pipeline: its SQL, its parameters (JSON values, sent as text), whether its rows are wanted. */
export interface Statement {
  sql: string;
  params: unknown[];
  rows?: boolean;
}

type Row = Record<string, unknown>;

/** A parameter as text: objects and arrays as JSON. */
function paramText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "t" : "f";
  if (typeof value === "number" || typeof value === "bigint") return String(value);
  return JSON.stringify(value);
}

/** A column's text value as the handlers read it: booleans, small numbers and JSON parsed, the rest text. */
function value(type: number, text: string): unknown {
  switch (type) {
    case 16:
      return text === "t";
    case 21:
    case 23:
    case 26:
    case 700:
    case 701:
      return +text;
    case 114:
    case 3802:
      return JSON.parse(text);
    case 1082:
    case 1114:
    case 1184:
      return new Date(text);
    default:
      return text;
  }
}

interface Field {
  name: string;
  dataTypeID: number;
}

/**
 * The statements of one call, sent in one write and answered at the ReadyForQuery after their Sync: a
 * node-postgres Submittable (`submit` and the `handle…` callbacks its client calls while it is the
 * active query).
 */
class Pipeline {
  private columns: Field[] = [];
  private executed = 0;
  private error?: PgError;
  private readonly results: Row[][];
  readonly done: Promise<Row[][]>;
  private settle!: { resolve: (rows: Row[][]) => void; reject: (e: PgError) => void };

  constructor(private readonly statements: Statement[]) {
    this.results = statements.map(() => []);
    this.done = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
  }

  /**
   * Writes every message of the pipeline, then the Sync, as one write: the socket is corked while they
   * are queued (as node-postgres's own extended-protocol queries do), so the pipeline costs one system
   * call here and arrives at the pooler and the server in one piece, not one packet per message.
   */
  // deno-lint-ignore no-explicit-any
  submit(connection: any) {
    const stream = connection.stream;
    stream.cork?.();
    try {
      for (const s of this.statements) {
        connection.parse({ text: s.sql, name: "", types: [] });
        connection.bind({ portal: "", statement: "", values: s.params.map(paramText) });
        if (s.rows) connection.describe({ type: "P", name: "" });
        connection.execute({ portal: "", rows: 0 });
      }
      connection.sync();
    } finally {
      stream.uncork?.();
    }
  }

  handleRowDescription(msg: { fields: Field[] }) {
    this.columns = msg.fields;
  }

  handleDataRow(msg: { fields: (string | null)[] }) {
    if (!this.statements[this.executed]?.rows) return;
    const row: Row = {};
    msg.fields.forEach((text, i) => {
      const column = this.columns[i];
      row[column.name] = text === null ? null : value(column.dataTypeID, text);
    });
    this.results[this.executed].push(row);
  }

  handleCommandComplete() {
    this.executed++;
  }

  handleEmptyQuery() {
    this.executed++;
  }

  handlePortalSuspended() {
    // Every Execute asks for all rows (0), so no portal is ever suspended.
  }

  /**
   * A server error: the server skips to the Sync and rolls the transaction back; node-postgres stops
   * routing messages to this query, and waits for the ReadyForQuery before it sends the next one.
   * Anything else: the connection is gone.
   */
  handleError(e: unknown) {
    this.error = toPgError(e);
    this.settle.reject(this.error);
  }

  handleReadyForQuery() {
    if (this.error) return;
    if (this.executed !== this.statements.length) {
      this.settle.reject(new PgError(CONNECTION_CLOSED, "the database answered fewer statements than sent"));
    } else {
      this.settle.resolve(this.results);
    }
  }

  // deno-lint-ignore no-explicit-any
  handleCopyInResponse(connection: any) {
    connection.sendCopyFail("a pipeline does not copy");
  }

  handleCopyData() {}
}

/** A server error (it carries a SQLSTATE and severity) or a connection failure, as a PgError. */
function toPgError(e: unknown): PgError {
  if (e instanceof PgError) return e;
  // deno-lint-ignore no-explicit-any
  const err = e as any;
  if (err instanceof pg.DatabaseError || (typeof err?.code === "string" && /^[0-9A-Z]{5}$/.test(err.code) && err.severity)) {
    return new PgError(err.code, err.message, err.detail ?? undefined, true);
  }
  const message = err instanceof Error ? err.message : String(e);
  if (err?.code === "ECONNREFUSED") return new PgError("ECONNREFUSED", message);
  if (/timeout/i.test(message)) return new PgError(CONNECT_TIMEOUT, message);
  return new PgError(CONNECTION_CLOSED, message);
}

/** What node-postgres takes for TLS, from the URL's sslmode: off, or on with the certificate verified. */
function tlsOf(url: URL, caCerts?: string[]) {
  const mode = url.searchParams.get("sslmode") ?? "disable";
  url.searchParams.delete("sslmode");
  if (mode !== "require" && mode !== "verify-ca" && mode !== "verify-full") return false;
  return { rejectUnauthorized: true, ...(caCerts ? { ca: caCerts } : {}) };
}

/** A pool of connections to one database; `pipeline` borrows one for a single round trip. */
export class Pool {
  private readonly pool: InstanceType<typeof pg.Pool>;
  // Callers beyond `max` wait here, without a deadline, for a connection to come back, so that the
  // pool's connect timeout bounds only connecting (node-postgres counts a wait for a free client too).
  private busy = 0;
  private readonly queue: (() => void)[] = [];

  constructor(url: string, private readonly options: PoolOptions) {
    const u = new URL(url);
    if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") {
      throw new Error(`the database URL must start with postgresql://, not ${u.protocol}//`);
    }
    const ssl = tlsOf(u, options.caCerts);
    this.pool = new pg.Pool({
      connectionString: u.toString(),
      ssl,
      max: options.max,
      idleTimeoutMillis: options.idleTimeoutS * 1000,
      maxLifetimeSeconds: options.maxLifetimeS,
      connectionTimeoutMillis: options.connectTimeoutS * 1000,
      application_name: options.applicationName,
      // An instance at rest holds no connection, and does not keep the process alive.
      allowExitOnIdle: true,
    });
    // An idle connection that fails (the pooler restarted) is dropped by the pool; without a listener
    // the error would end the process.
    this.pool.on("error", () => {});
  }

  async pipeline(statements: Statement[]): Promise<Row[][]> {
    if (this.busy >= this.options.max) await new Promise<void>((resolve) => this.queue.push(resolve));
    else this.busy++;
    try {
      return await this.borrow(statements);
    } finally {
      const next = this.queue.shift();
      if (next) next();
      else this.busy--;
    }
  }

  private async borrow(statements: Statement[]): Promise<Row[][]> {
    let client;
    try {
      client = await this.pool.connect();
    } catch (e) {
      throw toPgError(e);
    }
    const pipeline = new Pipeline(statements);
    let broken: Error | undefined;
    // While a connection is lent out the pool does not listen for its errors: a connection that dies
    // now (the database restarted) must fail this call, not end the process with an unheard 'error'.
    const onError = (e: Error) => (broken = e);
    client.on("error", onError);
    try {
      client.query(pipeline);
      return await pipeline.done;
    } catch (e) {
      const error = toPgError(e);
      if (!error.fromServer) broken = error;
      throw error;
    } finally {
      client.removeListener("error", onError);
      // A connection that failed is closed, never handed to the next caller.
      client.release(broken ?? false);
    }
  }

  async end() {
    await this.pool.end();
  }
}
