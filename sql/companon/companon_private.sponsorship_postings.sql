-- The ledger postings of a brand's sponsorship payments (of one campaign when for_campaign is given) on
-- the platform's Stripe balance: what the brand paid (kind payment, positive), what came back to it
-- (refund, negative) and what it took back by a lost dispute (dispute_loss, negative). The payments are
-- those of its offers and those due a refund; each is tied to its ledger transactions by the references
-- of its split lines (treasury_splits), all through unique indexes.
create or replace function companon_private.sponsorship_postings(brand_id uuid, for_campaign uuid default null)
returns table (payment_id text, campaign_id uuid, kind text, amount bigint, currency text, at timestamptz)
language sql
stable
as $$
  with pays as (
    select o.payment_id, o.campaign_id
    from companon.offers as o
    where o.brand_id = sponsorship_postings.brand_id and o.payment_id is not null
      and (for_campaign is null or o.campaign_id = for_campaign)
    union
    select d.payment_id, d.campaign_id
    from companon.sponsorship_refunds_due as d
    where d.brand_id = sponsorship_postings.brand_id and d.campaign_id is not null
      and (for_campaign is null or d.campaign_id = for_campaign)
  ),
  refs as (
    select distinct p.payment_id, p.campaign_id,
           case s.reason when 'payment' then 'payment' when 'refund' then 'refund' else 'dispute_loss' end as kind,
           s.reference
    from pays as p
    join public.treasury_splits as s on s.payment_id = p.payment_id
  )
  select r.payment_id, r.campaign_id, r.kind, l.amount, l.currency::text, l.created_at
  from refs as r
  join treasury.ledger_transactions as t on t.kind = r.kind and t.reference = r.reference
  join public.treasury_ledger as l on l.txn_id = t.id
  join treasury.accounts as a on a.id = l.account_id
  where a.owner_id is null and a.purpose = 'stripe_balance'
$$;
