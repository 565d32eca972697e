// Concierto over real HTTP: an event with a lineup and a tier, seats reserved
// through the RPC as the buyer, paid through a signed checkout.session.completed
// on POST /functions/v1/stripe-webhook carrying the reservation's metadata,
// tickets shown with GET /functions/v1/ticket-token and scanned with
// POST /functions/v1/ticket-validate; refunds, transfers, offline uploads, the
// public key, and attendance reaching Coliseum by itself.
import { assert, assertEquals, assertMatch } from "../lib/assert.ts";
import { asRole, db, FUNCTIONS_URL, newUser , until } from "../lib/stack.ts";
import {
  buy,
  claimsOf,
  forge,
  localSigningKey,
  mintToken,
  newShow,
  publicKey,
  refund,
  scan,
  ticketToken,
  tokenOf,
  validate,
  verifyToken,
} from "../lib/concierto.ts";

const sql = db(20);


async function ticket(id: string) {
  const [t] = await sql`select owner_id, state, version, redeemed_gate, void_reason from public.event_tickets where id = ${id}`;
  return t;
}

Deno.test("a paid reservation issues tickets; the owner gets a signed token with its QR code, nobody else does", async () => {
  const show = await newShow(sql);
  const buyer = await newUser(sql);
  const p = await buy(sql, buyer.id, show.tier, 2);
  assertEquals(p.tickets.length, 2);
  const [order] = await sql`select state, payment_id from concierto.orders where id = ${p.order}`;
  assertEquals([order.state, order.payment_id], ["paid", p.sale.paymentIntent]);
  for (const id of p.tickets) {
    const t = await ticket(id);
    assertEquals([t.owner_id, t.state, t.version], [buyer.id, "valid", 1]);
  }
  const [{ n }] = await sql`select count(*)::int as n from public.passport_entries
                             where user_id = ${buyer.id} and kind in ('concierto.ticket_purchased', 'concierto.ticket_issued')`;
  assertEquals(n, 3); // one purchase, two tickets

  const res = await ticketToken(buyer.token, p.tickets[0]);
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assertMatch(res.body.token, /^BKT1\.[A-Za-z0-9_-]{34}\.[A-Za-z0-9_-]{86}$/);
  assertEquals([res.body.ticket_id, res.body.version], [p.tickets[0], 1]);
  const c = claimsOf(res.body.token);
  assertEquals([c.ticket, c.version, c.kid], [p.tickets[0], 1, 1]);
  assertEquals(new Date(res.body.expires_at).getTime() / 1000, c.expires);
  const ttl = c.expires - Date.now() / 1000;
  assert(ttl > 50 && ttl <= 61, `a token lives 60 s, this one ${ttl.toFixed(1)} s`);
  assert(res.body.qr_svg.includes("<svg") && res.body.qr_svg.includes("</svg>"), res.body.qr_svg.slice(0, 80));

  const stranger = await newUser(sql);
  const denied = await ticketToken(stranger.token, p.tickets[0]);
  assertEquals([denied.status, denied.body.code], [403, "forbidden"], JSON.stringify(denied.body));
  const unknown = await ticketToken(buyer.token, crypto.randomUUID());
  assertEquals([unknown.status, unknown.body.code], [404, "ticket_not_found"], JSON.stringify(unknown.body));
});

Deno.test("staff admit a ticket; two gates scanning it at the same moment admit it once", async () => {
  const show = await newShow(sql);
  const buyer = await newUser(sql);
  const p = await buy(sql, buyer.id, show.tier, 2);

  const first = await scan(show.staff.token, await tokenOf(buyer, p.tickets[0]), show.event, "north");
  assertEquals(first.status, 200, JSON.stringify(first.body));
  assertEquals([first.body.status, first.body.ticket_id, first.body.gate], ["admitted", p.tickets[0], "north"]);
  assertEquals((await ticket(p.tickets[0])).state, "redeemed");
  const again = await scan(show.host.token, await tokenOf(buyer, p.tickets[0]), show.event, "south");
  assertEquals([again.body.status, again.body.gate, again.body.at], ["already_admitted", "north", first.body.at]);

  const token = await tokenOf(buyer, p.tickets[1]);
  const [a, b] = await Promise.all([
    scan(show.staff.token, token, show.event, "gate A"),
    scan(show.host.token, token, show.event, "gate B"),
  ]);
  assertEquals([a.status, b.status], [200, 200], JSON.stringify([a.body, b.body]));
  const answers = [a.body, b.body];
  const admitted = answers.filter((r) => r.status === "admitted");
  const already = answers.filter((r) => r.status === "already_admitted");
  assertEquals([admitted.length, already.length], [1, 1], JSON.stringify(answers));
  assertEquals([already[0].gate, already[0].at], [admitted[0].gate, admitted[0].at]);
  assertEquals((await ticket(p.tickets[1])).redeemed_gate, admitted[0].gate);
});

Deno.test("a rush at the door: concurrent scans, doubled at a second gate and mixed with a stranger's, admit each ticket once", async () => {
  // The scans of concurrent requests may share a transaction (edge/src/ticket_validate.rs); whatever ran
  // together, each request gets its own scan's answer, and a refused one (the stranger's 42501) leaves the
  // others standing.
  const show = await newShow(sql);
  const fans = await Promise.all(Array.from({ length: 4 }, () => newUser(sql)));
  const bought = await Promise.all(fans.map((fan) => buy(sql, fan.id, show.tier, 4)));
  const tickets = bought.flatMap((p, i) => p.tickets.map((id) => ({ id, fan: fans[i] })));
  const tokens = await Promise.all(tickets.map((t) => tokenOf(t.fan, t.id)));
  const stranger = await newUser(sql);
  const scans = [
    ...tokens.map((token, i) => ({ i, by: "staff", gate: "north", res: scan(show.staff.token, token, show.event, "north") })),
    ...tokens.slice(0, 8).map((token, i) => ({ i, by: "host", gate: "south", res: scan(show.host.token, token, show.event, "south") })),
    ...tokens.slice(0, 4).map((token, i) => ({ i, by: "stranger", gate: "side", res: scan(stranger.token, token, show.event, "side") })),
  ];
  const answers = await Promise.all(scans.map(async (s) => ({ ...s, res: await s.res })));
  for (const a of answers.filter((a) => a.by === "stranger")) {
    assertEquals([a.res.status, a.res.body.code], [403, "forbidden"], JSON.stringify(a.res.body));
  }
  for (const [i, t] of tickets.entries()) {
    const mine = answers.filter((a) => a.i === i && a.by !== "stranger");
    mine.forEach((a) => assertEquals(a.res.status, 200, JSON.stringify(a.res.body)));
    const admitted = mine.filter((a) => a.res.body.status === "admitted");
    assertEquals(admitted.length, 1, JSON.stringify(mine.map((a) => a.res.body)));
    assertEquals([admitted[0].res.body.ticket_id, admitted[0].res.body.gate], [t.id, admitted[0].gate]);
    for (const other of mine.filter((a) => a !== admitted[0])) {
      assertEquals(
        [other.res.body.status, other.res.body.gate, other.res.body.at],
        ["already_admitted", admitted[0].gate, admitted[0].res.body.at],
      );
    }
    const stored = await ticket(t.id);
    assertEquals([stored.state, stored.redeemed_gate], ["redeemed", admitted[0].gate]);
  }
  // Logged once: a validation per ticket, an attendance per fan and lineup artist.
  const logged = await sql`select kind, count(*)::int as n, count(distinct user_id)::int as fans
                           from public.passport_entries
                           where kind in ('concierto.ticket_validated', 'concierto.event_attended')
                             and payload->>'event_id' = ${show.event}
                           group by kind order by kind`;
  assertEquals(logged.map((r) => [r.kind, r.n, r.fans]), [
    ["concierto.event_attended", fans.length * show.artists.length, fans.length],
    ["concierto.ticket_validated", tickets.length, fans.length],
  ]);
});

Deno.test("the door refuses forged, expired, transferred, foreign and refunded tickets, and non-staff", async () => {
  const show = await newShow(sql);
  const other = await newShow(sql, { city: "Accra", country: "GH" });
  const buyer = await newUser(sql);
  const friend = await newUser(sql);
  const p = await buy(sql, buyer.id, show.tier, 4);
  const [t0, t1, t2, t3] = p.tickets;

  // Forged: one character of the signature changed.
  const forged = await validate(show.staff.token, { token: forge(await tokenOf(buyer, t0)), event_id: show.event, gate: "north" });
  assertEquals([forged.status, forged.body.code], [422, "invalid_signature"], JSON.stringify(forged.body));

  // Expired: genuine (signed with the local key), but its minute is over.
  const key = await localSigningKey();
  const stale = await mintToken(key, { ticket: t0, version: 1, expires: Math.floor(Date.now() / 1000) - 1, kid: 1 });
  const expired = await validate(show.staff.token, { token: stale, event_id: show.event, gate: "north" });
  assertEquals([expired.status, expired.body.code], [422, "expired_token"], JSON.stringify(expired.body));
  // The same claims with a live expiry pass the token check (the minter signs exactly as the edge does) and
  // reach the database, which refuses this staff member at another host's event.
  const fresh = await mintToken(key, { ticket: t0, version: 1, expires: Math.floor(Date.now() / 1000) + 60, kid: 1 });
  assertEquals((await validate(show.staff.token, { token: fresh, event_id: other.event, gate: "north" })).status, 403);

  // A ticket of this event at another event's door (scanned by that event's staff).
  const foreign = await scan(other.staff.token, await tokenOf(buyer, t0), other.event, "east");
  assertEquals([foreign.status, foreign.body.status, foreign.body.code], [200, "refused", "wrong_event"], JSON.stringify(foreign.body));

  // Someone who is not staff of this host.
  const stranger = await newUser(sql);
  const notStaff = await validate(stranger.token, { token: await tokenOf(buyer, t0), event_id: show.event, gate: "north" });
  assertEquals([notStaff.status, notStaff.body.code], [403, "forbidden"], JSON.stringify(notStaff.body));
  assertEquals((await ticket(t0)).state, "valid");

  // Transferred: the old token is dead, the new owner's token admits.
  const oldToken = await tokenOf(buyer, t1);
  const moved = await asRole(sql, "authenticated", buyer.id, (tx) =>
    tx`select concierto.transfer_ticket(${t1}::uuid, ${friend.id}::uuid) as r`);
  assertEquals([moved[0].r.version, moved[0].r.owner_id], [2, friend.id]);
  const old = await scan(show.staff.token, oldToken, show.event, "north");
  assertEquals([old.status, old.body.status, old.body.code], [200, "refused", "old_version"], JSON.stringify(old.body));
  assertEquals((await ticketToken(buyer.token, t1)).status, 403);
  const newToken = await tokenOf(friend, t1);
  assertEquals(claimsOf(newToken).version, 2);
  const admitted = await scan(show.staff.token, newToken, show.event, "north");
  assertEquals(admitted.body.status, "admitted", JSON.stringify(admitted.body));

  // Refund half of the order (2 of 4 seats): the buyer's newest valid tickets are voided, and refused.
  const tokenBefore = await tokenOf(buyer, t3);
  const res = await refund(p, p.sale.amount / 2);
  assertEquals([res.status, res.body.status], [200, "applied"], JSON.stringify(res.body));
  assertEquals([(await ticket(t3)).state, (await ticket(t2)).state], ["void", "void"]);
  assertEquals([(await ticket(t0)).state, (await ticket(t1)).state], ["valid", "redeemed"]);
  const voided = await scan(show.staff.token, tokenBefore, show.event, "north");
  assertEquals([voided.status, voided.body.status, voided.body.code], [200, "refused", "void_ticket"], JSON.stringify(voided.body));
  const noToken = await ticketToken(buyer.token, t3);
  assertEquals([noToken.status, noToken.body.code], [409, "ticket_void"], JSON.stringify(noToken.body));
  // The rest of the refund voids the last valid ticket; the admitted one stays admitted.
  await refund(p, p.sale.amount / 2);
  assertEquals([(await ticket(t0)).state, (await ticket(t1)).state], ["void", "redeemed"]);
});

Deno.test("an offline batch uploaded twice gives identical results and reports conflicts", async () => {
  const show = await newShow(sql);
  const buyer = await newUser(sql);
  const p = await buy(sql, buyer.id, show.tier, 3);
  const [t0, t1, t2] = p.tickets;
  // t1 is admitted online first: the offline scanner's later scan of it is a conflict.
  const online = await scan(show.host.token, await tokenOf(buyer, t1), show.event, "main door");
  assertEquals(online.body.status, "admitted");

  const tokens = await Promise.all([t0, t1, t2].map((t) => tokenOf(buyer, t)));
  const at = (msAgo: number) => new Date(Date.now() - msAgo).toISOString();
  const scanner = `scanner-${crypto.randomUUID().slice(0, 8)}`;
  const batch = {
    scans: [
      { token: tokens[0], event_id: show.event, gate: "side door", scanned_at: at(3000), nonce: `${scanner}:1` },
      { token: tokens[1], event_id: show.event, gate: "side door", scanned_at: at(2000), nonce: `${scanner}:2` },
      { token: tokens[0], event_id: show.event, gate: "side door", scanned_at: at(1000), nonce: `${scanner}:3` },
      { token: forge(tokens[2]), event_id: show.event, gate: "side door", scanned_at: at(1000), nonce: `${scanner}:4` },
      { token: tokens[2], event_id: show.event, gate: "side door", scanned_at: new Date(Date.now() + 120_000).toISOString(), nonce: `${scanner}:5` },
    ],
  };
  const first = await validate(show.staff.token, batch);
  assertEquals(first.status, 200, JSON.stringify(first.body));
  const r = first.body.results;
  assertEquals(r.map((x: any) => x.nonce), batch.scans.map((s) => s.nonce));
  assertEquals(r.map((x: any) => x.status), ["admitted", "already_admitted", "already_admitted", "refused", "refused"]);
  assertEquals(r[1].gate, "main door"); // the conflict names the scan that admitted first
  assertEquals(r[2].gate, "side door");
  assertEquals([r[3].code, r[4].code], ["invalid_signature", "scanned_in_future"]);
  assertEquals([first.body.admitted, first.body.already_admitted, first.body.refused], [1, 2, 2]);

  const second = await validate(show.staff.token, batch);
  assertEquals(second.status, 200);
  assertEquals(second.body, first.body);
  // Another staff member uploading the same queue applies nothing again either.
  const third = await validate(show.host.token, batch);
  assertEquals(third.body, first.body);
  assertEquals((await ticket(t2)).state, "valid");
  const [{ n }] = await sql`select count(*)::int as n from concierto.scans where nonce like ${scanner + ":%"}`;
  assertEquals(n, 3);
});

Deno.test("the door admits a scan only at a time it can have happened", async () => {
  const show = await newShow(sql);
  const buyer = await newUser(sql);
  const p = await buy(sql, buyer.id, show.tier, 4);
  const [t0, t1, t2, t3] = p.tickets;
  const key = await localSigningKey();
  const nowS = Math.floor(Date.now() / 1000);
  const iso = (s: number) => new Date(s * 1000).toISOString();
  const scanner = `scanner-${crypto.randomUUID().slice(0, 8)}`;
  const offline = (token: string, scannedAtS: number, n: number) => ({
    token,
    event_id: show.event,
    gate: "side door",
    scanned_at: iso(scannedAtS),
    nonce: `${scanner}:${n}`,
  });
  // The replay: a genuine token that expired 50 minutes ago, the scan dated inside its minute of life.
  // The token passes, but the ticket was issued moments ago: it cannot have been scanned then.
  const expiredLongAgo = await mintToken(key, { ticket: t0, version: 1, expires: nowS - 50 * 60, kid: 1 });
  // A token dated five minutes before it was issued (a scanner's clock may be a minute off, not five).
  const fresh = await tokenOf(buyer, t1);
  // A scan from more than a day ago.
  const dayOld = await mintToken(key, { ticket: t2, version: 1, expires: nowS - 25 * 3600 + 30, kid: 1 });
  const batch = {
    scans: [
      offline(expiredLongAgo, nowS - 50 * 60 - 30, 1),
      offline(fresh, claimsOf(fresh).expires - 60 - 300, 2),
      offline(dayOld, nowS - 25 * 3600, 3),
      offline(await tokenOf(buyer, t3), nowS, 4),
    ],
  };
  const res = await validate(show.staff.token, batch);
  assertEquals(res.status, 200, JSON.stringify(res.body));
  assertEquals(
    res.body.results.map((r: any) => r.code ?? r.status),
    ["scanned_before_issue", "token_not_yet_valid", "upload_too_late", "admitted"],
    JSON.stringify(res.body),
  );
  assertEquals([(await ticket(t0)).state, (await ticket(t1)).state, (await ticket(t2)).state], ["valid", "valid", "valid"]);

  // Online, a show whose doors open tomorrow refuses its tickets today.
  const tomorrow = await newShow(sql, { startsAt: new Date(Date.now() + 86_400_000) });
  const early = await buy(sql, buyer.id, tomorrow.tier, 1);
  const online = await scan(tomorrow.staff.token, await tokenOf(buyer, early.tickets[0]), tomorrow.event, "north");
  assertEquals([online.status, online.body.status, online.body.code], [200, "refused", "doors_not_open"], JSON.stringify(online.body));
  assertEquals((await ticket(early.tickets[0])).state, "valid");
});

Deno.test("admissions reach the lineup artists' T and C DNA with nobody calling the processor", async () => {
  const show = await newShow(sql, { artists: 3, city: "Nairobi", country: "KE" });
  const fans = await Promise.all([0, 1, 2].map(() => newUser(sql)));
  for (const fan of fans) {
    const p = await buy(sql, fan.id, show.tier, 1);
    const res = await scan(show.staff.token, await tokenOf(fan, p.tickets[0]), show.event, "north");
    assertEquals(res.body.status, "admitted");
  }
  const [{ n }] = await sql`select count(*)::int as n from public.passport_entries
                             where kind = 'concierto.event_attended' and artist_id = any(${show.artists}::uuid[])`;
  assertEquals(n, 9); // three fans × three artists
  for (const artist of show.artists) {
    for (const domain of ["T", "C"]) {
      const row = await until(`${domain} strength of lineup artist ${artist}`, async () => {
        const [r] = await sql`select score, fans from public.coliseum_domain_strength
                               where artist_id = ${artist} and domain = ${domain} and period = '30d' and fans >= 3`;
        return r;
      });
      assertEquals(Number(row.fans), 3);
    }
  }
  // The venue's city is in the support act's C domain (only attendance names it).
  const [c] = await sql`select components from public.coliseum_domain_strength
                         where artist_id = ${show.artists[2]} and domain = 'C' and period = '30d'`;
  assert(JSON.stringify(c.components).length > 2, JSON.stringify(c.components));
});

Deno.test("ticket-keys publishes the key; a token from ticket-token verifies with it in WebCrypto", async () => {
  const res = await fetch(`${FUNCTIONS_URL}/ticket-keys`);
  assertEquals(res.status, 200);
  const { keys } = await res.json();
  assertEquals(keys.length, 1);
  assertEquals([keys[0].kid, keys[0].alg], [1, "Ed25519"]);
  const key = await publicKey(keys[0].public_key);

  const show = await newShow(sql);
  const buyer = await newUser(sql);
  const p = await buy(sql, buyer.id, show.tier, 1);
  const token = await tokenOf(buyer, p.tickets[0]);
  assert(await verifyToken(key, token), "a served token verifies under the published key");
  assert(!(await verifyToken(key, forge(token))), "a forged one does not");
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
