-- Boards at scale for ./stack bench leaderboard: bench.artists artists on the A and overall boards of every
-- period, scores spread evenly over 0–100. Ids carry the bench's prefix (ab…) so that leaderboard_cleanup.sql
-- removes exactly these rows.
insert into public.coliseum_domain_strength (artist_id, domain, period, score, raw, components, events, fans, computed_at)
select ('ab000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'))::uuid, d, p, random() * 100, random() * 1e6, '{}', 1, 1, now()
from generate_series(0, current_setting('bench.artists')::int - 1) as i,
     unnest(array['A', 'overall']) as d,
     unnest(array['7d', '30d', 'alltime']) as p;
