// POST /functions/v1/payout-account: Stripe Connect onboarding for the signed-in payee (docs/treasury-payouts.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("payout-account");
