// Tokens for the local stack, signed HS256 with the local JWT secret the way the Supabase CLI
// signs its demo keys. Local only: hosted projects issue their own keys.
//
//   deno run --allow-env local/jwt.ts env                      export lines for ./stack env
//   deno run --allow-env local/jwt.ts user <uuid> [email]      an access token for that user
//
// Tests may also import { mintUserToken } from this file.

import { SignJWT } from "jose";

export const LOCAL_JWT_SECRET = "super-secret-jwt-token-with-at-least-32-characters-long";
export const DEMO_USER_ID = "d3e40000-0000-4000-8000-000000000001";
export const DEMO_USER_EMAIL = "demo@buckets.local";

// Same expiry as the Supabase CLI's demo keys (2032-11-12), so tokens are stable across runs.
const LONG_EXPIRY = 1983812996;

function secret(): Uint8Array {
  return new TextEncoder().encode(Deno.env.get("SUPABASE_JWT_SECRET") ?? LOCAL_JWT_SECRET);
}

async function sign(claims: Record<string, unknown>): Promise<string> {
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(secret());
}

/** The project API key for a role, shaped like the CLI's: {iss, role, exp}. */
export function mintApiKey(role: "anon" | "service_role"): Promise<string> {
  return sign({ iss: "supabase-demo", role, exp: LONG_EXPIRY });
}

/** A signed-in user's access token, shaped like one issued by Supabase Auth. */
export function mintUserToken(
  userId: string,
  email = `${userId}@buckets.local`,
  expiresAt = LONG_EXPIRY,
): Promise<string> {
  return sign({
    aud: "authenticated",
    exp: expiresAt,
    iat: 1700000000,
    iss: "http://127.0.0.1:54321/auth/v1",
    sub: userId,
    email,
    role: "authenticated",
    aal: "aal1",
    is_anonymous: false,
    app_metadata: { provider: "email", providers: ["email"] },
    user_metadata: {},
  });
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  if (command === "env") {
    const lines = [
      ["SUPABASE_ANON_KEY", await mintApiKey("anon")],
      ["SUPABASE_SERVICE_ROLE_KEY", await mintApiKey("service_role")],
      ["DEMO_USER_ID", DEMO_USER_ID],
      ["DEMO_USER_TOKEN", await mintUserToken(DEMO_USER_ID, DEMO_USER_EMAIL)],
    ];
    for (const [name, value] of lines) console.log(`export ${name}=${value}`);
    return 0;
  }
  if (command === "user" && rest.length >= 1) {
    console.log(await mintUserToken(rest[0], rest[1]));
    return 0;
  }
  console.error("usage: local/jwt.ts env | user <uuid> [email]");
  return 2;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
