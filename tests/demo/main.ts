// ./stack demo — drives a realistic workload through the running stack over
// HTTP and prints what happened.
import { db } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";
import { createWorld, runPassportDemo, timelineOf } from "./passport.ts";
import { runColiseumDemo } from "./coliseum.ts";
import { runIntegrityDemo } from "./integrity.ts";
import { runTreasuryDemo } from "./treasury.ts";
import { runConciertoDemo } from "./concierto.ts";
import { runMoneyDemo } from "./money.ts";
import { runRefundsDemo } from "./refunds.ts";
import { runCompanonDemo } from "./companon.ts";
import { runPeopleDemo } from "./people.ts";
import { runHostsDemo } from "./hosts.ts";
import { runPlayerStatsDemo } from "./player_stats.ts";
import { runBadgesDemo } from "./badges.ts";

const sql = db();
const started = performance.now();
const world = await createWorld(sql);
const byId = new Map(world.artists.map((a) => [a.id, a.name]));

heading("Passport — a week of app traffic through POST /functions/v1/passport-log");
const tally = await runPassportDemo(sql, world);
const rejected = [...tally.rejected.values()].reduce((a, b) => a + b, 0);
const total = tally.accepted + tally.duplicate + rejected;
console.log(`${total} events in ${tally.requests} requests from ${world.fans.length} fans, in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
table(["outcome", "events", "share"], [
  ["accepted", tally.accepted, `${((100 * tally.accepted) / total).toFixed(1)}%`],
  ["duplicate (retries answered with the original id)", tally.duplicate, `${((100 * tally.duplicate) / total).toFixed(1)}%`],
  ["rejected", rejected, `${((100 * rejected) / total).toFixed(1)}%`],
], ["l", "r", "r"]);

heading("Why events were rejected (from passport.rejections, the operators' record)");
const ids = world.fans.map((f) => f.id);
const reasons = await sql`
  select code, min(message) as example, count(*)::int as n
    from passport.rejections where user_id = any(${ids}::uuid[])
   group by code order by n desc, code`;
table(["code", "events", "example message"], reasons.map((r: any) => [r.code, r.n, r.example]), ["l", "r", "l"]);

heading("What the log holds now, by kind");
const kinds = await sql`
  select kind, count(*)::int as n, count(distinct user_id)::int as fans
    from public.passport_entries where user_id = any(${ids}::uuid[])
   group by kind order by n desc`;
table(["kind", "events", "fans"], kinds.map((k: any) => [k.kind, k.n, k.fans]), ["l", "r", "r"]);

const fan = world.fans[0];
heading(`${fan.name}'s timeline (passport.timeline as ${fan.name}, newest first)`);
const rows = await timelineOf(sql, fan, 12);
table(["when (UTC)", "kind", "artist", "details"], rows.map((r: any) => [
  r.occurred_at.toISOString().slice(0, 16).replace("T", " "),
  r.kind,
  byId.get(r.artist_id) ?? "—",
  Object.entries(r.payload).filter(([k]) => !k.endsWith("_id")).map(([k, v]) => `${k}=${v}`).join(" ").slice(0, 48),
]));

const names = await runColiseumDemo(sql, byId);

await runIntegrityDemo(sql, names);

await runTreasuryDemo(sql);

await runConciertoDemo(sql);

await runMoneyDemo(sql);

await runRefundsDemo(sql);

await runCompanonDemo(sql, names);

await runPeopleDemo(sql, names);
await runHostsDemo(sql);

await runPlayerStatsDemo(sql);
await runBadgesDemo(sql);

await sql.end();
console.log(`\ndemo finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
