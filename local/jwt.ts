// The local stand-in for Supabase Auth's token signing (local stack only; hosted projects issue their
// own). Like a current project, it signs access tokens with an asymmetric key named by `kid` and
// publishes the public keys as a JWKS (the gateway serves it at /auth/v1/.well-known/jwks.json):
//
//   - "current": ES256, signs every new access token;
//   - "standby": RS256, published next to it, the key to rotate to (tokens of both verify while both
//     are published).
//
// The legacy HS256 secret stays available too, as on a project that has not revoked it: the anon and
// service_role API keys are HS256 JWTs, as the Supabase CLI mints them.
//
// The private keys are made once per checkout in $STACK_AUTH_KEYS (./stack sets it to
// .stack/auth/signing-keys.json) and never leave the machine.
//
//   deno run --allow-env --allow-read --allow-write local/jwt.ts env                 export lines for ./stack env
//   deno run --allow-env --allow-read --allow-write local/jwt.ts user <uuid> [email] an access token for that user
//   deno run --allow-env --allow-read local/jwt.ts jwks                              the public JWKS
//
// Tests import mintUserToken, mintToken and the keys from this file.

import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from "jose";

export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
export const DEMO_USER_ID = "d3e40000-0000-4000-8000-000000000001";
export const DEMO_USER_EMAIL = "demo@buckets.local";
export const LOCAL_AUTH_ISSUER = "http://127.0.0.1:54321/auth/v1";

// Same expiry as the Supabase CLI's demo keys (2032-11-12), so tokens are stable across runs.
const LONG_EXPIRY = 1983812996;

/** Which key signs: one of the published ones, or the legacy HS256 secret. */
export type SigningKey = "current" | "standby" | "hs256";

interface StoredKey {
  name: "current" | "standby";
  alg: "ES256" | "RS256";
  kid: string;
  private: JWK;
  public: JWK;
}

function keysPath(): string {
  const path = Deno.env.get("STACK_AUTH_KEYS");
  if (!path) throw new Error("STACK_AUTH_KEYS is not set; run through ./stack (eval \"$(./stack env)\")");
  return path;
}

async function makeKey(name: StoredKey["name"], alg: StoredKey["alg"]): Promise<StoredKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = crypto.randomUUID();
  const pub = { ...(await exportJWK(publicKey)), kid, alg, use: "sig", key_ops: ["verify"] };
  return { name, alg, kid, private: { ...(await exportJWK(privateKey)), kid, alg }, public: pub };
}

let stored: StoredKey[] | undefined;

/** The checkout's signing keys, made on first use. */
export async function signingKeys(): Promise<StoredKey[]> {
  if (stored) return stored;
  const path = keysPath();
  try {
    stored = JSON.parse(await Deno.readTextFile(path)) as StoredKey[];
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    stored = [await makeKey("current", "ES256"), await makeKey("standby", "RS256")];
    await Deno.mkdir(path.replace(/\/[^/]*$/, ""), { recursive: true });
    await Deno.writeTextFile(path, JSON.stringify(stored, null, 2), { mode: 0o600 });
  }
  return stored;
}

/** The JWKS a project publishes at /auth/v1/.well-known/jwks.json: public keys only. */
export async function publicJwks(): Promise<{ keys: JWK[] }> {
  return { keys: (await signingKeys()).map((k) => k.public) };
}

function secret(): Uint8Array {
  return new TextEncoder().encode(Deno.env.get("SUPABASE_JWT_SECRET") ?? LOCAL_JWT_SECRET);
}

/** Signs `claims` with one of the local keys, with the header Supabase Auth writes. */
export async function mintToken(claims: Record<string, unknown>, key: SigningKey = "current"): Promise<string> {
  if (key === "hs256") {
    return await new SignJWT(claims).setProtectedHeader({ alg: "HS256", typ: "JWT" }).sign(secret());
  }
  const k = (await signingKeys()).find((s) => s.name === key)!;
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: k.alg, kid: k.kid, typ: "JWT" })
    .sign(await importJWK(k.private, k.alg));
}

/** The project API key for a role, shaped like the CLI's legacy keys: {iss, role, exp}, HS256. */
export function mintApiKey(role: "anon" | "service_role"): Promise<string> {
  return mintToken({ iss: "supabase-demo", role, exp: LONG_EXPIRY }, "hs256");
}

/** The claims of a signed-in user's access token, as Supabase Auth issues them. */
export function userClaims(userId: string, email = `${userId}@buckets.local`, expiresAt = LONG_EXPIRY) {
  return {
    aud: "authenticated",
    exp: expiresAt,
    iat: 1700000000,
    iss: LOCAL_AUTH_ISSUER,
    sub: userId,
    email,
    role: "authenticated",
    aal: "aal1",
    is_anonymous: false,
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
  };
}

/** A signed-in user's access token, signed with the current (ES256) key unless told otherwise. */
export function mintUserToken(
  userId: string,
  email = `${userId}@buckets.local`,
  expiresAt = LONG_EXPIRY,
  key: SigningKey = "current",
): Promise<string> {
  return mintToken(userClaims(userId, email, expiresAt), key);
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "env") {
    const lines = [
      ["SUPABASE_ANON_KEY", await mintApiKey("anon")],
      ["SUPABASE_SERVICE_ROLE_KEY", await mintApiKey("service_role")],
      ["DEMO_USER_ID", DEMO_USER_ID],
      ["DEMO_USER_TOKEN", await mintUserToken(DEMO_USER_ID, DEMO_USER_EMAIL)],
      ["DEMO_USER_TOKEN_HS256", await mintUserToken(DEMO_USER_ID, DEMO_USER_EMAIL, LONG_EXPIRY, "hs256")],
    ];
    for (const [name, value] of lines) console.log(`export ${name}=${value}`);
    return 0;
  }
  if (command === "user" && rest.length >= 1) {
    console.log(await mintUserToken(rest[0], rest[1]));
    return 0;
  }
  if (command === "jwks") {
    console.log(JSON.stringify(await publicJwks()));
    return 0;
  }
  console.error("usage: local/jwt.ts env | user <uuid> [email] | jwks");
  return 2;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
