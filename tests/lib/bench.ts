// Measurement helpers for `./stack bench`: closed-loop load from N concurrent
// clients, latency percentiles, and the section writer for BENCHMARKS.md.

export interface Run {
  label: string;
  items: number; // events (or payments, …) done
  requests: number;
  seconds: number;
  latenciesMs: number[];
}

/** Seconds of warm-up before a closed loop measures (1; the smoke run of the test suite sets less). */
const WARMUP_SECONDS = Number(Deno.env.get("BENCH_WARMUP_SECONDS") ?? 1);

/**
 * Where the sections go: BENCHMARKS.md, or the file BENCH_REPORT names (the test suite's smoke run of every
 * bench at a tiny size writes its sections there, leaving the figures of real runs alone).
 */
const REPORT = Deno.env.get("BENCH_REPORT");

export const perSecond = (r: Run) => r.items / r.seconds;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/**
 * At most this many requests per closed loop, warm-up included (no limit; the smoke run of the test suite sets 16
 * and no warm-up, so that it leaves little behind: payments, for one, stay in the ledger for good).
 */
const MAX_REQUESTS = Number(Deno.env.get("BENCH_MAX_REQUESTS") ?? Infinity);

/**
 * Runs `op` from `clients` concurrent loops for `seconds` (after `warmup`
 * seconds whose results are dropped). `op` returns how many items it did.
 * With BENCH_MAX_REQUESTS the loops may stop sooner; `seconds` is then the
 * time they measured.
 */
export async function closedLoop(
  label: string,
  clients: number,
  seconds: number,
  op: (client: number, iteration: number) => Promise<number>,
  warmup = WARMUP_SECONDS,
): Promise<Run> {
  const latencies: number[] = [];
  let items = 0;
  let requests = 0;
  let started = 0;
  const start = performance.now();
  const measureFrom = start + warmup * 1000;
  const end = measureFrom + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let i = 0; performance.now() < end && started < MAX_REQUESTS; i++) {
        started += 1;
        const t0 = performance.now();
        const n = await op(client, i);
        const t1 = performance.now();
        if (t0 >= measureFrom && t1 <= end) {
          latencies.push(t1 - t0);
          items += n;
          requests += 1;
        }
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const measured = Math.max(0, Math.min(end, performance.now()) - measureFrom) / 1000;
  return { label, items, requests, seconds: Math.min(seconds, measured), latenciesMs: latencies };
}

/** Runs `op` `n` times one after the other; returns each call's milliseconds, sorted. */
export async function timed(n: number, op: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function describe(r: Run): string {
  return `${r.label}: ${fmt(perSecond(r))}/s, p50 ${fmt(percentile(r.latenciesMs, 50), 1)} ms, p99 ${fmt(percentile(r.latenciesMs, 99), 1)} ms (${r.requests} requests)`;
}

async function commandOutput(cmd: string, args: string[]): Promise<string> {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "unknown";
  }
}

/** Replaces (or appends) the section `name` of BENCHMARKS.md (or of BENCH_REPORT). */
export async function writeSection(name: string, title: string, body: string) {
  const path = REPORT ?? new URL("../../BENCHMARKS.md", import.meta.url);
  let doc = "";
  try {
    doc = await Deno.readTextFile(path);
  } catch {
    doc = "# Benchmarks\n\nWritten by `./stack bench <name>`; each section is replaced by its own command.\n" +
      "Figures are ratios against a baseline measured in the same run, because the machines are shared and noisy;\n" +
      "the absolute numbers are there to read the ratios by, not to compare across runs.\n";
  }
  const commit = await commandOutput("git", ["rev-parse", "--short", "HEAD"]);
  const cpus = navigator.hardwareConcurrency;
  const stamp = `_Measured ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC at commit ${commit} on ${cpus} cores._`;
  const begin = `<!-- bench:${name} -->`;
  const finish = `<!-- /bench:${name} -->`;
  const section = `${begin}\n## ${title}\n\n${stamp}\n\n${body.trim()}\n${finish}`;
  const re = new RegExp(`${begin}[\\s\\S]*?${finish}`);
  doc = re.test(doc) ? doc.replace(re, section) : `${doc.trimEnd()}\n\n${section}\n`;
  await Deno.writeTextFile(path, doc);
  console.log(`wrote ${REPORT ?? "BENCHMARKS.md"} (${name})`);
}
