// Coliseum end to end: events logged over HTTP reach DNA, the boards, the
// NOTIFY channel and the artist's notifications with nobody calling the
// processor by hand (the fast path is pg_coliseum's background worker; the
// pg_cron safety net runs only once a minute).
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, callFunction, db, newUser, uuid , until } from "../lib/stack.ts";

const sql = db();


async function logFanActivity(token: string, artist: string) {
  const track = uuid();
  const res = await callFunction("passport-log", {
    events: [
      { kind: "social.follow", client_event_id: uuid(), artist_id: artist, payload: { city: "Lagos", country: "NG" } },
      ...[45_000, 180_000, 200_000].map((duration_ms) => ({
        kind: "audio.play", client_event_id: uuid(), artist_id: artist,
        payload: { track_id: track, duration_ms, genre: "afrobeats", city: "Lagos", country: "NG" },
      })),
    ],
  }, { token });
  assertEquals(res.status, 200);
  assert(res.body.results.every((r: any) => r.status === "accepted"), JSON.stringify(res.body));
}

Deno.test("events logged over HTTP reach the artist's DNA and the boards by themselves", async () => {
  const artist = await newUser(sql);
  const fan = await newUser(sql);
  await logFanActivity(fan.token, artist.id);
  const row = await until("the artist's A/7d strength", async () => {
    const [r] = await sql`select score, components, fans from public.coliseum_domain_strength
                           where artist_id = ${artist.id} and domain = 'A' and period = '7d'`;
    return r;
  }, { everyMs: 25 });
  assert(row.score > 0, `score ${row.score}`);
  const [t] = await sql`select fans, components from public.coliseum_domain_strength
                         where artist_id = ${artist.id} and domain = 'T' and period = '30d'`;
  assertEquals(Number(t.fans), 1);
  // An enterprise reader finds the artist on the A board through the RPC, at the rank the profile gives.
  const reader = await newUser(sql);
  await sql`select coliseum.set_plan(${reader.id}::uuid, 'enterprise')`;
  const [{ p }] = await asRole(sql, "authenticated", reader.id, (tx) => tx`select coliseum.artist_profile(${artist.id}::uuid) as p`);
  const rank = p.boards.A["7d"].rank;
  assert(rank >= 1, JSON.stringify(p.boards.A));
  const [atRank] = await asRole(sql, "authenticated", reader.id, (tx) =>
    tx`select rank, artist_id, score from coliseum.leaderboard('A', '7d', 1, ${rank - 1})`);
  assertEquals(atRank.artist_id, artist.id);
  assertEquals(Number(atRank.rank), rank);
  assert(Math.abs(atRank.score - row.score) < 1e-9);
});

Deno.test("strength changes are announced on the coliseum_strength channel", async () => {
  const artist = await newUser(sql);
  const fan = await newUser(sql);
  const listener = db(1);
  let resolve: (payload: string) => void;
  const heard = new Promise<string>((r) => (resolve = r));
  await listener.listen("coliseum_strength", (payload: string) => {
    if (payload.includes(artist.id)) resolve(payload);
  });
  await logFanActivity(fan.token, artist.id);
  const payload = await Promise.race([
    heard,
    new Promise<string>((_, reject) => setTimeout(() => reject(new Error("no NOTIFY within 20 s")), 20_000)),
  ]);
  const message = JSON.parse(payload);
  assert(JSON.stringify(message).includes(artist.id));
  await listener.end();
});

Deno.test("a rise in DNA leaves the artist a notification only they can read", async () => {
  const artist = await newUser(sql);
  const fan = await newUser(sql);
  await logFanActivity(fan.token, artist.id);
  const own = await until("the artist's notification", async () => {
    const rows = await asRole(sql, "authenticated", artist.id, (tx) =>
      tx`select domain, delta, message from coliseum.notifications where artist_id = ${artist.id}`);
    return rows.length > 0 ? rows : undefined;
  }, { everyMs: 25 });
  assert(own.every((n: any) => n.delta > 0 && typeof n.message === "string"));
  const others = await asRole(sql, "authenticated", fan.id, (tx) =>
    tx`select 1 from coliseum.notifications where artist_id = ${artist.id}`);
  assertEquals(others.length, 0);
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
