// The local stand-in for the hosted schedule of the edge workers (local stack only). On a hosted
// project pg_cron calls them every minute through pg_net (supabase/migrations/*_treasury_edge_schedule.sql:
// `net.http_post` with the service role key from Vault); pg_net is not packaged here, so the
// gateway makes the same calls on the same schedule: POST /functions/v1/<name> with the service
// role key, every STACK_SCHEDULE_S seconds (default 60; 0 turns it off: `./stack test` does, so
// that tests which play Stripe by hand are not raced by a real worker run; the tests call the
// workers themselves). A run still going when the next is due is not overlapped; each answer is one
// line in the gateway's log.

/** The functions pg_cron calls on a hosted project, with the job names the migration gives them. */
export const SCHEDULED = [
  { job: "treasury-payout-worker", fn: "payout-worker" },
  { job: "treasury-receipts-sender", fn: "receipts-sender" },
  { job: "treasury-refund-worker", fn: "refund-worker" },
];

/** Calls the scheduled functions every `everySeconds` until the returned function stops it. */
export function startSchedule(gatewayUrl: string, serviceRoleKey: string, everySeconds: number): () => void {
  if (!(everySeconds > 0)) {
    console.log(`${new Date().toISOString()} schedule: off (STACK_SCHEDULE_S=${everySeconds})`);
    return () => {};
  }
  const running = new Set<string>();
  const run = async (job: string, fn: string) => {
    if (running.has(fn)) return;
    running.add(fn);
    const started = Date.now();
    try {
      const res = await fetch(`${gatewayUrl}/functions/v1/${fn}`, {
        method: "POST",
        headers: { authorization: `Bearer ${serviceRoleKey}`, "content-type": "application/json" },
        body: "{}",
        signal: AbortSignal.timeout(120_000),
      });
      const body = await res.text();
      console.log(`${new Date().toISOString()} schedule: ${job} ${res.status} in ${Date.now() - started} ms ${body}`);
    } catch (e) {
      console.log(`${new Date().toISOString()} schedule: ${job} failed: ${e}`);
    } finally {
      running.delete(fn);
    }
  };
  const timer = setInterval(() => {
    for (const { job, fn } of SCHEDULED) run(job, fn);
  }, everySeconds * 1000);
  console.log(`${new Date().toISOString()} schedule: ${SCHEDULED.map((s) => s.fn).join(", ")} every ${everySeconds} s`);
  return () => clearInterval(timer);
}
