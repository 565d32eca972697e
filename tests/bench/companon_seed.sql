-- The population of `./stack bench companon` (tests/bench/companon.ts), also runnable by hand in psql:
-- bench.artists artists (a setting: 100,000 in the bench) with 30d DNA written the way Coliseum's refresh writes
-- it (public.coliseum_domain_strength rows for A, T, G, C and overall, coliseum_private.artist_places), then a
-- refresh recorded for each (coliseum_private.artist_refreshes), whose trigger derives the matching vectors.
-- A campaign of a new brand targets them; its id is left in bench_campaigns(name, id).
--
--   begin; set local bench.artists = 100000; \i tests/bench/companon_seed.sql  ... measure ...  rollback;
--
-- (measures rows of your own transaction, which costs more per row) or, as the bench does, committed, then
-- vacuumed and measured, then removed with tests/bench/companon_cleanup.sql. bench_artists and
-- bench_campaigns are temporary tables of the session. Plain SQL (no psql variables): the bench sends it as
-- one simple-protocol string.

select setseed(0.13);

-- Like real DNA, an artist's values grow with their size: z (0..1) sets their fans (log-uniform, 1 to about
-- 160,000, so every size band has artists), their scores (with noise; G is 0 for 3 in 10: no sales) and
-- the counts and weights of their components; shares (loyalty, diversity, ...) are independent of it.
create temporary table bench_artists as
select gen_random_uuid() as artist_id, n, z,
       (array['afrobeats', 'amapiano', 'highlife', 'jazz', 'reggaeton', 'indie pop'])[1 + floor(random() * 6)::int] as genre,
       floor(exp(z * 12))::bigint as fans,
       array[least(100, 100 * z * (0.5 + random())), least(100, 100 * z * (0.5 + random())),
             case when random() < 0.3 then 0 else least(100, 100 * z * (0.5 + random())) end,
             least(100, 100 * z * (0.5 + random()))] as scores
from (select n, random() as z from generate_series(1, current_setting('bench.artists')::int) as n) as a;

-- Every artist has an account, as the platform's do: matching leaves out an artist without one
-- (companon_private.offerable).
insert into auth.users (id, email)
select b.artist_id, 'bench-artist-' || b.n || '@companon.bench.local' from bench_artists as b;

-- x in 0..1 of the way up a log scale to cap, with noise: what an artist of size z has.
create function pg_temp.grown(z double precision, cap double precision) returns double precision
language sql volatile as $$ select exp(ln(1 + cap) * z * (0.7 + 0.3 * random())) - 1 $$;

insert into public.coliseum_domain_strength (artist_id, domain, period, score, raw, components, events, fans, computed_at)
select b.artist_id, d.domain, '30d', d.score, d.score, d.components, 1 + b.fans, b.fans, now()
from bench_artists as b
cross join lateral (values
  ('A', b.scores[1], jsonb_build_object('engagement', pg_temp.grown(b.z, 1e6), 'influence', pg_temp.grown(b.z, 1e5),
                                        'genre_diversity', random(), 'crossover', random(), 'main_genre', b.genre)),
  ('T', b.scores[2], jsonb_build_object('engagement', pg_temp.grown(b.z, 1e6), 'fans', b.fans, 'loyalty', random(),
                                        'repeat', 1 + random() * 20, 'conversion', random())),
  ('G', b.scores[3], jsonb_build_object('engagement', pg_temp.grown(b.z, 1e5), 'revenue_usd_cents', floor(pg_temp.grown(b.z, 1e9)),
                                        'transactions', floor(pg_temp.grown(b.z, 1e6)), 'revenue_per_fan', random() * 1e3,
                                        'avg_transaction_value', random() * 1e4, 'monetization_efficiency', random() * 100)),
  ('C', b.scores[4], jsonb_build_object('engagement', pg_temp.grown(b.z, 1e6), 'cities', floor(pg_temp.grown(b.z, 1e3)),
                                        'countries', floor(pg_temp.grown(b.z, 100)), 'city_distribution', random(),
                                        'touring_viability', pg_temp.grown(b.z, 1e6), 'attendance', floor(pg_temp.grown(b.z, 1e5)),
                                        'fan_density', random())),
  ('overall', (b.scores[1] + b.scores[2] + b.scores[3] + b.scores[4]) / 4,
   jsonb_build_object('A', b.scores[1], 'T', b.scores[2], 'G', b.scores[3], 'C', b.scores[4]))
) as d (domain, score, components);

-- One to three places each, some of them older than the 30 days.
insert into coliseum_private.artist_places (artist_id, country, city, fan_id, last_at)
select b.artist_id, p.country, p.city, gen_random_uuid(), now() - random() * interval '40 days'
from bench_artists as b
cross join lateral (
  select *
  from (values ('NG', 'Lagos'), ('NG', 'Abuja'), ('GH', 'Accra'), ('KE', 'Nairobi'), ('ZA', 'Johannesburg'),
               ('GB', 'London'), ('US', 'Houston')) as p(country, city)
  where b.n > 0 and random() < 0.3
) as p
on conflict do nothing;

-- The statistics first: planned against an empty table's, the trigger's reads of the rows above were scans of the
-- whole table for each batch (several minutes on a freshly reset stack).
analyze public.coliseum_domain_strength, coliseum_private.artist_places;

-- A refresh of every artist, 2,000 to a statement as the rebuild refreshes: the trigger computes their vectors.
do $seed$
declare
  batch uuid[];
begin
  for batch in select array_agg(b.artist_id) from bench_artists as b group by (b.n - 1) / 2000 loop
    insert into coliseum_private.artist_refreshes (artist_id, refreshed_at)
    select a.artist_id, now() from unnest(batch) as a(artist_id)
    on conflict (artist_id) do update set refreshed_at = excluded.refreshed_at;
  end loop;
end
$seed$;
analyze public.coliseum_domain_strength, coliseum_private.artist_places, companon_private.artist_vectors;

create temporary table bench_campaigns (name text primary key, id uuid not null);
insert into bench_campaigns (name, id)
select c.name, companon.create_campaign(b.id, c.name, 'awareness', 100000, 'EUR', now(), now() + interval '30 days', c.target)
from (values
  ('open', '{"domains": {"A": 1, "C": 0.5}, "components": {"C": {"touring_viability": 1, "cities": 0.5}}}'::jsonb),
  ('genre', '{"domains": {"A": 1, "C": 0.5}, "components": {"C": {"touring_viability": 1, "cities": 0.5}},
              "genres": ["afrobeats"], "min_scores": {"overall": 20}}'),
  ('places', '{"domains": {"T": 1, "G": 0.5}, "components": {"T": {"loyalty": 1}, "G": {"revenue_per_fan": 1}},
               "countries": ["NG", "GH"], "size_bands": ["rising", "established"]}')
) as c(name, target)
cross join (select companon.create_brand('Bench Drinks', gen_random_uuid()) as id) as b;
