// The two hosts of the edge functions answer alike (issue 16, docs/workers.md): the same request sent to
// the Deno host (through the local gateway) and to the Worker (workerd) gets the same status, the same
// content type and the same body, byte for byte, wherever the answer is deterministic: refusals decided
// in Rust before any query, refusals the database decides (a SQLSTATE mapped to HTTP), an answer read
// from rows, and a rejected webhook that is logged through a query. Only x-request-id differs.
import { assertEquals } from "../lib/assert.ts";
import { buy, forge, newShow, tokenOf } from "../lib/concierto.ts";
import { db, forgedToken, functionsUrlOf, newUser, uuid } from "../lib/stack.ts";

const sql = db(4);
const HOSTS = ["deno", "workers"] as const;

interface Seen {
  status: number;
  contentType: string | null;
  allowOrigin: string | null;
  body: string;
}

/** Sends `init` to `fn` on each host in turn and returns what each answered. */
async function onBoth(fn: string, init: RequestInit, query = ""): Promise<Seen[]> {
  const seen: Seen[] = [];
  for (const host of HOSTS) {
    const res = await fetch(`${functionsUrlOf(host)}/${fn}${query}`, init);
    seen.push({
      status: res.status,
      contentType: res.headers.get("content-type"),
      allowOrigin: res.headers.get("access-control-allow-origin"),
      body: await res.text(),
    });
  }
  return seen;
}

async function sameOnBoth(fn: string, init: RequestInit, query = ""): Promise<Seen> {
  const [deno, workers] = await onBoth(fn, init, query);
  assertEquals(workers, deno, `${init.method ?? "GET"} ${fn}${query}`);
  return deno;
}

const json = (token: string | null, body: unknown, method = "POST"): RequestInit => ({
  method,
  headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  body: method === "GET" ? undefined : typeof body === "string" ? body : JSON.stringify(body),
});

Deno.test("passport-log: refusals and validation errors are the same bytes from both hosts", async () => {
  const user = await newUser(sql);
  const play = { kind: "audio.play", client_event_id: uuid(), artist_id: uuid(), payload: { track_id: uuid(), duration_ms: 1 } };
  const answers = [
    await sameOnBoth("passport-log", json(null, play)),
    await sameOnBoth("passport-log", json(await forgedToken(user.id), play)),
    await sameOnBoth("passport-log", json(user.token, null, "GET")),
    await sameOnBoth("passport-log", { ...json(user.token, play), headers: { "content-type": "text/plain", authorization: `Bearer ${user.token}` } }),
    await sameOnBoth("passport-log", json(user.token, "{\"kind\": ")),
    await sameOnBoth("passport-log", json(user.token, { events: [] })),
    await sameOnBoth("passport-log", { method: "OPTIONS" }),
  ];
  assertEquals(answers.map((a) => a.status), [401, 401, 405, 415, 400, 400, 204]);
});

Deno.test("passport-log: an event stored through one host is the same duplicate, same id, from both", async () => {
  const user = await newUser(sql);
  const event = { kind: "audio.play", client_event_id: uuid(), artist_id: uuid(), payload: { track_id: uuid(), duration_ms: 1 } };
  const [first] = await onBoth("passport-log", json(user.token, event));
  assertEquals(first.status, 200);
  const again = await sameOnBoth("passport-log", json(user.token, event));
  const [stored, retried] = [JSON.parse(first.body).results[0], JSON.parse(again.body).results[0]];
  assertEquals([retried.status, retried.id], ["duplicate", stored.id]);
});

Deno.test("ticket-validate and ticket-token: Rust's refusals and the database's are the same from both hosts", async () => {
  const show = await newShow(sql);
  const buyer = await newUser(sql);
  const stranger = await newUser(sql);
  const { tickets: [ticket] } = await buy(sql, buyer.id, show.tier, 1);
  const token = await tokenOf(buyer, ticket);
  const scan = (by: string, t: string) => json(by, { token: t, event_id: show.event, gate: "north" });
  const forged = await sameOnBoth("ticket-validate", scan(show.staff.token, forge(token)));
  const notStaff = await sameOnBoth("ticket-validate", scan(stranger.token, token));
  const notOwner = await sameOnBoth("ticket-token", json(stranger.token, null, "GET"), `?ticket=${ticket}&qr=none`);
  const keys = await sameOnBoth("ticket-keys", { method: "GET" });
  assertEquals([forged.status, notStaff.status, notOwner.status, keys.status], [422, 403, 403, 200]);
  // Admitted through one host; the second scan is answered from the row (its time and gate) by both.
  const [admitted] = await onBoth("ticket-validate", scan(show.staff.token, token));
  assertEquals(JSON.parse(admitted.body).status, "admitted");
  const again = await sameOnBoth("ticket-validate", scan(show.staff.token, token));
  assertEquals(JSON.parse(again.body).status, "already_admitted");
});

Deno.test("stripe-webhook: a bad signature is refused alike, and logged through each host's query", async () => {
  const body = JSON.stringify({ id: `evt_${uuid()}`, object: "event", type: "checkout.session.completed" });
  const t = Math.floor(Date.now() / 1000);
  const init = { method: "POST", headers: { "content-type": "application/json", "stripe-signature": `t=${t},v1=${"0".repeat(64)}` }, body };
  const refused = await sameOnBoth("stripe-webhook", init);
  assertEquals([refused.status, JSON.parse(refused.body).code], [400, "signature_mismatch"]);
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
