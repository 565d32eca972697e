// The Resend stand-in (local/resend.ts) over HTTP, as Resend documents its API, with no stack.
import { assert, assertEquals, assertMatch } from "../lib/assert.ts";
import { startResendStandIn } from "../../local/resend.ts";
import { ResendStandInClient } from "../lib/standin.ts";

const KEY = "re_buckets_standin_test";

interface SendOptions {
  key?: string | null;
  idempotencyKey?: string;
  /** POST /emails/batch (with this `x-batch-validation`, or none) instead of POST /emails. */
  batch?: "strict" | "permissive" | "default";
}
type Send = (body: unknown, opts?: SendOptions) => ReturnType<typeof send>;

async function withResend(fn: (ctx: { send: Send; control: ResendStandInClient; url: string }) => Promise<void>) {
  const running = startResendStandIn();
  const url = running.url;
  try {
    await fn({ send: (body, opts) => send(url, body, opts), control: new ResendStandInClient(url), url });
  } finally {
    await running.close();
  }
}

async function send(
  base: string,
  body: unknown,
  opts: SendOptions = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? KEY}`;
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  if (opts.batch && opts.batch !== "default") headers["x-batch-validation"] = opts.batch;
  const path = opts.batch ? "/emails/batch" : "/emails";
  const res = await fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json(), headers: res.headers };
}

const receipt = (to = "fan@fans.example") => ({
  from: "Buckets <receipts@buckets.example>",
  to: [to],
  subject: "Your receipt",
  html: "<p>2 × Ticket: €50.00</p>",
  text: "2 × Ticket: €50.00",
  tags: [{ name: "kind", value: "payment_receipt" }],
});

Deno.test("POST /emails answers an id and records the email", async () => {
  await withResend(async ({ send, control }) => {
    const res = await send(receipt(), { idempotencyKey: "outbox-1" });
    assertEquals(res.status, 200);
    assertMatch(res.body.id, /^[0-9a-f-]{36}$/);
    const [email] = await control.emails("fan@fans.example");
    assertEquals(
      [email.id, email.from, email.to, email.subject, email.text, email.idempotency_key],
      [
        res.body.id,
        "Buckets <receipts@buckets.example>",
        ["fan@fans.example"],
        "Your receipt",
        "2 × Ticket: €50.00",
        "outbox-1",
      ],
    );
    assertEquals(email.tags, [{ name: "kind", value: "payment_receipt" }]);
    assertEquals(await control.emails("someone@else.example"), []);
  });
});

Deno.test("the same Idempotency-Key answers the same id; another payload under it is 409", async () => {
  await withResend(async ({ send, control }) => {
    const first = await send(receipt(), { idempotencyKey: "outbox-7" });
    const again = await send(receipt(), { idempotencyKey: "outbox-7" });
    assertEquals(again, { ...again, status: 200, body: first.body });
    const other = await send(receipt("other@fans.example"), { idempotencyKey: "outbox-7" });
    assertEquals([other.status, other.body.name], [409, "invalid_idempotent_request"]);
    assertEquals(other.body.statusCode, 409);
    assertEquals((await control.emails()).length, 1, "sent once");
    const long = await send(receipt(), { idempotencyKey: "k".repeat(257) });
    assertEquals([long.status, long.body.name], [400, "invalid_idempotency_key"]);
  });
});

Deno.test("validation and authentication errors in Resend's shape", async () => {
  await withResend(async ({ send }) => {
    const cases: [unknown, string][] = [
      [{ ...receipt(), from: "not an address" }, "Invalid `from` field"],
      [{ ...receipt(), to: [] }, "Missing `to` field"],
      [{ ...receipt(), to: ["nope"] }, "Invalid `to` field"],
      [{ ...receipt(), subject: "" }, "Missing `subject` field"],
      [{ ...receipt(), html: undefined, text: undefined }, "Missing `html` or `text` field"],
      [{ ...receipt(), tags: [{ name: "a b", value: "x" }] }, "Invalid `tags` field"],
    ];
    for (const [body, message] of cases) {
      const res = await send(body);
      assertEquals(
        [res.status, res.body.statusCode, res.body.name],
        [422, 422, "validation_error"],
        JSON.stringify(body),
      );
      assert(res.body.message.startsWith(message), res.body.message);
    }
    const missing = await send(receipt(), { key: null });
    assertEquals([missing.status, missing.body.name], [401, "missing_api_key"]);
    const wrong = await send(receipt(), { key: "sk_test_not_resend" });
    assertEquals([wrong.status, wrong.body.name], [403, "invalid_api_key"]);
  });
});

Deno.test("injected faults: 429 with Retry-After, 500, a dropped connection, a refused recipient", async () => {
  await withResend(async ({ send, control, url }) => {
    await control.fault({ method: "POST", path: "/emails", status: 429 });
    await control.fault({ method: "POST", path: "/emails", status: 500 });
    const limited = await send(receipt());
    assertEquals([limited.status, limited.body.name, limited.headers.get("retry-after")], [
      429,
      "rate_limit_exceeded",
      "1",
    ]);
    const broken = await send(receipt());
    assertEquals([broken.status, broken.body.name], [500, "application_error"]);
    await control.fault({ method: "POST", path: "/emails", drop: true });
    let lost = "";
    await send(receipt()).catch((e) => (lost = String(e)));
    assert(lost !== "", "the connection is cut");
    assertEquals((await send(receipt())).status, 200);

    await control.failure({
      to: "bounce@fans.example",
      statusCode: 422,
      message: "The recipient is on the suppression list",
    });
    const refused = await send(receipt("Bounce <BOUNCE@fans.example>"));
    assertEquals([refused.status, refused.body.message], [422, "The recipient is on the suppression list"]);
    assertEquals((await control.emails()).length, 1);
    const requests = await control.requests();
    assertEquals(requests.map((r) => r.status), [429, 500, -1, 200, 422]);
    const get = await fetch(`${url}/emails/${(await control.emails())[0].id}`, {
      headers: { authorization: `Bearer ${KEY}` },
    });
    assertEquals([get.status, (await get.json()).object], [200, "email"]);
  });
});

Deno.test("POST /emails/batch: up to 100 emails in one request, strict unless asked to be permissive", async () => {
  await withResend(async ({ send, control }) => {
    const ok = await send([receipt("a@fans.example"), receipt("b@fans.example")], { batch: "default" });
    assertEquals(ok.status, 200);
    assertEquals(ok.body.data.length, 2);
    assertEquals((await control.emails()).map((e) => [e.id, e.to[0]]), [
      [ok.body.data[0].id, "a@fans.example"],
      [ok.body.data[1].id, "b@fans.example"],
    ]);

    const mixed = [receipt("c@fans.example"), { ...receipt(), to: ["nope"] }, receipt("d@fans.example")];
    const strict = await send(mixed, { batch: "strict" });
    assertEquals([strict.status, strict.body.name], [422, "validation_error"]);
    assertEquals((await control.emails()).length, 2, "strict: one invalid email refuses the whole request");
    const permissive = await send(mixed, { batch: "permissive", idempotencyKey: "receipts/1" });
    assertEquals(permissive.status, 200);
    assertEquals(permissive.body.data.length, 2);
    assertEquals(permissive.body.errors.map((e: { index: number }) => e.index), [1]);
    assert(permissive.body.errors[0].message.startsWith("Invalid `to` field"));
    assertEquals((await control.emails()).slice(2).map((e) => [e.id, e.to[0], e.idempotency_key]), [
      [permissive.body.data[0].id, "c@fans.example", "receipts/1"],
      [permissive.body.data[1].id, "d@fans.example", "receipts/1"],
    ]);

    const again = await send(mixed, { batch: "permissive", idempotencyKey: "receipts/1" });
    assertEquals(again.body, permissive.body, "the same request under its key: the first answer");
    assertEquals((await control.emails()).length, 4, "and nothing sent twice");
    const fewer = await send(mixed.slice(1), { batch: "permissive", idempotencyKey: "receipts/1" });
    assertEquals([fewer.status, fewer.body.name], [409, "invalid_idempotent_request"]);

    for (const n of [0, 101]) {
      const res = await send(Array.from({ length: n }, () => receipt()), { batch: "default" });
      assertEquals([res.status, res.body.name], [422, "validation_error"], `${n} emails`);
    }
    const notAnArray = await send(receipt(), { batch: "default" });
    assertEquals(notAnArray.status, 422);
    assertEquals((await control.emails()).length, 4);
  });
});

Deno.test("Resend's rate limit, when set: requests over it in a second get 429 with retry-after", async () => {
  await withResend(async ({ send, control }) => {
    assertEquals(await control.rateLimit(2), { per_second: 2 });
    const answers = await Promise.all([1, 2, 3, 4].map((i) => send([receipt(`${i}@fans.example`)], { batch: "default" })));
    assertEquals(answers.map((a) => a.status).sort(), [200, 200, 429, 429]);
    const limited = answers.find((a) => a.status === 429)!;
    assertEquals(limited.body.name, "rate_limit_exceeded");
    assertEquals(limited.headers.get("retry-after"), "1");
    assertEquals(limited.headers.get("ratelimit-limit"), "2");
    assertEquals((await control.emails()).length, 2, "a refused request sends nothing");
    await new Promise((r) => setTimeout(r, 1100));
    assertEquals((await send(receipt())).status, 200, "the next second, it answers again");
    assertEquals(await control.rateLimit(null), { per_second: null });
    const many = await Promise.all([1, 2, 3, 4, 5].map(() => send(receipt())));
    assert(many.every((a) => a.status === 200), "no limit once it is taken off");
    const bad = await fetch(`${control.base}/_stand-in/rate-limit`, { method: "POST", body: JSON.stringify({ per_second: 0 }) });
    assertEquals(bad.status, 400);
    await bad.body?.cancel();
  });
});
