create or replace function treasury.trial_balance(for_currency text default null, at timestamptz default null)
returns table (
  account_id bigint,
  owner_id uuid,
  purpose text,
  currency text,
  normal_side text,
  debit_minor bigint,
  credit_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  cur text := treasury_private.currency_arg(for_currency);
begin
  perform treasury_private.require_staff('the trial balance');
  return query
    select a.id, a.owner_id, a.purpose, a.currency::text, a.normal_side, greatest(x.balance, 0), greatest(-x.balance, 0)
    from treasury.accounts as a
    cross join lateral (
      select case when trial_balance.at is null
        then coalesce((select b.balance from treasury.account_balances as b where b.account_id = a.id), 0)
        else coalesce((select sum(l.amount) from public.treasury_ledger as l
                       where l.account_id = a.id and l.created_at <= trial_balance.at), 0)::bigint
      end as balance
    ) as x
    where cur is null or a.currency = cur
    order by a.currency, a.owner_id nulls first, a.purpose, a.id;
end
$$;

comment on function treasury.trial_balance(text, timestamptz) is
  'Every account''s balance in the debit or the credit column, now or at a past moment; per currency the columns '
  'sum to the same (treasury.trial_balance_totals). Treasury admins (42501 otherwise).';

grant execute on function treasury.trial_balance(text, timestamptz) to authenticated, service_role;
