-- Companon: who reads and calls what, as the API roles (SET ROLE plus the JWT claims, as PostgREST does).
-- A brand's rows (the brand, its members, its campaigns and their transitions) are read by its members,
-- whatever their role, and by admins; the reference tables by everybody; service_role reads everything.
-- Nobody writes a Companon table directly: owners and managers go through the functions, which also
-- decide who may do what (docs/companon.md#roles).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(103);
\ir companon_helpers.psql

select pg_temp.campaign(:'brand') as c1, pg_temp.campaign(:'other_brand', 'Elsewhere') as c2 \gset
select companon.transition_campaign(:'c2', 'submit') as _submitted \gset

-- The rows each reader should see, counted as the platform.
select count(*) as transitions_of_brand from companon.campaign_transitions where brand_id = :'brand' \gset

-- What the schema promises ---------------------------------------------------------------------------
select is((select array_agg(c.relname::text) from pg_class as c
           where c.relnamespace in ('companon'::regnamespace, 'companon_private'::regnamespace) and c.relkind = 'r'
             and not c.relrowsecurity),
          null, 'row level security is on for every Companon table');
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc as p
           where p.pronamespace in ('companon'::regnamespace, 'companon_private'::regnamespace)
             and has_function_privilege('anon', p.oid, 'execute')),
          null, 'anon may execute no Companon function');
select is((select array_agg(p.oid::regprocedure::text order by 1) from pg_proc as p
           where p.pronamespace = 'companon_private'::regnamespace
             and (has_function_privilege('authenticated', p.oid, 'execute') or has_function_privilege('service_role', p.oid, 'execute'))),
          null, 'the API roles may execute no private function');

-- anon ---------------------------------------------------------------------------------------------
select pg_temp.act_as_role('anon');
select is((select count(*)::int from companon.dna_components), 22, 'anon reads the DNA components a target may weight');
select is((select array_agg(band order by position) from companon.size_bands), array['emerging', 'rising', 'established', 'star'],
          'and the size bands');
select throws_ok('select count(*) from companon.brands', '42501', 'permission denied for table brands', 'anon reads no brands');
select throws_ok('select count(*) from companon.brand_members', '42501', 'permission denied for table brand_members', 'no members');
select throws_ok('select count(*) from companon.campaigns', '42501', 'permission denied for table campaigns', 'no campaigns');
select throws_ok('select count(*) from companon.campaign_transitions', '42501',
                 'permission denied for table campaign_transitions', 'no transitions');
select throws_ok($$select companon.create_brand('x')$$, '42501', 'permission denied for function create_brand',
                 'anon cannot create a brand');
select throws_ok(format($$select companon.add_member(%L, %L, 'viewer')$$, :'brand', :'artist'), '42501',
                 'permission denied for function add_member', 'nor add members');
select throws_ok(format($$select companon.remove_member(%L, %L)$$, :'brand', :'viewer'), '42501',
                 'permission denied for function remove_member', 'nor remove them');
select throws_ok(format($$select companon.set_member_role(%L, %L, 'owner')$$, :'brand', :'viewer'), '42501',
                 'permission denied for function set_member_role', 'nor change roles');
select throws_ok(format($$select companon.create_campaign(%L, 'x', 'awareness', 1, 'EUR', now(), now() + interval '1 day', '{"domains": {"A": 1}}')$$, :'brand'),
                 '42501', 'permission denied for function create_campaign', 'nor create campaigns');
select throws_ok(format($$select companon.update_campaign(%L, name => 'x')$$, :'c1'), '42501',
                 'permission denied for function update_campaign', 'nor edit them');
select throws_ok(format($$select companon.transition_campaign(%L, 'submit')$$, :'c1'), '42501',
                 'permission denied for function transition_campaign', 'nor move them');
select throws_ok('select companon.my_brands()', '42501', 'permission denied for function my_brands', 'nor list brands');
select throws_ok(format('select companon.my_role(%L)', :'brand'), '42501', 'permission denied for function my_role',
                 'nor ask for a role');
reset role;

-- Every member reads the brand's rows, and only its --------------------------------------------------
select pg_temp.act_as(:'owner');
select is((select array_agg(id) from companon.brands), array[:'brand']::uuid[], 'the owner reads their brand only');
select is((select count(*)::int from companon.brand_members), 4, 'its four members');
select is((select array_agg(id) from companon.campaigns), array[:'c1']::uuid[], 'its campaigns');
select is((select count(*) from companon.campaign_transitions), :'transitions_of_brand'::bigint, 'and their transitions');
select is((select count(*)::int from companon.dna_components), 22, 'and the reference data');
select is(companon.my_role(:'brand'), 'owner', 'my_role says owner');
select is(companon.my_role(:'other_brand'), null, 'and nothing for another brand');
select is((select array_agg(b) from companon.my_brands() as b), array[:'brand']::uuid[], 'my_brands lists it');
reset role;

select pg_temp.act_as(:'manager');
select is((select array_agg(id) from companon.brands), array[:'brand']::uuid[], 'a manager reads the brand');
select is((select count(*)::int from companon.brand_members), 4, 'its members');
select is((select array_agg(id) from companon.campaigns), array[:'c1']::uuid[], 'its campaigns');
select is((select count(*) from companon.campaign_transitions), :'transitions_of_brand'::bigint, 'and transitions');
select is(companon.my_role(:'brand'), 'manager', 'my_role says manager');
reset role;

select pg_temp.act_as(:'viewer');
select is((select array_agg(id) from companon.brands), array[:'brand']::uuid[], 'a viewer reads the brand');
select is((select count(*)::int from companon.brand_members), 4, 'its members');
select is((select array_agg(id) from companon.campaigns), array[:'c1']::uuid[], 'its campaigns');
select is((select count(*) from companon.campaign_transitions), :'transitions_of_brand'::bigint, 'and transitions');
select is(companon.my_role(:'brand'), 'viewer', 'my_role says viewer');
reset role;

select pg_temp.act_as(:'other_owner');
select is((select array_agg(id) from companon.brands), array[:'other_brand']::uuid[], 'another brand''s owner reads theirs only');
select is((select array_agg(user_id) from companon.brand_members), array[:'other_owner']::uuid[], 'its one member');
select is((select array_agg(id) from companon.campaigns), array[:'c2']::uuid[], 'its campaign, not ours');
select is((select count(*)::int from companon.campaign_transitions where brand_id = :'brand'), 0, 'none of our transitions');
select is(companon.my_role(:'brand'), null, 'and has no role in ours');
reset role;

select pg_temp.act_as(:'artist');
select is((select count(*)::int from companon.brands), 0, 'a user in no brand reads no brand');
select is((select count(*)::int from companon.brand_members), 0, 'no members');
select is((select count(*)::int from companon.campaigns), 0, 'no campaigns');
select is((select count(*)::int from companon.campaign_transitions), 0, 'no transitions');
select is((select count(*)::int from companon.size_bands), 4, 'the reference data');
reset role;

-- Admins read every brand; service_role reads everything --------------------------------------------
select pg_temp.act_as(:'admin');
select ok((select count(*) = 2 from companon.brands where id in (:'brand', :'other_brand')), 'an admin reads every brand');
select is((select count(*)::int from companon.brand_members where brand_id in (:'brand', :'other_brand')), 5, 'all members');
select ok((select count(*) = 2 from companon.campaigns where id in (:'c1', :'c2')), 'all campaigns');
select ok((select count(*) >= 3 from companon.campaign_transitions where campaign_id in (:'c1', :'c2')), 'all transitions');
select is(companon.my_role(:'brand'), null, 'without a role in them');
reset role;

select pg_temp.act_as_role('service_role');
select ok((select count(*) = 2 from companon.brands where id in (:'brand', :'other_brand')), 'service_role reads every brand');
select is((select count(*)::int from companon.brand_members where brand_id in (:'brand', :'other_brand')), 5, 'all members');
select ok((select count(*) = 2 from companon.campaigns where id in (:'c1', :'c2')), 'all campaigns');
select ok((select count(*) >= 3 from companon.campaign_transitions where campaign_id in (:'c1', :'c2')), 'all transitions');
reset role;

-- Nobody writes the tables directly -----------------------------------------------------------------
select pg_temp.act_as(:'owner');
select throws_ok(format($$insert into companon.brand_members (brand_id, user_id, role) values (%L, %L, 'owner')$$, :'brand', :'artist'),
                 '42501', 'permission denied for table brand_members', 'an owner cannot insert a member directly');
select throws_ok(format($$update companon.campaigns set state = 'active' where id = %L$$, :'c1'), '42501',
                 'permission denied for table campaigns', 'nor activate a campaign by hand');
select throws_ok(format($$delete from companon.campaign_transitions where campaign_id = %L$$, :'c1'), '42501',
                 'permission denied for table campaign_transitions', 'nor delete its history');
select throws_ok($$update companon.brands set name = 'x'$$, '42501', 'permission denied for table brands', 'nor rename the brand');
reset role;
select pg_temp.act_as_role('service_role');
select throws_ok($$insert into companon.brands (name, created_by) values ('x', gen_random_uuid())$$, '42501',
                 'permission denied for table brands', 'service_role goes through the functions too');
reset role;

-- The functions, per role ---------------------------------------------------------------------------
-- A member of another brand, or of none, is told the brand or campaign does not exist.
select pg_temp.act_as(:'other_owner');
select throws_ok(format($$select companon.add_member(%L, %L, 'viewer')$$, :'brand', :'artist'), 'P0002',
                 format('brand %s not found', :'brand'), 'another brand''s owner cannot add members to ours');
select throws_ok(format($$select companon.create_campaign(%L, 'x', 'awareness', 1, 'EUR', now(), now() + interval '1 day', '{"domains": {"A": 1}}')$$, :'brand'),
                 'P0002', format('brand %s not found', :'brand'), 'nor create our campaigns');
select throws_ok(format($$select companon.update_campaign(%L, name => 'x')$$, :'c1'), 'P0002',
                 format('campaign %s not found', :'c1'), 'nor edit them');
select throws_ok(format($$select companon.transition_campaign(%L, 'cancel')$$, :'c1'), 'P0002',
                 format('campaign %s not found', :'c1'), 'nor cancel them');
reset role;

select pg_temp.act_as(:'artist');
select throws_ok(format($$select companon.remove_member(%L, %L)$$, :'brand', :'viewer'), 'P0002',
                 format('brand %s not found', :'brand'), 'a user in no brand cannot remove members');
select throws_ok(format($$select companon.transition_campaign(%L, 'submit')$$, :'c1'), 'P0002',
                 format('campaign %s not found', :'c1'), 'nor submit our campaigns');
select throws_ok(format($$select companon.transition_campaign(%L, 'approve')$$, :'c2'), 'P0002',
                 format('campaign %s not found', :'c2'), 'nor approve anything');
select isnt(companon.create_brand('Artist Merch'), null, 'but creates a brand of their own');
select is((select role from companon.brand_members where user_id = :'artist'), 'owner', 'and owns it');
reset role;

select pg_temp.act_as(:'viewer');
select throws_ok(format($$select companon.add_member(%L, %L, 'viewer')$$, :'brand', :'artist'), '42501',
                 format('only an owner of brand %s manages its members', :'brand'), 'a viewer cannot add members');
select throws_ok(format($$select companon.set_member_role(%L, %L, 'owner')$$, :'brand', :'viewer'), '42501',
                 format('only an owner of brand %s manages its members', :'brand'), 'nor promote themselves');
select throws_ok(format($$select companon.create_campaign(%L, 'x', 'awareness', 1, 'EUR', now(), now() + interval '1 day', '{"domains": {"A": 1}}')$$, :'brand'),
                 '42501', format('only an owner or manager of brand %s creates its campaigns', :'brand'), 'nor create campaigns');
select throws_ok(format($$select companon.update_campaign(%L, name => 'x')$$, :'c1'), '42501',
                 format('only an owner or manager of its brand edits campaign %s', :'c1'), 'nor edit them');
select throws_ok(format($$select companon.transition_campaign(%L, 'submit')$$, :'c1'), '42501',
                 format('only an owner or manager of its brand can submit campaign %s', :'c1'), 'nor submit them');
select throws_ok(format($$select companon.transition_campaign(%L, 'cancel')$$, :'c1'), '42501',
                 format('only an owner or manager of its brand can cancel campaign %s', :'c1'), 'nor cancel them');
reset role;

select pg_temp.act_as(:'manager');
select throws_ok(format($$select companon.add_member(%L, %L, 'viewer')$$, :'brand', :'artist'), '42501',
                 format('only an owner of brand %s manages its members', :'brand'), 'a manager cannot add members');
select throws_ok(format($$select companon.remove_member(%L, %L)$$, :'brand', :'viewer'), '42501',
                 format('only an owner of brand %s manages its members', :'brand'), 'nor remove others');
select lives_ok(format($$select companon.update_campaign(%L, name => 'Summer launch')$$, :'c1'), 'but edits a draft');
select isnt(companon.create_campaign(:'brand', 'By the manager', 'engagement', 1000, 'EUR', now(), now() + interval '7 days',
                                     '{"domains": {"T": 1}}'), null, 'creates campaigns');
select is(companon.transition_campaign(:'c1', 'submit'), 'in_review', 'and submits them');
select throws_ok(format($$select companon.transition_campaign(%L, 'approve')$$, :'c1'), '42501',
                 'only an admin reviews campaigns', 'but cannot approve them');
reset role;

select pg_temp.act_as(:'owner');
select throws_ok(format($$select companon.transition_campaign(%L, 'approve')$$, :'c1'), '42501',
                 'only an admin reviews campaigns', 'nor can the owner');
select is(companon.add_member(:'brand', :'artist', 'viewer'), true, 'an owner adds members');
select is(companon.set_member_role(:'brand', :'artist', 'manager'), 'viewer', 'changes their role');
select is(companon.remove_member(:'brand', :'artist'), true, 'and removes them');
reset role;

select pg_temp.act_as(:'admin_member');
select throws_ok(format($$select companon.transition_campaign(%L, 'approve')$$, :'c1'), '42501',
                 format('campaign %s is of a brand you are a member of: another admin reviews it', :'c1'),
                 'an admin who is a member of the brand does not review its campaigns');
reset role;

select pg_temp.act_as(:'admin');
select throws_ok(format($$select companon.add_member(%L, %L, 'viewer')$$, :'brand', :'artist'), '42501',
                 format('only an owner of brand %s manages its members', :'brand'), 'an admin does not manage members');
select throws_ok(format($$select companon.create_campaign(%L, 'x', 'awareness', 1, 'EUR', now(), now() + interval '1 day', '{"domains": {"A": 1}}')$$, :'brand'),
                 '42501', format('only an owner or manager of brand %s creates its campaigns', :'brand'), 'nor creates campaigns');
select throws_ok(format($$select companon.update_campaign(%L, name => 'x')$$, :'c2'), '42501',
                 format('only an owner or manager of its brand edits campaign %s', :'c2'), 'nor edits them');
select throws_ok(format($$select companon.transition_campaign(%L, 'submit')$$, :'c2'), '42501',
                 format('only an owner or manager of its brand can submit campaign %s', :'c2'), 'nor submits them');
select is(companon.transition_campaign(:'c1', 'approve'), 'active', 'an admin approves a campaign in review');
select is(companon.transition_campaign(:'c2', 'reject', 'the link is broken'), 'draft', 'and rejects one, saying why');
select is(companon.transition_campaign(:'c1', 'pause', 'checking a complaint'), 'paused', 'and pauses a running one');
reset role;

select pg_temp.act_as_role('service_role');
select throws_ok($$select companon.create_brand('No owner')$$, '22023', 'owner_id is required when the platform creates a brand',
                 'service_role names the owner of a brand it creates');
select isnt(companon.create_brand('Platform made', :'artist'), null, 'and creates it');
select is(companon.add_member(:'brand', :'artist', 'viewer'), true, 'adds members to any brand');
select is(companon.transition_campaign(:'c1', 'resume'), 'active', 'resumes a campaign an admin paused');
select is((select actor from companon.campaign_transitions where campaign_id = :'c1' order by id desc limit 1), 'platform',
          'recorded as the platform');
select is(companon.transition_campaign(:'c2', 'submit'), 'in_review', 'acts for a brand');
select is(companon.transition_campaign(:'c2', 'approve'), 'active', 'and reviews');
reset role;

-- A signed-in role without a user (a token without sub) is told to sign in.
select set_config('role', 'authenticated', true), set_config('request.jwt.claims', '{"role": "authenticated"}', true)
  \gset _
select throws_ok($$select companon.create_brand('x')$$, '42501', 'sign in to create a brand', 'no user, no brand');
select throws_ok(format($$select companon.transition_campaign(%L, 'pause')$$, :'c1'), '42501', 'sign in to pause a campaign',
                 'no user, no transition');
select throws_ok(format($$select companon.add_member(%L, %L)$$, :'brand', :'artist'), '42501',
                 'sign in to manage a brand''s members', 'no user, no members');
reset role;

select * from finish();
rollback;
