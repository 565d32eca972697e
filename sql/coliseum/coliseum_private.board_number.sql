-- A board (domain A, T, G, C or overall; period 7d, 30d or alltime) as a small number, 10 × the domain's
-- place + the period's: A 7d is 11, overall alltime 53; null for anything else. The key of the stored
-- reference ranks (coliseum_private.history_ranks.board): a fixed-width key is compared without looking for
-- where each column of an index entry starts, which made the page's 100 primary-key probes about 40 %
-- cheaper than under (domain, period, day, artist_id) (docs/coliseum-boards.md).
-- Not strict (it is null for a null anyway): Postgres inlines a strict SQL function only when its body is
-- strict too, and array_position is not; called rather than inlined, its body was parsed and planned again
-- in every transaction that asked.
create or replace function coliseum_private.board_number(board_domain text, board_period text)
returns smallint
language sql
immutable
parallel safe
as $$
  select (10 * pg_catalog.array_position(array['A', 'T', 'G', 'C', 'overall'], board_domain)
          + pg_catalog.array_position(array['7d', '30d', 'alltime'], board_period))::smallint
$$;
