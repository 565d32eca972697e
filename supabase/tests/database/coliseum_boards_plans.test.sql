-- Coliseum boards: the plans, coliseum.set_plan (service role only, logs
-- system.plan_changed to Passport), and who reads coliseum.user_plans.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(26);

select gen_random_uuid() as fan, gen_random_uuid() as other \gset

select results_eq(
  $$select plan, depth, domains from coliseum.plans order by depth nulls last, plan$$,
  $$values ('free', 10, array['A']), ('basic', 25, array['A']), ('public', 50, array['A']),
           ('pro', 100, array['A', 'T', 'G', 'C', 'overall']), ('enterprise', null::int, array['A', 'T', 'G', 'C', 'overall'])$$,
  'the plans: depth and boards'
);

-- Only the service role sets plans -------------------------------------------------------

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok(format($$select coliseum.set_plan(%L, 'pro')$$, :'fan'), '42501',
                 'permission denied for function set_plan', 'anon cannot set a plan');
reset role;

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true) is not null as set \gset
select throws_ok(format($$select coliseum.set_plan(%L, 'enterprise')$$, :'fan'), '42501',
                 'permission denied for function set_plan', 'a user cannot set their own plan');
reset role;

set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';

select is(coliseum.set_plan(:'fan', 'pro'), 'pro', 'service_role sets pro');
select is((select plan from coliseum.user_plans where user_id = :'fan'), 'pro', 'the plan is stored');
select results_eq(
  format($$select kind, source, payload, artist_id from public.passport_entries where user_id = %L order by id$$, :'fan'),
  $$values ('system.plan_changed', 'system', '{"plan": "pro"}'::jsonb, null::uuid)$$,
  'the change is logged to Passport as system.plan_changed'
);
select is(coliseum.set_plan(:'fan', 'pro'), 'pro', 'setting the same plan again');
select is((select count(*) from public.passport_entries where user_id = :'fan'), 1::bigint,
          'is no change and logs nothing');
select is(coliseum.set_plan(:'fan', 'Enterprise'), 'enterprise', 'plan names are case-insensitive');
select is(coliseum.set_plan(:'other', 'basic'), 'basic', 'another user gets basic');
select is(coliseum.set_plan(:'fan', null), 'free', 'null removes the plan');
select is((select count(*) from coliseum.user_plans where user_id = :'fan'), 0::bigint, 'no row is left');
select is(coliseum.set_plan(:'fan', 'free'), 'free', 'free is already in force');
select is(
  (select array_agg(payload ->> 'plan' order by id) from public.passport_entries
   where user_id = :'fan' and kind = 'system.plan_changed'),
  array['pro', 'enterprise', 'free'],
  'each change, and only a change, is logged, with the plan now in force'
);
select is(coliseum.set_plan(:'fan', 'basic'), 'basic', 'a user can come back to a plan');
select is((select count(*) from public.passport_entries where user_id = :'fan'), 4::bigint,
          'and that is logged as well');
select throws_ok(format($$select coliseum.set_plan(%L, 'public')$$, :'fan'), '22023',
                 'plan must be basic, pro, enterprise, or free (or null), got "public"', 'public is not a plan to set');
select throws_ok(format($$select coliseum.set_plan(%L, 'gold')$$, :'fan'), '22023',
                 'plan must be basic, pro, enterprise, or free (or null), got "gold"', 'an unknown plan is refused');
select throws_ok($$select coliseum.set_plan(null, 'pro')$$, '22023', 'user_id is required', 'a user is required');
select is((select count(*) from coliseum.user_plans where user_id in (:'fan', :'other')), 2::bigint,
          'service_role reads every plan');
reset role;

-- A user reads their own plan, and reads under it ------------------------------------------

set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true) is not null as set \gset
select results_eq($$select user_id, plan from coliseum.user_plans$$,
                  format($$values (%L::uuid, 'basic')$$, :'fan'),
                  'a user sees their own plan row and no other');
select is(coliseum.my_plan(), 'basic', 'and reads under it');
select throws_ok($$select * from coliseum.leaderboard('A', '7d', 26)$$, '42501',
                 'ranks beyond 25 need the pro plan (your plan: basic)', 'the RPC applies it');
reset role;

set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select ok((select count(*) = 5 from coliseum.plans), 'anon reads the plans');
reset role;

-- Going back to free takes effect at once.
select coliseum.set_plan(:'fan', null) is not null as set \gset
set local role authenticated;
select set_config('request.jwt.claims', json_build_object('sub', :'fan', 'role', 'authenticated')::text, true) is not null as set \gset
select is(coliseum.my_plan(), 'free', 'a removed plan reads as free');
select is((select count(*) from coliseum.user_plans), 0::bigint, 'and the user has no row');
reset role;

select * from finish();
rollback;
