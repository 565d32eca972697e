// passport-log over real HTTP: the gateway, the Deno-served WASM function and
// the database, checked from both ends.
import { assert, assertEquals, assertMatch } from "../lib/assert.ts";
import { app } from "../lib/app.ts";
import { asRole, callFunction, db, forgedToken, newUser, serviceToken, userToken, uuid } from "../lib/stack.ts";

const sql = db();
const ARTIST = uuid();
const TRACK = uuid();

const play = (id: string, extra: Record<string, unknown> = {}) => ({
  kind: "audio.play",
  client_event_id: id,
  artist_id: ARTIST,
  payload: { track_id: TRACK, duration_ms: 45_000, genre: "afrobeats" },
  ...extra,
});

async function storedCount(userId: string): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from public.passport_entries where user_id = ${userId}`;
  return n;
}

function assertError(res: { status: number; body: any }, status: number) {
  assertEquals(res.status, status, JSON.stringify(res.body));
  assertEquals(typeof res.body?.code, "string", `no code in ${JSON.stringify(res.body)}`);
  assertEquals(typeof res.body?.message, "string", `no message in ${JSON.stringify(res.body)}`);
}

Deno.test("one event is accepted and stored as the signed-in user", async () => {
  const user = await newUser(sql);
  const id = uuid();
  const res = await callFunction("passport-log", play(id), { token: user.token });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assertEquals(res.body.results.length, 1);
  assertEquals(res.body.results[0].status, "accepted");
  const [row] = await sql`select * from public.passport_entries where id = ${res.body.results[0].id}`;
  assertEquals(row.user_id, user.id);
  assertEquals(row.kind, "audio.play");
  assertEquals(row.client_event_id, id);
  assertEquals(row.artist_id, ARTIST);
  assertEquals(row.source, "app");
  assertEquals(row.payload.duration_ms, 45_000);
  // occurred_at defaults to the time of arrival.
  assert(Math.abs(row.occurred_at.getTime() - row.received_at.getTime()) < 5_000);
});

Deno.test("a batch answers per event, in order: accepted, duplicate, rejected", async () => {
  const user = await newUser(sql);
  const [a, b] = [uuid(), uuid()];
  const res = await callFunction("passport-log", {
    events: [
      play(a),
      play(a), // the same client_event_id again in one batch
      { kind: "audio.plya", client_event_id: uuid(), payload: {} },
      { kind: "social.follow", client_event_id: b, artist_id: ARTIST },
      play(uuid(), { payload: { track_id: TRACK } }),
      play(uuid(), { payload: { track_id: TRACK, duration_ms: "long" } }),
      play(uuid(), { artist_id: undefined }),
      play(uuid(), { payload: { track_id: TRACK, duration_ms: 1, mood: "happy" } }),
      play(uuid(), { occurred_at: new Date(Date.now() + 3_600_000).toISOString() }),
      { kind: "treasury.money_spent", client_event_id: uuid(), payload: { payment_id: "pi_1", amount_minor: 100, currency: "EUR", product_type: "tip" } },
      "not an object",
      play(uuid(), { colour: "blue" }),
      { kind: "audio.play", artist_id: ARTIST, payload: { track_id: TRACK, duration_ms: 1 } },
    ],
  }, { token: user.token });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  const r = res.body.results;
  assertEquals(r.length, 13);
  assertEquals(r[0].status, "accepted");
  assertEquals(r[1], { status: "duplicate", id: r[0].id });
  assertEquals([r[2].status, r[2].code], ["rejected", "unknown_kind"]);
  assertEquals(r[3].status, "accepted");
  assertEquals([r[4].code, r[4].message], ["missing_field", "payload.duration_ms is required for audio.play"]);
  assertEquals([r[5].code, r[5].message], ["invalid_field", "payload.duration_ms must be an integer >= 0"]);
  assertEquals([r[6].code, r[6].message], ["artist_required", "audio.play needs artist_id"]);
  assertEquals([r[7].code, r[7].message], ["unknown_field", "payload.mood is not a field of audio.play"]);
  assertEquals(r[8].code, "occurred_in_future");
  assertEquals(r[9].code, "forbidden_kind");
  assertEquals(r[10].code, "invalid_event");
  assertEquals(r[11].code, "unknown_field");
  assertMatch(r[11].message, /colour/);
  assertEquals(r[12].code, "missing_field");
  assertMatch(r[12].message, /client_event_id/);
  // Only the two accepted events are in the log; every rejection is on record.
  assertEquals(await storedCount(user.id), 2);
  const [{ n }] = await sql`select count(*)::int as n from passport.rejections where user_id = ${user.id}`;
  assertEquals(n, 10);
  const codes = await sql`select code from passport.rejections where user_id = ${user.id} order by id`;
  assert(codes.some((c: any) => c.code === "forbidden_kind"));
});

Deno.test("a retry is answered with the original id, never stored twice", async () => {
  const user = await newUser(sql);
  const id = uuid();
  const first = await callFunction("passport-log", play(id), { token: user.token });
  const again = await callFunction("passport-log", { events: [play(id, { payload: { track_id: TRACK, duration_ms: 99_000 } })] }, { token: user.token });
  assertEquals(again.body.results[0], { status: "duplicate", id: first.body.results[0].id });
  assertEquals(await storedCount(user.id), 1);
  // The same client_event_id from another user is that user's own event.
  const other = await newUser(sql);
  const theirs = await callFunction("passport-log", play(id), { token: other.token });
  assertEquals(theirs.body.results[0].status, "accepted");
});

Deno.test("the same event from 24 concurrent requests is stored once", async () => {
  const user = await newUser(sql);
  const id = uuid();
  const responses = await Promise.all(
    Array.from({ length: 24 }, () => callFunction("passport-log", play(id), { token: user.token })),
  );
  for (const res of responses) assertEquals(res.status, 200, JSON.stringify(res.body));
  const results = responses.map((res) => res.body.results[0]);
  assertEquals(results.filter((r) => r.status === "accepted").length, 1);
  assertEquals(results.filter((r) => r.status === "duplicate").length, 23);
  assertEquals(new Set(results.map((r) => r.id)).size, 1);
  assertEquals(await storedCount(user.id), 1);
});

Deno.test("overlapping batches in opposite orders at the same moment neither deadlock nor double-store", async () => {
  // Each round: 8 requests at once, half sending 100 keys forwards and half
  // backwards. Inserting in input order would deadlock here. One user's 800
  // events stay within the user's event burst (passport.limits), so no request
  // is refused for its rate.
  for (let round = 0; round < 3; round++) {
    const user = await newUser(sql);
    const ids = Array.from({ length: 100 }, () => uuid());
    const forward = { events: ids.map((id) => play(id)) };
    const backward = { events: [...ids].reverse().map((id) => play(id)) };
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, i) => callFunction("passport-log", i % 2 ? backward : forward, { token: user.token })),
    );
    for (const res of responses) assertEquals(res.status, 200, JSON.stringify(res.body));
    assertEquals(await storedCount(user.id), 100);
    const accepted = responses.flatMap((res) => res.body.results).filter((r: any) => r.status === "accepted");
    assertEquals(accepted.length, 100);
  }
});

Deno.test("bad requests get their status and a JSON error, and store nothing", async (t) => {
  const user = await newUser(sql);
  const before = await storedCount(user.id);
  await t.step("no token: 401", async () => {
    assertError(await callFunction("passport-log", play(uuid()), { token: null }), 401);
  });
  await t.step("token signed with another key: 401", async () => {
    assertError(await callFunction("passport-log", play(uuid()), { token: await forgedToken(user.id) }), 401);
  });
  await t.step("expired token: 401", async () => {
    const expired = await userToken(user.id, Math.floor(Date.now() / 1000) - 60);
    assertError(await callFunction("passport-log", play(uuid()), { token: expired }), 401);
  });
  await t.step("GET: 405", async () => {
    assertError(await callFunction("passport-log", null, { token: user.token, method: "GET" }), 405);
  });
  await t.step("text/plain: 415", async () => {
    assertError(await callFunction("passport-log", JSON.stringify(play(uuid())), { token: user.token, contentType: "text/plain", raw: true }), 415);
  });
  await t.step("not JSON: 400", async () => {
    assertError(await callFunction("passport-log", "{\"kind\": ", { token: user.token, raw: true }), 400);
  });
  await t.step("empty batch and 501 events: 400", async () => {
    assertError(await callFunction("passport-log", { events: [] }, { token: user.token }), 400);
    const many = { events: Array.from({ length: 501 }, () => play(uuid())) };
    assertError(await callFunction("passport-log", many, { token: user.token }), 400);
  });
  await t.step("more than 512 KB: 413", async () => {
    const big = { events: Array.from({ length: 20 }, () => play(uuid(), { payload: { track_id: TRACK, duration_ms: 1, surface: "x".repeat(30_000) } })) };
    assertError(await callFunction("passport-log", big, { token: user.token }), 413);
  });
  await t.step("an event over 32 KB is rejected, its neighbours accepted", async () => {
    const res = await callFunction("passport-log", {
      events: [play(uuid()), play(uuid(), { payload: { track_id: TRACK, duration_ms: 1, genre: "g".repeat(33_000) } })],
    }, { token: user.token });
    assertEquals(res.status, 200);
    assertEquals(res.body.results[0].status, "accepted");
    assertEquals(res.body.results[1].code, "event_too_large");
  });
  assertEquals(await storedCount(user.id), before + 1);
});

Deno.test("the service role logs on behalf of a user; a user cannot", async () => {
  const user = await newUser(sql);
  const other = await newUser(sql);
  const onBehalf = await callFunction("passport-log", {
    kind: "treasury.money_spent",
    client_event_id: uuid(),
    user_id: user.id,
    source: "treasury",
    payload: { payment_id: "pi_123", amount_minor: 1500, currency: "EUR", product_type: "ticket" },
  }, { token: serviceToken() });
  assertEquals(onBehalf.body.results[0].status, "accepted", JSON.stringify(onBehalf.body));
  const [row] = await sql`select user_id, source from public.passport_entries where id = ${onBehalf.body.results[0].id}`;
  assertEquals([row.user_id, row.source], [user.id, "treasury"]);

  const spoof = await callFunction("passport-log", play(uuid(), { user_id: other.id }), { token: user.token });
  assertEquals(spoof.body.results[0].code, "forbidden_field");
  const noUser = await callFunction("passport-log", play(uuid()), { token: serviceToken() });
  assertEquals(noUser.body.results[0].code, "missing_field");
  assertEquals(await storedCount(other.id), 0);
});

Deno.test("sent_at corrects the client's clock skew", async () => {
  const user = await newUser(sql);
  // The phone's clock is two hours behind: it says the play was 10 s before sending.
  const phoneNow = Date.now() - 2 * 3_600_000;
  const res = await callFunction("passport-log", play(uuid(), {
    occurred_at: new Date(phoneNow - 10_000).toISOString(),
    sent_at: new Date(phoneNow).toISOString(),
  }), { token: user.token });
  const [row] = await sql`select occurred_at, received_at from public.passport_entries where id = ${res.body.results[0].id}`;
  const lag = row.received_at.getTime() - row.occurred_at.getTime();
  assert(lag > 8_000 && lag < 15_000, `occurred ${lag} ms before receipt`);
});

Deno.test("the app's supabase-js client logs through functions.invoke", async () => {
  const user = await newUser(sql);
  const { data, error } = await app(user).functions.invoke("passport-log", {
    body: { events: [play(uuid()), { kind: "social.follow", client_event_id: uuid(), artist_id: ARTIST }] },
  });
  assertEquals(error, null);
  assertEquals(data.results.map((r: any) => r.status), ["accepted", "accepted"]);
  // Read back through the timeline RPC as that user: newest first, their own only.
  const rows = await asRole(sql, "authenticated", user.id, (tx) => tx`select kind from passport.timeline()`);
  assertEquals(rows.length, 2);
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
