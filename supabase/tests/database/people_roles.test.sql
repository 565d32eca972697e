-- People roles: has_role for the five roles, asking for artist or host and an admin's review, the
-- platform's grant, revoking, the history role_grants and role_requests keep, the Passport entry and the
-- role.changed notification of each change, my_roles, and who may call and read what: the user, another
-- user, anon, an admin, service_role.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(57);
\ir people_helpers.psql

-- has_role ----------------------------------------------------------------------------------------------
select pg_temp.act_as(:'me');
select is(people.has_role('fan'), true, 'a signed-in user is a fan');
select is(people.has_role('artist'), false, 'and no artist yet');
select is(people.has_role('host', :'other'), false, 'artist and host are asked about anybody');
reset role;
select is(pg_temp.refusal(:'me', format($$select people.has_role('admin', %L)$$, :'admin')),
          '42501 only the user themselves may ask whether they hold the admin role', 'admin is asked by the user only');
select is(pg_temp.refusal(:'me', $$select people.has_role('boss')$$), '22023 unknown role ''boss''', 'unknown roles');
select pg_temp.act_as(:'member');
select is(people.has_role('brand'), true, 'a brand member holds brand');
reset role;
select pg_temp.act_as(:'admin');
select is(people.has_role('admin'), true, 'a Treasury admin holds admin');
reset role;
select pg_temp.act_as(null);
select is(people.has_role('fan'), false, 'anon holds no role');
reset role;
select is(pg_temp.refusal(null, format($$select people.has_role('brand', %L)$$, :'member')),
          '42501 only the user themselves may ask whether they hold the brand role', 'anon asks nobody''s brand role');
select pg_temp.act_as_service();
select is(people.has_role('admin', :'admin'), true, 'service_role asks about anybody''s admin role');
reset role;

-- Asking ------------------------------------------------------------------------------------------------
select pg_temp.act_as(:'me');
select people.request_role('artist', 'I release music as Ada') as req \gset
select is((:'req'::jsonb) - 'request_id' - 'requested_at',
          '{"role": "artist", "status": "pending", "reason": "I release music as Ada", "created": true}'::jsonb,
          'the user asks for the artist role');
select is((people.request_role('artist') ->> 'request_id')::bigint, (:'req'::jsonb ->> 'request_id')::bigint,
          'asking again returns the open request');
select is(people.request_role('artist') ->> 'created', 'false', 'and makes none');
select is((select count(*) from people.role_requests), 1::bigint, 'the user reads their request');
reset role;
select is(pg_temp.refusal(:'me', $$select people.request_role('admin')$$), '22023 the admin role is not granted here',
          'admin is not asked for');
select is(pg_temp.refusal(:'me', $$select people.request_role('brand')$$), '22023 the brand role is not granted here',
          'nor brand');
select is(pg_temp.refusal(:'me', format('select people.request_role(%L, %L)', 'host', repeat('x', 501))),
          '22023 reason must be at most 500 characters', 'reasons are bounded');
select is(pg_temp.refusal(null, $$select people.request_role('artist')$$),
          '42501 permission denied for function request_role', 'anon asks for nothing');
select is((select count(*) from public.passport_entries where user_id = :'me' and kind = 'people.role_requested'),
          1::bigint, 'a request is one people.role_requested entry');

-- Reviewing ---------------------------------------------------------------------------------------------
select is(pg_temp.refusal(:'other', format('select people.review_role_request(%s, true)', :'req'::jsonb ->> 'request_id')),
          '42501 only an admin may review role requests', 'another user reviews nothing');
select is(pg_temp.refusal(:'me', format('select people.review_role_request(%s, true)', :'req'::jsonb ->> 'request_id')),
          '42501 only an admin may review role requests', 'nor the user themselves');
select pg_temp.act_as(:'admin');
select is((select count(*) from people.role_requests where user_id = :'me' and status = 'pending'), 1::bigint,
          'an admin reads the open requests');
select people.review_role_request((:'req'::jsonb ->> 'request_id')::bigint, true, 'Welcome') as reviewed \gset
reset role;
select is(:'reviewed'::jsonb ->> 'status', 'approved', 'the admin approves');
select is(people.has_role('artist', :'me'), true, 'the user is an artist now');
select results_eq(format('select role, granted_by, reason, revoked_at from people.role_grants where user_id = %L', :'me'),
                  format($$values ('artist'::text, %L::uuid, 'Welcome'::text, null::timestamptz)$$, :'admin'),
                  'one grant, by the admin');
select results_eq(format($$select kind, title, payload ->> 'change' from people.notifications where user_id = %L$$, :'me'),
                  $$values ('role.changed'::text, 'You are now an artist on Buckets'::text, 'granted'::text)$$,
                  'the user is told');
select is((select payload ->> 'actor_id' from public.passport_entries where user_id = :'me' and kind = 'people.role_granted'),
          :'admin', 'Passport logs the grant and who made it');
select is(pg_temp.refusal(:'admin', format('select people.review_role_request(%s, false)', :'req'::jsonb ->> 'request_id')),
          format('55000 role request %s is approved already', :'req'::jsonb ->> 'request_id'), 'a request is answered once');
select is(pg_temp.refusal(:'admin', 'select people.review_role_request(-1, true)'), 'P0002 role request -1 not found',
          'unknown requests');
select is(pg_temp.refusal(:'me', $$select people.request_role('artist')$$), '55000 you hold the artist role already',
          'an artist asks no more');

-- Declining, and an admin's own request -----------------------------------------------------------------------
select pg_temp.act_as(:'other');
select people.request_role('host') ->> 'request_id' as host_req \gset
reset role;
select pg_temp.act_as(:'admin');
select people.request_role('host') ->> 'request_id' as admin_req \gset
select is(people.review_role_request(:host_req, false, 'Not a venue') ->> 'status', 'declined', 'the admin declines');
reset role;
select is(pg_temp.refusal(:'admin', format('select people.review_role_request(%s, true)', :'admin_req')),
          '42501 an admin may not review their own role request', 'nobody reviews their own request');
select is(people.has_role('host', :'other'), false, 'declined: no role');
select results_eq(format($$select title, body, payload ->> 'change' from people.notifications where user_id = %L$$, :'other'),
                  $$values ('Your request for the host role was declined'::text, 'Not a venue'::text, 'declined'::text)$$,
                  'the user is told why');
select is((select count(*) from public.passport_entries where user_id = :'other' and kind = 'people.role_request_declined'),
          1::bigint, 'Passport logs the decline');

-- The platform grants (service_role), and approves the open request with it -----------------------------------
select pg_temp.act_as_service();
select people.grant_role(:'admin', 'host', 'Venue onboarded') as platform_grant \gset
select is(:'platform_grant'::jsonb ->> 'created', 'true', 'service_role grants a role');
select is(people.grant_role(:'admin', 'host') ->> 'created', 'false', 'granting it again changes nothing');
select results_eq(format('select status, reviewed_by, grant_id from people.role_requests where id = %s', :'admin_req'),
                  format($$values ('approved'::text, null::uuid, %s::bigint)$$, :'platform_grant'::jsonb ->> 'grant_id'),
                  'the open request is approved with the grant, by the platform');
select throws_ok(format($$select people.grant_role(%L, 'fan')$$, :'other'), '22023', 'the fan role is not granted here',
                 'fan is not granted');
select throws_ok($$select people.grant_role(null, 'artist')$$, '22023', 'user_id is required', 'a grant names a user');
reset role;
select is(pg_temp.refusal(:'me', format($$select people.grant_role(%L, 'artist')$$, :'other')),
          '42501 only an admin may grant roles', 'a user grants nothing');

-- Revoking ----------------------------------------------------------------------------------------------
select is(pg_temp.refusal(:'other', format($$select people.revoke_role(%L, 'artist')$$, :'me')),
          '42501 only an admin may revoke roles', 'a user revokes nothing');
select pg_temp.act_as(:'admin');
select is(people.revoke_role(:'me', 'artist', 'Impersonation') ->> 'role', 'artist', 'an admin revokes');
reset role;
select is(people.has_role('artist', :'me'), false, 'the user is no artist any more');
select results_eq(format('select revoked_by, revoke_reason from people.role_grants where user_id = %L', :'me'),
                  format($$values (%L::uuid, 'Impersonation'::text)$$, :'admin'), 'the grant stays, with who and why');
select is((select title from people.notifications where user_id = :'me' order by id desc limit 1),
          'Your artist role was revoked', 'the user is told');
select is((select count(*) from public.passport_entries where user_id = :'me' and kind = 'people.role_revoked'),
          1::bigint, 'Passport logs the revocation');
select is(pg_temp.refusal(:'admin', format($$select people.revoke_role(%L, 'artist')$$, :'me')),
          format('P0002 user %s does not hold the artist role', :'me'), 'a role not held is not revoked');
select pg_temp.act_as_service();
select is(people.grant_role(:'me', 'artist') ->> 'created', 'true', 'a revoked role may be granted again');
reset role;
select is((select count(*) from people.role_grants where user_id = :'me'), 2::bigint, 'a new grant: the history stays');

-- my_roles and who reads the grants -----------------------------------------------------------------------
select pg_temp.act_as(:'admin');
select results_eq('select role, source from people.my_roles() order by role',
                  $$values ('admin'::text, 'treasury.admins'::text), ('fan', 'signed in'), ('host', 'people.role_grants')$$,
                  'my_roles: each role and where it comes from');
select ok((select count(*) from people.role_grants where user_id in (:'me', :'admin')) = 3, 'an admin reads every grant');
reset role;
select pg_temp.act_as(:'member');
select results_eq('select role from people.my_roles() order by role', $$values ('brand'::text), ('fan')$$,
                  'a brand member');
reset role;
select pg_temp.act_as(:'other');
select is((select count(*) from people.role_grants where user_id = :'me'), 0::bigint, 'another user reads no one''s grants');
select is((select count(*) from people.role_requests where user_id <> :'other'), 0::bigint, 'nor requests');
reset role;
select is(pg_temp.refusal(:'me', format($$insert into people.role_grants (user_id, role) values (%L, 'host')$$, :'me')),
          '42501 permission denied for table role_grants', 'nobody writes a grant directly');
select is(pg_temp.refusal(null, 'select count(*) from people.role_grants'), '42501 permission denied for table role_grants',
          'anon reads no grants');

select * from finish();
rollback;
