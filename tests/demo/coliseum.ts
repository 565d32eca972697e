// The Coliseum part of `./stack demo`: a few hundred artists and a few
// thousand fans live through a week on the platform — plays, likes, follows,
// shares, tips, merch, attendance — all logged through passport-log over HTTP
// (money and attendance by the service role, as Treasury and Concierto will).
// Nobody calls the processor: pg_coliseum's background worker folds the log
// into DNA as it arrives. Then the boards and one artist's profile, as the
// app reads them.
import { asRole, callFunction, newUser, pendingEntries, serviceToken, type Sql, userToken, uuid } from "../lib/stack.ts";
import { heading, table } from "../lib/print.ts";

const DAY = 86_400_000;
const GENRES = ["afrobeats", "amapiano", "highlife", "reggaeton", "indie pop", "jazz", "r&b", "latin trap"];
const PLACES: [string, string][] = [
  ["Lagos", "NG"], ["Accra", "GH"], ["Nairobi", "KE"], ["Johannesburg", "ZA"], ["London", "GB"], ["Paris", "FR"],
  ["São Paulo", "BR"], ["Mexico City", "MX"], ["Austin", "US"], ["Toronto", "CA"], ["Mumbai", "IN"], ["Tokyo", "JP"],
];
const SYLLABLES = ["ko", "fi", "ra", "mi", "ze", "lo", "na", "tu", "sa", "vi", "de", "mo", "ka", "yu", "be", "lu"];

/** A deterministic pseudo-random sequence, so each run tells the same story. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

interface Artist { id: string; name: string; genre: string; pull: number }
interface Fan { id: string; token: string; home: [string, string]; taste: string }

async function createPeople(sql: Sql, artistCount: number, fanCount: number, rand: () => number) {
  const artists: Artist[] = Array.from({ length: artistCount }, (_, i) => {
    const name = [0, 1, 2].map(() => SYLLABLES[Math.floor(rand() * SYLLABLES.length)]).join("");
    return { id: uuid(), name: `${name[0].toUpperCase()}${name.slice(1)} ${i}`, genre: GENRES[i % GENRES.length], pull: rand() ** 3 };
  });
  const fans: Fan[] = [];
  for (let i = 0; i < fanCount; i++) {
    const id = uuid();
    fans.push({ id, token: "", home: PLACES[Math.floor(rand() ** 2 * PLACES.length)], taste: GENRES[Math.floor(rand() * GENRES.length)] });
  }
  const users = [...artists.map((a) => ({ id: a.id, email: `artist.${a.id.slice(0, 8)}@demo.buckets.local` })),
    ...fans.map((f) => ({ id: f.id, email: `fan.${f.id.slice(0, 8)}@demo.buckets.local` }))];
  for (let i = 0; i < users.length; i += 1000) await sql`insert into auth.users ${sql(users.slice(i, i + 1000), "id", "email")}`;
  for (const f of fans) f.token = await userToken(f.id);
  return { artists, fans };
}

/** Picks an artist, favouring those with more pull and the fan's taste. */
function pickArtist(artists: Artist[], fan: Fan, rand: () => number): Artist {
  for (;;) {
    const a = artists[Math.floor(rand() * artists.length)];
    const affinity = a.genre === fan.taste ? 1 : 0.35;
    if (rand() < (0.15 + a.pull) * affinity) return a;
  }
}

function fanWeek(fan: Fan, artists: Artist[], rand: () => number, now: number) {
  const [city, country] = fan.home;
  const at = (d: number) => new Date(now - d).toISOString();
  const events: any[] = [
    { kind: "profile.location_set", client_event_id: uuid(), occurred_at: at(8 * DAY), payload: { city, country } },
    { kind: "profile.genre_preference_set", client_event_id: uuid(), occurred_at: at(8 * DAY), payload: { genre: fan.taste } },
  ];
  const money: any[] = [];
  const sessions = 2 + Math.floor(rand() * 8);
  for (let s = 0; s < sessions; s++) {
    const artist = pickArtist(artists, fan, rand);
    const when = rand() * 7 * DAY;
    const track = uuid();
    const plays = 1 + Math.floor(rand() * 5);
    for (let p = 0; p < plays; p++) {
      events.push({ kind: "audio.play", client_event_id: uuid(), artist_id: artist.id, occurred_at: at(when - p * 240_000),
        payload: { track_id: track, duration_ms: Math.floor(10_000 + rand() * 220_000), genre: artist.genre } });
    }
    const r = rand();
    if (r < 0.3) events.push({ kind: "audio.like", client_event_id: uuid(), artist_id: artist.id, occurred_at: at(when), payload: { track_id: track, genre: artist.genre } });
    else if (r < 0.42) events.push({ kind: "social.follow", client_event_id: uuid(), artist_id: artist.id, occurred_at: at(when), payload: {} });
    else if (r < 0.5) events.push({ kind: "audio.share", client_event_id: uuid(), artist_id: artist.id, occurred_at: at(when), payload: { track_id: track, channel: "whatsapp", genre: artist.genre } });
    else if (r < 0.56) events.push({ kind: "audio.playlist_add", client_event_id: uuid(), artist_id: artist.id, occurred_at: at(when), payload: { track_id: track, playlist_id: uuid(), genre: artist.genre } });
    const base = { user_id: fan.id, client_event_id: uuid(), artist_id: artist.id, occurred_at: at(when) };
    const m = rand();
    if (m < 0.05) money.push({ ...base, source: "treasury", kind: "tip.sent", payload: { payment_id: `pi_${uuid().slice(0, 12)}`, amount_minor: 200 + Math.floor(rand() * 1800), currency: "USD" } });
    else if (m < 0.08) money.push({ ...base, source: "treasury", kind: "merch.purchased", payload: { product_id: uuid(), quantity: 1, amount_minor: 2500, currency: "EUR", city, country } });
    else if (m < 0.11) money.push({ ...base, source: "concierto", kind: "concierto.event_attended", payload: { event_id: uuid(), city, country } });
  }
  return { events, money };
}

export async function runColiseumDemo(sql: Sql, otherNames: Map<string, string>, artistCount = 300, fanCount = 3000) {
  const rand = rng(20261122);
  const started = performance.now();
  const { artists, fans } = await createPeople(sql, artistCount, fanCount, rand);
  const names = new Map([...otherNames, ...artists.map((a) => [a.id, a.name] as [string, string])]);
  const now = Date.now();
  const weeks = fans.map((f) => ({ fan: f, ...fanWeek(f, artists, rand, now) }));
  let sent = 0;
  const queue = [...weeks];
  await Promise.all(Array.from({ length: 16 }, async () => {
    for (let w = queue.shift(); w; w = queue.shift()) {
      const res = await callFunction("passport-log", { events: w.events }, { token: w.fan.token });
      if (res.status !== 200) throw new Error(`passport-log answered ${res.status}: ${JSON.stringify(res.body)}`);
      sent += w.events.length;
    }
  }));
  const money = weeks.flatMap((w) => w.money);
  for (let i = 0; i < money.length; i += 500) {
    const res = await callFunction("passport-log", { events: money.slice(i, i + 500) }, { token: serviceToken() });
    if (res.status !== 200) throw new Error(`passport-log answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  sent += money.length;
  const loggedIn = (performance.now() - started) / 1000;
  while ((await pendingEntries(sql)) > 0) await new Promise((r) => setTimeout(r, 100));
  const [{ mutations }] = await sql`select count(*)::int as mutations from public.coliseum_dna_mutations where artist_id = any(${artists.map((a) => a.id)}::uuid[])`;

  heading(`Coliseum — ${artistCount} artists, ${fanCount} fans, a week of activity`);
  console.log(`${sent} events logged over HTTP in ${loggedIn.toFixed(1)} s; the background worker had folded them into ${mutations} DNA mutations ` +
    `${((performance.now() - started) / 1000 - loggedIn).toFixed(1)} s later.`);

  const viewer = await newUser(sql);
  await sql`select coliseum.set_plan(${viewer.id}::uuid, 'pro')`;
  for (const [domain, title] of [["overall", "Overall"], ["A", "A — cultural"], ["T", "T — behavioral"], ["G", "G — economic"], ["C", "C — spatial"]]) {
    heading(`${title}, last 7 days (coliseum.leaderboard as a pro user)`);
    const rows = await asRole(sql, "authenticated", viewer.id, (tx) => tx`select rank, artist_id, score, change from coliseum.leaderboard(${domain}, '7d', 5, 0)`);
    table(["#", "artist", "score", "change (vs the board a period ago)"], rows.map((r: any) => [r.rank, names.get(r.artist_id) ?? r.artist_id.slice(0, 8), r.score.toFixed(1), r.change === null ? "new" : r.change.toFixed(1)]), ["r", "l", "r", "r"]);
  }

  heading("Plans are enforced in SQL: a free user asks for the T board");
  const free = await newUser(sql);
  try {
    await asRole(sql, "authenticated", free.id, (tx) => tx`select * from coliseum.leaderboard('T', '7d', 10, 0)`);
    console.log("(unexpectedly allowed)");
  } catch (e: any) {
    console.log(`refused: ${e.message} [SQLSTATE ${e.code}]`);
  }

  const [top] = await asRole(sql, "authenticated", viewer.id, (tx) => tx`select artist_id from coliseum.leaderboard('overall', '7d', 1, 0)`);
  const profile = await asRole(sql, "authenticated", top.artist_id, (tx) => tx`select coliseum.artist_profile(${top.artist_id}::uuid) as p`);
  const p = profile[0].p;
  heading(`${names.get(top.artist_id)}'s DNA (coliseum.artist_profile, as the artist)`);
  const fmt = (v: unknown) => typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : String(v);
  table(["domain", "7d score", "rank", "30d score", "all-time", "components (7d)"], ["A", "T", "G", "C", "overall"].map((d) => {
    const b = p.boards[d];
    const comps = Object.entries(b["7d"]?.components ?? {}).map(([k, v]) => `${k}=${fmt(v)}`).join(" ");
    return [d, b["7d"]?.score?.toFixed(1) ?? "—", b["7d"]?.rank ?? "—", b["30d"]?.score?.toFixed(1) ?? "—", b.alltime?.score?.toFixed(1) ?? "—", comps.slice(0, 70)];
  }), ["l", "r", "r", "r", "r", "l"]);
  const growth = Object.entries(p.growth ?? {}).map(([d, g]: [string, any]) => `${d} ${g?.percent === null || g?.percent === undefined ? "new" : `${g.percent >= 0 ? "+" : ""}${g.percent.toFixed(0)}%`}`);
  console.log(`\ngrowth, last 7 days vs the 7 before: ${growth.join(", ")}`);
  const notes = await asRole(sql, "authenticated", top.artist_id, (tx) => tx`select message from coliseum.notifications where artist_id = ${top.artist_id} order by id desc limit 3`);
  if (notes.length) console.log(`latest notifications: ${notes.map((n: any) => `“${n.message}”`).join("; ")}`);
  return names;
}
