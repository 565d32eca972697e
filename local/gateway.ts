// The local stand-in for Supabase's functions gateway (local stack only, started by ./stack up).
//
// Serves http://127.0.0.1:54321/functions/v1/<name>. Every function (a directory of
// supabase/functions whose name does not start with "_") runs as STACK_FUNCTION_INSTANCES Deno
// processes (default 2) on private ports, with the environment the platform gives it, and requests go
// to them in turn: like the platform's many instances, none shares memory with another, so whatever
// must hold across instances (rate limits, idempotency) is tested as such. Their output goes to one
// log per function. For functions whose verify_jwt is
// true in supabase/config.toml (the default, as on the platform) the gateway first checks the
// Authorization bearer token: signed with one of the project's published keys (the JWKS) or the
// legacy HS256 secret, not expired. Requests are passed on untouched (method, headers, raw body
// bytes, streamed; the peer's address is appended to X-Forwarded-For, as a proxy does) and answers streamed back.
//
// It also stands in for Supabase Auth where the functions need it: the project's JWKS at
// /auth/v1/.well-known/jwks.json (local/jwt.ts holds the keys).

import { createLocalJWKSet, decodeProtectedHeader, errors as joseErrors, jwtVerify } from "jose";
import { parse as parseToml } from "smol-toml";
import { publicJwks } from "./jwt.ts";
import { startSchedule } from "./schedule.ts";

const ROOT = Deno.cwd();
const SUPABASE_DIR = `${ROOT}/supabase`;
const FUNCTIONS_DIR = `${SUPABASE_DIR}/functions`;
const PORT = Number(requiredEnv("STACK_GATEWAY_PORT"));
const FUNCTION_LOG_DIR = requiredEnv("STACK_FUNCTION_LOG_DIR");
const JWT_KEY = new TextEncoder().encode(requiredEnv("SUPABASE_JWT_SECRET"));
const BOOT_TIMEOUT_MS = 60_000;
const FUNCTION_PREFIX = "/functions/v1/";
const JWKS_PATH = "/auth/v1/.well-known/jwks.json";
// Which of local auth's keys the JWKS publishes: both, until a test revokes one (POST /_stack/auth/keys).
let published: string[] = (await publicJwks()).keys.map((k) => k.kid!);
const publishedJwks = async () => ({ keys: (await publicJwks()).keys.filter((k) => published.includes(k.kid!)) });
// Functions keep the JWKS this long; short here, so a key revoked in a test stops working at once.
const FUNCTION_JWKS_CACHE_TTL_S = "1";

// What a function sees in its environment, as on the platform, plus supabase/functions/.env.
// Hosted functions do not get SUPABASE_JWT_SECRET (and cannot be given a secret whose name starts
// with SUPABASE_), so neither do these: a function verifies tokens against the JWKS at SUPABASE_URL,
// or the legacy secret where a project set it as the secret JWT_SECRET.
const PLATFORM_ENV = ["SUPABASE_URL", "SUPABASE_DB_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY"];
// Secrets a function reads, set with `supabase secrets set` on the platform. The local stack gives
// them fixed test values (./stack env prints them) so that tests can sign requests; they take
// precedence over supabase/functions/.env.
// STRIPE_API_BASE and RESEND_API_BASE point the functions at the local stand-ins (local/standins.ts).
const STACK_SECRET_ENV = [
  "BUCKETS_DB_URL",
  "JWT_SECRET",
  "STRIPE_WEBHOOK_SECRET",
  "TICKET_SIGNING_KEY",
  "STRIPE_API_BASE",
  "STRIPE_SECRET_KEY",
  "RESEND_API_BASE",
  "RESEND_API_KEY",
  "RECEIPTS_FROM",
  "APP_URL",
];
// What the Deno process itself needs: its cache, this machine's trust store and proxy for the
// downloads of its dependencies, and to reach 127.0.0.1 directly.
const RUNTIME_ENV = [
  "HOME",
  "DENO_DIR",
  "DENO_TLS_CA_STORE",
  "DENO_CERT",
  "NODE_EXTRA_CA_CERTS",
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "NO_PROXY",
  "no_proxy",
  "NO_COLOR",
];

function requiredEnv(name: string): string {
  const value = Deno.env.get(name);
  if (!value) throw new Error(`${name} is not set; start the gateway with ./stack up`);
  return value;
}

interface FunctionConfig {
  enabled: boolean;
  verifyJwt: boolean;
  entrypoint: string;
  importMap?: string;
}

/** Reads a file or directory again only when its modification time changed. */
function cachedByMtime<T>(path: string, read: () => T): () => T {
  let cached: { mtime: number; value: T } | undefined;
  return () => {
    const mtime = Deno.statSync(path).mtime?.getTime() ?? 0;
    if (cached?.mtime !== mtime) cached = { mtime, value: read() };
    return cached.value;
  };
}

type FunctionSections = Record<string, Record<string, unknown>>;
const functionSections = cachedByMtime(`${SUPABASE_DIR}/config.toml`, () => {
  const toml = parseToml(Deno.readTextFileSync(`${SUPABASE_DIR}/config.toml`)) as { functions?: FunctionSections };
  return toml.functions ?? {};
});

/** [functions.<name>] of supabase/config.toml, with the platform's defaults. */
function functionConfig(name: string): FunctionConfig {
  const section = functionSections()[name] ?? {};
  const fromSupabaseDir = (path: unknown) =>
    typeof path === "string" ? `${SUPABASE_DIR}/${path.replace(/^\.\//, "")}` : undefined;
  return {
    enabled: section.enabled !== false,
    verifyJwt: section.verify_jwt !== false,
    entrypoint: fromSupabaseDir(section.entrypoint) ?? `${FUNCTIONS_DIR}/${name}/index.ts`,
    importMap: fromSupabaseDir(section.import_map),
  };
}

/** The functions: directories of supabase/functions whose names do not start with "_". */
const functionNames = cachedByMtime(FUNCTIONS_DIR, () => {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(FUNCTIONS_DIR)) {
    if (entry.isDirectory && !entry.name.startsWith("_") && !entry.name.startsWith(".")) {
      names.push(entry.name);
    }
  }
  return names.sort();
});

/** supabase/functions/.env, read the way `supabase functions serve` reads it (KEY=VALUE lines). */
function dotEnv(): Record<string, string> {
  let text: string;
  try {
    text = Deno.readTextFileSync(`${FUNCTIONS_DIR}/.env`);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return {};
    throw e;
  }
  const vars: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const match = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!match) continue;
    let value = match[2];
    const quoted = value.match(/^"(.*)"$/) ?? value.match(/^'(.*)'$/);
    value = quoted ? quoted[1] : value.replace(/\s+#.*$/, "");
    if (match[1].startsWith("SUPABASE_")) {
      // The platform refuses such secrets too; the SUPABASE_* variables are its own.
      console.log(`supabase/functions/.env: ignoring ${match[1]}: secret names cannot start with SUPABASE_`);
      continue;
    }
    vars[match[1]] = value;
  }
  return vars;
}

/** Ports handed to an instance and not given up: the kernel may offer a closed one again at once. */
const portsInUse = new Set<number>();

/**
 * A port no other instance was given: the kernel's choice for port 0, closed again for the function
 * to bind. Instances boot at the same moment, so a port just handed out is never handed out twice.
 */
function freePort(previous = 0): number {
  portsInUse.delete(previous);
  for (;;) {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    if (!portsInUse.has(port)) {
      portsInUse.add(port);
      return port;
    }
  }
}

async function acceptsConnections(port: number): Promise<boolean> {
  try {
    (await Deno.connect({ hostname: "127.0.0.1", port })).close();
    return true;
  } catch {
    return false;
  }
}

/** How many processes (instances) serve each function. */
const INSTANCES = Math.max(1, Math.trunc(Number(Deno.env.get("STACK_FUNCTION_INSTANCES") ?? 2)) || 1);

/** One instance of a function: a Deno process. Started at boot, restarted on the next request if it dies. */
class FunctionProcess {
  port = 0;
  state: "starting" | "running" | "failed" = "starting";
  error = "";
  private child?: Deno.ChildProcess;
  private booting?: Promise<void>;

  constructor(readonly name: string, readonly instance: number) {}

  get logPath(): string {
    return `${FUNCTION_LOG_DIR}/${this.name}.log`;
  }

  /** Resolves once the process accepts connections; rejects with what went wrong. */
  ready(): Promise<void> {
    if (this.state === "running" || this.booting) return this.booting ?? Promise.resolve();
    this.booting = this.boot().finally(() => (this.booting = undefined));
    return this.booting;
  }

  private async boot(): Promise<void> {
    this.state = "starting";
    const config = functionConfig(this.name);
    this.port = freePort(this.port);
    const env: Record<string, string> = { ...dotEnv() };
    for (const name of [...PLATFORM_ENV, ...STACK_SECRET_ENV, ...RUNTIME_ENV]) {
      const value = Deno.env.get(name);
      if (value !== undefined) env[name] = value;
    }
    env.DENO_SERVE_ADDRESS = `tcp:127.0.0.1:${this.port}`;
    env.JWKS_CACHE_TTL_S ??= FUNCTION_JWKS_CACHE_TTL_S;
    const args = ["run", "--allow-net", "--allow-env", "--allow-read"];
    if (config.importMap) args.push(`--import-map=${config.importMap}`);
    args.push(config.entrypoint);

    const log = await Deno.open(this.logPath, { create: true, append: true });
    await log.write(
      new TextEncoder().encode(`--- ${new Date().toISOString()} instance ${this.instance + 1} starting on port ${this.port}\n`),
    );
    log.close();
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd: ROOT,
      clearEnv: true,
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.child = child;
    for (const stream of [child.stdout, child.stderr]) appendTo(this.logPath, stream);
    let exited = false;
    child.status.then((status) => {
      exited = true;
      if (this.child === child && this.state === "running") {
        this.state = "failed";
        this.error = `exited with code ${status.code}, restarts on the next request; see ${this.logPath}`;
        console.log(`${new Date().toISOString()} function ${this.name} ${this.error}`);
      }
    });

    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    while (!(await acceptsConnections(this.port))) {
      if (exited || Date.now() > deadline) {
        if (!exited) child.kill("SIGKILL");
        this.state = "failed";
        this.error = `${exited ? "exited while starting" : "did not start listening in time"}; see ${this.logPath}`;
        throw new Error(this.error);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.state = "running";
    this.error = "";
  }

  stop() {
    try {
      this.child?.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  }
}

/**
 * Copies a function's output into its log as it comes. (`stream.pipeTo(file.writable)` held the
 * lines back until the process exited, so a running function's log showed only its start-up line.)
 */
async function appendTo(path: string, stream: ReadableStream<Uint8Array>) {
  const file = await Deno.open(path, { create: true, append: true });
  try {
    for await (const chunk of stream) {
      for (let written = 0; written < chunk.length;) written += await file.write(chunk.subarray(written));
    }
  } finally {
    file.close();
  }
}

const processes = new Map<string, FunctionProcess[]>();
const turns = new Map<string, number>();

/** Every instance of a function. */
function instancesOf(name: string): FunctionProcess[] {
  let all = processes.get(name);
  if (!all) {
    all = Array.from({ length: INSTANCES }, (_, i) => new FunctionProcess(name, i));
    processes.set(name, all);
  }
  return all;
}

/** The instance whose turn it is (round robin). */
function processFor(name: string): FunctionProcess {
  const all = instancesOf(name);
  const turn = turns.get(name) ?? 0;
  turns.set(name, turn + 1);
  return all[turn % all.length];
}

const allProcesses = () => [...processes.values()].flat();

function jsonError(status: number, code: string, message: string): Response {
  return Response.json({ code, message }, { status });
}

/** The platform's check of the caller's token. Returns an error message, or null when valid. */
async function jwtProblem(req: Request): Promise<string | null> {
  const header = req.headers.get("authorization");
  if (!header) return "Missing authorization header";
  const [scheme, token] = header.split(" ");
  if (scheme !== "Bearer" || !token) return "Auth header is not 'Bearer {token}'";
  try {
    if (decodeProtectedHeader(token).alg === "HS256") await jwtVerify(token, JWT_KEY, { algorithms: ["HS256"] });
    else await jwtVerify(token, createLocalJWKSet(await publishedJwks()), { algorithms: ["ES256", "RS256"] });
    return null;
  } catch (e) {
    // jose's own errors, and the TypeError of a header that is not base64url JSON.
    if (e instanceof joseErrors.JOSEError || e instanceof TypeError) return `Invalid JWT: ${e.message}`;
    throw e;
  }
}

/**
 * Passes the request on and streams the answer back. The body is streamed, not buffered: the raw bytes
 * go through as they came (webhook signatures are computed over them) with their Content-Length, and
 * neither body is copied through JavaScript. Deno's fetch keeps the connections to the instances open
 * between requests (keep-alive), so a request costs no new connection.
 */
async function forward(req: Request, peer: Deno.Addr, fn: FunctionProcess, path: string, search: string): Promise<Response> {
  const upstream = await fetch(`http://127.0.0.1:${fn.port}${path}${search}`, {
    method: req.method,
    headers: forwardedHeaders(req, peer),
    body: req.method === "GET" || req.method === "HEAD" ? undefined : req.body,
    redirect: "manual",
  });
  // fetch() has already decoded a compressed body, so its encoding headers no longer describe it.
  let headers = upstream.headers;
  if (headers.has("content-encoding")) {
    headers = new Headers(headers);
    headers.delete("content-encoding");
    headers.delete("content-length");
  }
  return new Response(upstream.body, { status: upstream.status, statusText: upstream.statusText, headers });
}

async function route(req: Request, peer: Deno.Addr, url: URL): Promise<[Response, string]> {
  if (url.pathname === JWKS_PATH) {
    return [Response.json(await publishedJwks(), { headers: { "cache-control": "public, max-age=600" } }), "-"];
  }
  if (url.pathname === "/_stack/auth/keys" && req.method === "POST") {
    // Local only, what a project's key rotation does: {"published": ["<kid>", ...]} chooses which of
    // local auth's keys the JWKS lists (a key left out is revoked); the answer is the JWKS.
    const body = await req.json().catch(() => null) as { published?: unknown } | null;
    const all = (await publicJwks()).keys.map((k) => k.kid!);
    const wanted = Array.isArray(body?.published) ? body.published : null;
    if (!wanted || !wanted.every((kid) => all.includes(kid))) {
      return [jsonError(400, "invalid_body", `send {"published": [...]} with kids among ${all.join(", ")}`), "-"];
    }
    published = wanted as string[];
    return [Response.json(await publishedJwks()), "-"];
  }
  if (url.pathname === "/_stack/health") {
    // ./stack up polls this until no function is starting any more.
    const all = allProcesses();
    const status = all.some((p) => p.state === "starting")
      ? "starting"
      : all.some((p) => p.state === "failed")
      ? "failed"
      : "ok";
    const functions = Object.fromEntries(
      [...processes.entries()].map(([name, ps]) => [
        name,
        ps.map((p) => p.error || `${p.state} on port ${p.port}`).join("; "),
      ]),
    );
    // Each instance's private port, so a test can call one instance directly.
    const instances = Object.fromEntries([...processes.entries()].map(([name, ps]) => [name, ps.map((p) => p.port)]));
    return [Response.json({ status, functions, instances }, { status: status === "ok" ? 200 : 503 }), "-"];
  }
  if (!url.pathname.startsWith(FUNCTION_PREFIX)) {
    return [jsonError(404, "not_found", "The local stack serves edge functions only, under /functions/v1/<name>"), "-"];
  }
  const name = url.pathname.slice(FUNCTION_PREFIX.length).split("/")[0];
  const config = functionNames().includes(name) ? functionConfig(name) : undefined;
  if (!config?.enabled) {
    return [jsonError(404, "not_found", `Requested function was not found: ${name}`), name];
  }
  if (req.method !== "OPTIONS" && config.verifyJwt) {
    const problem = await jwtProblem(req);
    if (problem) return [jsonError(401, "invalid_jwt", problem), name];
  }
  const fn = processFor(name);
  try {
    await fn.ready();
  } catch (e) {
    return [jsonError(503, "boot_error", `Function ${name} failed to start: ${(e as Error).message}`), name];
  }
  // Functions see the path without /functions/v1, as behind the platform's gateway.
  return [await forward(req, peer, fn, url.pathname.slice(FUNCTION_PREFIX.length - 1), url.search), name];
}

/**
 * The request's headers with the peer's address appended to X-Forwarded-For, as the platform's proxies
 * append the address they saw: a function reads the client's address from it (edge/src/http.rs,
 * client_address). A client may send its own X-Forwarded-For first, as it can on the platform.
 */
function forwardedHeaders(req: Request, peer: Deno.Addr): Headers {
  const headers = new Headers(req.headers);
  if (peer.transport !== "tcp") return headers;
  const prior = headers.get("x-forwarded-for");
  headers.set("x-forwarded-for", prior ? `${prior}, ${peer.hostname}` : peer.hostname);
  return headers;
}

async function handle(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
  const started = performance.now();
  const url = new URL(req.url);
  let response: Response;
  let fn = "-";
  try {
    [response, fn] = await route(req, info.remoteAddr, url);
  } catch (e) {
    console.error(`${new Date().toISOString()} ${req.method} ${url.pathname}: ${(e as Error).stack}`);
    response = jsonError(502, "bad_gateway", `The function did not answer: ${(e as Error).message}`);
  }
  const ms = (performance.now() - started).toFixed(1);
  console.log(
    `${new Date().toISOString()} ${req.method} ${url.pathname}${url.search} ${response.status} ${ms}ms fn=${fn}`,
  );
  return response;
}

function shutdown() {
  for (const process of allProcesses()) process.stop();
  Deno.exit(0);
}
Deno.addSignalListener("SIGTERM", shutdown);
Deno.addSignalListener("SIGINT", shutdown);

Deno.serve({
  hostname: "127.0.0.1",
  port: PORT,
  onListen: ({ hostname, port }) =>
    console.log(`${new Date().toISOString()} gateway listening on http://${hostname}:${port}`),
}, handle);

// Start every function now, so that ./stack up reports a function that cannot boot.
await Promise.allSettled(
  functionNames().filter((name) => functionConfig(name).enabled).flatMap((name) => instancesOf(name).map((p) => p.ready())),
);
for (const process of allProcesses()) {
  console.log(
    `${new Date().toISOString()} function ${process.name} (instance ${process.instance + 1} of ${INSTANCES}): ${
      process.error || `${process.state} on port ${process.port}`
    }`,
  );
}

// The workers pg_cron calls on a hosted project, on the same schedule (local/schedule.ts).
startSchedule(`http://127.0.0.1:${PORT}`, requiredEnv("SUPABASE_SERVICE_ROLE_KEY"), Number(Deno.env.get("STACK_SCHEDULE_S") ?? 60));
