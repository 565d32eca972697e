-- Append-only, enforced below every role: the triggers are ENABLE ALWAYS, so
-- they also fire for superusers and for sessions in replica mode
-- (session_replication_role = replica), which skip ordinary triggers.
-- UPDATE passes only when nothing but coliseum_processed_at changes; the
-- comparison is over the whole row, so a column added later is protected
-- without touching this function.
create or replace function passport_private.guard_passport_entries()
returns trigger
language plpgsql
as $$
declare
  unchanged public.passport_entries;
begin
  if tg_op = 'UPDATE' then
    unchanged := new;
    unchanged.coliseum_processed_at := old.coliseum_processed_at;
    if unchanged is not distinct from old then
      return new;
    end if;
  end if;
  raise exception using
    errcode = '42501',
    message = format('passport_entries is append-only: %s is refused', tg_op),
    hint = case tg_op
      when 'UPDATE' then 'Only coliseum_processed_at may change. Log a new event to record a correction.'
      else 'Entries are kept forever. Log a new event to record a correction.'
    end;
end
$$;
