-- Counts, per board and past day, the transactions that write coliseum.strength_history rows of a day
-- that has ended (coliseum_private.history_days.changes): a day's stored ranks (history_ranks) are used
-- only while the count is the one they were computed at, so any rewrite of a ranked day (a rebuild with
-- an as_of in the past, a tool, a test) sends the boards back to ranking that day themselves until
-- rank_history_days ranks it again. One increment per transaction and day (changed_by), so a rebuild
-- rewriting a whole day costs one row version, not one per artist; TRUNCATE counts for every day.
-- The refresh writes only today's rows, which the triggers' WHEN leaves out.
create or replace function coliseum_private.note_history_change()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'TRUNCATE' then
    update coliseum_private.history_days as d set changes = d.changes + 1, changed_by = pg_current_xact_id() where true;
    return null;
  end if;
  insert into coliseum_private.history_days as d (domain, period, day, changes, changed_by)
  select distinct k.domain, k.period, k.day, 1, pg_current_xact_id()
  from (values (old.domain, old.period, old.day), (new.domain, new.period, new.day)) as k(domain, period, day)
  where k.day < (now() at time zone 'UTC')::date
  on conflict (domain, period, day) do update set changes = d.changes + 1, changed_by = excluded.changed_by
  where d.changed_by is distinct from excluded.changed_by;
  return null;
end
$$;

revoke all on function coliseum_private.note_history_change() from public;
