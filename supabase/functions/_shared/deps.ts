// The functions' outside dependencies, in one place: only Node's crypto and Buffer, which Deno and
// Supabase's edge runtime carry built in, for the database client's authentication (pg.ts). Nothing
// is downloaded; `./stack setup` still resolves this file once (`deno cache`).
export { Buffer } from "node:buffer";
export { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
