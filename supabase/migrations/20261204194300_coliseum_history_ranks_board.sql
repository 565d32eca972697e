-- The stored reference ranks keyed by a fixed-width board number (docs/coliseum-boards.md, "Stored reference ranks").
--
-- A board page probes coliseum_private.history_ranks once per row. Under the key (domain, period, day,
-- artist_id) every comparison of an index entry compared two texts through the collation and then looked
-- for where day and artist_id start in that entry (they follow variable-length columns): in a profile of
-- a page of 100, the probes' B-tree searches were about half of the function. The key is now (board, day,
-- artist_id), board = coliseum_private.board_number(domain, period) (the generated step just before this
-- one), all fixed width. domain and period stay, so the table still reads as before; board is generated
-- from them and cannot disagree.
-- Code: the generated `…_sources.sql` after this step (board_page and rank_history_days probe and clear
-- by board).

alter table coliseum_private.history_ranks
  add column board smallint not null generated always as (coliseum_private.board_number(domain, period)) stored;

alter table coliseum_private.history_ranks
  drop constraint history_ranks_pkey,
  add constraint history_ranks_pkey primary key (board, day, artist_id) include (rank, score);

comment on column coliseum_private.history_ranks.board is
  'coliseum_private.board_number(domain, period): the key''s fixed-width name of the board.';
