// The Concierto part of `./stack demo`: two shows go on sale; fans reserve
// seats through the RPC and pay through signed checkout.session.completed
// webhooks; one buyer is refunded, one gives a ticket to a friend. At the door
// two gates scan the tickets through POST /functions/v1/ticket-validate with
// tokens from GET /functions/v1/ticket-token: most fans come in, a few are
// scanned twice (two of them at both gates at the same moment), one shows a
// forged code, the transferred ticket's old code is refused and its new one
// admitted, the refunded one is refused. Then the host's figures
// (concierto.host_stats) and how the night moved the lineup's T and C DNA.
import { asRole, pendingEntries, type Sql, type User } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";
import { type Answer, buy, forge, newShow, newUsers, type Purchase, refund, scan, type Show, tokenOf, validate } from "../lib/concierto.ts";

/** A deterministic pseudo-random sequence, so each run tells the same story. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const LINEUPS = [
  { title: "Night at the Shrine", city: "Lagos", country: "NG", names: ["Ada Nwosu", "Kofi Mensah", "Tems Ade"] },
  { title: "Accra Highlife Sessions", city: "Accra", country: "GH", names: ["Kwame Asante", "Efua Boateng"] },
];

async function scores(sql: Sql, artists: string[]) {
  const rows = await sql`select artist_id, domain, score, fans from public.coliseum_domain_strength
                          where artist_id = any(${artists}::uuid[]) and domain in ('T', 'C') and period = '30d'`;
  const of = (a: string, d: string) => rows.find((r) => r.artist_id === a && r.domain === d);
  return (a: string, d: string) => ({ score: Number(of(a, d)?.score ?? 0), fans: Number(of(a, d)?.fans ?? 0) });
}

async function drained(sql: Sql, seconds = 15) {
  const deadline = Date.now() + seconds * 1000;
  while ((await pendingEntries(sql)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}

export async function runConciertoDemo(sql: Sql) {
  const started = performance.now();
  const rand = rng(20261122);
  heading("Concierto — two shows sell out the door: tickets through signed Stripe webhooks, scans through ticket-validate");

  const shows: (Show & { names: string[]; title: string })[] = [];
  for (const l of LINEUPS) {
    const show = await newShow(sql, { artists: l.names.length, city: l.city, country: l.country, capacity: 40, price: 2500, title: l.title });
    shows.push({ ...show, names: l.names, title: l.title });
  }
  const name = new Map(shows.flatMap((s) => s.artists.map((a, i) => [a, s.names[i]] as const)));

  // Sales: ~40 tickets in orders of 1 to 3, each paid through the signed webhook.
  const fans = await newUsers(sql, 22, "fan");
  const friend = (await newUsers(sql, 1, "friend"))[0];
  const purchases: { fan: User; show: Show; p: Purchase }[] = [];
  await Promise.all(fans.map(async (fan, i) => {
    const show = shows[i % 3 === 2 ? 1 : 0];
    const p = await buy(sql, fan.id, show.tier, 1 + Math.floor(rand() * 3));
    purchases.push({ fan, show, p });
  }));
  purchases.sort((a, b) => a.fan.id.localeCompare(b.fan.id));
  const sold = purchases.reduce((n, x) => n + x.p.tickets.length, 0);
  console.log(`${sold} tickets sold in ${purchases.length} orders (${shows.length} shows), each paid by a signed checkout.session.completed`);

  // Before the doors: the lineup's T and C DNA with the sales folded in (purchases count for the headliner).
  await drained(sql);
  const allArtists = shows.flatMap((s) => s.artists);
  const before = await scores(sql, allArtists);

  // One order refunded in full; one ticket given to a friend (its old code kept, as a screenshot would be).
  const refunded = purchases[purchases.length - 1];
  const refundedCode = await tokenOf(refunded.fan, refunded.p.tickets[0]);
  await refund(refunded.p, refunded.p.sale.amount);
  const giver = purchases[0];
  const givenTicket = giver.p.tickets[0];
  const oldCode = await tokenOf(giver.fan, givenTicket);
  await asRole(sql, "authenticated", giver.fan.id, (tx) => tx`select concierto.transfer_ticket(${givenTicket}::uuid, ${friend.id}::uuid)`);

  // The door: who holds which ticket now, a few no-shows, a few scanned twice.
  type Holder = { who: User; ticket: string; show: Show };
  const holders: Holder[] = purchases.flatMap(({ fan, show, p }) =>
    p.tickets.map((ticket) => ({ who: ticket === givenTicket ? friend : fan, ticket, show })));
  const tally = new Map<string, number>();
  const count = (label: string) => tally.set(label, (tally.get(label) ?? 0) + 1);
  const record = (res: Answer) => count(res.status === 200 ? `${res.body.status}${res.body.code ? ` (${res.body.code})` : ""}` : `${res.status} ${res.body.code}`);
  const gates = ["North gate", "South gate"];

  const oldScan = await scan(giver.show.staff.token, oldCode, giver.show.event, gates[0]);
  record(oldScan);
  const forged = await validate(purchases[1].show.staff.token, { token: forge(await tokenOf(purchases[1].fan, purchases[1].p.tickets[0])), event_id: purchases[1].show.event, gate: gates[1] });
  record(forged);
  const refundedScan = await scan(refunded.show.staff.token, refundedCode, refunded.show.event, gates[0]);
  record(refundedScan);

  const live = holders.filter((h) => !refunded.p.tickets.includes(h.ticket));
  const comers = live.filter(() => rand() > 0.1);
  let i = 0;
  const doubles: Holder[] = [];
  await Promise.all(Array.from({ length: 6 }, async (_, worker) => {
    while (i < comers.length) {
      const h = comers[i++];
      const gate = gates[worker % 2];
      const staff = worker % 3 === 0 ? h.show.host : h.show.staff;
      const token = await tokenOf(h.who, h.ticket);
      if (doubles.length < 2 && rand() < 0.2) {
        // Both gates at the same moment: one admits, the other names it.
        doubles.push(h);
        const [a, b] = await Promise.all([scan(h.show.staff.token, token, h.show.event, gates[0]), scan(h.show.host.token, token, h.show.event, gates[1])]);
        record(a);
        record(b);
        continue;
      }
      record(await scan(staff.token, token, h.show.event, gate));
      if (rand() < 0.08) record(await scan(staff.token, await tokenOf(h.who, h.ticket), h.show.event, gates[(worker + 1) % 2]));
    }
  }));

  heading("At the door (POST /functions/v1/ticket-validate)");
  table(["answer", "scans"], [...tally.entries()].sort((a, b) => b[1] - a[1]), ["l", "r"]);
  console.log(`\nthe transferred ticket's old code: ${oldScan.body.status} (${oldScan.body.code}); the forged code: ${forged.status} ${forged.body.code}; ` +
    `the refunded ticket: ${refundedScan.body.status} (${refundedScan.body.code})`);

  for (const show of shows) {
    const [{ s }] = await asRole(sql, "authenticated", show.host.id, (tx) => tx`select concierto.host_stats(${show.event}::uuid) as s`);
    heading(`${show.title} — concierto.host_stats as the host`);
    table(["tier", "capacity", "sold", "issued", "redeemed", "void", "reserved", "available"],
      s.tiers.map((t: any) => [t.name, t.capacity, t.sold, t.issued, t.redeemed, t.void, t.reserved, t.available]),
      ["l", "r", "r", "r", "r", "r", "r", "r"]);
    console.log(`check-ins per 5 minutes: ${s.checkins.map((c: any) => `${c.at.slice(11, 16)} UTC ${c.count}`).join(", ")}`);
  }

  // Attendance is logged as concierto.event_attended for every lineup artist; the processor folds it by itself.
  await drained(sql);
  const after = await scores(sql, allArtists);
  heading("How the night moved the lineup's DNA (coliseum_domain_strength, 30 days)");
  table(["artist", "show", "T before", "T after", "C before", "C after", "fans (T)"],
    shows.flatMap((s) => s.artists.map((a) => [
      `${name.get(a)}${a === s.artists[0] ? " (headliner)" : ""}`, s.title,
      before(a, "T").score.toFixed(1), after(a, "T").score.toFixed(1),
      before(a, "C").score.toFixed(1), after(a, "C").score.toFixed(1),
      `${before(a, "T").fans} → ${after(a, "T").fans}`,
    ])), ["l", "l", "r", "r", "r", "r", "r"]);
  console.log(`\nConcierto part finished in ${((performance.now() - started) / 1000).toFixed(1)} s`);
}
