create or replace function companon.admin_overview(from_day date, to_day date)
returns table (
  brand_id uuid,
  brand_name text,
  draft bigint,
  in_review bigint,
  active bigint,
  paused bigint,
  completed bigint,
  cancelled bigint,
  impressions bigint,
  clicks bigint,
  conversions bigint,
  unattributed_conversions bigint,
  conversion_value jsonb,
  spent jsonb
)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  if not companon_private.caller_is_privileged() then
    if auth.uid() is null then
      raise exception using errcode = '42501', message = 'sign in to read the overview across brands',
        hint = 'Call with a user''s access token.';
    end if;
    if not treasury.is_admin() then
      raise exception using errcode = '42501', message = 'only an admin reads the overview across brands';
    end if;
  end if;
  perform companon_private.day_range(from_day, to_day);

  return query
  with states as (
    select k.brand_id,
      count(*) filter (where k.state = 'draft') as draft,
      count(*) filter (where k.state = 'in_review') as in_review,
      count(*) filter (where k.state = 'active') as active,
      count(*) filter (where k.state = 'paused') as paused,
      count(*) filter (where k.state = 'completed') as completed,
      count(*) filter (where k.state = 'cancelled') as cancelled
    from companon.campaigns as k
    group by k.brand_id
  ),
  numbers as (
    select d.brand_id, sum(d.impressions)::bigint as impressions, sum(d.clicks)::bigint as clicks,
      sum(d.conversions)::bigint as conversions, sum(d.unattributed_conversions)::bigint as unattributed_conversions
    from companon.campaign_days as d
    where d.day between from_day and to_day
    group by d.brand_id
  ),
  -- Net sponsorship spend per brand from the ledger (payments less refunds and lost disputes), over postings
  -- of the UTC days from_day to to_day.
  spend as (
    select k.id as brand_id,
           companon_private.values_json(array_agg(p.currency), array_agg(p.amount)) as value
    from companon.brands as k
    cross join lateral companon_private.sponsorship_postings(k.id) as p
    where p.at >= from_day::timestamp at time zone 'UTC' and p.at < (to_day + 1)::timestamp at time zone 'UTC'
    group by k.id
  ),
  vals as (
    select v.brand_id, companon_private.values_json(array_agg(v.currency::text), array_agg(v.attributed_minor)) as value
    from companon.campaign_day_values as v
    where v.day between from_day and to_day
    group by v.brand_id
  )
  select
    b.id, b.name,
    coalesce(s.draft, 0), coalesce(s.in_review, 0), coalesce(s.active, 0), coalesce(s.paused, 0),
    coalesce(s.completed, 0), coalesce(s.cancelled, 0),
    coalesce(n.impressions, 0), coalesce(n.clicks, 0), coalesce(n.conversions, 0),
    coalesce(n.unattributed_conversions, 0), coalesce(v.value, '[]'), coalesce(sp.value, '[]')
  from companon.brands as b
  left join states as s on s.brand_id = b.id
  left join numbers as n on n.brand_id = b.id
  left join vals as v on v.brand_id = b.id
  left join spend as sp on sp.brand_id = b.id
  order by b.name, b.id;
end
$$;

comment on function companon.admin_overview(date, date) is
  'For admins (42501 otherwise): every brand with its campaigns per current state, and the impressions, clicks, '
  'attributed and unattributed conversions and attributed conversion value ([{"currency", "amount_minor"}]) of its '
  'campaigns over the UTC days from_day to to_day (at most 731), and its net sponsorship spend over those days from '
  'the ledger (spent, [{"currency", "amount_minor"}]). docs/companon.md#measurement.';

grant execute on function companon.admin_overview(date, date) to authenticated, service_role;
