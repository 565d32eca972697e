// The People part of `./stack demo` (issue 14): the board's top artists set their profiles and are granted
// the artist role by an admin (one asked first), so anon sees the board with names and images through
// people.artist_cards; the top artist's inbox holds the DNA rises the processor told them of; a fan asks
// for the host role and is declined with a reason; a ticket transfer lands in a friend's inbox.
import { asRole, type Sql, type User } from "../lib/stack.ts";
import { buy, newShow, newUsers } from "../lib/concierto.ts";
import { heading, table } from "../lib/print.ts";

export async function runPeopleDemo(sql: Sql, names: Map<string, string>) {
  const started = performance.now();
  const as = <T>(user: User, fn: (tx: Sql) => Promise<T>) => asRole(sql, "authenticated", user.id, fn);
  const [admin, fan] = await newUsers(sql, 2, "people");
  await sql`insert into treasury.admins (user_id, note) values (${admin.id}, 'demo: role reviewer')`;

  heading("People — the top artists set their profiles; the first asks for the artist role, an admin approves");
  // The overall board is a pro plan's: the fan who reads it holds one.
  await sql`select coliseum.set_plan(${fan.id}::uuid, 'pro')`;
  const board = await as(fan, (tx) => tx`select rank, artist_id, score from coliseum.leaderboard('overall', '30d', 5, 0)`);
  for (const [i, row] of board.entries()) {
    const artist = { id: row.artist_id as string, token: "" };
    const name = names.get(artist.id) ?? `Artist ${i + 1}`;
    await as(artist, (tx) => tx`select people.update_profile(${sql.json({
      display_name: name, avatar_url: `https://images.buckets.example/${artist.id}.jpg`, city: "Lagos", country: "NG",
      genres: ["afrobeats"] })}::jsonb)`);
    if (i === 0) {
      const [{ r }] = await as(artist, (tx) => tx`select people.request_role('artist', 'My releases are on Buckets') as r`);
      await as(admin, (tx) => tx`select people.review_role_request(${r.request_id}::bigint, true, 'Verified')`);
    } else {
      await asRole(sql, "service_role", null, (tx) => tx`select people.grant_role(${artist.id}::uuid, 'artist', 'first release published')`);
    }
  }
  const cards = await asRole(sql, "anon", null, (tx) => tx`select * from people.artist_cards(${board.map((b) => b.artist_id)}::uuid[])`);
  const byId = new Map(cards.map((c) => [c.artist_id, c]));
  table(["#", "name (people.artist_cards, as anon)", "image", "verified", "30d overall"], board.map((b) => [
    Number(b.rank), byId.get(b.artist_id)?.name ?? "—", byId.get(b.artist_id)?.image_url?.slice(0, 40) ?? "—",
    byId.get(b.artist_id)?.verified ? "yes" : "no", Number(b.score).toFixed(1),
  ]), ["r", "l", "l", "l", "r"]);

  heading("The top artist's inbox (people.list_notifications): DNA rises and the role, newest first");
  const top = { id: board[0]?.artist_id as string, token: "" };
  const inbox = await as(top, (tx) => tx`select kind, title, created_at from people.list_notifications(null, 8)`);
  table(["kind", "title", "when (UTC)"], inbox.map((n) => [n.kind, n.title, n.created_at.toISOString().slice(0, 19)]));
  const [{ unread }] = await as(top, (tx) => tx`select people.unread_count() as unread`);
  console.log(`${unread} unread`);

  heading("A fan asks to host events; the admin declines with a reason; a ticket transfer to a friend");
  const [{ r: ask }] = await as(fan, (tx) => tx`select people.request_role('host', 'I run a bar') as r`);
  await as(admin, (tx) => tx`select people.review_role_request(${ask.request_id}::bigint, false, 'Hosts need a venue contract')`);
  const show = await newShow(sql, { title: "People night" });
  const [buyer] = await newUsers(sql, 1, "people");
  const purchase = await buy(sql, buyer.id, show.tier, 1);
  await as(buyer, (tx) => tx`select concierto.transfer_ticket(${purchase.tickets[0]}::uuid, ${fan.id}::uuid)`);
  const fanInbox = await as(fan, (tx) => tx`select kind, title, body from people.list_notifications()`);
  table(["kind", "title", "body"], fanInbox.map((n) => [n.kind, n.title, n.body ?? ""]));
  const roles = await as(fan, (tx) => tx`select role, source from people.my_roles()`);
  console.log(`the fan's roles: ${roles.map((r) => `${r.role} (${r.source})`).join(", ")}`);
  console.log(`\npeople demo in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
