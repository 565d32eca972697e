// POST /functions/v1/passport-log: records events in the Passport log (docs/passport-api.md).
import { serveEdge } from "../_shared/serve.ts";

serveEdge("passport-log");
