-- People feeds from the money systems, each through its real call and in its transaction: a payout paid
-- (Stripe's payout.paid on the connected account) tells the payee once, however often Stripe sends it;
-- a Companon offer made, accepted, declined, withdrawn and expired tells the artist or the brand's owners
-- and managers (not its viewers), once per offer and action.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(14);
\ir treasury_payouts_helpers.psql

-- Payout paid ------------------------------------------------------------------------------------------------
select pg_temp.pay('pi_pgtap_people_f1', 100000, :'meta') as paid \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapPeople') as wallet \gset
select pg_temp.request(:'artist', 10000) as p1 \gset
select treasury.process_payouts(pg_temp.at(60)) as _sent \gset
select pg_temp.receive_connect('evt_pgtap_people_p1_tr', 'transfer.created', pg_temp.ts(70),
                               pg_temp.transfer('tr_pgtap_people_p1', :'p1', 1, 10000, 'acct_pgtapPeople')) as _tr \gset
select is((select count(*) from people.notifications where user_id = :'artist' and kind = 'payout.paid'), 0::bigint,
          'a payout in transit is not told');
select is(pg_temp.receive_connect('evt_pgtap_people_p1_paid', 'payout.paid', pg_temp.ts(80),
                                  pg_temp.bank_payout('po_pgtap_people_p1', :'p1', 1, 10000, 'paid'), 'acct_pgtapPeople')
            ->> 'state', 'paid', 'Stripe pays the payout');
select results_eq(format($$select title, payload, dedupe_key from people.notifications where user_id = %L and kind = 'payout.paid'$$, :'artist'),
                  format($$values ('Your payout was paid'::text,
                                   jsonb_build_object('payout_id', %L::uuid, 'amount_minor', 10000, 'currency', 'EUR'),
                                   'payout:' || %L)$$, :'p1', :'p1' || ':paid'),
                  'the payee is told, with the payout, amount and currency');
select pg_temp.receive_connect('evt_pgtap_people_p1_paid_again', 'payout.paid', pg_temp.ts(90),
                               pg_temp.bank_payout('po_pgtap_people_p1', :'p1', 1, 10000, 'paid'), 'acct_pgtapPeople') as _again \gset
select is((select count(*) from people.notifications where user_id = :'artist' and kind = 'payout.paid'), 1::bigint,
          'Stripe sending it again tells nobody again');

-- Companon offers --------------------------------------------------------------------------------------------
select gen_random_uuid() as owner, gen_random_uuid() as manager, gen_random_uuid() as viewer,
       gen_random_uuid() as singer, gen_random_uuid() as drummer \gset
insert into auth.users (id, email, raw_user_meta_data) values
  (:'singer', 'singer@people.test', '{"full_name": "Sade Singer"}'), (:'drummer', 'drummer@people.test', '{}');
select companon.create_brand('Acme Drinks', :'owner') as brand \gset
select companon.add_member(:'brand', :'manager', 'manager') as _m, companon.add_member(:'brand', :'viewer', 'viewer') as _v \gset
select companon.create_campaign(:'brand', 'Summer', 'awareness', 500000, 'EUR', now(), now() + interval '30 days',
                                '{"domains": {"A": 1}}', '[{"url": "https://acme.example/summer"}]') as c \gset
select companon.transition_campaign(:'c', 'submit') as _s, companon.transition_campaign(:'c', 'approve') as _a \gset

select companon.make_offer(:'c', :'singer', 100000, 'Two posts') as o1 \gset
select results_eq(format($$select title, payload ->> 'offer_id', payload ->> 'action', dedupe_key
                           from people.notifications where user_id = %L$$, :'singer'),
                  format($$values ('Acme Drinks made you an offer'::text, %L::text, 'create'::text, %L::text)$$,
                         :'o1', 'offer:' || :'o1' || ':create'),
                  'a new offer tells the artist');
select is((select count(*) from people.notifications where user_id in (:'owner', :'manager', :'viewer')), 0::bigint,
          'and not the brand that made it');
select set_config('request.jwt.claims', json_build_object('sub', :'singer', 'role', 'authenticated')::text, true);
select companon.transition_offer(:'o1', 'accept') as _accepted \gset
select set_config('request.jwt.claims', '', true);
select results_eq(format($$select user_id, title from people.notifications
                           where kind = 'campaign.offer' and payload ->> 'offer_id' = %L and payload ->> 'action' = 'accept'
                           order by title, user_id$$, :'o1'),
                  format($$select u, 'Sade Singer accepted your offer'::text from unnest(array[%L, %L]::uuid[]) as u order by u$$,
                         :'owner', :'manager'),
                  'an accept tells the brand''s owner and manager, naming the artist');
select is((select count(*) from people.notifications where user_id = :'viewer'), 0::bigint, 'not its viewers');

select companon.make_offer(:'c', :'drummer', 50000, 'One post') as o2 \gset
select set_config('request.jwt.claims', json_build_object('sub', :'drummer', 'role', 'authenticated')::text, true);
select companon.transition_offer(:'o2', 'decline', 'Busy') as _declined \gset
select set_config('request.jwt.claims', '', true);
select is((select title from people.notifications where user_id = :'owner' and payload ->> 'offer_id' = :'o2'),
          'The artist declined your offer', 'a decline tells the brand (an artist with no name: "The artist")');

select companon.make_offer(:'c', :'drummer', 60000, 'Two posts') as o3 \gset
select set_config('request.jwt.claims', json_build_object('sub', :'owner', 'role', 'authenticated')::text, true);
select companon.transition_offer(:'o3', 'withdraw') as _withdrawn \gset
select set_config('request.jwt.claims', '', true);
select is((select title from people.notifications where user_id = :'drummer' and payload ->> 'action' = 'withdraw'),
          'Acme Drinks withdrew their offer', 'a withdrawal tells the artist');

select companon.make_offer(:'c', :'drummer', 70000, 'Three posts') as o4 \gset
update companon.offers set created_at = now() - interval '2 days', expires_at = now() - interval '1 day' where id = :'o4';
select ok(companon_private.expire_offers() >= 1, 'the job expires the offer');
select is((select title from people.notifications where user_id = :'drummer' and payload ->> 'offer_id' = :'o4'
             and payload ->> 'action' = 'expire'),
          'The offer from Acme Drinks expired', 'an expiry tells the artist');
select is((select count(*) from people.notifications where user_id in (:'owner', :'manager') and payload ->> 'offer_id' = :'o4'
             and payload ->> 'action' = 'expire'),
          2::bigint, 'and the brand');
select is((select count(distinct passport_entry_id) from companon.offer_transitions where offer_id in (:'o1', :'o2', :'o3', :'o4')),
          (select count(*) from companon.offer_transitions where offer_id in (:'o1', :'o2', :'o3', :'o4')),
          'every transition still has its Passport entry');

select * from finish();
rollback;
