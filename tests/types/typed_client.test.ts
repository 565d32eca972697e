// The app's types (supabase/types/), proved both ways: the calls the app makes compile, and the mistakes
// fail to compile. Every `// @ts-expect-error` line below must be an error: one that compiles makes
// `deno check` (and `deno test`, which checks first) fail with "Unused '@ts-expect-error' directive".
// The functions named `compiles…` are only type-checked, never run (there is no PostgREST here); the
// Deno.test cases run the passport-log wrapper against a stand-in for supabase-js's `functions.invoke`.
import { createClient } from "@supabase/supabase-js";
import { assert, assertEquals } from "../lib/assert.ts";
import {
  type AppEvent,
  type Database,
  EVENT_KINDS,
  type EventResult,
  type FunctionArgs,
  type FunctionsInvoker,
  type Json,
  passportLog,
  PassportLogError,
  servicePassportLog,
  type Tables,
} from "../../supabase/types/index.ts";

const ARTIST = "6f1c1f5e-8a7b-4c1d-9e2f-0a1b2c3d4e5f";
const TRACK = "0b7e6a52-1c3d-4e5f-8a9b-0c1d2e3f4a5b";
const USER = "0b4a3c2d-1e0f-4a5b-8c7d-6e5f4a3b2c1d";

/** Type-level equality: `expectType<Exact<A, B>>(true)` compiles only when A and B are the same type. */
type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false;
function expectType<T extends true>(_: T) {}

export async function compilesPassportLog(passport = passportLog(fakeClient([]))) {
  // Good calls: a kind with its required fields, optional ones, an alias in the old app's spelling.
  await passport.logEvent("audio.play", {
    client_event_id: "p-1",
    artist_id: ARTIST,
    occurred_at: "2026-11-22T09:14:03.250Z",
    sent_at: "2026-11-22T09:14:05Z",
    payload: { track_id: TRACK, duration_ms: 184_000, genre: "afrobeats", country: "NG" },
  });
  await passport.logEvent("social.follow", { client_event_id: "f-1", artist_id: ARTIST });
  await passport.logEvent("social.unfollow", { client_event_id: "u-0", artist_id: ARTIST, payload: {} });
  await passport.logEvent("audio_play", {
    client_event_id: "old-1",
    payload: { artistId: ARTIST, trackId: TRACK, duration_ms: 1000 },
  });
  const queue: AppEvent[] = [
    { kind: "audio.skip", client_event_id: "s-1", artist_id: ARTIST, payload: { track_id: TRACK } },
    { kind: "social.unfollow", client_event_id: "u-1", artist_id: ARTIST },
  ];
  const results: EventResult[] = await passport.logEvents(queue);
  const first = results[0];
  if (first.status === "rejected") {
    expectType<Exact<typeof first.code, import("../../supabase/types/passport.ts").RejectionCode>>(true);
  } else expectType<Exact<typeof first.id, number>>(true);

  await passport.logEvent("audio.play", {
    client_event_id: "p-2",
    artist_id: ARTIST,
    // @ts-expect-error a required payload field is missing (duration_ms)
    payload: { track_id: TRACK },
  });
  await passport.logEvent("audio.play", {
    client_event_id: "p-3",
    artist_id: ARTIST,
    // @ts-expect-error a payload field of the wrong type
    payload: { track_id: TRACK, duration_ms: "long" },
  });
  await passport.logEvent("audio.play", {
    client_event_id: "p-4",
    artist_id: ARTIST,
    // @ts-expect-error a payload field the kind does not declare
    payload: { track_id: TRACK, duration_ms: 1, mood: "happy" },
  });
  // @ts-expect-error an unknown kind
  await passport.logEvent("audio.plya", { client_event_id: "p-5" });
  // @ts-expect-error the kind needs an artist
  await passport.logEvent("social.follow", { client_event_id: "f-2" });
  // @ts-expect-error money is never logged by the app: treasury kinds are for the service role
  await passport.logEvent("treasury.money_spent", { client_event_id: "m-1" });
  // @ts-expect-error a kind without payload fields takes none
  await passport.logEvent("social.unfollow", { client_event_id: "u-3", artist_id: ARTIST, payload: { mood: "sad" } });
  // @ts-expect-error client_event_id is required
  await passport.logEvent("social.unfollow", { artist_id: ARTIST });
  // @ts-expect-error a user's event never names its user (forbidden_field)
  await passport.logEvent("social.unfollow", { client_event_id: "u-2", artist_id: ARTIST, user_id: USER });
  await passport.logEvents([
    // @ts-expect-error in a batch too: the wrong type of a payload field
    { kind: "audio.like", client_event_id: "l-1", artist_id: ARTIST, payload: { track_id: 42 } },
  ]);
  await passport.logEvent("audio_play", {
    client_event_id: "old-2",
    // @ts-expect-error under the alias the artist is payload.artistId; an envelope artist_id beside it is refused
    artist_id: ARTIST,
    payload: { artistId: ARTIST, trackId: TRACK, duration_ms: 1000 },
  });
}

export async function compilesServicePassportLog(service = servicePassportLog(fakeClient([]))) {
  await service.logEvent("treasury.money_spent", {
    client_event_id: "pi_3PxQ",
    user_id: USER,
    source: "treasury",
    payload: { payment_id: "pi_3PxQ", amount_minor: 1500, currency: "EUR", product_type: "ticket" },
  });
  // @ts-expect-error the service role names the user
  await service.logEvent("social.unfollow", { client_event_id: "u-1", artist_id: ARTIST });
  await service.logEvent("treasury.money_spent", {
    client_event_id: "pi_3PxR",
    user_id: USER,
    // @ts-expect-error a source that may not log the kind (forbidden_kind)
    source: "app",
    payload: { payment_id: "pi_3PxR", amount_minor: 1500, currency: "EUR", product_type: "ticket" },
  });
}

export async function compilesRpc() {
  const supabase = createClient<Database>("http://127.0.0.1:54321", "anon-key");

  // Good calls: supabase-js types the arguments and the result from Database itself.
  const matches = await supabase.schema("companon").rpc("match_artists", { campaign_id: ARTIST, lim: 10 });
  if (matches.data) {
    expectType<Exact<typeof matches.data[number]["similarity"], number>>(true);
    expectType<Exact<typeof matches.data[number]["drivers"], Json>>(true);
  }
  const plan = await supabase.schema("coliseum").rpc("my_plan");
  if (plan.data !== null) expectType<Exact<typeof plan.data, string>>(true);
  const board = await supabase.schema("coliseum").rpc("leaderboard", { domain: "A", range: "7d" })
    .order("rank").limit(10);
  if (board.data) expectType<Exact<typeof board.data[number]["artist_id"], string>>(true);
  const timeline = await supabase.schema("passport").rpc("timeline", { kinds: ["audio.play"], page_size: 50 });
  if (timeline.data) expectType<Exact<typeof timeline.data[number]["payload"], Json>>(true);
  const args: FunctionArgs<"companon", "make_offer"> = {
    campaign_id: ARTIST,
    artist_id: ARTIST,
    amount_minor: 50_000,
    terms: "two posts",
  };
  await supabase.schema("companon").rpc("make_offer", args);

  // @ts-expect-error a wrong argument name (campaign_id is required)
  await supabase.schema("companon").rpc("match_artists", { campaign: ARTIST });
  // @ts-expect-error a wrong argument type
  await supabase.schema("companon").rpc("match_artists", { campaign_id: ARTIST, lim: "10" });
  // @ts-expect-error a function the app may not call (not granted to anon or authenticated) is not there
  await supabase.schema("coliseum").rpc("process_pending", { n: 10 });
  // @ts-expect-error a function of another schema
  await supabase.schema("treasury").rpc("match_artists", { campaign_id: ARTIST });
  // @ts-expect-error a schema that is not exposed
  supabase.schema("companon_private");
  if (matches.data) {
    // @ts-expect-error the result's columns are typed: match_artists has no column `name`
    matches.data[0].name;
  }

  // Tables and views the app may read are typed the same way.
  expectType<Exact<Tables<"public", "event_tickets">["owner_id"], string>>(true);
  expectType<Exact<Tables<"public", "event_tickets">["redeemed_at"], string | null>>(true);
  const tiers = await supabase.schema("concierto").from("ticket_tiers").select("id, name, price_minor");
  if (tiers.data) expectType<Exact<typeof tiers.data[number]["price_minor"], number>>(true);
  // @ts-expect-error a column the table does not have
  await supabase.schema("concierto").from("ticket_tiers").select("id").eq("no_such_column", 1);
}

/** A stand-in for supabase-js's functions client: records the bodies, answers what it is given. */
function fakeClient(answers: Array<{ data: unknown; error: unknown }>, bodies: unknown[] = []): FunctionsInvoker {
  return {
    functions: {
      invoke(name, options) {
        assertEquals(name, "passport-log");
        bodies.push(options.body);
        const answer = answers.shift();
        if (!answer) throw new Error("no answer left");
        return Promise.resolve(answer);
      },
    },
  };
}

/** What supabase-js gives for a non-2xx answer: a FunctionsHttpError whose context is the Response. */
function httpError(status: number, body: unknown, headers: Record<string, string> = {}) {
  return {
    data: null,
    error: Object.assign(new Error("Edge Function returned a non-2xx status code"), {
      context: new Response(JSON.stringify(body), {
        status,
        headers: { "content-type": "application/json", ...headers },
      }),
    }),
  };
}

Deno.test("logEvent sends one event in a batch and answers its result", async () => {
  const bodies: unknown[] = [];
  const passport = passportLog(
    fakeClient([{ data: { results: [{ status: "accepted", id: 1042 }] }, error: null }], bodies),
  );
  const result = await passport.logEvent("social.follow", { client_event_id: "f-1", artist_id: ARTIST });
  assertEquals(result, { status: "accepted", id: 1042 });
  assertEquals(bodies, [{ events: [{ client_event_id: "f-1", artist_id: ARTIST, kind: "social.follow" }] }]);
});

Deno.test("logEvents answers per event, in order, rejections included", async () => {
  const answer: EventResult[] = [
    { status: "accepted", id: 1 },
    { status: "duplicate", id: 1 },
    {
      status: "rejected",
      code: "occurred_too_long_ago",
      message: "occurred_at is more than 30 days before the event was sent",
    },
  ];
  const passport = passportLog(fakeClient([{ data: { results: answer }, error: null }]));
  const event: AppEvent = { kind: "social.unfollow", client_event_id: "u-1", artist_id: ARTIST };
  assertEquals(await passport.logEvents([event, event, event]), answer);
});

Deno.test("a refused request is a PassportLogError with the function's code and Retry-After", async () => {
  const passport = passportLog(fakeClient([
    httpError(429, { code: "rate_limited", message: "rate limited: retry in 9 s" }, { "retry-after": "9" }),
    httpError(500, { code: "internal", message: "the function failed", request_id: "req-1" }),
    {
      data: null,
      error: Object.assign(new Error("Failed to send a request to the Edge Function"), {
        context: new TypeError("fetch failed"),
      }),
    },
  ]));
  const event: AppEvent = { kind: "social.unfollow", client_event_id: "u-1", artist_id: ARTIST };
  const refused = async () => {
    try {
      await passport.logEvents([event]);
    } catch (e) {
      assert(e instanceof PassportLogError, String(e));
      return e;
    }
    throw new Error("no error");
  };
  const limited = await refused();
  assertEquals([limited.status, limited.code, limited.retryAfterS, limited.message], [
    429,
    "rate_limited",
    9,
    "rate limited: retry in 9 s",
  ]);
  const internal = await refused();
  assertEquals([internal.status, internal.code, internal.retryAfterS, internal.requestId], [
    500,
    "internal",
    null,
    "req-1",
  ]);
  const unreachable = await refused();
  assertEquals([unreachable.status, unreachable.code], [null, "unreachable"]);
});

Deno.test("a batch of 0 or more than 500 events is refused before it is sent", async () => {
  const passport = passportLog(fakeClient([]));
  const event: AppEvent = { kind: "social.unfollow", client_event_id: "u-1", artist_id: ARTIST };
  for (const events of [[], Array(501).fill(event)]) {
    let error: unknown;
    try {
      await passport.logEvents(events);
    } catch (e) {
      error = e;
    }
    assert(error instanceof RangeError, String(error));
  }
});

Deno.test("EVENT_KINDS lists the catalog's kinds", () => {
  assert(EVENT_KINDS.includes("audio.play"));
  assertEquals(new Set(EVENT_KINDS).size, EVENT_KINDS.length);
});
