// Receipts at the scale of a ticket drop, over HTTP (docs/treasury-receipts.md, "Batches and Resend's
// rate limit"): the receipts sender sends the outbox through Resend's POST /emails/batch, a request per
// 100 messages, so Resend's default limit of 2 requests a second does not turn a drop's receipts into
// 429s that a run leaves for later; and a request made again (a run that crashed after Resend sent it)
// is the same request under the same key, which Resend answers without sending anything twice.
//
// The messages are written into treasury.outbox as the payment's transaction writes them (the facts
// that write them are tested in treasury_outbox.test.sql and money.test.ts); what is tested here is the
// sender, the real edge function against the Resend stand-in with its rate limit on.
import { assert, assertEquals } from "../lib/assert.ts";
import { db } from "../lib/stack.ts";
import { ResendStandInClient } from "../lib/standin.ts";
import { drainOutbox, runUntilIdle } from "../lib/money.ts";

const sql = db(4);
const resend = new ResendStandInClient();
/** Resend's default rate limit for a team. */
const RESEND_REQUESTS_A_SECOND = 2;

/** Queues `n` payment receipts, each to its own address, as apply_payment writes them; answers the addresses. */
async function queueReceipts(n: number): Promise<{ addresses: string[]; run: string }> {
  const run = crypto.randomUUID();
  const rows = Array.from({ length: n }, (_, i) => {
    const payment = `pi_e2e_drop_${run.slice(0, 8)}_${i}`;
    return {
      kind: "payment_receipt",
      dedupe_key: `payment_receipt:${payment}`,
      recipient_id: crypto.randomUUID(),
      email: `drop-${run.slice(0, 8)}-${i}@test.buckets.local`,
      data: {
        payment_id: payment,
        product_id: run,
        product_type: "ticket",
        product_title: "Night at the Shrine",
        quantity: 1,
        amount_minor: 2500,
        currency: "EUR",
        paid_at: new Date().toISOString(),
        receipt: { rpc: "treasury.receipt", payment_id: payment },
      },
    };
  });
  await sql`insert into treasury.outbox ${sql(rows.map((r) => ({ ...r, data: sql.json(r.data) })))}`;
  return { addresses: rows.map((r) => r.email), run };
}

async function outboxOf(run: string) {
  return await sql`select status, attempts, request_key, provider_id from treasury.outbox
                   where data ->> 'product_id' = ${run} order by id`;
}

async function withRateLimit(fn: () => Promise<void>) {
  await drainOutbox(sql); // what other tests left goes first, without the limit
  await resend.rateLimit(RESEND_REQUESTS_A_SECOND);
  try {
    await fn();
  } finally {
    await resend.rateLimit(null);
  }
}

Deno.test("a drop's 250 receipts leave in one run within Resend's rate limit, each once", async () => {
  await withRateLimit(async () => {
    const { addresses, run } = await queueReceipts(250);
    const before = (await resend.requests()).length;
    const runs = await runUntilIdle("receipts-sender", 5);
    assertEquals(runs, 1, "one run of the sender takes them all");

    const rows = await outboxOf(run);
    assertEquals(rows.length, 250);
    assertEquals(rows.filter((r) => r.status !== "sent").map((r) => r.status), [], "every receipt sent");
    assert(rows.every((r) => r.attempts === 1), "each in its first attempt: nothing left to a later run");
    assertEquals(new Set(rows.map((r) => r.request_key)).size, 3, "three requests: 100, 100 and 50");

    const requests = (await resend.requests()).slice(before);
    assert(requests.every((r) => r.path === "/emails/batch"), requests.map((r) => r.path).join(", "));
    assert(
      requests.some((r) => r.status === 429),
      "three requests at once meet the limit of 2 a second: one is refused with 429, then made again",
    );
    assertEquals(requests.filter((r) => r.status === 200).length, 3);
    const mail = (await resend.emails()).filter((m) => addresses.includes(m.to[0]));
    assertEquals(mail.length, 250, "each address gets its receipt once");
    assertEquals(new Set(mail.map((m) => m.to[0])).size, 250);
    assertEquals(
      new Set(mail.map((m) => m.id)),
      new Set(rows.map((r) => r.provider_id)),
      "each row holds the id Resend gave its email",
    );
  });
});

Deno.test("a run that crashed after Resend sent its request: the request is made again whole, nothing sent twice", async () => {
  await withRateLimit(async () => {
    const { addresses, run } = await queueReceipts(3);
    await runUntilIdle("receipts-sender", 5);
    const first = await outboxOf(run);
    assertEquals(first.map((r) => r.status), ["sent", "sent", "sent"]);

    // As if the run had crashed after Resend answered and before it marked anything: the messages are
    // still sending, and their lease has run out.
    await sql`update treasury.outbox set status = 'sending', provider_id = null, sent_at = null,
                                        leased_until = now() - interval '1 second'
              where data ->> 'product_id' = ${run}`;
    const before = (await resend.requests()).length;
    await runUntilIdle("receipts-sender", 5);
    const again = await outboxOf(run);
    assertEquals(again.map((r) => [r.status, r.attempts]), [["sent", 2], ["sent", 2], ["sent", 2]]);
    assertEquals(again.map((r) => r.request_key), first.map((r) => r.request_key), "under the same key");
    assertEquals(again.map((r) => r.provider_id), first.map((r) => r.provider_id), "Resend's first answer");
    const replay = (await resend.requests()).slice(before).filter((r) => r.status === 200);
    assertEquals(replay.map((r) => [r.path, r.replayed, r.idempotency_key]), [
      ["/emails/batch", true, first[0].request_key],
    ]);
    const mail = (await resend.emails()).filter((m) => addresses.includes(m.to[0]));
    assertEquals(mail.length, 3, "nothing was sent twice");
  });
});

Deno.test({ name: "close the pool", fn: async () => await sql.end(), sanitizeResources: false, sanitizeOps: false });
