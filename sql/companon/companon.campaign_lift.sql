create or replace function companon.campaign_lift(campaign_id uuid, period text default '7d')
returns table (
  artist_id uuid,
  domain text,
  sponsored_from date,
  sponsored_to date,
  baseline_days int,
  baseline_slope double precision,
  during_days int,
  during_slope double precision,
  observed double precision,
  projected double precision,
  lift double precision,
  note text
)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  c companon.campaigns;
  -- The days before the sponsorship whose trend is projected, and how many of them must have a score.
  baseline_span constant int := 28;
  baseline_needed constant int := 7;
  run_end timestamptz;
begin
  perform companon_private.campaign_role(campaign_lift.campaign_id, 'read a campaign''s lift');
  if period is null or period not in ('7d', '30d', 'alltime') then
    raise exception using errcode = '22023', message = 'period must be 7d, 30d or alltime';
  end if;
  select * into c from companon.campaigns as k where k.id = campaign_lift.campaign_id;
  -- The campaign ran until its end, its completion or cancellation if earlier, or now.
  run_end := least(c.ends_at, now(), case when c.state in ('completed', 'cancelled') then c.state_changed_at end);

  return query
  with sponsored as (
    -- Sponsored artists: offers accepted or paid, from their acceptance (not before the campaign starts).
    select o.artist_id, greatest(min(o.accepted_at), c.starts_at) as since
    from companon.offers as o
    where o.campaign_id = c.id and o.state in ('accepted', 'paid')
    group by o.artist_id
  ),
  spans as (
    select s.artist_id, (s.since at time zone 'UTC')::date as d0, (run_end at time zone 'UTC')::date as d1
    from sponsored as s
  ),
  series as (
    -- Each day from baseline_span days before the sponsorship to its last day, t = days since it began, with
    -- the score of that day: the last one the history holds on or before it (a day without a refresh kept the
    -- score it had).
    select sp.artist_id, sp.d0, sp.d1, dm.domain, (g::date - sp.d0) as t,
      (select h.score from coliseum.strength_history as h
       where h.artist_id = sp.artist_id and h.domain = dm.domain and h.period = campaign_lift.period
         and h.day <= g::date
       order by h.day desc
       limit 1) as score
    from spans as sp
    cross join unnest(array['overall', 'A', 'T', 'G', 'C']) with ordinality as dm(domain, position)
    cross join generate_series(sp.d0 - baseline_span, greatest(sp.d1, sp.d0 - 1), interval '1 day') as g
  ),
  fits as (
    select
      x.artist_id, x.domain, x.d0, x.d1,
      (count(x.score) filter (where x.t < 0))::int as baseline_days,
      regr_slope(x.score, x.t) filter (where x.t < 0) as b_slope,
      regr_intercept(x.score, x.t) filter (where x.t < 0) as b_intercept,
      (count(x.score) filter (where x.t >= 0))::int as during_days,
      regr_slope(x.score, x.t) filter (where x.t >= 0) as d_slope,
      avg(x.score) filter (where x.t >= 0) as d_mean,
      avg(x.t) filter (where x.t >= 0 and x.score is not null) as d_mean_t
    from series as x
    group by x.artist_id, x.domain, x.d0, x.d1
  )
  select
    f.artist_id, f.domain, f.d0, case when f.d1 >= f.d0 then f.d1 end,
    f.baseline_days, f.b_slope, f.during_days, f.d_slope, f.d_mean,
    case when f.baseline_days >= baseline_needed then f.b_intercept + f.b_slope * f.d_mean_t end,
    case when f.baseline_days >= baseline_needed then f.d_mean - (f.b_intercept + f.b_slope * f.d_mean_t) end,
    case
      when f.during_days = 0 then 'the sponsorship has no day with a score yet'
      when f.baseline_days < baseline_needed then
        format('%s of the %s days before the sponsorship have a score: %s are needed for a trend',
               f.baseline_days, baseline_span, baseline_needed)
    end
  from fits as f
  order by f.artist_id, array_position(array['overall', 'A', 'T', 'G', 'C'], f.domain);
end
$$;

comment on function companon.campaign_lift(uuid, text) is
  'The DNA lift of each sponsored artist of a campaign (offers accepted or paid), per domain and overall, from the '
  'daily scores of coliseum.strength_history for period (7d, 30d or alltime): a least-squares line through the 28 '
  'days before the sponsorship (at least 7 with a score), projected over the sponsored days (from acceptance, not '
  'before the campaign''s start, to its end, completion or cancellation, or today); lift = mean observed - mean '
  'projected score. A correlation, not a cause: docs/companon.md#dna-lift says what it measures and what it does not. '
  'For the brand''s members and admins (P0002 otherwise).';

grant execute on function companon.campaign_lift(uuid, text) to authenticated, service_role;
