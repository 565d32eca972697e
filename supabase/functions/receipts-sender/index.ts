// POST /functions/v1/receipts-sender: emails the outbox's receipts through Resend; service role only (docs/treasury-receipts.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("receipts-sender");
