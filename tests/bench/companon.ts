// ./stack bench companon — matching at scale, on both clusters (main: pg_coliseum; hosted shape: its SQL twins):
// BENCH_ARTISTS (100,000) artists with 30d DNA are seeded and committed (tests/bench/companon_seed.sql; the
// vectors are derived by the refresh trigger), vacuumed, measured and removed (tests/bench/companon_cleanup.sql),
// three campaigns target them (no filter; genre and minimum score; countries and
// size bands), and companon.match_artists (lim 50) is timed against the plain scan of
// tests/bench/companon_baseline.sql, which computes the same answer from Coliseum's tables without the matching
// vectors and their indexes. Both must give the same artists in the same order.
import postgres from "postgres";
import { env } from "../lib/stack.ts";
import { fmt, percentile, timed, writeSection } from "../lib/bench.ts";

const ARTISTS = Number(Deno.env.get("BENCH_ARTISTS") ?? 100_000);
const RUNS = Number(Deno.env.get("BENCH_RUNS") ?? 30); // timed calls of match_artists per campaign
const BASELINE_RUNS = Number(Deno.env.get("BENCH_BASELINE_RUNS") ?? 1); // of the plain scan, which takes seconds (a minute on the twins)
const LIM = 50;
const seed = await Deno.readTextFile(new URL("./companon_seed.sql", import.meta.url));
const baseline = await Deno.readTextFile(new URL("./companon_baseline.sql", import.meta.url));
const cleanup = await Deno.readTextFile(new URL("./companon_cleanup.sql", import.meta.url));
const dashboardSeed = await Deno.readTextFile(new URL("./companon_dashboard_seed.sql", import.meta.url));
const dashboardBare = await Deno.readTextFile(new URL("./companon_dashboard_bare.sql", import.meta.url));
const spendBare = await Deno.readTextFile(new URL("./companon_spend_bare.sql", import.meta.url));
const CAMPAIGNS = 10, OFFERS = 20, VIEWS = 2_000; // per brand, per campaign, per campaign
const READS = Number(Deno.env.get("BENCH_READS") ?? 50); // timed calls of each dashboard read

interface Timing {
  campaign: string;
  matched: number;
  matchMs: number[];
  baselineMs: number[];
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

interface Read { read: string; rpcMs: number[]; bareMs: number[] }

/**
 * The brand dashboard's reads, as the app calls them (one transaction: the owner's role and JWT claims, then
 * the RPC, as PostgREST runs it), against the bare queries that read the same figures as postgres
 * (tests/bench/companon_dashboard_bare.sql, companon_spend_bare.sql). The brand, its paid sponsorships and its
 * measured events are seeded by tests/bench/companon_dashboard_seed.sql and stay (they are small).
 */
async function dashboard(url: string, label: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const conn = await sql.reserve();
  try {
    await conn`select set_config('bench.campaigns', ${String(CAMPAIGNS)}, false), set_config('bench.offers', ${String(OFFERS)}, false),
                      set_config('bench.views', ${String(VIEWS)}, false)`;
    await conn.unsafe(`begin; ${dashboardSeed}; commit;`);
    const [{ brand, owner }] = await conn`select current_setting('bench.brand') as brand, current_setting('bench.owner') as owner`;
    while ((await conn`select companon_private.measure_pending() as n`)[0].n > 0) { /* pg_cron's job, until done */ }
    await conn`analyze companon.offers`;
    const claims = JSON.stringify({ sub: owner, role: "authenticated" });
    const asOwner = (rpc: string) =>
      conn.unsafe(`begin; select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '${claims}', true);
                   select * from ${rpc}; commit;`);
    // The RPC and the bare query must agree before they are timed.
    await conn`begin`;
    await conn`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
    const rows = await conn`select campaign_id, spent_minor, impressions, clicks, conversions from companon.brand_dashboard(${brand}::uuid)`;
    await conn`commit`;
    const bare = await conn.unsafe(dashboardBare, [brand]);
    const same = rows.length === CAMPAIGNS && rows.every((r: any, i: number) =>
      r.campaign_id === bare[i].id && String(r.spent_minor) === String(bare[i].spent) &&
      String(r.impressions) === String(bare[i].impressions) && String(r.conversions) === String(bare[i].conversions));
    if (!same) throw new Error(`${label}: brand_dashboard and the bare query disagree`);
    const reads: Read[] = [
      { read: "brand_dashboard(brand)", rpcMs: await timed(READS, () => asOwner(`companon.brand_dashboard('${brand}')`)),
        bareMs: await timed(READS, () => conn.unsafe(dashboardBare, [brand])) },
      { read: "brand_spend(brand)", rpcMs: await timed(READS, () => asOwner(`companon.brand_spend('${brand}')`)),
        bareMs: await timed(READS, () => conn.unsafe(spendBare, [brand])) },
    ];
    for (const r of reads) {
      console.log(`${label} ${r.read}: p50 ${fmt(percentile(r.rpcMs, 50), 1)} ms, bare p50 ${fmt(percentile(r.bareMs, 50), 1)} ms`);
    }
    return { label, reads };
  } finally {
    conn.release();
    await sql.end();
  }
}

const results = [
  await measure(env("SUPABASE_DB_URL"), "extension"),
  await measure(env("BUCKETS_HOSTED_DB_URL"), "twins"),
];
const dashboards = [
  await dashboard(env("SUPABASE_DB_URL"), "main (extension)"),
  await dashboard(env("BUCKETS_HOSTED_DB_URL"), "hosted shape (twins)"),
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

Brand dashboard reads: one brand with ${CAMPAIGNS} campaigns, ${OFFERS} sponsorships each paid through Checkout's booking
(a quarter half refunded), ${fmt(VIEWS)} views per campaign with a tenth as many clicks and a hundredth as many
conversions, counted by measurement (\`tests/bench/companon_dashboard_seed.sql\`). Each read is called ${READS} times as
the brand's owner, one transaction with the role and JWT claims set as PostgREST does, against the bare query that
reads the same figures as postgres without access checks or shaping (\`tests/bench/companon_dashboard_bare.sql\`,
\`companon_spend_bare.sql\`; the dashboard's answer is checked equal to it first).

| cluster | read | RPC p50 ms | RPC p99 ms | bare p50 ms | RPC ÷ bare |
|---|---|---:|---:|---:|---:|
${dashboards.flatMap((d) => d.reads.map((r) => {
  const [a, b] = [percentile(r.rpcMs, 50), percentile(r.bareMs, 50)];
  return `| ${d.label} | \`companon.${r.read}\` | ${fmt(a, 1)} | ${fmt(percentile(r.rpcMs, 99), 1)} | ${fmt(b, 1)} | ${fmt(a / b, 2)} |`;
})).join("\n")}

- \`brand_spend\` answers faster than its bare query: the plain join is planned from the platform's Stripe-balance
  postings (every payment's), where the RPC walks the brand's payments through their indexes
  (\`companon_private.sponsorship_postings\`); the dashboard adds its access check, the per-campaign results and the
  cost-per-result arithmetic to the same reads.
`);
