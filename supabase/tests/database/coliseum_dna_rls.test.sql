-- Coliseum DNA: who reads and writes what, for anon, another user, the artist, the fan
-- and service_role; notifications readable (and markable as read) only by their artist.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(30);

select coliseum.process_pending(1000000) >= 0 as flushed \gset
select gen_random_uuid() as artist, gen_random_uuid() as fan, gen_random_uuid() as other \gset

select passport.log(:'fan', 'profile.location_set', 'l1', '{"city": "Accra", "country": "GH"}', null, now() - interval '1 hour');
select passport.log(:'fan', 'audio.play', 'p1', '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 60000, "genre": "highlife"}',
                    :'artist', now() - interval '1 hour');
select passport.log(:'fan', 'tip.sent', 't1', '{"payment_id": "pay-rls", "amount_minor": 500, "currency": "USD"}',
                    :'artist', now() - interval '1 hour', 'treasury');
select coliseum.process_pending(1000000) as processed \gset

-- anon ---------------------------------------------------------------------------------
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok('select count(*) from public.coliseum_dna_mutations', '42501', 'permission denied for table coliseum_dna_mutations',
                 'anon cannot read mutations');
select throws_ok('select count(*) from coliseum.notifications', '42501', 'permission denied for table notifications',
                 'anon cannot read notifications');
select throws_ok('select count(*) from coliseum.fans', '42501', 'permission denied for table fans', 'anon cannot read fans');
select throws_ok('select count(*) from coliseum.strength_history', '42501', 'permission denied for table strength_history',
                 'anon cannot read the history table (the boards'' functions serve it)');
select throws_ok(format($$insert into public.coliseum_domain_strength values (%L, 'A', '7d', 99, 1, '{}', 1, 1, now())$$, :'other'),
                 '42501', 'permission denied for table coliseum_domain_strength', 'anon cannot write strengths');
select ok((select count(*) = 14 from coliseum.currency_rates), 'anon reads the reference rates');
select ok((select count(*) >= 1 from coliseum.rules_versions), 'anon reads the rules versions');
select throws_ok('select coliseum.process_pending()', '42501', 'permission denied for function process_pending',
                 'anon cannot run the processor');
reset role;

-- another user ---------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'other', 'role', 'authenticated')::text, true) is not null as set \gset
select is((select count(*) from public.coliseum_dna_mutations where artist_id = :'artist'), 0::bigint,
          'another user sees none of the artist''s mutations');
select is((select count(*) from coliseum.notifications where artist_id = :'artist'), 0::bigint,
          'another user sees none of the artist''s notifications');
select is((select count(*) from coliseum.fans where fan_id = :'fan'), 0::bigint, 'another user does not see the fan''s home');
select is((select count(*) from coliseum.fan_genres where fan_id = :'fan'), 0::bigint, 'nor the fan''s genres');
update coliseum.notifications set read_at = now() where artist_id = :'artist';
select is((select count(*) from coliseum.notifications where artist_id = :'artist' and read_at is not null), 0::bigint,
          'another user cannot mark the artist''s notifications read (no row matches)');
select throws_ok('select coliseum.rebuild()', '42501', 'permission denied for function rebuild', 'a user cannot rebuild');
select throws_ok(format($$update public.coliseum_domain_strength set score = 100 where artist_id = %L$$, :'artist'),
                 '42501', 'permission denied for table coliseum_domain_strength', 'a user cannot change strengths');
select throws_ok('update coliseum.currency_rates set usd_per_unit = 1', '42501', 'permission denied for table currency_rates',
                 'a user cannot change the rates');
reset role;

-- the artist -------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'artist', 'role', 'authenticated')::text, true) is not null as set \gset
select is((select count(*) from public.coliseum_dna_mutations), 4::bigint,
          'the artist reads their own mutations (play: A, T; tip: T, G) and nothing else');
select ok((select count(*) >= 3 from coliseum.notifications), 'the artist reads their notifications');
select is((select count(*) from coliseum.notifications where artist_id <> :'artist'), 0::bigint, 'and only theirs');
update coliseum.notifications set read_at = now() where artist_id = :'artist';
select is((select count(*) from coliseum.notifications where read_at is null), 0::bigint, 'the artist marks them read');
select throws_ok('update coliseum.notifications set score = 0', '42501', 'permission denied for table notifications',
                 'read_at is the only column the artist may change');
select throws_ok(format($$insert into coliseum.notifications (artist_id, domain, period, previous_score, score, delta, message)
                          values (%L, 'A', '30d', 0, 1, 1, 'x')$$, :'artist'),
                 '42501', 'permission denied for table notifications', 'nor may they write one');
select throws_ok('delete from coliseum.notifications', '42501', 'permission denied for table notifications', 'nor delete one');
select throws_ok('delete from public.coliseum_dna_mutations', '42501', 'permission denied for table coliseum_dna_mutations',
                 'nor delete their mutations');
reset role;

-- the fan ---------------------------------------------------------------------------------
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true) is not null as set \gset
select results_eq('select home_city, home_country from coliseum.fans', $$values ('Accra'::text, 'GH'::char(2))$$,
                  'the fan reads what Coliseum knows of their home');
select results_eq('select genre, weight from coliseum.fan_genres', $$values ('highlife'::text, 1::double precision)$$,
                  'and of their genres');
select is((select count(*) from public.coliseum_dna_mutations), 0::bigint, 'a fan does not read the artist''s mutations');
reset role;

-- service_role ------------------------------------------------------------------------------
set local role service_role;
select is((select count(*) from public.coliseum_dna_mutations where artist_id = :'artist'), 4::bigint, 'service_role reads every mutation');
select is((select count(*) from public.coliseum_domain_strength where artist_id = :'artist'), 15::bigint, 'and every strength row');
select ok((select count(*) = 15 from coliseum.strength_history where artist_id = :'artist'), 'and the history');
reset role;

select * from finish();
rollback;
