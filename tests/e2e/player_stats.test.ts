// Player stats end to end: plays and likes sent by a fan through POST /functions/v1/passport-log, folded by
// the processor that runs by itself, read back as the app reads them (the fan's role and claims, as
// PostgREST sets them): a 29-second play and a repeat in the same slot are not counted, an unlike takes the
// like back, the history is the fan's own.
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, callFunction, db, newUser, until, uuid } from "../lib/stack.ts";

const sql = db();

const play = (artist: string, track: string, at: Date, duration_ms = 200_000) => ({
  kind: "audio.play", client_event_id: uuid(), artist_id: artist, occurred_at: at.toISOString(),
  payload: { track_id: track, duration_ms },
});
const like = (artist: string, track: string, kind: "audio.like" | "audio.unlike", at: Date) => ({
  kind, client_event_id: uuid(), artist_id: artist, occurred_at: at.toISOString(), payload: { track_id: track },
});

async function send(token: string, events: unknown[]) {
  const res = await callFunction("passport-log", { events }, { token });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assert(res.body.results.every((r: any) => r.status === "accepted"), JSON.stringify(res.body));
}

Deno.test("plays, likes and the history reach the player through passport-log and the processor", async () => {
  const [fan, other, artist] = [await newUser(sql), await newUser(sql), uuid()];
  const [track, skipped] = [uuid(), uuid()];
  // The start of the current 30-minute slot, a minute in: the repeat below falls in the same slot.
  const slot = new Date(Math.floor((Date.now() - 120_000) / 1_800_000) * 1_800_000 + 1000);
  await send(fan.token, [
    play(artist, track, slot),
    play(artist, track, new Date(slot.getTime() + 1000)), // a repeat in the slot: not counted
    play(artist, skipped, slot, 29_000), // under 30 s: not a play
    like(artist, track, "audio.like", slot),
  ]);
  await send(other.token, [play(artist, track, slot), like(artist, track, "audio.like", slot)]);
  await send(other.token, [like(artist, track, "audio.unlike", new Date(slot.getTime() + 2000))]);

  const stats = await until("the track's plays and likes", async () => {
    const rows = await asRole(sql, "authenticated", fan.id, (tx) =>
      tx`select track_id, plays::int, plays_7d::int, likes::int, liked from coliseum.track_stats(${[track, skipped]}::uuid[])`);
    return rows[0].plays === 2 && rows[0].likes === 1 ? rows : false;
  });
  assertEquals(stats.map((r: any) => [r.track_id, r.plays, r.plays_7d, r.likes, r.liked]),
    [[track, 2, 2, 1, true], [skipped, 0, 0, 0, false]]);

  const unliked = await asRole(sql, "authenticated", other.id, (tx) =>
    tx`select liked from coliseum.track_stats(${[track]}::uuid[])`);
  assertEquals(unliked[0].liked, false);

  const history = await asRole(sql, "authenticated", fan.id, (tx) =>
    tx`select track_id, plays::int, counted_plays::int from coliseum.my_history(10)`);
  assertEquals(history.map((r: any) => [r.track_id, r.plays, r.counted_plays]), [[track, 2, 1]]);

  const artistRow = await asRole(sql, "anon", null, (tx) =>
    tx`select plays::int, likes::int from coliseum.artist_stats(${[artist]}::uuid[])`);
  assertEquals([artistRow[0].plays, artistRow[0].likes], [2, 1]);
});

Deno.test("anon may not read a history or the attendance board", async () => {
  for (const statement of ["select * from coliseum.my_history()", "select * from coliseum.attendance_board('Lagos', 'NG')"]) {
    let code: string | undefined;
    try {
      await asRole(sql, "anon", null, (tx) => tx.unsafe(statement));
    } catch (e) {
      code = (e as { code?: string }).code;
    }
    assertEquals(code, "42501", statement);
  }
});

Deno.test({ name: "close the connections", fn: async () => await sql.end(), sanitizeOps: false, sanitizeResources: false });
