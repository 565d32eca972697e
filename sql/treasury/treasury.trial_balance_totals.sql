create or replace function treasury.trial_balance_totals(for_currency text default null, at timestamptz default null)
returns table (
  currency text,
  accounts bigint,
  debit_minor bigint,
  credit_minor bigint,
  balanced boolean
)
language sql
stable
security definer
set search_path = ''
as $$
  select t.currency, count(*), sum(t.debit_minor)::bigint, sum(t.credit_minor)::bigint, sum(t.debit_minor) = sum(t.credit_minor)
  from treasury.trial_balance(for_currency, at) as t
  group by t.currency
  order by t.currency
$$;

comment on function treasury.trial_balance_totals(text, timestamptz) is
  'The trial balance''s totals per currency: debits, credits, and whether they are equal. Treasury admins.';

grant execute on function treasury.trial_balance_totals(text, timestamptz) to authenticated, service_role;
