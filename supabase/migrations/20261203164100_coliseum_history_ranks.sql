-- Stored ranks of the boards' reference days (docs/coliseum-boards.md, "Stored reference ranks").
--
-- A board row's previous_rank is the artist's rank on the board's reference day (7 or 30 days ago).
-- That day is over, so its ranking no longer changes unless its history is rewritten (coliseum.rebuild
-- with an as_of in the past, a tool, a test). coliseum_private.rank_history_days (pg_cron, every
-- 10 minutes) ranks each board's reference days of today and tomorrow once; coliseum_private.board_page
-- then reads previous_rank and the reference score with one primary-key probe per row instead of
-- ranking the reference day up to the page's lowest score.
--
--   coliseum_private.history_days   per board and past day: a count of the transactions that wrote its
--                                    history after the day ended (a trigger on strength_history), and
--                                    the count the stored ranks were computed at (null: not ranked)
--   coliseum_private.history_ranks   per board, ranked day and artist: rank and score that day, over
--                                    every artist (holds are subtracted when read)
--
-- The stored ranks are used only while changes = ranked_changes, so a day rewritten after it was
-- ranked is read the old way until the next run ranks it again: the answers never depend on them.
-- Code: the generated step 20261203164110_coliseum_history_ranks_code.

create table coliseum_private.history_days (
  domain text not null check (domain in ('A', 'T', 'G', 'C', 'overall')),
  period text not null check (period in ('7d', '30d', 'alltime')),
  day date not null,
  changes bigint not null default 0,
  changed_by xid8,
  ranked_changes bigint,
  primary key (domain, period, day)
);

comment on table coliseum_private.history_days is
  'Per board and past day: changes counts the transactions that wrote the day''s strength_history after it ended '
  '(changed_by: the last one); ranked_changes is the count the stored ranks (history_ranks) were computed at, null '
  'when none are stored. The stored ranks are valid while the two are equal.';

create table coliseum_private.history_ranks (
  domain text not null,
  period text not null,
  day date not null,
  artist_id uuid not null,
  rank int not null,
  score double precision not null,
  primary key (domain, period, day, artist_id) include (rank, score)
);

comment on table coliseum_private.history_ranks is
  'Each ranked day''s board: rank = row_number() over (score desc, artist_id) among all the day''s '
  'strength_history rows (held artists included), and the score. Derived; written by rank_history_days.';

select cron.schedule('coliseum-rank-history-days', '*/10 * * * *', 'select coliseum_private.rank_history_days()');
