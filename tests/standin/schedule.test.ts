// The local stack's stand-in for pg_cron + pg_net (local/schedule.ts): every STACK_SCHEDULE_S seconds
// it POSTs to each scheduled worker with the service role key, one run at a time per worker, and
// not at all when turned off. Against a receiver on a free port, with no stack.
import { assert, assertEquals } from "../lib/assert.ts";
import { SCHEDULED, startSchedule } from "../../local/schedule.ts";

/** Answers after `delayMs`; counts, per path, the calls and the most in flight at once. */
function receiver(delayMs = 0) {
  const calls: { path: string; auth: string | null }[] = [];
  const inFlight = new Map<string, number>();
  const maxInFlight = new Map<string, number>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    inFlight.set(path, (inFlight.get(path) ?? 0) + 1);
    maxInFlight.set(path, Math.max(maxInFlight.get(path) ?? 0, inFlight.get(path)!));
    calls.push({ path, auth: req.headers.get("authorization") });
    await req.body?.cancel();
    await new Promise((r) => setTimeout(r, delayMs));
    inFlight.set(path, inFlight.get(path)! - 1);
    return Response.json({ claimed: 0 });
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, calls, maxInFlight, close: () => server.shutdown() };
}

Deno.test("the schedule calls each worker with the service role key, and never starts a run while one is going", async () => {
  // Each run lasts 2.5 intervals: without the guard, runs of one worker would overlap.
  const r = receiver(2500);
  const stop = startSchedule(r.url, "service-role-key", 1);
  await new Promise((res) => setTimeout(res, 4500));
  stop();
  await new Promise((res) => setTimeout(res, 2600));
  await r.close();
  assertEquals(SCHEDULED.map((s) => s.fn), ["payout-worker", "receipts-sender", "refund-worker"]);
  for (const { fn } of SCHEDULED) {
    const path = `/functions/v1/${fn}`;
    const mine = r.calls.filter((c) => c.path === path);
    assert(mine.length >= 1, `${fn} was never called`);
    assert(mine.every((c) => c.auth === "Bearer service-role-key"), JSON.stringify(mine));
    assertEquals(r.maxInFlight.get(path), 1, `${fn}: runs overlapped`);
  }
});

Deno.test("a schedule of 0 seconds is off", async () => {
  const r = receiver();
  const stop = startSchedule(r.url, "k", 0);
  await new Promise((res) => setTimeout(res, 1200));
  stop();
  await r.close();
  assertEquals(r.calls.length, 0);
});
