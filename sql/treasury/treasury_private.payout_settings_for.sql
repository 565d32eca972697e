-- The settings that apply to a currency.
create or replace function treasury_private.payout_settings_for(currency text)
returns treasury.payout_settings
language sql
stable
as $$
  select s.* from treasury.payout_settings as s
  where s.currency in (payout_settings_for.currency, '*')
  order by s.currency = '*'
  limit 1
$$;
