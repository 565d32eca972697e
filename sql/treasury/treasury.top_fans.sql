create or replace function treasury.top_fans(
  for_user uuid default null,
  for_currency text default null,
  lim int default 10,
  from_at timestamptz default null,
  to_at timestamptz default null
)
returns table (
  fan_id uuid,
  currency text,
  payments bigint,
  spent_minor bigint,
  rank bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  payee uuid := treasury_private.reader(for_user);
  cur text := treasury_private.currency_arg(for_currency);
begin
  if lim is null or lim not between 1 and 100 then
    raise exception using errcode = '22023', message = format('lim must be between 1 and 100, got %s', coalesce(lim::text, 'null'));
  end if;
  perform treasury_private.check_range(from_at, to_at);
  return query
    with sold as (
      select distinct s.payment_id from public.treasury_splits as s where s.party_id = payee and s.reason = 'payment'
    ),
    spend as (
      select p.buyer_id, p.currency::text as cur, count(*) as n,
             sum(p.amount_minor - p.refunded_minor - p.dispute_lost_minor)::bigint as net
      from sold as x
      join treasury.payments as p on p.id = x.payment_id
      -- A brand paying a sponsorship is no fan of the artist.
      where p.product_type <> 'sponsorship'
        and (cur is null or p.currency = cur)
        and (from_at is null or p.paid_at >= from_at)
        and (to_at is null or p.paid_at < to_at)
      group by p.buyer_id, p.currency
    ),
    ranked as (
      select s.buyer_id, s.cur, s.n, s.net, row_number() over (partition by s.cur order by s.net desc, s.buyer_id) as r
      from spend as s
    )
    select r.buyer_id, r.cur, r.n, r.net, r.r
    from ranked as r
    where r.r <= lim
    order by r.cur, r.r;
end
$$;

comment on function treasury.top_fans(uuid, text, int, timestamptz, timestamptz) is
  'The fans who spent most (net of refunds and chargebacks) on sales a payee shares in, per currency, top lim '
  '(1..100), paid in [from_at, to_at); sponsorships (a brand''s payments) are no fan''s. 42501 another user''s (unless '
  'admin); 22023 bad arguments.';

grant execute on function treasury.top_fans(uuid, text, int, timestamptz, timestamptz) to authenticated, service_role;
