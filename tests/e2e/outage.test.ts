// The database goes away under load and comes back. Callers must be told at once to retry (503 with
// Retry-After, never a request held open), and the functions must serve again as soon as the
// database is back. `./stack up` brings a killed cluster back, even while its postmaster is an
// unreaped zombie. The time each phase took is printed; the assertions are about answers, not speed.
import { assert, assertEquals } from "../lib/assert.ts";
import { callFunction, db, env, newUser, uuid } from "../lib/stack.ts";

/** A guard against a hang, far above any answer the test expects: it only turns a hang into a failure. */
const HANG_GUARD_MS = 60_000;

const play = () => ({
  kind: "audio.play",
  client_event_id: uuid(),
  artist_id: uuid(),
  payload: { track_id: uuid(), duration_ms: 30_000 },
});

async function send(token: string) {
  const started = performance.now();
  const res = await Promise.race([
    callFunction("passport-log", play(), { token }),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("a request hung")), HANG_GUARD_MS)),
  ]);
  return { ...res, ms: performance.now() - started };
}

async function stack(...args: string[]) {
  const out = await new Deno.Command("./stack", { args, stdout: "piped", stderr: "piped" }).output();
  const text = new TextDecoder().decode(out.stderr);
  assert(out.success, `./stack ${args.join(" ")} failed:\n${text}`);
  return text;
}

Deno.test("the main database killed under load: 503 with Retry-After at once, served again when it is back", async () => {
  const sql = db(1);
  const user = await newUser(sql);
  await sql.end();
  assertEquals((await send(user.token)).status, 200);

  const pid = Number((await Deno.readTextFile(`${env("BUCKETS_MAIN_PGDATA")}/postmaster.pid`)).split("\n")[0]);
  Deno.kill(pid, "SIGKILL");
  try {
    await whileDown(user.token);
  } finally {
    // Whatever was found, the database comes back for the tests after this one.
    await recover(user.token);
  }
});

async function whileDown(token: string) {
  const down = await Promise.all(Array.from({ length: 16 }, () => send(token)));
  for (const res of down) {
    assertEquals(res.status, 503, JSON.stringify(res.body));
    assertEquals(res.body.code, "unavailable", JSON.stringify(res.body));
    assert(res.headers.get("retry-after"), "a 503 says when to retry");
  }
  const slowest = Math.max(...down.map((r) => r.ms));

  // Each 5xx is one JSON line in the function's log, found by the request id the caller was given.
  const logged = await logLines(down.map((res) => res.body.request_id));
  for (const res of down) {
    const id = res.body.request_id;
    assertEquals(res.headers.get("x-request-id"), id);
    const line = logged.find((l) => l.request_id === id);
    assert(line, `no log line for request ${id}`);
    assertEquals([line.function, line.status, line.code], ["passport-log", 503, "unavailable"]);
    assert(typeof line.sqlstate === "string" && typeof line.message === "string", JSON.stringify(line));
    assert(!JSON.stringify(res.body).includes(line.message as string), "the database's words stay in the log");
  }

  console.log(`outage: 16 requests while the database was down were answered 503 in ≤ ${slowest.toFixed(0)} ms`);
}

/** The JSON lines of passport-log's log, once every one of `ids` is there (the gateway copies them as they come). */
async function logLines(ids: string[]): Promise<Record<string, unknown>[]> {
  for (let attempt = 0;; attempt++) {
    const lines = (await Deno.readTextFile(".stack/logs/functions/passport-log.log")).split("\n")
      .filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
    const found = new Set(lines.map((l) => l.request_id));
    if (ids.every((id) => found.has(id)) || attempt === 50) return lines;
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function recover(token: string) {
  const restarted = performance.now();
  await stack("up");
  const upMs = performance.now() - restarted;
  const back = performance.now();
  let res = await send(token);
  while (res.status !== 200) {
    assertEquals(res.status, 503, JSON.stringify(res.body));
    await new Promise((r) => setTimeout(r, 50));
    res = await send(token);
  }
  const firstOk = performance.now() - back;
  // The pooler opens its server connections again one by one, and refuses new ones for a second
  // after a failed login: until then a burst can still meet a 503 (with Retry-After). The tests
  // after this one start once a burst is served whole.
  let burst = await Promise.all(Array.from({ length: 16 }, () => send(token)));
  while (burst.some((r) => r.status !== 200)) {
    for (const r of burst) assert(r.status === 200 || r.status === 503, JSON.stringify(r.body));
    await new Promise((r) => setTimeout(r, 100));
    burst = await Promise.all(Array.from({ length: 16 }, () => send(token)));
  }
  // After a crash the Coliseum worker comes back with the every-minute safety net (docs/coliseum-math.md);
  // the tests after this one wait at most 20 s for the processor, so it is started now, as an operator
  // would after a restart (false when the safety net already did).
  const sql = db(1);
  await sql`select coliseum.start_processor()`;
  await sql.end();
  console.log(
    `outage: ./stack up brought the cluster back in ${upMs.toFixed(0)} ms; after it returned, the first ` +
      `200 came in ${firstOk.toFixed(0)} ms, a burst of 16 was served whole in ${(performance.now() - back).toFixed(0)} ms`,
  );
}
