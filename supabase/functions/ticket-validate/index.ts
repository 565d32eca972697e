// POST /functions/v1/ticket-validate: checks ticket tokens at the door, one now or an offline batch
// (docs/concierto-tokens.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("ticket-validate");
