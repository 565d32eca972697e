// POST /functions/v1/stripe-webhook: receives Stripe's signed events (docs/treasury-webhook.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("stripe-webhook");
