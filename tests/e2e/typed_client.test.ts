// The app's typed passport-log wrapper (supabase/types/passport.ts) over real HTTP, through supabase-js as
// the app calls it: results per event, and a refused request as a PassportLogError with the function's code.
import { createClient } from "@supabase/supabase-js";
import { assert, assertEquals } from "../lib/assert.ts";
import { db, env, forgedToken, newUser, uuid } from "../lib/stack.ts";
import { type Database, passportLog, PassportLogError } from "../../supabase/types/index.ts";

const sql = db();

function appClient(token: string) {
  return createClient<Database>(env("SUPABASE_URL"), env("SUPABASE_ANON_KEY"), {
    global: { headers: { Authorization: `Bearer ${token}` } },
    auth: { persistSession: false, autoRefreshToken: false },
  });
}

Deno.test("the typed wrapper logs as the signed-in user and answers each event", async () => {
  const user = await newUser(sql);
  const passport = passportLog(appClient(user.token));
  const [artist, track, id] = [uuid(), uuid(), uuid()];
  const play = await passport.logEvent("audio.play", {
    client_event_id: id,
    artist_id: artist,
    payload: { track_id: track, duration_ms: 45_000 },
  });
  assertEquals(play.status, "accepted", JSON.stringify(play));
  const [row] = await sql`select user_id, kind, artist_id from public.passport_entries where user_id = ${user.id}`;
  assertEquals([row.user_id, row.kind, row.artist_id], [user.id, "audio.play", artist]);

  const results = await passport.logEvents([
    { kind: "audio.play", client_event_id: id, artist_id: artist, payload: { track_id: track, duration_ms: 45_000 } },
    // The types cannot know the database's floors: a month-old event compiles and is refused.
    {
      kind: "social.follow",
      client_event_id: uuid(),
      artist_id: artist,
      occurred_at: new Date(Date.now() - 40 * 86_400_000).toISOString(),
    },
  ]);
  assertEquals(results[0], { status: "duplicate", id: play.status === "accepted" ? play.id : -1 });
  assertEquals(results[1].status === "rejected" && results[1].code, "occurred_too_long_ago", JSON.stringify(results));
});

Deno.test("a token the function refuses is a PassportLogError with its code", async () => {
  const passport = passportLog(appClient(await forgedToken(uuid())));
  let error: unknown;
  try {
    await passport.logEvent("social.unfollow", { client_event_id: uuid(), artist_id: uuid() });
  } catch (e) {
    error = e;
  }
  assert(error instanceof PassportLogError, String(error));
  assertEquals([error.status, error.code], [401, "invalid_token"]);
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
