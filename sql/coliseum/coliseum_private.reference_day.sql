-- The reference day of a board of this period on the UTC day on_day: 30 days before for 30d, 7 days
-- before for 7d and alltime ("change since the previous period"; docs/coliseum-boards.md).
create or replace function coliseum_private.reference_day(board_period text, on_day date)
returns date
language sql
immutable
parallel safe
as $$
  select on_day - case board_period when '30d' then 30 else 7 end
$$;
