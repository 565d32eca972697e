create or replace view treasury.balances
with (security_invoker = true)
as
select
  a.id as account_id,
  a.owner_id,
  a.purpose,
  a.currency,
  a.normal_side,
  coalesce(b.balance, 0) as balance,
  case a.normal_side when 'debit' then coalesce(b.balance, 0) else -coalesce(b.balance, 0) end as normal_balance
from treasury.accounts as a
left join treasury.account_balances as b on b.account_id = a.id;

comment on view treasury.balances is
  'Every account with its current balance: balance as stored (debits positive), normal_balance positive when '
  'the account is on its normal side (a payee''s payable of 700 reads 700). Row level security of the accounts applies.';

grant select on treasury.balances to authenticated, service_role;
