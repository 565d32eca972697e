// POST /functions/v1/payout-worker: sends the queued payouts through Stripe; service role only (docs/treasury-payouts.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("payout-worker");
