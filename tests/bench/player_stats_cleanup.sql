-- Removes what player_stats_seed.sql added (its id prefixes).
delete from coliseum_private.track_counts where track_id::text like 'b7000000-%';
delete from coliseum_private.track_play_days where track_id::text like 'b7000000-%';
delete from coliseum_private.artist_counts where artist_id::text like 'a7000000-%';
delete from coliseum.track_likes where fan_id::text like 'f7000000-%';
