-- A brand's spend by campaign and month (UTC) from the ledger, over postings in [from_at, to_at) (null:
-- unbounded): paid, refunded, charged back and net per currency. Only months with postings. For its
-- members, admins and the platform; P0002 for anyone else.
create or replace function companon.brand_spend(brand_id uuid, from_at timestamptz default null, to_at timestamptz default null)
returns table (
  month date,
  campaign_id uuid,
  campaign_name text,
  currency text,
  payments bigint,
  paid_minor bigint,
  refunded_minor bigint,
  charged_back_minor bigint,
  net_minor bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if brand_spend.from_at is not null and brand_spend.to_at is not null and brand_spend.to_at <= brand_spend.from_at then
    raise exception using errcode = '22023',
      message = format('to_at (%s) must be after from_at (%s)', brand_spend.to_at, brand_spend.from_at);
  end if;
  perform companon_private.visible_brand_role(brand_spend.brand_id, 'read a brand''s spend');
  return query
    select (date_trunc('month', p.at at time zone 'UTC'))::date as m, p.campaign_id, c.name, p.currency,
           count(distinct p.payment_id) filter (where p.kind = 'payment'),
           coalesce(sum(p.amount) filter (where p.kind = 'payment'), 0)::bigint,
           coalesce(-sum(p.amount) filter (where p.kind = 'refund'), 0)::bigint,
           coalesce(-sum(p.amount) filter (where p.kind = 'dispute_loss'), 0)::bigint,
           sum(p.amount)::bigint
    from companon_private.sponsorship_postings(brand_spend.brand_id) as p
    join companon.campaigns as c on c.id = p.campaign_id
    where (brand_spend.from_at is null or p.at >= brand_spend.from_at)
      and (brand_spend.to_at is null or p.at < brand_spend.to_at)
    group by m, p.campaign_id, c.name, p.currency
    order by m, c.name, p.campaign_id, p.currency;
end
$$;

comment on function companon.brand_spend(uuid, timestamptz, timestamptz) is
  'A brand''s spend from the Treasury ledger by month (UTC, the first day) and campaign, per currency, over postings '
  'in [from_at, to_at) (null: unbounded): payments, paid, refunded, charged back (lost disputes), net, in minor '
  'units. Months without postings are absent. For its members, admins and the platform; P0002 brand not found (or '
  'not yours to see); 22023 bad range.';

grant execute on function companon.brand_spend(uuid, timestamptz, timestamptz) to authenticated, service_role;
