// Who may call: the functions verify every access token themselves (edge/src/auth.rs), against the
// project's JWKS (ES256 and RS256 signing keys, as Supabase Auth publishes them) or the legacy HS256
// secret, and fail closed. The gateway no longer checks (verify_jwt = false), so each refusal here is
// the function's own. passport-log stands for every function that acts for a user.
import { assert, assertEquals } from "../lib/assert.ts";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { publicJwks, userClaims } from "../../local/jwt.ts";
import { callFunction, db, env, mintToken, newUser, SUPABASE_URL, uuid } from "../lib/stack.ts";

const sql = db();

const play = () => ({
  kind: "audio.play",
  client_event_id: uuid(),
  artist_id: uuid(),
  payload: { track_id: uuid(), duration_ms: 45_000 },
});

async function log(token: string | null) {
  return await callFunction("passport-log", play(), { token });
}

function assertRefused(res: { status: number; body: any; headers: Headers }, code: string) {
  assertEquals(res.status, 401, JSON.stringify(res.body));
  assertEquals(res.body.code, code, JSON.stringify(res.body));
  assertEquals(res.headers.get("www-authenticate"), "Bearer");
}

const b64url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const encodeJson = (value: unknown) => b64url(new TextEncoder().encode(JSON.stringify(value)));

Deno.test("the project publishes its public signing keys, and nothing private", async () => {
  const res = await fetch(`${SUPABASE_URL}/auth/v1/.well-known/jwks.json`);
  assertEquals(res.status, 200);
  const { keys } = await res.json();
  assertEquals(keys.map((k: any) => k.alg).sort(), ["ES256", "RS256"]);
  for (const key of keys) {
    assert(typeof key.kid === "string" && key.kid.length > 0, JSON.stringify(key));
    for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) assertEquals(key[secret], undefined, `${key.kid} publishes ${secret}`);
  }
});

Deno.test("tokens of every published key, and of the legacy secret, are accepted while published", async () => {
  const user = await newUser(sql);
  for (const key of ["current", "standby", "hs256"] as const) {
    const res = await log(await mintToken(userClaims(user.id), key));
    assertEquals(res.status, 200, `${key}: ${JSON.stringify(res.body)}`);
    assertEquals(res.body.results[0].status, "accepted");
  }
  const [{ n }] = await sql`select count(*)::int as n from public.passport_entries where user_id = ${user.id}`;
  assertEquals(n, 3);
});

/** Chooses which of local auth's keys the project's JWKS publishes (the local stand-in of rotating keys). */
async function publish(kids: string[]) {
  const res = await fetch(`${SUPABASE_URL}/_stack/auth/keys`, { method: "POST", body: JSON.stringify({ published: kids }) });
  assertEquals(res.status, 200, await res.text());
}

/** Logs with `token` until the answer is `status` (the functions keep the JWKS for a second here). */
async function untilStatus(token: string, status: number) {
  for (let attempt = 0;; attempt++) {
    const res = await log(token);
    if (res.status === status || attempt === 200) return res;
    await new Promise((r) => setTimeout(r, 100));
  }
}

Deno.test("a key removed from the JWKS (revoked) no longer verifies; the other keeps working", async () => {
  const user = await newUser(sql);
  const keys = (await publicJwks()).keys;
  const current = keys.find((k) => k.alg === "ES256")!.kid!;
  const standby = keys.find((k) => k.alg === "RS256")!.kid!;
  const standbyToken = await mintToken(userClaims(user.id), "standby");
  assertEquals((await log(standbyToken)).status, 200);
  await publish([current]);
  try {
    assertRefused(await untilStatus(standbyToken, 401), "invalid_token");
    assertEquals((await log(await mintToken(userClaims(user.id), "current"))).status, 200);
  } finally {
    await publish([current, standby]);
  }
  assertEquals((await untilStatus(standbyToken, 200)).status, 200);
});

Deno.test("forged, confused, expired and misdirected tokens are refused, and write nothing", async (t) => {
  const user = await newUser(sql);
  const claims = userClaims(user.id);
  const current = (await publicJwks()).keys.find((k) => k.alg === "ES256")!;

  await t.step("signed by a key the project never published (unknown kid)", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: uuid(), typ: "JWT" }).sign(privateKey);
    assertRefused(await log(token), "invalid_token");
  });
  await t.step("signed by another key under the current key's kid", async () => {
    const { privateKey } = await generateKeyPair("ES256");
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "ES256", kid: current.kid!, typ: "JWT" }).sign(privateKey);
    assertRefused(await log(token), "invalid_token");
  });
  await t.step("alg none", async () => {
    const token = `${encodeJson({ alg: "none", typ: "JWT" })}.${encodeJson(claims)}.`;
    assertRefused(await log(token), "invalid_token");
  });
  await t.step("HS256 keyed with the published public key (algorithm confusion)", async () => {
    for (const secret of [JSON.stringify(current), JSON.stringify(await exportJWK((await generateKeyPair("ES256")).publicKey))]) {
      const token = await new SignJWT(claims)
        .setProtectedHeader({ alg: "HS256", kid: current.kid!, typ: "JWT" })
        .sign(new TextEncoder().encode(secret));
      assertRefused(await log(token), "invalid_token");
    }
  });
  await t.step("HS256 with a wrong secret", async () => {
    const token = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(new TextEncoder().encode("not-the-secret-not-the-secret-not-the-secret"));
    assertRefused(await log(token), "invalid_token");
  });
  await t.step("expired", async () => {
    assertRefused(await log(await mintToken({ ...claims, exp: Math.floor(Date.now() / 1000) - 120 })), "token_expired");
  });
  await t.step("for another audience", async () => {
    assertRefused(await log(await mintToken({ ...claims, aud: "some-other-service" })), "invalid_token");
  });
  await t.step("an altered payload", async () => {
    const [head, , signature] = (await mintToken(claims)).split(".");
    assertRefused(await log(`${head}.${encodeJson({ ...claims, sub: uuid() })}.${signature}`), "invalid_token");
  });
  const [{ n }] = await sql`select count(*)::int as n from public.passport_entries where user_id = ${user.id}`;
  assertEquals(n, 0);
});

Deno.test("the anon key and a publishable key are anonymous callers, not broken tokens", async () => {
  for (const key of [env("SUPABASE_ANON_KEY"), "sb_publishable_buckets_local_example_key"]) {
    const res = await log(key);
    assertRefused(res, "sign_in_required");
  }
  const none = await log(null);
  assertEquals(none.status, 401, JSON.stringify(none.body));
});
