-- The bare queries the dashboard is compared with: the same per-campaign figures read straight from the
-- tables as postgres, with no access check and no shaping: spend from the ledger's postings on the
-- platform's Stripe balance for the payments of the brand's offers, results from the measurement days.
-- $1: the brand.
with pays as (
  select o.campaign_id, o.payment_id from companon.offers as o where o.brand_id = $1 and o.payment_id is not null
),
spend as (
  select p.campaign_id, sum(l.amount)::bigint as spent
  from pays as p
  join public.treasury_splits as s on s.payment_id = p.payment_id and s.party_index = 1
  join treasury.ledger_transactions as x
    on x.kind = case s.reason when 'payment' then 'payment' when 'refund' then 'refund' else 'dispute_loss' end
   and x.reference = s.reference
  join public.treasury_ledger as l on l.txn_id = x.id
  join treasury.accounts as a on a.id = l.account_id and a.purpose = 'stripe_balance' and a.owner_id is null
  group by p.campaign_id
),
results as (
  select d.campaign_id, sum(d.impressions)::bigint as impressions, sum(d.clicks)::bigint as clicks,
         sum(d.conversions)::bigint as conversions
  from companon.campaign_days as d where d.brand_id = $1
  group by d.campaign_id
)
select c.id, c.name, s.spent, r.impressions, r.clicks, r.conversions
from companon.campaigns as c
left join spend as s on s.campaign_id = c.id
left join results as r on r.campaign_id = c.id
where c.brand_id = $1
order by c.created_at desc, c.id
