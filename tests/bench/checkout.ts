// ./stack bench checkout — Checkout Sessions created per second, in one run:
// 1. end to end: POST /functions/v1/checkout as signed-in fans (gateway, Deno, WASM: the token verified, the body
//    checked, treasury.begin_checkout as the fan through the pooler, the Checkout Session created at the local Stripe
//    stand-in with its idempotency key, treasury.checkout_opened), against the baseline of
// 2. the bare SQL work: the same two statements as the fan (set_config role and claims, begin_checkout; then
//    checkout_opened with a session shaped as Stripe answers), each in its own transaction, over plain connections;
// 3. and, to show what the stand-in itself costs, sessions created with Stripe's own library against it.
// The item is a tip (priced from the fan's amount within the currency's bounds, nothing held), so every request is a
// new checkout of the same work.
import Stripe from "stripe";
import { asRole, db, env, newUser, type Sql, type User } from "../lib/stack.ts";
import { closedLoop, fmt, percentile, perSecond, type Run, writeSection } from "../lib/bench.ts";
import { newProduct } from "../lib/stripe.ts";
import { checkout } from "../lib/app.ts";

const CLIENTS = Number(Deno.env.get("BENCH_CLIENTS") ?? 8);
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const FANS = 64;

const sql = db(CLIENTS + 2);

async function setUp(pool: Sql): Promise<{ artist: string; fans: User[] }> {
  const product = await newProduct(pool, { type: "tip", title: "Tips" });
  await asRole(pool, "service_role", null, (tx) => tx`update treasury.products set price_minor = null where id = ${product.id}`);
  const fans: User[] = [];
  for (let i = 0; i < FANS; i++) fans.push(await newUser(pool));
  return { artist: product.artist, fans };
}

const tip = (artist: string, i: number) => ({ kind: "tip", artist_id: artist, amount_minor: 500 + (i % 50) * 10, currency: "EUR" });

async function endToEnd(artist: string, fans: User[], clients: number): Promise<Run> {
  return await closedLoop(`checkout, ${clients} clients`, clients, SECONDS, async (client, i) => {
    const fan = fans[(client * 17 + i) % fans.length];
    const session = await checkout(fan, [tip(artist, i)]);
    if (!session.id?.startsWith("cs_")) throw new Error(`checkout answered ${JSON.stringify(session)}`);
    return 1;
  });
}

/** The function's two statements as the fan, each in its own transaction, as the host runs them. */
async function bareSql(artist: string, fans: User[], clients: number): Promise<Run> {
  return await closedLoop(`SQL, ${clients} clients`, clients, SECONDS, async (client, i) => {
    const fan = fans[(client * 17 + i) % fans.length];
    const [{ checkout: begun }] = await asRole(sql, "authenticated", fan.id, (tx) =>
      tx`select treasury.begin_checkout(${sql.json([tip(artist, i)])}::jsonb, null) as checkout`);
    const id = `cs_test_bench${crypto.randomUUID().replaceAll("-", "")}`;
    const session = {
      id,
      object: "checkout.session",
      url: `https://checkout.stripe.com/c/pay/${id}`,
      expires_at: begun.session_params.expires_at,
      status: "open",
    };
    const [{ checkout: opened }] = await asRole(sql, "authenticated", fan.id, (tx) =>
      tx`select treasury.checkout_opened(${begun.checkout_id}::uuid, ${sql.json(session)}::jsonb) as checkout`);
    if (opened.status !== "open") throw new Error(`checkout_opened answered ${JSON.stringify(opened)}`);
    return 1;
  });
}

/** Sessions created with Stripe's library straight at the stand-in: what the stand-in alone costs. */
async function standInAlone(clients: number): Promise<Run> {
  const base = new URL(env("STRIPE_API_BASE"));
  const stripe = new Stripe(env("STRIPE_SECRET_KEY"), {
    host: base.hostname,
    port: Number(base.port),
    protocol: base.protocol.replace(":", "") as "http" | "https",
    maxNetworkRetries: 0,
  });
  return await closedLoop(`stand-in, ${clients} clients`, clients, SECONDS, async (client, i) => {
    await stripe.checkout.sessions.create({
      mode: "payment",
      line_items: [{ quantity: 1, price_data: { currency: "eur", unit_amount: 500, product_data: { name: "Tip" } } }],
      metadata: { n: `${client}:${i}` },
      success_url: "http://localhost:3000/ok",
      cancel_url: "http://localhost:3000/cancel",
    }, { idempotencyKey: `bench_${crypto.randomUUID()}` });
    return 1;
  });
}

const { artist, fans } = await setUp(sql);
const rows: string[] = [];
const summary: string[] = [];
for (const clients of [1, CLIENTS]) {
  const base = await bareSql(artist, fans, clients);
  const http = await endToEnd(artist, fans, clients);
  const alone = await standInAlone(clients);
  const row = (path: string, r: Run, ratio: string) =>
    `| ${clients} | ${path} | ${fmt(perSecond(r))} | ${fmt(percentile(r.latenciesMs, 50), 2)} | ${fmt(percentile(r.latenciesMs, 99), 2)} | ${ratio} |`;
  rows.push(
    row("bare SQL: begin_checkout + checkout_opened as the fan (baseline)", base, "1.00"),
    row("POST /functions/v1/checkout, end to end", http, fmt(perSecond(http) / perSecond(base), 2)),
    row("the Stripe stand-in alone (Stripe's library)", alone, fmt(perSecond(alone) / perSecond(base), 2)),
  );
  summary.push(`${clients} client${clients > 1 ? "s" : ""}: ${fmt((100 * perSecond(http)) / perSecond(base), 0)}% of the bare SQL rate`);
  console.log(`${clients} clients: SQL ${fmt(perSecond(base))}/s, checkout ${fmt(perSecond(http))}/s, stand-in ${fmt(perSecond(alone))}/s`);
}
await sql.end();

const body = `Checkout Sessions created per second: \`POST /functions/v1/checkout\` with one tip (priced by the database
within the currency's bounds), as ${FANS} signed-in fans (ES256 tokens), closed loop, ${SECONDS} s per row after 1 s of
warm-up. End to end is the whole production path: gateway, Deno, WASM (token, body), \`treasury.begin_checkout\` as the fan
through PgBouncer, \`POST /v1/checkout/sessions\` at the local Stripe stand-in (form-encoded by Rust, idempotency key,
pinned version), \`treasury.checkout_opened\`. The baseline runs the same two statements as the fan over plain
connections, each in its own transaction, with a session shaped as Stripe answers; the stand-in row is Stripe's own
library creating sessions at the stand-in, to show what the stand-in alone costs (Stripe's real API answers in
hundreds of milliseconds, which no local run measures).

| clients | path | sessions/s | p50 ms | p99 ms | ÷ bare SQL (same clients) |
|---:|---|---:|---:|---:|---:|
${rows.join("\n")}

- end to end: ${summary.join("; ")}.`;
await writeSection("checkout", "Treasury: Checkout Sessions (`./stack bench checkout`)", body);
console.log(body);
