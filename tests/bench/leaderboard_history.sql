-- The reference days of the seeded boards (leaderboard_seed.sql) for ./stack bench leaderboard: every artist
-- scored that day, within 2 points of today's score, so `change` and `previous_rank` have values and the top 100
-- of today came from the top 2,000 or so of the reference day, as on a board that moves slowly.
insert into coliseum.strength_history (day, artist_id, domain, period, score, raw)
select (now() at time zone 'UTC')::date - case s.period when '30d' then 30 else 7 end, s.artist_id, s.domain, s.period,
       least(100, greatest(0, s.score + (random() - 0.5) * 4)), s.raw
from public.coliseum_domain_strength as s
where s.artist_id::text like 'ab000000-%';
