-- Companon matching: companon.match_artists and companon.explain_match on a small known population
-- (results, order, paging, drivers, every filter and every exclusion reason), the vectors following a
-- Coliseum refresh, and who may ask (brand members of each role, another brand, an artist, anon, admins,
-- the service role). docs/companon.md#matching.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(74);
\ir companon_helpers.psql

-- Artist n is a0000000-0000-4000-8000-00000000000n: ids order as n does.
create function pg_temp.artist(n int) returns uuid language sql immutable as $$
  select ('a0000000-0000-4000-8000-' || lpad(n::text, 12, '0'))::uuid
$$;

-- Gives artist n these 30d scores, components, fans, main genre and places ('NG/Lagos'), then records a
-- refresh, as Coliseum's refresh does: the trigger on artist_refreshes derives the matching vector.
create function pg_temp.dna(n int, a float8, t float8, g float8, c float8, fans bigint, genre text,
                            components jsonb, places text[])
returns void
language sql
as $$
  insert into public.coliseum_domain_strength (artist_id, domain, period, score, raw, components, events, fans, computed_at)
  select pg_temp.artist(n), d.domain, '30d', d.score, 1,
         case d.domain when 'A' then coalesce(components -> 'A', '{}') || jsonb_build_object('main_genre', genre)
                       when 'overall' then jsonb_build_object('A', a, 'T', t, 'G', g, 'C', c)
                       else coalesce(components -> d.domain, '{}') end,
         1, fans, now()
  from (values ('A', a), ('T', t), ('G', g), ('C', c), ('overall', (a + t + g + c) / 4)) as d(domain, score)
  on conflict (artist_id, domain, period) do update set score = excluded.score, components = excluded.components, fans = excluded.fans;
  insert into coliseum_private.artist_places (artist_id, country, city, fan_id, last_at)
  select pg_temp.artist(n), split_part(p, '/', 1), split_part(p, '/', 2), gen_random_uuid(), now() - interval '1 day'
  from unnest(places) as p;
  insert into coliseum_private.artist_refreshes (artist_id, refreshed_at) values (pg_temp.artist(n), now())
  on conflict (artist_id) do update set refreshed_at = excluded.refreshed_at;
$$;

-- Artists 1 to 7 have accounts (offers can be made to them); artist 8, added below, has none.
insert into auth.users (id, email) select pg_temp.artist(n), format('artist%s@example.test', n) from generate_series(1, 7) as n;

-- Holds are for artists Coliseum knows: a follow of artist 4 is folded first (its scores are then set by hand).
select passport.log(gen_random_uuid(), 'social.follow', 'match-follow-4', '{}', pg_temp.artist(4)) as _logged \gset
select coliseum.process_pending(1000000) >= 0 as _folded \gset
-- Only this population: the seed's artists lose their vectors (in this transaction).
delete from companon_private.artist_vectors;
select pg_temp.dna(1, 80, 0, 0, 60, 5000, 'afrobeats', '{"A": {"engagement": 1000}, "C": {"touring_viability": 1000}}', '{NG/Lagos}'),
       pg_temp.dna(2, 80, 80, 80, 0, 500, 'afrobeats', '{"A": {"engagement": 1000}}', '{GH/Accra}'),
       pg_temp.dna(3, 0, 50, 0, 0, 50, null, '{"T": {"fans": 50}}', '{}'),
       pg_temp.dna(4, 80, 0, 0, 60, 5000, 'afrobeats', '{"A": {"engagement": 1000}, "C": {"touring_viability": 1000}}', '{NG/Lagos}'),
       pg_temp.dna(6, 40, 0, 0, 30, 20000, 'amapiano', '{"A": {"engagement": 100}, "C": {"touring_viability": 100}}',
                   '{NG/Abuja,GH/Accra}');
-- Artist 4 is held; artist 5 has no DNA; an old place of artist 2 (40 days) is not one of its places.
select coliseum.hold_artist(pg_temp.artist(4), 'bought plays') is not null as _held \gset
insert into coliseum_private.artist_places (artist_id, country, city, fan_id, last_at)
values (pg_temp.artist(2), 'KE', 'Nairobi', gen_random_uuid(), now() - interval '40 days');
select pg_temp.dna(2, 80, 80, 80, 0, 500, 'afrobeats', '{"A": {"engagement": 1000}}', '{}') as _refreshed \gset

-- One campaign per filter, all with the same DNA profile: A and C, C's touring viability.
create function pg_temp.matching(brand uuid, filters jsonb) returns uuid language sql as $$
  select companon.create_campaign(brand, 'Match', 'awareness', 100000, 'EUR', now(), now() + interval '30 days',
    '{"domains": {"A": 1, "C": 0.5}, "components": {"C": {"touring_viability": 1}}}'::jsonb || filters)
$$;
select pg_temp.matching(:'brand', '{}') as c_all, pg_temp.matching(:'brand', '{"genres": ["afrobeats"]}') as c_genre,
       pg_temp.matching(:'brand', '{"countries": ["GH"]}') as c_country,
       pg_temp.matching(:'brand', '{"cities": [{"city": "Lagos", "country": "NG"}]}') as c_city,
       pg_temp.matching(:'brand', '{"min_scores": {"T": 30}}') as c_min, pg_temp.matching(:'brand', '{"size_bands": ["rising"]}') as c_band,
       pg_temp.matching(:'brand', '{"genres": ["afrobeats"], "countries": ["GH"], "min_scores": {"overall": 70}}') as c_many,
       pg_temp.campaign(:'other_brand', 'Elsewhere') as c_other \gset

create function pg_temp.order_of(campaign uuid, lim int default 50, off int default 0) returns int[] language sql as $$
  select array_agg(right(m.artist_id::text, 1)::int order by m.rank) from companon.match_artists(campaign, lim, off) as m
$$;
grant execute on function pg_temp.artist(int), pg_temp.order_of(uuid, int, int) to anon, authenticated, service_role;

-- The vectors -----------------------------------------------------------------------------------------------
select is((select array_agg(right(artist_id::text, 1)::int order by artist_id) from companon_private.artist_vectors),
          array[1, 2, 3, 4, 6], 'every artist with DNA has a vector, kept by the refresh trigger');
select is((select array[countries, cities] from companon_private.artist_vectors where artist_id = pg_temp.artist(6)),
          array[array['GH', 'NG'], array['GH/Accra', 'NG/Abuja']], 'its places of the 30 days: countries and country/city');
select is((select countries from companon_private.artist_vectors where artist_id = pg_temp.artist(2)), '{GH}'::text[],
          'a place older than 30 days is not one of them');
select is((select (main_genre, fans, score_overall)::text from companon_private.artist_vectors where artist_id = pg_temp.artist(1)),
          '(afrobeats,5000,35)', 'main genre, fans and overall score of the 30d rows');
select ok((select bool_and(abs(sqrt(u1^2 + u2^2 + u3^2 + u4^2 + u5^2 + u6^2 + u7^2 + u8^2 + u9^2 + u10^2 + u11^2 + u12^2 + u13^2
                                    + u14^2 + u15^2 + u16^2 + u17^2 + u18^2 + u19^2 + u20^2 + u21^2 + u22^2 + u23^2 + u24^2
                                    + u25^2 + u26^2) - 1) < 1e-12
                           and dna = coliseum.dna_vector(array[score_a, score_t, score_g, score_c],
                                                         (select jsonb_object_agg(s.domain, s.components)
                                                          from public.coliseum_domain_strength as s
                                                          where s.artist_id = v.artist_id and s.period = '30d' and s.domain <> 'overall')))
           from companon_private.artist_vectors as v),
   'dna is coliseum.dna_vector of the 30d rows, u1..u26 its unit vector');

-- Artist 8 has the DNA of artist 1 (and of the held artist 4) but no account: no offer could be made to
-- them, so the matcher leaves them out.
select pg_temp.dna(8, 80, 0, 0, 60, 5000, 'afrobeats', '{"A": {"engagement": 1000}, "C": {"touring_viability": 1000}}', '{NG/Lagos}')
  as _no_account \gset

-- Results and order -------------------------------------------------------------------------------------------
select is(pg_temp.order_of(:'c_all'), array[1, 6, 2, 3],
          'best first: the held artist, the one without an account and the one without DNA are left out');
select is((select array_agg(rank order by rank) from companon.match_artists(:'c_all')), array[1, 2, 3, 4]::bigint[], 'ranked 1..n');
select ok((select bool_and(abs(m.similarity - coliseum.dna_similarity(
                                 coliseum.target_vector(c.target -> 'domains', c.target -> 'components'), v.dna)) < 1e-12)
           from companon.match_artists(:'c_all') as m
           join companon_private.artist_vectors as v using (artist_id)
           cross join companon.campaigns as c where c.id = :'c_all'),
          'each similarity is coliseum.dna_similarity of the target and the DNA (within 1e-12)');
-- t = (A 1, C 0.5, C.touring 0.5); artist 1: A .8, A.engagement n(1000), C .6, C.touring n(1000), n(x) = ln(1 + x) / ln(1 + 1e7).
select ok(abs((select similarity from companon.match_artists(:'c_all') where artist_id = pg_temp.artist(1))
              - (0.8 + 0.3 + 0.5 * ln(1001) / ln(10000001))
                / (sqrt(1.5) * sqrt(0.64 + 2 * (ln(1001) / ln(10000001))^2 + 0.36))) < 1e-12,
          'the similarity of artist 1 by hand');
select is((select similarity from companon.match_artists(:'c_all') where artist_id = pg_temp.artist(3)), 0::float8,
          'an artist with nothing the target weighs matches with similarity 0, last');
select is(pg_temp.order_of(:'c_all', 2, 1), array[6, 2], 'lim and off page through the ranking');
select is(pg_temp.order_of(:'c_all', 2), array[1, 6], 'a page whose best candidates are held or have no account is filled from the next ones');
select is(pg_temp.order_of(:'c_all', 1, 3), array[3], 'and so is the last page');
select is((select array_agg(rank) from companon.match_artists(:'c_all', 2, 1)), array[2, 3]::bigint[], 'with the ranks of the whole list');
select is((select drivers -> 0 ->> 'domain' || '.' || (drivers -> 0 ->> 'component') from companon.match_artists(:'c_all')
           where artist_id = pg_temp.artist(1)), 'A.score', 'the strongest driver of artist 1 is its A score');
select ok((select abs(m.similarity - (select sum((d ->> 'contribution')::float8) from jsonb_array_elements(m.drivers) as d)) < 1e-12
                  and jsonb_array_length(m.drivers) = 3
           from companon.match_artists(:'c_all') as m where m.artist_id = pg_temp.artist(1)),
          'its three drivers are everything the target weighs: they add up to the similarity');
select is((select drivers from companon.match_artists(:'c_all') where artist_id = pg_temp.artist(3)), '[]'::jsonb,
          'nothing drives a similarity of 0');
select is((select scores from companon.match_artists(:'c_all') where artist_id = pg_temp.artist(2)),
          '{"A": 80, "T": 80, "G": 80, "C": 0, "overall": 60}'::jsonb, 'the current (30d) scores');

-- Each filter -------------------------------------------------------------------------------------------------
select is(pg_temp.order_of(:'c_genre'), array[1, 2], 'genres: the artist''s main genre is one of them');
select is(pg_temp.order_of(:'c_country'), array[6, 2], 'countries: the artist had activity in one of them in 30 days');
select is(pg_temp.order_of(:'c_city'), array[1], 'cities: the same for a city of a country (the held artist 4 stays out)');
select is(pg_temp.order_of(:'c_min'), array[2, 3], 'min_scores: every 30d score named is reached');
select is(pg_temp.order_of(:'c_band'), array[1], 'size_bands: 30-day fans in one of the bands (rising: 1,000 to 9,999)');
select is(pg_temp.order_of(:'c_many'), null, 'filters combine: every one must pass');

-- Why an artist is not matched ---------------------------------------------------------------------------------
select is((select (matched, reasons, rank)::text from companon.explain_match(:'c_all', pg_temp.artist(1))), '(t,{},1)',
          'a matched artist: no reason, and its rank');
select is((select (matched, rank)::text from companon.explain_match(:'c_all', pg_temp.artist(3))), '(t,4)', 'the last one');
select is((select e.similarity = m.similarity and e.drivers = m.drivers and e.scores = m.scores
           from companon.explain_match(:'c_all', pg_temp.artist(6)) as e
           join companon.match_artists(:'c_all') as m on m.artist_id = pg_temp.artist(6)), true,
          'its similarity, drivers and scores are those match_artists gives');
select is((select (matched, reasons, similarity, rank, drivers, scores)::text from companon.explain_match(:'c_all', pg_temp.artist(5))),
          '(f,{no_dna},,,,)', 'no_dna: no DNA in the last 30 days, no similarity');
select is((select (matched, reasons, rank)::text from companon.explain_match(:'c_all', pg_temp.artist(8))), '(f,{no_account},)',
          'no_account: no offer can be made to an artist without an account');
select is((select (matched, reasons, rank)::text from companon.explain_match(:'c_all', pg_temp.artist(4))), '(f,{held},)',
          'held: an admin holds the artist');
select ok((select similarity > 0.9 from companon.explain_match(:'c_all', pg_temp.artist(4))),
          'a held artist still shows the similarity it would have');
select is((select reasons from companon.explain_match(:'c_genre', pg_temp.artist(6))), '{genre}', 'genre');
select is((select reasons from companon.explain_match(:'c_genre', pg_temp.artist(3))), '{genre}', 'genre, for an artist without one');
select is((select reasons from companon.explain_match(:'c_country', pg_temp.artist(1))), '{country}', 'country');
select is((select reasons from companon.explain_match(:'c_city', pg_temp.artist(6))), '{city}', 'city');
select is((select reasons from companon.explain_match(:'c_min', pg_temp.artist(1))), '{min_score:T}', 'min_score:T');
select is((select reasons from companon.explain_match(:'c_band', pg_temp.artist(2))), '{size_band}', 'size_band');
select is((select reasons from companon.explain_match(:'c_many', pg_temp.artist(6))), '{genre,min_score:overall}',
          'every reason, in order');
select is((select reasons from companon.explain_match(:'c_many', pg_temp.artist(4))), '{held,country,min_score:overall}',
          'held with the filters it fails');
select is((select reasons from companon.explain_match(:'c_many', pg_temp.artist(5))), '{no_dna,genre,country,min_score:overall}',
          'an artist without DNA fails the filters an artist with nothing fails');
select is((select reasons from companon.explain_match(:'c_band', pg_temp.artist(5))), '{no_dna,size_band}',
          'including the size band (no fans: emerging)');

-- Arguments --------------------------------------------------------------------------------------------------
select throws_ok(format('select * from companon.match_artists(%L, 0)', :'c_all'), '22023', 'lim must be from 1 to 1000, got 0',
                 'lim at least 1');
select throws_ok(format('select * from companon.match_artists(%L, 1001)', :'c_all'), '22023', 'lim must be from 1 to 1000, got 1001',
                 'lim at most 1000');
select throws_ok(format('select * from companon.match_artists(%L, 10, -1)', :'c_all'), '22023', 'off must be 0 or more, got -1',
                 'off not negative');
select throws_ok(format('select * from companon.explain_match(%L, null)', :'c_all'), '22023', 'artist_id is required',
                 'explain_match needs an artist');
select throws_ok(format('select * from companon.match_artists(%L)', pg_temp.artist(9)), 'P0002',
                 format('campaign %s not found', pg_temp.artist(9)), 'an unknown campaign is not found');

-- Who may ask ------------------------------------------------------------------------------------------------
select pg_temp.act_as(:'owner');
select is(pg_temp.order_of(:'c_all'), array[1, 6, 2, 3], 'the owner matches artists for the brand''s campaign');
select is((select reasons from companon.explain_match(:'c_all', pg_temp.artist(5))), '{no_dna}', 'and asks why one is not');
reset role;
select pg_temp.act_as(:'manager');
select is(pg_temp.order_of(:'c_all'), array[1, 6, 2, 3], 'a manager too');
select is((select matched from companon.explain_match(:'c_all', pg_temp.artist(1))), true, 'both functions');
reset role;
select pg_temp.act_as(:'viewer');
select is(pg_temp.order_of(:'c_all'), array[1, 6, 2, 3], 'a viewer too');
select is((select matched from companon.explain_match(:'c_all', pg_temp.artist(1))), true, 'both functions');
select throws_ok(format('select * from companon.match_artists(%L)', :'c_other'), 'P0002', format('campaign %s not found', :'c_other'),
                 'not for another brand''s campaign');
reset role;
select pg_temp.act_as(:'other_owner');
select throws_ok(format('select * from companon.match_artists(%L)', :'c_all'), 'P0002', format('campaign %s not found', :'c_all'),
                 'a member of another brand is told the campaign is not found');
select throws_ok(format('select * from companon.explain_match(%L, %L)', :'c_all', pg_temp.artist(1)), 'P0002',
                 format('campaign %s not found', :'c_all'), 'by both functions');
select is((select count(*)::int from companon.match_artists(:'c_other')), 4, 'while matching for their own campaign');
reset role;
select pg_temp.act_as(pg_temp.artist(1));
select throws_ok(format('select * from companon.match_artists(%L)', :'c_all'), 'P0002', format('campaign %s not found', :'c_all'),
                 'an artist is told the campaign is not found');
select throws_ok(format('select * from companon.explain_match(%L, %L)', :'c_all', pg_temp.artist(1)), 'P0002',
                 format('campaign %s not found', :'c_all'), 'even about themself');
reset role;
select pg_temp.act_as(:'admin');
select is(pg_temp.order_of(:'c_all'), array[1, 6, 2, 3], 'an admin matches for any brand''s campaign');
select is((select reasons from companon.explain_match(:'c_all', pg_temp.artist(3))), '{}', 'and explains');
reset role;
select pg_temp.act_as_role('anon');
select throws_ok(format('select * from companon.match_artists(%L)', :'c_all'), '42501',
                 'permission denied for function match_artists', 'anon may not match');
select throws_ok(format('select * from companon.explain_match(%L, %L)', :'c_all', pg_temp.artist(1)), '42501',
                 'permission denied for function explain_match', 'nor explain');
reset role;
select pg_temp.act_as_role('authenticated');
select throws_ok(format('select * from companon.match_artists(%L)', :'c_all'), '42501', 'sign in to match artists',
                 'a token without a user is told to sign in');
reset role;
select pg_temp.act_as_role('service_role');
select is(pg_temp.order_of(:'c_all'), array[1, 6, 2, 3], 'the service role matches for every campaign');
select is((select matched from companon.explain_match(:'c_all', pg_temp.artist(1))), true, 'and explains');
select throws_ok('select count(*) from companon_private.artist_vectors', '42501', 'permission denied for schema companon_private',
                 'nobody reads the vectors directly');
reset role;
select pg_temp.act_as(:'owner');
select throws_ok('select count(*) from companon_private.artist_vectors', '42501', 'permission denied for schema companon_private',
                 'members neither');
reset role;

-- Releasing an artist brings them back, at once.
select coliseum.release_artist(pg_temp.artist(4), 'cleared') is not null as _released \gset
select is(pg_temp.order_of(:'c_city'), array[1, 4], 'a released artist matches again');

-- The vectors follow Coliseum: a follow folded by the processor gives artist 7 a vector -----------------------
select count(passport.log(gen_random_uuid(), 'social.follow', 'match-follow-7-' || n, '{}', pg_temp.artist(7))) as _logged
from generate_series(1, 3) as n \gset
select coliseum.process_pending(1000000) >= 0 as _folded \gset
select is((select v.as_of = r.refreshed_at from companon_private.artist_vectors as v
           join coliseum_private.artist_refreshes as r using (artist_id) where v.artist_id = pg_temp.artist(7)), true,
          'the processor''s refresh gives a new artist their vector, as of the refresh');
select is((select reasons from companon.explain_match(:'c_all', pg_temp.artist(7))), '{}', 'and they match');

-- The threshold search gives what scoring everybody gives ----------------------------------------------------
-- 400 more artists: the lists of the search (100 deep at first) no longer hold every artist, so the bound decides.
-- They have accounts; artist 8 (no account) is among the best and is left out of both answers.
insert into auth.users (id, email) select pg_temp.artist(100 + n), format('artist%s@example.test', 100 + n) from generate_series(1, 400) as n;
select count(pg_temp.dna(100 + n, random() * 100, random() * 100, random() * 100, random() * 100, (random() * 20000)::bigint,
                         (array['afrobeats', 'amapiano'])[1 + n % 2],
                         jsonb_build_object('A', jsonb_build_object('engagement', random() * 1e4),
                                            'C', jsonb_build_object('touring_viability', random() * 1e4, 'cities', random() * 50)),
                         array['NG/Lagos'])) as _more
from generate_series(1, 400) as n \gset
create function pg_temp.scanned(campaign uuid, lim int, off int) returns uuid[] language plpgsql as $$
declare ids uuid[];
begin
  execute format('select array_agg(m.artist_id order by m.similarity desc, m.artist_id)
                  from (select * from (%s) as a where a.artist_id <> %L order by 2 desc, 1 limit %s offset %s) as m',
                 companon_private.match_query((select c.target from companon.campaigns as c where c.id = campaign)), pg_temp.artist(8), lim, off)
    into ids;
  return ids;
end $$;
select is((select array_agg(artist_id order by rank) from companon.match_artists(:'c_all', 20)), pg_temp.scanned(:'c_all', 20, 0),
          'the best 20 of 405 are those a full scan finds');
select is((select array_agg(artist_id order by rank) from companon.match_artists(:'c_all', 30, 170)), pg_temp.scanned(:'c_all', 30, 170),
          'and so are ranks 171 to 200');
select is((select array_agg(artist_id order by rank) from companon.match_artists(:'c_genre', 50, 100)), pg_temp.scanned(:'c_genre', 50, 100),
          'with a filter too');
select is((select array_agg(artist_id order by rank) from companon.match_artists(:'c_all', 1000)), pg_temp.scanned(:'c_all', 1000, 0),
          'and for every matching artist');

select * from finish();
rollback;
