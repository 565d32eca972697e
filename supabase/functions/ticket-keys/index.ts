// GET /functions/v1/ticket-keys: the public keys that verify ticket tokens offline (docs/concierto-tokens.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("ticket-keys");
