// The local stand-ins for Stripe's and Resend's APIs in one process, as ./stack up starts them
// (local/stack/standins.sh; docs/local-stack.md, "Stripe and Resend stand-ins"):
//
//   deno run --allow-net=127.0.0.1 --allow-env local/standins.ts
//
// Environment: STRIPE_STANDIN_PORT (default 54340), RESEND_STANDIN_PORT (default 54341);
// STRIPE_WEBHOOK_URL and STRIPE_WEBHOOK_SECRET (where the Stripe triggers deliver events and the
// secret they sign them with; the first of a comma-separated list); STRIPE_SECRET_KEY and
// RESEND_API_KEY (when set, the only keys accepted). One JSON line per request on stdout.
import { startResendStandIn } from "./resend.ts";
import { startStripeStandIn } from "./stripe.ts";

const env = (name: string) => Deno.env.get(name) || undefined;

const stripe = startStripeStandIn({
  port: Number(env("STRIPE_STANDIN_PORT") ?? 54340),
  webhookUrl: env("STRIPE_WEBHOOK_URL"),
  webhookSecret: env("STRIPE_WEBHOOK_SECRET")?.split(",")[0].trim(),
  secretKey: env("STRIPE_SECRET_KEY"),
  log: true,
});
const resend = startResendStandIn({
  port: Number(env("RESEND_STANDIN_PORT") ?? 54341),
  apiKey: env("RESEND_API_KEY"),
  log: true,
});

for (const [name, running] of [["stripe", stripe], ["resend", resend]] as const) {
  console.log(
    JSON.stringify({ time: new Date().toISOString(), standin: name, message: `listening on ${running.url}` }),
  );
}
