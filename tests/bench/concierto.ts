// ./stack bench concierto — in one run:
// 1. door throughput: validations/s end to end through POST /functions/v1/ticket-validate (N concurrent staff
//    clients, each ticket scanned once), against concierto.redeem called directly in SQL for as many other
//    tickets of the same event, from as many connections, one statement each, run as the staff member the
//    way the edge runs it;
// 2. tokens: GET /functions/v1/ticket-token end to end (sign) and ticket-validate answering a forged token
//    (verify only; the database is not called), against raw Ed25519 sign / verify in Deno's WebCrypto.
import { db, type Sql, type User } from "../lib/stack.ts";
import { fmt, percentile, perSecond, type Run, writeSection } from "../lib/bench.ts";
import { buy, forge, localSigningKey, mintToken, newShow, newUsers, publicKey, ticketToken, validate, verifyToken } from "../lib/concierto.ts";

const TICKETS = Number(Deno.env.get("BENCH_TICKETS") ?? 2000); // per measurement
const CLIENTS = Number(Deno.env.get("BENCH_CLIENTS") ?? 16);
const sql = db(CLIENTS + 8);

/** Does `items` once each from `clients` concurrent loops; latency per item. */
async function fixedWork<T>(label: string, clients: number, items: T[], op: (item: T, client: number) => Promise<void>): Promise<Run> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: clients }, async (_, client) => {
    while (next < items.length) {
      const item = items[next++];
      const s = performance.now();
      await op(item, client);
      latencies.push(performance.now() - s);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return { label, items: items.length, requests: items.length, seconds, latenciesMs: latencies };
}

const p = (r: Run, q: number) => fmt(percentile(r.latenciesMs, q), 2);
const row = (r: Run) => `| ${r.label} | ${fmt(r.items)} | ${fmt(perSecond(r))} | ${p(r, 50)} | ${p(r, 99)} |`;

/** Sells `n` tickets of the show (orders of 10 paid through the signed webhook), each with its owner. */
async function sell(sqlc: Sql, tier: string, buyers: User[], n: number) {
  const orders = Math.ceil(n / 10);
  const owned: { ticket: string; owner: User }[] = [];
  let next = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < orders) {
      const buyer = buyers[next++ % buyers.length];
      const bought = await buy(sqlc, buyer.id, tier, 10);
      for (const ticket of bought.tickets) owned.push({ ticket, owner: buyer });
    }
  }));
  return owned.slice(0, n);
}

async function door() {
  const show = await newShow(sql, { capacity: 2 * TICKETS + 20, artists: 2 });
  const buyers = await newUsers(sql, 50, "bench-buyer");
  const staff = [show.staff, ...(await newUsers(sql, CLIENTS - 1, "bench-staff"))];
  for (const s of staff.slice(1)) {
    await sql.begin(async (tx: any) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ sub: show.host.id, role: "authenticated" })}, true)`;
      await tx`select concierto.add_staff(${s.id}::uuid)`;
    });
  }
  const t0 = performance.now();
  const owned = await sell(sql, show.tier, buyers, 2 * TICKETS);
  console.log(`sold ${owned.length} tickets through signed webhooks in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const [http, direct] = [owned.slice(0, TICKETS), owned.slice(TICKETS)];

  // Tokens for the HTTP half, end to end: this is also the signing measurement.
  const tokens = new Map<string, string>();
  const sign = await fixedWork("GET ticket-token (end to end: JWT, SQL as the owner, Ed25519 sign, QR SVG)", CLIENTS, http, async ({ ticket, owner }) => {
    const res = await ticketToken(owner.token, ticket);
    if (res.status !== 200) throw new Error(`ticket-token: ${res.status} ${JSON.stringify(res.body)}`);
    tokens.set(ticket, res.body.token);
  });

  const outcomes = new Map<string, number>();
  let retries = 0;
  const e2e = await fixedWork(`POST ticket-validate (end to end, ${CLIENTS} staff clients)`, CLIENTS, http, async ({ ticket }, client) => {
    for (;;) {
      const res = await validate(staff[client].token, { token: tokens.get(ticket), event_id: show.event, gate: `gate ${client}` });
      if (res.status === 503) {
        retries++;
        continue;
      }
      const k = res.status === 200 ? res.body.status : `${res.status} ${res.body?.code}`;
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
      return;
    }
  });

  const baseline = await fixedWork(`concierto.redeem in SQL (baseline, ${CLIENTS} connections)`, CLIENTS, direct, async ({ ticket }, client) => {
    const claims = JSON.stringify({ sub: staff[client].id, role: "authenticated" });
    const [{ result }] = await sql`
      with caller as materialized (
        select set_config('request.jwt.claims', ${claims}::text, true) as claims, set_config('role', 'authenticated', true) as role)
      select concierto.redeem(${ticket}::uuid, 1, ${show.event}::uuid, ${`gate ${client}`}::text) as result from caller`;
    const k = `sql ${result.status}`;
    outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
  });
  if ((outcomes.get("admitted") ?? 0) !== TICKETS || (outcomes.get("sql admitted") ?? 0) !== TICKETS) {
    throw new Error(`every ticket should be admitted once: ${JSON.stringify([...outcomes])}`);
  }

  // Verification end to end: forged tokens, refused by the edge after the signature check.
  const forged = [...tokens.values()].map(forge);
  const verify = await fixedWork("POST ticket-validate, forged token (end to end: JWT, Ed25519 verify, 422)", CLIENTS, forged, async (token, client) => {
    const res = await validate(staff[client].token, { token, event_id: show.event, gate: "bench" });
    if (res.status !== 422 || res.body.code !== "invalid_signature") throw new Error(`forged: ${res.status} ${JSON.stringify(res.body)}`);
  });
  return { e2e, baseline, sign, verify, retries, tickets: http.map((o) => o.ticket) };
}

async function rawCrypto(tickets: string[]) {
  const key = await localSigningKey();
  const pub = await publicKey(Deno.env.get("TICKET_PUBLIC_KEY")!);
  const expires = Math.floor(Date.now() / 1000) + 60;
  const minted: string[] = [];
  const sign = await fixedWork("Ed25519 sign in Deno WebCrypto (baseline, 1 loop)", 1, tickets, async (ticket) => {
    minted.push(await mintToken(key, { ticket, version: 1, expires, kid: 1 }));
  });
  const verify = await fixedWork("Ed25519 verify in Deno WebCrypto (baseline, 1 loop)", 1, minted, async (token) => {
    if (!(await verifyToken(pub, token))) throw new Error("a minted token did not verify");
  });
  return { sign, verify };
}

const d = await door();
const raw = await rawCrypto(d.tickets);
const cores = navigator.hardwareConcurrency;
for (const r of [d.e2e, d.baseline, d.sign, d.verify, raw.sign, raw.verify]) {
  console.log(`${r.label}: ${fmt(perSecond(r))}/s, p50 ${p(r, 50)} ms, p99 ${p(r, 99)} ms`);
}
console.log(`503 retry answers during the end-to-end validations: ${d.retries}`);

const header = "| what | items | per second | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|";
await writeSection("concierto", "Concierto: the door and its tokens (`./stack bench concierto`)", `
Each ticket is scanned once (distinct tickets of one event, all admitted); ${fmt(TICKETS)} tickets per measurement,
sold beforehand through signed \`checkout.session.completed\` webhooks. The SQL baseline runs the statement the edge
runs (\`concierto.redeem\` as the staff member, one round trip) from as many connections as there are HTTP clients.
The crypto baselines are one Deno loop (WebCrypto's Ed25519 is synchronous work under an async API); the edge
figures are ${CLIENTS} concurrent clients on ${cores} cores, so the ratios say how much the HTTP path, JWT checks,
the database and the QR code cost on top of the signature itself.

${header}
${row(d.e2e)}
${row(d.baseline)}
${row(d.sign)}
${row(raw.sign)}
${row(d.verify)}
${row(raw.verify)}

| ratio | value |
|---|---:|
| validations/s end to end ÷ \`concierto.redeem\` in SQL | ${fmt(perSecond(d.e2e) / perSecond(d.baseline), 2)} |
| p50 latency end to end ÷ SQL | ${fmt(percentile(d.e2e.latenciesMs, 50) / percentile(d.baseline.latenciesMs, 50), 2)} |
| tokens/s from ticket-token ÷ raw Ed25519 signs/s | ${fmt(perSecond(d.sign) / perSecond(raw.sign), 3)} |
| forged tokens refused/s by ticket-validate ÷ raw Ed25519 verifies/s | ${fmt(perSecond(d.verify) / perSecond(raw.verify), 3)} |

${d.retries} scans were answered \`503 retry\` and scanned again (each ticket is scanned by one client, so none expected).
`);
await sql.end();
