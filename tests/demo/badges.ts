// The badges part of `./stack demo` (issue 14): an admin activates the starter badges, which first
// awards them over the demo's history (the backfill); then a new fan follows a new artist and plays
// them for four days through passport-log, and the processor awards "Early supporter" and "100 plays"
// as the entries arrive, each logged as badge.earned and put in the fan's inbox.
import { asRole, callFunction, newUser, type Sql, until, uuid } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";

const DAY = 86_400_000;
const SLOT = 1_800_000;

export async function runBadgesDemo(sql: Sql) {
  const admin = await newUser(sql);
  await sql`insert into treasury.admins (user_id, note) values (${admin.id}, 'demo badges')`;

  heading("Badges — an admin activates the starter badges (each first awarded over the history)");
  const starters = ["first_ticket", "early_supporter", "plays.100", "top_fan.month"];
  const activated = [];
  for (const code of starters) {
    const [{ result }] = await asRole(sql, "authenticated", admin.id, (tx) =>
      tx`select people.activate_badge(${code}) as result`);
    activated.push([code, result.awards, result.backfilled_entries ?? "— (closed months)"]);
  }
  table(["badge", "awards from the history", "entries evaluated"], activated, ["l", "r", "r"]);

  const fan = await newUser(sql);
  const artist = await newUser(sql);
  const start = Date.now() - 5 * DAY;
  // One new track per 30-minute slot, 25 a day: every play counts under the counting rules.
  const plays = Array.from({ length: 100 }, (_, i) => ({
    kind: "audio.play",
    client_event_id: uuid(),
    artist_id: artist.id,
    occurred_at: new Date(start + Math.floor(i / 25) * DAY + (i % 25) * SLOT).toISOString(),
    payload: { track_id: uuid(), duration_ms: 185_000 },
  }));
  const follow = { kind: "social.follow", client_event_id: uuid(), artist_id: artist.id,
                   occurred_at: new Date(start - DAY).toISOString(), payload: {} };
  for (const events of [[follow, ...plays.slice(0, 49)], plays.slice(49)]) {
    const res = await callFunction("passport-log", { events }, { token: fan.token });
    if (res.status !== 200) throw new Error(`passport-log answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  heading("A new fan follows a new artist and plays them 100 times over four days (passport-log)");
  const mine = await until("the fan's two badges", async () => {
    const rows = await asRole(sql, "authenticated", fan.id, (tx) =>
      tx`select code, title, awarded_at, earned_by_entry_id from people.my_badges() order by awarded_at, code`);
    return rows.length >= 2 ? rows : undefined;
  }, { seconds: 60 });
  table(["badge", "title", "earned by entry"], mine.map((b: any) => [b.code, b.title, b.earned_by_entry_id]), ["l", "l", "r"]);

  heading("What anybody sees on the fan's profile (people.user_badges, as anon)");
  const shown = await asRole(sql, "anon", null, (tx) =>
    tx`select code, title, awarded_on from people.user_badges(${fan.id}::uuid)`);
  table(["badge", "title", "day"], shown.map((b: any) => [b.code, b.title, String(b.awarded_on).slice(0, 10)]));

  heading("The fan's inbox and Passport (badge.earned)");
  const inbox = await asRole(sql, "authenticated", fan.id, (tx) =>
    tx`select n.title, n.payload ->> 'badge' as badge, e.kind
         from people.notifications as n
         join public.passport_entries as e on e.id = (select a.entry_id from people.badge_awards as a
                                                       where a.id = (n.payload ->> 'award_id')::bigint)
        where n.kind = 'badge.earned' order by n.id`);
  table(["notification", "badge", "passport entry"], inbox.map((n: any) => [n.title, n.badge, n.kind]));

  heading("Badges awarded across the demo");
  const totals = await sql`
    select b.code, count(a.id)::int as awards, count(distinct a.user_id)::int as users
      from people.badges as b left join people.badge_awards as a on a.badge_id = b.id
     where b.code = any(${starters}) group by b.code order by b.code`;
  table(["badge", "awards", "users"], totals.map((t: any) => [t.code, t.awards, t.users]), ["l", "r", "r"]);
}
