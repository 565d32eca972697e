// The app's own client: supabase-js signed in as a user, calling the edge functions the way the
// app does (functions.invoke), for the end-to-end tests, the demo and the benchmark.
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import { EDGE_HOST, env, FUNCTIONS_URL, type User } from "./stack.ts";

export function app(user: User): SupabaseClient {
  const client = createClient(env("SUPABASE_URL"), env("SUPABASE_ANON_KEY"), {
    global: { headers: { Authorization: `Bearer ${user.token}` } },
    auth: { persistSession: false, autoRefreshToken: false },
  });
  // An app whose functions run on Cloudflare Workers keeps supabase-js for everything else and points
  // functions.invoke at the Worker's origin (the client reads this field for each call).
  if (EDGE_HOST === "workers") (client as unknown as { functionsUrl: URL }).functionsUrl = new URL(FUNCTIONS_URL);
  return client;
}

/** functions.invoke as `user`; a refusal throws with the function's status and body. */
export async function invoke<T>(user: User, fn: string, body: Record<string, unknown>): Promise<T> {
  const { data, error } = await app(user).functions.invoke(fn, { body });
  if (error) {
    const res = (error as { context?: Response }).context;
    throw new Error(`${fn}: ${error.message} ${res ? `${res.status} ${await res.text()}` : ""}`);
  }
  return data as T;
}

/** functions.invoke as `user`, expecting a refusal: its status and `{code, message}` body. */
export async function refusal(user: User, fn: string, body: Record<string, unknown>) {
  const { error } = await app(user).functions.invoke(fn, { body });
  const res = (error as { context?: Response } | null)?.context;
  if (!res) throw new Error(`${fn} did not refuse ${JSON.stringify(body)}`);
  return { status: res.status, body: await res.json() as { code: string; message: string } };
}

export interface Checkout {
  id: string;
  url: string;
  expires_at: number;
  checkout_id: string;
}

/** POST /functions/v1/checkout with one item, as the app starts a payment. */
export async function checkout(user: User, items: Record<string, unknown>[]): Promise<Checkout> {
  return await invoke<Checkout>(user, "checkout", { items });
}
