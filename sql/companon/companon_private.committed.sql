-- What a campaign has committed: the amounts of its accepted and paid offers (minor units of its
-- currency). Read under the campaign's lock when an offer is accepted, so it never passes the budget.
create or replace function companon_private.committed(campaign_id uuid)
returns bigint
language sql
stable
as $$
  select coalesce(sum(o.amount_minor), 0)::bigint
  from companon.offers as o
  where o.campaign_id = committed.campaign_id and o.state in ('accepted', 'paid')
$$;
