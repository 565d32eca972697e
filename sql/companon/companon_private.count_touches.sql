-- Counts the views and clicks among entries (companon.campaign_viewed, _clicked): per campaign and UTC day of
-- occurred_at, those that happened while the campaign ran (companon_private.running_at) as impressions and
-- clicks, with the users they reached; the others as impressions_outside_run and clicks_outside_run. An entry
-- naming no campaign counts nowhere. Called by measure_pending, which owns the batch.
create or replace function companon_private.count_touches(entries bigint[])
returns void
language sql
volatile
as $$
  with touches as materialized (
    select
      e.user_id, e.kind = 'companon.campaign_clicked' as click, c.id as campaign_id, c.brand_id,
      (e.occurred_at at time zone 'UTC')::date as day,
      companon_private.running_at(c.id, e.occurred_at) as ran
    from public.passport_entries as e
    join companon.campaigns as c on c.id = (e.payload ->> 'campaign_id')::uuid
    where e.id = any (entries) and e.kind in ('companon.campaign_viewed', 'companon.campaign_clicked')
  ),
  reached as (
    insert into companon_private.campaign_reach (campaign_id, day, user_id)
    select distinct t.campaign_id, t.day, t.user_id from touches as t where t.ran
    order by 1, 2, 3
    on conflict do nothing
    returning campaign_id, day
  ),
  new_reach as (
    select r.campaign_id, r.day, count(*) as users from reached as r group by r.campaign_id, r.day
  ),
  counts as (
    select
      t.campaign_id, t.brand_id, t.day,
      count(*) filter (where t.ran and not t.click) as impressions,
      count(*) filter (where t.ran and t.click) as clicks,
      count(*) filter (where not t.ran and not t.click) as impressions_outside_run,
      count(*) filter (where not t.ran and t.click) as clicks_outside_run
    from touches as t
    group by t.campaign_id, t.brand_id, t.day
  )
  insert into companon.campaign_days as d
    (campaign_id, brand_id, day, impressions, reach, clicks, impressions_outside_run, clicks_outside_run)
  select k.campaign_id, k.brand_id, k.day, k.impressions, coalesce(r.users, 0), k.clicks, k.impressions_outside_run,
         k.clicks_outside_run
  from counts as k
  left join new_reach as r on r.campaign_id = k.campaign_id and r.day = k.day
  order by k.campaign_id, k.day
  on conflict (campaign_id, day) do update set
    impressions = d.impressions + excluded.impressions,
    reach = d.reach + excluded.reach,
    clicks = d.clicks + excluded.clicks,
    impressions_outside_run = d.impressions_outside_run + excluded.impressions_outside_run,
    clicks_outside_run = d.clicks_outside_run + excluded.clicks_outside_run,
    updated_at = now()
$$;
