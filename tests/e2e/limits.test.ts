// passport-log's limits over HTTP (docs/passport-api.md#limits): per-user request and event buckets,
// per-address buckets for anonymous callers, 429 with Retry-After and the JSON error, nothing stored
// when refused; one limit across the function's instances; the cap on recorded rejections; the
// lower bounds of occurred_at. The limits are the deployed defaults (passport.limits), read here.
//
// A bucket refills while a test runs, so where a count depends on it the test allows exactly what
// the refill rate gave over the time it measured: a bound that a slow machine only widens.
import { assert, assertEquals, assertMatch } from "../lib/assert.ts";
import { callFunction, db, env, newUser, serviceToken, SUPABASE_URL, uuid } from "../lib/stack.ts";

const sql = db();
const ARTIST = uuid();
const [limits] = await sql`select * from passport.limits`;

const follow = (extra: Record<string, unknown> = {}) => ({
  kind: "social.follow",
  client_event_id: uuid(),
  artist_id: ARTIST,
  ...extra,
});

/** What `per_minute` refills over the time since `startedMs`, rounded up. */
function refilledSince(startedMs: number, perMinute: number): number {
  return Math.ceil(((performance.now() - startedMs) / 60_000) * perMinute);
}

/** The entries the user's calls stored (not the badges the platform logs for them as the processor awards them). */
async function storedCount(userId: string): Promise<number> {
  const [{ n }] = await sql`select count(*)::int as n from public.passport_entries
                            where user_id = ${userId} and kind <> 'badge.earned'`;
  return n;
}

/** POSTs to a URL with the given headers; the answer parsed. */
async function post(url: string, body: unknown, headers: Record<string, string>) {
  const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Left as text for the assertion to show.
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

/** passport-log's instances, each called directly on its own port (the gateway lists them). */
async function instanceUrls(): Promise<string[]> {
  const health = await (await fetch(`${SUPABASE_URL}/_stack/health`)).json();
  const ports: number[] = health.instances["passport-log"];
  assert(ports.length >= 2, `the gateway runs passport-log as ${ports.length} instance(s); the test needs two`);
  return ports.slice(0, 2).map((port) => `http://127.0.0.1:${port}/passport-log`);
}

function assertRateLimited(res: { status: number; body: any; headers: Headers }, limit: RegExp) {
  assertEquals(res.status, 429, JSON.stringify(res.body));
  assertEquals(res.body.code, "rate_limited");
  assertMatch(res.body.message, limit);
  const wait = Number(res.headers.get("retry-after"));
  assert(Number.isInteger(wait) && wait >= 1, `Retry-After: ${res.headers.get("retry-after")}`);
  assertMatch(res.body.message, new RegExp(`retry in ${wait} s`));
}

Deno.test("a user's requests beyond the burst get 429 with Retry-After and the JSON error, and store nothing", async () => {
  const user = await newUser(sql);
  const started = performance.now();
  let accepted = 0;
  let refused: Awaited<ReturnType<typeof callFunction>> | null = null;
  let refusedId = "";
  while (!refused && accepted < 2 * limits.user_requests_burst) {
    const event = follow();
    const res = await callFunction("passport-log", event, { token: user.token });
    if (res.status === 429) {
      refused = res;
      refusedId = event.client_event_id;
    } else {
      assertEquals(res.status, 200, JSON.stringify(res.body));
      accepted++;
    }
  }
  assert(refused, `${accepted} requests in a row were all accepted`);
  assertRateLimited(refused, /a user may send \d+ requests at once and \d+ a minute/);
  assert(accepted >= limits.user_requests_burst, `only ${accepted} of the burst of ${limits.user_requests_burst} went through`);
  assert(accepted <= limits.user_requests_burst + refilledSince(started, limits.user_requests_per_minute), `${accepted} went through`);
  assertEquals(await storedCount(user.id), accepted);
  const [{ n }] = await sql`select count(*)::int as n from public.passport_entries where client_event_id = ${refusedId}`;
  assertEquals(n, 0, "the refused request's event was not stored");
});

Deno.test("a user's events beyond the event burst get 429 naming the event limit", async () => {
  const user = await newUser(sql);
  const started = performance.now();
  let accepted = 0;
  let refused = null;
  while (!refused && accepted <= 2 * limits.user_events_burst) {
    const res = await callFunction("passport-log", { events: Array.from({ length: 500 }, () => follow()) }, { token: user.token });
    if (res.status === 429) refused = res;
    else {
      assertEquals(res.status, 200, JSON.stringify(res.body).slice(0, 300));
      accepted += 500;
    }
  }
  assert(refused, `${accepted} events were all accepted`);
  assertRateLimited(refused, /a user may send \d+ events at once and \d+ a minute/);
  assert(accepted >= limits.user_events_burst - 499, `only ${accepted} events of the burst of ${limits.user_events_burst} went through`);
  assert(accepted <= limits.user_events_burst + refilledSince(started, limits.user_events_per_minute), `${accepted} went through`);
  assertEquals(await storedCount(user.id), accepted);
});

Deno.test("one limit holds across two function instances called concurrently", async () => {
  const urls = await instanceUrls();
  const user = await newUser(sql);
  const total = 3 * limits.user_requests_burst;
  const started = performance.now();
  // Half to each instance, all at once: instances that each kept their own count would let
  // through twice the burst.
  const responses = await Promise.all(
    Array.from({ length: total }, (_, i) => post(urls[i % 2], follow(), { authorization: `Bearer ${user.token}` })),
  );
  const allowance = refilledSince(started, limits.user_requests_per_minute);
  const statuses = responses.map((r) => r.status);
  assert(statuses.every((s) => s === 200 || s === 429), `statuses: ${[...new Set(statuses)].join(", ")}`);
  const accepted = statuses.filter((s) => s === 200).length;
  assert(accepted >= limits.user_requests_burst, `only ${accepted} of the burst of ${limits.user_requests_burst} went through`);
  assert(
    accepted <= limits.user_requests_burst + allowance,
    `${accepted} requests went through, above the one limit of ${limits.user_requests_burst} (+${allowance} refilled)`,
  );
  for (const url of urls) {
    const mine = responses.filter((_, i) => urls[i % 2] === url);
    assert(mine.some((r) => r.status === 429), `${url} refused nothing`);
  }
  assertRateLimited(responses.find((r) => r.status === 429)!, /a user may send \d+ requests/);
  assertEquals(await storedCount(user.id), accepted, "what was stored is exactly what was accepted");
});

Deno.test("anonymous callers are limited per client address, across instances, then told to sign in", async () => {
  const urls = await instanceUrls();
  const address = `2001:db8::${Math.floor(Math.random() * 0xffff).toString(16)}:${Math.floor(Math.random() * 0xffff).toString(16)}`;
  const total = limits.address_requests_burst + 20;
  const started = performance.now();
  const responses = await Promise.all(
    Array.from({ length: total }, (_, i) =>
      post(urls[i % 2], follow(), { authorization: `Bearer ${env("SUPABASE_ANON_KEY")}`, "x-forwarded-for": address })),
  );
  const allowance = refilledSince(started, limits.address_requests_per_minute);
  const told = responses.filter((r) => r.status === 401);
  const limited = responses.filter((r) => r.status === 429);
  assertEquals(told.length + limited.length, total, JSON.stringify(responses.map((r) => r.status)));
  assert(told.every((r) => r.body.code === "sign_in_required"));
  assert(told.length >= limits.address_requests_burst, `only ${told.length} anonymous requests were answered 401`);
  assert(told.length <= limits.address_requests_burst + allowance, `${told.length} anonymous requests passed the address limit`);
  assertRateLimited(limited[0], /one address may send \d+ anonymous requests/);
  // Through the gateway, from another address: still its own bucket.
  const elsewhere = await post(`${SUPABASE_URL}/functions/v1/passport-log`, follow(), {
    authorization: `Bearer ${env("SUPABASE_ANON_KEY")}`,
    "x-forwarded-for": "2001:db8::1:" + Math.floor(Math.random() * 0xffff).toString(16),
  });
  assertEquals(elsewhere.status, 401, JSON.stringify(elsewhere.body));
});

Deno.test("the service role is not limited", async () => {
  const user = await newUser(sql);
  const batches = Math.ceil(limits.user_events_burst / 500) + 1;
  for (let i = 0; i < batches; i++) {
    const events = Array.from({ length: 500 }, () => follow({ user_id: user.id }));
    const res = await callFunction("passport-log", { events }, { token: serviceToken() });
    assertEquals(res.status, 200, JSON.stringify(res.body).slice(0, 300));
  }
  assertEquals(await storedCount(user.id), batches * 500);
});

Deno.test("a flood of bad events keeps a bounded record: the first rows of the minute, the rest counted", async () => {
  const user = await newUser(sql);
  const bad = Array.from({ length: 200 }, (_, i) => ({ kind: "audio.plya", client_event_id: `bad-${i}` }));
  const res = await callFunction("passport-log", { events: bad }, { token: user.token });
  assertEquals(res.status, 200, JSON.stringify(res.body).slice(0, 300));
  assert(res.body.results.every((r: any) => r.status === "rejected" && r.code === "unknown_kind"), "every event is answered");
  const rows = await sql`select client_event_id from passport.rejections where user_id = ${user.id} order by id`;
  const kept = Math.min(200, limits.rejections_kept_per_minute);
  assertEquals(rows.map((r) => r.client_event_id), Array.from({ length: kept }, (_, i) => `bad-${i}`));
  const tallies = await sql`select rejected::int, kept, codes from passport.rejection_tallies where user_id = ${user.id}`;
  assertEquals(tallies.length, 1);
  assertEquals(tallies[0].rejected, 200);
  assertEquals(tallies[0].kept, kept);
  assertEquals(tallies[0].codes, { unknown_kind: 200 });
});

Deno.test("occurred_at has a floor: before the platform, and long before the client sent it", async () => {
  const user = await newUser(sql);
  const day = 86_400_000;
  const now = Date.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  const longAgo = iso(now - (limits.app_backdate_days + 10) * day);
  const res = await callFunction("passport-log", {
    events: [
      follow({ occurred_at: "1970-01-01T00:00:00Z" }),
      follow({ occurred_at: "0001-01-01T00:00:00Z" }),
      follow({ occurred_at: longAgo, sent_at: iso(now) }),
      follow({ occurred_at: longAgo }),
      // A phone whose clock is that far behind: the interval it measured is what counts.
      follow({ occurred_at: longAgo, sent_at: iso(now - (limits.app_backdate_days + 10) * day + 60_000) }),
      follow({ occurred_at: iso(now - (limits.app_backdate_days - 2) * day) }),
    ],
  }, { token: user.token });
  assertEquals(res.status, 200, JSON.stringify(res.body));
  const r = res.body.results;
  const floor = `occurred_at is before ${new Date(limits.platform_start).toISOString().replace(".000Z", "Z")}, when the platform started`;
  assertEquals(r[0], { status: "rejected", code: "occurred_before_platform", message: floor });
  assertEquals(r[1], { status: "rejected", code: "occurred_before_platform", message: floor });
  const tooOld = `occurred_at is more than ${limits.app_backdate_days} days before the event was sent`;
  assertEquals(r[2], { status: "rejected", code: "occurred_too_long_ago", message: tooOld });
  assertEquals(r[3], { status: "rejected", code: "occurred_too_long_ago", message: tooOld });
  assertEquals(r[4].status, "accepted");
  assertEquals(r[5].status, "accepted");
  assertEquals(await storedCount(user.id), 2);

  // A backfill by the service role keeps only the platform's floor.
  const backfill = await callFunction("passport-log", {
    events: [follow({ user_id: user.id, occurred_at: longAgo }), follow({ user_id: user.id, occurred_at: "2023-06-01T00:00:00Z" })],
  }, { token: serviceToken() });
  assertEquals(backfill.status, 200, JSON.stringify(backfill.body));
  assertEquals(backfill.body.results[0].status, "accepted");
  assertEquals(backfill.body.results[1].code, "occurred_before_platform");
});
