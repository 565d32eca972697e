-- Refuses a change to a table whose rows are kept forever. ENABLE ALWAYS on
-- every table it guards, so it also fires for superusers and in replica mode.
create or replace function treasury_private.refuse_change()
returns trigger
language plpgsql
as $$
begin
  raise exception using
    errcode = '42501',
    message = format('%s is append-only: %s is refused', tg_table_name, tg_op),
    hint = 'Money records are kept forever. Record a correcting transaction instead.';
end
$$;
