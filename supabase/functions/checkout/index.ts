// POST /functions/v1/checkout: a signed-in user's Stripe Checkout Session for one item (docs/treasury-checkout.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("checkout");
