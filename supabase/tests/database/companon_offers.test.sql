-- Companon offers: making one (who may, what it must hold), reading them (RLS and the two lists) as every
-- role, the artist's answer and the brand's withdrawal (every role, every state), expiry by date and by the
-- campaign's end, the budget an accept may not pass, and the Passport entry of every transition.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(91);
\ir companon_helpers.psql

-- The SQLSTATE and DETAIL of sql, or null when it runs.
create function pg_temp.refusal(sql text) returns text language plpgsql as $$
declare s text; d text;
begin
  execute sql;
  return null;
exception when others then
  get stacked diagnostics s = returned_sqlstate, d = pg_exception_detail;
  return s || coalesce(' ' || nullif(d, ''), '');
end
$$;
grant execute on function pg_temp.refusal(text) to public;

-- An active campaign of brand_id with budget_minor, as the platform.
create function pg_temp.active_campaign(brand_id uuid, name text, budget_minor bigint default 500000)
returns uuid language plpgsql as $$
declare c uuid;
begin
  c := companon.create_campaign(brand_id, name, 'awareness', budget_minor, 'EUR', now(), now() + interval '30 days',
                                '{"domains": {"A": 1}}', '[{"url": "https://acme.example/summer"}]');
  perform companon.transition_campaign(c, 'submit');
  perform companon.transition_campaign(c, 'approve');
  return c;
end
$$;

select gen_random_uuid() as artist2 \gset
insert into auth.users (id, email) values (:'artist', 'artist@example.test'), (:'artist2', 'artist2@example.test');
select pg_temp.active_campaign(:'brand', 'Summer') as c, pg_temp.campaign(:'brand', 'Draft') as draft \gset
select format('select companon.make_offer(%L, %L, 100000, %L)', :'c', :'artist', 'Two posts') as offer_sql \gset

-- Making an offer -------------------------------------------------------------------------------------
reset role; select pg_temp.act_as(:'viewer');
select is(pg_temp.refusal(:'offer_sql'), '42501', 'a viewer makes no offer');
reset role; select pg_temp.act_as(:'admin_member');
select is(pg_temp.refusal(:'offer_sql'), '42501', 'nor an admin who is a viewer of the brand');
reset role; select pg_temp.act_as(:'admin');
select is(pg_temp.refusal(:'offer_sql'), '42501', 'nor an admin: offers are the brand''s');
reset role; select pg_temp.act_as(:'other_owner');
select is(pg_temp.refusal(:'offer_sql'), 'P0002', 'the owner of another brand is told the campaign is not found');
reset role; select pg_temp.act_as(:'artist');
select is(pg_temp.refusal(:'offer_sql'), 'P0002', 'so is the artist');
reset role; select pg_temp.act_as_role('anon');
select throws_ok(:'offer_sql', '42501', 'permission denied for function make_offer', 'anon may not call it');

reset role; select pg_temp.act_as(:'owner');
select companon.make_offer(:'c', :'artist', 100000, '  Two posts and a mention  ') as o1 \gset
reset role;
select is((select row(campaign_id, brand_id, artist_id, amount_minor, currency::text, terms, state, created_by, accepted_at)::text
           from companon.offers where id = :'o1'),
          row(:'c'::uuid, :'brand'::uuid, :'artist'::uuid, 100000::bigint, 'EUR', 'Two posts and a mention', 'offered',
              :'owner'::uuid, null::timestamptz)::text,
          'an owner makes an offer in the campaign''s currency, its terms trimmed');
select is((select expires_at from companon.offers where id = :'o1'), now() + interval '14 days',
          'it is open 14 days by default');
select is((select row(e.kind, e.user_id, e.artist_id, e.source, e.client_event_id, e.payload)::text
           from public.passport_entries as e
           where e.id = (select passport_entry_id from companon.offer_transitions where offer_id = :'o1' and action = 'create')),
          row('companon.offer_made', :'brand'::uuid, null::uuid, 'companon', 'offer:' || :'o1' || ':1',
              jsonb_build_object('offer_id', :'o1', 'campaign_id', :'c', 'artist_id', :'artist', 'amount_minor', 100000,
                                 'currency', 'EUR', 'actor_id', :'owner'))::text,
          'companon.offer_made is logged under the brand, the artist in the payload only (no fan activity)');

reset role; select pg_temp.act_as(:'manager');
select companon.make_offer(:'c', :'artist2', 50000, 'A post', now() + interval '2 days') as o2 \gset
select is((select row(state, expires_at)::text from companon.offers where id = :'o2'),
          row('offered', now() + interval '2 days')::text, 'a manager makes one too, with its own expiry');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 0, %L)', :'c', :'artist2', 'x')), '22023',
          'the amount must be positive');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 10, %L)', :'c', :'artist2', '  ')), '22023',
          'terms are required');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 10, %L)', :'c', :'artist2', repeat('x', 4001))), '22023',
          'terms are at most 4000 characters');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 10, %L)', :'c', gen_random_uuid(), 'x')), 'P0002 unknown_artist',
          'the artist must be a user');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 10, %L)', :'draft', :'artist2', 'x')),
          '55000 campaign_not_active', 'a draft takes no offers');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 10, %L, now() - interval ''1 hour'')', :'c', :'artist2', 'x')),
          '22023', 'the expiry must be in the future');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 10, %L, now() + interval ''31 days'')', :'c', :'artist2', 'x')),
          '22023', 'and not after the campaign''s end');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 500001, %L)', :'c', gen_random_uuid(), 'x')),
          'P0002 unknown_artist', 'the artist is checked before the budget');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 500001, %L)', :'c', :'artist2', 'x')),
          '55000 budget_exceeded', 'an offer larger than the budget left is refused');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 10, %L)', :'c', :'artist', 'again')),
          '23505 offer_exists', 'one open offer per artist and campaign');
select throws_ok(format('select companon.make_offer(%L, %L, 10, %L)', :'c', :'artist', 'again'), '23505',
                 format('artist %s has an open offer in campaign %s already', :'artist', :'c'), 'the message names both');
reset role;

-- Reading ---------------------------------------------------------------------------------------------
reset role; select pg_temp.act_as(:'owner');
select is((select count(*)::int from companon.offers), 2, 'the owner reads the brand''s offers');
select is((select count(*)::int from companon.offer_transitions), 2, 'and their history');
select is((select array_agg(id order by id) from companon.campaign_offers(:'c')),
          (select array_agg(x order by x) from unnest(array[:'o1', :'o2']::uuid[]) as x), 'campaign_offers lists them');
select is((select count(*)::int from companon.campaign_offers(:'c', 'paid')), 0, 'of a state');
select is(pg_temp.refusal(format('select companon.campaign_offers(%L, %L)', :'c', 'pending')), '22023', 'a state must be one of an offer''s');
reset role; select pg_temp.act_as(:'manager');
select is((select count(*)::int from companon.offers), 2, 'so does a manager');
reset role; select pg_temp.act_as(:'viewer');
select is((select count(*)::int from companon.offers), 2, 'and a viewer');
select is((select count(*)::int from companon.campaign_offers(:'c')), 2, 'who may list them too');
reset role; select pg_temp.act_as(:'admin');
select is((select count(*)::int from companon.offers where brand_id in (:'brand', :'other_brand')), 2,
          'an admin reads every brand''s offers');
select is((select count(*)::int from companon.campaign_offers(:'c')), 2, 'and lists them');
reset role; select pg_temp.act_as(:'other_owner');
select is((select count(*)::int from companon.offers), 0, 'another brand''s owner reads none');
select is((select count(*)::int from companon.offer_transitions), 0, 'nor their history');
select is(pg_temp.refusal(format('select companon.campaign_offers(%L)', :'c')), 'P0002', 'and cannot list them');
reset role; select pg_temp.act_as(:'artist');
select is((select array_agg(id) from companon.offers), array[:'o1']::uuid[], 'the artist reads the offers made to them');
select is((select count(*)::int from companon.offer_transitions), 1, 'and their history');
select is(pg_temp.refusal(format('select companon.campaign_offers(%L)', :'c')), 'P0002', 'but lists no campaign''s offers');
select is((select row(id, brand_name, campaign_name, objective, amount_minor, currency, terms, state)::text from companon.my_offers()),
          row(:'o1'::uuid, 'Acme Drinks', 'Summer', 'awareness', 100000::bigint, 'EUR', 'Two posts and a mention', 'offered')::text,
          'my_offers gives them with the brand and campaign they need to answer');
select is((select count(*)::int from companon.my_offers('declined')), 0, 'of a state');
select is(pg_temp.refusal('select companon.my_offers(''nope'')'), '22023', 'a known state');
reset role; select pg_temp.act_as(:'artist2');
select is((select array_agg(id) from companon.offers), array[:'o2']::uuid[], 'another artist reads only theirs');
reset role; select pg_temp.act_as(:'owner');
select is((select count(*)::int from companon.my_offers()), 0, 'a brand member is made no offers');
reset role; select pg_temp.act_as_role('anon');
select throws_ok('select count(*) from companon.offers', '42501', 'permission denied for table offers', 'anon reads no offers');
select throws_ok('select count(*) from companon.offer_transitions', '42501', 'permission denied for table offer_transitions',
                 'nor their history');
select throws_ok('select count(*) from companon.my_offers()', '42501', 'permission denied for function my_offers', 'nor lists');
reset role; select pg_temp.act_as_role('authenticated');
select throws_ok('select count(*) from companon.my_offers()', '42501', 'sign in to read your offers', 'my_offers needs a user');
reset role;

-- Answering and withdrawing ---------------------------------------------------------------------------
reset role; select pg_temp.act_as(:'owner');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'accept')), '42501',
          'the brand cannot accept for the artist');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'take')), '22023', 'an unknown action');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L, %L)', :'o1', 'decline', repeat('x', 501))), '22023',
          'a reason is at most 500 characters');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', gen_random_uuid(), 'withdraw')), 'P0002',
          'an unknown offer is not found');
reset role; select pg_temp.act_as(:'viewer');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'withdraw')), '42501', 'a viewer withdraws nothing');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'decline')), '42501', 'nor declines');
reset role; select pg_temp.act_as(:'other_owner');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'withdraw')), 'P0002',
          'another brand''s owner is told it is not found');
reset role; select pg_temp.act_as(:'artist2');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'accept')), 'P0002',
          'so is another artist');
reset role; select pg_temp.act_as(:'artist');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'withdraw')), '42501',
          'the artist withdraws nothing');
reset role; select pg_temp.act_as_role('anon');
select throws_ok(format('select companon.transition_offer(%L, %L)', :'o1', 'accept'), '42501',
                 'permission denied for function transition_offer', 'anon may not call it');

reset role; select pg_temp.act_as(:'artist');
select is(companon.transition_offer(:'o1', 'accept'), 'accepted', 'the artist accepts');
reset role;
select is((select row(state, accepted_at, state_changed_at)::text from companon.offers where id = :'o1'),
          row('accepted', now(), now())::text, 'accepted_at: the sponsorship starts');
select is((select row(e.kind, e.user_id, e.client_event_id, e.payload)::text from public.passport_entries as e
           where e.id = (select passport_entry_id from companon.offer_transitions where offer_id = :'o1' and action = 'accept')),
          row('companon.offer_accepted', :'brand'::uuid, 'offer:' || :'o1' || ':2',
              jsonb_build_object('offer_id', :'o1', 'campaign_id', :'c', 'artist_id', :'artist', 'from_state', 'offered',
                                 'amount_minor', 100000, 'currency', 'EUR', 'actor_id', :'artist'))::text,
          'companon.offer_accepted names the artist as who acted');
select is((select row(action, from_state, to_state, actor, actor_id)::text from companon.offer_transitions
           where offer_id = :'o1' order by id desc limit 1),
          row('accept', 'offered', 'accepted', 'artist', :'artist'::uuid)::text, 'the history says so');
reset role; select pg_temp.act_as(:'artist');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'accept')), '55000 invalid_transition',
          'an accepted offer is not accepted twice');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'decline')), '55000 invalid_transition',
          'nor declined');
reset role; select pg_temp.act_as(:'owner');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o1', 'withdraw')), '55000 invalid_transition',
          'nor withdrawn: the brand pays it');

reset role; select pg_temp.act_as(:'artist2');
select is(companon.transition_offer(:'o2', 'decline', '  Not my audience  '), 'declined', 'another artist declines theirs');
reset role;
select is((select row(state, reason, accepted_at)::text from companon.offers where id = :'o2'),
          row('declined', 'Not my audience', null::timestamptz)::text, 'with the reason given');
reset role; select pg_temp.act_as(:'manager');
select companon.make_offer(:'c', :'artist2', 60000, 'Two posts then') as o3 \gset
select ok(:'o3' is not null, 'a declined offer leaves room for a new one');
select is(companon.transition_offer(:'o3', 'withdraw', 'Budget moved'), 'withdrawn', 'a manager withdraws an offer');
select companon.make_offer(:'c', :'artist2', 60000, 'Three posts') as o4 \gset
reset role; select pg_temp.act_as(:'admin');
select is(companon.transition_offer(:'o4', 'withdraw', 'Terms break the rules'), 'withdrawn', 'so does an admin');
reset role;
select is((select array_agg(row(action, actor, reason)::text order by id) from companon.offer_transitions where offer_id in (:'o3', :'o4') and action = 'withdraw'),
          array[row('withdraw', 'manager', 'Budget moved')::text, row('withdraw', 'admin', 'Terms break the rules')::text],
          'each withdrawal says who and why');
reset role; select pg_temp.act_as(:'artist2');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o4', 'accept')), '55000 invalid_transition',
          'a withdrawn offer cannot be accepted');
reset role;

-- Expiry ----------------------------------------------------------------------------------------------
reset role; select pg_temp.act_as(:'owner');
select companon.make_offer(:'c', :'artist2', 10000, 'Quick one') as o5 \gset
reset role;
update companon.offers set created_at = now() - interval '2 days', expires_at = now() - interval '1 day' where id = :'o5';
reset role; select pg_temp.act_as(:'artist2');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o5', 'accept')), '55000 offer_expired',
          'an offer past its expiry cannot be accepted, before the job runs');
reset role;
select is(companon_private.expire_offers(), 1, 'the job expires it');
select is((select row(state, reason)::text from companon.offers where id = :'o5'), row('expired', 'the offer ran out')::text,
          'saying why');
select is((select row(action, actor, actor_id)::text from companon.offer_transitions where offer_id = :'o5' order by id desc limit 1),
          row('expire', 'platform', null::uuid)::text, 'as the platform');
select is(companon_private.expire_offers(), 0, 'a second run finds nothing');

select pg_temp.active_campaign(:'brand', 'Short') as c_short \gset
reset role; select pg_temp.act_as(:'manager');
select companon.make_offer(:'c_short', :'artist', 1000, 'One post') as o6 \gset
select companon.make_offer(:'c_short', :'artist2', 1000, 'One post') as o7 \gset
select companon.transition_campaign(:'c_short', 'pause') as _paused \gset
reset role; select pg_temp.act_as(:'artist');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'o6', 'accept')), '55000 campaign_not_active',
          'an offer of a paused campaign waits');
select is(companon.transition_offer(:'o6', 'decline'), 'declined', 'but may be declined');
reset role; select pg_temp.act_as(:'manager');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 10, %L)', :'c_short', gen_random_uuid(), 'x')),
          'P0002 unknown_artist', 'unknown artists first');
select companon.transition_campaign(:'c_short', 'cancel') as _cancelled \gset
reset role;
select is(companon_private.expire_offers(), 1, 'cancelling the campaign expires its open offers at the next run');
select is((select row(state, reason)::text from companon.offers where id = :'o7'),
          row('expired', 'the campaign was cancelled')::text, 'saying why');

-- The budget ------------------------------------------------------------------------------------------
select pg_temp.active_campaign(:'brand', 'Tight', 300000) as c_tight \gset
select gen_random_uuid() as artist3 \gset
insert into auth.users (id, email) values (:'artist3', 'artist3@example.test');
reset role; select pg_temp.act_as(:'owner');
select companon.make_offer(:'c_tight', :'artist', 200000, 'Big') as t1 \gset
select companon.make_offer(:'c_tight', :'artist2', 200000, 'Big too') as t2 \gset
select ok(:'t2' is not null, 'offers may promise more than the budget together: the accepts decide');
reset role; select pg_temp.act_as(:'artist');
select is(companon.transition_offer(:'t1', 'accept'), 'accepted', 'the first accept commits 200000 of 300000');
reset role; select pg_temp.act_as(:'artist2');
select is(pg_temp.refusal(format('select companon.transition_offer(%L, %L)', :'t2', 'accept')), '55000 budget_exceeded',
          'the second would commit 400000: refused');
select throws_ok(format('select companon.transition_offer(%L, %L)', :'t2', 'accept'), '55000',
                 format('accepting offer %s (200000 EUR) would commit 400000 of campaign %s''s budget of 300000 (200000 committed)',
                        :'t2', :'c_tight'),
                 'the message gives the figures');
select is((select state from companon.offers where id = :'t2'), 'offered', 'it stays offered');
reset role; select pg_temp.act_as(:'owner');
select is(pg_temp.refusal(format('select companon.make_offer(%L, %L, 100001, %L)', :'c_tight', :'artist3', 'x')),
          '55000 budget_exceeded', 'a new offer must fit in what is not committed');
select companon.make_offer(:'c_tight', :'artist3', 100000, 'Exactly the rest') as t3 \gset
reset role; select pg_temp.act_as(:'artist3');
select is(companon.transition_offer(:'t3', 'accept'), 'accepted', 'an accept up to the budget exactly is taken');
reset role;
select is(companon_private.committed(:'c_tight'), 300000::bigint, 'the campaign has committed its whole budget');
select is(companon.transition_offer(:'t2', 'decline', 'no budget left'), 'declined', 'the platform may answer for the artist');
select is((select row(action, actor, actor_id)::text from companon.offer_transitions where offer_id = :'t2' order by id desc limit 1),
          row('decline', 'platform', null::uuid)::text, 'recorded as the platform');

-- The sponsored artists of a campaign (what measurement reads): accepted or paid, since accepted_at.
select is((select array_agg(artist_id order by artist_id) from companon.offers
           where campaign_id = :'c_tight' and state in ('accepted', 'paid')),
          (select array_agg(a order by a) from unnest(array[:'artist', :'artist3']::uuid[]) as a),
          'the campaign sponsors the two artists who accepted');

select * from finish();
rollback;
