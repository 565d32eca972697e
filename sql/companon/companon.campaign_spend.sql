-- What a campaign spent, from the ledger: per currency, what its brand paid for its sponsorships, what came
-- back (refunds, lost disputes) and the net, beside its budget and what its offers commit. For its brand's
-- members, admins and the platform; P0002 for anyone else.
create or replace function companon.campaign_spend(campaign_id uuid)
returns table (
  currency text,
  budget_minor bigint,
  committed_minor bigint,
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
declare
  c companon.campaigns;
begin
  perform companon_private.campaign_role(campaign_spend.campaign_id, 'read a campaign''s spend');
  select * into c from companon.campaigns as t where t.id = campaign_spend.campaign_id;
  return query
    with p as (select * from companon_private.sponsorship_postings(c.brand_id, c.id)),
    currencies as (select c.currency::text as cur union select p.currency from p)
    select x.cur,
           case when x.cur = c.currency then c.budget_minor else 0 end,
           case when x.cur = c.currency then companon_private.committed(c.id) else 0 end,
           count(distinct p.payment_id) filter (where p.kind = 'payment'),
           coalesce(sum(p.amount) filter (where p.kind = 'payment'), 0)::bigint,
           coalesce(-sum(p.amount) filter (where p.kind = 'refund'), 0)::bigint,
           coalesce(-sum(p.amount) filter (where p.kind = 'dispute_loss'), 0)::bigint,
           coalesce(sum(p.amount), 0)::bigint
    from currencies as x
    left join p on p.currency = x.cur
    group by x.cur
    order by x.cur <> c.currency, x.cur;
end
$$;

comment on function companon.campaign_spend(uuid) is
  'A campaign''s spend from the Treasury ledger, per currency (its own first, always present): budget and committed '
  '(accepted and paid offers), payments, paid, refunded, charged back (lost disputes) and net, in minor units. For '
  'the members of its brand, admins and the platform; P0002 campaign not found (or not yours to see).';

grant execute on function companon.campaign_spend(uuid) to authenticated, service_role;
