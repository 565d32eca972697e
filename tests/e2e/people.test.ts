// People end to end (issue 14): a fan sets their profile and reads it back with the app's own data as the
// fallback; an artist asks for the artist role, an admin approves it and the artist's card appears for anon;
// a ticket bought through the signed Stripe webhook and transferred through concierto.transfer_ticket lands
// in the new owner's inbox, which they page, count and mark read. Reads and RPCs run as PostgREST runs
// them: the caller's role and JWT claims set in the transaction.
import { assert, assertEquals } from "../lib/assert.ts";
import { asRole, db, type Sql, type User } from "../lib/stack.ts";
import { buy, newShow, newUsers } from "../lib/concierto.ts";

const sql = db(4);

const as = <T>(user: User, fn: (tx: Sql) => Promise<T>) => asRole(sql, "authenticated", user.id, fn);

Deno.test("a user sets a profile, asks for the artist role, and an admin's approval shows their card on the boards", async () => {
  const [ada, admin] = await newUsers(sql, 2, "people");
  await sql`update auth.users set raw_user_meta_data = '{"full_name": "Ada OAuth", "avatar_url": "https://cdn.example/ada.png"}'
            where id = ${ada.id}`;
  await sql`insert into treasury.admins (user_id, note) values (${admin.id}, 'e2e people reviewer')`;

  // Before anything is set: the sign-up metadata.
  const [{ p: before }] = await as(ada, (tx) => tx`select people.my_profile() as p`);
  assertEquals([before.display_name, before.avatar_url, before.set], ["Ada OAuth", "https://cdn.example/ada.png", null]);

  const [{ p }] = await as(ada, (tx) =>
    tx`select people.update_profile(${sql.json({ display_name: "Ada", city: "Lagos", country: "ng", genres: ["Afrobeats"] })}::jsonb) as p`);
  assertEquals([p.display_name, p.country, p.genres, p.avatar_url], ["Ada", "NG", ["afrobeats"], "https://cdn.example/ada.png"]);
  const bad = await as(ada, (tx) => tx`select people.update_profile('{"avatar_url": "http://x.example/a.png"}')`)
    .then(() => null, (e) => e);
  assertEquals([bad?.code, bad?.message], ["22023", "avatar_url must be an https:// URL without spaces"]);

  // Not an artist yet: no card for anon.
  const none = await asRole(sql, "anon", null, (tx) => tx`select * from people.artist_cards(${[ada.id]}::uuid[])`);
  assertEquals(none.length, 0);

  const [{ r }] = await as(ada, (tx) => tx`select people.request_role('artist', 'I release music') as r`);
  assertEquals([r.status, r.created], ["pending", true]);
  const [{ v }] = await as(admin, (tx) => tx`select people.review_role_request(${r.request_id}::bigint, true, 'Welcome') as v`);
  assertEquals(v.status, "approved");
  const roles = await as(ada, (tx) => tx`select role from people.my_roles() order by role`);
  assertEquals(roles.map((x) => x.role), ["artist", "fan"]);

  const cards = await asRole(sql, "anon", null, (tx) => tx`select * from people.artist_cards(${[ada.id]}::uuid[])`);
  assertEquals(cards.map((c) => [c.name, c.image_url, c.country, c.verified]), [["Ada", "https://cdn.example/ada.png", "NG", true]]);

  const inbox = await as(ada, (tx) => tx`select kind, title from people.list_notifications()`);
  assertEquals(inbox.map((n) => [n.kind, n.title]), [["role.changed", "You are now an artist on Buckets"]]);
  const [{ kind }] = await sql`select kind from public.passport_entries where user_id = ${ada.id} and kind = 'people.role_granted'`;
  assertEquals(kind, "people.role_granted");
});

Deno.test("a ticket transferred to a friend lands in their inbox, which they page, count and mark read", async () => {
  const show = await newShow(sql, { title: "People night" });
  const [buyer, friend] = await newUsers(sql, 2, "people");
  const purchase = await buy(sql, buyer.id, show.tier, 3);

  for (const ticket of purchase.tickets) {
    await as(buyer, (tx) => tx`select concierto.transfer_ticket(${ticket}::uuid, ${friend.id}::uuid)`);
  }
  const [{ n }] = await as(friend, (tx) => tx`select people.unread_count() as n`);
  assertEquals(Number(n), 3);

  const first = await as(friend, (tx) => tx`select * from people.list_notifications(null, 2)`);
  assertEquals(first.map((x) => x.kind), ["ticket.transferred", "ticket.transferred"]);
  assertEquals(first[0].body, "Your ticket for People night, Lagos");
  assert(purchase.tickets.includes(first[0].payload.ticket_id), JSON.stringify(first[0].payload));
  const next = await as(friend, (tx) => tx`select * from people.list_notifications(${first[1].id}::bigint, 2)`);
  assertEquals(next.length, 1);

  const [{ marked }] = await as(friend, (tx) => tx`select people.mark_read(${first.map((x) => x.id)}::bigint[]) as marked`);
  assertEquals(marked, 2);
  const unread = await as(friend, (tx) => tx`select id from people.list_notifications(null, 30, true)`);
  assertEquals(unread.map((x) => x.id), [next[0].id]);
  const [{ all }] = await as(friend, (tx) => tx`select people.mark_read() as all`);
  assertEquals(all, 1);

  // The buyer sees none of it.
  const theirs = await as(buyer, (tx) => tx`select count(*)::int as n from people.notifications where user_id = ${friend.id}`);
  assertEquals(theirs[0].n, 0);
});
