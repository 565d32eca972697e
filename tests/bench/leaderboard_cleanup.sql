-- Removes what leaderboard_seed.sql and leaderboard_history.sql added (their id prefix).
delete from public.coliseum_domain_strength where artist_id::text like 'ab000000-%';
delete from coliseum.strength_history where artist_id::text like 'ab000000-%';
