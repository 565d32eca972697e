// ./stack bench treasury — in one run:
// 1. the baseline the issue names: a plain double-entry transfer (a transfer row, two entries, two balance updates
//    under row locks taken in account order, like pgledger's pgledger_create_transfer), at 1 and N clients;
// 2. payments/s through the production path: signed payment_intent.succeeded events POSTed to stripe-webhook
//    (gateway, Deno, WASM signature check, treasury.record_stripe_event, then the applier driven as the webhook
//    drives it, treasury.drive_stripe_events), and the same statements over plain connections ("direct"), at 1 and N
//    clients: answered/s, applied/s (until the last event of the run was applied) and the event → ledger delay (from
//    the request's start until the event has left `received`);
// 3. treasury.receive_stripe_event (record + the batch applier in the caller's transaction), one payment per transaction;
//    what the HTTP path costs by itself (stripe-webhook answering deliveries of events already recorded: no batch) and
//    recording alone without HTTP, its backlog then applied by one caller (one applier's rate); where one payment's
//    database time goes, by function (pg_stat_xact_user_functions of a batch of BENCH_N payments, 200 by default);
// 4. the split math: coliseum.allocate_split and allocate_refund over 1M rows with pg_coliseum (main cluster) and
//    with the SQL twins (hosted-shape cluster), against the bare cost of producing the rows; and the round trip of single
//    calls against a bare SELECT.
// BENCH_TREASURY=work prints only where one payment's database time goes (BENCH_N payments in one batch, default 200;
// about a second, BENCHMARKS.md untouched): the quick loop for work on the applier. BENCH_TREASURY=drive runs only the
// driven paths (direct, then HTTP) at BENCH_CLIENTS and prints them.
import postgres from "postgres";
import { db, env, type Sql } from "../lib/stack.ts";
import { closedLoop, fmt, percentile, perSecond, type Run, writeSection } from "../lib/bench.ts";
import { newProduct, payloadOf, paymentIntentSucceeded, post, type Product, sale, signatureHeader } from "../lib/stripe.ts";

const CLIENTS = Number(Deno.env.get("BENCH_CLIENTS") ?? 16);
const SECONDS = Number(Deno.env.get("BENCH_SECONDS") ?? 5);
const ROWS = Number(Deno.env.get("BENCH_SPLIT_ROWS") ?? 1_000_000);
const WORK_N = Number(Deno.env.get("BENCH_N") ?? 200); // payments in the batch whose database work is broken down
const TRANSFER_ACCOUNTS = 100;

const main = db(CLIENTS + 4);
const twins = postgres(env("BUCKETS_HOSTED_DB_URL"), { max: CLIENTS + 4, onnotice: () => {} });
const BUYERS = Array.from({ length: 1000 }, () => crypto.randomUUID());
const AMOUNTS = [499, 1001, 2500, 3333, 4999, 6000, 12_345];

async function products(sql: Sql): Promise<Product[]> {
  const out: Product[] = [];
  for (const bp of [[7000, 2000, 1000], [6500, 2500, 1000], [3333, 3333, 3334], [8500, 1000, 500]] as const) out.push(await newProduct(sql, { bp: [...bp] }));
  return out;
}

/** A realistic payment event (a PaymentIntent that succeeded, with the metadata contract), as Stripe sends it. */
function paymentEvent(catalogue: Product[], client: number, i: number) {
  const product = catalogue[(client + i) % catalogue.length];
  const s = sale(product, BUYERS[(client * 7919 + i) % BUYERS.length], AMOUNTS[(client + i * 3) % AMOUNTS.length]);
  return paymentIntentSucceeded(s);
}

function expectStatus(body: any, status: string, where: string) {
  if (body?.status !== status) throw new Error(`${where}: ${JSON.stringify(body)}`);
}

/**
 * Watches the applier's queue (the partial index of `received` events) every 10 ms: an event whose recording was
 * answered and that is no longer received was applied; its delay runs from its request's start to that poll.
 */
class Watch {
  private waiting = new Map<string, number>();
  readonly delaysMs: number[] = [];
  maxBacklog = 0;
  private stopped = false;
  private loop: Promise<void>;
  constructor(private sql: Sql) {
    this.loop = this.run();
  }
  recorded(eventId: string, startedAt: number) {
    this.waiting.set(eventId, startedAt);
  }
  private async run() {
    let deadline = Infinity;
    while (!this.stopped || this.waiting.size > 0) {
      if (this.stopped && deadline === Infinity) deadline = performance.now() + 30_000;
      if (performance.now() > deadline) throw new Error(`${this.waiting.size} recorded events were not applied within 30 s`);
      const rows = await this.sql`select event_id from treasury.stripe_events where status = 'received'`;
      const now = performance.now();
      this.maxBacklog = Math.max(this.maxBacklog, rows.length);
      const pending = new Set(rows.map((r) => r.event_id as string));
      for (const [id, t0] of this.waiting) {
        if (!pending.has(id)) {
          this.delaysMs.push(now - t0);
          this.waiting.delete(id);
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
  /** Waits until every recorded event was applied; answers the ms it took after the run ended. */
  async drain(): Promise<number> {
    const t0 = performance.now();
    this.stopped = true;
    await this.loop;
    this.delaysMs.sort((a, b) => a - b);
    return performance.now() - t0;
  }
}

interface Measured {
  run: Run;
  watch?: Watch;
  drainMs?: number;
}

/** Payments applied per second: the run's, from its start until its last event was applied. */
const appliedPerSecond = (m: Measured) => m.drainMs === undefined ? undefined : m.run.items / (m.run.seconds + m.drainMs / 1000);

/** Drives the applier as stripe-webhook does after recording (batches of 64, MAX_DRIVE_ROUNDS 8; the last call promises nothing). */
async function driveAsTheWebhook(sql: Sql) {
  for (let round = 1; round <= 8; round++) {
    const [{ result }] = await sql`select treasury.drive_stripe_events(64, ${round < 8}) as result`;
    if (!result.again) return;
  }
}

async function viaWebhook(catalogue: Product[], clients: number): Promise<Measured> {
  const watch = new Watch(main);
  const run = await closedLoop(`stripe-webhook, ${clients} clients`, clients, SECONDS, async (client, i) => {
    const payload = payloadOf(paymentEvent(catalogue, client, i));
    const t0 = performance.now();
    const res = await post(payload, { header: await signatureHeader(payload), wait: false });
    if (res.status !== 200) throw new Error(`stripe-webhook answered ${res.status}: ${JSON.stringify(res.body)}`);
    expectStatus(res.answer, "received", "stripe-webhook");
    watch.recorded(res.answer.event_id, t0);
    return 1;
  });
  return { run, watch, drainMs: await watch.drain() };
}

/** What the webhook does, over plain connections: record (its own transaction), then drive the applier. */
async function recordAndDrive(sql: Sql, catalogue: Product[], clients: number, label: string): Promise<Measured> {
  const watch = new Watch(sql);
  const run = await closedLoop(label, clients, SECONDS, async (client, i) => {
    const t0 = performance.now();
    const [{ result }] = await sql`select treasury.record_stripe_event(${sql.json(paymentEvent(catalogue, client, i) as any)}::jsonb) as result`;
    expectStatus(result, "received", label);
    watch.recorded(result.event_id, t0);
    await driveAsTheWebhook(sql);
    return 1;
  });
  return { run, watch, drainMs: await watch.drain() };
}

/**
 * The HTTP path's own ceiling: stripe-webhook answering deliveries of events it has recorded before (gateway, Deno, the
 * WASM signature check and event parse, then `treasury.record_stripe_event` finding the row: one statement, no batch).
 */
async function webhookDuplicates(catalogue: Product[], clients: number): Promise<Measured> {
  const pool = Array.from({ length: 64 }, (_, i) => payloadOf(paymentEvent(catalogue, 5000 + clients, i)));
  for (const payload of pool) await main`select treasury.record_stripe_event(${main.json(JSON.parse(payload))}::jsonb)`;
  await main`select treasury.apply_stripe_events(1000)`;
  const run = await closedLoop(`stripe-webhook duplicates, ${clients} clients`, clients, SECONDS, async (client, i) => {
    const payload = pool[(client * 13 + i) % pool.length];
    const res = await post(payload, { header: await signatureHeader(payload), wait: false });
    if (res.status !== 200) throw new Error(`stripe-webhook answered ${res.status}: ${JSON.stringify(res.body)}`);
    expectStatus(res.answer, "duplicate", "stripe-webhook (a recorded event)");
    return 1;
  });
  return { run };
}

/**
 * The database's part of the webhook's answer: `treasury.record_stripe_event` alone (a new event, its own transaction),
 * the application left to pg_cron; afterwards the backlog is applied by one caller's batches, whose rate is what one
 * applier sustains (`applierRate`, payments/s).
 */
async function recordOnly(sql: Sql, catalogue: Product[], clients: number, label: string): Promise<Measured & { applierRate: number }> {
  const run = await closedLoop(label, clients, SECONDS, async (client, i) => {
    const [{ result }] = await sql`select treasury.record_stripe_event(${sql.json(paymentEvent(catalogue, 7000 + client, i) as any)}::jsonb) as result`;
    expectStatus(result, "received", label);
    return 1;
  });
  const t0 = performance.now();
  let applied = 0;
  for (;;) {
    const [{ result }] = await sql`select treasury.apply_stripe_events(1000) as result`;
    if (result.events === 0) break;
    applied += result.events;
  }
  return { run, applierRate: (1000 * applied) / (performance.now() - t0) };
}

/** Each payment recorded and applied in its own transaction (receive_stripe_event: record, then the batch applier). */
async function oneByOne(sql: Sql, catalogue: Product[], clients: number, label: string): Promise<Measured> {
  const run = await closedLoop(label, clients, SECONDS, async (client, i) => {
    const [{ result }] = await sql`select treasury.receive_stripe_event(${sql.json(paymentEvent(catalogue, client, i) as any)}::jsonb) as result`;
    expectStatus(result, "applied", label);
    return 1;
  });
  return { run };
}

/**
 * The baseline: pgledger's transfer in plain SQL, on tables of its own (accounts with a balance, transfers, entries).
 * A transfer locks its two accounts in id order (SELECT ... FOR UPDATE), updates both balances, and inserts the
 * transfer and its two entries, in one transaction; `TRANSFER_ACCOUNTS` accounts, random distinct pairs.
 */
async function transferSetup() {
  await main.unsafe(`
    create table treasury_private.bench_accounts (id bigint primary key, currency text not null, balance bigint not null,
      version bigint not null default 0, updated_at timestamptz not null default now());
    create table treasury_private.bench_transfers (id bigint generated always as identity primary key,
      from_account bigint not null references treasury_private.bench_accounts, to_account bigint not null references treasury_private.bench_accounts,
      amount bigint not null check (amount > 0), created_at timestamptz not null default now());
    create table treasury_private.bench_entries (id bigint generated always as identity primary key,
      account_id bigint not null references treasury_private.bench_accounts, transfer_id bigint not null references treasury_private.bench_transfers,
      amount bigint not null, account_version bigint not null, account_balance bigint not null, created_at timestamptz not null default now());
    create index on treasury_private.bench_entries (account_id);
    insert into treasury_private.bench_accounts (id, currency, balance) select g, 'EUR', 0 from generate_series(1, ${TRANSFER_ACCOUNTS}) as g;
    create function treasury_private.bench_transfer(from_id bigint, to_id bigint, amount bigint) returns bigint
    language plpgsql as $$
    declare
      t bigint;
      acct record;
    begin
      perform 1 from treasury_private.bench_accounts as a where a.id in (from_id, to_id) order by a.id for update;
      insert into treasury_private.bench_transfers (from_account, to_account, amount) values (from_id, to_id, amount) returning id into t;
      for acct in
        update treasury_private.bench_accounts as a
        set balance = a.balance + case when a.id = from_id then -amount else amount end, version = a.version + 1, updated_at = now()
        where a.id in (from_id, to_id)
        returning a.id, a.balance, a.version
      loop
        insert into treasury_private.bench_entries (account_id, transfer_id, amount, account_version, account_balance)
        values (acct.id, t, case when acct.id = from_id then -amount else amount end, acct.version, acct.balance);
      end loop;
      return t;
    end
    $$;`);
}

async function transferTeardown() {
  const [{ sum }] = await main`select coalesce(sum(balance), 0)::bigint as sum from treasury_private.bench_accounts`;
  const [{ entries }] = await main`select count(*)::int - 2 * (select count(*) from treasury_private.bench_transfers)::int as entries from treasury_private.bench_entries`;
  if (Number(sum) !== 0 || entries !== 0) throw new Error(`the transfer baseline does not balance: sum ${sum}, extra entries ${entries}`);
  await main.unsafe(`drop function treasury_private.bench_transfer(bigint, bigint, bigint);
    drop table treasury_private.bench_entries, treasury_private.bench_transfers, treasury_private.bench_accounts`);
}

async function transfers(clients: number): Promise<Measured> {
  const run = await closedLoop(`transfer, ${clients} clients`, clients, SECONDS, async (client, i) => {
    const from = 1 + ((client * 7919 + i * 104_729) % TRANSFER_ACCOUNTS);
    const to = 1 + ((from - 1 + 1 + ((client + i * 31) % (TRANSFER_ACCOUNTS - 1))) % TRANSFER_ACCOUNTS); // never from
    await main`select treasury_private.bench_transfer(${from}, ${to}, ${AMOUNTS[i % AMOUNTS.length]})`;
    return 1;
  });
  return { run };
}

const ROLLBACK = new Error("rollback");

interface Work {
  payment: number;
  /** The deferred checks of the batch's postings, run before commit: ms per payment. */
  atCommit: number;
  transfer: number;
  /** The functions that took the most time in the median batch: self and total ms per payment, calls per payment. */
  functions: { name: string; self: number; total: number; calls: number }[];
}

/** Calls and times of every function so far in this transaction (`track_functions = 'all'`). */
async function functionTimes(tx: any): Promise<Map<string, { calls: number; total: number; self: number }>> {
  const rows = await tx`select schemaname || '.' || funcname as name, calls, total_time, self_time from pg_stat_xact_user_functions`;
  return new Map(rows.map((r: any) => [r.name as string, { calls: Number(r.calls), total: r.total_time as number, self: r.self_time as number }]));
}

/**
 * Database work per item, without commits or round trips: `n` payment events recorded (committed), then applied by
 * one batch, timed, with the time of each function the batch ran; and `n` transfers in one statement, rolled back.
 * Milliseconds per item, median of 3.
 */
async function workPerItem(catalogue: Product[], n: number): Promise<Work> {
  const payment: { ms: number; functions: Work["functions"] }[] = [], transfer: number[] = [], atCommit: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    // Recorded and applied in one transaction, so that no other batch (pg_cron's) takes them; committed.
    await main.begin(async (tx: any) => {
      await tx`set local track_functions = 'all'`;
      for (let i = 0; i < n; i++) {
        await tx`select treasury.record_stripe_event(${tx.json(paymentEvent(catalogue, 1000 + rep, i))}::jsonb)`;
      }
      const before = await functionTimes(tx);
      const t0 = performance.now();
      const [{ result }] = await tx`select treasury.apply_stripe_events(${n}) as result`;
      const ms = (performance.now() - t0) / result.events;
      if ((result.statuses.applied ?? 0) < n) throw new Error(`the batch applied ${JSON.stringify(result)}`);
      // What would otherwise run at commit (the ledger's deferred balance check per posting).
      const t1 = performance.now();
      await tx`set constraints all immediate`;
      atCommit.push((performance.now() - t1) / result.events);
      const functions: Work["functions"] = [];
      for (const [name, after] of await functionTimes(tx)) {
        const was = before.get(name) ?? { calls: 0, total: 0, self: 0 };
        if (after.calls > was.calls) {
          functions.push({ name, calls: (after.calls - was.calls) / n, self: (after.self - was.self) / n, total: (after.total - was.total) / n });
        }
      }
      functions.sort((a, b) => b.self - a.self);
      payment.push({ ms, functions });
    });
    await main.begin(async (tx: any) => {
      const t0 = performance.now();
      await tx`select count(treasury_private.bench_transfer(1 + g % ${TRANSFER_ACCOUNTS}, 1 + (g + 1) % ${TRANSFER_ACCOUNTS}, 100)) from generate_series(1, ${n}) as g`;
      transfer.push((performance.now() - t0) / n);
      throw ROLLBACK;
    }).catch((e: unknown) => {
      if (e !== ROLLBACK) throw e;
    });
  }
  payment.sort((a, b) => a.ms - b.ms);
  transfer.sort((a, b) => a - b);
  atCommit.sort((a, b) => a - b);
  return { payment: payment[1].ms, atCommit: atCommit[1], transfer: transfer[1], functions: payment[1].functions };
}

/** The ledger's invariant violations, one line each (the test suites may leave some on purpose). */
async function violations(sql: typeof main): Promise<Set<string>> {
  const rows = await sql`select invariant || ' ' || reference || ': ' || detail as v from treasury.check_invariants()`;
  return new Set(rows.map((r) => r.v as string));
}

async function payments() {
  const onMain = await products(main);
  const onTwins = await products(twins);
  // The model test leaves payees below zero on purpose (a refund after a payout); the runs must add none.
  const before = [await violations(main), await violations(twins)];
  await transferSetup();
  const rows: { clients: number; path: string; m: Measured }[] = [];
  const applier: number[] = [];
  let work: Work = { payment: NaN, atCommit: NaN, transfer: NaN, functions: [] };
  try {
    for (const clients of [1, CLIENTS]) {
      const t = await transfers(clients);
      const http = await viaWebhook(onMain, clients);
      const direct = await recordAndDrive(main, onMain, clients, `record + drive, ${clients} clients`);
      const old = await oneByOne(main, onMain, clients, `receive_stripe_event, ${clients} clients`);
      const dup = await webhookDuplicates(onMain, clients);
      const rec = await recordOnly(main, onMain, clients, `record only, ${clients} clients`);
      applier.push(rec.applierRate);
      rows.push(
        { clients, path: "plain double-entry transfer, like pgledger (baseline)", m: t },
        { clients, path: "stripe-webhook over HTTP: record, then drive the applier", m: http },
        { clients, path: "direct SQL: record_stripe_event, then drive_stripe_events as the webhook does", m: direct },
        { clients, path: "direct SQL: receive_stripe_event, record + apply in the caller's transaction", m: old },
        { clients, path: "stripe-webhook over HTTP, events already recorded (HTTP + Deno + WASM + one statement, no apply)", m: dup },
        { clients, path: "direct SQL: record_stripe_event only (applied afterwards)", m: rec },
      );
      console.log(`${clients} clients: transfer ${fmt(perSecond(t.run))}/s, HTTP ${fmt(perSecond(http.run))}/s answered, ${fmt(appliedPerSecond(http)!)}/s applied, record+drive ${fmt(perSecond(direct.run))}/s answered, ${fmt(appliedPerSecond(direct)!)}/s applied, receive ${fmt(perSecond(old.run))}/s, HTTP duplicates ${fmt(perSecond(dup.run))}/s, record only ${fmt(perSecond(rec.run))}/s, one applier ${fmt(rec.applierRate)}/s`);
    }
    for (const clients of [1, CLIENTS]) {
      rows.push({
        clients,
        path: "direct SQL: record + drive, SQL twins (hosted-shape cluster)",
        m: await recordAndDrive(twins, onTwins, clients, `record + drive on the hosted-shape cluster, ${clients} clients`),
      });
    }
    work = await workPerItem(onMain, WORK_N);
  } finally {
    await transferTeardown();
  }
  for (const [i, sql] of [main, twins].entries()) {
    const added = [...await violations(sql)].filter((v) => !before[i].has(v));
    if (added.length > 0) throw new Error(`the runs broke the ledger's invariants:\n${added.join("\n")}`);
  }

  const baseline = (clients: number) => rows.find((r) => r.clients === clients && r.path.startsWith("plain"))!.m.run;
  const delay = (m: Measured, p: number) => (m.watch ? fmt(percentile(m.watch.delaysMs, p), 1) : "—");
  // A path that answers before it applies is as fast as the slower of the two.
  const rate = (m: Measured) => Math.min(perSecond(m.run), appliedPerSecond(m) ?? Infinity);
  const table = rows.map(({ clients, path, m }) => {
    const applied = appliedPerSecond(m);
    return `| ${clients} | ${path} | ${fmt(perSecond(m.run))} | ${applied === undefined ? "—" : fmt(applied)} | ${fmt(percentile(m.run.latenciesMs, 50), 2)} | ${fmt(percentile(m.run.latenciesMs, 99), 2)} | ${delay(m, 50)} | ${delay(m, 99)} | ${fmt(rate(m) / perSecond(baseline(clients)), 2)} |`;
  });
  const find = (clients: number, start: string) => rows.find((r) => r.clients === clients && r.path.startsWith(start))!.m;
  const http1 = find(1, "stripe-webhook"), httpN = find(CLIENTS, "stripe-webhook");
  const directN = find(CLIENTS, "direct SQL: record_stripe_event"), oldN = find(CLIENTS, "direct SQL: receive"), old1 = find(1, "direct SQL: receive");
  const dupN = find(CLIENTS, "stripe-webhook over HTTP, events already"), recN = find(CLIENTS, "direct SQL: record_stripe_event only");
  const transferN = perSecond(baseline(CLIENTS));
  const functionRows = work.functions.slice(0, 12).map((f) => `| \`${f.name}\` | ${fmt(f.calls, 2)} | ${fmt(f.self, 3)} | ${fmt(f.total, 3)} |`);
  const backlog = rows.filter((r) => r.m.watch).map((r) => r.m.watch!.maxBacklog);
  const drains = rows.filter((r) => r.m.drainMs !== undefined).map((r) => r.m.drainMs!);
  return `Payments: one \`payment_intent.succeeded\` per request (realistic event, metadata contract, 4 products with 3-party
split rules, amounts 4.99 to 123.45 EUR, all in EUR: one currency, the case the issue is about), closed loop, ${SECONDS} s per row
after 1 s of warm-up. The webhook records the event and commits (\`treasury.record_stripe_event\`: the 2xx means stored),
then drives the applier (\`treasury.drive_stripe_events\`: with no batch running it runs one, every recorded event in Stripe's
order, many per transaction, balances folded in once per account per batch, and calls again after it; with one running whose
driver will call again it answers at once, unless a batch's worth of events wait); "direct" makes the same calls over plain
connections. Answered/s counts answers; applied/s counts the run's payments from its start until the last one was applied;
the ratio takes the slower of the two. Delay: from the request's start until a watcher (polling the applier's queue every
10 ms) sees the event applied, so up to 10 ms above the truth. Baseline: a plain double-entry transfer as pgledger makes one (transfer row, two entries, two balance
updates under row locks in account order, one transaction) between ${TRANSFER_ACCOUNTS} accounts, on tables the bench creates and drops.

| clients | path | answered/s | applied/s | p50 ms | p99 ms | delay p50 ms | delay p99 ms | ÷ transfer (same clients) |
|---:|---|---:|---:|---:|---:|---:|---:|---:|
${table.join("\n")}

- webhook path: ${fmt(rate(http1))}/s with one client, ${fmt(rate(httpN))}/s with ${CLIENTS} (${fmt(rate(httpN) / rate(http1), 2)}×; answered
  ${fmt(perSecond(httpN.run))}/s, applied ${fmt(appliedPerSecond(httpN)!)}/s); ${fmt((100 * rate(httpN)) / perSecond(baseline(CLIENTS)), 0)}% of the transfer baseline at ${CLIENTS} clients;
  event → ledger delay at ${CLIENTS} clients p50 ${delay(httpN, 50)} ms, p99 ${delay(httpN, 99)} ms;
- the same calls without HTTP: ${fmt(rate(directN))}/s at ${CLIENTS} clients, against ${fmt(perSecond(oldN.run))}/s one payment per
  transaction (${fmt(rate(directN) / perSecond(oldN.run), 2)}×; one by one: ${fmt(perSecond(old1.run))}/s with one client, ${fmt(perSecond(oldN.run))}/s with ${CLIENTS});
- the queue never held more than ${Math.max(...backlog)} events, and every run's events were applied ${fmt(Math.max(...drains), 0)} ms after it ended at most;
- where the time goes: applying one payment in a batch is ${fmt(work.payment, 2)} ms of database work (${fmt(WORK_N)} recorded payments applied
  by one \`apply_stripe_events\`: payment row, split lines, 2 ledger transactions, Passport money_spent and a money_earned per paid payee, the
  receipt in the outbox, Concierto's and Companon's hooks), a transfer ${fmt(work.transfer, 3)} ms (${fmt(WORK_N)} in one statement, rolled back):
  ${fmt(work.payment / work.transfer, 0)}× the work. One applier runs at a time, so the batch path tops out near 1000 / ${fmt(work.payment, 2)} ≈ ${fmt(1000 / work.payment)}
  payments/s whatever the number of clients; the transfers spread over the cores;
- the HTTP path's own ceiling: stripe-webhook answers ${fmt(perSecond(dupN.run))} deliveries/s at ${CLIENTS} clients when each finds its event
  recorded (HTTP, Deno, WASM, one statement, no batch): ${fmt((100 * perSecond(dupN.run)) / transferN, 0)}% of the transfer baseline, ${
    perSecond(dupN.run) < transferN
      ? "so over HTTP the webhook cannot reach the baseline on this machine whatever the database does"
      : "so HTTP alone does not keep the webhook below the baseline"
  }; recording alone runs at ${fmt(perSecond(recN.run))}/s
  without HTTP (${fmt(perSecond(recN.run) / transferN, 2)}× the baseline), and one applier then applied the backlog at ${fmt(applier[applier.length - 1])} payments/s
  (${fmt(applier[0])}/s after the 1-client run);
- \`check_invariants()\` was empty on both clusters after the runs (none added), and the transfer baseline balanced.

Where one payment's ${fmt(work.payment, 2)} ms go in the median batch (\`track_functions = 'all'\`, \`pg_stat_xact_user_functions\`; self time
excludes the functions it called, total includes them; ms per payment), plus ${fmt(work.atCommit, 3)} ms per payment of checks deferred to commit
(\`set constraints all immediate\` after the batch, counted in the table's \`check_balanced\` row):

| function | calls per payment | self ms | total ms |
|---|---:|---:|---:|
${functionRows.join("\n")}`;
}

/** Median wall time of `reps` runs of a statement that touches ROWS rows. */
async function timeQuery(sql: Sql, query: string, reps = 3): Promise<number> {
  const times: number[] = [];
  await sql.begin(async (tx: any) => {
    await tx.unsafe("set local max_parallel_workers_per_gather = 0");
    if (query.includes("array[")) await tx.unsafe(query); // the others were warmed by the agreement check
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      await tx.unsafe(query);
      times.push(performance.now() - t0);
    }
  });
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] / 1000;
}

async function splitMath() {
  const amount = "(g::bigint * 7919) % 1000000 + 1";
  const shares = "'{7000,2000,1000}'::int[]";
  const queries = {
    bare: `select sum(x[1] + x[2] + x[3]) from (select array[${amount}, 0, 0]::bigint[] as x, ${shares} as s from generate_series(1, ${ROWS}) as g) as q`,
    split: `select sum(x[1] + x[2] + x[3]) from (select coliseum.allocate_split(${amount}, ${shares}) as x from generate_series(1, ${ROWS}) as g) as q`,
    refund:
      `select sum(x[1] + x[2] + x[3]) from (select coliseum.allocate_refund(a, ${shares}, a / 4, a / 2) as x from (select ${amount} as a from generate_series(1, ${ROWS}) as g) as r) as q`,
  };
  // The two clusters must agree before their speed is compared.
  for (const q of [queries.split, queries.refund]) {
    const [[a], [b]] = await Promise.all([main.unsafe(q), twins.unsafe(q)]);
    if (String(a.sum) !== String(b.sum)) throw new Error(`the extension and the twins disagree: ${a.sum} vs ${b.sum} for ${q}`);
  }
  const t: Record<string, Record<string, number>> = {};
  for (const [cluster, sql] of [["ext", main], ["twin", twins]] as const) {
    t[cluster] = {};
    for (const [name, q] of Object.entries(queries)) t[cluster][name] = await timeQuery(sql, q);
  }
  const perCall = (cluster: string, name: string) => Math.max(0, (t[cluster][name] - t[cluster].bare) / ROWS) * 1e9;
  const fnRow = (fn: string, name: string) => {
    const ext = perCall("ext", name), twin = perCall("twin", name);
    return `| \`${fn}\` | ${fmt(t.ext[name], 3)} | ${fmt(ext)} | ${fmt(t.twin[name], 3)} | ${fmt(twin)} | ${fmt(twin / ext, 1)}× |`;
  };

  // Single calls from one client, interleaved with a bare SELECT of the same parameters so that both see the
  // same moment of a shared machine.
  const shareArr = [7000, 2000, 1000];
  const calls: [string, number[], number[]][] = [];
  for (const [cluster, sql] of [["pg_coliseum", main], ["SQL twin", twins]] as const) {
    const bare: number[] = [], split: number[] = [];
    const end = performance.now() + 3000;
    for (let i = 0; performance.now() < end; i++) {
      const a = 1 + ((i * 7919) % 1_000_000);
      let t0 = performance.now();
      await sql`select ${a}::bigint as a, ${shareArr}::int[] as s`;
      if (i >= 100) bare.push(performance.now() - t0);
      t0 = performance.now();
      await sql`select coliseum.allocate_split(${a}::bigint, ${shareArr}::int[]) as x`;
      if (i >= 100) split.push(performance.now() - t0);
    }
    bare.sort((x, y) => x - y);
    split.sort((x, y) => x - y);
    calls.push([cluster, bare, split]);
  }
  const us = (xs: number[], p: number) => fmt(percentile(xs, p) * 1000);
  const callRows = calls.map(([cluster, bare, split]) =>
    `| ${cluster} | ${us(bare, 50)} | ${us(bare, 99)} | ${us(split, 50)} | ${us(split, 99)} | ${fmt(percentile(split, 50) - percentile(bare, 50), 3)} ms |`);

  return `Split math: \`coliseum.allocate_split(amount, '{7000,2000,1000}')\` and \`allocate_refund(amount, shares, amount/4, amount/2)\`
over ${fmt(ROWS)} rows (\`generate_series\`, amounts 1 to 1,000,000, no parallel workers), median of 3 runs after a warm-up (the check that both agree),
with pg_coliseum (main cluster) and with the SQL twins (the hosted-shape cluster, where \`postgres\` may not create the extension); both give the same sums.
Per call: (time − time of the bare query) / rows; the bare query builds the same rows and arrays without calling anything.

| function | pg_coliseum s | ns per call | SQL twin s | ns per call | twin ÷ extension |
|---|---:|---:|---:|---:|---:|
| bare rows (baseline) | ${fmt(t.ext.bare, 3)} | — | ${fmt(t.twin.bare, 3)} | — | — |
${fnRow("allocate_split", "split")}
${fnRow("allocate_refund", "refund")}

Single calls, one client, 3 s per cluster: \`select coliseum.allocate_split($1, $2)\` alternated with the baseline
\`select $1::bigint, $2::int[]\` (same parameters, no call), round trips in µs.

| cluster | bare p50 | bare p99 | allocate_split p50 | allocate_split p99 | p50 difference |
|---|---:|---:|---:|---:|---:|
${callRows.join("\n")}

- in bulk the extension computes a split ${fmt(perCall("twin", "split") / perCall("ext", "split"), 1)}× as fast as the SQL twin, a refund ${fmt(perCall("twin", "refund") / perCall("ext", "refund"), 1)}×;
- a single call is dominated by the round trip on either cluster.`;
}

if (Deno.env.get("BENCH_TREASURY") === "work") {
  // Only where one payment's time goes (quick, for working on the applier): printed, BENCHMARKS.md untouched.
  const onMain = await products(main);
  await transferSetup();
  try {
    const work = await workPerItem(onMain, WORK_N);
    console.log(`payment ${fmt(work.payment, 3)} ms, transfer ${fmt(work.transfer, 3)} ms (${fmt(work.payment / work.transfer, 1)}×), at commit ${fmt(work.atCommit, 3)} ms`);
    for (const f of work.functions) console.log(`${f.name.padEnd(50)} ${fmt(f.calls, 2).padStart(6)} ${fmt(f.self, 3).padStart(8)} ${fmt(f.total, 3).padStart(8)}`);
  } finally {
    await transferTeardown();
  }
  await main.end();
  await twins.end();
  Deno.exit(0);
}
if (Deno.env.get("BENCH_TREASURY") === "drive") {
  // Only the driven paths at BENCH_CLIENTS (quick, for working on the drive): printed, BENCHMARKS.md untouched.
  const onMain = await products(main);
  for (const [label, m] of [["direct", await recordAndDrive(main, onMain, CLIENTS, "record + drive")], ["HTTP", await viaWebhook(onMain, CLIENTS)]] as const) {
    console.log(`${label}, ${CLIENTS} clients: answered ${fmt(perSecond(m.run))}/s, applied ${fmt(appliedPerSecond(m)!)}/s, p50 ${fmt(percentile(m.run.latenciesMs, 50), 1)} ms, delay p50 ${fmt(percentile(m.watch!.delaysMs, 50), 1)} ms, p99 ${fmt(percentile(m.watch!.delaysMs, 99), 1)} ms, queue ≤ ${m.watch!.maxBacklog}`);
  }
  await main.end();
  await twins.end();
  Deno.exit(0);
}
const parts = [await payments(), await splitMath()];
await main.end();
await twins.end();
await writeSection("treasury", "Treasury", parts.join("\n\n"));
console.log(parts.join("\n\n"));
