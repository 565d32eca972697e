-- Ranks first_rank + 1 .. first_rank + max_rows of a board (max_rows null:
-- to the end), in rank order. rank = row_number over (score desc, artist_id);
-- change = score - the artist's score on the reference day (today - 30 days
-- for 30d, today - 7 days for 7d and alltime, UTC); previous_rank = the
-- artist's rank on that day's board. Both null when the artist has no
-- history row that day. Artists held off the boards (an open row of
-- coliseum.artist_holds) are on neither board: the ranks close over them,
-- and they come back when released, with nothing to rebuild.
--
-- Cost: an index scan of first_rank + max_rows board entries and, when the
-- reference day's ranks are stored and still valid (history_days: changes =
-- ranked_changes; coliseum_private.rank_history_days), one primary key probe
-- of coliseum_private.history_ranks per row for the reference score and rank
-- (its key is the fixed-width (board, day, artist_id)), the ranks of held
-- artists that day subtracted (holds are few: one probe per open hold). Otherwise, a primary key lookup per row for the reference score
-- and one ordered range scan of the reference day's board down to the lowest
-- reference score on the page (ranking a prefix of a board gives the same
-- ranks as ranking all of it). Both give the same answers.
-- Plans: for a page (max_rows up to 1000), the statements that read the
-- day's state and the page itself (an index scan in board order and one key
-- probe per row, of the stored ranks or of the history) do the same work
-- whatever the values, so they run their cached generic plans, made with
-- hash and merge joins off so that no estimate can turn one into a join of
-- the whole day: planning them with each call's values was most of a call
-- (0.84 -> 0.5 -> 0.3 ms a read of the top 100, docs/coliseum-boards.md).
-- The read-time ranking, and every statement of a whole board (the views),
-- are planned with the call's values (plan_cache_mode), so the limit and the
-- lowest reference score reach the index scans as constants: a whole board
-- hash-joins its stored ranks (0.12-0.14 s for 100,000 artists, against
-- 0.47-0.51 s probing each), and a generic plan of the read-time ranking
-- hash-joined a whole day's history for a page.
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
set enable_hashjoin = on
set enable_mergejoin = on
set jit = off
as $$
declare
  reference_day date := coliseum_private.reference_day(board_period, (now() at time zone 'UTC')::date);
  board_no smallint := coliseum_private.board_number(board_domain, board_period);
  page boolean := coalesce(max_rows <= 1000, false);
  stored boolean;
  held_ranks int[];
  artists uuid[];
  scores double precision[];
  reference_scores double precision[];
  lowest_reference double precision;
begin
  if page then
    -- Cached generic plans without hash or merge joins, up to the read-time
    -- ranking; undone when this function returns, by its SET clauses for the
    -- same three settings.
    perform pg_catalog.set_config('plan_cache_mode', 'force_generic_plan', true),
            pg_catalog.set_config('enable_hashjoin', 'off', true),
            pg_catalog.set_config('enable_mergejoin', 'off', true);
  end if;
  select d.ranked_changes = d.changes,
         (select array_agg(r.rank)
          from coliseum.artist_holds as x
          join coliseum_private.history_ranks as r
            on r.board = board_no and r.day = reference_day and r.artist_id = x.artist_id
          where x.released_at is null)
  into stored, held_ranks
  from coliseum_private.history_days as d
  where d.domain = board_domain and d.period = board_period and d.day = reference_day;

  if stored then
    return query
    select p.n::int, p.artist_id, p.score, p.score - r.score,
           (case when held_ranks is null then r.rank
                 else r.rank - (select count(*) from unnest(held_ranks) as q(rank) where q.rank < r.rank) end)::int
    from coliseum_private.board_entries(board_domain, board_period, first_rank, max_rows) as p
    left join coliseum_private.history_ranks as r
      on r.board = board_no and r.day = reference_day and r.artist_id = p.artist_id
    order by p.n;
    return;
  end if;

  select coalesce(array_agg(p.artist_id order by p.n), '{}'), array_agg(p.score order by p.n),
         array_agg(h.score order by p.n), min(h.score)
  into artists, scores, reference_scores, lowest_reference
  from coliseum_private.board_entries(board_domain, board_period, first_rank, max_rows) as p
  left join coliseum.strength_history as h
    on h.artist_id = p.artist_id and h.domain = board_domain and h.period = board_period and h.day = reference_day;

  if lowest_reference is null then
    return query
    select (first_rank + p.n)::int, p.artist_id, p.score, null::double precision, null::int
    from unnest(artists, scores) with ordinality as p(artist_id, score, n)
    order by p.n;
    return;
  end if;

  if page then
    perform pg_catalog.set_config('plan_cache_mode', 'force_custom_plan', true),
            pg_catalog.set_config('enable_hashjoin', 'on', true),
            pg_catalog.set_config('enable_mergejoin', 'on', true);
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
