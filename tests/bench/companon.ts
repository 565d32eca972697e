// ./stack bench companon — matching at scale, on both clusters (main: pg_coliseum; hosted shape: its SQL twins):
// BENCH_ARTISTS (100,000) artists with 30d DNA are seeded and committed (tests/bench/companon_seed.sql; the
// vectors are derived by the refresh trigger), vacuumed, measured and removed (tests/bench/companon_cleanup.sql),
// three campaigns target them (no filter; genre and minimum score; countries and
// size bands), and companon.match_artists (lim 50) is timed against the plain scan of
// tests/bench/companon_baseline.sql, which computes the same answer from Coliseum's tables without the matching
// vectors and their indexes. Both must give the same artists in the same order.
import postgres from "postgres";
import { env } from "../lib/stack.ts";
import { fmt, percentile, writeSection } from "../lib/bench.ts";

const ARTISTS = Number(Deno.env.get("BENCH_ARTISTS") ?? 100_000);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 30); // timed calls of match_artists per campaign
const BASELINE_RUNS = Number(Deno.env.get("BENCH_BASELINE_RUNS") ?? 1); // of the plain scan, which takes seconds (a minute on the twins)
const LIM = 50;
const seed = await Deno.readTextFile(new URL("./companon_seed.sql", import.meta.url));
const baseline = await Deno.readTextFile(new URL("./companon_baseline.sql", import.meta.url));
const cleanup = await Deno.readTextFile(new URL("./companon_cleanup.sql", import.meta.url));

interface Timing {
  campaign: string;
  matched: number;
  matchMs: number[];
  baselineMs: number[];
}

async function timed(n: number, op: () => Promise<unknown>): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await op();
    ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b);
}

async function measure(url: string, label: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  const timings: Timing[] = [];
  let seedSeconds = 0;
  let seeded = false;
  try {
    await conn`select set_config('bench.artists', ${String(ARTISTS)}, false)`;
    const t0 = performance.now();
    await conn.unsafe(`begin; ${seed}; commit;`);
    seeded = true;
    seedSeconds = (performance.now() - t0) / 1000;
    await conn`vacuum analyze companon_private.artist_vectors`;
    const [{ vectors }] = await conn`select count(*)::int as vectors from companon_private.artist_vectors`;
    console.log(`${label}: seeded ${fmt(ARTISTS)} artists (${fmt(vectors)} vectors) in ${fmt(seedSeconds, 1)} s`);
    const campaigns = await conn`select name, id from bench_campaigns order by name`;
    for (const { name, id } of campaigns) {
      const match = () => conn`select artist_id, similarity from companon.match_artists(${id}::uuid, ${LIM})`;
      const scan = () => conn.unsafe(baseline, [id, LIM]);
      const [got, want] = [await match(), await scan()];
      const same = got.length === want.length &&
        got.every((r: any, i: number) => r.artist_id === want[i].artist_id && Math.abs(r.similarity - want[i].similarity) < 1e-12);
      if (!same) throw new Error(`${label} ${name}: match_artists and the plain scan disagree`);
      const matchMs = await timed(RUNS, match);
      const baselineMs = await timed(BASELINE_RUNS, scan);
      timings.push({ campaign: name, matched: got.length, matchMs, baselineMs });
      console.log(`${label} ${name}: match_artists p50 ${fmt(percentile(matchMs, 50), 1)} ms, plain scan p50 ${fmt(percentile(baselineMs, 50), 0)} ms`);
    }
  } finally {
    if (seeded) {
      await conn.unsafe(`begin; ${cleanup}; commit;`);
      await conn`vacuum companon_private.artist_vectors`;
    }
    conn.release();
    await sql.end();
  }
  return { label, timings, seedSeconds };
}

const results = [
  await measure(env("SUPABASE_DB_URL"), "extension"),
  await measure(env("BUCKETS_HOSTED_DB_URL"), "twins"),
];

const describeCampaign: Record<string, string> = {
  open: "A and C, two C components, no filter",
  genre: "same profile; genre afrobeats (1 in 6), overall score ≥ 20",
  places: "T and G, two components; countries NG or GH, size bands rising or established",
};
const rows = results.flatMap((r) =>
  r.timings.map((t) => {
    const m50 = percentile(t.matchMs, 50);
    const b50 = percentile(t.baselineMs, 50);
    return `| ${r.label} | ${t.campaign}: ${describeCampaign[t.campaign]} | ${fmt(m50, 1)} | ${fmt(percentile(t.matchMs, 99), 1)} | ${fmt(b50, 0)} | ${fmt(b50 / m50, 0)}× |`;
  })
);

await writeSection("companon", "Companon: matching artists to a campaign (`./stack bench companon`)", `
${fmt(ARTISTS)} artists with DNA (\`tests/bench/companon_seed.sql\`: values that grow with the artist's size, as real DNA's
do), committed and vacuumed, then removed; seeded with their vectors derived by the refresh trigger in
${results.map((r) => `${fmt(r.seedSeconds, 1)} s (${r.label})`).join(" and ")}. \`companon.match_artists(campaign, ${LIM})\`
is called ${RUNS} times per campaign from one connection (round trip included), the plain scan
(\`tests/bench/companon_baseline.sql\`: the same answer from Coliseum's tables, vectors computed per call) ${BASELINE_RUNS} times;
both return the same artists in the same order.

| cluster | campaign | match p50 ms | match p99 ms | plain scan p50 ms | plain scan ÷ match |
|---|---|---:|---:|---:|---:|
${rows.join("\n")}
`);
