-- Money per currency as the reads answer it: [{"currency": "EUR", "amount_minor": 1250}, ...], by currency,
-- leaving out zeros; [] when there is none.
create or replace function companon_private.values_json(currencies text[], amounts bigint[])
returns jsonb
language sql
immutable
as $$
  select coalesce(jsonb_agg(jsonb_build_object('currency', v.currency, 'amount_minor', v.amount)
                            order by v.currency), '[]')
  from (select u.currency, sum(u.amount)::bigint as amount
        from unnest(currencies, amounts) as u(currency, amount)
        where u.currency is not null
        group by u.currency) as v
  where v.amount <> 0
$$;
