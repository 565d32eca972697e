create or replace function treasury.revenue_by_source(
  for_user uuid default null,
  from_at timestamptz default null,
  to_at timestamptz default null
)
returns table (
  source text,
  currency text,
  payments bigint,
  gross_minor bigint,
  reversed_minor bigint,
  net_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  payee uuid := treasury_private.reader(for_user);
begin
  perform treasury_private.check_range(from_at, to_at);
  return query
    with lines as (
      select l.product_type, l.currency as cur, l.reason, l.amount_minor, l.payment_id
      from treasury_private.party_lines(payee) as l
      where (from_at is null or l.occurred_at >= from_at)
        and (to_at is null or l.occurred_at < to_at)
    ),
    currencies as (select distinct l.cur from lines as l)
    select t.kind, c.cur,
           count(distinct l.payment_id) filter (where l.reason = 'payment'),
           coalesce(sum(l.amount_minor) filter (where l.reason = 'payment'), 0)::bigint,
           coalesce(-sum(l.amount_minor) filter (where l.reason <> 'payment'), 0)::bigint,
           coalesce(sum(l.amount_minor), 0)::bigint
    from unnest(array['ticket', 'membership', 'drop', 'merch', 'tip', 'sponsorship']) with ordinality as t(kind, n)
    cross join currencies as c
    left join lines as l on l.product_type = t.kind and l.cur = c.cur
    group by t.kind, t.n, c.cur
    order by c.cur, t.n;
end
$$;

comment on function treasury.revenue_by_source(uuid, timestamptz, timestamptz) is
  'A payee''s revenue per source (ticket, membership, drop, merch, tip, sponsorship: every one, zeros included) and currency, '
  'from their split lines that happened (Stripe''s time) in [from_at, to_at): payments, gross share, reversed '
  '(refunds, lost disputes), net. '
  '42501 another user''s (unless admin); 22023 bad range.';

grant execute on function treasury.revenue_by_source(uuid, timestamptz, timestamptz) to authenticated, service_role;
