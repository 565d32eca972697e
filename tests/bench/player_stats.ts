// ./stack bench player_stats — on both clusters (main: pg_coliseum; hosted shape: its SQL twins):
// 1. the player's read: coliseum.track_stats for 50 tracks, as a signed-in fan (role and JWT claims set in the
//    transaction, as PostgREST runs it), against the bare index read of the same rows as postgres
//    (tests/bench/player_stats_bare.sql), over BENCH_TRACKS (20,000) tracks with 30 days of play days each
//    (tests/bench/player_stats_seed.sql, committed, then removed by player_stats_cleanup.sql);
// 2. what the player stats cost the processor: process_pending over BENCH_PENDING (20,000) pending entries
//    (tests/bench/player_stats_pending.sql) with the stats fold, and with coliseum_private.fold_player_stats
//    replaced by a no-op, each in a transaction that is rolled back, the two alternated.
import postgres from "postgres";
import { env } from "../lib/stack.ts";
import { fmt, percentile, timed, writeSection } from "../lib/bench.ts";

const TRACKS = Number(Deno.env.get("BENCH_TRACKS") ?? 20_000);
const READS = Number(Deno.env.get("BENCH_READS") ?? 200); // timed calls of each read
const PENDING = Number(Deno.env.get("BENCH_PENDING") ?? 20_000);
const PROCESSOR_RUNS = Number(Deno.env.get("BENCH_PROCESSOR_RUNS") ?? 3); // of each variant, alternated
const LIST = 50; // tracks on one player screen
const seed = await Deno.readTextFile(new URL("./player_stats_seed.sql", import.meta.url));
const cleanup = await Deno.readTextFile(new URL("./player_stats_cleanup.sql", import.meta.url));
const bare = await Deno.readTextFile(new URL("./player_stats_bare.sql", import.meta.url));
const pending = await Deno.readTextFile(new URL("./player_stats_pending.sql", import.meta.url));
const FAN = "f7000000-0000-4000-8000-000000000000";
// What process_pending writes, with and without the stats.
const WRITTEN = [
  "public.passport_entries", "public.coliseum_dna_mutations", "coliseum_private.dna_hours", "coliseum_private.dna_totals",
  "coliseum_private.artist_fans", "coliseum_private.artist_places", "coliseum_private.fan_days", "coliseum.fan_genres",
  "coliseum.fans", "public.coliseum_domain_strength", "coliseum.strength_history", "coliseum_private.artist_refreshes",
  "coliseum_private.artist_signals", "coliseum_private.track_counts", "coliseum_private.track_play_days",
  "coliseum_private.artist_counts", "coliseum_private.artist_play_days", "coliseum.track_likes", "coliseum.fan_tracks",
  "coliseum_private.attendances", "coliseum_private.attendance_counts",
];

const trackId = (i: number) => `b7000000-0000-4000-8000-${i.toString(16).padStart(12, "0")}`;

interface Reads { label: string; rpcMs: number[]; bareMs: number[]; rpcPlan: string; barePlan: string }

async function reads(url: string, label: string): Promise<Reads> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  let seeded = false;
  try {
    await conn`select set_config('bench.tracks', ${String(TRACKS)}, false)`;
    await conn.unsafe(`begin; ${seed}; commit;`);
    seeded = true;
    await conn`vacuum analyze coliseum_private.track_counts, coliseum_private.track_play_days, coliseum.track_likes`;
    // 50 tracks spread over the seeded ones, as a screen of search results would be.
    const ids = Array.from({ length: LIST }, (_, i) => trackId((i * 7919) % TRACKS));
    const list = `array[${ids.map((id) => `'${id}'`).join(",")}]::uuid[]`;
    const claims = JSON.stringify({ sub: FAN, role: "authenticated" });
    const asFan = (statement: string) =>
      conn.unsafe(`begin; select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '${claims}', true);
                   ${statement}; commit;`);
    const rpc = () => asFan(`select * from coliseum.track_stats(${list})`);
    const plain = () => conn.unsafe(bare, [ids, FAN]);
    // The two must agree before they are timed.
    await conn`begin`;
    await conn`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
    const got = await conn.unsafe(`select * from coliseum.track_stats(${list})`);
    await conn`commit`;
    const want = await plain();
    const same = got.length === LIST && got.every((r: any, i: number) =>
      r.track_id === want[i].track_id && String(r.plays) === String(want[i].plays) &&
      String(r.plays_7d) === String(want[i].plays_7d) && String(r.plays_30d) === String(want[i].plays_30d) &&
      String(r.likes) === String(want[i].likes) && r.liked === want[i].liked);
    if (!same) throw new Error(`${label}: track_stats and the bare read disagree`);
    const plan = async (statement: string, params: unknown[] = []) =>
      (await conn.unsafe(`explain (analyze, buffers, costs off) ${statement}`, params as any[]))
        .map((r: any) => r["QUERY PLAN"]).join("\n");
    await conn`begin`;
    await conn`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
    const rpcPlan = await plan(`select * from coliseum.track_stats(${list})`);
    await conn`commit`;
    const barePlan = await plan(bare, [ids, FAN]);
    const rpcMs = await timed(READS, rpc);
    const bareMs = await timed(READS, plain);
    console.log(`${label} track_stats(${LIST}): p50 ${fmt(percentile(rpcMs, 50), 2)} ms, bare p50 ${fmt(percentile(bareMs, 50), 2)} ms`);
    return { label, rpcMs, bareMs, rpcPlan, barePlan };
  } finally {
    if (seeded) {
      await conn.unsafe(`begin; ${cleanup}; commit;`);
      await conn`vacuum coliseum_private.track_counts, coliseum_private.track_play_days, coliseum.track_likes`;
    }
    conn.release();
    await sql.end();
  }
}

interface Processor { label: string; withMs: number[]; withoutMs: number[] }

/** process_pending(PENDING) over fresh entries, rolled back; without: the stats fold made a no-op in the transaction. */
async function processor(url: string, label: string): Promise<Processor> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  const run = async (withStats: boolean) => {
    await conn`begin`;
    try {
      await conn`select coliseum.process_pending(1000000)`; // what other sessions left pending
      if (!withStats) {
        // The same signature, defaults included (create or replace cannot drop them).
        await conn.unsafe(`create or replace function coliseum_private.fold_player_stats(entry_ids bigint[],
                             received_from timestamptz default '-infinity', received_to timestamptz default 'infinity')
                           returns void language sql volatile as 'select'`);
      }
      await conn`select set_config('bench.pending', ${String(PENDING)}, true)`;
      await conn.unsafe(pending);
      const t0 = performance.now();
      const [{ n }] = await conn`select coliseum.process_pending(${PENDING}) as n`;
      const ms = performance.now() - t0;
      if (n !== PENDING) throw new Error(`${label}: process_pending took ${n} entries, not ${PENDING}`);
      return ms;
    } finally {
      await conn`rollback`;
      // The rolled-back rows stay in the tables and their indexes as dead tuples until a vacuum; left there they
      // slow every later run's upserts, the variant with the stats more (it writes more tables).
      await conn.unsafe(`vacuum ${WRITTEN.join(", ")}`);
    }
  };
  const withMs: number[] = [], withoutMs: number[] = [];
  try {
    for (let i = 0; i < PROCESSOR_RUNS; i++) {
      withMs.push(await run(true));
      withoutMs.push(await run(false));
    }
  } finally {
    conn.release();
    await sql.end();
  }
  withMs.sort((a, b) => a - b);
  withoutMs.sort((a, b) => a - b);
  const rate = (ms: number[]) => PENDING / (percentile(ms, 50) / 1000);
  console.log(`${label} process_pending(${PENDING}): ${fmt(rate(withMs))}/s with the stats, ${fmt(rate(withoutMs))}/s without`);
  return { label, withMs, withoutMs };
}

const clusters = [[env("SUPABASE_DB_URL"), "main (extension)"], [env("BUCKETS_HOSTED_DB_URL"), "hosted shape (twins)"]];
const readResults: Reads[] = [];
const processorResults: Processor[] = [];
for (const [url, label] of clusters) readResults.push(await reads(url, label));
for (const [url, label] of clusters) processorResults.push(await processor(url, label));

const eps = (ms: number[]) => PENDING / (percentile(ms, 50) / 1000);
await writeSection("player_stats", "Player stats: track reads and the processor's cost (`./stack bench player_stats`)", `
${fmt(TRACKS)} tracks with counters, 30 days of play days each and likes from 20 fans (\`tests/bench/player_stats_seed.sql\`),
committed and vacuumed, then removed. \`coliseum.track_stats\` for ${LIST} tracks is called ${READS} times as a signed-in
fan, one transaction with the role and JWT claims set as PostgREST does (round trip included), against the bare read
of the same rows through the same indexes as postgres (\`tests/bench/player_stats_bare.sql\`); the two answers are
checked equal first.

| cluster | RPC p50 ms | RPC p99 ms | bare p50 ms | bare p99 ms | RPC ÷ bare |
|---|---:|---:|---:|---:|---:|
${readResults.map((r) => {
  const [a, b] = [percentile(r.rpcMs, 50), percentile(r.bareMs, 50)];
  return `| ${r.label} | ${fmt(a, 2)} | ${fmt(percentile(r.rpcMs, 99), 2)} | ${fmt(b, 2)} | ${fmt(percentile(r.bareMs, 99), 2)} | ${fmt(a / b, 2)} |`;
}).join("\n")}

The processor: \`process_pending(${fmt(PENDING)})\` over ${fmt(PENDING)} fresh pending entries
(\`tests/bench/player_stats_pending.sql\`: plays, a tenth under 30 s, likes and unlikes, door validations), in a
transaction rolled back after it (then the tables it writes vacuumed), ${PROCESSOR_RUNS} times with the player stats fold
and ${PROCESSOR_RUNS} times with it made a no-op, alternated; medians.

| cluster | with stats p50 ms | events/s | without p50 ms | events/s | cost of the stats |
|---|---:|---:|---:|---:|---:|
${processorResults.map((p) => {
  const [a, b] = [percentile(p.withMs, 50), percentile(p.withoutMs, 50)];
  return `| ${p.label} | ${fmt(a, 0)} | ${fmt(eps(p.withMs))} | ${fmt(b, 0)} | ${fmt(eps(p.withoutMs))} | ${fmt((a / b - 1) * 100, 0)}% |`;
}).join("\n")}
`);

for (const r of readResults) console.log(`\n${r.label}, track_stats:\n${r.rpcPlan}\n\n${r.label}, bare read:\n${r.barePlan}`);
