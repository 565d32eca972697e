-- Coliseum DNA: every metric of every domain on hand-computed cases, the score
-- transform and the overall score. Scored as of T = today 00:00 UTC, so that
-- ages are whole or half days and UTC days are plain dates; decay is
-- 1 - age/30 days (10% floor from 27 days).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(34);

-- Whatever other sessions left pending is folded first, so that this test's
-- batches hold only its own entries.
select coliseum.process_pending(1000000) >= 0 as flushed \gset

select date_trunc('day', now() at time zone 'UTC') at time zone 'UTC' as t,
       gen_random_uuid() as art_a, gen_random_uuid() as art_t, gen_random_uuid() as art_g, gen_random_uuid() as art_c,
       gen_random_uuid() as f1, gen_random_uuid() as f2, gen_random_uuid() as f3,
       gen_random_uuid() as g1, gen_random_uuid() as g2, gen_random_uuid() as g3,
       gen_random_uuid() as h1, gen_random_uuid() as h2, gen_random_uuid() as h3,
       gen_random_uuid() as k1, gen_random_uuid() as k2, gen_random_uuid() as k3 \gset

-- A cultural --------------------------------------------------------------------------
-- f1 declares jazz; f2's genre weights are afrobeats 1 (a play) and highlife 10 (a
-- share), so its home genre is highlife; f3 has no genre at all.
select passport.log(:'f1', 'profile.genre_preference_set', 'a0', '{"genre": "jazz"}', null, :'t'::timestamptz - interval '20 days');
select passport.log(:'f1', 'audio.play', 'a1', '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 60000, "genre": "afrobeats"}',
                    :'art_a', :'t'::timestamptz - interval '3 days');   -- w 1 x 0.9 = 0.9
select passport.log(:'f2', 'audio.play', 'a2', '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 60000, "genre": "afrobeats"}',
                    :'art_a', :'t'::timestamptz - interval '6 days');   -- w 1 x 0.8 = 0.8
select passport.log(:'f2', 'audio.share', 'a3', '{"track_id": "c0000000-0000-4000-8000-000000000001", "genre": "highlife"}',
                    :'art_a', :'t'::timestamptz - interval '15 days');  -- w 10 x 0.5 = 5 (intent: influence)
select passport.log(:'f3', 'social.follow', 'a4', '{}', :'art_a', :'t'::timestamptz - interval '3 days');  -- w 10 x 0.9 = 9 (influence)
select passport.log(:'f1', 'audio.like', 'a5', '{"track_id": "c0000000-0000-4000-8000-000000000001", "genre": "afrobeats"}',
                    :'art_a', :'t'::timestamptz - interval '40 days');  -- w 1 x 0.1 = 0.1 (alltime only)

-- T behavioral --------------------------------------------------------------------------
select passport.log(:'g1', 'audio.play', 't1', '{"track_id": "c0000000-0000-4000-8000-000000000002", "duration_ms": 31000}',
                    :'art_t', :'t'::timestamptz - interval '1 day');    -- w 29/30
select passport.log(:'g1', 'audio.play', 't2', '{"track_id": "c0000000-0000-4000-8000-000000000002", "duration_ms": 31000}',
                    :'art_t', :'t'::timestamptz - interval '3 days');   -- w 0.9
select passport.log(:'g1', 'social.follow', 't3', '{}', :'art_t', :'t'::timestamptz - interval '2 days');  -- w 10 x 28/30
select passport.log(:'g2', 'audio.complete', 't4', '{"track_id": "c0000000-0000-4000-8000-000000000002"}',
                    :'art_t', :'t'::timestamptz - interval '2 days');   -- w 28/30
select passport.log(:'g2', 'audio.play', 't5', '{"track_id": "c0000000-0000-4000-8000-000000000002", "duration_ms": 31000}',
                    :'art_t', :'t'::timestamptz - interval '2 days' + interval '6 hours');  -- same UTC day, w 1 - 1.75/30
select passport.log(:'g3', 'audio.skip', 't6', '{"track_id": "c0000000-0000-4000-8000-000000000002"}',
                    :'art_t', :'t'::timestamptz - interval '10 days');  -- w 0.1 x 20/30
select passport.log(:'g3', 'tip.sent', 't7', '{"payment_id": "pay-t7", "amount_minor": 500, "currency": "USD"}',
                    :'art_t', :'t'::timestamptz - interval '20 days', 'treasury');  -- w 100 x 10/30

-- G economic ------------------------------------------------------------------------------
select passport.log(:'h1', 'tip.sent', 'g1', '{"payment_id": "pay-g1", "amount_minor": 1000, "currency": "EUR"}',
                    :'art_g', :'t'::timestamptz - interval '1 day', 'treasury');        -- 1160 cents, w 100 x 29/30 (G and T)
select passport.log(:'h1', 'membership.started', 'g2',
                    '{"membership_id": "c0000000-0000-4000-8000-000000000003", "plan": "gold", "amount_minor": 2000, "currency": "NGN"}',
                    :'art_g', :'t'::timestamptz - interval '2 days', 'treasury');       -- 20 NGN = 1.38 cents -> 1, w 100 x 28/30 (G and T)
select passport.log(:'h2', 'treasury.refund', 'g3', '{"payment_id": "pay-g3", "amount_minor": 500, "currency": "USD"}',
                    :'art_g', :'t'::timestamptz - interval '3 days', 'treasury');       -- -500 cents, w 100 x 0.9
select passport.log(:'h2', 'treasury.money_earned', 'g4', '{"payment_id": "pay-g4", "amount_minor": 10000, "currency": "USD", "role": "artist"}',
                    :'art_g', :'t'::timestamptz - interval '3 days', 'treasury');       -- no revenue, w 100 x 0.9
select passport.log(:'h3', 'drop.purchased', 'g5',
                    '{"drop_id": "c0000000-0000-4000-8000-000000000004", "quantity": 1, "amount_minor": 300, "currency": "JPY"}',
                    :'art_g', :'t'::timestamptz - interval '4 days', 'treasury');       -- 300 JPY = 198 cents, w 100 x 26/30 (G and T)

-- C spatial -------------------------------------------------------------------------------
select passport.log(:'k1', 'profile.location_set', 'c0', '{"city": "Lagos", "country": "NG"}', null, :'t'::timestamptz - interval '10 days');
select passport.log(:'k1', 'concierto.event_attended', 'c1',
                    '{"event_id": "c0000000-0000-4000-8000-000000000005", "city": "Accra", "country": "GH"}',
                    :'art_c', :'t'::timestamptz - interval '1 day', 'concierto');     -- Accra, w 1000 x 29/30 (touring)
select passport.log(:'k1', 'merch.purchased', 'c2',
                    '{"product_id": "c0000000-0000-4000-8000-000000000006", "quantity": 1, "amount_minor": 1500, "currency": "USD"}',
                    :'art_c', :'t'::timestamptz - interval '2 days', 'treasury');     -- k1's home Lagos, w 100 x 28/30
select passport.log(:'k2', 'concierto.ticket_purchased', 'c3',
                    '{"event_id": "c0000000-0000-4000-8000-000000000005", "tier_id": "c0000000-0000-4000-8000-000000000007", "quantity": 1, "amount_minor": 2500, "currency": "USD", "city": "Lagos", "country": "NG"}',
                    :'art_c', :'t'::timestamptz - interval '2 days', 'concierto');    -- Lagos, w 100 x 28/30 (touring)
select passport.log(:'k3', 'concierto.event_rsvp', 'c4', '{"event_id": "c0000000-0000-4000-8000-000000000005"}',
                    :'art_c', :'t'::timestamptz - interval '3 days');                 -- no city, w 10 x 0.9 (touring)

select coliseum.process_pending(1000000) as processed \gset
select coliseum_private.refresh_artists(array[:'art_a', :'art_t', :'art_g', :'art_c']::uuid[], :'t') as refreshed \gset

-- s: the strength rows of the four artists, each labelled with the domain it was built for.
create temp table s on commit drop as
select case s.artist_id when :'art_a' then 'A' when :'art_t' then 'T' when :'art_g' then 'G' else 'C' end as case_of,
       s.artist_id, s.domain, s.period, s.score, s.raw, s.components, s.events, s.fans
from public.coliseum_domain_strength as s
where s.artist_id in (:'art_a', :'art_t', :'art_g', :'art_c');

select is((select count(*) from s), 60::bigint, 'four artists, 15 rows each (A, T, G, C, overall x 7d, 30d, alltime)');

-- A, 30d. Genre weights: afrobeats 0.9 + 0.8 = 1.7, highlife 5, so the main genre is
-- highlife and genre_diversity = H(1.7/6.7, 5/6.7) / ln 2 = 0.8171387756817725.
-- engagement = 0.9 + 0.8 + 5 + 9 = 15.7; influence (intent and above) = 5 + 9 = 14.
-- A fans with a known home genre: f1 (jazz, crossing), f2 (highlife, not); f3 unknown:
-- crossover = 1/2. raw = 15.7 x 1.8171387756817725 x 1.5 = 42.793618167305745.
select results_eq(
  $$select round((components->>'engagement')::numeric, 9), round((components->>'influence')::numeric, 9),
           round((components->>'genre_diversity')::numeric, 9), round((components->>'crossover')::numeric, 9),
           components->>'main_genre', events, fans
    from s where case_of = 'A' and domain = 'A' and period = '30d'$$,
  $$values (15.7::numeric, 14::numeric, 0.817138776::numeric, 0.5::numeric, 'highlife', 4::bigint, 3::bigint)$$,
  'A 30d: engagement, influence, genre diversity, crossover, main genre, events, fans'
);
select is((select round(raw::numeric, 9) from s where case_of = 'A' and domain = 'A' and period = '30d'), 42.793618167::numeric,
          'A 30d raw = E x (1 + diversity) x (1 + crossover)');
-- A, 7d: only afrobeats (0.9 + 0.8), diversity 0; E = 0.9 + 0.8 + 9 = 10.7, influence 9;
-- f1 (jazz) and f2 (highlife) both cross afrobeats: crossover 1; raw = 10.7 x 1 x 2 = 21.4.
select results_eq(
  $$select round((components->>'engagement')::numeric, 9), round((components->>'influence')::numeric, 9),
           round((components->>'genre_diversity')::numeric, 9), round((components->>'crossover')::numeric, 9),
           components->>'main_genre', round(raw::numeric, 9)
    from s where case_of = 'A' and domain = 'A' and period = '7d'$$,
  $$values (10.7::numeric, 9::numeric, 0::numeric, 1::numeric, 'afrobeats', 21.4::numeric)$$,
  'A 7d: one genre, every known fan crosses over'
);
-- A, alltime: + the like 40 days ago (0.1, afrobeats): afrobeats 1.8, highlife 5,
-- diversity H(1.8/6.8, 5/6.8) / ln 2 = 0.833764907210665, E = 15.8,
-- raw = 15.8 x 1.833764907210665 x 1.5 = 43.46022830089276.
select results_eq(
  $$select round((components->>'engagement')::numeric, 9), round((components->>'genre_diversity')::numeric, 9),
           round(raw::numeric, 9), events
    from s where case_of = 'A' and domain = 'A' and period = 'alltime'$$,
  $$values (15.8::numeric, 0.833764907::numeric, 43.460228301::numeric, 5::bigint)$$,
  'A alltime: the old like counts with the decay floor'
);

-- T, 7d. fans g1, g2. E = 29/30 + 0.9 + 10 x 28/30 + 28/30 + (1 - 1.75/30)
--   = 0.966666667 + 0.9 + 9.333333333 + 0.933333333 + 0.941666667 = 13.075.
-- loyalty: g1 on two UTC days, g2 on one: 1/2. repeat: 4 plays/completes / 2 fans = 2.
-- conversion: g1 follows: 1/2. raw = 13.075 x 1.5 x 1.5 = 29.41875.
select results_eq(
  $$select round((components->>'engagement')::numeric, 9), (components->>'fans')::bigint,
           round((components->>'loyalty')::numeric, 9), round((components->>'repeat')::numeric, 9),
           round((components->>'conversion')::numeric, 9), round(raw::numeric, 9), events, fans
    from s where case_of = 'T' and domain = 'T' and period = '7d'$$,
  $$values (13.075::numeric, 2::bigint, 0.5::numeric, 2::numeric, 0.5::numeric, 29.41875::numeric, 5::bigint, 2::bigint)$$,
  'T 7d: engagement, fans, loyalty, repeat, conversion'
);
-- T, 30d: + g3's skip (0.1 x 20/30 = 0.066666667) and tip (100 x 10/30 = 33.333333333):
-- E = 46.475; g3 is active on two days: loyalty 2/3; repeat 4/3; g3 tipped: conversion 2/3.
-- raw = 46.475 x 5/3 x 5/3 = 129.097222222.
select results_eq(
  $$select round((components->>'engagement')::numeric, 9), (components->>'fans')::bigint,
           round((components->>'loyalty')::numeric, 9), round((components->>'repeat')::numeric, 9),
           round((components->>'conversion')::numeric, 9), round(raw::numeric, 6)
    from s where case_of = 'T' and domain = 'T' and period = '30d'$$,
  $$values (46.475::numeric, 3::bigint, 0.666666667::numeric, 1.333333333::numeric, 0.666666667::numeric, 129.097222::numeric)$$,
  'T 30d: the older fan counts as loyal and converted'
);

-- G, 7d. revenue = 1160 (10 EUR) + 1 (20 NGN = 1.38 cents) - 500 (refund) + 198 (300 JPY) = 859
-- cents; the payee's money_earned is no revenue. transactions (amount > 0) = 3.
-- fans of all the artist's mutations: h1, h2, h3 = 3. revenue_per_fan = 859 / 3;
-- avg_transaction_value = 859 / 3.
-- E_G = 100 x (29 + 28 + 27 + 27 + 26) / 30 = 456.666666667.
-- All the artist's weight (G plus the T mutations of the tip, the membership and the drop):
-- 456.666666667 + 100 x (29 + 28 + 26) / 30 = 733.333333333; efficiency = 859 / 733.333333333.
-- raw = 456.666666667 x (1 + log10(9.59)) = 905.227441.
select results_eq(
  $$select round((components->>'engagement')::numeric, 9), (components->>'revenue_usd_cents')::bigint,
           (components->>'transactions')::bigint, round((components->>'revenue_per_fan')::numeric, 9),
           round((components->>'avg_transaction_value')::numeric, 9),
           round((components->>'monetization_efficiency')::numeric, 9), events, fans
    from s where case_of = 'G' and domain = 'G' and period = '7d'$$,
  $$values (456.666666667::numeric, 859::bigint, 3::bigint, 286.333333333::numeric, 286.333333333::numeric,
            1.171363636::numeric, 5::bigint, 3::bigint)$$,
  'G 7d: revenue in US cents (converted, refund negative, payee share excluded) and its ratios'
);
select is((select round(raw::numeric, 6) from s where case_of = 'G' and domain = 'G' and period = '7d'),
          round((456.666666667 * (1 + log(1 + 859 / 100.0)))::numeric, 6),
          'G 7d raw = E x (1 + log10(1 + revenue / 100))');

-- C, 7d. Cities: (GH, Accra) with k1; (NG, Lagos) with k1 (merch, home city) and k2.
-- k3's RSVP has no city. cities 2, countries 2, concentration (1/3)^2 + (2/3)^2 = 5/9:
-- city_distribution 4/9. touring = 1000 x 29/30 + 100 x 28/30 + 10 x 0.9 = 1069.
-- attendance 1; fans_C = 3, the largest city has 2: fan_density 2/3.
-- E_C = 966.666666667 + 93.333333333 (merch) + 93.333333333 (ticket) + 9 = 1162.333333333.
-- raw = E_C x (1 + 4/9) x (1 + log10(3)) = 2479.300...
select results_eq(
  $$select round((components->>'engagement')::numeric, 9), (components->>'cities')::bigint,
           (components->>'countries')::bigint, round((components->>'city_distribution')::numeric, 9),
           round((components->>'touring_viability')::numeric, 9), (components->>'attendance')::bigint,
           round((components->>'fan_density')::numeric, 9), events, fans
    from s where case_of = 'C' and domain = 'C' and period = '7d'$$,
  $$values (1162.333333333::numeric, 2::bigint, 2::bigint, 0.444444444::numeric, 1069::numeric, 1::bigint,
            0.666666667::numeric, 4::bigint, 3::bigint)$$,
  'C 7d: cities, countries, distribution, touring, attendance, density'
);
select is((select round(raw::numeric, 6) from s where case_of = 'C' and domain = 'C' and period = '7d'),
          round((1162.333333333333 * (1 + 4 / 9.0) * (1 + log(3)))::numeric, 6),
          'C 7d raw = E x (1 + city_distribution) x (1 + log10(1 + countries))');

-- Windows: nothing of art_c is older than 7 days, so 30d and alltime equal 7d.
select is((select count(distinct (score, raw, components)) from s where artist_id = :'art_c' and domain = 'C'), 1::bigint,
          'C: 7d, 30d and alltime agree when every event is recent');
-- art_t: the skip (10 days) and tip (20 days) are outside 7d only.
select is((select array_agg(events order by period) from s where artist_id = :'art_t' and domain = 'T'),
          array[7, 5, 7]::bigint[], 'T events per window (30d, 7d, alltime): the skip and the tip are older than 7 days');

-- Scores ---------------------------------------------------------------------------------
-- score = least(100, 100 ln(1 + raw) / ln(1 + 1e7)); 0 for raw <= 0.
select is(
  (select count(*) from s where domain <> 'overall'
     and abs(score - least(100, 100 * ln(1 + raw) / ln(1 + 1e7::double precision))) > 1e-9),
  0::bigint, 'every domain score is the log transform of its raw');
select is(round(coliseum.strength_score(0)::numeric, 12), 0::numeric, 'raw 0 scores 0');
select is(round(coliseum.strength_score(-5)::numeric, 12), 0::numeric, 'a negative raw scores 0');
select is(round(coliseum.strength_score(1e7)::numeric, 9), 100::numeric, 'raw 1e7 scores 100');
select is(coliseum.strength_score(1e12), 100::double precision, 'beyond 1e7 the score stays 100');
select is(round(coliseum.strength_score(42.793618167305745)::numeric, 9),
          round((100 * ln(1 + 42.793618167305745) / ln(10000001))::numeric, 9), 'A 30d score of the case above');

-- overall = mean of the four domain scores, its components the four scores; raw = score.
select is(
  (select count(*) from s as o
   where o.domain = 'overall'
     and (abs(o.score - (select sum(d.score) / 4 from s as d where d.artist_id = o.artist_id and d.period = o.period and d.domain <> 'overall')) > 1e-12
          or o.raw <> o.score
          or (select array_agg(k order by k) from jsonb_object_keys(o.components) as k) <> array['A', 'C', 'G', 'T'])),
  0::bigint, 'overall is the mean of the four domain scores, with them as components');
select is((select round(score::numeric, 9) from s where artist_id = :'art_g' and domain = 'overall' and period = '7d'),
          (select round((sum(score) / 4)::numeric, 9) from s where artist_id = :'art_g' and domain in ('A', 'T', 'G', 'C') and period = '7d'),
          'a domain without mutations counts 0 in the mean');
select is((select score from s where artist_id = :'art_g' and domain = 'A' and period = '7d'), 0::double precision,
          'a domain without mutations scores 0');
select results_eq(
  $$select events, fans from s where artist_id = '$$ || :'art_g' || $$' and domain = 'overall' and period = '7d'$$,
  $$values (5::bigint, 3::bigint)$$,
  'overall events count entries (not mutations), fans all fans');

-- Component keys are exactly the agreed ones.
select is((select array_agg(distinct k order by k) from s, jsonb_object_keys(components) as k where domain = 'A'),
          array['crossover', 'engagement', 'genre_diversity', 'influence', 'main_genre'], 'A component keys');
select is((select array_agg(distinct k order by k) from s, jsonb_object_keys(components) as k where domain = 'T'),
          array['conversion', 'engagement', 'fans', 'loyalty', 'repeat'], 'T component keys');
select is((select array_agg(distinct k order by k) from s, jsonb_object_keys(components) as k where domain = 'G'),
          array['avg_transaction_value', 'engagement', 'monetization_efficiency', 'revenue_per_fan', 'revenue_usd_cents', 'transactions'],
          'G component keys');
select is((select array_agg(distinct k order by k) from s, jsonb_object_keys(components) as k where domain = 'C'),
          array['attendance', 'cities', 'city_distribution', 'countries', 'engagement', 'fan_density', 'touring_viability'],
          'C component keys');

-- History and computed_at -----------------------------------------------------------------
select is((select count(*) from coliseum.strength_history
           where artist_id in (:'art_a', :'art_t', :'art_g', :'art_c') and day = (:'t'::timestamptz at time zone 'UTC')::date),
          60::bigint, 'the day''s history row per artist, domain and period');
select is((select count(*) from coliseum.strength_history as h join s using (artist_id, domain, period)
           where h.day = (:'t'::timestamptz at time zone 'UTC')::date and (h.score, h.raw) is distinct from (s.score, s.raw)),
          0::bigint, 'the history row holds the last computed score and raw');
-- The processor scored as of now(), the refresh as of t; a row that held its values keeps
-- the as_of of the refresh that last changed it.
select is((select count(*) from public.coliseum_domain_strength
           where artist_id in (:'art_a', :'art_t', :'art_g', :'art_c') and computed_at not in (:'t'::timestamptz, now()))
          + (select count(*) from coliseum_private.artist_refreshes
             where artist_id in (:'art_a', :'art_t', :'art_g', :'art_c') and refreshed_at <> :'t'::timestamptz),
          0::bigint, 'computed_at is the as_of of the refresh that last changed the row; the refresh time is t');

-- Decay moves with as_of, windows are exact -----------------------------------------------
-- 8 days later every A event of art_a is older than 7 days.
select coliseum_private.refresh_artists(array[:'art_a']::uuid[], :'t'::timestamptz + interval '8 days') as later \gset
select results_eq(
  $$select events, score from public.coliseum_domain_strength where artist_id = '$$ || :'art_a' || $$' and domain = 'A' and period = '7d'$$,
  $$values (0::bigint, 0::double precision)$$,
  'eight days on, the 7d window of art_a is empty');
-- 30d at T + 8 days: ages 11, 14, 23 and 11 days: play f1 1 x (1 - 11/30), play f2
-- 1 x (1 - 14/30), share 10 x (1 - 23/30), follow 10 x (1 - 11/30); the like (48 days) is out.
select is(
  (select round((components->>'engagement')::numeric, 8) from public.coliseum_domain_strength
   where artist_id = :'art_a' and domain = 'A' and period = '30d'),
  round((19 / 30.0 + 16 / 30.0 + 10 * 7 / 30.0 + 10 * 19 / 30.0)::numeric, 8),
  'decay is applied as of the refresh instant');
-- Window edges are exclusive: at T + 4 days the f1 play and the follow (T - 3 days) are
-- exactly 7 days old and out of 7d; a microsecond earlier they are in.
select coliseum_private.refresh_artists(array[:'art_a']::uuid[], :'t'::timestamptz + interval '4 days') as edge \gset
select is(
  (select events from public.coliseum_domain_strength where artist_id = :'art_a' and domain = 'A' and period = '7d'),
  0::bigint, 'an event exactly 7 days old is outside 7d');
select coliseum_private.refresh_artists(array[:'art_a']::uuid[], :'t'::timestamptz + interval '4 days' - interval '1 microsecond') as edge \gset
select is(
  (select events from public.coliseum_domain_strength where artist_id = :'art_a' and domain = 'A' and period = '7d'),
  2::bigint, 'an event a microsecond younger than 7 days is inside 7d');

select * from finish();
rollback;
