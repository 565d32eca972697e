create or replace function treasury.fan_transactions(
  for_user uuid default null,
  from_at timestamptz default null,
  to_at timestamptz default null,
  types text[] default null,
  product_types text[] default null,
  page_size int default 50,
  before_at timestamptz default null,
  before_id text default null
)
returns table (
  id text,
  type text,
  occurred_at timestamptz,
  payment_id text,
  product_id uuid,
  product_type text,
  product_title text,
  artist_id uuid,
  amount_minor bigint,
  currency text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  fan uuid := treasury_private.reader(for_user);
begin
  perform treasury_private.check_page_size(page_size);
  perform treasury_private.check_range(from_at, to_at);
  perform treasury_private.check_members('types', types, '{payment,refund,chargeback}');
  perform treasury_private.check_members('product_types', product_types, '{ticket,membership,drop,merch,tip,sponsorship}');
  perform treasury_private.check_keyset(before_at, before_id);

  return query
    with mine as (
      select p.id, p.paid_at, p.product_id, p.product_type, p.artist_id, p.amount_minor, p.currency
      from treasury.payments as p
      where p.buyer_id = fan and (product_types is null or p.product_type = any (product_types))
    ),
    moves as (
      select m.id as row_id, 'payment'::text as row_type, m.paid_at as at, m.id as pay_id, m.amount_minor as amount, m.product_id,
             m.product_type, m.artist_id, m.currency
      from mine as m
      where types is null or 'payment' = any (types)
      union all
      select r.reference, case r.reason when 'refund' then 'refund' else 'chargeback' end,
             coalesce(e.stripe_created, r.first_at), m.id, r.total, m.product_id, m.product_type, m.artist_id, m.currency
      from mine as m
      cross join lateral (
        select s.reason, s.reference, sum(s.amount_minor)::bigint as total, min(s.created_at) as first_at
        from public.treasury_splits as s
        where s.payment_id = m.id and s.reason in ('refund', 'dispute')
        group by s.reason, s.reference
      ) as r
      left join treasury.ledger_transactions as t
        on t.kind = case r.reason when 'refund' then 'refund' else 'dispute_loss' end and t.reference = r.reference
      left join treasury.stripe_events as e on e.event_id = t.stripe_event_id
      where types is null or (case r.reason when 'refund' then 'refund' else 'chargeback' end) = any (types)
    )
    select x.row_id, x.row_type, x.at, x.pay_id, x.product_id, x.product_type, pr.title, x.artist_id, x.amount, x.currency::text
    from moves as x
    left join treasury.products as pr on pr.id = x.product_id
    where (from_at is null or x.at >= from_at)
      and (to_at is null or x.at < to_at)
      and (before_at is null or (x.at, x.row_id) < (before_at, before_id))
    order by x.at desc, x.row_id desc
    limit page_size;
end
$$;

comment on function treasury.fan_transactions(uuid, timestamptz, timestamptz, text[], text[], int, timestamptz, text) is
  'A fan''s money history, newest first: payments (amount > 0), refunds and chargebacks (amount < 0). Filters: '
  'occurred_at in [from_at, to_at), types (payment, refund, chargeback), product_types. Keyset pagination: pass the '
  'last row''s occurred_at and id as before_at and before_id. 42501 another user''s (unless admin); 22023 bad filters.';

grant execute on function treasury.fan_transactions(uuid, timestamptz, timestamptz, text[], text[], int, timestamptz, text)
  to authenticated, service_role;
