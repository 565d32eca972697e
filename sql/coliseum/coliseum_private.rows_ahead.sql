-- How many artists rank ahead of (row_score, row_artist) on a board, counting
-- at most `cap` of them (null: all). Ahead means a higher score, or the same
-- score and a smaller artist_id: the boards' order; artists held off the
-- boards are not counted. Two range scans of the board index, together
-- counting at most `cap` entries.
create or replace function coliseum_private.rows_ahead(
  board_domain text,
  board_period text,
  row_score double precision,
  row_artist uuid,
  cap bigint
)
returns bigint
language plpgsql
stable
as $$
declare
  higher bigint;
  tied bigint;
begin
  select count(*) into higher
  from (select from public.coliseum_domain_strength as s
        where s.domain = board_domain and s.period = board_period and s.score > row_score
          and not exists (select from coliseum.artist_holds as x where x.artist_id = s.artist_id and x.released_at is null)
        limit cap) as h;
  if higher = cap then
    return higher;
  end if;
  select count(*) into tied
  from (select from public.coliseum_domain_strength as s
        where s.domain = board_domain and s.period = board_period and s.score = row_score and s.artist_id < row_artist
          and not exists (select from coliseum.artist_holds as x where x.artist_id = s.artist_id and x.released_at is null)
        limit cap - higher) as t;
  return higher + tied;
end
$$;
