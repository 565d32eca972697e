-- Passport: who reads what (RLS for anon, another user, the owner and
-- service_role) and passport.timeline's filters and keyset pagination.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(29);

select gen_random_uuid() as fan, gen_random_uuid() as other, gen_random_uuid() as artist_a, gen_random_uuid() as artist_b,
       date_trunc('day', now()) - interval '10 days' as day0 \gset

-- The fan's history: three events share one instant, one has no artist.
select passport.log(:'fan', 'audio.play', 'e1', '{"track_id": "c0000000-0000-4000-8000-000000000001", "duration_ms": 45000}',
                    :'artist_a', :'day0'::timestamptz + interval '1 day', 'app') as e1 \gset
select passport.log(:'fan', 'audio.skip', 'e2', '{"track_id": "c0000000-0000-4000-8000-000000000001"}',
                    :'artist_a', :'day0'::timestamptz + interval '2 days', 'app') as e2 \gset
select passport.log(:'fan', 'social.follow', 'e3', '{}', :'artist_b', :'day0'::timestamptz + interval '3 days', 'app') as e3 \gset
select passport.log(:'fan', 'audio.like', 'e4', '{"track_id": "c0000000-0000-4000-8000-000000000002"}',
                    :'artist_b', :'day0'::timestamptz + interval '3 days', 'app') as e4 \gset
select passport.log(:'fan', 'audio.like', 'e5', '{"track_id": "c0000000-0000-4000-8000-000000000001"}',
                    :'artist_a', :'day0'::timestamptz + interval '3 days', 'app') as e5 \gset
select passport.log(:'fan', 'profile.updated', 'e6', '{"section": "bio"}', null, :'day0'::timestamptz + interval '4 days', 'app') as e6 \gset
select passport.log(:'other', 'social.follow', 'o1', '{}', :'artist_a', :'day0'::timestamptz + interval '3 days', 'app') as o1 \gset
-- And one of the fan's events refused.
select passport.ingest(jsonb_build_array(jsonb_build_object(
  'rejected', '{"code": "unknown_kind", "message": "unknown event kind \"audio.plya\""}'::jsonb,
  'user_id', :'fan', 'source', 'app', 'kind', 'audio.plya', 'client_event_id', 'r1'))) is not null as refused \gset

-- anon ------------------------------------------------------------------------------

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok('select count(*) from public.passport_entries', '42501', 'permission denied for table passport_entries',
                 'anon cannot read passport_entries at all');
select throws_ok('select * from passport.timeline()', '42501', 'sign in to read a timeline', 'anon gets no timeline');
select throws_ok('select count(*) from passport.rejections', '42501', 'permission denied for table rejections',
                 'anon cannot read rejections');
select ok((select count(*) >= 40 from passport.event_kinds), 'anon reads the public catalog');
reset role;

-- another user -----------------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'other', 'role', 'authenticated')::text, true) is not null as set \gset
select is((select count(*) from public.passport_entries where user_id = :'fan'), 0::bigint,
          'another user sees none of the fan''s entries');
select is((select array_agg(id) from public.passport_entries), array[:o1]::bigint[], 'another user sees exactly their own entries');
select is((select array_agg(t.id order by t.n) from passport.timeline() with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:o1]::bigint[], 'another user''s timeline holds only their entry');
select throws_ok('select count(*) from passport.rejections', '42501', 'permission denied for table rejections',
                 'a user cannot read rejections');
reset role;

-- the owner ----------------------------------------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true) is not null as set \gset
select is((select count(*) from public.passport_entries), 6::bigint, 'the owner sees their six entries and nothing else');

select is((select array_agg(t.id order by t.n) from passport.timeline() with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e6, :e5, :e4, :e3, :e2, :e1]::bigint[],
          'the timeline is newest first, ties broken by id');
select results_eq(
  format('select * from passport.timeline(kinds => array[%L]) ', 'profile.updated'),
  format($$values (%s::bigint, 'profile.updated', null::uuid, '{"section": "bio"}'::jsonb, %L::timestamptz, now(), 'app')$$,
         :e6, :'day0'::timestamptz + interval '4 days'),
  'a timeline row carries id, kind, artist_id, payload, occurred_at, received_at and source'
);
select is((select array_agg(t.id order by t.n) from passport.timeline(kinds => array['audio.like', 'audio.skip']) with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e5, :e4, :e2]::bigint[], 'filter by kinds');
select is((select count(*) from passport.timeline(kinds => array[]::text[])), 0::bigint, 'an empty kinds list matches nothing');
select is((select array_agg(t.id order by t.n) from passport.timeline(from_at => :'day0'::timestamptz + interval '3 days', to_at => :'day0'::timestamptz + interval '4 days') with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e5, :e4, :e3]::bigint[], 'filter by [from_at, to_at): from is inclusive, to exclusive');
select is((select array_agg(t.id order by t.n) from passport.timeline(artist => :'artist_a') with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e5, :e2, :e1]::bigint[], 'filter by artist');
select is((select array_agg(t.id order by t.n) from passport.timeline(kinds => array['audio.like'], artist => :'artist_b', from_at => :'day0'::timestamptz) with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e4]::bigint[], 'filters combine');

-- Keyset pagination, two at a time, through the tie.
select is((select array_agg(t.id order by t.n) from passport.timeline(page_size => 2) with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e6, :e5]::bigint[], 'page 1');
select is((select array_agg(t.id order by t.n) from passport.timeline(page_size => 2, before_occurred_at => (select occurred_at from public.passport_entries where id = :e5), before_id => :e5) with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e4, :e3]::bigint[], 'page 2 continues inside the tie');
select is((select array_agg(t.id order by t.n) from passport.timeline(page_size => 2, before_occurred_at => (select occurred_at from public.passport_entries where id = :e3), before_id => :e3) with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e2, :e1]::bigint[], 'page 3');
select is((select count(*) from passport.timeline(page_size => 2, before_occurred_at => (select occurred_at from public.passport_entries where id = :e1), before_id => :e1)),
          0::bigint, 'after the last page comes an empty one');
select is((select array_agg(t.id order by t.n) from passport.timeline(artist => :'artist_a', page_size => 1, before_occurred_at => (select occurred_at from public.passport_entries where id = :e5), before_id => :e5) with ordinality as t(id, kind, artist_id, payload, occurred_at, received_at, source, n)),
          array[:e2]::bigint[], 'pagination keeps the filters');

select throws_ok('select * from passport.timeline(page_size => 0)', '22023', 'page_size must be between 1 and 200, got 0',
                 'page_size below 1 is refused');
select throws_ok('select * from passport.timeline(page_size => 201)', '22023', 'page_size must be between 1 and 200, got 201',
                 'page_size above 200 is refused');
select throws_ok('select * from passport.timeline(page_size => null)', '22023', 'page_size must be between 1 and 200, got null',
                 'page_size null is refused');
select throws_ok('select * from passport.timeline(before_id => 5)', '22023', 'before_occurred_at and before_id go together',
                 'half a keyset is refused');
select is((select count(*) from passport.timeline(page_size => 200)), 6::bigint, 'page_size 200 is allowed');
reset role;

-- service_role ---------------------------------------------------------------------------

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select is((select count(*) from public.passport_entries where user_id in (:'fan', :'other')), 7::bigint,
          'service_role reads every user''s entries');
select is((select array[code, kind] from passport.rejections where user_id = :'fan'), array['unknown_kind', 'audio.plya'],
          'service_role reads rejections');
select throws_ok('select * from passport.timeline()', '42501', 'sign in to read a timeline',
                 'the timeline is for a signed-in user, not for the service key');
reset role;

select * from finish();
rollback;
