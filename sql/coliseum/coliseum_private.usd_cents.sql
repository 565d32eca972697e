-- An amount in minor units of a currency as US cents, rounded half away from
-- zero; null for a currency without a reference rate, and for a result
-- beyond bigint (an absurd amount must not stop the processor).
create or replace function coliseum_private.usd_cents(amount_minor bigint, currency text)
returns bigint
language sql
stable
parallel safe
as $$
  select (select case when abs(c.cents) <= 9223372036854775807 then c.cents::bigint end
          from coliseum.currency_rates as r
          cross join lateral (select round(amount_minor * r.usd_per_unit * 100 / 10::numeric ^ r.minor_exponent) as cents) as c
          where r.currency = usd_cents.currency)
$$;

comment on function coliseum_private.usd_cents(bigint, text) is
  'amount_minor of currency in US cents by coliseum.currency_rates (half away from zero); null when the currency has no rate.';
