// A local stand-in for Resend's email API (docs/local-stack.md, "Stripe and Resend stand-ins"):
// POST /emails, POST /emails/batch and GET /emails/:id as Resend documents them (Bearer key, JSON
// body, the Idempotency-Key rules, a batch of at most 100 validated strictly or, with
// `x-batch-validation: permissive`, email by email, errors as {statusCode, name, message}), and,
// when set, Resend's rate limit (requests a second across the API, 429 rate_limit_exceeded with
// retry-after); every email accepted is kept for the tests. Under /_stand-in/: the emails and
// requests recorded, injected faults, and the rate limit.

import { FaultError, Faults, json, pathMatches, pickHeaders, type Running, serve } from "./standin_http.ts";

export interface Email {
  id: string;
  created_at: string;
  from: string;
  to: string[];
  subject: string;
  html: string | null;
  text: string | null;
  cc: string[];
  bcc: string[];
  reply_to: string[];
  headers: Record<string, string>;
  tags: { name: string; value: string }[];
  scheduled_at: string | null;
  idempotency_key: string | null;
}

export interface ResendRequest {
  seq: number;
  time: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  // deno-lint-ignore no-explicit-any
  body: any;
  idempotency_key: string | null;
  status: number;
  replayed: boolean;
  injected: string | null;
}

export interface ResendStandInOptions {
  /** The only API key accepted; any `re_…` key when unset. */
  apiKey?: string;
  /** Requests a second it answers before it answers 429 (Resend's default for a team is 2); none when unset. */
  perSecond?: number | null;
}

class ResendError extends Error {
  constructor(readonly statusCode: number, readonly code: string, message: string) {
    super(message);
  }
  body() {
    return { statusCode: this.statusCode, name: this.code, message: this.message };
  }
}

const validation = (message: string) => new ResendError(422, "validation_error", message);

// An address as Resend takes it: `email@example.com` or `Name <email@example.com>`.
const ADDRESS = /^(?:[^<>]*<\s*[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+\s*>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/;
const IDEMPOTENCY_TTL_MS = 24 * 3600 * 1000;
const MAX_RECIPIENTS = 50;
const MAX_BATCH = 100;

interface Stored {
  fingerprint: string;
  status: number;
  body: string;
  at: number;
}

export class ResendStandIn {
  emails: Email[] = [];
  requests: ResendRequest[] = [];
  readonly faults = new Faults();
  /** Recipients whose emails are refused with a given error: address → {status, name, message}. */
  failures = new Map<string, { statusCode: number; name: string; message: string }>();
  /** Requests a second before a 429; null: no limit. */
  perSecond: number | null;
  private idempotency = new Map<string, Stored>();
  /** When the API requests of the last second were answered (ms), for the rate limit. */
  private recent: number[] = [];
  private seq = 0;

  constructor(readonly options: ResendStandInOptions = {}) {
    this.perSecond = options.perSecond ?? null;
  }

  reset() {
    this.emails = [];
    this.requests = [];
    this.faults.clear();
    this.failures.clear();
    this.idempotency.clear();
    this.perSecond = this.options.perSecond ?? null;
    this.recent = [];
  }

  /** Resend's rate limit: within any second, at most perSecond requests are answered; the rest get 429. */
  private limited(): Record<string, string> | null {
    if (this.perSecond === null) return null;
    const now = Date.now();
    this.recent = this.recent.filter((t) => now - t < 1000);
    if (this.recent.length >= this.perSecond) {
      const reset = Math.max(1, Math.ceil((this.recent[0] + 1000 - now) / 1000));
      return {
        "retry-after": String(reset),
        "ratelimit-limit": String(this.perSecond),
        "ratelimit-remaining": "0",
        "ratelimit-reset": String(reset),
      };
    }
    this.recent.push(now);
    return null;
  }

  handle = async (req: Request): Promise<Response> => {
    const u = new URL(req.url);
    if (u.pathname === "/_stand-in" || u.pathname.startsWith("/_stand-in/")) return await this.control(req, u);
    const text = req.method === "POST" ? await req.text() : "";
    // deno-lint-ignore no-explicit-any
    let body: any = null;
    let parsed = true;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      parsed = false;
      body = text;
    }
    const key = req.headers.get("idempotency-key");
    const record: ResendRequest = {
      seq: ++this.seq,
      time: new Date().toISOString(),
      method: req.method,
      path: u.pathname,
      headers: pickHeaders(req, ["authorization", "content-type", "idempotency-key", "user-agent"]),
      body,
      idempotency_key: key,
      status: 0,
      replayed: false,
      injected: null,
    };
    this.requests.push(record);
    const answer = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      record.status = status;
      return json(status, payload, headers);
    };
    try {
      this.authenticate(req.headers.get("authorization"));
      const faulted = this.faults.respond(record, req.method, u.pathname, (status) =>
        status === 429
          ? answer(429, {
            statusCode: 429,
            name: "rate_limit_exceeded",
            message:
              "Too many requests. You can only make 2 requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.",
          }, { "retry-after": "1" })
          : answer(status, {
            statusCode: status,
            name: "application_error",
            message: "An unexpected error occurred.",
          }));
      if (faulted) return faulted;
      const limited = this.limited();
      if (limited) {
        return answer(429, {
          statusCode: 429,
          name: "rate_limit_exceeded",
          message:
            `Too many requests. You can only make ${this.perSecond} requests per second. See rate limit response headers for more information. Or contact support to increase rate limit.`,
        }, limited);
      }
      const batch = u.pathname === "/emails/batch";
      if (req.method === "POST" && (u.pathname === "/emails" || batch)) {
        if (!parsed) throw new ResendError(400, "invalid_parameter", "Invalid JSON body");
        if (key !== null && (key.length < 1 || key.length > 256)) {
          throw new ResendError(400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
        }
        const now = Date.now();
        for (const [k, s] of this.idempotency) if (now - s.at > IDEMPOTENCY_TTL_MS) this.idempotency.delete(k);
        const fingerprint = `${u.pathname} ${JSON.stringify(body)}`;
        if (key !== null) {
          const stored = this.idempotency.get(key);
          if (stored && stored.fingerprint !== fingerprint) {
            throw new ResendError(
              409,
              "invalid_idempotent_request",
              "Same idempotency key used with a different request payload. Change your idempotency key or payload.",
            );
          }
          if (stored) {
            record.replayed = true;
            record.status = stored.status;
            return new Response(stored.body, {
              status: stored.status,
              headers: { "content-type": "application/json" },
            });
          }
        }
        const response = batch
          ? this.acceptBatch(body, key, req.headers.get("x-batch-validation"))
          : { id: this.keep(this.validate(body, key)).id };
        if (key !== null) {
          this.idempotency.set(key, { fingerprint, status: 200, body: JSON.stringify(response), at: now });
        }
        return answer(200, response);
      }
      const m = u.pathname.match(/^\/emails\/([^/]+)$/);
      if (req.method === "GET" && m) {
        const email = this.emails.find((e) => e.id === m[1]);
        if (!email) throw new ResendError(404, "not_found", "Email not found");
        return answer(200, {
          object: "email",
          id: email.id,
          to: email.to,
          from: email.from,
          created_at: email.created_at,
          subject: email.subject,
          html: email.html,
          text: email.text,
          bcc: email.bcc,
          cc: email.cc,
          reply_to: email.reply_to,
          last_event: "delivered",
          scheduled_at: email.scheduled_at,
          tags: email.tags,
        });
      }
      if (u.pathname === "/emails" || batch || m) {
        throw new ResendError(405, "method_not_allowed", "Method is not allowed for the requested path.");
      }
      throw new ResendError(404, "not_found", "The requested endpoint does not exist.");
    } catch (e) {
      if (!(e instanceof ResendError)) throw e;
      return answer(e.statusCode, e.body());
    }
  };

  private authenticate(header: string | null) {
    const key = header?.match(/^Bearer (.+)$/)?.[1];
    if (!key) {
      throw new ResendError(
        401,
        "missing_api_key",
        "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY",
      );
    }
    const ok = this.options.apiKey ? key === this.options.apiKey : /^re_[A-Za-z0-9_]+$/.test(key);
    if (!ok) throw new ResendError(403, "invalid_api_key", "API key is invalid");
  }

  /**
   * A batch as Resend takes it: an array of 1 to 100 emails, validated strictly (any invalid email refuses
   * the whole request, nothing sent) or, with `x-batch-validation: permissive`, each alone: `data` holds the
   * ids of the emails accepted, in order, `errors` the others by index.
   */
  // deno-lint-ignore no-explicit-any
  private acceptBatch(body: any, key: string | null, mode: string | null) {
    if (mode !== null && mode !== "strict" && mode !== "permissive") {
      throw validation("Invalid `x-batch-validation` header: `strict` or `permissive`.");
    }
    if (!Array.isArray(body)) throw validation("The request body must be an array of emails.");
    if (body.length === 0 || body.length > MAX_BATCH) {
      throw validation(`A batch holds 1 to ${MAX_BATCH} emails, got ${body.length}.`);
    }
    const outcomes = body.map((email) => {
      try {
        return this.validate(email, key);
      } catch (e) {
        if (!(e instanceof ResendError)) throw e;
        return e;
      }
    });
    if (mode !== "permissive") {
      const refused = outcomes.find((o) => o instanceof ResendError);
      if (refused instanceof ResendError) throw refused;
    }
    const data: { id: string }[] = [];
    const errors: { index: number; message: string }[] = [];
    outcomes.forEach((o, index) => {
      if (o instanceof ResendError) errors.push({ index, message: o.message });
      else data.push({ id: this.keep(o).id });
    });
    return mode === "permissive" ? { data, errors } : { data };
  }

  private keep(email: Email): Email {
    this.emails.push(email);
    return email;
  }

  // deno-lint-ignore no-explicit-any
  private validate(body: any, key: string | null): Email {
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw validation("The request body must be a JSON object.");
    }
    const addresses = (field: string, required: boolean): string[] => {
      const v = body[field];
      if (v === undefined || v === null) {
        if (required) throw validation(`Missing \`${field}\` field.`);
        return [];
      }
      const list = Array.isArray(v) ? v : [v];
      if (list.length === 0 && required) throw validation(`Missing \`${field}\` field.`);
      for (const a of list) {
        if (typeof a !== "string" || !ADDRESS.test(a.trim())) {
          throw validation(
            `Invalid \`${field}\` field. The email address needs to follow the \`email@example.com\` or \`Name <email@example.com>\` format.`,
          );
        }
      }
      return list.map((a: string) => a.trim());
    };
    const from = addresses("from", true);
    if (from.length !== 1) throw validation("Invalid `from` field. Exactly one sender address is allowed.");
    const to = addresses("to", true);
    if (to.length > MAX_RECIPIENTS) throw validation(`Too many recipients in \`to\`: at most ${MAX_RECIPIENTS}.`);
    if (typeof body.subject !== "string" || body.subject === "") throw validation("Missing `subject` field.");
    for (const f of ["html", "text"]) {
      if (body[f] !== undefined && body[f] !== null && typeof body[f] !== "string") {
        throw validation(`Invalid \`${f}\` field: a string is expected.`);
      }
    }
    if (!body.html && !body.text && !body.react) throw validation("Missing `html` or `text` field.");
    const headers = body.headers ?? {};
    if (
      typeof headers !== "object" || Array.isArray(headers) || Object.values(headers).some((v) => typeof v !== "string")
    ) {
      throw validation("Invalid `headers` field: an object of strings is expected.");
    }
    const tags = body.tags ?? [];
    if (
      !Array.isArray(tags) ||
      tags.some((t) =>
        typeof t?.name !== "string" || typeof t?.value !== "string" || !/^[A-Za-z0-9_-]{1,256}$/.test(t.name) ||
        !/^[A-Za-z0-9_-]{1,256}$/.test(t.value)
      )
    ) {
      throw validation(
        "Invalid `tags` field: tags are {name, value} of ASCII letters, numbers, underscores or dashes.",
      );
    }
    for (const address of to) {
      const failure = this.failures.get(bare(address));
      if (failure) throw new ResendError(failure.statusCode, failure.name, failure.message);
    }
    const email: Email = {
      id: crypto.randomUUID(),
      created_at: new Date().toISOString(),
      from: from[0],
      to,
      subject: body.subject,
      html: body.html ?? null,
      text: body.text ?? null,
      cc: addresses("cc", false),
      bcc: addresses("bcc", false),
      reply_to: addresses("reply_to", false),
      headers,
      tags,
      scheduled_at: typeof body.scheduled_at === "string" ? body.scheduled_at : null,
      idempotency_key: key,
    };
    return email;
  }

  private async control(req: Request, u: URL): Promise<Response> {
    const path = u.pathname.replace(/\/+$/, "");
    // deno-lint-ignore no-explicit-any
    const body: any = req.method === "POST" ? await req.json().catch(() => ({})) : {};
    const bad = (message: string) => json(400, { statusCode: 400, name: "validation_error", message });
    if (path === "/_stand-in/health") return json(200, { status: "ok" });
    if (path === "/_stand-in" && req.method === "DELETE") {
      this.reset();
      return json(200, { reset: true });
    }
    if (path === "/_stand-in/emails") {
      if (req.method === "DELETE") this.emails = [];
      const to = u.searchParams.get("to");
      return json(200, { emails: this.emails.filter((e) => !to || e.to.some((a) => bare(a) === bare(to))) });
    }
    if (path === "/_stand-in/requests") {
      if (req.method === "DELETE") this.requests = [];
      const p = u.searchParams.get("path");
      return json(200, { requests: this.requests.filter((r) => !p || pathMatches(p, r.path)) });
    }
    if (path === "/_stand-in/faults") {
      if (req.method === "DELETE") {
        this.faults.clear();
        this.failures.clear();
        return json(200, { cleared: true });
      }
      if (req.method === "GET") {
        return json(200, { faults: this.faults.list, failures: Object.fromEntries(this.failures) });
      }
      try {
        return json(200, this.faults.add(body));
      } catch (e) {
        if (e instanceof FaultError) return bad(e.message);
        throw e;
      }
    }
    if (path === "/_stand-in/rate-limit") {
      if (req.method === "POST") {
        const n = body.per_second ?? null;
        if (n !== null && !(Number.isInteger(n) && n > 0)) return bad("per_second must be a positive integer, or null for none");
        this.perSecond = n;
        this.recent = [];
      }
      return json(200, { per_second: this.perSecond });
    }
    if (path === "/_stand-in/failures" && req.method === "POST") {
      if (typeof body.to !== "string") return bad("a failure needs `to`: the recipient whose emails are refused");
      const failure = {
        statusCode: Number(body.statusCode ?? 422),
        name: typeof body.name === "string" ? body.name : "validation_error",
        message: typeof body.message === "string" ? body.message : `Emails to ${body.to} are refused (injected)`,
      };
      this.failures.set(bare(body.to), failure);
      return json(200, { to: bare(body.to), ...failure });
    }
    return json(404, {
      statusCode: 404,
      name: "not_found",
      message: `Unrecognized stand-in request (${req.method}: ${u.pathname}).`,
    });
  }
}

/** `Name <a@b.c>` → `a@b.c`, lower case. */
function bare(address: string): string {
  return (address.match(/<\s*([^>]+?)\s*>/)?.[1] ?? address).trim().toLowerCase();
}

/** Starts the stand-in on 127.0.0.1 (port 0: any free port). */
export function startResendStandIn(
  opts: ResendStandInOptions & { port?: number; log?: boolean } = {},
): Running<ResendStandIn> {
  const standIn = new ResendStandIn(opts);
  return serve(standIn, standIn.handle, opts.port, opts.log ? "resend" : undefined);
}
