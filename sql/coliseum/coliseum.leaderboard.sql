-- One page of a board: ranks off + 1 .. off + lim. domain: A, T, G, C or
-- overall; range: 7d, 30d or alltime (both in any case); lim 1..1000,
-- off >= 0. A board or a depth beyond the caller's plan raises 42501 naming
-- the plan that shows it; ranks beyond the board's end just return fewer rows.
create or replace function coliseum.leaderboard(
  domain text,
  range text,
  lim int default 10,
  off int default 0
)
returns table (rank int, artist_id uuid, score double precision, change double precision, previous_rank int)
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
  key record;
begin
  key := coliseum_private.board_key(leaderboard.domain, leaderboard.range);
  if lim is null or lim not between 1 and 1000 then
    raise exception using
      errcode = '22023',
      message = format('lim must be between 1 and 1000, got %s', coalesce(lim::text, 'null'));
  end if;
  if off is null or off < 0 then
    raise exception using
      errcode = '22023',
      message = format('off must be 0 or more, got %s', coalesce(off::text, 'null'));
  end if;
  perform coliseum_private.check_access(coliseum.my_plan(), key.board_domain, off::bigint + lim);
  return query select * from coliseum_private.board_page(key.board_domain, key.board_period, off, lim);
end
$$;

comment on function coliseum.leaderboard(text, text, int, int) is
  'Ranks off+1..off+lim of a board (domain A/T/G/C/overall, range 7d/30d/alltime): rank, artist_id, score, change, '
  'previous_rank. 42501 beyond the caller''s plan, 22023 for bad arguments.';

grant execute on function coliseum.leaderboard(text, text, int, int) to anon, authenticated, service_role;
