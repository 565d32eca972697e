-- Coliseum processor speed (issue 15, goal 2): the artists whose new mutations are folded but whose
-- scores a draining backlog has not refreshed yet (docs/coliseum-dna.md, "Refreshing while a backlog drains").
--
--   coliseum_private.refresh_backlog   per artist: folded, not yet scored, since when
--
-- process_pending scores the artists of its batch at once unless more entries are pending behind it and
-- the oldest artist waiting here has waited less than 2 seconds: then it adds its artists here, and a later
-- call (the one that leaves nothing pending, or finds this set 2 seconds old) scores them all in one refresh.
-- A row commits with the fold that made it, so a crash loses no refresh. Written only by
-- coliseum.process_pending and coliseum.rebuild (which scores every artist and empties it).
--
-- This step holds the table. Its policies live in sql/coliseum/ (docs/database-sources.md), installed by the
-- generated step sql/manifest.txt lists:
-- 20261203135133_coliseum_refresh_backlog_code.sql     after it

create table coliseum_private.refresh_backlog (
  artist_id uuid primary key,
  since timestamptz not null
);

comment on table coliseum_private.refresh_backlog is
  'Artists folded but not yet scored while a backlog drains, since when (derived; emptied by the refresh).';
