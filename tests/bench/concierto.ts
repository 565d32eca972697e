// ./stack bench concierto — in one run:
// 1. door throughput: validations/s end to end through POST /functions/v1/ticket-validate (N concurrent staff
//    clients, each ticket scanned once), against concierto.redeem called directly in SQL for as many other
//    tickets of the same event, from as many connections, one statement each, run as the staff member the
//    way the edge runs it;
// 2. the function's own cost: the same scans sent straight to ticket-validate's instances, past the local
//    gateway (a stand-in: Supabase's gateway is not a Deno process on the database's cores);
// 3. tokens: GET /functions/v1/ticket-token end to end (sign) and ticket-validate answering a forged token
//    (verify only; the database is not called), against raw Ed25519 sign / verify in Deno's WebCrypto;
// 4. where the CPU goes: per scan and per token, the CPU time of the gateway, the function's instances,
//    the pooler, Postgres and the bench client (tests/lib/cpu.ts).
import { db, env, FUNCTIONS_URL, type Sql, type User } from "../lib/stack.ts";
import { fmt, percentile, perSecond, type Run, writeSection } from "../lib/bench.ts";
import { type CpuPerItem, cpuHeader, cpuRow, settle, settledRate, untilSettled, withCpu } from "../lib/cpu.ts";
import { buy, forge, localSigningKey, mintToken, newShow, newUsers, publicKey, ticketToken, validate, verifyToken } from "../lib/concierto.ts";

const TICKETS = Number(Deno.env.get("BENCH_TICKETS") ?? 2000); // per measurement
const CLIENTS = Number(Deno.env.get("BENCH_CLIENTS") ?? 16);
// Scans and tokens done before the measurements, on tickets of their own: a function instance compiles its
// WASM's hot paths and opens its pooled connections on first use, which a measurement should not pay.
const WARMUP = Number(Deno.env.get("BENCH_WARMUP") ?? 4 * CLIENTS);
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

/** The baseline's statement: `concierto.redeem` as the staff member, in one round trip; the scan's status. */
async function redeemInSql(event: string, staff: User, ticket: string, client: number): Promise<string> {
  const claims = JSON.stringify({ sub: staff.id, role: "authenticated" });
  const [{ result }] = await sql`
    with caller as materialized (
      select set_config('request.jwt.claims', ${claims}::text, true) as claims, set_config('role', 'authenticated', true) as role)
    select concierto.redeem(${ticket}::uuid, 1, ${event}::uuid, ${`gate ${client}`}::text) as result from caller`;
  return result.status;
}

/**
 * Every measured path once before the measurements, on tickets of their own (a third each): tokens with and
 * without the QR code, scans through the gateway, straight to the instances, and in SQL. Each must succeed.
 */
async function warmUp(show: { event: string }, staff: User[], warm: { ticket: string; owner: User }[]) {
  const third = Math.ceil(warm.length / 3);
  const instances: number[] = (await (await fetch(`${env("SUPABASE_URL")}/_stack/health`)).json()).instances["ticket-validate"];
  await fixedWork("warm-up", CLIENTS, warm.map((w, i) => ({ ...w, i })), async ({ ticket, owner, i }, client) => {
    let status: string;
    if (i < 2 * third) {
      const res = await ticketToken(owner.token, ticket, i % 2 ? "none" : "svg");
      if (res.status !== 200) throw new Error(`warm-up ticket-token: ${res.status} ${JSON.stringify(res.body)}`);
      const url = i < third ? `${FUNCTIONS_URL}/ticket-validate` : `http://127.0.0.1:${instances[client % instances.length]}/ticket-validate`;
      const scanned = await validate(staff[client].token, { token: res.body.token, event_id: show.event, gate: "warm-up" }, url);
      status = scanned.status === 200 ? scanned.body.status : `${scanned.status} ${JSON.stringify(scanned.body)}`;
    } else {
      status = await redeemInSql(show.event, staff[client], ticket, client);
    }
    if (status !== "admitted") throw new Error(`warm-up scan: ${status}`);
  });
}

async function door() {
  const show = await newShow(sql, { capacity: 3 * TICKETS + 3 * WARMUP + 20, artists: 2 });
  const buyers = await newUsers(sql, 50, "bench-buyer");
  const staff = [show.staff, ...(await newUsers(sql, CLIENTS - 1, "bench-staff"))];
  for (const s of staff.slice(1)) {
    await sql.begin(async (tx: any) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${JSON.stringify({ sub: show.host.id, role: "authenticated" })}, true)`;
      await tx`select concierto.add_staff(${s.id}::uuid)`;
    });
  }
  const t0 = performance.now();
  const owned = await sell(sql, show.tier, buyers, 3 * TICKETS + 3 * WARMUP);
  console.log(`sold ${owned.length} tickets through signed webhooks in ${fmt((performance.now() - t0) / 1000, 1)} s`);
  const [http, direct, past] = [owned.slice(0, TICKETS), owned.slice(TICKETS, 2 * TICKETS), owned.slice(2 * TICKETS, 3 * TICKETS)];
  const warm = owned.slice(3 * TICKETS);

  // Tokens for the HTTP half, end to end: this is also the signing measurement.
  const tokens = new Map<string, string>();
  const sizes = { body: 0, svg: 0 };
  await warmUp(show, staff, warm);
  await settle(sql);
  const [sign, signCpu] = await withCpu("ticket-token", () =>
    fixedWork("GET ticket-token (end to end: JWT, SQL as the owner, Ed25519 sign, QR SVG)", CLIENTS, http, async ({ ticket, owner }) => {
      const res = await ticketToken(owner.token, ticket);
      if (res.status !== 200) throw new Error(`ticket-token: ${res.status} ${JSON.stringify(res.body)}`);
      tokens.set(ticket, res.body.token);
      sizes.body += JSON.stringify(res.body).length;
      sizes.svg += res.body.qr_svg.length;
    }), (r) => r.items);
  const answerBytes = { body: sizes.body / http.length, svg: sizes.svg / http.length };

  const outcomes = new Map<string, number>();
  let retries = 0;
  /** Scans each ticket once through `url(client)`, retrying a 503 as a scanner does. */
  const scan = (label: string, items: typeof http, token: (ticket: string) => string, url: (client: number) => string) =>
    withCpu("ticket-validate", () =>
      untilSettled(sql, () => fixedWork(label, CLIENTS, items, async ({ ticket }, client) => {
        for (;;) {
          const res = await validate(staff[client].token, { token: token(ticket), event_id: show.event, gate: `gate ${client}` }, url(client));
          if (res.status === 503) {
            retries++;
            continue;
          }
          const k = res.status === 200 ? res.body.status : `${res.status} ${res.body?.code}`;
          outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
          return;
        }
      })), (r) => r.items);
  await settle(sql);
  const [e2e, e2eCpu] = await scan(`POST ticket-validate (end to end, ${CLIENTS} staff clients)`, http, (t) => tokens.get(t)!, () => `${FUNCTIONS_URL}/ticket-validate`);

  // The function's own path: straight to its instances, tokens signed here with the same key.
  const instances: number[] = (await (await fetch(`${env("SUPABASE_URL")}/_stack/health`)).json()).instances["ticket-validate"];
  const key = await localSigningKey();
  const expires = Math.floor(Date.now() / 1000) + 60;
  const pastTokens = new Map<string, string>();
  for (const { ticket } of past) pastTokens.set(ticket, await mintToken(key, { ticket, version: 1, expires, kid: 1 }));
  await settle(sql);
  const [own, ownCpu] = await scan(`POST ticket-validate straight to its ${instances.length} instances (no gateway, ${CLIENTS} staff clients)`, past, (t) => pastTokens.get(t)!, (client) => `http://127.0.0.1:${instances[client % instances.length]}/ticket-validate`);

  // The token alone, after the scans: the tokens above live 60 s.
  await settle(sql);
  const [signOnly, signOnlyCpu] = await withCpu("ticket-token", () =>
    fixedWork("GET ticket-token?qr=none (end to end, the token alone)", CLIENTS, direct, async ({ ticket, owner }) => {
      const res = await ticketToken(owner.token, ticket, "none");
      if (res.status !== 200 || res.body.qr_svg !== undefined) throw new Error(`ticket-token?qr=none: ${res.status} ${JSON.stringify(res.body)}`);
    }), (r) => r.items);

  await settle(sql);
  const [baseline, baselineCpu] = await withCpu("ticket-validate", () =>
    untilSettled(sql, () => fixedWork(`concierto.redeem in SQL (baseline, ${CLIENTS} connections)`, CLIENTS, direct, async ({ ticket }, client) => {
      const k = `sql ${await redeemInSql(show.event, staff[client], ticket, client)}`;
      outcomes.set(k, (outcomes.get(k) ?? 0) + 1);
    })), (r) => r.items);
  if ((outcomes.get("admitted") ?? 0) !== 2 * TICKETS || (outcomes.get("sql admitted") ?? 0) !== TICKETS) {
    throw new Error(`every ticket should be admitted once: ${JSON.stringify([...outcomes])}`);
  }

  // Verification end to end: forged tokens, refused by the edge after the signature check.
  const forged = [...tokens.values()].map(forge);
  await settle(sql);
  const [verify, verifyCpu] = await withCpu("ticket-validate", () =>
    fixedWork("POST ticket-validate, forged token (end to end: JWT, Ed25519 verify, 422)", CLIENTS, forged, async (token, client) => {
      const res = await validate(staff[client].token, { token, event_id: show.event, gate: "bench" });
      if (res.status !== 422 || res.body.code !== "invalid_signature") throw new Error(`forged: ${res.status} ${JSON.stringify(res.body)}`);
    }), (r) => r.items);
  const cpu: [string, CpuPerItem][] = [
    [e2e.label, e2eCpu],
    [own.label, ownCpu],
    [baseline.label, baselineCpu],
    [sign.label, signCpu],
    [signOnly.label, signOnlyCpu],
    [verify.label, verifyCpu],
  ];
  return { e2e, own, baseline, sign, signOnly, verify, cpu, retries, answerBytes, tickets: http.map((o) => o.ticket) };
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
for (const r of [d.e2e, d.own, d.baseline, d.sign, d.signOnly, d.verify, raw.sign, raw.verify]) {
  console.log(`${r.label}: ${fmt(perSecond(r))}/s, p50 ${p(r, 50)} ms, p99 ${p(r, 99)} ms`);
}
console.log(`503 retry answers during the end-to-end validations: ${d.retries}`);
console.log(`drained after: end to end ${fmt(d.e2e.drainMs, 0)} ms, straight ${fmt(d.own.drainMs, 0)} ms, SQL ${fmt(d.baseline.drainMs, 0)} ms; sustained ratios ${fmt(settledRate(d.e2e) / settledRate(d.baseline), 2)} / ${fmt(settledRate(d.own) / settledRate(d.baseline), 2)}`);
for (const [label, cpu] of d.cpu) console.log(cpuRow(label, cpu));
console.log(`ticket-token answer: ${fmt(d.answerBytes.body)} bytes of JSON, QR SVG ${fmt(d.answerBytes.svg)}`);

const header = "| what | items | per second | p50 ms | p99 ms |\n|---|---:|---:|---:|---:|";
await writeSection("concierto", "Concierto: the door and its tokens (`./stack bench concierto`)", `
Each ticket is scanned once (distinct tickets of one event, all admitted); ${fmt(TICKETS)} tickets per measurement,
sold beforehand through signed \`checkout.session.completed\` webhooks, plus ${fmt(3 * WARMUP)} that warm every path
first (tokens, scans through the gateway, straight to the instances, in SQL). Before each measurement the bench
waits until the database's background work is done (nothing pending for the processor, no Stripe event unapplied),
so that no measurement pays for the one before; after each validation path it waits again and counts that
drain too, in the "sustained" ratio (${fmt(d.e2e.drainMs, 0)} ms end to end, ${fmt(d.own.drainMs, 0)} ms straight, ${fmt(d.baseline.drainMs, 0)} ms
after the SQL baseline) and in the CPU table's validation rows. The SQL baseline runs the statement the edge
runs (\`concierto.redeem\` as the staff member, one round trip) from as many connections as there are HTTP clients.
The crypto baselines are one Deno loop (WebCrypto's Ed25519 is synchronous work under an async API); the edge
figures are ${CLIENTS} concurrent clients on ${cores} cores, so the ratios say how much the HTTP path, JWT checks,
the database and the QR code cost on top of the signature itself.

${header}
${row(d.e2e)}
${row(d.own)}
${row(d.baseline)}
${row(d.sign)}
${row(d.signOnly)}
${row(raw.sign)}
${row(d.verify)}
${row(raw.verify)}

| ratio | value |
|---|---:|
| validations/s end to end ÷ \`concierto.redeem\` in SQL | ${fmt(perSecond(d.e2e) / perSecond(d.baseline), 2)} |
| validations/s straight to the function (no gateway) ÷ \`concierto.redeem\` in SQL | ${fmt(perSecond(d.own) / perSecond(d.baseline), 2)} |
| the same, each counted until the processor had folded its scans (sustained: end to end / straight) | ${fmt(settledRate(d.e2e) / settledRate(d.baseline), 2)} / ${fmt(settledRate(d.own) / settledRate(d.baseline), 2)} |
| p50 latency end to end ÷ SQL | ${fmt(percentile(d.e2e.latenciesMs, 50) / percentile(d.baseline.latenciesMs, 50), 2)} |
| tokens/s from ticket-token ÷ raw Ed25519 signs/s | ${fmt(perSecond(d.sign) / perSecond(raw.sign), 3)} |
| tokens/s from ticket-token?qr=none ÷ with the QR code | ${fmt(perSecond(d.signOnly) / perSecond(d.sign), 2)} |
| forged tokens refused/s by ticket-validate ÷ raw Ed25519 verifies/s | ${fmt(perSecond(d.verify) / perSecond(raw.verify), 3)} |

CPU milliseconds per item, by process (all of them share the ${cores} cores; \`client\` is the bench itself):

${cpuHeader}
${d.cpu.map(([label, cpu]) => cpuRow(label, cpu)).join("\n")}

${d.retries} scans were answered \`503 retry\` and scanned again (each ticket is scanned by one client, so none expected).
A ticket-token answer averaged ${fmt(d.answerBytes.body)} bytes of JSON, of which the QR code's SVG ${fmt(d.answerBytes.svg)}.
`);
await sql.end();
