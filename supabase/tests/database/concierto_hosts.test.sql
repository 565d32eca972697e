-- Concierto: hosts run their own events. A verified host creates a draft with its lineup and
-- shares; artists see and answer their invitations (a change re-opens acceptance); the event
-- goes on sale once the whole lineup accepted and the split sums to 10000; tiers are edited
-- while unsold; drafts are hidden from everybody but the host, the lineup and admins; a
-- cancellation voids every ticket, releases reservations, asks Treasury to refund every
-- payment and tells the holders; open calls take artists' applications.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(103);
\ir concierto_helpers.psql

select gen_random_uuid() as h_host, gen_random_uuid() as h_other_host, gen_random_uuid() as h_artist_a,
       gen_random_uuid() as h_artist_b, gen_random_uuid() as h_artist_c, gen_random_uuid() as h_fan,
       gen_random_uuid() as h_fan2, gen_random_uuid() as h_admin, gen_random_uuid() as h_nobody \gset
insert into people.role_grants (user_id, role)
values (:'h_host', 'host'), (:'h_other_host', 'host'), (:'h_artist_a', 'artist'), (:'h_artist_b', 'artist'),
       (:'h_artist_c', 'artist');
insert into treasury.admins (user_id, note) values (:'h_admin', 'pgtap concierto hosts');

\ir concierto_hosts_helpers.psql

-- A draft of host, in Lagos in ten days, with its lineup as [{artist_id, share_bp}].
create function pg_temp.draft(who uuid, lineup jsonb, host_bp int default 2000, applications boolean default false)
returns text
language sql
as $$
  select format($f$select to_jsonb(concierto.create_draft_event(
                    'Hosts night', 'The Shrine', 'Lagos', 'NG', now() + interval '10 days',
                    now() + interval '10 days' - interval '1 hour', 'EUR', %s, %L::jsonb,
                    takes_applications => %L))$f$, host_bp, lineup, applications)
$$;

-- Creating drafts -------------------------------------------------------------------------------

select throws_ok(pg_temp.call_auth(:'h_nobody', pg_temp.draft(:'h_nobody', '[]')), '42501',
                 'only verified hosts create events', 'a user without the host role creates no event');
select throws_ok(pg_temp.call_auth(:'h_host', pg_temp.draft(:'h_host', format('[{"artist_id": "%s", "share_bp": 3000}]', :'h_nobody')::jsonb)),
                 '22023', format('%s is not a verified artist', :'h_nobody'), 'the lineup holds verified artists only');
select throws_ok(pg_temp.call_auth(:'h_host', pg_temp.draft(:'h_host', format('[{"artist_id": "%s", "share_bp": 8000}]', :'h_artist_a')::jsonb)),
                 '22023', 'the host (2000), lineup (8000) and platform (1000) shares sum to 11000 basis points, more than 10000',
                 'the shares cannot exceed 10000 basis points');
select throws_ok(pg_temp.call_auth(:'h_host', pg_temp.draft(:'h_host', format('[{"artist_id": "%s", "share_bp": 100}, {"artist_id": "%s", "share_bp": 100}]', :'h_artist_a', :'h_artist_a')::jsonb)),
                 '22023', 'the lineup must not name an artist twice', 'an artist plays once per event');
select throws_ok(pg_temp.call_auth(:'h_host', pg_temp.draft(:'h_host', '[{"share_bp": 100}]')),
                 '22023', 'lineup[0].artist_id must be a user''s UUID', 'every entry names an artist');

select (pg_temp.auth_json(:'h_host', pg_temp.draft(:'h_host',
         format('[{"artist_id": "%s", "share_bp": 4000}, {"artist_id": "%s", "share_bp": 2000}]', :'h_artist_a', :'h_artist_b')::jsonb))
       #>> '{}')::uuid as ev \gset

select results_eq(
  format($$select host_id, state, split_host_bp, split_artists_bp, split_platform_bp from concierto.events where id = %L$$, :'ev'),
  format($$values (%L::uuid, 'draft', 2000, 6000, 1000)$$, :'h_host'),
  'a draft of the host: its share, the lineup''s sum, the platform''s share from concierto.settings'
);
select results_eq(
  format($$select artist_id, position::int, share_bp, state, revision from concierto.event_artists where event_id = %L order by position$$, :'ev'),
  format($$values (%L::uuid, 1, 4000, 'invited', 1), (%L::uuid, 2, 2000, 'invited', 1)$$, :'h_artist_a', :'h_artist_b'),
  'the lineup is invited in billing order with each artist''s share'
);
select results_eq(
  format($$select user_id, kind, payload ->> 'share_bp' from people.notifications where payload ->> 'event_id' = %L order by user_id$$, :'ev'),
  format($$select * from (values (%L::uuid, 'event.lineup', '4000'), (%L::uuid, 'event.lineup', '2000')) as v order by 1$$, :'h_artist_a', :'h_artist_b'),
  'each artist is notified of the invitation (event.lineup)'
);
select is((select count(*)::int from public.passport_entries where user_id = :'h_host' and kind = 'concierto.event_created'
           and payload ->> 'event_id' = :'ev'), 1, 'Passport logs concierto.event_created for the host');

-- Who sees a draft ----------------------------------------------------------------------------

select is(pg_temp.sees('anon', null, format('select count(*) from concierto.events where id = %L', :'ev')), 0::bigint, 'anon does not see a draft');
select is(pg_temp.sees('authenticated', :'h_fan', format('select count(*) from concierto.events where id = %L', :'ev')), 0::bigint, 'nor does a fan');
select is(pg_temp.sees('authenticated', :'h_other_host', format('select count(*) from concierto.events where id = %L', :'ev')), 0::bigint, 'nor another host');
select is(pg_temp.sees('authenticated', :'h_artist_c', format('select count(*) from concierto.event_artists where event_id = %L', :'ev')), 0::bigint, 'nor an artist off the lineup (its lineup)');
select is(pg_temp.sees('authenticated', :'h_host', format('select count(*) from concierto.events where id = %L', :'ev')), 1::bigint, 'the host sees it');
select is(pg_temp.sees('authenticated', :'h_artist_b', format('select count(*) from concierto.event_artists where event_id = %L', :'ev')), 2::bigint, 'a lineup artist sees it and its lineup');
select is(pg_temp.sees('authenticated', :'h_admin', format('select count(*) from concierto.events where id = %L', :'ev')), 1::bigint, 'a Treasury admin sees it');
select is(pg_temp.sees('service_role', null, format('select count(*) from concierto.events where id = %L', :'ev')), 1::bigint, 'service_role sees it');

-- The artist's invitations, as jsonb rows [{event_id, position, share_bp, state, revision}].
create function pg_temp.invitations(who uuid)
returns jsonb
language sql
as $$
  select pg_temp.auth_json(who, $q$select coalesce(jsonb_agg(jsonb_build_object('event_id', i.event_id, 'title', i.title,
           'position', i.position, 'share_bp', i.share_bp, 'state', i.state, 'revision', i.revision) order by i.starts_at), '[]')
         from concierto.lineup_invitations() as i$q$)
$$;

select is(pg_temp.invitations(:'h_artist_a'),
          jsonb_build_array(jsonb_build_object('event_id', :'ev', 'title', 'Hosts night', 'position', 1, 'share_bp', 4000,
                                               'state', 'invited', 'revision', 1)),
          'lineup_invitations lists the artist''s invitation: event, billing, share, state, revision');
select is(pg_temp.invitations(:'h_fan'), '[]'::jsonb, 'a fan has none');

-- Tiers of a draft; nothing is on sale before publication --------------------------------------

select (pg_temp.auth_json(:'h_host', format($$select to_jsonb(concierto.create_tier(%L, 'General', 3000, 4))$$, :'ev')) #>> '{}')::uuid
  as h_tier \gset
select is((select product_id from concierto.ticket_tiers where id = :'h_tier'), null, 'a draft''s tier has no Treasury product yet');
select throws_ok(pg_temp.call_auth(:'h_other_host', format($$select concierto.create_tier(%L, 'VIP', 9000, 4)$$, :'ev')), '42501',
                 format('only the host of event %s creates its tiers', :'ev'), 'another host adds no tier');
select throws_ok(format($$select pg_temp.reserve(%L, %L, 1)$$, :'h_fan', :'h_tier'), '55000',
                 format('event %s is not on sale yet: the host publishes it once its lineup accepted', :'ev'),
                 'reserve answers 55000 event_draft before publication');
select is(pg_temp.auth_json(:'h_nobody', format($$select jsonb_agg(a) from concierto.availability(%L) as a$$, :'ev')), null,
          'availability lists no tier of a draft to whom may not see it');
select is(pg_temp.auth_json(:'h_host', format($$select jsonb_agg(a.on_sale) from concierto.availability(%L) as a$$, :'ev')), '[false]'::jsonb,
          'and shows the host the tier as not on sale');

-- Answers, changes, publication -----------------------------------------------------------------

select throws_ok(format($$select concierto.publish_event(%L)$$, :'ev'), '55000',
                 format('event %s goes on sale once its whole lineup accepted; not yet: %s (invited), %s (invited)', :'ev', :'h_artist_a', :'h_artist_b'),
                 'publication waits for the whole lineup');
select is(pg_temp.auth_json(:'h_artist_a', format($$select concierto.respond_to_lineup(%L, true, 1) -> 'state'$$, :'ev')) #>> '{}', 'accepted',
          'an artist accepts their invitation');
select is((select count(*)::int from public.passport_entries where user_id = :'h_artist_a' and kind = 'concierto.lineup_accepted'
           and artist_id = :'h_artist_a' and payload ->> 'event_id' = :'ev'), 1, 'Passport logs concierto.lineup_accepted');
select throws_ok(pg_temp.call_auth(:'h_fan', format($$select concierto.respond_to_lineup(%L, true)$$, :'ev')), 'P0002',
                 format('you are not on the lineup of event %s', :'ev'), 'only lineup artists answer');
select throws_ok(pg_temp.call_auth(:'h_artist_b', format($$select concierto.set_lineup(%L, '[]')$$, :'ev')), '42501',
                 format('only the host of event %s changes its lineup', :'ev'), 'an artist does not change the lineup');

-- The host moves b to the headline with a new share: b is invited again, a (billing now 2) too.
select is(pg_temp.auth_json(:'h_host', format($$select concierto.set_lineup(%L, %L::jsonb) -> 'split_total_bp'$$, :'ev',
          format('[{"artist_id": "%s", "share_bp": 3000}, {"artist_id": "%s", "share_bp": 4000}]', :'h_artist_b', :'h_artist_a'))),
          '10000'::jsonb, 'set_lineup answers the split');
select results_eq(
  format($$select artist_id, position::int, share_bp, state, revision from concierto.event_artists where event_id = %L order by position$$, :'ev'),
  format($$values (%L::uuid, 1, 3000, 'invited', 2), (%L::uuid, 2, 4000, 'invited', 2)$$, :'h_artist_b', :'h_artist_a'),
  'a change of billing or share re-opens acceptance (revision + 1)'
);
select is((select count(*)::int from people.notifications where user_id = :'h_artist_a' and kind = 'event.lineup' and payload ->> 'event_id' = :'ev'),
          2, 'and the artist is notified again');
select throws_ok(pg_temp.call_auth(:'h_artist_a', format($$select concierto.respond_to_lineup(%L, true, 1)$$, :'ev')), '55000',
                 format('the invitation to event %s changed (revision 2, you answered 1)', :'ev'),
                 'an answer to an old revision is refused (stale_invitation)');
select is(pg_temp.auth_json(:'h_artist_a', format($$select concierto.respond_to_lineup(%L, true, 2) -> 'state'$$, :'ev')) #>> '{}', 'accepted',
          'the new revision is accepted');
-- Unchanged entries keep their answer.
select lives_ok(pg_temp.call_auth(:'h_host', format($$select concierto.set_lineup(%L, %L::jsonb, 2000)$$, :'ev',
          format('[{"artist_id": "%s", "share_bp": 3000}, {"artist_id": "%s", "share_bp": 4000}]', :'h_artist_b', :'h_artist_a'))),
          'setting the same lineup again');
select is((select state from concierto.event_artists where event_id = :'ev' and artist_id = :'h_artist_a'), 'accepted',
          'keeps the answers of unchanged artists');
select is(pg_temp.auth_json(:'h_artist_b', format($$select concierto.respond_to_lineup(%L, false) -> 'state'$$, :'ev')) #>> '{}', 'declined',
          'an artist declines');
select throws_ok(format($$select concierto.publish_event(%L)$$, :'ev'), '55000',
                 format('event %s goes on sale once its whole lineup accepted; not yet: %s (declined)', :'ev', :'h_artist_b'),
                 'a declined artist keeps the event off sale');

-- The host drops b and takes 3000 more; the split is short of 10000 until a's share grows.
select lives_ok(pg_temp.call_auth(:'h_host', format($$select concierto.set_lineup(%L, %L::jsonb, 2000)$$, :'ev',
          format('[{"artist_id": "%s", "share_bp": 4000}]', :'h_artist_a'))), 'the host removes an artist');
select is((select count(*)::int from people.notifications where user_id = :'h_artist_b' and kind = 'event.lineup'
           and payload ->> 'event_id' = :'ev' and payload ->> 'state' = 'removed'), 1, 'who is told they left the lineup');
select is((select state || ' ' || revision from concierto.event_artists where event_id = :'ev' and artist_id = :'h_artist_a'),
          'invited 3', 'a''s billing changed (2 → 1): a is invited again');
select lives_ok(pg_temp.call_auth(:'h_artist_a', format($$select concierto.respond_to_lineup(%L, true, 3)$$, :'ev')), 'a accepts');
select throws_ok(format($$select concierto.publish_event(%L)$$, :'ev'), '55000',
                 format('the split of event %s sums to 7000 basis points (host 2000, lineup 4000, platform 1000), not 10000', :'ev'),
                 'publication needs the split to sum to 10000 (split_incomplete)');
select lives_ok(pg_temp.call_auth(:'h_host', format($$select concierto.set_lineup(%L, %L::jsonb, 5000)$$, :'ev',
          format('[{"artist_id": "%s", "share_bp": 4000}]', :'h_artist_a'))), 'the host takes the rest');
select is((select state from concierto.event_artists where event_id = :'ev' and artist_id = :'h_artist_a'), 'accepted',
          'a change of the host''s share alone re-opens nobody''s acceptance');
select throws_ok(pg_temp.call_auth(:'h_other_host', format($$select concierto.publish_event(%L)$$, :'ev')), '42501',
                 format('only the host of event %s publishes it', :'ev'), 'another host publishes nothing');
select is(pg_temp.auth_json(:'h_host', format($$select concierto.publish_event(%L) -> 'state'$$, :'ev')) #>> '{}', 'published',
          'the host publishes');
select results_eq(
  format($$select r.role, r.party_id, r.share_bp from concierto.ticket_tiers as t join treasury.products as p on p.id = t.product_id
           join treasury.split_rule_parties as r on r.rule_id = p.split_rule_id where t.id = %L order by r.position$$, :'h_tier'),
  format($$values ('host', %L::uuid, 5000), ('artist', %L::uuid, 4000), ('platform', null::uuid, 1000)$$, :'h_host', :'h_artist_a'),
  'publication gives each tier its product, split by the accepted shares'
);
select is(pg_temp.sees('anon', null, format('select count(*) from concierto.event_artists where event_id = %L', :'ev')), 1::bigint,
          'a published event and its lineup are public');
select throws_ok(pg_temp.call_auth(:'h_host', format($$select concierto.set_lineup(%L, '[]')$$, :'ev')), '55000',
                 format('event %s is published: a lineup change needs it draft', :'ev'), 'the lineup is fixed once on sale');

-- Edits: details, tiers while unsold --------------------------------------------------------------

select throws_ok(pg_temp.call_auth(:'h_other_host', format($$select concierto.update_event(%L, venue => 'Elsewhere')$$, :'ev')), '42501',
                 format('only the host of event %s edits it', :'ev'), 'another host edits nothing');
select is(pg_temp.auth_json(:'h_host', format($$select concierto.update_event(%L, venue => 'Freedom Park', starts_at => now() + interval '11 days') -> 'venue'$$, :'ev')) #>> '{}',
          'Freedom Park', 'the host changes the venue and the start');
select is((select sale_ends_at from concierto.ticket_tiers where id = :'h_tier'), (select starts_at from concierto.events where id = :'ev'),
          'a tier whose sale ended at the old start follows the new one');
select throws_ok(pg_temp.call_auth(:'h_host', format($$select concierto.update_event(%L, doors_at => now() + interval '12 days')$$, :'ev')), '22023',
                 'doors_at must not be after starts_at', 'edits are checked like creation');
select is(pg_temp.auth_json(:'h_host', format($$select concierto.update_tier(%L, price_minor => 3500, capacity => 5) -> 'price_minor'$$, :'h_tier')) #>> '{}',
          '3500', 'an unsold tier changes price and capacity');
select is((select p.price_minor from concierto.ticket_tiers as t join treasury.products as p on p.id = t.product_id where t.id = :'h_tier'),
          3500::bigint, 'and so does its Treasury product');
select throws_ok(pg_temp.call_auth(:'h_host', format($$select concierto.update_tier(%L, price_minor => 0)$$, :'h_tier')), '22023',
                 'price_minor must be an integer > 0 (minor units of the event currency)', 'prices stay positive');

select pg_temp.buy(:'h_fan', :'h_tier', 2, 'pi_pgtap_hosts_1') as h_order \gset
select pg_temp.reserve(:'h_fan2', :'h_tier', 1) as h_held \gset
select throws_ok(pg_temp.call_auth(:'h_host', format($$select concierto.update_tier(%L, price_minor => 4000)$$, :'h_tier')), '55000',
                 format('ticket tier %s has sold tickets or holds reservations: its price and capacity are fixed', :'h_tier'),
                 'a sold tier keeps its price (tier_sold)');
select throws_ok(pg_temp.call_auth(:'h_host', format($$select concierto.remove_tier(%L)$$, :'h_tier')), '55000',
                 format('ticket tier %s has sold tickets or holds reservations: it stays', :'h_tier'), 'and is not removed');
select lives_ok(pg_temp.call_auth(:'h_host', format($$select concierto.update_tier(%L, sale_ends_at => now() + interval '9 days')$$, :'h_tier')),
                'its sale window still moves');
select (pg_temp.auth_json(:'h_host', format($$select to_jsonb(concierto.create_tier(%L, 'Balcony', 2000, 10))$$, :'ev')) #>> '{}')::uuid
  as h_tier2 \gset
select isnt((select product_id from concierto.ticket_tiers where id = :'h_tier2'), null, 'a tier of a published event has its product at once');
select ok(pg_temp.auth_json(:'h_host', format($$select to_jsonb(concierto.remove_tier(%L))$$, :'h_tier2'))::boolean, 'an unsold tier is removed');
select is(pg_temp.auth_json(:'h_fan', format($$select jsonb_agg(a.name) from concierto.availability(%L) as a$$, :'ev')), '["General"]'::jsonb,
          'availability leaves it out');
select throws_ok(format($$select pg_temp.reserve(%L, %L, 1)$$, :'h_fan', :'h_tier2'), '55000',
                 format('ticket tier %s was removed from sale', :'h_tier2'), 'reserve refuses it (tier_removed)');
select is((select active from treasury.products as p join concierto.ticket_tiers as t on t.product_id = p.id where t.id = :'h_tier2'), false,
          'its product is inactive');

-- Cancellation ----------------------------------------------------------------------------------

select throws_ok(pg_temp.call_auth(:'h_artist_a', format($$select concierto.cancel_event(%L, 'no')$$, :'ev')), '42501',
                 format('only the host of event %s cancels it (or a Treasury admin)', :'ev'), 'a lineup artist cancels nothing');
select throws_ok(pg_temp.call_auth(:'h_host', format($$select concierto.cancel_event(%L, ' ')$$, :'ev')), '22023',
                 'reason must be a non-blank string of at most 500 characters', 'a cancellation says why');
select is(pg_temp.auth_json(:'h_host', format($$select concierto.cancel_event(%L, 'the venue flooded') - 'cancelled_at' - 'event_id'$$, :'ev')),
          '{"state": "cancelled", "tickets_voided": 2, "reservations_released": 1, "refunds_requested": 1, "notified": 1}'::jsonb,
          'the host cancels: tickets voided, the open reservation released, one payment to refund, the holder told');
select results_eq(
  format($$select state, void_reason from public.event_tickets where order_id = %L order by seat$$, :'h_order'),
  $$values ('void', 'cancelled'), ('void', 'cancelled')$$,
  'every valid ticket is void at once'
);
select is((select seats_sold from concierto.ticket_tiers where id = :'h_tier'), 0, 'and its seats are no longer sold');
select is((select state || ' ' || note from concierto.orders where id = (:'h_held'::jsonb ->> 'order_id')::uuid),
          'expired released: event cancelled', 'the open reservation is released');
select results_eq(
  $$select amount_minor, currency::text, idempotency_key, state from treasury.refund_requests where payment_id = 'pi_pgtap_hosts_1'$$,
  format($$values (7000::bigint, 'EUR', 'concierto_cancel_%s_pi_pgtap_hosts_1', 'requested')$$, :'ev'),
  'the payment is asked back in full from Treasury''s refund worker, keyed by the event and the payment'
);
select results_eq(
  format($$select kind, payload ->> 'reason' from people.notifications where user_id = %L and payload ->> 'event_id' = %L$$, :'h_fan', :'ev'),
  $$values ('event.cancelled', 'the venue flooded')$$,
  'the ticket holder is notified (event.cancelled)'
);
select is((select count(*)::int from people.notifications where user_id = :'h_fan2' and payload ->> 'event_id' = :'ev'), 0,
          'a buyer who never paid is not');
select is((select payload ->> 'tickets_voided' from public.passport_entries where user_id = :'h_host' and kind = 'concierto.event_cancelled'
           and payload ->> 'event_id' = :'ev'), '2', 'Passport logs concierto.event_cancelled for the host');
select throws_ok(pg_temp.call_auth(:'h_fan', format($$select concierto.ticket_for_token(%L)$$, pg_temp.ticket(:'h_order', 1))), '55000',
                 null, 'a void ticket gets no QR token (the door refuses it)');
select throws_ok(format($$select pg_temp.reserve(%L, %L, 1)$$, :'h_fan', :'h_tier'), '55000',
                 format('event %s was cancelled', :'ev'), 'reserve refuses a cancelled event (event_cancelled)');
select throws_ok(pg_temp.call_auth(:'h_host', format($$select concierto.cancel_event(%L, 'again')$$, :'ev')), '55000',
                 format('event %s is cancelled: a cancellation needs it draft or published', :'ev'), 'a cancelled event stays cancelled');

-- The refund worker has Stripe refund it; charge.refunded books it: the order is refunded,
-- nothing more is voided.
select lives_ok(format($$select treasury.record_refund_sent(%L, 're_pgtap_hosts_1', 'succeeded')$$,
                       (select id from treasury.refund_requests where payment_id = 'pi_pgtap_hosts_1')),
                'the worker records Stripe''s refund');
select is(pg_temp.refund('pi_pgtap_hosts_1', 7000, 7000) ->> 'status', 'applied', 'charge.refunded books the refund');
select results_eq(
  format($$select state, refunded_minor, refund_unvoided from concierto.orders where id = %L$$, :'h_order'),
  $$values ('refunded', 7000::bigint, 0)$$,
  'the order is refunded; the cancelled tickets count as the voided seats'
);
select is((select state from treasury.refund_requests where payment_id = 'pi_pgtap_hosts_1'), 'refunded',
          'Treasury settles the refund request');

-- A payment that arrives after the cancellation goes straight back.
select is(pg_temp.pay(:'h_held'::jsonb, 'pi_pgtap_hosts_2') ->> 'status', 'applied', 'a late payment for the released reservation');
select results_eq(
  format($$select o.state, (select count(*)::int from public.event_tickets as k where k.order_id = o.id),
                  (select r.amount_minor from treasury.refund_requests as r where r.payment_id = 'pi_pgtap_hosts_2')
           from concierto.orders as o where o.id = %L$$, (:'h_held'::jsonb ->> 'order_id')),
  $$values ('refund_due', 0, 3500::bigint)$$,
  'issues no ticket and is asked back in full'
);

select (pg_temp.auth_json(:'h_other_host', pg_temp.draft(:'h_other_host', '[]')) #>> '{}')::uuid as ev2 \gset
select is(pg_temp.auth_json(:'h_admin', format($$select concierto.cancel_event(%L, 'platform decision') -> 'state'$$, :'ev2')) #>> '{}',
          'cancelled', 'a Treasury admin cancels an event too');

-- Open calls ------------------------------------------------------------------------------------

select (pg_temp.auth_json(:'h_host', pg_temp.draft(:'h_host', '[]', 5000, true)) #>> '{}')::uuid as ev3 \gset
select is(pg_temp.sees('anon', null, format('select count(*) from concierto.events where id = %L', :'ev3')), 1::bigint,
          'a draft that takes applications is shown to everybody');
select throws_ok(pg_temp.call_auth(:'h_fan', format($$select concierto.apply_to_event(%L)$$, :'ev3')), '42501',
                 'only verified artists apply to play events', 'a fan does not apply');
select is(pg_temp.auth_json(:'h_artist_c', format($$select concierto.apply_to_event(%L, 'We bring our own drums') -> 'state'$$, :'ev3')) #>> '{}',
          'applied', 'an artist applies');
select is(pg_temp.auth_json(:'h_artist_c', format($$select concierto.apply_to_event(%L) -> 'note'$$, :'ev3')) #>> '{}',
          'We bring our own drums', 'applying again answers the application as it stands');
select lives_ok(pg_temp.call_auth(:'h_artist_b', format($$select concierto.apply_to_event(%L)$$, :'ev3')), 'another artist applies');
select is(pg_temp.sees('authenticated', :'h_host', format('select count(*) from concierto.artist_applications where event_id = %L', :'ev3')),
          2::bigint, 'the host reads the applications');
select is(pg_temp.sees('authenticated', :'h_artist_c', format('select count(*) from concierto.artist_applications where event_id = %L', :'ev3')),
          1::bigint, 'an artist reads their own');
select is(pg_temp.sees('authenticated', :'h_fan', format('select count(*) from concierto.artist_applications where event_id = %L', :'ev3')),
          0::bigint, 'a fan none');
select throws_ok(pg_temp.call_auth(:'h_other_host', format($$select concierto.decide_application(%L, %L, true, 1000)$$, :'ev3', :'h_artist_c')),
                 '42501', format('only the host of event %s decides its applications', :'ev3'), 'another host decides nothing');
select is(pg_temp.auth_json(:'h_host', format($$select concierto.decide_application(%L, %L, true, 4000) -> 'state'$$, :'ev3', :'h_artist_c')) #>> '{}',
          'accepted', 'the host accepts an application');
select results_eq(
  format($$select artist_id, position::int, share_bp, state from concierto.event_artists where event_id = %L$$, :'ev3'),
  format($$values (%L::uuid, 1, 4000, 'invited')$$, :'h_artist_c'),
  'the artist joins the lineup as invited, with the offered share'
);
select is((select count(*)::int from people.notifications where user_id = :'h_artist_c' and kind = 'event.lineup' and payload ->> 'event_id' = :'ev3'),
          1, 'and is notified');
select throws_ok(pg_temp.call_auth(:'h_host', format($$select concierto.decide_application(%L, %L, false)$$, :'ev3', :'h_artist_c')), '55000',
                 format('the application of artist %s to event %s was accepted already', :'h_artist_c', :'ev3'), 'a decision is final');
select is(pg_temp.auth_json(:'h_host', format($$select concierto.decide_application(%L, %L, false) -> 'state'$$, :'ev3', :'h_artist_b')) #>> '{}',
          'declined', 'the host declines the other');

-- The platform's share -----------------------------------------------------------------------------

select throws_ok(pg_temp.call_auth(:'h_host', 'select to_jsonb(concierto.set_platform_share(0))'), '42501',
                 'only the platform sets its share of ticket revenue', 'a host does not set the platform''s share');
select throws_ok('select concierto.set_platform_share(10001)', '22023', 'share_bp must be 0 to 10000 basis points', 'the share is basis points');
select is(pg_temp.auth_json(:'h_admin', 'select to_jsonb(concierto.set_platform_share(1500))'), '1500'::jsonb, 'an admin sets it');
select (pg_temp.auth_json(:'h_host', pg_temp.draft(:'h_host', '[]')) #>> '{}')::uuid as ev4 \gset
select is((select split_platform_bp from concierto.events where id = :'ev4'), 1500, 'new drafts take the new share');

select * from finish();
rollback;
