// The integrity part of `./stack demo` (issue 12): one fan with one token tries to buy a board for a
// brand-new artist by hammering passport-log from three connections, the way the attack in the issue
// did. The limits answer 429 once the fan's budget is spent, the counting rules weigh what got through
// no more than one genuine day of listening, the artists with real audiences stay on top, and an
// admin sees the attempt in coliseum.integrity_report and can hold the artist off the boards.
import { asRole, callFunction, newUser, pendingEntries, type Sql, uuid } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";

const HOUR = 3_600_000;

function plays(artist: string, tracks: string[], times: number[]) {
  return times.map((t, i) => ({
    kind: "audio.play",
    client_event_id: uuid(),
    artist_id: artist,
    occurred_at: new Date(t).toISOString(),
    payload: { track_id: tracks[i % tracks.length], duration_ms: 185_000, genre: "afrobeats" },
  }));
}

/** Where an artist stands on a 7-day board: rank and score, or null when off the board. */
async function standing(sql: Sql, viewer: string, domain: string, artist: string) {
  const rows = await asRole(sql, "authenticated", viewer, (tx) =>
    tx`select rank, score from coliseum.leaderboard(${domain}, '7d', 1000, 0) where artist_id = ${artist}::uuid`);
  return rows[0] ?? null;
}

export async function runIntegrityDemo(sql: Sql, names: Map<string, string>, seconds = 10) {
  const attacker = await newUser(sql);
  const target = await newUser(sql); // a brand-new artist with no audience
  const honest = await newUser(sql); // another new artist the same fan genuinely listens to for a day
  names.set(target.id, "Brand-new artist (attacked)");
  names.set(honest.id, "Brand-new artist (one genuine day)");

  heading(`Integrity — one fan, one token, three connections, ${seconds} s of passport-log at a brand-new artist`);
  const tracks = [uuid(), uuid()];
  const outcome = { accepted: 0, limited: 0, other: new Map<string, number>(), requests: 0 };
  let retryAfter = "";
  const stopAt = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: 3 }, async () => {
    while (Date.now() < stopAt) {
      const now = Date.now();
      const res = await callFunction("passport-log", { events: plays(target.id, tracks, [now, now, now, now, now]) },
        { token: attacker.token });
      outcome.requests++;
      if (res.status === 200) outcome.accepted += res.body.results.filter((r: any) => r.status === "accepted").length;
      else if (res.status === 429) {
        outcome.limited++;
        retryAfter = res.headers.get("retry-after") ?? retryAfter;
      } else {
        const key = `${res.status} ${res.body?.code}`;
        outcome.other.set(key, (outcome.other.get(key) ?? 0) + 1);
      }
    }
  }));
  table(["requests", "events accepted", "answered 429 rate_limited", "other answers"], [[
    outcome.requests, outcome.accepted, `${outcome.limited}${retryAfter ? ` (Retry-After: ${retryAfter} s)` : ""}`,
    [...outcome.other].map(([k, n]) => `${k} ×${n}`).join(", ") || "none",
  ]], ["r", "r", "r", "l"]);

  // The same fan's genuine day: 50 plays of four tracks, spread over the last 24 hours.
  const start = Date.now() - 23 * HOUR;
  const day = plays(honest.id, [uuid(), uuid(), uuid(), uuid()], Array.from({ length: 50 }, (_, i) => start + i * 27 * 60_000));
  const res = await callFunction("passport-log", { events: day }, { token: attacker.token });
  if (res.status !== 200 && res.status !== 429) throw new Error(`passport-log answered ${res.status}: ${JSON.stringify(res.body)}`);
  if (res.status === 429) {
    // The fan spent the budget on the attack: the honest day waits as an app's queue would.
    await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get("retry-after") ?? 1)));
    const again = await callFunction("passport-log", { events: day }, { token: attacker.token });
    if (again.status !== 200) throw new Error(`passport-log answered ${again.status}: ${JSON.stringify(again.body)}`);
  }
  while ((await pendingEntries(sql)) > 0) await new Promise((r) => setTimeout(r, 100));

  const viewer = await newUser(sql);
  await sql`select coliseum.set_plan(${viewer.id}::uuid, 'enterprise')`;
  const [leader] = await asRole(sql, "authenticated", viewer.id, (tx) =>
    tx`select artist_id, rank, score from coliseum.leaderboard('A', '7d', 1, 0)`);
  const rows: (string | number)[][] = [];
  for (const [label, id] of [[names.get(leader.artist_id) ?? `#1 today (${leader.artist_id.slice(0, 8)})`, leader.artist_id], [names.get(target.id)!, target.id],
    [names.get(honest.id)!, honest.id]] as [string, string][]) {
    const s = await standing(sql, viewer.id, "A", id);
    const [{ fans }] = await sql`select count(distinct user_id)::int as fans from public.passport_entries
                                  where artist_id = ${id}::uuid and occurred_at > now() - interval '7 days'`;
    rows.push([label, s ? s.rank : "—", s ? s.score.toFixed(2) : "—", fans]);
  }
  heading("Board A / 7d afterwards (coliseum.leaderboard as an enterprise user)");
  table(["artist", "rank", "score", "fans, 7 days"], rows, ["l", "r", "r", "r"]);

  heading("What an admin sees (coliseum.integrity_report, as the service role)");
  const report = await asRole(sql, "service_role", null, (tx) =>
    tx`select artist_id, suspicion, top_fan_share, velocity, new_account_share, entries_24h, fans_7d
         from coliseum.integrity_report(5, 0)`);
  table(["artist", "suspicion", "top fan's share", "velocity", "new accounts", "entries 24 h", "fans 7 d"],
    report.map((r: any) => [names.get(r.artist_id) ?? r.artist_id.slice(0, 8), r.suspicion.toFixed(2), r.top_fan_share.toFixed(2),
      r.velocity === null ? "—" : r.velocity.toFixed(1), r.new_account_share.toFixed(2), r.entries_24h, r.fans_7d]),
    ["l", "r", "r", "r", "r", "r", "r"]);

  const [hold] = await asRole(sql, "service_role", null, (tx) =>
    tx`select id from coliseum.hold_artist(${target.id}::uuid, 'one fan sent thousands of plays in seconds (demo)')`);
  const held = await standing(sql, viewer.id, "A", target.id);
  const [{ kind }] = await sql`select kind from public.passport_entries where user_id = ${target.id}::uuid order by id desc limit 1`;
  console.log(`\nAn admin holds the attacked artist (hold ${hold.id}): ` +
    `on board A ${held ? `still at #${held.rank}` : "no longer listed"}; Passport keeps it as ${kind}.`);
  await asRole(sql, "service_role", null, (tx) => tx`select coliseum.release_artist(${target.id}::uuid, 'demo over')`);
  const back = await standing(sql, viewer.id, "A", target.id);
  console.log(`Released: ${back ? `back at #${back.rank}` : "not listed"}, with nothing rebuilt.`);
}
