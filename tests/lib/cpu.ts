// Where a request's CPU goes: the CPU seconds each process of the local stack spent during a
// measurement (read from /proc, utime + stime), per item done. On a machine of two cores every process
// of the path competes for the same cores, so these say what stands between an HTTP path and its SQL
// baseline: the gateway, the function's instances, the pooler, Postgres's sessions (client backends),
// Postgres's background (the postmaster, WAL writer, checkpointer, pg_cron, the Coliseum worker folding
// the events the work logged: work of earlier runs may land in a later one), and the bench client.
import { env, pendingEntries, type Sql } from "./stack.ts";

export const PARTS = ["gateway", "function", "pooler", "postgres", "background", "client"] as const;
export type Part = typeof PARTS[number];
export type CpuPerItem = Record<Part, number>;

const decoder = new TextDecoder();

function run(cmd: string, args: string[]): string {
  return decoder.decode(new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).outputSync().stdout);
}

const TICKS_PER_SECOND = Number(run("getconf", ["CLK_TCK"]).trim() || 100);

/** The processes listening on a port. */
function listening(port: number): number[] {
  return [...run("ss", ["-ltnpH", `sport = :${port}`]).matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
}

const portOf = (url: string) => Number(new URL(url).port);

/** CPU seconds of a process so far; 0 when it is gone. */
function seconds(pid: number): number {
  try {
    const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** The processes of each part, for the function `fn` (its instances, as the gateway lists them; none without one). */
async function processes(fn: string | undefined): Promise<Record<Part, number[]>> {
  const health = await (await fetch(`${env("SUPABASE_URL")}/_stack/health`)).json();
  const postmaster = listening(portOf(env("SUPABASE_DB_URL")));
  const children = postmaster.flatMap((pid) => run("pgrep", ["-P", String(pid)]).trim().split("\n").filter(Boolean).map(Number));
  // A client backend's title is "postgres: <user> <database> <host>(<port>) <state>".
  const isSession = (pid: number) => {
    try {
      return /^postgres: \S+ \S+ [\d.:]+\(\d+\)/.test(Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " "));
    } catch {
      return false;
    }
  };
  return {
    gateway: listening(portOf(env("SUPABASE_URL"))),
    function: fn === undefined ? [] : (health.instances[fn] as number[]).flatMap(listening),
    pooler: listening(portOf(env("BUCKETS_DB_URL"))),
    postgres: children.filter(isSession),
    background: [...postmaster, ...children.filter((pid) => !isSession(pid))],
    client: [Deno.pid],
  };
}

/**
 * Waits until the database's background work of earlier steps is done: no passport entry pending for
 * the processor (pg_cron folds them every second), no recorded Stripe event waiting to be applied. A
 * measurement started earlier shares the cores with that work and is charged its CPU as "background";
 * the benches settle before each measurement so that a path and its baseline start alike.
 */
export async function settle(sql: Sql, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const [{ stripe }] = await sql`select count(*)::int as stripe from treasury.stripe_events where status = 'received'`;
    const pending = await pendingEntries(sql);
    if (pending === 0 && stripe === 0) return;
    if (performance.now() > deadline) {
      throw new Error(`the database did not settle in ${timeoutMs / 1000} s: ${pending} passport entries pending, ${stripe} Stripe events unapplied`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Runs a measurement, then waits until the background work it caused is done (the processor folding what it
 * logged): a path fast enough to leave that work behind is not thereby cheaper. The run gains `drainMs`, that wait;
 * CPU measured around the call includes it.
 */
export async function untilSettled<R extends object>(sql: Sql, measure: () => Promise<R>): Promise<R & { drainMs: number }> {
  const run = await measure();
  const t0 = performance.now();
  await settle(sql);
  return { ...run, drainMs: performance.now() - t0 };
}

/** Items per second counted until the background work was done too: the rate the path can keep up. */
export function settledRate(r: { items: number; seconds: number; drainMs: number }): number {
  return r.items / (r.seconds + r.drainMs / 1000);
}

/** CPU seconds of every process, by pid. */
function snapshot(pids: Record<Part, number[]>): Map<number, number> {
  return new Map(PARTS.flatMap((part) => pids[part].map((pid) => [pid, seconds(pid)] as [number, number])));
}

/**
 * Runs `work` and answers what it returned with the CPU milliseconds each part spent per item
 * (`items(result)`). `fn`: the edge function whose instances count as "function" (none for SQL only).
 */
export async function withCpu<T>(fn: string | undefined, work: () => Promise<T>, items: (result: T) => number): Promise<[T, CpuPerItem]> {
  const before = snapshot(await processes(fn));
  const result = await work();
  const pids = await processes(fn);
  const after = snapshot(pids);
  const n = items(result);
  // A process that started meanwhile (a pool's new connection) counts from zero; one that ended took
  // what it spent with it, and is not counted.
  const spent = (pid: number) => after.get(pid)! > 0 ? after.get(pid)! - (before.get(pid) ?? 0) : 0;
  const perItem = Object.fromEntries(
    PARTS.map((part) => [part, (1000 * pids[part].reduce((sum, pid) => sum + spent(pid), 0)) / n]),
  ) as CpuPerItem;
  return [result, perItem];
}

export const cpuHeader = `| path | ${PARTS.join(" | ")} | total |\n|---|${PARTS.map(() => "---:").join("|")}|---:|`;

export function cpuRow(label: string, cpu: CpuPerItem): string {
  const total = PARTS.reduce((sum, part) => sum + cpu[part], 0);
  return `| ${label} | ${PARTS.map((part) => cpu[part].toFixed(2)).join(" | ")} | ${total.toFixed(2)} |`;
}
