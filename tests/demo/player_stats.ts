// The player stats part of `./stack demo` (issue 14): a few fans listen to an artist's tracks through
// POST /functions/v1/passport-log — full plays, a repeat in the same half hour, a 29-second skip, likes and
// an unlike — and the processor turns them into what the player shows: counted plays and likes per track
// (coliseum.track_stats, as a signed-in fan), the fan's own history (coliseum.my_history) and, from the
// door scans of the Concierto part, the attendance board of Lagos (coliseum.attendance_board).
import { asRole, callFunction, newUser, type Sql, until, uuid } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";

const play = (artist: string, track: string, at: number, duration_ms = 190_000) => ({
  kind: "audio.play", client_event_id: uuid(), artist_id: artist, occurred_at: new Date(at).toISOString(),
  payload: { track_id: track, duration_ms, genre: "afrobeats" },
});
const like = (artist: string, track: string, kind: "audio.like" | "audio.unlike", at: number) => ({
  kind, client_event_id: uuid(), artist_id: artist, occurred_at: new Date(at).toISOString(),
  payload: { track_id: track, genre: "afrobeats" },
});

export async function runPlayerStatsDemo(sql: Sql) {
  heading("Player stats — five fans, three tracks, through passport-log and the processor");
  const artist = await newUser(sql);
  const fans = await Promise.all(Array.from({ length: 5 }, () => newUser(sql)));
  const tracks = [uuid(), uuid(), uuid()];
  const titles = new Map([[tracks[0], "Lagos Sunrise"], [tracks[1], "Harmattan"], [tracks[2], "Danfo Ride"]]);
  const now = Date.now();
  for (const [i, fan] of fans.entries()) {
    const events = [
      play(artist.id, tracks[0], now - 3 * 3_600_000 + i * 60_000),
      play(artist.id, tracks[0], now - 3 * 3_600_000 + i * 60_000 + 5_000), // the same half hour: not counted
      play(artist.id, tracks[1], now - 2 * 3_600_000 + i * 60_000, i % 2 === 0 ? 29_000 : 200_000), // a skip for some
      like(artist.id, tracks[i % 3], "audio.like", now - 3_600_000),
    ];
    if (i === 0) events.push(like(artist.id, tracks[0], "audio.unlike", now - 60_000)); // changed their mind
    const res = await callFunction("passport-log", { events }, { token: fan.token });
    if (res.status !== 200) throw new Error(`passport-log: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const reader = fans[1];
  const rows = await until("the tracks' stats", async () => {
    const got = await asRole(sql, "authenticated", reader.id, (tx) =>
      tx`select track_id, plays::int, plays_7d::int, likes::int, liked from coliseum.track_stats(${tracks}::uuid[])`);
    return got[0].plays >= 5 ? got : false;
  });
  table(["track", "counted plays", "last 7 days", "likes", `liked by fan 2`],
    rows.map((r: any) => [titles.get(r.track_id)!, r.plays, r.plays_7d, r.likes, r.liked ? "yes" : "no"]),
    ["l", "r", "r", "r", "l"]);
  console.log("Lagos Sunrise: 10 plays, 5 counted (each fan's repeat within the half hour is not); Harmattan: the " +
    "29-second skips are no plays; fan 1 liked then unliked Lagos Sunrise.");

  heading("Fan 2's history (coliseum.my_history, newest first)");
  const history = await asRole(sql, "authenticated", reader.id, (tx) =>
    tx`select track_id, plays::int, counted_plays::int, last_played_at from coliseum.my_history(10)`);
  table(["track", "plays", "counted", "last played (UTC)"], history.map((h: any) => [
    titles.get(h.track_id)!, h.plays, h.counted_plays, h.last_played_at.toISOString().slice(0, 16).replace("T", " "),
  ]), ["l", "r", "r", "l"]);

  heading("Attendance board, Lagos, all time (coliseum.attendance_board; door scans of the Concierto part)");
  const board = await asRole(sql, "authenticated", reader.id, (tx) =>
    tx`select rank, fan_id, events::int, is_caller from coliseum.attendance_board('Lagos', 'NG', 'alltime', 5)`);
  table(["rank", "fan", "events", ""], board.map((b: any) => [b.rank ?? "—", b.fan_id.slice(0, 8), b.events, b.is_caller ? "(you)" : ""]),
    ["r", "l", "r", "l"]);
}
