// The Resend stand-in (local/resend.ts) over HTTP, as Resend documents its API, with no stack.
import { assert, assertEquals, assertMatch } from "../lib/assert.ts";
import { startResendStandIn } from "../../local/resend.ts";
import { ResendStandInClient } from "../lib/standin.ts";

const KEY = "re_buckets_standin_test";

type Send = (body: unknown, opts?: { key?: string | null; idempotencyKey?: string }) => ReturnType<typeof send>;

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
  opts: { key?: string | null; idempotencyKey?: string } = {},
  // deno-lint-ignore no-explicit-any
): Promise<{ status: number; body: any; headers: Headers }> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (opts.key !== null) headers.authorization = `Bearer ${opts.key ?? KEY}`;
  if (opts.idempotencyKey) headers["idempotency-key"] = opts.idempotencyKey;
  const res = await fetch(`${base}/emails`, { method: "POST", headers, body: JSON.stringify(body) });
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
