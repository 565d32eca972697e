// The Passport part of `./stack demo`: a few listeners use the app for a week
// (plays, likes, follows, shares, votes, RSVPs …), their phones retry some
// requests and a buggy build sends some bad events; Treasury logs purchases
// on their behalf. Everything goes through passport-log over HTTP.
import { asRole, callFunction, newUser, serviceToken, type Sql, type User, uuid } from "../lib/stack.ts";

const DAY = 86_400_000;

export interface DemoWorld {
  fans: (User & { name: string; city: string; country: string })[];
  artists: { id: string; name: string; genre: string }[];
}

const FANS: [string, string, string][] = [
  ["amara", "Lagos", "NG"], ["bruno", "São Paulo", "BR"], ["chloe", "Paris", "FR"], ["dev", "Mumbai", "IN"],
  ["emeka", "Lagos", "NG"], ["fatima", "Casablanca", "MA"], ["gus", "Austin", "US"], ["hana", "Tokyo", "JP"],
];
const ARTISTS: [string, string][] = [
  ["Tems Ade", "afrobeats"], ["Luz Norte", "reggaeton"], ["Kofi Waves", "highlife"], ["Mira Vale", "indie pop"],
  ["DJ Sable", "amapiano"], ["Oren Gray", "jazz"], ["Nia Bloom", "r&b"], ["Sol Rivera", "latin trap"],
];

function pick<T>(items: readonly T[], i: number): T {
  return items[Math.abs(i) % items.length];
}

export async function createWorld(sql: Sql): Promise<DemoWorld> {
  const fans = [];
  for (const [name, city, country] of FANS) {
    fans.push({ ...(await newUser(sql, `${name}.${uuid().slice(0, 8)}@demo.buckets.local`)), name, city, country });
  }
  const artists = ARTISTS.map(([name, genre]) => ({ id: uuid(), name, genre }));
  return { fans, artists };
}

/** One plausible app event for a fan at a moment of the week. */
function appEvent(world: DemoWorld, fan: DemoWorld["fans"][number], i: number, at: number) {
  const artist = pick(world.artists, i * 7 + fan.name.length);
  const track = uuid();
  const where = { city: fan.city, country: fan.country };
  const base = { client_event_id: uuid(), artist_id: artist.id, occurred_at: new Date(at).toISOString() };
  const roll = i % 25;
  if (roll < 9) return { ...base, kind: "audio.play", payload: { track_id: track, duration_ms: 10_000 + (i * 7919) % 200_000, genre: artist.genre, ...where } };
  if (roll < 11) return { ...base, kind: "audio.complete", payload: { track_id: track, genre: artist.genre, ...where } };
  if (roll < 12) return { ...base, kind: "audio.skip", payload: { track_id: track, position_ms: (i * 31) % 20_000 } };
  if (roll < 14) return { ...base, kind: "audio.like", payload: { track_id: track, genre: artist.genre } };
  if (roll < 15) return { ...base, kind: "audio.playlist_add", payload: { track_id: track, playlist_id: uuid(), genre: artist.genre } };
  if (roll < 16) return { ...base, kind: "audio.share", payload: { track_id: track, channel: "whatsapp" } };
  if (roll < 17) return { ...base, kind: "social.follow", payload: where };
  if (roll < 18) return { ...base, kind: "social.vote_cast", payload: { contest_id: uuid() } };
  if (roll < 19) return { ...base, kind: "concierto.event_rsvp", payload: { event_id: uuid(), ...where } };
  if (roll < 20) return { ...base, kind: "social.comment", payload: { comment_id: uuid(), target_id: track } };
  if (roll < 21) return { ...base, kind: "social.profile_view", payload: {} };
  if (roll < 22) return { ...base, kind: "drop.viewed", payload: { drop_id: uuid() } };
  if (roll < 23) return { ...base, kind: "merch.viewed", payload: { product_id: uuid() } };
  if (roll < 24) return { ...base, kind: "companon.campaign_clicked", payload: { campaign_id: uuid() } };
  const { artist_id: _none, ...noArtist } = base;
  return { ...noArtist, kind: "system.session_started", payload: { platform: i % 2 ? "ios" : "android", app_version: "4.2.0" } };
}

/** What every fan does first: say where they live and what they like. */
function profileEvents(fan: DemoWorld["fans"][number], genre: string, at: number) {
  const occurred_at = new Date(at).toISOString();
  return [
    { kind: "profile.created", client_event_id: uuid(), occurred_at, payload: { role: "fan" } },
    { kind: "profile.location_set", client_event_id: uuid(), occurred_at, payload: { city: fan.city, country: fan.country } },
    { kind: "profile.genre_preference_set", client_event_id: uuid(), occurred_at, payload: { genre } },
  ];
}

/** What a buggy client build gets wrong. */
function badEvent(world: DemoWorld, i: number, now: number) {
  const artist = pick(world.artists, i).id;
  const id = uuid();
  switch (i % 6) {
    case 0: return { kind: "audio.play", client_event_id: id, artist_id: artist, payload: { track_id: uuid() } };
    case 1: return { kind: "audio.plays", client_event_id: id, artist_id: artist, payload: {} };
    case 2: return { kind: "audio.play", client_event_id: id, payload: { track_id: uuid(), duration_ms: 40_000 } };
    case 3: return { kind: "audio.like", client_event_id: id, artist_id: artist, payload: { track_id: "track-42" } };
    case 4: return { kind: "social.follow", client_event_id: id, artist_id: artist, occurred_at: new Date(now + 2 * 3_600_000).toISOString() };
    default: return { kind: "treasury.money_spent", client_event_id: id, payload: { payment_id: "pi_fake", amount_minor: 999_999, currency: "USD", product_type: "tip" } };
  }
}

export interface Tally {
  accepted: number;
  duplicate: number;
  rejected: Map<string, number>;
  requests: number;
}

async function send(tally: Tally, token: string, events: unknown[]) {
  const res = await callFunction("passport-log", { events }, { token });
  tally.requests += 1;
  if (res.status !== 200) throw new Error(`passport-log answered ${res.status}: ${JSON.stringify(res.body)}`);
  for (const r of res.body.results) {
    if (r.status === "rejected") tally.rejected.set(r.code, (tally.rejected.get(r.code) ?? 0) + 1);
    else tally[r.status as "accepted" | "duplicate"] += 1;
  }
}

export async function runPassportDemo(sql: Sql, world: DemoWorld, eventsPerFan = 400): Promise<Tally> {
  const now = Date.now();
  const tally: Tally = { accepted: 0, duplicate: 0, rejected: new Map(), requests: 0 };
  await Promise.all(world.fans.map(async (fan, f) => {
    const events: any[] = profileEvents(fan, pick(world.artists, f).genre, now - 8 * DAY);
    for (let i = 0; i < eventsPerFan; i++) {
      events.push(appEvent(world, fan, i + f * 1000, now - 7 * DAY + (i / eventsPerFan) * 7 * DAY));
      if (i % 40 === 0) events.push(badEvent(world, i / 40 + f, now));
    }
    for (let i = 0; i < events.length; i += 100) {
      const batch = events.slice(i, i + 100);
      await send(tally, fan.token, batch);
      // A flaky connection: the phone did not see the answer and sends a third of it again.
      if ((i / 100) % 2 === 1) await send(tally, fan.token, batch.slice(0, 33));
    }
  }));
  // Treasury records purchases for some fans, on their behalf, with the service role.
  const purchases = world.fans.slice(0, 5).map((fan, i) => ({
    kind: "treasury.money_spent",
    client_event_id: `demo:pi_${uuid()}:spent`,
    user_id: fan.id,
    source: "treasury",
    payload: { payment_id: `pi_demo_${i}`, amount_minor: 1500 + i * 500, currency: "EUR", product_type: "ticket" },
  }));
  await send(tally, serviceToken(), purchases);
  return tally;
}

export async function timelineOf(sql: Sql, fan: User, pageSize: number) {
  return await asRole(sql, "authenticated", fan.id, (tx) =>
    tx`select id, kind, artist_id, payload, occurred_at from passport.timeline(page_size => ${pageSize})`);
}
