-- Treasury: split rules and products. define_split_rule checks the parties and names the
-- first problem; shares summing to 10,000 basis points are also enforced at commit for rows
-- written directly; products carry a type, an owner and a split rule.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(22);

select gen_random_uuid() as artist, gen_random_uuid() as host \gset

create function pg_temp.commit_check()
returns void
language plpgsql
as $$
begin
  set constraints treasury.split_rules_complete, treasury.split_rule_parties_sum immediate;
  set constraints treasury.split_rules_complete, treasury.split_rule_parties_sum deferred;
end
$$;

-- define_split_rule ------------------------------------------------------------------------------

select treasury.define_split_rule('artist 85 / platform 15', jsonb_build_array(
  jsonb_build_object('party_id', :'artist', 'role', 'artist', 'share_bp', 8500),
  jsonb_build_object('role', 'platform', 'share_bp', 1500))) as rule \gset
select results_eq(
  format('select position::int, party_id, role, share_bp from treasury.split_rule_parties where rule_id = %L order by position', :'rule'),
  format($$values (1, %L::uuid, 'artist', 8500), (2, null::uuid, 'platform', 1500)$$, :'artist'),
  'the parties in array order; the platform without a party_id'
);
select is((select name from treasury.split_rules where id = :'rule'), 'artist 85 / platform 15', 'the rule is named');
select lives_ok($$select pg_temp.commit_check()$$, 'it is complete at commit');
select lives_ok(
  format($$select treasury.define_split_rule('zero share', '[{"party_id": %I, "role": "artist", "share_bp": 10000}, {"party_id": %I, "role": "host", "share_bp": 0}]')$$,
         :'artist', :'host'),
  'a party may have a zero share'
);

select throws_ok($$select treasury.define_split_rule('x', '[]')$$, '22023',
                 'parties must be a JSON array of 1 to 100 {"party_id", "role", "share_bp"} objects', 'a rule needs a party');
select throws_ok($$select treasury.define_split_rule('', '[{"role": "platform", "share_bp": 10000}]')$$, '22023',
                 'name must be a string of 1 to 200 characters', 'a rule needs a name');
select throws_ok($$select treasury.define_split_rule('x', '[{"role": "platform", "share_bp": 10000}, 5]')$$, '22023',
                 'parties[1] must be an object {"party_id", "role", "share_bp"}', 'each party is an object');
select throws_ok($$select treasury.define_split_rule('x', '[{"party_id": "c0000000-0000-4000-8000-000000000001", "role": "label", "share_bp": 10000}]')$$,
                 '22023', 'parties[0] role must be one of artist, host, platform, other', 'roles are artist, host, platform, other');
select throws_ok($$select treasury.define_split_rule('x', '[{"role": "artist", "share_bp": 10000}]')$$, '22023',
                 'parties[0] party_id must be a user''s UUID', 'an artist party needs a user');
select throws_ok($$select treasury.define_split_rule('x', '[{"party_id": "c0000000-0000-4000-8000-000000000001", "role": "platform", "share_bp": 10000}]')$$,
                 '22023', 'parties[0] party_id must be null for the platform', 'the platform is no user');
select throws_ok($$select treasury.define_split_rule('x', '[{"role": "platform", "share_bp": 10001}]')$$, '22023',
                 'parties[0] share_bp must be an integer from 0 to 10000', 'a share is at most 10000');
select throws_ok($$select treasury.define_split_rule('x', '[{"role": "platform", "share_bp": "all"}]')$$, '22023',
                 'parties[0] share_bp must be an integer from 0 to 10000', 'a share is an integer');
select throws_ok(
  format($$select treasury.define_split_rule('x', '[{"party_id": %I, "role": "artist", "share_bp": 7000}, {"role": "platform", "share_bp": 2999}]')$$, :'artist'),
  '22023', 'the shares sum to 9999 basis points, not 10000', 'shares must sum to 10000');
select throws_ok(
  format($$select treasury.define_split_rule('x', '[{"party_id": %1$I, "role": "artist", "share_bp": 5000}, {"party_id": %1$I, "role": "artist", "share_bp": 5000}]')$$, :'artist'),
  '22023', format('%s appears twice as artist', :'artist'), 'a party appears once per role');

-- At commit, for rows written directly ------------------------------------------------------------

select throws_ok(
  format($$update treasury.split_rule_parties set share_bp = 8000 where rule_id = %L and position = 1;
           select pg_temp.commit_check()$$, :'rule'),
  '23514', format('the shares of split rule %s sum to 9500 basis points, not 10000', :'rule'),
  'changing a share so that the sum is off is refused at commit'
);
select throws_ok(
  format($$delete from treasury.split_rule_parties where rule_id = %L and position = 2;
           select pg_temp.commit_check()$$, :'rule'),
  '23514', format('the shares of split rule %s sum to 8500 basis points, not 10000', :'rule'),
  'so is removing a party'
);
select throws_like(
  $$insert into treasury.split_rules (name) values ('empty'); select pg_temp.commit_check()$$,
  'the shares of split rule % sum to 0 basis points, not 10000',
  'a rule without parties is refused at commit'
);
select lives_ok(
  format($$update treasury.split_rule_parties set share_bp = case position when 1 then 9000 else 1000 end where rule_id = %L;
           select pg_temp.commit_check()$$, :'rule'),
  'moving shares between parties keeps the sum'
);
select throws_ok(
  format($$insert into treasury.split_rule_parties (rule_id, position, party_id, role, share_bp) values (%L, 3, %L, 'platform', 0)$$,
         :'rule', :'host'),
  '23514', null, 'the platform party has no user (check constraint)'
);

-- Products -------------------------------------------------------------------------------------------

select lives_ok(
  format($$insert into treasury.products (type, title, artist_id, price_minor, currency, split_rule_id)
           values ('tip', 'Tip jar', %L, null, 'GHS', %L)$$, :'artist', :'rule'),
  'a tip jar: the buyer chooses the amount'
);
select throws_ok(
  format($$insert into treasury.products (type, title, artist_id, price_minor, currency, split_rule_id)
           values ('nft', 'x', %L, 100, 'EUR', %L)$$, :'artist', :'rule'),
  '23514', null, 'products are tickets, memberships, drops, merch or tips'
);
select throws_ok(
  format($$insert into treasury.products (type, title, price_minor, currency, split_rule_id)
           values ('merch', 'x', 100, 'EUR', %L)$$, :'rule'),
  '23514', null, 'a product has an artist or a host'
);

select * from finish();
rollback;
