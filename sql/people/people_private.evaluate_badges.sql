-- The processor's part of badges (docs/badges.md, "Evaluation"): adds a batch
-- of entries to the count and early rules' running state and awards what the
-- batch completes. The default is every active rule (the processor, after
-- the fold, so a counted rule reads the units the fold stored for the batch);
-- only_badge evaluates one badge whatever its state (the backfill). Callers
-- hold the refresh lock, so batches are evaluated one at a time in id order.
-- An entry at or before a (badge, user, scope)'s last_entry_id adds nothing:
-- a batch evaluated twice counts once. Returns the number of awards.
-- received_from and received_to bound the entries' received_at (the log's
-- partition key), as in coliseum_private.fold_entries: the processor passes
-- its batch's span, so each lookup reads one month; the defaults read every month.
create or replace function people_private.evaluate_badges(
  entry_ids bigint[],
  only_badge bigint default null,
  received_from timestamptz default '-infinity',
  received_to timestamptz default 'infinity'
)
returns int
language plpgsql
volatile
-- Every table here is read by key, one probe per row of the batch. Right after a deploy or an activation
-- the counters' statistics say "empty", and the planner then scans the whole table for each probe, which
-- is quadratic in the batch (20,000 entries: 25 s instead of 0.6 s). Nothing here wants a scan.
set enable_seqscan = off
as $$
declare
  due jsonb;
  awarded int := 0;
begin
  if not exists (select from people.badges as b
                 where b.rule ->> 'type' in ('count', 'early')
                   and case when only_badge is null then b.active else b.id = only_badge end) then
    return 0;
  end if;

  with rules as (
    select
      b.id as badge_id, k.kind, b.rule ? 'per' as per_artist,
      coalesce((b.rule ->> 'counted')::boolean, false) as counted, (b.rule ->> 'at_least')::bigint as at_least
    from people.badges as b
    cross join lateral jsonb_array_elements_text(b.rule -> 'kinds') as k(kind)
    where b.rule ->> 'type' = 'count' and case when only_badge is null then b.active else b.id = only_badge end
  ),
  -- The batch read once (joined to its ids: a filter "id = any (array)" compares each row with the whole
  -- array when the planner chooses a scan), and those of its entries a counted rule reads whose mutations, as the fold stored
  -- them, carry units: a play under 30 s made none, a play the counting rules cut carries 0 (version-1 rows:
  -- null, counted in full). Every lookup below is one index probe per row of the batch (lateral ... limit 1,
  -- which the planner cannot turn into a join): its estimates of these CTEs are guesses, and a hash or
  -- nested-loop join over a whole table was quadratic or a scan of history when they were wrong.
  batch as materialized (
    select e.id, e.user_id, e.kind, e.artist_id, least(e.occurred_at, e.received_at) as occurred_at
    from unnest(entry_ids) as b(id)
    join public.passport_entries as e
      on e.id = b.id and e.received_at between received_from and received_to
  ),
  counted as materialized (
    select e.id as entry_id
    from batch as e
    cross join lateral (select from public.coliseum_dna_mutations as m
                        where m.entry_id = e.id and m.occurred_at = e.occurred_at and coalesce(m.units, 1) > 0
                        limit 1) as m
    where e.kind in (select r.kind from rules as r where r.counted)
  ),
  -- The batch's entries each rule counts.
  hits as materialized (
    select
      r.badge_id, e.user_id, case when r.per_artist then e.artist_id end as artist_id,
      case when r.per_artist then e.artist_id::text else '' end as scope, r.at_least, e.id as entry_id
    from batch as e
    join rules as r on r.kind = e.kind
    where (not r.per_artist or e.artist_id is not null)
      and (not r.counted or e.id in (select c.entry_id from counted as c))
  ),
  -- Each new hit with the count it brings its (badge, user, scope) to; a scope that reached at_least stops.
  fresh as (
    select
      h.*,
      coalesce(p.count, 0) + row_number() over (partition by h.badge_id, h.user_id, h.scope order by h.entry_id)
        as reached
    from hits as h
    left join lateral (select p.count, p.last_entry_id
                       from people_private.badge_progress as p
                       where p.badge_id = h.badge_id and p.user_id = h.user_id and p.scope = h.scope
                       limit 1) as p on true
    where h.entry_id > coalesce(p.last_entry_id, 0) and coalesce(p.count, 0) < h.at_least
  ),
  kept as (
    select f.* from fresh as f where f.reached <= f.at_least
  ),
  progressed as (
    insert into people_private.badge_progress as p (badge_id, user_id, scope, count, last_entry_id)
    select k.badge_id, k.user_id, k.scope, max(k.reached), max(k.entry_id)
    from kept as k
    group by k.badge_id, k.user_id, k.scope
    order by k.badge_id, k.user_id, k.scope
    on conflict (badge_id, user_id, scope) do update set count = excluded.count, last_entry_id = excluded.last_entry_id
  )
  select coalesce(jsonb_agg(jsonb_build_object(
           'badge_id', k.badge_id, 'user_id', k.user_id, 'scope', k.scope, 'artist_id', k.artist_id,
           'entry_id', k.entry_id) order by k.entry_id), '[]')
  into due
  from kept as k
  where k.reached = k.at_least;

  with rules as (
    select b.id as badge_id, k.kind, (b.rule ->> 'within_first')::bigint as within_first
    from people.badges as b
    cross join lateral jsonb_array_elements_text(b.rule -> 'kinds') as k(kind)
    where b.rule ->> 'type' = 'early' and case when only_badge is null then b.active else b.id = only_badge end
  ),
  -- Each user's first entry of the batch per (badge, artist).
  firsts as (
    select distinct on (r.badge_id, e.artist_id, e.user_id)
      r.badge_id, e.artist_id, e.user_id, e.id as entry_id, r.within_first
    from unnest(entry_ids) as b(id)
    join public.passport_entries as e
      on e.id = b.id and e.received_at between received_from and received_to and e.artist_id is not null
    join rules as r on r.kind = e.kind
    order by r.badge_id, e.artist_id, e.user_id, e.id
  ),
  -- Users not seen before in a scope that still has room, numbered after those who came first.
  newcomers as (
    select
      f.*,
      coalesce(s.users, 0) + row_number() over (partition by f.badge_id, f.artist_id order by f.entry_id) as position
    from firsts as f
    left join lateral (select s.users from people_private.badge_scope_counts as s
                       where s.badge_id = f.badge_id and s.scope = f.artist_id::text
                       limit 1) as s on true
    left join lateral (select true as seen from people_private.badge_progress as p
                       where p.badge_id = f.badge_id and p.user_id = f.user_id and p.scope = f.artist_id::text
                       limit 1) as p on true
    where coalesce(s.users, 0) < f.within_first and p.seen is null
  ),
  early as (
    select n.* from newcomers as n where n.position <= n.within_first
  ),
  counted as (
    insert into people_private.badge_scope_counts as s (badge_id, scope, users)
    select e.badge_id, e.artist_id::text, max(e.position)
    from early as e
    group by e.badge_id, e.artist_id
    order by e.badge_id, e.artist_id
    on conflict (badge_id, scope) do update set users = excluded.users
  ),
  progressed as (
    insert into people_private.badge_progress (badge_id, user_id, scope, count, last_entry_id)
    select e.badge_id, e.user_id, e.artist_id::text, e.position, e.entry_id
    from early as e
    order by e.badge_id, e.user_id, e.artist_id
  )
  select due || coalesce(jsonb_agg(jsonb_build_object(
           'badge_id', e.badge_id, 'user_id', e.user_id, 'scope', e.artist_id::text, 'artist_id', e.artist_id,
           'entry_id', e.entry_id) order by e.entry_id), '[]')
  into due
  from early as e;

  select count(people_private.award_badge(
           badge_id => d.badge_id, user_id => d.user_id, scope => d.scope, artist_id => d.artist_id,
           earned_by_entry_id => d.entry_id))
  into awarded
  from jsonb_to_recordset(due) as d(badge_id bigint, user_id uuid, scope text, artist_id uuid, entry_id bigint);
  return awarded;
end
$$;

comment on function people_private.evaluate_badges(bigint[], bigint, timestamptz, timestamptz) is
  'Adds a batch of Passport entries to the count and early badge rules (every active one, or only_badge) and '
  'awards what it completes; returns the number of awards. Called by coliseum.process_pending after the fold, '
  'and by people.activate_badge over the history.';
