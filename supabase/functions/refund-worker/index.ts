// POST /functions/v1/refund-worker: asks Stripe for the queued refunds; service role only (docs/treasury-refunds.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("refund-worker");
