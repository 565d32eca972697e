// What the Coliseum benches (coliseum.ts, partitions.ts) seed, and its removal when they end, so that the demo and
// the tests on the same stack find only their own artists: a bench that left artists with DNA and no account
// made them top Companon's matcher, whose offers refuse an artist without an account (P0002).
import postgres from "postgres";
import { uuid } from "./stack.ts";

/** Artist and fan ids of the benches: a fixed first group marks them for removeSeeded (and the SQL seeds). */
export const ARTIST_PREFIX = "c0115e0a-";
export const FAN_PREFIX = "c0115e0f-";
export const benchArtist = () => ARTIST_PREFIX + uuid().slice(9);
export const benchFan = () => FAN_PREFIX + uuid().slice(9);

/**
 * Removes what a bench seeded from one cluster, as its superuser, in one transaction: every row whose artist_id,
 * fan_id or user_id is a bench artist or fan (the prefixes above) or one of `users` (accounts it signed up), in
 * every table of the app's schemas (the log, the exactly-once keys and the mutations included), then those accounts. The log and the mutations are
 * append-only below every role: their guard triggers are disabled for this transaction only and restored as they
 * were (ALTER TABLE is transactional; a failure rolls everything back, the guards included). What remains is what
 * a rebuild of the remaining log gives: every row derived from a removed entry carries the entry's artist or fan.
 */
export async function removeSeeded(url: string, users: string[], withWorker: boolean) {
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    // The main cluster's worker would wait on the guards' ALTER TABLE locks: it pauses meanwhile.
    if (withWorker) await admin`select coliseum.stop_processor()`;
    await admin.begin(async (tx) => {
      const guarded = ["public.passport_entries", "passport_private.entry_keys", "public.coliseum_dna_mutations"];
      const triggers = await tx`
        select t.tgrelid::regclass::text as tbl, t.tgname as name, t.tgenabled as enabled
        from pg_catalog.pg_trigger as t
        where not t.tgisinternal and t.tgenabled <> 'D'
          and (t.tgrelid = any (${guarded}::regclass[])
               or t.tgrelid in (select i.inhrelid from pg_catalog.pg_inherits as i where i.inhparent = any (${guarded}::regclass[])))`;
      for (const t of triggers) await tx.unsafe(`alter table ${t.tbl} disable trigger "${t.name}"`);
      const columns = await tx`
        select c.oid::regclass::text as tbl, a.attname as col
        from pg_catalog.pg_class as c
        join pg_catalog.pg_namespace as n on n.oid = c.relnamespace
        join pg_catalog.pg_attribute as a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where c.relkind in ('r', 'p') and not c.relispartition
          and n.nspname in ('public', 'passport', 'passport_private', 'coliseum', 'coliseum_private', 'companon',
                            'companon_private', 'people', 'people_private')
          and a.attname in ('artist_id', 'fan_id', 'user_id') and a.atttypid = 'uuid'::regtype
        order by 1, 2`;
      // A table another one references may refuse its rows until the referencing rows are gone: each delete
      // runs in a savepoint and the refused ones again, until a round removes nothing more.
      let pending = columns.map((c) => ({ tbl: c.tbl as string, col: c.col as string }));
      while (pending.length > 0) {
        const refused: typeof pending = [];
        let lastError: unknown;
        for (const c of pending) {
          try {
            await tx.savepoint((sp) =>
              sp.unsafe(
                `delete from ${c.tbl} where ${c.col}::text like $1 or ${c.col}::text like $2 or ${c.col} = any ($3::uuid[])`,
                [`${ARTIST_PREFIX}%`, `${FAN_PREFIX}%`, users],
              )
            );
          } catch (e) {
            refused.push(c);
            lastError = e;
          }
        }
        if (refused.length === pending.length) throw lastError;
        pending = refused;
      }
      await tx`delete from auth.users where id = any (${users}::uuid[])`;
      for (const t of triggers) {
        const how = { O: "enable", A: "enable always", R: "enable replica" }[t.enabled as "O" | "A" | "R"];
        await tx.unsafe(`alter table ${t.tbl} ${how} trigger "${t.name}"`);
      }
    });
    if (withWorker) await admin`select coliseum.start_processor()`;
  } finally {
    await admin.end();
  }
}
