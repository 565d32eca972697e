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
  -- Payment by payment through the indexes (splits by payment, transactions by kind and reference,
  -- postings by transaction), so the cost follows the brand's payments, not the platform's: the CTEs are
  -- materialised and the postings' subquery fenced (offset 0) to keep the planner from starting at the
  -- Stripe balance's postings, which are every payment's.
  with pays as materialized (
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
  txns as materialized (
    select p.payment_id, p.campaign_id, x.id, x.kind
    from pays as p
    cross join lateral (
      select distinct s.reason, s.reference from public.treasury_splits as s where s.payment_id = p.payment_id
    ) as r
    join treasury.ledger_transactions as x
      on x.kind = case r.reason when 'payment' then 'payment' when 'refund' then 'refund' else 'dispute_loss' end
     and x.reference = r.reference
  )
  select t.payment_id, t.campaign_id, t.kind, l.amount, l.currency, l.created_at
  from txns as t
  cross join lateral (
    select g.amount, g.currency::text as currency, g.created_at
    from public.treasury_ledger as g
    join treasury.accounts as a on a.id = g.account_id
    where g.txn_id = t.id and a.owner_id is null and a.purpose = 'stripe_balance'
    offset 0
  ) as l
$$;
