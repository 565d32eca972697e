// The functions' own path to the database (supabase/functions/_shared/db.ts and pg.ts), through the
// local transaction pooler: a statement for a user runs as that user, so grants and row level security
// apply to it exactly as they do to the app's RPCs. Before, the functions wrapped statements in a
// CTE that switched the role inside the statement, after Postgres had checked its privileges. The
// switch and the statement are one pipeline, one implicit transaction, one round trip; shared
// statements of concurrent requests may share a transaction, each still run as its own caller.
import { assert, assertEquals } from "../lib/assert.ts";
import { connect, runAs, SharedTransactions } from "../../supabase/functions/_shared/db.ts";
import { callFunction, db, env, newUser, uuid } from "../lib/stack.ts";

const sql = db();
const pooled = connect();

const asUser = (id: string) => ({ role: "authenticated" as const, claims: { sub: id, role: "authenticated", aud: "authenticated" } });

async function logPlays(token: string, n: number) {
  const events = Array.from({ length: n }, () => ({
    kind: "audio.play",
    client_event_id: uuid(),
    artist_id: uuid(),
    payload: { track_id: uuid(), duration_ms: 30_000 },
  }));
  const res = await callFunction("passport-log", { events }, { token });
  assertEquals(res.status, 200, JSON.stringify(res.body));
}

Deno.test("the functions connect through the transaction pooler", () => {
  const url = new URL(env("BUCKETS_DB_URL"));
  // PgBouncer's port (54329, moved by the stack's STACK_PORT_OFFSET), not the cluster's.
  assertEquals(url.port, String(54329 + Number(env("STACK_PORT_OFFSET"))));
});

Deno.test("a user's statement sees only the user's rows", async () => {
  const [alice, bob] = [await newUser(sql), await newUser(sql)];
  await logPlays(alice.token, 3);
  await logPlays(bob.token, 2);
  const read = "select user_id::text, count(*)::int as n from public.passport_entries group by user_id";
  const rows = await runAs(pooled, { sql: read, params: [], ...asUser(alice.id) }) as { user_id: string; n: number }[];
  assertEquals([...rows], [{ user_id: alice.id, n: 3 }]);
  const asService = await runAs(pooled, {
    // Arrays and objects are bound as JSON text.
    sql: "select count(*)::int as n from public.passport_entries where user_id::text in (select jsonb_array_elements_text($1::jsonb))",
    params: [[alice.id, bob.id]],
    role: "service_role",
    claims: { role: "service_role" },
  }) as { n: number }[];
  assertEquals(asService[0].n, 5);
});

Deno.test("a function revoked from authenticated is refused for a user", async () => {
  const user = await newUser(sql);
  let refused: { code?: string } | undefined;
  try {
    await runAs(pooled, { sql: "select coliseum.set_plan($1::uuid, 'enterprise')", params: [user.id], ...asUser(user.id) });
  } catch (e) {
    refused = e as { code?: string };
  }
  assertEquals(refused?.code, "42501");
  const plans = await sql`select plan from coliseum.user_plans where user_id = ${user.id}`;
  assertEquals(plans.length, 0);
});

Deno.test("the role and claims end with their transaction", async () => {
  const user = await newUser(sql);
  await runAs(pooled, { sql: "select 1", params: [], ...asUser(user.id) });
  // Every connection of the instance's pool, at once, without a switch of its own.
  const reads = await Promise.all(Array.from({ length: 8 }, () =>
    pooled.pipeline([{ sql: "select current_user as who, current_setting('request.jwt.claims', true) as claims", params: [], rows: true }])
  ));
  for (const [[after]] of reads) {
    assertEquals(after.who, "postgres");
    assert(!after.claims, `claims leaked into the next transaction: ${after.claims}`);
  }
});

Deno.test("parameters stay bound: quotes and SQL in a value are data", async () => {
  const hostile = "x'); drop table public.passport_entries; --";
  const [row] = await runAs(pooled, {
    sql: "select $1::text as t, $2::jsonb as j, $3::int as i, $4::boolean as b, $5::text as n",
    params: [hostile, { note: hostile }, 42, true, null],
    role: "anon",
    claims: { role: "anon" },
  }) as Record<string, unknown>[];
  assertEquals(row, { t: hostile, j: { note: hostile }, i: 42, b: true, n: null });
});

Deno.test("a failed statement rolls back its transaction and the connection goes on", async () => {
  const user = await newUser(sql);
  const clientEventId = uuid();
  const write = "insert into public.passport_entries (user_id, kind, client_event_id, source, occurred_at, payload) " +
    "values ($1::uuid, 'social.follow', $2, 'app', now(), '{}')";
  let failed: { code?: string } | undefined;
  try {
    await pooled.pipeline([{ sql: write, params: [user.id, clientEventId] }, { sql: "select 1/0", params: [] }]);
  } catch (e) {
    failed = e as { code?: string };
  }
  assertEquals(failed?.code, "22012");
  const kept = await sql`select count(*)::int as n from public.passport_entries where client_event_id = ${clientEventId}`;
  assertEquals(kept[0].n, 0);
  const again = await Promise.all(Array.from({ length: 8 }, () => runAs(pooled, { sql: "select 1 as one", params: [], ...asUser(user.id) })));
  assertEquals(again.map((rows) => rows[0]), Array(8).fill({ one: 1 }));
});

Deno.test("shared statements of concurrent requests commit together, each as its own caller, in lock-key order", async () => {
  const users = await Promise.all(Array.from({ length: 6 }, () => newUser(sql)));
  const oneAtATime = new SharedTransactions(pooled, 1);
  // Each statement appends its lock key to a setting local to its transaction and reads it back: the keys of
  // the statements that ran before it in the same transaction, then its own.
  const whoAmI = (id: string, key: string, extra = "") =>
    oneAtATime.run({
      sql: `select auth.uid()::text as uid, current_user as who, txid_current()::text as tx,
                   set_config('buckets_test.keys', coalesce(current_setting('buckets_test.keys', true), '') || $1 || ' ', true)
                     as keys${extra}`,
      params: [key],
      ...asUser(id),
      shared: key,
    }) as Promise<{ uid: string; who: string; tx: string; keys: string }[]>;
  // Submitted in descending key order.
  const answers = await Promise.all(users.map((u, i) => whoAmI(u.id, `k${9 - i}`)));
  answers.forEach(([row], i) => assertEquals([row.uid, row.who], [users[i].id, "authenticated"]));
  // The first ran alone; the others waited for it and shared one transaction, run in ascending key order.
  assertEquals(new Set(answers.slice(1).map(([row]) => row.tx)).size, 1);
  assert(answers[0][0].tx !== answers[1][0].tx);
  assertEquals(answers[0][0].keys, "k9 ");
  assertEquals(answers.slice(1).map(([row]) => row.keys), ["k4 k5 k6 k7 k8 ", "k4 k5 k6 k7 ", "k4 k5 k6 ", "k4 k5 ", "k4 "]);
  // One refused statement: the others are run again alone and answered; the refused one fails alone.
  const mixed = await Promise.allSettled([
    whoAmI(users[0].id, "k0"),
    ...users.slice(1, 4).map((u, i) => whoAmI(u.id, `k${i + 1}`, i === 1 ? ", 1/0 as boom" : "")),
  ]);
  assertEquals(mixed.map((r) => r.status), ["fulfilled", "fulfilled", "rejected", "fulfilled"]);
  assertEquals((mixed[2] as PromiseRejectedResult).reason.code, "22012");
  const fulfilled = mixed.filter((r) => r.status === "fulfilled").map((r) => (r as PromiseFulfilledResult<{ tx: string; keys: string }[]>).value[0]);
  assertEquals(new Set(fulfilled.map((row) => row.tx)).size, 3);
  assertEquals(fulfilled.map((row) => row.keys), ["k0 ", "k1 ", "k3 "]);
});

Deno.test("a role outside anon, authenticated and service_role is never switched to", async () => {
  let error: unknown;
  try {
    // deno-lint-ignore no-explicit-any
    await runAs(pooled, { sql: "select 1", params: [], role: "postgres" as any, claims: {} });
  } catch (e) {
    error = e;
  }
  assert(error instanceof Error && /refusing/.test(error.message), String(error));
});

addEventListener("unload", () => {
  pooled.end();
});
