-- Ranks first_rank + 1 .. first_rank + max_rows of a board (max_rows null:
-- to the end), in rank order. rank = row_number over (score desc, artist_id);
-- change = score - the artist's score on the reference day (today - 30 days
-- for 30d, today - 7 days for 7d and alltime, UTC); previous_rank = the
-- artist's rank on that day's board. Both null when the artist has no
-- history row that day. Artists held off the boards (an open row of
-- coliseum.artist_holds) are on neither board: the ranks close over them,
-- and they come back when released, with nothing to rebuild.
--
-- Cost: an index scan of first_rank + max_rows board entries, a primary key
-- lookup per row for the reference score, and one ordered range scan of the
-- reference day's board down to the lowest reference score on the page
-- (ranking a prefix of a board gives the same ranks as ranking all of it).
-- Each statement is planned with the call's values (plan_cache_mode), so the
-- page's limit and that lowest score reach the index scans as constants.
-- A page without any reference score (no history that day) skips the
-- second statement: it would plan a scan that finds nothing.
-- JIT is off: these are millisecond queries whose cost estimates can still
-- pass the JIT threshold, and compiling would cost more than running.
create or replace function coliseum_private.board_page(
  board_domain text,
  board_period text,
  first_rank bigint,
  max_rows bigint
)
returns table (rank int, artist_id uuid, score double precision, change double precision, previous_rank int)
language plpgsql
stable
set plan_cache_mode = force_custom_plan
set jit = off
as $$
declare
  reference_day date := (now() at time zone 'UTC')::date - case board_period when '30d' then 30 else 7 end;
  artists uuid[];
  scores double precision[];
  reference_scores double precision[];
  lowest_reference double precision;
begin
  select coalesce(array_agg(p.artist_id order by p.n), '{}'), array_agg(p.score order by p.n),
         array_agg(h.score order by p.n), min(h.score)
  into artists, scores, reference_scores, lowest_reference
  from (select s.artist_id, s.score, row_number() over (order by s.score desc, s.artist_id) as n
        from public.coliseum_domain_strength as s
        where s.domain = board_domain and s.period = board_period
          and not exists (select from coliseum.artist_holds as x where x.artist_id = s.artist_id and x.released_at is null)
        order by s.score desc, s.artist_id
        offset first_rank
        limit max_rows) as p
  left join coliseum.strength_history as h
    on h.artist_id = p.artist_id and h.domain = board_domain and h.period = board_period and h.day = reference_day;

  if lowest_reference is null then
    return query
    select (first_rank + p.n)::int, p.artist_id, p.score, null::double precision, null::int
    from unnest(artists, scores) with ordinality as p(artist_id, score, n)
    order by p.n;
    return;
  end if;

  return query
  with reference_ranks as (
    select h.artist_id, row_number() over (order by h.score desc, h.artist_id) as rank
    from coliseum.strength_history as h
    where h.domain = board_domain and h.period = board_period and h.day = reference_day
      and h.score >= lowest_reference
      and not exists (select from coliseum.artist_holds as x where x.artist_id = h.artist_id and x.released_at is null)
  )
  select (first_rank + p.n)::int, p.artist_id, p.score, p.score - p.reference_score, r.rank::int
  from unnest(artists, scores, reference_scores) with ordinality as p(artist_id, score, reference_score, n)
  left join reference_ranks as r on r.artist_id = p.artist_id
  order by p.n;
end
$$;
