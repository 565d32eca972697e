-- The keys that make Passport exactly once are kept as long as the log's
-- guarantee, forever, even for months detached and archived: an event retried
-- after its month left the database is still a duplicate.
create or replace function passport_private.guard_entry_keys()
returns trigger
language plpgsql
as $$
begin
  raise exception using
    errcode = '42501',
    message = format('passport_private.entry_keys is append-only: %s is refused', tg_op),
    hint = 'A key records that its event was stored once; it is never changed or removed.';
end
$$;
