// ./stack bench workers — the same requests served by the two hosts of the edge functions, in one run
// (docs/workers.md): the Deno host behind the local gateway, and the Worker under workerd. Closed loops of
// passport-log (one event per request) and ticket-validate (a staff scan of a ticket that is already in:
// the token verified, concierto.redeem run as the staff member, `already_admitted` answered), at 1 and 16
// clients each; the ratio is Worker ÷ Deno requests per second.
import { db, type EdgeHost, functionsUrlOf, newUser, uuid, type User } from "../lib/stack.ts";
import { closedLoop, fmt, percentile, perSecond, type Run, writeSection } from "../lib/bench.ts";
import { buy, newShow, tokenOf } from "../lib/concierto.ts";

const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const HOSTS: EdgeHost[] = ["deno", "workers"];
const CLIENT_COUNTS = [1, 16];
const sql = db(8);

async function post(host: EdgeHost, fn: string, token: string, body: unknown) {
  const res = await fetch(`${functionsUrlOf(host)}/${fn}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const users: User[] = [];
for (let i = 0; i < Math.max(...CLIENT_COUNTS); i++) users.push(await newUser(sql));
// As in ./stack bench passport: the users' limits raised out of reach for the run, restored after.
const [limits] = await sql`select user_requests_burst, user_requests_per_minute, user_events_burst, user_events_per_minute
                           from passport.limits`;
await sql`update passport.limits set user_requests_burst = 1000000000, user_requests_per_minute = 1000000000,
                                     user_events_burst = 1000000000, user_events_per_minute = 1000000000`;

const show = await newShow(sql);
const buyer = await newUser(sql);
const { tickets } = await buy(sql, buyer.id, show.tier, 4);
const ticketTokens = await Promise.all(tickets.map((t) => tokenOf(buyer, t)));
for (const token of ticketTokens) {
  const first = await post("deno", "ticket-validate", show.staff.token, { token, event_id: show.event, gate: "bench" });
  if (first.body.status !== "admitted") throw new Error(`the first scan was not admitted: ${JSON.stringify(first.body)}`);
}

function passportLog(host: EdgeHost, clients: number): Promise<Run> {
  return closedLoop(`passport-log batch 1, ${clients} client(s), ${host}`, clients, SECONDS, async (client) => {
    const event = { kind: "audio.play", client_event_id: uuid(), artist_id: uuid(), payload: { track_id: uuid(), duration_ms: 30_000 } };
    const res = await post(host, "passport-log", users[client].token, event);
    if (res.status !== 200 || res.body.results[0].status !== "accepted") throw new Error(`${host} passport-log: ${res.status} ${JSON.stringify(res.body)}`);
    return 1;
  });
}

function ticketValidate(host: EdgeHost, clients: number): Promise<Run> {
  return closedLoop(`ticket-validate, ${clients} client(s), ${host}`, clients, SECONDS, async (client, i) => {
    const token = ticketTokens[(client + i) % ticketTokens.length];
    const res = await post(host, "ticket-validate", show.staff.token, { token, event_id: show.event, gate: "bench" });
    if (res.status !== 200 || res.body.status !== "already_admitted") throw new Error(`${host} ticket-validate: ${res.status} ${JSON.stringify(res.body)}`);
    return 1;
  });
}

const table = [
  "| function | clients | host | requests/s | p50 ms | p99 ms | Worker ÷ Deno |",
  "|---|---:|---|---:|---:|---:|---:|",
];
const ratios: string[] = [];
try {
  for (const [fn, measure] of [["passport-log", passportLog], ["ticket-validate", ticketValidate]] as const) {
    for (const clients of CLIENT_COUNTS) {
      const runs = new Map<EdgeHost, Run>();
      for (const host of HOSTS) {
        const run = await measure(host, clients);
        console.log(`${run.label}: ${fmt(perSecond(run))}/s, p50 ${fmt(percentile(run.latenciesMs, 50), 1)} ms`);
        runs.set(host, run);
      }
      const ratio = perSecond(runs.get("workers")!) / perSecond(runs.get("deno")!);
      for (const host of HOSTS) {
        const r = runs.get(host)!;
        table.push(`| ${fn} | ${clients} | ${host} | ${fmt(perSecond(r))} | ${fmt(percentile(r.latenciesMs, 50), 1)} | ${fmt(percentile(r.latenciesMs, 99), 1)} | ${host === "deno" ? "1.00" : fmt(ratio, 2)} |`);
      }
      ratios.push(`- ${fn}, ${clients} client(s): the Worker serves ${fmt(ratio, 2)}× the Deno host's requests per second.`);
    }
  }
} finally {
  await sql`update passport.limits set ${sql(limits)}`;
  await sql.end();
}

await writeSection(
  "workers",
  "Edge hosts: Cloudflare Workers (workerd) vs Deno",
  `The same requests to both hosts in one run, closed loop, ${SECONDS} s per row after 1 s of warm-up. Deno: the local gateway
and the function's instances (each keeps a pool of connections to PgBouncer). Worker: workerd serving
edge/workers on one isolate, no gateway in front; it opens a connection to PgBouncer per request (a Worker's sockets
live as long as their request; deployed, Hyperdrive keeps the pool, so this local figure is the Worker's worst case).
passport-log: one event per request, each client its own user (limits raised for the run). ticket-validate: staff
scans of tickets already admitted (token verified, \`concierto.redeem\` run as the staff member, \`already_admitted\`).

${table.join("\n")}

${ratios.join("\n")}`,
);
