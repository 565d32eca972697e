// The functions' own path to the database (supabase/functions/_shared/db.ts), through the local
// transaction pooler: a statement for a user runs as that user, so grants and row level security
// apply to it exactly as they do to the app's RPCs. Before, the functions wrapped statements in a
// CTE that switched the role inside the statement, after Postgres had checked its privileges.
import { assert, assertEquals } from "../lib/assert.ts";
import { connect, runAs } from "../../supabase/functions/_shared/db.ts";
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
    sql: "select count(*)::int as n from public.passport_entries where user_id = any($1::uuid[])",
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
  const after = await pooled`select current_user as who, current_setting('request.jwt.claims', true) as claims`;
  assertEquals(after[0].who, "postgres");
  assert(!after[0].claims, `claims leaked into the next transaction: ${after[0].claims}`);
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
