-- Player stats (issue 14, part 5): what the player shows next to a track, an artist and a fan, kept by the
-- Coliseum processor as it folds the log (docs/player-stats.md).
--
--   coliseum_private.track_counts      per track: counted plays, likes (fans who like it now)
--   coliseum_private.track_play_days   per track and UTC day: counted plays (the 7d / 30d windows)
--   coliseum_private.artist_counts     per artist: counted plays, likes
--   coliseum_private.artist_play_days  per artist and UTC day: counted plays
--   coliseum.track_likes               per fan and track: liked or not, by the fan's last like / unlike
--   coliseum.fan_tracks                per fan and track: the fan's history (plays, counted plays, last played)
--   coliseum_private.attendances       per fan and event: the fan was admitted at the door (city, country, when)
--   coliseum_private.attendance_counts per city, calendar month (and all time) and fan: events attended
--
-- A play counts here when the processor gave its DNA mutation units (docs/coliseum-dna.md, "Counting rules"):
-- at least 30 s, not a repeat of the track in its 30-minute slot, within the slot's 10 tracks and the day's
-- 30 counted plays of the fan and artist. The rules are applied once, by fold_entries; these tables read what
-- it stored. They live in Coliseum because they are derived from the log by its processor, exactly once under
-- its claim, and rebuilt with everything else by coliseum.rebuild(); People holds who a user is, not what
-- they did.
--
-- Written only by coliseum_private.fold_player_stats (called by coliseum.process_pending and coliseum.rebuild):
-- no API role may write them. The app reads them through coliseum.track_stats, coliseum.artist_stats,
-- coliseum.my_history and coliseum.attendance_board, and reads its own fan_tracks and track_likes rows
-- under RLS.
--
-- This step holds tables and indexes. Functions, policies and grants live in sql/coliseum/ (one file per
-- object, docs/database-sources.md), installed by the generated step sql/manifest.txt lists:
-- 20261203114010_player_stats_code.sql                after it

create table coliseum_private.track_counts (
  track_id uuid primary key,
  -- the artist of the first entry that named the track (the catalog of tracks is the app's)
  artist_id uuid not null,
  plays bigint not null default 0 check (plays >= 0),
  -- no check: an upsert checks its proposed row, which carries the batch's change (-1 for an unlike); a -1
  -- only ever follows a like stored before, so the sum stays >= 0 (player_stats.test.sql checks it)
  likes bigint not null default 0
);

comment on table coliseum_private.track_counts is
  'Player stats: per track, its counted plays and how many fans like it now. Written by the processor only.';

create table coliseum_private.track_play_days (
  track_id uuid not null,
  day date not null,
  plays bigint not null check (plays > 0),
  primary key (track_id, day)
);

comment on table coliseum_private.track_play_days is
  'Player stats: per track and UTC day, its counted plays (the 7d and 30d windows). Written by the processor only.';

create table coliseum_private.artist_counts (
  artist_id uuid primary key,
  plays bigint not null default 0 check (plays >= 0),
  -- no check: an upsert checks its proposed row, which carries the batch's change (-1 for an unlike); a -1
  -- only ever follows a like stored before, so the sum stays >= 0 (player_stats.test.sql checks it)
  likes bigint not null default 0
);

comment on table coliseum_private.artist_counts is
  'Player stats: per artist, the counted plays and the likes of their tracks. Written by the processor only.';

create table coliseum_private.artist_play_days (
  artist_id uuid not null,
  day date not null,
  plays bigint not null check (plays > 0),
  primary key (artist_id, day)
);

comment on table coliseum_private.artist_play_days is
  'Player stats: per artist and UTC day, the counted plays of their tracks. Written by the processor only.';

create table coliseum.track_likes (
  fan_id uuid not null,
  track_id uuid not null,
  -- the artist the like counts for: the one its entry named
  artist_id uuid not null,
  liked boolean not null,
  -- the audio.like / audio.unlike that set it: the newest entry wins, whatever order batches come in
  entry_id bigint not null,
  changed_at timestamptz not null,
  primary key (fan_id, track_id)
);

comment on table coliseum.track_likes is
  'Player stats: whether a fan likes a track, set by their last audio.like or audio.unlike (by entry id). '
  'The fan reads their own rows; written by the processor only.';

create index track_likes_liked_idx on coliseum.track_likes (fan_id, changed_at desc, track_id) where liked;

create table coliseum.fan_tracks (
  fan_id uuid not null,
  track_id uuid not null,
  -- the artist of the fan's latest play of the track
  artist_id uuid not null,
  -- plays of 30 s or more (each one the fan made), and those the counting rules counted
  plays bigint not null check (plays > 0),
  counted_plays bigint not null check (counted_plays between 0 and plays),
  first_played_at timestamptz not null,
  last_played_at timestamptz not null,
  check (first_played_at <= last_played_at),
  primary key (fan_id, track_id)
);

comment on table coliseum.fan_tracks is
  'Player stats: a fan''s listening history, one row per track they played for 30 s or more. The fan reads '
  'their own rows (coliseum.my_history pages them newest first); written by the processor only.';

-- my_history's keyset: newest first, one index range per page.
create index fan_tracks_recent_idx on coliseum.fan_tracks (fan_id, last_played_at desc, track_id desc);

create table coliseum_private.attendances (
  fan_id uuid not null,
  event_id uuid not null,
  country char(2) not null,
  city text not null,
  attended_at timestamptz not null,
  -- the first entry that told it (concierto.ticket_validated, else concierto.event_attended)
  entry_id bigint not null,
  primary key (fan_id, event_id)
);

comment on table coliseum_private.attendances is
  'Player stats: the events a fan was admitted to at the door, once per event, in the venue''s city. '
  'Read by coliseum.attendance_board; written by the processor only.';

-- The board of one city: its attendances in a period, one index range.
create index attendances_city_idx on coliseum_private.attendances (country, lower(city), attended_at);

create table coliseum_private.attendance_counts (
  country char(2) not null,
  -- lower(city): the board matches cities without regard to case
  city_key text not null,
  -- the UTC calendar month's first day, or -infinity for all time
  month date not null,
  fan_id uuid not null,
  events bigint not null check (events > 0),
  last_attended_at timestamptz not null,
  primary key (country, city_key, month, fan_id)
);

comment on table coliseum_private.attendance_counts is
  'Player stats: per city, UTC calendar month (-infinity: all time) and fan, the events attended, so that the '
  'month and all-time boards of a big city read their top rows off an index. Written by the processor only.';

-- A board's top rows in rank order, and the fans ahead of a given count.
create index attendance_counts_board_idx on coliseum_private.attendance_counts
  (country, city_key, month, events desc, fan_id);
