-- Player stats at scale for ./stack bench player_stats: bench.tracks tracks (10 per artist) with counters,
-- 30 days of play days each and likes from 20 fans, one of them the bench's reader (bench.fan), who likes
-- every other track. Ids carry the bench's prefixes (tracks b7…, artists a7…, fans f7…) so that
-- player_stats_cleanup.sql removes exactly these rows.
select set_config('bench.fan', 'f7000000-0000-4000-8000-000000000000', false);

insert into coliseum_private.track_counts (track_id, artist_id, plays, likes)
select ('b7000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('a7000000-0000-4000-8000-' || lpad(to_hex(i / 10), 12, '0'))::uuid, 1000 + i % 5000, 10
from generate_series(0, current_setting('bench.tracks')::int - 1) as i;

insert into coliseum_private.track_play_days (track_id, day, plays)
select ('b7000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, (now() at time zone 'UTC')::date - d, 1 + (i + d) % 40
from generate_series(0, current_setting('bench.tracks')::int - 1) as i
cross join generate_series(0, 29) as d;

insert into coliseum_private.artist_counts (artist_id, plays, likes)
select ('a7000000-0000-4000-8000-' || lpad(to_hex(a), 12, '0'))::uuid, 30000, 100
from generate_series(0, (current_setting('bench.tracks')::int - 1) / 10) as a;

insert into coliseum.track_likes (fan_id, track_id, artist_id, liked, entry_id, changed_at)
select ('f7000000-0000-4000-8000-' || lpad(to_hex(f), 12, '0'))::uuid,
       ('b7000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid,
       ('a7000000-0000-4000-8000-' || lpad(to_hex(i / 10), 12, '0'))::uuid, f > 0 or i % 2 = 0, 1, now()
from generate_series(0, current_setting('bench.tracks')::int - 1) as i
cross join generate_series(0, 19) as f
where (i + f) % 2 = 0 or f = 0;
