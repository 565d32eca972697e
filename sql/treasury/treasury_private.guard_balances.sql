-- Only the ledger's trigger writes balances (it runs one trigger level down).
create or replace function treasury_private.guard_balances()
returns trigger
language plpgsql
as $$
begin
  if pg_catalog.pg_trigger_depth() > 1 then
    return null;
  end if;
  raise exception using
    errcode = '42501',
    message = format('account_balances is kept by the ledger: %s is refused', tg_op),
    hint = 'Post a ledger transaction; the balances follow.';
end
$$;
