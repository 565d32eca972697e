create or replace function treasury.fan_total_spent(for_user uuid default null, for_currency text default null)
returns table (
  currency text,
  payments bigint,
  spent_minor bigint,
  refunded_minor bigint,
  charged_back_minor bigint,
  net_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  fan uuid := treasury_private.reader(for_user);
  cur text := treasury_private.currency_arg(for_currency);
begin
  return query
    select p.currency::text, count(*), sum(p.amount_minor)::bigint, sum(p.refunded_minor)::bigint,
           sum(p.dispute_lost_minor)::bigint, sum(p.amount_minor - p.refunded_minor - p.dispute_lost_minor)::bigint
    from treasury.payments as p
    where p.buyer_id = fan and (cur is null or p.currency = cur)
    group by p.currency
    order by p.currency;
end
$$;

comment on function treasury.fan_total_spent(uuid, text) is
  'What a fan spent, per currency: payments, their total, refunded, charged back, net. for_user null: the caller; '
  'another user''s is for admins (42501). 22023 bad currency.';

grant execute on function treasury.fan_total_spent(uuid, text) to authenticated, service_role;
