// The typed way for the app to call passport-log (docs/passport-api.md) through supabase-js:
//
//   const passport = passportLog(supabase)
//   const result = await passport.logEvent("audio.play", {
//     client_event_id: crypto.randomUUID(),
//     artist_id: artistId,
//     payload: { track_id: trackId, duration_ms: 184_000 },
//   })
//
// A kind the catalog does not have, a missing required payload field, a field of the wrong type or an
// undeclared one fails to compile (the types are generated from the catalog: ./events.ts). What the
// function answers is typed too: a result per event, or a PassportLogError for the request as a whole.
import type { AppEvent, AppEventKind, EventOf, EventSpelling, ServiceEvent, ServiceEventOf } from "./events.ts";

/** The most events one request may carry. */
export const MAX_BATCH = 500;
export const FUNCTION_NAME = "passport-log";

/** Why an event was refused: a stable API (docs/passport-api.md#event-rejections). */
export type RejectionCode =
  | "event_too_large"
  | "invalid_event"
  | "unknown_field"
  | "forbidden_field"
  | "missing_field"
  | "invalid_field"
  | "unknown_kind"
  | "forbidden_kind"
  | "artist_required"
  | "occurred_in_future"
  | "occurred_before_platform"
  | "occurred_too_long_ago"
  | "payload_too_large";

/** The answer for one event, in the order sent. */
export type EventResult =
  /** Stored now; `id` is its passport_entries.id. */
  | { status: "accepted"; id: number }
  /** This user's client_event_id was stored before; `id` is the stored event's. Nothing changed. */
  | { status: "duplicate"; id: number }
  /** Refused, nothing stored; `message` names the field. */
  | { status: "rejected"; code: RejectionCode; message: string };

/** Why a request as a whole was refused (docs/passport-api.md#request-errors); "unreachable" when no answer came. */
export type RequestErrorCode =
  | "method_not_allowed"
  | "missing_token"
  | "invalid_token"
  | "token_expired"
  | "sign_in_required"
  | "not_configured"
  | "auth_unavailable"
  | "unsupported_media_type"
  | "request_too_large"
  | "invalid_json"
  | "invalid_body"
  | "empty_batch"
  | "batch_too_large"
  | "invalid_request"
  | "forbidden"
  | "rate_limited"
  | "unavailable"
  | "internal"
  | "not_found"
  | "unreachable";

/** A request passport-log did not take: nothing of it was stored. */
export class PassportLogError extends Error {
  override name = "PassportLogError";
  constructor(
    /** The HTTP status, or null when no answer came (network, relay). */
    readonly status: number | null,
    readonly code: RequestErrorCode,
    message: string,
    /** Seconds to wait before sending the same request again (429, 503), when the function said. */
    readonly retryAfterS: number | null = null,
    /** The function's request id of a 5xx: what its log names. */
    readonly requestId: string | null = null,
  ) {
    super(message);
  }
}

/**
 * What the wrapper needs of a client: supabase-js's `SupabaseClient` (its `functions.invoke` sends the
 * signed-in user's access token) is one.
 */
export interface FunctionsInvoker {
  functions: {
    invoke(name: string, options: { body: { events: unknown[] } }): Promise<{ data: unknown; error: unknown }>;
  };
}

// One distributive `Omit`: the event of K without its kind, K a union or not.
type Body<E> = E extends unknown ? Omit<E, "kind"> : never;

/** passport-log for a signed-in user: the client's session is the user. */
export interface PassportLog {
  /** Logs one event of `kind`; answers its result (a rejection is a result, not an error). */
  logEvent<K extends AppEventKind>(kind: K, event: Body<EventOf<K>>): Promise<EventResult>;
  /** Logs 1 to 500 events in one request; answers one result per event, in order. */
  logEvents(events: readonly AppEvent[]): Promise<EventResult[]>;
}

/** passport-log for trusted server code holding the service role key: every event names its user. */
export interface ServicePassportLog {
  logEvent<K extends EventSpelling>(kind: K, event: Body<ServiceEventOf<K>>): Promise<EventResult>;
  logEvents(events: readonly ServiceEvent[]): Promise<EventResult[]>;
}

export function passportLog(client: FunctionsInvoker): PassportLog {
  return {
    logEvent: async (kind, event) => (await send(client, [{ ...event, kind }]))[0],
    logEvents: (events) => send(client, events),
  };
}

export function servicePassportLog(client: FunctionsInvoker): ServicePassportLog {
  return {
    logEvent: async (kind, event) => (await send(client, [{ ...event, kind }]))[0],
    logEvents: (events) => send(client, events),
  };
}

async function send(client: FunctionsInvoker, events: readonly unknown[]): Promise<EventResult[]> {
  if (events.length < 1 || events.length > MAX_BATCH) {
    throw new RangeError(`passport-log takes 1 to ${MAX_BATCH} events a request, not ${events.length}`);
  }
  const { data, error } = await client.functions.invoke(FUNCTION_NAME, { body: { events: [...events] } });
  if (error) throw await requestError(error);
  const results = (data as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== events.length) {
    throw new PassportLogError(200, "internal", `passport-log answered no result per event: ${JSON.stringify(data)}`);
  }
  return results as EventResult[];
}

/**
 * supabase-js answers a non-2xx status with a FunctionsHttpError whose `context` is the Response (its
 * body is the function's `{code, message}`), a network or relay failure with an error whose `context`
 * is no Response.
 */
async function requestError(error: unknown): Promise<PassportLogError> {
  const context = (error as { context?: unknown })?.context;
  if (!(context instanceof Response)) {
    return new PassportLogError(null, "unreachable", `passport-log did not answer: ${String(error)}`);
  }
  const retryAfter = Number(context.headers.get("retry-after"));
  let body: { code?: unknown; message?: unknown; request_id?: unknown } = {};
  try {
    body = await context.json();
  } catch {
    // A body that is not JSON (a proxy's page): the status says enough.
  }
  return new PassportLogError(
    context.status,
    (typeof body.code === "string" ? body.code : "internal") as RequestErrorCode,
    typeof body.message === "string" ? body.message : `passport-log answered ${context.status}`,
    Number.isFinite(retryAfter) && context.headers.has("retry-after") ? retryAfter : null,
    typeof body.request_id === "string" ? body.request_id : null,
  );
}
