-- Stripe failure codes that no retry will fix: the failure is final at once.
create or replace function treasury_private.payout_failure_is_final(code text)
returns boolean
language sql
immutable
as $$
  select coalesce(code in ('account_closed', 'account_frozen', 'bank_account_restricted', 'bank_ownership_changed',
                           'invalid_account_number', 'invalid_currency', 'no_account'), false)
$$;
