// ./stack bench partitions — what the monthly partitions of passport_entries and coliseum_dna_mutations
// (docs/partitions.md) cost the paths that write them, in one run on the main cluster:
// 1. direct INSERTs into the partitioned log (its key trigger and passport_private.entry_keys included)
//    against the same rows inserted into an unpartitioned copy of the log as it was before (its unique
//    key (user_id, client_event_id), the same indexes), created for the run and dropped after;
// 2. the processor draining the same number of pending entries with process_pending(5000);
// both with the partitions a fresh database has (this month and four ahead, a default), then again with
// two and a half years of months attached (premade 30 ahead), then once more with those removed: the tables
// grow by what each phase inserts, so the third phase tells what that growth did on its own. Everything the run
// logged is removed afterwards (tests/lib/seeded.ts).
import { db, env, pendingEntries, type Sql, uuid } from "../lib/stack.ts";
import { closedLoop, describe, fmt, percentile, perSecond, type Run, writeSection } from "../lib/bench.ts";
import { benchArtist, benchFan, removeSeeded } from "../lib/seeded.ts";

const CLIENTS = 16;
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 8);
const EVENTS = 20_000; // two runs of partitions_pending.sql
const MANY_MONTHS = 30;
const BASELINE = "passport_private.bench_unpartitioned_log";
const PARENTS = ["public.passport_entries", "public.coliseum_dna_mutations"];

const sql = db(CLIENTS + 4);
const fans = Array.from({ length: 3000 }, benchFan);
const artists = Array.from({ length: 300 }, benchArtist);

/** Plays, likes and follows over the last 28 days, as in partitions_pending.sql. */
function event(i: number) {
  const base = {
    user_id: fans[(i * 7919) % fans.length],
    artist_id: artists[(i * 104729) % artists.length],
    client_event_id: uuid(),
    occurred_at: new Date(Date.now() - ((i * 611) % (28 * 86_400)) * 1000),
    source: "app",
  };
  switch (i % 4) {
    case 0: return { ...base, kind: "social.follow", payload: {} };
    case 1: return { ...base, kind: "audio.like", payload: { track_id: uuid(), genre: "highlife" } };
    default: return { ...base, kind: "audio.complete", payload: { track_id: uuid(), genre: "afrobeats", city: "Accra", country: "GH" } };
  }
}

async function inserts(table: string, batch: number): Promise<Run> {
  return await closedLoop(`${table}, batch ${batch}`, CLIENTS, SECONDS, async (_client, it) => {
    const rows = Array.from({ length: batch }, (_, j) => event(it * batch + j));
    await sql`insert into ${sql(table)} ${sql(rows)}`;
    return batch;
  });
}

/** Drains the pending queue; the worker is stopped, the every-minute job may take a batch (one folds at a time). */
async function drain(): Promise<{ entries: number; seconds: number }> {
  const entries = await pendingEntries(sql);
  const t0 = performance.now();
  for (;;) {
    const [{ n }] = await sql`select coliseum.process_pending(5000) as n`;
    if (n === 0 && (await pendingEntries(sql)) === 0) break;
  }
  return { entries, seconds: (performance.now() - t0) / 1000 };
}

async function processing(): Promise<number> {
  await drain();
  for (let i = 0; i < EVENTS / 10_000; i++) await sql.file(new URL("partitions_pending.sql", import.meta.url).pathname);
  const run = await drain();
  console.log(`processor: ${fmt(run.entries)} entries in ${fmt(run.seconds, 2)} s`);
  return run.entries / run.seconds;
}

async function partitionCount(): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from pg_inherits where inhparent = 'public.passport_entries'::regclass`;
  return n;
}

async function withPremake(months: number) {
  await sql`update partman.part_config set premake = ${months} where parent_table = any(${PARENTS})`;
  await sql`select passport_private.maintain_partitions()`;
}

/** Detaches and drops the empty months beyond the four premade ones (made by this run). */
async function dropExtraMonths() {
  const extra = await sql`
    select format('%I.%I', p.partition_schemaname, p.partition_tablename) as child, c.parent
    from unnest(${PARENTS}::text[]) as c(parent)
    cross join lateral partman.show_partitions(c.parent) as p
    cross join lateral partman.show_partition_info(format('%I.%I', p.partition_schemaname, p.partition_tablename)) as i
    where i.child_start_time >= date_trunc('month', now()) + interval '5 months'`;
  for (const { child, parent } of extra) {
    const [{ empty }] = await sql`select not exists (select from ${sql(child)}) as empty`;
    if (!empty) throw new Error(`${child} holds rows; it was not made by this run`);
    await sql`alter table ${sql(parent)} detach partition ${sql(child)}`;
    await sql`drop table ${sql(child)}`;
  }
  await withPremake(4);
}

interface Phase {
  months: number;
  inserts: Record<number, [Run, Run]>; // batch -> [unpartitioned, partitioned]
  processor: number;
}

async function phase(): Promise<Phase> {
  const months = await partitionCount();
  const out: Phase = { months, inserts: {}, processor: 0 };
  for (const batch of [1, 100]) {
    const before = await inserts(BASELINE, batch);
    console.log(describe(before));
    const after = await inserts("public.passport_entries", batch);
    console.log(describe(after));
    out.inserts[batch] = [before, after];
  }
  out.processor = await processing();
  return out;
}

await sql`select coliseum.stop_processor()`;
await sql`drop table if exists ${sql(BASELINE)}`;
await sql`create table ${sql(BASELINE)} (like public.passport_entries including defaults including constraints including identity)`;
// The baseline starts with the log's rows, as the log was one table before the partitions: the two then compare
// on the same amount of data (on a stack that kept other benches' events, millions of rows whose indexes no longer
// fit in shared_buffers), not a full log against an empty table.
const copied = await sql`insert into ${sql(BASELINE)} overriding system value select * from public.passport_entries`;
const [{ next }] = await sql`select coalesce(max(id), 0) + 1 as next from ${sql(BASELINE)}`;
await sql`select setval(pg_get_serial_sequence(${BASELINE}, 'id'), ${next}, false)`;
console.log(`baseline: ${fmt(copied.count)} rows copied from the log`);
await sql`alter table ${sql(BASELINE)} add primary key (id), add unique (user_id, client_event_id),
                                       add foreign key (kind) references passport.event_kinds (name)`;
await sql`create index on ${sql(BASELINE)} (user_id, occurred_at desc, id desc)`;
await sql`create index on ${sql(BASELINE)} (id) where coliseum_processed_at is null`;
await sql`create index on ${sql(BASELINE)} (user_id, id) where kind = 'profile.location_set'`;
const phases: Phase[] = [];
try {
  phases.push(await phase());
  await withPremake(MANY_MONTHS);
  phases.push(await phase());
  await dropExtraMonths();
  phases.push(await phase());
} finally {
  await dropExtraMonths();
  await sql`drop table if exists ${sql(BASELINE)}`;
  await sql`select coliseum.start_processor()`;
  await removeSeeded(env("SUPABASE_DB_URL"), [], true);
}
await sql.end();

const order = ["first", "then", "again"];
const table = [
  "| phase | log partitions | batch | unpartitioned INSERT (baseline) events/s | partitioned INSERT events/s | p99 ms unpartitioned / partitioned | partitioned ÷ unpartitioned |",
  "|---|---:|---:|---:|---:|---:|---:|",
];
for (const [i, p] of phases.entries()) {
  for (const batch of [1, 100]) {
    const [before, after] = p.inserts[batch];
    table.push(`| ${order[i]} | ${p.months} | ${batch} | ${fmt(perSecond(before))} | ${fmt(perSecond(after))} | ` +
      `${fmt(percentile(before.latenciesMs, 99), 1)} / ${fmt(percentile(after.latenciesMs, 99), 1)} | ` +
      `${fmt(perSecond(after) / perSecond(before), 2)} |`);
  }
}
const [few] = phases;
await writeSection(
  "partitions",
  "Partitions: ingest and processing",
  `Direct INSERTs by ${CLIENTS} concurrent connections, closed loop, ${SECONDS} s per path after 1 s of warm-up, into the
partitioned log (the key trigger writes passport_private.entry_keys) and into an unpartitioned copy of the log as it
was before the partitions (primary key id, unique (user_id, client_event_id), the same three indexes, the foreign key
to the catalog), created for the run. Then the processor (pg_coliseum, main cluster) drains ${fmt(EVENTS)} pending
entries (\`tests/bench/partitions_pending.sql\` twice: follows, likes, plays of 300 new artists by 3,000 new fans over
28 days, so their mutations fall in two months) with \`process_pending(5000)\`. All of it first with the partitions of a fresh database (this month, four ahead, the
default), then with ${MANY_MONTHS} months premade ahead (two and a half years of months), then again with those removed.
Both logs keep what each phase inserted, so the third phase measures the default partitions on the grown tables:
compare the second phase with it, not only with the first.

${table.join("\n")}

| phase | log partitions | processor events/s | ÷ first phase |
|---|---:|---:|---:|
${phases.map((p, i) => `| ${order[i]} | ${p.months} | ${fmt(p.processor)} | ${fmt(p.processor / few.processor, 2)} |`).join("\n")}`,
);
