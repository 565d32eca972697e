-- Coliseum DNA: process_pending derives the mutations each kind makes (domains,
-- tiers, thresholds, amounts, places), updates what Coliseum knows of fans, marks
-- the entries, refreshes the artists and writes notifications, exactly once.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(44);

-- Badges stay out of this file's way (in its transaction): an active badge (the demo activates the starter
-- ones) logs badge.earned entries as the processor awards it, which the next call would then find pending.
-- people_badges.test.sql tests the processor with badges.
update people.badges set active = false where active;

-- Whatever other sessions left pending is folded first.
select coliseum.process_pending(1000000) >= 0 as flushed \gset

select gen_random_uuid() as artist, gen_random_uuid() as other_artist,
       gen_random_uuid() as fan, gen_random_uuid() as roamer, gen_random_uuid() as buyer,
       now() - interval '1 hour' as at \gset

-- The threshold: audio.play counts from 30 s.
select passport.log(:'fan', 'audio.play', 'p29', '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 29999, "genre": "afrobeats"}',
                    :'artist', :'at') as p29 \gset
select passport.log(:'fan', 'audio.play', 'p30', '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 30000, "genre": "afrobeats"}',
                    :'artist', :'at') as p30 \gset
-- Kinds and their domains.
select passport.log(:'fan', 'concierto.ticket_purchased', 'tk',
                    '{"event_id": "c0000000-0000-4000-8000-000000000002", "tier_id": "c0000000-0000-4000-8000-000000000003", "quantity": 2, "amount_minor": 5000, "currency": "GBP", "city": "London", "country": "GB"}',
                    :'artist', :'at', 'concierto') as tk \gset
select passport.log(:'fan', 'concierto.event_attended', 'ea',
                    '{"event_id": "c0000000-0000-4000-8000-000000000002", "city": "London", "country": "GB"}',
                    :'artist', :'at', 'concierto') as ea \gset
select passport.log(:'fan', 'social.unfollow', 'uf', '{}', :'artist', :'at') as uf \gset
-- No artist: nothing, whatever the kind's domains.
select passport.log(:'fan', 'concierto.ticket_validated', 'tv',
                    '{"event_id": "c0000000-0000-4000-8000-000000000002", "ticket_id": "c0000000-0000-4000-8000-000000000004"}',
                    null, :'at', 'concierto') as tv \gset
select passport.log(:'fan', 'system.session_started', 'ss', '{}', null, :'at') as ss \gset
-- Money: converted to US cents; refunds negative; the payee's share and a brand's budget are no revenue.
select passport.log(:'buyer', 'treasury.money_spent', 'ms', '{"payment_id": "pay-1", "amount_minor": 12345, "currency": "KES", "product_type": "drop"}',
                    :'artist', :'at', 'treasury') as ms \gset
select passport.log(:'buyer', 'treasury.refund', 'rf', '{"payment_id": "pay-1", "amount_minor": 1000, "currency": "USD"}',
                    :'artist', :'at', 'treasury') as rf \gset
select passport.log(:'buyer', 'treasury.money_earned', 'me', '{"payment_id": "pay-1", "amount_minor": 1000, "currency": "USD", "role": "artist"}',
                    :'artist', :'at', 'treasury') as me \gset
select passport.log(:'buyer', 'companon.campaign_launched', 'cl', '{"campaign_id": "c0000000-0000-4000-8000-000000000005", "budget_minor": 99900, "currency": "USD"}',
                    :'artist', :'at', 'companon') as cl \gset
select passport.log(:'buyer', 'companon.campaign_converted', 'cc', '{"campaign_id": "c0000000-0000-4000-8000-000000000005", "amount_minor": 250, "currency": "CHF"}',
                    :'artist', :'at', 'companon') as cc \gset
-- Places: the payload's when it has one; else the fan's home as of the entry.
select passport.log(:'roamer', 'social.follow', 'r1', '{}', :'other_artist', :'at') as r1 \gset
select passport.log(:'roamer', 'profile.location_set', 'r2', '{"city": "Nairobi", "country": "KE"}', null, :'at') as r2 \gset
select passport.log(:'roamer', 'social.follow', 'r3', '{}', :'artist', :'at') as r3 \gset
select passport.log(:'roamer', 'concierto.event_rsvp', 'r4', '{"event_id": "c0000000-0000-4000-8000-000000000002", "country": "TZ"}',
                    :'artist', :'at') as r4 \gset
select passport.log(:'roamer', 'profile.location_set', 'r5', '{"city": "Mombasa", "country": "KE"}', null, :'at') as r5 \gset
select passport.log(:'roamer', 'profile.genre_preference_set', 'r6', '{"genre": "benga"}', null, :'at') as r6 \gset

select is(coliseum.process_pending(1000000), 18, 'process_pending folds the 18 entries and says so');

-- The mutations, by entry.
select is((select count(*) from public.coliseum_dna_mutations where entry_id = :p29), 0::bigint, 'a 29.999 s play makes no mutation');
select results_eq(
  format($$select domain, kind, fan_id, artist_id, tier, weight, units, genre, rules_version, occurred_at
           from public.coliseum_dna_mutations where entry_id = %s order by domain$$, :p30),
  format($$values ('A', 'audio.play', %1$L::uuid, %2$L::uuid, 2::smallint, 1::double precision, 10::bigint, 'afrobeats', 2, %3$L::timestamptz),
                  ('T', 'audio.play', %1$L::uuid, %2$L::uuid, 2::smallint, 1::double precision, 10::bigint, 'afrobeats', 2, %3$L::timestamptz)$$,
         :'fan', :'artist', :'at'),
  'a 30 s play makes an A and a T mutation: tier 2, weight 1, 10 units (its first play), the payload genre, rules version 2');
select is((select array_agg(domain order by domain) from public.coliseum_dna_mutations where entry_id = :tk),
          array['C', 'G', 'T'], 'a ticket purchase feeds T, G and C');
select is((select array_agg(distinct weight) from public.coliseum_dna_mutations where entry_id = :tk),
          array[100::double precision], 'with the commitment weight 100');
select is((select array_agg(weight order by domain) from public.coliseum_dna_mutations where entry_id = :ea),
          array[1000, 1000]::double precision[], 'an attended event feeds C and T with the landmark weight 1000');
select is((select array_agg(domain || ':' || weight) from public.coliseum_dna_mutations where entry_id = :uf),
          array['T:0.1'], 'an unfollow is a trace (0.1) in T');
select is((select count(*) from public.coliseum_dna_mutations where entry_id in (:tv, :ss, :r2, :r5, :r6)), 0::bigint,
          'entries without an artist make no mutation');
select is(
  (select count(*) from public.coliseum_dna_mutations as m
   join public.passport_entries as e on e.id = m.entry_id
   join passport.event_kinds as k on k.name = e.kind
   where e.id in (:p30, :tk, :ea, :uf, :ms, :rf, :me, :cl, :cc, :r1, :r3, :r4)
     and (m.weight <> k.weight or m.tier <> k.tier or m.fan_id <> e.user_id or m.artist_id <> e.artist_id
          or m.kind <> e.kind or m.occurred_at <> e.occurred_at or not m.domain = any (k.domains))),
  0::bigint, 'every mutation carries its entry''s fan, artist, kind, time and its kind''s tier and weight');
select is(
  (select count(*) from public.passport_entries as e
   join passport.event_kinds as k on k.name = e.kind
   where e.id in (:p30, :tk, :ea, :uf, :ms, :rf, :me, :cl, :cc, :r1, :r3, :r4)
     and cardinality(k.domains) <> (select count(*) from public.coliseum_dna_mutations as m where m.entry_id = e.id)),
  0::bigint, 'one mutation per domain of the kind');

-- Amounts, in US cents, on G mutations only.
select is((select amount_usd_cents from public.coliseum_dna_mutations where entry_id = :tk and domain = 'G'), 6650::bigint,
          '50.00 GBP at 1.33 = 6650 cents');
select is((select count(*) from public.coliseum_dna_mutations where entry_id = :tk and domain <> 'G' and amount_usd_cents is not null),
          0::bigint, 'the T and C mutations of a purchase carry no amount');
select is((select amount_usd_cents from public.coliseum_dna_mutations where entry_id = :ms), 95::bigint,
          '123.45 KES at 0.0077 = 0.950565 USD: 95 cents (half away from zero)');
select is((select amount_usd_cents from public.coliseum_dna_mutations where entry_id = :rf), -1000::bigint, 'a refund counts negative');
select is((select amount_usd_cents from public.coliseum_dna_mutations where entry_id = :me), null::bigint,
          'the payee''s money_earned is no revenue');
select is((select amount_usd_cents from public.coliseum_dna_mutations where entry_id = :cl and domain = 'G'), null::bigint,
          'a campaign budget is no revenue');
select is((select amount_usd_cents from public.coliseum_dna_mutations where entry_id = :cc and domain = 'G'), null::bigint,
          'a currency without a reference rate gives no amount');
select is(coliseum_private.usd_cents(150, 'JPY'), 99::bigint, '150 JPY (no minor unit) at 0.0066 = 0.99 USD');
select is(coliseum_private.usd_cents(-5, 'USD'), -5::bigint, 'usd_cents keeps the sign');
select is(coliseum_private.usd_cents(100, 'XXX'), null::bigint, 'usd_cents of an unknown currency is null');
select is(coliseum_private.usd_cents(9223372036854775807, 'GBP'), null::bigint, 'usd_cents beyond bigint is null, not an error');

-- Places.
select results_eq(format($$select city, country from public.coliseum_dna_mutations where entry_id = %s and domain = 'C'$$, :tk),
                  $$values ('London'::text, 'GB'::char(2))$$, 'the payload''s city and country');
select results_eq(format($$select city, country from public.coliseum_dna_mutations where entry_id = %s$$, :r1),
                  $$values (null::text, null::char(2)), (null, null)$$, 'no home before the fan set one');
select results_eq(format($$select distinct city, country from public.coliseum_dna_mutations where entry_id = %s$$, :r3),
                  $$values ('Nairobi'::text, 'KE'::char(2))$$, 'no city in the payload: the fan''s home as of the entry');
select results_eq(format($$select distinct city, country from public.coliseum_dna_mutations where entry_id = %s$$, :r4),
                  $$values (null::text, 'TZ'::char(2))$$, 'a payload with a country only keeps its own place');
select results_eq(format($$select home_city, home_country, declared_genre from coliseum.fans where fan_id = %L$$, :'roamer'),
                  $$values ('Mombasa'::text, 'KE'::char(2), 'benga'::text)$$, 'coliseum.fans holds the latest home and declared genre');
select is((select weight from coliseum.fan_genres where fan_id = :'fan' and genre = 'afrobeats'), 1::double precision,
          'fan_genres sums the tier weights of the fan''s A mutations with a genre (the 29 s play is not one)');

-- Marks.
select is((select count(*) from public.passport_entries
           where id in (:p29, :p30, :tk, :ea, :uf, :tv, :ss, :ms, :rf, :me, :cl, :cc, :r1, :r2, :r3, :r4, :r5, :r6)
             and coliseum_processed_at = now()),
          18::bigint, 'every entry is marked processed, those that made no mutation too');

-- Strength and notifications.
select is((select count(*) from public.coliseum_domain_strength where artist_id in (:'artist', :'other_artist')), 30::bigint,
          'both touched artists are scored in the same transaction');
select is((select count(*) from coliseum.notifications where artist_id = :'artist'), 4::bigint,
          'a first score of each domain over 0.5 is a rise: four notifications');
select results_eq(
  format($$select domain, period, previous_score, score = delta, message ~ ('^Your DNA just increased: ' || domain || ' \+[0-9]+\.[0-9]$')
           from coliseum.notifications where artist_id = %L and domain = 'T'$$, :'artist'),
  $$values ('T'::text, '30d'::text, 0::double precision, true, true)$$,
  'a notification: domain, 30d, previous 0, delta, "Your DNA just increased: T +x.y"');

-- Re-scoring: an artist whose scores are over 10 minutes old and can still move is due;
-- one whose newest mutation was already 30 days old when it was scored is settled.
select coliseum.refresh_due(1000000) >= 0 as flushed_due \gset
select gen_random_uuid() as settled \gset
select passport.log(:'fan', 'social.follow', 'old', '{}', :'settled', now() - interval '40 days') as old_follow \gset
select coliseum.process_pending(1000000) as one \gset
update coliseum_private.artist_refreshes set refreshed_at = now() - interval '11 minutes'
where artist_id in (:'artist', :'settled');
select is(coliseum.refresh_due(1000000), 1, 'refresh_due re-scores the stale artist that can still move, not the settled one');
select is((select refreshed_at from coliseum_private.artist_refreshes where artist_id = :'artist'), now(),
          'the due artist''s refresh time moves on');

-- Exactly once.
select is(coliseum.process_pending(1000000), 0, 'a second call finds nothing pending');
select is((select count(*) from public.coliseum_dna_mutations where artist_id in (:'artist', :'other_artist')), 20::bigint,
          'and adds no mutation');
select is(coliseum_private.fold_entries(array[:p30, :tk]::bigint[]),
          '{}'::uuid[], 'folding entries again touches no artist ...');
select is((select count(*) from public.coliseum_dna_mutations where entry_id in (:p30, :tk)), 5::bigint,
          '... stores nothing twice (unique (entry_id, domain))');
select is((select weight from coliseum.fan_genres where fan_id = :'fan' and genre = 'afrobeats'), 1::double precision,
          '... nor counts a genre twice');

-- A batch whose entries lie in two months of the log (its partition key, received_at) is folded whole:
-- the claim hands the fold the span of received_at of what it claimed.
insert into public.passport_entries (user_id, kind, artist_id, payload, occurred_at, received_at, client_event_id, source)
values (:'fan', 'social.follow', :'other_artist', '{}', now() - interval '40 days', now() - interval '35 days', 'span-old', 'app'),
       (:'fan', 'social.follow', :'other_artist', '{}', now(), now(), 'span-new', 'app');
select is(coliseum.process_pending(1000000), 2, 'a batch received across two months is claimed ...');
select is((select count(distinct m.entry_id) from public.coliseum_dna_mutations as m
           join public.passport_entries as e on e.id = m.entry_id
           where e.client_event_id in ('span-old', 'span-new')), 2::bigint,
          '... and folded whole');

-- Arguments and isolation.
select throws_ok('select coliseum.process_pending(0)', '22023', 'max_entries must be at least 1, got 0', 'max_entries below 1 is refused');
select throws_ok('select coliseum.refresh_due(null)', '22023', 'max_artists must be at least 1, got null', 'max_artists must be given');

-- The mutations log is append-only.
select throws_ok(format('update public.coliseum_dna_mutations set weight = 2 where entry_id = %s', :p30), '42501',
                 'coliseum_dna_mutations is append-only: UPDATE is refused', 'mutations cannot be updated');
select throws_ok('delete from public.coliseum_dna_mutations where false', '42501',
                 'coliseum_dna_mutations is append-only: DELETE is refused', 'nor deleted');

select * from finish();
rollback;
