// ./stack bench coliseum — in one run:
// 1. processor throughput: pending events/s turned into DNA with pg_coliseum (main cluster) and with the
//    SQL twins (hosted-shape cluster), against the raw cost of inserting the same number of mutation rows,
//    and the cost of the counting rules: the same events with the plays logged as audio.complete (same
//    domains and tier, which the rules leave alone) as the baseline;
// 2. event-to-leaderboard latency: how long a fresh event takes to show in coliseum_domain_strength while
//    passport-log takes a sustained ~10,000 events/s.
// Everything the bench seeds (artists, fans and users, their log entries and all that was derived from them) is
// removed at the end on both clusters (removeSeeded), so that a demo run on the same stack finds only its own.
import postgres from "postgres";
import { callFunction, db, env, newUser, pendingEntries, type Sql, uuid } from "../lib/stack.ts";
import { fmt, percentile, writeSection } from "../lib/bench.ts";
import { benchArtist, benchFan, removeSeeded } from "../lib/seeded.ts";

const EVENTS = Number(Deno.env.get("BENCH_EVENTS") ?? 20_000);
const FRESHNESS_SECONDS = Number(Deno.env.get("BENCH_FRESHNESS_SECONDS") ?? 15); // of load at each rate
// The target rates of the freshness part, events/s (the smoke run of the test suite sets low ones: at 10,000/s a
// backlog builds that takes minutes to drain).
const FRESHNESS_RATES = (Deno.env.get("BENCH_FRESHNESS_RATES") ?? "1000,10000").split(",").map(Number);
const main = db(70);
const twins = postgres(env("BUCKETS_HOSTED_DB_URL"), { max: 4, onnotice: () => {} });

/** The accounts the freshness part signs up (auth.users), removed with everything they logged. */
const seededUsers: string[] = [];

const GENRES = ["afrobeats", "amapiano", "highlife", "jazz", "reggaeton", "indie pop"];
const PLACES = [["Lagos", "NG"], ["Accra", "GH"], ["Paris", "FR"], ["London", "GB"], ["Austin", "US"], ["Tokyo", "JP"]];

/**
 * A realistic mix: plays, likes, follows, shares, purchases, attendance. `playKind` "audio.play" goes through
 * the counting rules; "audio.complete" makes the same mutations without them. Plays last at least 30 s (they
 * all count) and draw from 50 tracks, so the rules find repeats.
 */
function workload(n: number, artists: string[], fans: string[], playKind: "audio.play" | "audio.complete") {
  const now = Date.now();
  const tracks = Array.from({ length: 50 }, uuid);
  return Array.from({ length: n }, (_, i) => {
    const [city, country] = PLACES[i % PLACES.length];
    const genre = GENRES[(i * 7) % GENRES.length];
    const base = {
      user_id: fans[(i * 7919) % fans.length],
      artist_id: artists[(i * 104729) % artists.length],
      client_event_id: uuid(),
      occurred_at: new Date(now - ((i * 611) % (28 * 86_400)) * 1000).toISOString(),
    };
    switch (i % 10) {
      case 0: return { ...base, source: "app", kind: "social.follow", payload: { city, country } };
      case 1: return { ...base, source: "app", kind: "audio.like", payload: { track_id: uuid(), genre } };
      case 2: return { ...base, source: "app", kind: "audio.share", payload: { track_id: uuid(), genre } };
      case 3: return { ...base, source: "treasury", kind: "tip.sent", payload: { payment_id: `pi_${i}`, amount_minor: 500 + i % 3000, currency: "EUR" } };
      case 4: return { ...base, source: "concierto", kind: "concierto.event_attended", payload: { event_id: uuid(), city, country } };
      default: {
        const track_id = tracks[(i * 31) % tracks.length];
        return playKind === "audio.play"
          ? { ...base, source: "app", kind: "audio.play", payload: { track_id, duration_ms: 30_000 + (i % 200) * 1000, genre, city, country } }
          : { ...base, source: "app", kind: "audio.complete", payload: { track_id, genre, city, country } };
      }
    }
  });
}

async function ingestDirect(sql: Sql, events: unknown[]) {
  for (let i = 0; i < events.length; i += 500) {
    await sql`select passport.ingest(${sql.json(events.slice(i, i + 500) as any)}::jsonb)`;
  }
}

/**
 * Drains the pending queue with process_pending(5000) until nothing is pending; returns the entries and seconds.
 * The every-minute cron job may take a batch meanwhile: processors fold one at a time, so the rate holds.
 */
async function drain(sql: Sql): Promise<{ entries: number; seconds: number }> {
  const entries = await pendingEntries(sql);
  const t0 = performance.now();
  for (;;) {
    const [{ n }] = await sql`select coliseum.process_pending(5000) as n`;
    if (n === 0 && (await pendingEntries(sql)) === 0) break;
  }
  return { entries, seconds: (performance.now() - t0) / 1000 };
}

/** The processor's phases, the functions that carry them (docs/coliseum-dna.md, "Where the time goes"). */
const PHASES: [string, string, "self" | "total"][] = [
  ["claim and mark (process_pending itself)", "coliseum.process_pending(integer)", "self"],
  ["fold: mutations and running aggregates", "coliseum_private.fold_entries(bigint[],timestamp with time zone,timestamp with time zone)", "total"],
  ["player stats", "coliseum_private.fold_player_stats(bigint[],timestamp with time zone,timestamp with time zone)", "total"],
  ["badges", "people_private.evaluate_badges(bigint[],bigint,timestamp with time zone,timestamp with time zone)", "total"],
  ["refresh: scores of the touched artists", "coliseum_private.refresh_artists(uuid[],timestamp with time zone,boolean)", "total"],
  ["… of which suspicion signals", "coliseum_private.refresh_signals(uuid[],timestamp with time zone)", "total"],
  ["… of which Companon vectors", "companon_private.refresh_vectors(uuid[])", "total"],
  ["… of which inbox notifications", "people_private.notify(uuid,text,text,text,jsonb,text)", "total"],
];

/** Each phase's milliseconds so far in this cluster (pg_stat_user_functions), after this session's stats are flushed. */
async function phaseTimes(conn: Sql): Promise<number[]> {
  await conn`select pg_stat_force_next_flush()`;
  await conn`select 1`;
  await conn`select pg_stat_clear_snapshot()`;
  return await Promise.all(PHASES.map(async ([, fn, kind]) => {
    const [row] = await conn`select coalesce(total_time, 0) as total, coalesce(self_time, 0) as self
                             from pg_stat_user_functions where funcid = to_regprocedure(${fn})`;
    return row ? Number(kind === "self" ? row.self : row.total) : 0;
  }));
}

/**
 * Where a drain's time goes: the same workload drained again on the main cluster with function timing on in the
 * draining session (track_functions = 'all', which costs a little per call, hence a run of its own).
 */
async function phaseBreakdown(sql: Sql, artists: string[], fans: string[]): Promise<string> {
  const conn = await sql.reserve();
  try {
    await sql`select coliseum.stop_processor()`;
    await drain(conn);
    await ingestDirect(conn, workload(EVENTS, artists, fans, "audio.play"));
    await conn`set track_functions = 'all'`;
    const before = await phaseTimes(conn);
    const run = await drain(conn);
    const after = await phaseTimes(conn);
    await conn`reset track_functions`;
    const wall = run.seconds * 1000;
    const ms = after.map((t, i) => t - before[i]);
    const inFunctions = ms[0] + ms[1] + ms[2] + ms[3] + ms[4];
    const row = (label: string, t: number) => `| ${label} | ${fmt(t)} | ${fmt((100 * t) / wall, 1)}% | ${fmt((1000 * t) / run.entries, 1)} |`;
    return `Where the time of a drain goes (extension, counting rules, the same mix again, ${fmt(run.entries)} events in
${fmt(run.seconds, 2)} s with function timing on: \`track_functions = 'all'\` in the draining session, from
\`pg_stat_user_functions\`):

| phase | ms | share of the drain | µs per event |
|---|---:|---:|---:|
${PHASES.map(([label], i) => row(label, ms[i])).join("\n")}
${row("outside the functions: round trips, commits", wall - inFunctions)}`;
  } finally {
    conn.release();
  }
}

async function processorThroughput() {
  const fans = Array.from({ length: 3000 }, benchFan);
  const rows: string[] = [];
  const results: Record<string, number> = {};
  let measured: string[] = []; // the artists of the extension's run with the rules
  let breakdown = "";
  for (const [label, sql] of [["pg_coliseum (extension)", main], ["SQL twins", twins]] as const) {
    await measure(label, sql);
    if (sql === main) {
      breakdown = await phaseBreakdown(main, Array.from({ length: 300 }, benchArtist), fans);
      await sql`select coliseum.start_processor()`;
    }
  }
  async function measure(label: string, sql: Sql) {
    for (const [variant, playKind] of [["rules idle (plays as audio.complete)", "audio.complete"], ["counting rules (audio.play)", "audio.play"]] as const) {
      const runArtists = Array.from({ length: 300 }, benchArtist);
      if (sql === main && playKind === "audio.play") measured = runArtists;
      const events = workload(EVENTS, runArtists, fans, playKind);
      // The worker stops (the every-minute cron job starts it again), and anything already pending is not part
      // of the measurement.
      if (sql === main) await sql`select coliseum.stop_processor()`;
      await drain(sql);
      await ingestDirect(sql, events);
      const run = await drain(sql);
      results[`${label}/${playKind}`] = run.entries / run.seconds;
      const ratio = playKind === "audio.play" ? fmt(results[`${label}/audio.play`] / results[`${label}/audio.complete`], 2) : "1.00";
      rows.push(`| ${label} | ${variant} | ${fmt(run.entries)} | ${fmt(run.seconds, 2)} | ${fmt(results[`${label}/${playKind}`])} | ${ratio} |`);
    }
  }
  // The physical limit: the mutation rows of the extension's run with the rules, inserted into a table with the same
  // indexes. The rows are read into a staging table first, so that only the INSERT is timed; the fastest of three
  // inserts counts (one was 0.24–1.58 s in runs of the same code: a checkpoint or the cache, not the rows).
  const [{ m }] = await main`select count(*)::int as m from public.coliseum_dna_mutations where artist_id = any(${measured}::uuid[])`;
  await main`create table if not exists coliseum_private.bench_mutations_copy (like public.coliseum_dna_mutations including defaults including indexes)`;
  await main`create table if not exists coliseum_private.bench_mutations_rows (like public.coliseum_dna_mutations)`;
  await main`truncate coliseum_private.bench_mutations_rows`;
  await main`insert into coliseum_private.bench_mutations_rows select * from public.coliseum_dna_mutations where artist_id = any(${measured}::uuid[])`;
  let copySeconds = Infinity;
  for (let i = 0; i < 3; i++) {
    await main`truncate coliseum_private.bench_mutations_copy`;
    const t0 = performance.now();
    await main`insert into coliseum_private.bench_mutations_copy select * from coliseum_private.bench_mutations_rows`;
    copySeconds = Math.min(copySeconds, (performance.now() - t0) / 1000);
  }
  await main`drop table coliseum_private.bench_mutations_copy, coliseum_private.bench_mutations_rows`;
  const ext = results["pg_coliseum (extension)/audio.play"], sqlTwins = results["SQL twins/audio.play"];
  const per = m / EVENTS;
  // Entries/s at the physical limit: mutation rows/s divided by mutations per entry.
  const physical = m / copySeconds / per;
  return `Processor: ${fmt(EVENTS)} pending events (300 new artists per run, 3,000 fans, 28 days), drained with \`process_pending(5000)\`
(${fmt(per, 2)} mutations per event, ${fmt(m)} mutation rows). Each implementation drains the same mix twice: with the
plays logged as \`audio.complete\` (the same A and T mutations, which the counting rules leave alone: the baseline) and
as \`audio.play\` (slot, repeat and day rules, their state, and the units they give).

| implementation | workload | events | seconds | events/s | rules ÷ idle |
|---|---|---:|---:|---:|---:|
${rows.join("\n")}
| physical limit: INSERT of the same ${fmt(m)} mutation rows (fastest of 3) | | ${fmt(EVENTS)} | ${fmt(copySeconds, 2)} | ${fmt(physical)} | |

- the counting rules keep ${fmt((100 * ext) / results["pg_coliseum (extension)/audio.complete"], 0)}% of the throughput with the extension, ${fmt((100 * sqlTwins) / results["SQL twins/audio.complete"], 0)}% with the twins;
- the extension processes ${fmt(ext / sqlTwins, 2)}× as many events per second as the SQL twins;
- the extension reaches ${fmt((100 * ext) / physical, 1)}% of the physical limit (the twins ${fmt((100 * sqlTwins) / physical, 1)}%).

${breakdown}`;
}

/**
 * Probes how long a fresh event takes to reach coliseum_domain_strength while passport-log takes a sustained
 * load of `rate` events/s for `seconds`. A probe still missing after 30 s is counted as missed, and the
 * backlog left at the end says whether the processor kept up.
 */
async function freshnessAt(rate: number, seconds: number) {
  const clients = 32;
  const batch = Math.max(1, Math.min(100, Math.round(rate / 100)));
  const users = await Promise.all(Array.from({ length: clients }, () => newUser(main)));
  seededUsers.push(...users.map((u) => u.id));
  const artists = Array.from({ length: 500 }, benchArtist);
  let stop = false;
  let sent = 0;
  const t0 = performance.now();
  const interval = (clients * batch * 1000) / rate; // ms between batches per client
  const load = Promise.all(users.map(async (u, c) => {
    for (let i = 0; !stop; i++) {
      const wait = t0 + i * interval + (c * interval) / clients - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stop) break;
      const events = Array.from({ length: batch }, (_, j) => ({
        kind: "audio.play", client_event_id: uuid(), artist_id: artists[(i * batch + j + c) % artists.length],
        payload: { track_id: uuid(), duration_ms: 60_000, genre: "afrobeats" },
      }));
      const res = await callFunction("passport-log", { events }, { token: u.token });
      if (res.status === 200) sent += batch;
    }
  }));
  await new Promise((r) => setTimeout(r, 2000));
  const probeFan = await newUser(main);
  seededUsers.push(probeFan.id);
  const latencies: number[] = [];
  let missed = 0;
  while (performance.now() - t0 < seconds * 1000) {
    const artist = benchArtist();
    const start = performance.now();
    await callFunction("passport-log", { kind: "social.follow", client_event_id: uuid(), artist_id: artist }, { token: probeFan.token });
    for (;;) {
      const [row] = await main`select 1 from public.coliseum_domain_strength where artist_id = ${artist} and domain = 'A' and period = '7d'`;
      if (row) {
        latencies.push(performance.now() - start);
        break;
      }
      if (performance.now() - start > 30_000) {
        missed += 1;
        break;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  stop = true;
  await load;
  const achieved = sent / ((performance.now() - t0) / 1000);
  const backlog = await pendingEntries(main);
  latencies.sort((a, b) => a - b);
  const cell = (p: number) => latencies.length ? fmt(percentile(latencies, p), 0) : "—";
  return `| ${fmt(rate)} | ${fmt(achieved)} | ${latencies.length} | ${missed} | ${cell(50)} | ${cell(99)} | ${fmt(backlog)} |`;
}

async function freshness() {
  // 32 users send far more than a user may (passport.limits): the limits are raised for this part, so that it
  // measures how fast events reach the boards, not the limit.
  const [limits] = await main`select user_requests_burst, user_requests_per_minute, user_events_burst, user_events_per_minute
                              from passport.limits`;
  await main`update passport.limits set user_requests_burst = 1000000000, user_requests_per_minute = 1000000000,
                                        user_events_burst = 1000000000, user_events_per_minute = 1000000000`;
  try {
    return await freshnessRows();
  } finally {
    await main`update passport.limits set ${main(limits)}`;
  }
}

async function freshnessRows() {
  const rows = [];
  for (const rate of FRESHNESS_RATES) {
    rows.push(await freshnessAt(rate, FRESHNESS_SECONDS));
    // Let the processor catch up before the next rate, so each row starts from an empty queue.
    const deadline = performance.now() + 120_000;
    while ((await pendingEntries(main)) > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  }
  return `Event to leaderboard: probe events (a follow of a new artist, through passport-log, one every 250 ms) while
32 clients send plays to 500 artists at a target rate for ${FRESHNESS_SECONDS} s; latency from sending a probe to its row in
\`coliseum_domain_strength\` (polled every 10 ms), probes missing after 30 s, and the queue left at the end.

| target events/s | achieved events/s | probes seen | probes missed | p50 ms | p99 ms | pending at the end |
|---:|---:|---:|---:|---:|---:|---:|
${rows.join("\n")}`;
}

let parts: string[];
try {
  parts = [await processorThroughput(), await freshness()];
} finally {
  await main.end();
  await twins.end();
  await removeSeeded(env("SUPABASE_DB_URL"), seededUsers, true);
  await removeSeeded(env("BUCKETS_HOSTED_ADMIN_DB_URL"), seededUsers, false);
}
await writeSection("coliseum", "Coliseum", parts.join("\n\n"));
console.log(parts.join("\n\n"));
