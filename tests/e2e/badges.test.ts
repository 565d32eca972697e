// Badges end to end (issue 14): an admin defines badges whose rules are data and activates them; a fan's
// follow and plays arrive over HTTP through POST /functions/v1/passport-log; the running processor (the
// fast path) evaluates them as it folds them and awards each badge once, logged as badge.earned and put
// in the fan's inbox; the fan reads their badges, a stranger and anon the public list. Reads and RPCs run
// as PostgREST runs them: the caller's role and JWT claims set in the transaction.
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, callFunction, db, newUser, type Sql, type User, until, uuid } from "../lib/stack.ts";

const sql = db(5);
const as = <T>(user: User, fn: (tx: Sql) => Promise<T>) => asRole(sql, "authenticated", user.id, fn);

Deno.test("a fan's follow and counted plays earn badges once, as the processor folds them", async () => {
  const [admin, fan, stranger, artist] = await Promise.all([newUser(sql), newUser(sql), newUser(sql), newUser(sql)]);
  await sql`insert into treasury.admins (user_id, note) values (${admin.id}, 'e2e badges')`;
  const tag = uuid().slice(0, 8);
  const early = `e2e.early.${tag}`;
  const plays = `e2e.plays.${tag}`;

  // A user who is no admin cannot define badges; an admin can, and activates them.
  await assertRefused(stranger, early);
  await as(admin, (tx) => tx`select people.put_badge(${early}, 'First follower', 'The first follower of an artist.',
    ${sql.json({ type: "early", kinds: ["social.follow"], per: "artist", within_first: 1 })})`);
  await as(admin, (tx) => tx`select people.put_badge(${plays}, 'Five plays', 'Five counted plays of an artist.',
    ${sql.json({ type: "count", kinds: ["audio.play"], per: "artist", at_least: 5, counted: true })})`);
  for (const code of [early, plays]) {
    const [{ on }] = await as(admin, (tx) => tx`select (people.activate_badge(${code}) ->> 'active')::boolean as on`);
    assert(on, `${code} is active`);
  }

  // The fan follows, plays one track three times in a slot (it counts once) and four more tracks: five
  // counted plays in all, plus a 10-second play that does not count.
  const track = uuid();
  const at = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();
  const play = (track_id: string, minutes: number, duration_ms = 185_000) =>
    ({ kind: "audio.play", client_event_id: uuid(), artist_id: artist.id, occurred_at: at(minutes),
       payload: { track_id, duration_ms } });
  const events = [
    { kind: "social.follow", client_event_id: uuid(), artist_id: artist.id, occurred_at: at(300), payload: {} },
    play(track, 250), play(track, 249), play(track, 248),
    play(uuid(), 200), play(uuid(), 150), play(uuid(), 100), play(uuid(), 99, 10_000), play(uuid(), 60),
  ];
  const res = await callFunction("passport-log", { events }, { token: fan.token });
  assertEquals(res.status, 200, JSON.stringify(res.body));

  const mine = await until("the fan's two badges", async () => {
    const rows = await as(fan, (tx) => tx`select code, artist_id, earned_by_entry_id, entry_id
                                            from people.my_badges() where code in (${early}, ${plays}) order by code`);
    return rows.length === 2 ? rows : undefined;
  }, { seconds: 30 });
  assertEquals(mine.map((r: any) => [r.code, r.artist_id]), [[early, artist.id], [plays, artist.id]]);

  // The fifth counted play earned it, counted in log order (entry id: passport-log does not keep the
  // request's order) as the processor counted them: the three plays of one track in one slot count once
  // (twice if they straddle :00 or :30), the 10 s play not at all.
  const counted = await sql`select e.id from public.passport_entries as e
                              join public.coliseum_dna_mutations as m on m.entry_id = e.id and m.domain = 'T'
                             where e.user_id = ${fan.id} and e.kind = 'audio.play' and m.units > 0
                             order by e.id`;
  assert(counted.length === 5 || counted.length === 6, `five (or six) counted plays, got ${counted.length}`);
  assertEquals(String(mine.find((r: any) => r.code === plays)!.earned_by_entry_id), String(counted[4].id));

  // Logged to Passport (no DNA) and in the inbox, once each.
  const logged = await sql`select kind, payload ->> 'badge' as badge from public.passport_entries
                            where id in ${sql(mine.map((r: any) => r.entry_id))} order by 2`;
  assertEquals(logged.map((r: any) => [r.kind, r.badge]), [["badge.earned", early], ["badge.earned", plays]]);
  const inbox = await as(fan, (tx) => tx`select payload ->> 'badge' as badge from people.notifications
                                          where kind = 'badge.earned' and payload ->> 'badge' in (${early}, ${plays})`);
  assertEquals(inbox.length, 2);

  // A second follower earns nothing: they are not the first. (Counted among these two users only: the
  // activation's backfill awarded the new badges across the stack's whole history too.)
  const second = await newUser(sql);
  const more = await callFunction("passport-log", {
    events: [{ kind: "social.follow", client_event_id: uuid(), artist_id: artist.id, payload: {} }],
  }, { token: second.token });
  assertEquals(more.status, 200);
  await until("the second follow folded", async () => {
    const [{ n }] = await sql`select count(*)::int as n from public.passport_entries
                               where user_id = ${second.id} and kind = 'social.follow' and coliseum_processed_at is not null`;
    return n === 1 || undefined;
  });
  const [{ awards }] = await sql`select count(*)::int as awards from people.badge_awards as a
                                  join people.badges as b on b.id = a.badge_id
                                  where b.code in (${early}, ${plays}) and a.user_id in (${fan.id}, ${second.id})`;
  assertEquals(awards, 2);

  // Anybody sees the fan's badges, without the entries behind them; award rows stay the fan's.
  const shown = await asRole(sql, "anon", null, (tx) =>
    tx`select code from people.user_badges(${fan.id}::uuid) where code in (${early}, ${plays}) order by code`);
  assertEquals(shown.map((r: any) => r.code), [early, plays]);
  const [{ seen }] = await as(stranger, (tx) => tx`select count(*)::int as seen from people.badge_awards
                                                    where user_id = ${fan.id}`);
  assertEquals(seen, 0);

  // The test's badges go off again: left active, every later follow and play on this stack would be
  // evaluated against them.
  for (const code of [early, plays]) {
    await as(admin, (tx) => tx`select people.deactivate_badge(${code})`);
  }
});

async function assertRefused(user: User, code: string) {
  try {
    await as(user, (tx) => tx`select people.put_badge(${code}, 't', 'd', '{"type": "count", "kinds": ["audio.play"], "at_least": 1}')`);
  } catch (e) {
    assertEquals((e as { code?: string }).code, "42501");
    return;
  }
  throw new Error("a user who is no admin defined a badge");
}

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
