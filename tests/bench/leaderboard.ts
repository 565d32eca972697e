// ./stack bench leaderboard — leaderboard reads on the main cluster, against the bare index read of the same rows
// in the same run: BENCH_ARTISTS (100,000) artists on the A and overall boards of every period
// (tests/bench/leaderboard_seed.sql), committed and analysed, then removed (leaderboard_cleanup.sql).
// 1. the top 100 of board A / 7d at BENCH_READERS (16) concurrent readers, one transaction per read with the role
//    and JWT claims set locally as PostgREST runs an RPC: `coliseum.leaderboard('A','7d',100,0)` as an enterprise
//    user, and the bare index read as postgres (no plan check, no ranks, no change);
// 2. the same RPC once the reference days have history (leaderboard_history.sql: every artist scored then, within
//    2 points of today), so that `change` and `previous_rank` are looked up for every row: first with the reference
//    day ranked at read time (nothing stored yet: the path of a day rewritten since it was ranked, and the code
//    before stored ranks), then with its ranks stored by `coliseum_private.rank_history_days()` as pg_cron stores them;
// 3. the other seeded boards (overall 7d, A 30d, A alltime) once each, with stored ranks.
// Every answer is checked against the same ranking computed in plain SQL before it is timed.
import postgres from "postgres";
import { env, newUser } from "../lib/stack.ts";
import { closedLoop, fmt, percentile, perSecond, type Run, writeSection } from "../lib/bench.ts";
import { cpuHeader, cpuRow, withCpu } from "../lib/cpu.ts";

const ARTISTS = Number(Deno.env.get("BENCH_ARTISTS") ?? 100_000);
const READERS = Number(Deno.env.get("BENCH_READERS") ?? 16);
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const PAGE = 100;
const seed = await Deno.readTextFile(new URL("./leaderboard_seed.sql", import.meta.url));
const history = await Deno.readTextFile(new URL("./leaderboard_history.sql", import.meta.url));
const cleanup = await Deno.readTextFile(new URL("./leaderboard_cleanup.sql", import.meta.url));
const main = postgres(env("SUPABASE_DB_URL"), { max: READERS + 2, onnotice: () => {} });
/** CPU milliseconds per read of each path, by process (tests/lib/cpu.ts), warm-up included. */
const cpuRows: string[] = [];

type Board = [domain: string, period: string];

/** The top PAGE of a board as the RPC must answer it, computed in plain SQL as postgres (no hold is open in the bench). */
async function expected([domain, period]: Board) {
  return await main`
    with today as (
      select s.artist_id, s.score, row_number() over (order by s.score desc, s.artist_id) as rank
      from public.coliseum_domain_strength as s where s.domain = ${domain} and s.period = ${period}
    ),
    reference as (
      select h.artist_id, h.score, row_number() over (order by h.score desc, h.artist_id) as rank
      from coliseum.strength_history as h
      where h.domain = ${domain} and h.period = ${period}
        and h.day = (now() at time zone 'UTC')::date - case ${period} when '30d' then 30 else 7 end
    )
    select t.rank::int, t.artist_id, t.score, t.score - r.score as change, r.rank::int as previous_rank
    from today as t left join reference as r on r.artist_id = t.artist_id
    where t.rank <= ${PAGE} order by t.rank`;
}

async function main_() {
  const reader = await newUser(main);
  await main`select coliseum.set_plan(${reader.id}::uuid, 'enterprise')`;
  const claims = JSON.stringify({ sub: reader.id, role: "authenticated" });
  const rpc = ([domain, period]: Board) =>
    main.begin(async (tx: any) => {
      await tx`select set_config('role', 'authenticated', true), set_config('request.jwt.claims', ${claims}, true)`;
      return await tx`select * from coliseum.leaderboard(${domain}, ${period}, ${PAGE}, 0)`;
    });
  const bareRead = () =>
    main.begin((tx: any) =>
      tx`select artist_id, score from public.coliseum_domain_strength where domain = 'A' and period = '7d'
         order by score desc, artist_id limit 100`
    );
  const check = async (board: Board) => {
    const [got, want] = [await rpc(board), await expected(board)];
    const same = got.length === want.length && got.every((r: any, i: number) =>
      r.rank === want[i].rank && r.artist_id === want[i].artist_id && r.score === want[i].score &&
      r.change === want[i].change && r.previous_rank === want[i].previous_rank);
    if (!same || got.length !== PAGE) throw new Error(`leaderboard('${board.join("', '")}') disagrees with the plain SQL ranking`);
  };
  const load = async (label: string, op: () => Promise<unknown>) => {
    let reads = 0;
    const [run, cpu] = await withCpu(undefined, () =>
      closedLoop(label, READERS, SECONDS, async () => {
        await op();
        reads += 1;
        return 1;
      }), () => reads);
    cpuRows.push(cpuRow(label, cpu));
    return run;
  };

  await check(["A", "7d"]);
  const bare = await load("bare index read, top 100", bareRead);
  const plain = await load("leaderboard A 7d, no history", () => rpc(["A", "7d"]));

  await main.unsafe(history);
  await main`vacuum analyze coliseum.strength_history`;
  await check(["A", "7d"]);
  const rankedAtRead = await load("leaderboard A 7d, with history, ranked at read time", () => rpc(["A", "7d"]));
  await main`select coliseum_private.rank_history_days()`;
  await main`vacuum analyze coliseum_private.history_ranks, coliseum_private.history_days`;
  const boards: Board[] = [["A", "7d"], ["overall", "7d"], ["A", "30d"], ["A", "alltime"]];
  const withHistory: Run[] = [];
  for (const board of boards) {
    await check(board);
    withHistory.push(await load(`leaderboard ${board.join(" ")}, with history`, () => rpc(board)));
  }
  const bareAfter = await load("bare index read, top 100, again", bareRead);
  return { bare, bareAfter, plain, rankedAtRead, withHistory, boards };
}

const cell = (r: Run) => `${fmt(percentile(r.latenciesMs, 50), 2)} | ${fmt(percentile(r.latenciesMs, 99), 2)} | ${fmt(perSecond(r))}`;
const ratio = (r: Run, base: Run, p: number) => fmt(percentile(r.latenciesMs, p) / percentile(base.latenciesMs, p), 2);

await main.unsafe(cleanup);
await main.begin((tx: any) => tx`select set_config('bench.artists', ${String(ARTISTS)}, true)`.then(() => tx.unsafe(seed)));
await main`vacuum analyze public.coliseum_domain_strength`;
let results;
try {
  results = await main_();
} finally {
  await main.unsafe(cleanup);
  await main`select coliseum_private.rank_history_days()`;
  await main`vacuum analyze public.coliseum_domain_strength, coliseum.strength_history, coliseum_private.history_ranks`;
}
await main.end();

const { bare, bareAfter, plain, rankedAtRead, withHistory, boards } = results;
const [historyA7] = withHistory;
const body = `Leaderboard reads: the top ${PAGE} of a board holding ${fmt(ARTISTS)} artists (\`tests/bench/leaderboard_seed.sql\`),
${READERS} concurrent readers, ${SECONDS} s each, one transaction per read (as PostgREST runs an RPC: role and JWT claims
set locally) on the main cluster. The baseline is the bare index read of the same top ${PAGE} as postgres
(\`order by score desc, artist_id limit 100\`: no plan check, no ranks, no change), measured before and after the RPC
runs. "With history": every artist also has a row on the board's reference day (\`leaderboard_history.sql\`: within
2 points of today's score), so \`change\` and \`previous_rank\` are looked up for every row: first with the reference
day ranked at read time (no stored ranks: the code before them, and the path of a day rewritten since it was ranked),
then from the ranks \`coliseum_private.rank_history_days()\` stores (pg_cron, every 10 minutes). Each RPC answer is
checked against the same ranking computed in plain SQL before it is timed.

| path | p50 ms | p99 ms | reads/s | p50 ÷ bare | p99 ÷ bare |
|---|---:|---:|---:|---:|---:|
| bare index read as postgres (baseline) | ${cell(bare)} | 1.00 | 1.00 |
| \`coliseum.leaderboard('A','7d',100,0)\` as an enterprise user, no history | ${cell(plain)} | ${ratio(plain, bare, 50)} | ${ratio(plain, bare, 99)} |
| \`coliseum.leaderboard('A','7d',100,0)\`, with history ranked at read time | ${cell(rankedAtRead)} | ${ratio(rankedAtRead, bare, 50)} | ${ratio(rankedAtRead, bare, 99)} |
${withHistory.map((r, i) =>
  `| \`coliseum.leaderboard('${boards[i][0]}','${boards[i][1]}',100,0)\`, with history, stored ranks | ${cell(r)} | ${ratio(r, bare, 50)} | ${ratio(r, bare, 99)} |`
).join("\n")}
| bare index read again (after the RPC runs) | ${cell(bareAfter)} | ${ratio(bareAfter, bare, 50)} | ${ratio(bareAfter, bare, 99)} |

CPU milliseconds per read, by process (warm-up included; \`postgres\`: the sessions, \`background\`: the rest of
Postgres, pg_cron and the Coliseum worker among it; \`client\`: the bench itself, postgres.js in Deno, parsing the rows):

${cpuHeader}
${cpuRows.join("\n")}

- goal (issue 15): the RPC's p99 at most 2× the bare read's: ${ratio(plain, bare, 99)}× without history,
  ${ratio(historyA7, bare, 99)}× with history from stored ranks (A 7d; ${ratio(rankedAtRead, bare, 99)}× ranked at read time).`;
await writeSection("leaderboard", "Coliseum: leaderboard reads (`./stack bench leaderboard`)", body);
console.log(body);
