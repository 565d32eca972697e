// Concierto as the app and the door see it, for the end-to-end tests, the demo
// and the benchmark: events and tiers created as the platform and the host do,
// seats reserved through the RPC as the buyer, paid through a signed
// `checkout.session.completed` carrying the reservation's metadata, tokens from
// GET /functions/v1/ticket-token and scans through POST /functions/v1/ticket-validate.
// Also a token minter with the local signing key (WebCrypto Ed25519), for the
// cases a live server never signs (expired tokens).
import { asRole, env, FUNCTIONS_URL, type Sql, type User, userToken, uuid } from "./stack.ts";
import { chargeRefunded, checkoutSessionCompleted, deliver, nowSeconds, type Sale, stripeId } from "./stripe.ts";

export interface Show {
  event: string;
  tier: string;
  host: User;
  staff: User;
  artists: string[];
  city: string;
  country: string;
  price: number;
}

/** Users straight into auth.users (fast, in one statement), each with an access token. */
export async function newUsers(sql: Sql, n: number, label = "user"): Promise<User[]> {
  const ids = Array.from({ length: n }, uuid);
  if (n === 0) return [];
  await sql`insert into auth.users ${sql(ids.map((id) => ({ id, email: `${label}.${id.slice(0, 8)}@test.buckets.local` })), "id", "email")}`;
  return await Promise.all(ids.map(async (id) => ({ id, token: await userToken(id) })));
}

/**
 * An event (by the platform, as service_role) with a lineup of `artists` fresh
 * artists, one tier (by the host, through the RPC as the host) and one staff
 * member added by the host. By default the show is on now: its doors opened
 * 30 minutes ago and it starts in an hour, so its tickets are on sale and can
 * be scanned at once (the door admits scans only in its window,
 * docs/concierto-tokens.md). `startsAt` moves it; doors open 90 minutes before
 * the start unless `doorsAt` says otherwise.
 */
export async function newShow(
  sql: Sql,
  opts: {
    artists?: number;
    city?: string;
    country?: string;
    capacity?: number;
    price?: number;
    title?: string;
    startsAt?: Date;
    doorsAt?: Date;
  } = {},
): Promise<Show> {
  const [host, staff, ...artistUsers] = await newUsers(sql, 2 + (opts.artists ?? 2), "concierto");
  const artists = artistUsers.map((a) => a.id);
  const city = opts.city ?? "Lagos";
  const country = opts.country ?? "NG";
  const price = opts.price ?? 2500;
  const starts = opts.startsAt ?? new Date(Date.now() + 60 * 60_000);
  const doors = opts.doorsAt ?? new Date(starts.getTime() - 90 * 60_000);
  const event = await asRole(sql, "service_role", null, async (tx) => {
    const [{ id }] = await tx`
      select concierto.create_event(
        host_id => ${host.id}::uuid, title => ${opts.title ?? "Night at the Shrine"}, venue => 'The Shrine',
        city => ${city}, country => ${country}, starts_at => ${starts.toISOString()}::timestamptz,
        doors_at => ${doors.toISOString()}::timestamptz, currency => 'EUR',
        split_host_bp => 2000, split_artists_bp => 7000, split_platform_bp => 1000,
        artist_ids => ${artists}::uuid[]) as id`;
    return id as string;
  });
  const tier = await asRole(sql, "authenticated", host.id, async (tx) => {
    const [{ id }] = await tx`
      select concierto.create_tier(event_id => ${event}::uuid, name => 'General', price_minor => ${price}::bigint,
                                   capacity => ${opts.capacity ?? 500}) as id`;
    await tx`select concierto.add_staff(${staff.id}::uuid)`;
    return id as string;
  });
  return { event, tier, host, staff, artists, city, country, price };
}

export interface Reservation {
  order_id: string;
  expires_at: string;
  product_id: string;
  amount_minor: number;
  currency: string;
  metadata: Record<string, string>;
}

/** concierto.reserve as the buyer, the way the app calls it through PostgREST. */
export async function reserve(sql: Sql, buyer: string, tier: string, quantity = 1): Promise<Reservation> {
  return await asRole(sql, "authenticated", buyer, async (tx) => {
    const [{ r }] = await tx`select concierto.reserve(${tier}::uuid, ${quantity}::int) as r`;
    return r as Reservation;
  });
}

/** The Stripe sale of a reservation: the Checkout Session carries exactly its metadata. */
export function saleOf(r: Reservation): Sale {
  return {
    paymentIntent: stripeId("pi"),
    charge: stripeId("ch"),
    session: stripeId("cs_test"),
    customer: stripeId("cus"),
    amount: Number(r.amount_minor),
    currency: r.currency.toLowerCase(),
    metadata: r.metadata,
    created: nowSeconds(),
    refunds: [],
  };
}

export interface Purchase {
  order: string;
  sale: Sale;
  tickets: string[]; // in seat order
}

/** Reserves, pays through the signed webhook, and reads the tickets issued (as the service role would). */
export async function buy(sql: Sql, buyer: string, tier: string, quantity = 1): Promise<Purchase> {
  const r = await reserve(sql, buyer, tier, quantity);
  const sale = saleOf(r);
  const res = await deliver(checkoutSessionCompleted(sale));
  if (res.status !== 200 || res.body?.status !== "applied") {
    throw new Error(`the payment of order ${r.order_id} was not applied: ${res.status} ${JSON.stringify(res.body)}`);
  }
  const rows = await sql`select id from public.event_tickets where order_id = ${r.order_id} order by seat`;
  return { order: r.order_id, sale, tickets: rows.map((t) => t.id as string) };
}

/** A signed refund of `amount` (cumulative as Stripe reports it) of a purchase. */
export const refund = (p: Purchase, amount: number) => deliver(chargeRefunded(p.sale, amount));

// ---------------------------------------------------------------------------
// HTTP

export interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  ms: number;
}

async function answer(res: Response, t0: number): Promise<Answer> {
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // Left as text: the assertion that reads it will say what came back.
  }
  return { status: res.status, body, ms: performance.now() - t0 };
}

/** GET /functions/v1/ticket-token?ticket=… with a user's access token. */
export async function ticketToken(token: string, ticket: string, qr: "svg" | "none" = "svg"): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(`${FUNCTIONS_URL}/ticket-token?ticket=${encodeURIComponent(ticket)}${qr === "none" ? "&qr=none" : ""}`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return await answer(res, t0);
}

/** The token of a ticket its owner shows at the door (throws unless 200). */
export async function tokenOf(owner: User, ticket: string): Promise<string> {
  const res = await ticketToken(owner.token, ticket);
  if (res.status !== 200) throw new Error(`ticket-token ${ticket}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.token;
}

/** POST /functions/v1/ticket-validate with a staff member's access token (or to `url`: one instance). */
export async function validate(token: string, body: unknown, url = `${FUNCTIONS_URL}/ticket-validate`): Promise<Answer> {
  const t0 = performance.now();
  const res = await fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return await answer(res, t0);
}

/** One scan now; a 503 `retry` (two scans of one ticket met) is scanned again, as a scanner does. */
export async function scan(staffToken: string, ticketToken: string, event: string, gate: string): Promise<Answer> {
  for (let attempt = 0;; attempt++) {
    const res = await validate(staffToken, { token: ticketToken, event_id: event, gate });
    if (res.status !== 503 || res.body?.code !== "retry" || attempt >= 5) return res;
  }
}

// ---------------------------------------------------------------------------
// Tokens, as docs/concierto-tokens.md defines them

export function b64u(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromB64u(s: string): Uint8Array<ArrayBuffer> {
  const padded = s.replace(/-/g, "+").replace(/_/g, "/") + "==".slice(0, (4 - (s.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

function uuidBytes(id: string): Uint8Array {
  const hex = id.replace(/-/g, "");
  return Uint8Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(2 * i, 2 * i + 2), 16));
}

function bytesUuid(b: Uint8Array): string {
  const hex = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface Claims {
  ticket: string;
  version: number;
  expires: number; // Unix seconds
  kid: number;
}

export function claimsOf(token: string): Claims {
  const payload = fromB64u(token.split(".")[1]);
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  return { ticket: bytesUuid(payload.slice(0, 16)), version: view.getUint32(16), expires: view.getUint32(20), kid: payload[24] };
}

/** The local signing key (TICKET_SIGNING_KEY, a 32-byte seed) as a WebCrypto Ed25519 private key. */
export async function localSigningKey(): Promise<CryptoKey> {
  return await crypto.subtle.importKey(
    "jwk",
    { kty: "OKP", crv: "Ed25519", d: env("TICKET_SIGNING_KEY"), x: env("TICKET_PUBLIC_KEY") },
    { name: "Ed25519" },
    false,
    ["sign"],
  );
}

export async function publicKey(raw: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", fromB64u(raw), { name: "Ed25519" }, false, ["verify"]);
}

/** Signs a token as the edge does (`BKT1.<payload>.<signature>`). */
export async function mintToken(key: CryptoKey, c: Claims): Promise<string> {
  const payload = new Uint8Array(25);
  payload.set(uuidBytes(c.ticket), 0);
  const view = new DataView(payload.buffer);
  view.setUint32(16, c.version);
  view.setUint32(20, c.expires);
  payload[24] = c.kid;
  const signed = `BKT1.${b64u(payload)}`;
  const signature = new Uint8Array(await crypto.subtle.sign("Ed25519", key, new TextEncoder().encode(signed)));
  return `${signed}.${b64u(signature)}`;
}

/** Verifies a token's signature with a public key, as an offline scanner does. */
export async function verifyToken(key: CryptoKey, token: string): Promise<boolean> {
  const dot = token.lastIndexOf(".");
  if (token.length !== 126 || !token.startsWith("BKT1.")) return false;
  return await crypto.subtle.verify("Ed25519", key, fromB64u(token.slice(dot + 1)), new TextEncoder().encode(token.slice(0, dot)));
}

/** The token with one character of its signature changed (still canonical base64url). */
export function forge(token: string): string {
  const i = token.length - 10;
  const c = token[i];
  return token.slice(0, i) + (c === "A" ? "B" : "A") + token.slice(i + 1);
}
