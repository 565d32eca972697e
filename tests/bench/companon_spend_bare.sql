-- The bare query companon.brand_spend is compared with: the same postings (the platform's Stripe balance, for
-- the payments of the brand's offers) summed by UTC month and campaign as postgres, no access check. $1: the brand.
select date_trunc('month', l.created_at at time zone 'UTC')::date as month, o.campaign_id, l.currency,
       sum(l.amount)::bigint as net_minor
from companon.offers as o
join public.treasury_splits as s on s.payment_id = o.payment_id and s.party_index = 1
join treasury.ledger_transactions as x
  on x.kind = case s.reason when 'payment' then 'payment' when 'refund' then 'refund' else 'dispute_loss' end
 and x.reference = s.reference
join public.treasury_ledger as l on l.txn_id = x.id
join treasury.accounts as a on a.id = l.account_id and a.purpose = 'stripe_balance' and a.owner_id is null
where o.brand_id = $1 and o.payment_id is not null
group by 1, 2, 3
order by 1, 2
