create or replace function companon.campaign_results(campaign_id uuid, from_day date default null, to_day date default null)
returns table (
  day date,
  impressions bigint,
  reach bigint,
  clicks bigint,
  ctr numeric,
  conversions bigint,
  click_conversions bigint,
  view_conversions bigint,
  unattributed_conversions bigint,
  conversion_value jsonb,
  unattributed_value jsonb,
  impressions_outside_run bigint,
  clicks_outside_run bigint
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  c companon.campaigns;
  first_day date;
  last_day date;
begin
  perform companon_private.campaign_role(campaign_results.campaign_id, 'read a campaign''s results');
  select * into c from companon.campaigns as k where k.id = campaign_results.campaign_id;
  first_day := coalesce(from_day, (c.starts_at at time zone 'UTC')::date);
  last_day := coalesce(to_day, ((c.ends_at - interval '1 microsecond') at time zone 'UTC')::date);
  perform companon_private.day_range(first_day, last_day);

  return query
  with days as (
    select g::date as day from generate_series(first_day, last_day, interval '1 day') as g
  ),
  stats as (
    select d.* from companon.campaign_days as d
    where d.campaign_id = c.id and d.day between first_day and last_day
  ),
  vals as (
    select v.* from companon.campaign_day_values as v
    where v.campaign_id = c.id and v.day between first_day and last_day
  ),
  per_day as (
    select
      g.day,
      coalesce(s.impressions, 0) as impressions, coalesce(s.reach, 0) as reach, coalesce(s.clicks, 0) as clicks,
      coalesce(s.conversions, 0) as conversions, coalesce(s.click_conversions, 0) as click_conversions,
      coalesce(s.view_conversions, 0) as view_conversions,
      coalesce(s.unattributed_conversions, 0) as unattributed_conversions,
      coalesce(s.impressions_outside_run, 0) as impressions_outside_run,
      coalesce(s.clicks_outside_run, 0) as clicks_outside_run
    from days as g
    left join stats as s on s.day = g.day
  ),
  totals as (
    select
      sum(p.impressions)::bigint as impressions,
      (select count(distinct r.user_id) from companon_private.campaign_reach as r
       where r.campaign_id = c.id and r.day between first_day and last_day) as reach,
      sum(p.clicks)::bigint as clicks, sum(p.conversions)::bigint as conversions,
      sum(p.click_conversions)::bigint as click_conversions, sum(p.view_conversions)::bigint as view_conversions,
      sum(p.unattributed_conversions)::bigint as unattributed_conversions,
      sum(p.impressions_outside_run)::bigint as impressions_outside_run,
      sum(p.clicks_outside_run)::bigint as clicks_outside_run
    from per_day as p
  )
  select
    p.day, p.impressions, p.reach, p.clicks,
    case when p.impressions > 0 then round(p.clicks::numeric / p.impressions, 4) end,
    p.conversions, p.click_conversions, p.view_conversions, p.unattributed_conversions,
    (select companon_private.values_json(array_agg(v.currency::text), array_agg(v.attributed_minor))
     from vals as v where v.day = p.day),
    (select companon_private.values_json(array_agg(v.currency::text), array_agg(v.unattributed_minor))
     from vals as v where v.day = p.day),
    p.impressions_outside_run, p.clicks_outside_run
  from per_day as p
  union all
  select
    null, t.impressions, t.reach, t.clicks,
    case when t.impressions > 0 then round(t.clicks::numeric / t.impressions, 4) end,
    t.conversions, t.click_conversions, t.view_conversions, t.unattributed_conversions,
    (select companon_private.values_json(array_agg(v.currency::text), array_agg(v.attributed_minor)) from vals as v),
    (select companon_private.values_json(array_agg(v.currency::text), array_agg(v.unattributed_minor)) from vals as v),
    t.impressions_outside_run, t.clicks_outside_run
  from totals as t
  order by 1 nulls last;
end
$$;

comment on function companon.campaign_results(uuid, date, date) is
  'A campaign''s numbers per UTC day from from_day to to_day (default: its schedule; at most 731 days), every day '
  'a row (zeros when quiet), then one row with day null: the range''s totals (reach: distinct users over the '
  'range). ctr = clicks / impressions (4 decimals, null without impressions). conversion_value and '
  'unattributed_value: [{"currency", "amount_minor"}]. For the brand''s members and admins (P0002 otherwise). '
  'docs/companon.md#measurement.';

grant execute on function companon.campaign_results(uuid, date, date) to authenticated, service_role;
