-- An account's balance (debits positive) from its postings up to and
-- including at. Security invoker: the caller sees only the accounts row level
-- security lets them see.
create or replace function treasury.balance_at(account_id bigint, at timestamptz)
returns bigint
language plpgsql
stable
set search_path = ''
as $$
declare
  total numeric;
begin
  if account_id is null then
    raise exception using errcode = '22023', message = 'account_id is required';
  end if;
  if at is null then
    raise exception using errcode = '22023', message = 'at is required: the moment to read the balance at';
  end if;
  if not exists (select 1 from treasury.accounts as a where a.id = balance_at.account_id) then
    raise exception using errcode = 'P0002', message = format('account %s not found', account_id);
  end if;
  select sum(l.amount) into total
  from public.treasury_ledger as l
  where l.account_id = balance_at.account_id and l.created_at <= balance_at.at;
  return coalesce(total, 0)::bigint;
end
$$;

comment on function treasury.balance_at(bigint, timestamptz) is
  'The balance of an account (debits positive) from its postings up to and including at. P0002 for an account '
  'the caller cannot see; 22023 when an argument is null.';

grant execute on function treasury.balance_at(bigint, timestamptz) to authenticated, service_role;
