-- The brand dashboard (the app's /dashboard/brand): one row per campaign of the brand, newest first, with
-- what it spent (from the ledger, as companon.campaign_spend reads it), what it did (from Passport, as
-- companon.campaign_results counts it over the whole run), and what each result cost. For the brand's
-- members, admins and the platform; P0002 for anyone else.
create or replace function companon.brand_dashboard(brand_id uuid)
returns table (
  campaign_id uuid,
  campaign_name text,
  state text,
  objective text,
  starts_at timestamptz,
  ends_at timestamptz,
  currency text,
  budget_minor bigint,
  committed_minor bigint,
  sponsored_artists bigint,
  paid_minor bigint,
  refunded_minor bigint,
  charged_back_minor bigint,
  spent_minor bigint,
  impressions bigint,
  reach bigint,
  clicks bigint,
  ctr numeric,
  conversions bigint,
  conversion_value_minor bigint,
  cpm_minor numeric,
  cpc_minor numeric,
  cpa_minor numeric,
  roi numeric
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  perform companon_private.visible_brand_role(brand_dashboard.brand_id, 'read a brand''s dashboard');
  return query
    select c.id, c.name, c.state, c.objective, c.starts_at, c.ends_at, c.currency::text,
           s.budget_minor, s.committed_minor,
           (select count(*) from companon.offers as o
            where o.campaign_id = c.id and o.state in ('accepted', 'paid')),
           s.paid_minor, s.refunded_minor, s.charged_back_minor, s.net_minor,
           r.impressions, r.reach, r.clicks, r.ctr, r.conversions, v.value,
           case when r.impressions > 0 then round(s.net_minor * 1000.0 / r.impressions, 2) end,
           case when r.clicks > 0 then round(s.net_minor::numeric / r.clicks, 2) end,
           case when r.conversions > 0 then round(s.net_minor::numeric / r.conversions, 2) end,
           case when s.net_minor > 0 then round((v.value - s.net_minor)::numeric / s.net_minor, 4) end
    from companon.campaigns as c
    -- The campaign's own currency: its budget, its offers and their payments are in it.
    cross join lateral (select * from companon.campaign_spend(c.id) as x where x.currency = c.currency::text) as s
    cross join lateral (select * from companon.campaign_results(c.id) as y where y.day is null) as r
    cross join lateral (
      select coalesce(sum((e ->> 'amount_minor')::bigint), 0)::bigint as value
      from jsonb_array_elements(r.conversion_value) as e
      where e ->> 'currency' = c.currency::text
    ) as v
    where c.brand_id = brand_dashboard.brand_id
    order by c.created_at desc, c.id;
end
$$;

comment on function companon.brand_dashboard(uuid) is
  'The brand dashboard: per campaign (newest first) its budget, committed, sponsored artists, paid, refunded, charged '
  'back and spent (net) from the Treasury ledger; impressions, reach, clicks, CTR, attributed conversions and their '
  'value in the campaign''s currency over its whole run; cost per 1,000 impressions, per click and per conversion '
  '(minor units, null without results) and ROI ((value - spent) / spent, null before any spend). For the brand''s '
  'members, admins and the platform; P0002 otherwise. docs/companon.md#the-brand-dashboard.';

grant execute on function companon.brand_dashboard(uuid) to authenticated, service_role;
