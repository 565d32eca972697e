-- Ranks first_rank + 1 .. first_rank + max_rows of a board (max_rows null: to the end), in rank order:
-- the artists not held off the boards, rank (n) = row_number over (score desc, artist_id). An index scan
-- of the board index that stops after first_rank + max_rows entries, with a probe of the open holds per
-- entry. Inlined into the caller's statement (language sql, stable, no settings), so its limit reaches
-- the plan as a constant.
create or replace function coliseum_private.board_entries(board_domain text, board_period text, first_rank bigint, max_rows bigint)
returns table (artist_id uuid, score double precision, n bigint)
language sql
stable
as $$
  select s.artist_id, s.score, row_number() over (order by s.score desc, s.artist_id)
  from public.coliseum_domain_strength as s
  where s.domain = board_domain and s.period = board_period
    and not exists (select from coliseum.artist_holds as x where x.artist_id = s.artist_id and x.released_at is null)
  order by s.score desc, s.artist_id
  offset first_rank
  limit max_rows
$$;
