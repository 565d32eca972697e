-- Counts the conversions among entries (companon.campaign_converted), each once (companon_private.conversions
-- keeps them by entry). Last touch, clicks first: the conversion goes to the campaign of the user's last click
-- within 7 days before it, or else of their last view within 1 day before it, among the campaigns of the brand
-- of the campaign it names, and only touches made while that campaign ran count. With no such touch it is
-- unattributed and counted for the campaign it names. It counts on the UTC day of its own occurred_at, with its
-- value (amount_minor and currency, when it carries both). Touches stored after the conversion was counted do
-- not move it. Called by measure_pending, which owns the batch.
create or replace function companon_private.attribute_conversions(entries bigint[])
returns void
language sql
volatile
as $$
  with conversions as materialized (
    select
      e.id, e.user_id, e.occurred_at, c.id as named_campaign_id, c.brand_id,
      (e.occurred_at at time zone 'UTC')::date as day,
      -- As Passport read it: 700.0 is the integer 700.
      case when e.payload ? 'currency' then passport_private.json_i64(e.payload -> 'amount_minor') end as amount_minor,
      case when e.payload ? 'amount_minor' then e.payload ->> 'currency' end as currency
    from public.passport_entries as e
    join companon.campaigns as c on c.id = (e.payload ->> 'campaign_id')::uuid
    where e.id = any (entries) and e.kind = 'companon.campaign_converted'
  ),
  attributed as (
    select v.*, t.touch, t.touch_entry_id, coalesce(t.campaign_id, v.named_campaign_id) as campaign_id
    from conversions as v
    left join lateral (
      -- The user's entries of the last 7 days, newest first, through passport_entries_timeline_idx.
      select
        case when p.kind = 'companon.campaign_clicked' then 'click' else 'view' end as touch,
        p.id as touch_entry_id, tc.id as campaign_id
      from public.passport_entries as p
      join companon.campaigns as tc on tc.id = (p.payload ->> 'campaign_id')::uuid and tc.brand_id = v.brand_id
      where p.user_id = v.user_id
        and p.occurred_at <= v.occurred_at
        and p.occurred_at > v.occurred_at - interval '7 days'
        and (p.kind = 'companon.campaign_clicked'
             or (p.kind = 'companon.campaign_viewed' and p.occurred_at > v.occurred_at - interval '1 day'))
        and companon_private.running_at(tc.id, p.occurred_at)
      order by p.kind = 'companon.campaign_clicked' desc, p.occurred_at desc, p.id desc
      limit 1
    ) as t on true
  ),
  stored as (
    insert into companon_private.conversions
      (entry_id, named_campaign_id, campaign_id, brand_id, user_id, day, touch, touch_entry_id, amount_minor, currency)
    select a.id, a.named_campaign_id, a.campaign_id, a.brand_id, a.user_id, a.day, a.touch, a.touch_entry_id,
           a.amount_minor, a.currency
    from attributed as a
    order by a.id
    on conflict (entry_id) do nothing
    returning campaign_id, brand_id, day, touch, amount_minor, currency
  ),
  days as (
    insert into companon.campaign_days as d
      (campaign_id, brand_id, day, conversions, click_conversions, view_conversions, unattributed_conversions)
    select
      s.campaign_id, s.brand_id, s.day,
      count(*) filter (where s.touch is not null),
      count(*) filter (where s.touch = 'click'),
      count(*) filter (where s.touch = 'view'),
      count(*) filter (where s.touch is null)
    from stored as s
    group by s.campaign_id, s.brand_id, s.day
    order by s.campaign_id, s.day
    on conflict (campaign_id, day) do update set
      conversions = d.conversions + excluded.conversions,
      click_conversions = d.click_conversions + excluded.click_conversions,
      view_conversions = d.view_conversions + excluded.view_conversions,
      unattributed_conversions = d.unattributed_conversions + excluded.unattributed_conversions,
      updated_at = now()
  )
  insert into companon.campaign_day_values as v (campaign_id, brand_id, day, currency, attributed_minor, unattributed_minor)
  select
    s.campaign_id, s.brand_id, s.day, s.currency,
    coalesce(sum(s.amount_minor) filter (where s.touch is not null), 0),
    coalesce(sum(s.amount_minor) filter (where s.touch is null), 0)
  from stored as s
  where s.currency is not null
  group by s.campaign_id, s.brand_id, s.day, s.currency
  order by s.campaign_id, s.day, s.currency
  on conflict (campaign_id, day, currency) do update set
    attributed_minor = v.attributed_minor + excluded.attributed_minor,
    unattributed_minor = v.unattributed_minor + excluded.unattributed_minor
$$;
