// ./stack bench passport — events/s through passport-log (batches of 1 and
// 100, 64 concurrent clients) against the same rows inserted straight into
// Postgres by 64 connections, the physical floor of what the endpoint adds to;
// and where the CPU of each went, by process (tests/lib/cpu.ts).
import { callFunction, db, newUser, uuid, type User } from "../lib/stack.ts";
import { closedLoop, describe, fmt, percentile, perSecond, type Run, writeSection } from "../lib/bench.ts";
import { cpuHeader, cpuRow, settle, settledRate, untilSettled, withCpu } from "../lib/cpu.ts";

const CLIENTS = 64;
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 8);
const ARTISTS = Array.from({ length: 50 }, () => uuid());

const sql = db(CLIENTS + 4);
const users: User[] = [];
for (let i = 0; i < CLIENTS; i++) users.push(await newUser(sql));

// Each client sends far more than a user may (passport.limits): the limits are raised for the run, so
// that the bench measures what the endpoint costs, the buckets' bookkeeping included, not the limit.
const [limits] = await sql`select user_requests_burst, user_requests_per_minute, user_events_burst, user_events_per_minute
                           from passport.limits`;
await sql`update passport.limits set user_requests_burst = 1000000000, user_requests_per_minute = 1000000000,
                                     user_events_burst = 1000000000, user_events_per_minute = 1000000000`;

function event(i: number) {
  return {
    kind: i % 5 === 0 ? "social.follow" : "audio.play",
    client_event_id: uuid(),
    artist_id: ARTISTS[i % ARTISTS.length],
    payload: i % 5 === 0 ? {} : { track_id: uuid(), duration_ms: 30_000 + (i % 200) * 1000, genre: "afrobeats" },
  };
}

async function viaEndpoint(batch: number): Promise<Run> {
  return await closedLoop(`passport-log, batch ${batch}`, CLIENTS, SECONDS, async (client, it) => {
    const events = Array.from({ length: batch }, (_, j) => event(it * batch + j));
    const res = await callFunction("passport-log", batch === 1 ? events[0] : { events }, { token: users[client].token });
    if (res.status !== 200) throw new Error(`passport-log answered ${res.status}: ${JSON.stringify(res.body)}`);
    const accepted = res.body.results.filter((r: { status: string }) => r.status === "accepted").length;
    if (accepted !== batch) throw new Error(`only ${accepted} of ${batch} accepted: ${JSON.stringify(res.body.results[0])}`);
    return accepted;
  });
}

async function direct(batch: number): Promise<Run> {
  return await closedLoop(`direct INSERT, batch ${batch}`, CLIENTS, SECONDS, async (client, it) => {
    const rows = Array.from({ length: batch }, (_, j) => {
      const e = event(it * batch + j);
      return { user_id: users[client].id, kind: e.kind, artist_id: e.artist_id, payload: e.payload, client_event_id: e.client_event_id, source: "app", occurred_at: new Date() };
    });
    await sql`insert into public.passport_entries ${sql(rows)}`;
    return batch;
  });
}

const lines: string[] = [];
const cpuRows: string[] = [];
const table: string[] = [
  "| batch | path | events/s | p50 ms / request | p99 ms / request | endpoint ÷ direct | processed s after | events/s until processed | endpoint ÷ direct, until processed |",
  "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
];
try {
  for (const batch of [1, 100]) {
    await settle(sql);
    // Batch 100 logs faster than the processor folds by far (minutes of work after the direct path): its rate
    // until processed would be the processor's, which `./stack bench coliseum` measures.
    const measure = batch === 1 ? (path: () => Promise<Run>) => untilSettled(sql, path) : async (path: () => Promise<Run>) => ({ ...(await path()), drainMs: NaN });
    const [endpoint, endpointCpu] = await withCpu("passport-log", () => measure(() => viaEndpoint(batch)), (r) => r.items);
    console.log(`${describe(endpoint)}; processed ${fmt(endpoint.drainMs, 0)} ms after the run`);
    await settle(sql);
    const [baseline, baselineCpu] = await withCpu("passport-log", () => measure(() => direct(batch)), (r) => r.items);
    console.log(`${describe(baseline)}; processed ${fmt(baseline.drainMs, 0)} ms after the run`);
    cpuRows.push(cpuRow(`batch ${batch}, passport-log over HTTP`, endpointCpu), cpuRow(`batch ${batch}, direct INSERT`, baselineCpu));
    const ratio = perSecond(endpoint) / perSecond(baseline);
    const sustainedRatio = settledRate(endpoint) / settledRate(baseline);
    for (
      const [r, path, ratioCell, sustainedCell] of [
        [baseline, "direct INSERT (baseline)", "1.00", "1.00"],
        [endpoint, "passport-log over HTTP", fmt(ratio, 2), fmt(sustainedRatio, 2)],
      ] as const
    ) {
      table.push(
        `| ${batch} | ${path} | ${fmt(perSecond(r))} | ${fmt(percentile(r.latenciesMs, 50), 1)} | ${fmt(percentile(r.latenciesMs, 99), 1)} | ${ratioCell} | ${
          Number.isNaN(r.drainMs) ? "— | — | —" : `${fmt(r.drainMs / 1000, 1)} | ${fmt(settledRate(r))} | ${sustainedCell}`
        } |`,
      );
    }
    lines.push(
      `- batch ${batch}: the endpoint sustains ${fmt(ratio * 100, 1)}% of the direct-insert rate${
        Number.isNaN(sustainedRatio) ? "" : `; ${fmt(sustainedRatio * 100, 1)}% counted until the processor had folded each path's events`
      }.`,
    );
  }
} finally {
  await sql`update passport.limits set ${sql(limits)}`;
}
// Leave the stack as the bench found it: the batch-100 direct INSERTs leave minutes of the processor's work, which
// would otherwise land on whatever runs next (the next bench's own wait for the processor gives up after 2 minutes).
const drainStart = performance.now();
await settle(sql, 30 * 60_000);
console.log(`the processor folded what the runs logged ${fmt((performance.now() - drainStart) / 1000, 0)} s after the last one`);
await sql.end();

await writeSection(
  "passport",
  "Passport ingest",
  `${CLIENTS} concurrent clients, closed loop, ${SECONDS} s per path after 1 s of warm-up, each client its own user;
before each path the bench waits until nothing is pending for the processor (the events of the path before). At batch 1
it waits again after each path and reports that wait: the events/s "until processed" count it too, since a path that
logs faster than the processor folds leaves the rest of its work behind (the CPU table's batch-1 rows include that wait).
At batch 100 the direct path leaves minutes of the processor's work (its rate until processed would be the processor's,
\`./stack bench coliseum\`), so those columns are empty there.
The endpoint path is the whole production path: the local gateway (a Deno proxy; passport-log has \`verify_jwt = false\`),
the function's instances (Deno, the WASM handler: the user's token, parse, validate, normalise), PgBouncer, and
\`passport.ingest\` run as the user (the user's rate-limit buckets, raised out of reach for the run; re-validation against
the catalog, one INSERT … ON CONFLICT, rejection log), the role switch and the call in one round trip, the calls of
concurrent requests of one instance sharing transactions (docs/passport-api.md). The baseline inserts
the same rows with plain multi-row INSERTs over ${CLIENTS} connections: no HTTP, no validation, no role, no limits.

${table.join("\n")}

${lines.join("\n")}

CPU milliseconds per event, by process, over the whole run (and at batch 1 the wait for the processor after it; warm-up
included; \`client\` is the bench itself):

${cpuHeader}
${cpuRows.join("\n")}`,
);
