// GET /functions/v1/ticket-token?ticket=<uuid>: a fresh signed QR token for one of the caller's tickets
// (docs/concierto-tokens.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("ticket-token");
