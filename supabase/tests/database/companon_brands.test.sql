-- Companon brands and their people: creating a brand (its creator is its first owner), adding members,
-- changing roles, removing them and leaving, and the rule that a brand always keeps an owner.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(38);
\ir companon_helpers.psql

-- Creating a brand ----------------------------------------------------------------------------------
select pg_temp.act_as(:'artist');
select companon.create_brand('  Artist Merch  ') as mine \gset
select is((select name from companon.brands where id = :'mine'), 'Artist Merch', 'the name is stored trimmed');
select is((select created_by from companon.brands where id = :'mine'), :'artist'::uuid, 'the creator is recorded');
select is((select array_agg(row(user_id, role, added_by)::text) from companon.brand_members where brand_id = :'mine'),
          array[row(:'artist'::uuid, 'owner', :'artist'::uuid)::text], 'the creator is its only member, an owner');
select is(companon.create_brand('Artist Merch', :'artist') is not null, true, 'naming oneself as the owner is fine');
select throws_ok(format($$select companon.create_brand('x', %L)$$, :'owner'), '42501', 'the creator of a brand is its first owner',
                 'a user cannot create a brand for someone else');
select throws_ok($$select companon.create_brand('   ')$$, '22023', 'name must be a string of 1 to 200 characters', 'a blank name');
select throws_ok($$select companon.create_brand(null)$$, '22023', 'name must be a string of 1 to 200 characters', 'no name');
select throws_ok(format('select companon.create_brand(%L)', repeat('x', 201)), '22023',
                 'name must be a string of 1 to 200 characters', 'a name too long');
reset role;

select pg_temp.act_as_role('service_role');
select companon.create_brand('Made for you', :'artist') as made \gset
select is((select array_agg(row(user_id, role, added_by)::text) from companon.brand_members where brand_id = :'made'),
          array[row(:'artist'::uuid, 'owner', null::uuid)::text], 'the platform creates a brand for its owner (added_by null)');
reset role;

-- Adding members ------------------------------------------------------------------------------------
select pg_temp.act_as(:'owner');
select is(companon.add_member(:'brand', :'artist'), true, 'an owner adds a member');
select is((select role from companon.brand_members where brand_id = :'brand' and user_id = :'artist'), 'viewer',
          'as a viewer by default');
select is((select added_by from companon.brand_members where brand_id = :'brand' and user_id = :'artist'), :'owner'::uuid,
          'recording who added them');
select is(companon.add_member(:'brand', :'artist', 'viewer'), false, 'adding them again with the same role changes nothing');
select throws_ok(format($$select companon.add_member(%L, %L, 'manager')$$, :'brand', :'artist'), '23505',
                 format('user %s is already a viewer of brand %s', :'artist', :'brand'), 'with another role it is refused');
select throws_ok(format($$select companon.add_member(%L, %L, 'boss')$$, :'brand', :'other_owner'), '22023',
                 'role must be owner, manager or viewer', 'an unknown role');
select throws_ok(format($$select companon.add_member(%L, null)$$, :'brand'), '22023', 'user_id is required', 'no user');
select throws_ok(format($$select companon.add_member(%L, %L)$$, gen_random_uuid(), :'artist'), 'P0002', null,
                 'an unknown brand');

-- Roles -----------------------------------------------------------------------------------------------
select is(companon.set_member_role(:'brand', :'artist', 'manager'), 'viewer', 'set_member_role returns the old role');
select is((select role from companon.brand_members where brand_id = :'brand' and user_id = :'artist'), 'manager', 'and sets the new');
select is(companon.set_member_role(:'brand', :'artist', 'manager'), 'manager', 'setting the same role again is fine');
select throws_ok(format($$select companon.set_member_role(%L, %L, 'owner')$$, :'brand', :'other_owner'), 'P0002',
                 format('user %s is not a member of brand %s', :'other_owner', :'brand'), 'a non-member has no role to change');
select throws_ok(format($$select companon.set_member_role(%L, %L, 'viewer')$$, :'brand', :'owner'), '55000',
                 format('user %s is the last owner of brand %s', :'owner', :'brand'), 'the last owner cannot step down');
select is(companon.set_member_role(:'brand', :'artist', 'owner'), 'manager', 'a second owner');
select is(companon.set_member_role(:'brand', :'owner', 'manager'), 'owner', 'lets the first one step down');
reset role;

-- Removing members and leaving ------------------------------------------------------------------------
select pg_temp.act_as(:'artist');
select is(companon.remove_member(:'brand', :'other_owner'), false, 'removing a non-member answers false');
select throws_ok(format($$select companon.remove_member(%L, %L)$$, :'brand', :'artist'), '55000',
                 format('user %s is the last owner of brand %s', :'artist', :'brand'), 'the last owner cannot leave');
select throws_ok(format($$select companon.remove_member(%L, %L)$$, :'brand', :'artist'), '55000', null, 'with a stable detail');
reset role;

select pg_temp.act_as(:'viewer');
select throws_ok(format($$select companon.remove_member(%L, %L)$$, :'brand', :'manager'), '42501',
                 format('only an owner of brand %s manages its members', :'brand'), 'a viewer cannot remove others');
select is(companon.remove_member(:'brand', :'viewer'), true, 'but may leave');
select is((select count(*)::int from companon.brands where id = :'brand'), 0, 'and reads the brand no more');
select throws_ok(format($$select companon.remove_member(%L, %L)$$, :'brand', :'viewer'), 'P0002',
                 format('brand %s not found', :'brand'), 'nor acts on it');
reset role;

select pg_temp.act_as(:'owner');
select is(companon.remove_member(:'brand', :'owner'), true, 'a manager (the former owner) may leave too');
reset role;

select pg_temp.act_as(:'artist');
select is(companon.remove_member(:'brand', :'manager'), true, 'the owner removes a manager');
select is((select array_agg(user_id order by user_id) from companon.brand_members where brand_id = :'brand'),
          (select array_agg(u order by u) from unnest(array[:'artist', :'admin_member']::uuid[]) as u),
          'who is left: the owner and the admin who views it');
select is((select array_agg(role order by role) from companon.brand_members where brand_id = :'brand'), array['owner', 'viewer'],
          'an owner and a viewer');
reset role;

-- The detail codes the app switches on.
create function pg_temp.detail_of(sql text) returns text language plpgsql as $$
declare d text;
begin
  execute sql;
  return null;
exception when others then
  get stacked diagnostics d = pg_exception_detail;
  return d;
end
$$;
select is(pg_temp.detail_of(format($$select companon.remove_member(%L, %L)$$, :'brand', :'artist')), 'last_owner',
          'DETAIL last_owner (the platform is refused too)');
select is(pg_temp.detail_of(format($$select companon.add_member(%L, %L, 'owner')$$, :'brand', :'admin_member')), 'already_member',
          'DETAIL already_member');
select is((select role from companon.brand_members where brand_id = :'brand' and user_id = :'artist'), 'owner',
          'and the brand still has its owner');

select * from finish();
rollback;
