-- One artist's DNA for a profile page, as far as the caller's plan shows it
-- (the artist themself, and roles not subject to plans, see everything):
--   boards   per domain (A, T, G, C, overall) and period (7d, 30d, alltime):
--            score, raw, rank, change, events, fans, components, computed_at;
--            null where the artist has no score or the plan does not show
--            that row of that board (the same rule as the table's policy)
--   history  per domain and overall, the 30d score of each of the last 90
--            UTC days (oldest first); null where the plan does not show the
--            artist's 30d row
--   growth   per domain, raw strength over the last 7 days against the 7
--            days before (coliseum_private.artist_growth): recent_raw,
--            previous_raw, ratio, percent (ratio and percent null when
--            previous_raw is 0 or unknown); null where the plan does not
--            show the artist's 7d row
--   held     whether the artist is held off the boards now
--            (coliseum.hold_artist). A held artist is on no board: readers
--            subject to a plan get null boards, history and growth; the
--            artist themself, admins and roles not subject to plans also get
--            `hold` (id, reason, held_at, activity_since), and the artist and
--            those roles still see the DNA, with null ranks
create or replace function coliseum.artist_profile(artist uuid)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  caller_plan text := coliseum.my_plan();
  plan_row coliseum.plans;
  sees_all boolean;
  today date := (now() at time zone 'UTC')::date;
  hold coliseum.artist_holds;
  hold_shown jsonb;
  profile jsonb;
begin
  if artist is null then
    raise exception using
      errcode = '22023',
      message = 'artist is required';
  end if;
  select * into plan_row from coliseum.plans as p where p.plan = caller_plan;
  sees_all := caller_plan is null or artist is not distinct from auth.uid();
  select * into hold from coliseum.artist_holds as h where h.artist_id = artist and h.released_at is null;
  if hold.id is not null and (sees_all or treasury.is_admin()) then
    hold_shown := jsonb_build_object('id', hold.id, 'reason', hold.reason, 'held_at', hold.held_at,
                                     'activity_since', hold.activity_since);
  end if;
  if hold.id is not null and not sees_all then
    return jsonb_strip_nulls(jsonb_build_object('artist_id', artist, 'plan', caller_plan, 'held', true, 'hold', hold_shown))
           || jsonb_build_object('boards', null, 'history', null, 'growth', null);
  end if;

  with strength as (
    select s.*,
           h.score as reference_score,
           -- Artists ahead, counted only as far as the plan needs to know.
           case when hold.id is null and (sees_all or s.domain = any (plan_row.domains)) then
             coliseum_private.rows_ahead(s.domain, s.period, s.score, s.artist_id,
                                         case when sees_all then null else plan_row.depth end)
           end as ahead
    from public.coliseum_domain_strength as s
    left join coliseum.strength_history as h
      on h.artist_id = s.artist_id and h.domain = s.domain and h.period = s.period
     and h.day = today - case s.period when '30d' then 30 else 7 end
    where s.artist_id = artist
  ),
  shown as (
    select st.*
    from strength as st
    where sees_all or (st.ahead is not null and (plan_row.depth is null or st.ahead < plan_row.depth))
  ),
  boards as (
    select jsonb_object_agg(d.domain, (
             select jsonb_object_agg(w.period, (
                      select jsonb_build_object(
                               'score', sh.score, 'raw', sh.raw, 'rank', sh.ahead + 1,
                               'change', sh.score - sh.reference_score, 'events', sh.events, 'fans', sh.fans,
                               'components', sh.components, 'computed_at', sh.computed_at)
                      from shown as sh
                      where sh.domain = d.domain and sh.period = w.period))
             from unnest(array['7d', '30d', 'alltime']) as w(period))) as value
    from unnest(array['A', 'T', 'G', 'C', 'overall']) as d(domain)
  ),
  history as (
    select jsonb_object_agg(d.domain, case when sees_all or exists (select from shown as sh where sh.domain = d.domain and sh.period = '30d')
             then coalesce((
               select jsonb_agg(jsonb_build_object('day', h.day, 'score', h.score) order by h.day)
               from coliseum.strength_history as h
               where h.artist_id = artist and h.domain = d.domain and h.period = '30d' and h.day > today - 90),
               '[]'::jsonb)
           end) as value
    from unnest(array['A', 'T', 'G', 'C', 'overall']) as d(domain)
  ),
  growth as (
    select jsonb_object_agg(g.domain, case when sees_all or exists (select from shown as sh where sh.domain = g.domain and sh.period = '7d')
             then jsonb_build_object(
               'recent_raw', g.recent_raw,
               'previous_raw', g.previous_raw,
               'ratio', g.recent_raw / nullif(g.previous_raw, 0),
               'percent', 100 * (g.recent_raw / nullif(g.previous_raw, 0) - 1))
           end) as value
    from coliseum_private.artist_growth(artist) as g
  )
  select jsonb_build_object(
           'artist_id', artist,
           'plan', caller_plan,
           'boards', (select b.value from boards as b),
           'history', (select h.value from history as h),
           'growth', (select g.value from growth as g),
           'held', hold.id is not null)
         || case when hold_shown is not null then jsonb_build_object('hold', hold_shown) else '{}' end
  into profile;
  return profile;
end
$$;

comment on function coliseum.artist_profile(uuid) is
  'An artist''s boards (score, rank, change, components), 90-day 30d history and 7-day growth, as the caller''s plan shows them; '
  'held (off the boards by an admin: nothing shown to plan readers, the hold''s reason to the artist and admins).';

grant execute on function coliseum.artist_profile(uuid) to anon, authenticated, service_role;
