// The functions' database client: PostgreSQL's wire protocol, just what the functions need, so that a
// statement run as a role takes one round trip through the transaction pooler.
//
// A function's statement must run after the caller's role and claims are set, in the same
// transaction (db.ts). Through postgres.js that was six round trips: BEGIN, the settings (described,
// then bound: it describes every statement with parameters first when it may not prepare, as behind a
// transaction pooler), the statement (the same two), COMMIT. Here both statements go in one write as
// the extended protocol allows (Parse/Bind/Execute each, then one Sync): everything before a Sync is
// one implicit transaction, the server runs the messages in order (so the role is in force when the
// statement is parsed, planned and checked), an error skips the rest and rolls the transaction back at
// the Sync, and nothing outlives it. PgBouncer and Supavisor in transaction mode give the server
// connection back at the ReadyForQuery after the Sync. Parameters stay bound, sent as text.
//
// Connections: plain TCP, or TLS when the URL asks (sslmode=require, verify-ca, verify-full; the
// certificate is always verified, against the system's CAs and BUCKETS_DB_CA_CERT);
// authentication by SCRAM-SHA-256 (what Supabase and the local PgBouncer use), MD5 or a cleartext
// password. A small pool per instance, as postgres.js had: at most `max` connections, idle ones closed
// after `idleTimeoutS`, each replaced after `maxLifetimeS`, connects bounded by `connectTimeoutS`.

import { Buffer, createHash, createHmac, pbkdf2Sync, randomBytes } from "./deps.ts";

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

/** The connection codes, as postgres.js named them (edge/src/db.rs maps them to 503). */
const CONNECTION_CLOSED = "CONNECTION_CLOSED";
const CONNECT_TIMEOUT = "CONNECT_TIMEOUT";

export interface PoolOptions {
  max: number;
  idleTimeoutS: number;
  maxLifetimeS: number;
  connectTimeoutS: number;
  applicationName: string;
  /** PEM certificates to trust for TLS besides the system's (Supabase's pooler CA, say). */
  caCerts?: string[];
}

/** One statement of a pipeline: its SQL, its parameters (JSON values, sent as text), whether its rows are wanted. */
export interface Statement {
  sql: string;
  params: unknown[];
  rows?: boolean;
}

type Row = Record<string, unknown>;

interface Target {
  hostname: string;
  port: number;
  user: string;
  password: string;
  database: string;
  tls: "disable" | "require" | "verify";
}

function target(url: string): Target {
  const u = new URL(url);
  if (u.protocol !== "postgresql:" && u.protocol !== "postgres:") {
    throw new Error(`the database URL must start with postgresql://, not ${u.protocol}//`);
  }
  const mode = u.searchParams.get("sslmode") ?? "disable";
  return {
    hostname: u.hostname,
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.slice(1)) || decodeURIComponent(u.username),
    tls: mode === "require" ? "require" : mode === "verify-ca" || mode === "verify-full" ? "verify" : "disable",
  };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Builds frontend messages: a type byte, a length, then the fields. */
class Writer {
  private parts: Uint8Array[] = [];
  private size = 0;

  private push(bytes: Uint8Array) {
    this.parts.push(bytes);
    this.size += bytes.length;
  }

  int16(n: number) {
    this.push(new Uint8Array([(n >> 8) & 0xff, n & 0xff]));
    return this;
  }

  int32(n: number) {
    this.push(new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]));
    return this;
  }

  cstr(s: string) {
    this.push(encoder.encode(s));
    this.push(new Uint8Array([0]));
    return this;
  }

  bytes(b: Uint8Array) {
    this.push(b);
    return this;
  }

  /** The fields so far as one message of `type` (none: the startup message, which has no type). */
  message(type?: string): Uint8Array {
    const head = type ? 5 : 4;
    const out = new Uint8Array(head + this.size);
    const view = new DataView(out.buffer);
    if (type) out[0] = type.charCodeAt(0);
    view.setInt32(type ? 1 : 0, 4 + this.size);
    let at = head;
    for (const part of this.parts) {
      out.set(part, at);
      at += part.length;
    }
    return out;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A parameter as text, as postgres.js serialised it: objects and arrays as JSON. */
function paramText(value: unknown): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return encoder.encode(value);
  if (typeof value === "boolean") return encoder.encode(value ? "t" : "f");
  if (typeof value === "number" || typeof value === "bigint") return encoder.encode(String(value));
  return encoder.encode(JSON.stringify(value));
}

function parse(sql: string): Uint8Array {
  return new Writer().cstr("").cstr(sql).int16(0).message("P");
}

function bind(params: unknown[]): Uint8Array {
  const w = new Writer().cstr("").cstr("").int16(0).int16(params.length);
  for (const p of params) {
    const text = paramText(p);
    if (text === null) w.int32(-1);
    else w.int32(text.length).bytes(text);
  }
  return w.int16(0).message("B");
}

const DESCRIBE_PORTAL = new Writer().bytes(new Uint8Array(["P".charCodeAt(0)])).cstr("").message("D");
const EXECUTE = new Writer().cstr("").int32(0).message("E");
const SYNC = new Writer().message("S");
const TERMINATE = new Writer().message("X");

/** A text value as postgres.js parsed it by default. */
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

/** The fields of an ErrorResponse or NoticeResponse body, by their one-letter codes. */
function fields(body: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let at = 0;
  while (at < body.length && body[at] !== 0) {
    const code = String.fromCharCode(body[at]);
    const end = body.indexOf(0, at + 1);
    out[code] = decoder.decode(body.subarray(at + 1, end));
    at = end + 1;
  }
  return out;
}

class Reader {
  private buf = new Uint8Array(64 * 1024);
  private start = 0;
  private end = 0;

  constructor(private readonly conn: Deno.Conn) {}

  /** The next backend message: its type and body. */
  async next(): Promise<{ type: string; body: Uint8Array }> {
    await this.fill(5);
    const view = new DataView(this.buf.buffer, this.start);
    const type = String.fromCharCode(this.buf[this.start]);
    const length = view.getInt32(1);
    await this.fill(1 + length);
    const body = this.buf.slice(this.start + 5, this.start + 1 + length);
    this.start += 1 + length;
    return { type, body };
  }

  /** Reads until `n` unread bytes are buffered. */
  private async fill(n: number) {
    while (this.end - this.start < n) {
      if (this.start > 0) {
        this.buf.copyWithin(0, this.start, this.end);
        this.end -= this.start;
        this.start = 0;
      }
      if (this.buf.length < n) {
        const bigger = new Uint8Array(Math.max(n, 2 * this.buf.length));
        bigger.set(this.buf.subarray(0, this.end));
        this.buf = bigger;
      }
      const read = await this.conn.read(this.buf.subarray(this.end));
      if (read === null) throw new PgError(CONNECTION_CLOSED, "the database closed the connection");
      this.end += read;
    }
  }
}

function int32At(body: Uint8Array, at: number): number {
  return new DataView(body.buffer, body.byteOffset).getInt32(at);
}

function int16At(body: Uint8Array, at: number): number {
  return new DataView(body.buffer, body.byteOffset).getInt16(at);
}

/** One server connection (through the pooler), used by one transaction at a time. */
class Connection {
  broken = false;
  readonly born = Date.now();
  idleSince = Date.now();
  private reader: Reader;

  private constructor(private conn: Deno.Conn) {
    this.reader = new Reader(conn);
  }

  static async open(t: Target, options: PoolOptions): Promise<Connection> {
    const connecting = Deno.connect({ hostname: t.hostname, port: t.port });
    let conn: Deno.Conn | undefined;
    try {
      conn = await withTimeout(connecting, options.connectTimeoutS);
      if (t.tls !== "disable") conn = await withTimeout(startTls(conn, t, options.caCerts), options.connectTimeoutS);
      const c = new Connection(conn);
      await withTimeout(c.startup(t, options.applicationName), options.connectTimeoutS);
      return c;
    } catch (e) {
      if (conn) closeQuietly(conn);
      else connecting.then(closeQuietly, () => {});
      throw connectionError(e);
    }
  }

  private async write(bytes: Uint8Array) {
    for (let at = 0; at < bytes.length;) at += await this.conn.write(bytes.subarray(at));
  }

  private async startup(t: Target, applicationName: string) {
    await this.write(
      new Writer().int32(196608).cstr("user").cstr(t.user).cstr("database").cstr(t.database)
        .cstr("application_name").cstr(applicationName).cstr("").message(),
    );
    let scram: Scram | undefined;
    for (;;) {
      const { type, body } = await this.reader.next();
      if (type === "E") throw serverError(body);
      if (type === "Z") return;
      if (type !== "R") continue; // ParameterStatus, BackendKeyData, notices
      const kind = int32At(body, 0);
      if (kind === 0) continue;
      if (kind === 3) {
        await this.write(new Writer().cstr(t.password).message("p"));
      } else if (kind === 5) {
        const inner = createHash("md5").update(t.password + t.user).digest("hex");
        const outer = createHash("md5").update(inner).update(body.subarray(4, 8)).digest("hex");
        await this.write(new Writer().cstr("md5" + outer).message("p"));
      } else if (kind === 10) {
        scram = new Scram(t.password);
        const first = encoder.encode(scram.clientFirst());
        await this.write(new Writer().cstr("SCRAM-SHA-256").int32(first.length).bytes(first).message("p"));
      } else if (kind === 11 && scram) {
        await this.write(new Writer().bytes(encoder.encode(scram.clientFinal(decoder.decode(body.subarray(4))))).message("p"));
      } else if (kind === 12 && scram) {
        scram.verifyServer(decoder.decode(body.subarray(4)));
      } else {
        throw new PgError("28000", `the database asked for an authentication method this client does not speak (${kind})`);
      }
    }
  }

  /**
   * Runs the statements in one implicit transaction, in one round trip, and answers the rows of each
   * (empty for a statement whose rows are not wanted). A server error fails the whole (it was rolled
   * back at the Sync); the connection stays usable. Anything else breaks the connection.
   */
  async pipeline(statements: Statement[]): Promise<Row[][]> {
    const messages: Uint8Array[] = [];
    for (const s of statements) {
      messages.push(parse(s.sql), bind(s.params));
      if (s.rows) messages.push(DESCRIBE_PORTAL);
      messages.push(EXECUTE);
    }
    messages.push(SYNC);
    try {
      await this.write(concat(messages));
      let error: PgError | undefined;
      let columns: { name: string; type: number }[] = [];
      const results: Row[][] = statements.map(() => []);
      let executed = 0;
      for (;;) {
        const { type, body } = await this.reader.next();
        if (type === "T") columns = rowDescription(body);
        else if (type === "D" && statements[executed]?.rows) results[executed].push(dataRow(body, columns));
        else if (type === "C" || type === "I") executed++;
        else if (type === "E") error = serverError(body);
        else if (type === "Z") {
          if (error) throw error;
          if (executed !== statements.length) throw new PgError(CONNECTION_CLOSED, "the database answered fewer statements than sent");
          this.idleSince = Date.now();
          return results;
        }
        // Anything else (ParseComplete, BindComplete, NoData, notices, ParameterStatus) says nothing we need.
      }
    } catch (e) {
      if (!(e instanceof PgError) || !e.fromServer) this.broken = true;
      throw e instanceof PgError ? e : connectionError(e);
    }
  }

  close() {
    this.broken = true;
    this.conn.write(TERMINATE).catch(() => {}).finally(() => closeQuietly(this.conn));
  }
}

function closeQuietly(conn: Deno.Conn) {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

function rowDescription(body: Uint8Array): { name: string; type: number }[] {
  const count = int16At(body, 0);
  const columns = [];
  let at = 2;
  for (let i = 0; i < count; i++) {
    const end = body.indexOf(0, at);
    const name = decoder.decode(body.subarray(at, end));
    at = end + 1;
    const type = int32At(body, at + 6);
    at += 18;
    columns.push({ name, type });
  }
  return columns;
}

function dataRow(body: Uint8Array, columns: { name: string; type: number }[]): Row {
  const count = int16At(body, 0);
  const row: Row = {};
  let at = 2;
  for (let i = 0; i < count; i++) {
    const length = int32At(body, at);
    at += 4;
    const column = columns[i];
    if (length < 0) {
      row[column.name] = null;
      continue;
    }
    row[column.name] = value(column.type, decoder.decode(body.subarray(at, at + length)));
    at += length;
  }
  return row;
}

function serverError(body: Uint8Array): PgError {
  const f = fields(body);
  return new PgError(f.C ?? "XX000", f.M ?? "the database reported an error", f.D, true);
}

/** Anything but the server's own error: the connection is gone or never came. */
function connectionError(e: unknown): PgError {
  if (e instanceof PgError) return e;
  if (e instanceof Deno.errors.ConnectionRefused) return new PgError("ECONNREFUSED", String(e));
  if (e instanceof Deno.errors.TimedOut) return new PgError(CONNECT_TIMEOUT, String(e));
  return new PgError(CONNECTION_CLOSED, e instanceof Error ? e.message : String(e));
}

async function withTimeout<T>(promise: Promise<T>, seconds: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Deno.errors.TimedOut(`no answer within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** SSLRequest, then TLS over the same socket. */
async function startTls(conn: Deno.Conn, t: Target, caCerts?: string[]): Promise<Deno.Conn> {
  await conn.write(new Writer().int32(80877103).message());
  const answer = new Uint8Array(1);
  if ((await conn.read(answer)) !== 1 || answer[0] !== "S".charCodeAt(0)) {
    throw new PgError("08P01", "the database does not accept TLS, which the URL's sslmode asks for");
  }
  // Deno always verifies the server's certificate and name, so require is as strict as verify-full
  // here: a private CA (Supabase's pooler) is trusted through caCerts (BUCKETS_DB_CA_CERT).
  return await Deno.startTls(conn as Deno.TcpConn, { hostname: t.hostname, caCerts });
}

/** SCRAM-SHA-256 (RFC 7677) as PostgreSQL runs it: no channel binding, the user from the startup. */
class Scram {
  private readonly nonce = randomBytes(18).toString("base64");
  private clientFirstBare = "";
  private serverSignature = "";

  constructor(private readonly password: string) {}

  clientFirst(): string {
    this.clientFirstBare = `n=*,r=${this.nonce}`;
    return `n,,${this.clientFirstBare}`;
  }

  clientFinal(serverFirst: string): string {
    const attrs = Object.fromEntries(serverFirst.split(",").map((kv) => [kv[0], kv.slice(2)]));
    if (!attrs.r?.startsWith(this.nonce)) throw new PgError("28000", "the database's SCRAM nonce does not extend ours");
    const salted = pbkdf2Sync(this.password, Buffer.from(attrs.s, "base64"), Number(attrs.i), 32, "sha256");
    const clientKey = createHmac("sha256", salted).update("Client Key").digest();
    const storedKey = createHash("sha256").update(clientKey).digest();
    const withoutProof = `c=biws,r=${attrs.r}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const signature = createHmac("sha256", storedKey).update(authMessage).digest();
    const proof = clientKey.map((b: number, i: number) => b ^ signature[i]);
    const serverKey = createHmac("sha256", salted).update("Server Key").digest();
    this.serverSignature = createHmac("sha256", serverKey).update(authMessage).digest("base64");
    return `${withoutProof},p=${Buffer.from(proof).toString("base64")}`;
  }

  verifyServer(serverFinal: string) {
    if (serverFinal.trim() !== `v=${this.serverSignature}`) {
      throw new PgError("28000", "the database's SCRAM signature does not match: it is not the server we know");
    }
  }
}

/** A pool of connections to one database; `pipeline` borrows one for a single round trip. */
export class Pool {
  private readonly target: Target;
  private idle: Connection[] = [];
  private open = 0;
  private waiting: ((c: Connection | PgError) => void)[] = [];
  private sweeper?: ReturnType<typeof setTimeout>;

  constructor(url: string, private readonly options: PoolOptions) {
    this.target = target(url);
  }

  async pipeline(statements: Statement[]): Promise<Row[][]> {
    const connection = await this.acquire();
    try {
      return await connection.pipeline(statements);
    } finally {
      this.release(connection);
    }
  }

  private async acquire(): Promise<Connection> {
    const now = Date.now();
    while (this.idle.length > 0) {
      const c = this.idle.pop()!;
      if (!this.expired(c, now)) return c;
      this.discard(c);
    }
    if (this.open < this.options.max) {
      this.open++;
      try {
        return await Connection.open(this.target, this.options);
      } catch (e) {
        this.open--;
        this.handOver();
        throw e;
      }
    }
    const got = await new Promise<Connection | PgError>((resolve) => this.waiting.push(resolve));
    if (got instanceof PgError) throw got;
    return got;
  }

  private release(c: Connection) {
    if (c.broken || this.expired(c, Date.now())) {
      this.discard(c);
      this.handOver();
      return;
    }
    const next = this.waiting.shift();
    if (next) return next(c);
    this.idle.push(c);
    this.sweep();
  }

  /** A waiter gets a new connection when one was closed. */
  private handOver() {
    const next = this.waiting.shift();
    if (!next) return;
    this.open++;
    Connection.open(this.target, this.options).then(next, (e) => {
      this.open--;
      next(e instanceof PgError ? e : connectionError(e));
    });
  }

  private expired(c: Connection, now: number): boolean {
    return now - c.born > this.options.maxLifetimeS * 1000 || now - c.idleSince > this.options.idleTimeoutS * 1000;
  }

  private discard(c: Connection) {
    this.open--;
    c.close();
  }

  /** Closes idle connections after idleTimeoutS, so an instance at rest holds none. */
  private sweep() {
    if (this.sweeper !== undefined) return;
    const sweeper = setTimeout(() => {
      this.sweeper = undefined;
      const now = Date.now();
      const keep = this.idle.filter((c) => !this.expired(c, now));
      for (const c of this.idle) if (!keep.includes(c)) this.discard(c);
      this.idle = keep;
      if (this.idle.length > 0) this.sweep();
    }, this.options.idleTimeoutS * 1000);
    Deno.unrefTimer(sweeper);
    this.sweeper = sweeper;
  }

  async end() {
    for (const c of this.idle) this.discard(c);
    this.idle = [];
    if (this.sweeper !== undefined) clearTimeout(this.sweeper);
  }
}
