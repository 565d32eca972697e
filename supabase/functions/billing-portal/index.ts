// POST /functions/v1/billing-portal: a Stripe Customer Portal URL for a subscriber (docs/treasury-checkout.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("billing-portal");
