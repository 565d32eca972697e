-- Concierto RSVPs for free events: a host's published event with rsvp_capacity takes RSVPs up
-- to its capacity (counted under the event's row lock; tests/tests/concierto_hosts_race.rs races
-- them), a user withdraws theirs and the place is free again, the user lists theirs, the host
-- counts them, a cancellation tells those going. Row level security per role.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(40);

select gen_random_uuid() as host, gen_random_uuid() as other_host, gen_random_uuid() as artist,
       gen_random_uuid() as fan1, gen_random_uuid() as fan2, gen_random_uuid() as fan3, gen_random_uuid() as fan4,
       gen_random_uuid() as admin \gset
insert into people.role_grants (user_id, role) values (:'host', 'host'), (:'other_host', 'host'), (:'artist', 'artist');
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap concierto rsvp');

\ir concierto_hosts_helpers.psql

-- A free event of host, its artist accepted; published when publish.
create function pg_temp.free_event(host uuid, artist uuid, capacity int, publish boolean)
returns uuid
language plpgsql
as $$
declare
  ev uuid;
begin
  ev := (pg_temp.auth_json(host, format($f$select to_jsonb(concierto.create_draft_event('Open air', 'Freedom Park', 'Lagos', 'NG',
          now() + interval '5 days', now() + interval '5 days' - interval '1 hour', 'EUR', 5000,
          '[{"artist_id": "%s", "share_bp": 4000}]'::jsonb, rsvp_capacity => %s))$f$, artist, capacity)) #>> '{}')::uuid;
  perform pg_temp.auth_json(artist, format('select concierto.respond_to_lineup(%L, true)', ev));
  if publish then
    perform pg_temp.auth_json(host, format('select concierto.publish_event(%L)', ev));
  end if;
  return ev;
end
$$;

create function pg_temp.rsvp(who uuid, ev uuid)
returns jsonb
language sql
as $$
  select pg_temp.auth_json(who, format('select concierto.rsvp(%L) - ''created_at''', ev))
$$;

select pg_temp.free_event(:'host', :'artist', 3, true) as ev \gset
select pg_temp.free_event(:'host', :'artist', 3, false) as draft \gset

select is((select state from concierto.events where id = :'ev'), 'published', 'a free event is published without a tier');
select throws_ok(pg_temp.call_auth(:'host', format($$select to_jsonb(concierto.create_tier(%L, 'General', 1000, 10))$$, :'ev')), '22023',
                 format('event %s is free (it takes RSVPs): it has no ticket tiers', :'ev'), 'a free event has no tiers');

-- RSVPs up to the capacity --------------------------------------------------------------------

select is(pg_temp.rsvp(:'fan1', :'ev'), jsonb_build_object('event_id', :'ev', 'state', 'going', 'going', 1, 'capacity', 3),
          'a fan RSVPs');
select is(pg_temp.rsvp(:'fan1', :'ev'), jsonb_build_object('event_id', :'ev', 'state', 'going', 'going', 1, 'capacity', 3),
          'again: the same answer, one place');
select is(pg_temp.rsvp(:'fan2', :'ev') -> 'going', '2'::jsonb, 'a second fan');
select is(pg_temp.rsvp(:'fan3', :'ev') -> 'going', '3'::jsonb, 'a third fills the event');
select throws_ok(format('select pg_temp.rsvp(%L, %L)', :'fan4', :'ev'), '55000',
                 format('event %s is full: 3 of 3 places taken', :'ev'), 'a fourth is refused (full)');
select results_eq(
  format($$select user_id, artist_id, source, payload ->> 'city' from public.passport_entries
           where kind = 'concierto.event_rsvp' and payload ->> 'event_id' = %L and user_id = %L$$, :'ev', :'fan1'),
  format($$values (%L::uuid, %L::uuid, 'concierto', 'Lagos')$$, :'fan1', :'artist'),
  'Passport logs concierto.event_rsvp once, for the headliner, from Concierto'
);

select is(pg_temp.auth_json(:'fan1', format('select concierto.cancel_rsvp(%L)', :'ev')),
          jsonb_build_object('event_id', :'ev', 'state', 'cancelled', 'capacity', 3, 'going', 2), 'a fan withdraws');
select is(pg_temp.auth_json(:'fan1', format('select concierto.cancel_rsvp(%L)', :'ev')) -> 'going', '2'::jsonb,
          'withdrawing again changes nothing');
select is(pg_temp.rsvp(:'fan4', :'ev') -> 'going', '3'::jsonb, 'the place is free again at once');
select throws_ok(format('select pg_temp.rsvp(%L, %L)', :'fan1', :'ev'), '55000',
                 format('event %s is full: 3 of 3 places taken', :'ev'), 'the one who withdrew finds it full');
select throws_ok(pg_temp.call_auth(:'fan2', format('select concierto.cancel_rsvp(%L)', :'draft')), 'P0002',
                 format('you have no RSVP for event %s', :'draft'), 'withdrawing what one never gave');

select throws_ok(format('select pg_temp.rsvp(%L, %L)', :'fan1', :'draft'), 'P0002',
                 format('event %s not found', :'draft'), 'a draft is not found by a fan');
select throws_ok(format('select pg_temp.rsvp(%L, %L)', :'host', :'draft'), '55000',
                 format('event %s is draft: it takes RSVPs once published', :'draft'), 'nor taken before publication (event_draft)');

-- A ticketed event takes no RSVPs.
select concierto.create_event(:'host', 'Ticketed', 'The Shrine', 'Lagos', 'NG', now() + interval '3 days',
                              now() + interval '3 days' - interval '1 hour', 'EUR', 2000, 7000, 1000,
                              array[:'artist']::uuid[]) as ticketed \gset
select concierto.create_tier(:'ticketed', 'General', 1000, 10);
select throws_ok(format('select pg_temp.rsvp(%L, %L)', :'fan1', :'ticketed'), '55000',
                 format('event %s sells tickets: it takes no RSVPs', :'ticketed'), 'a ticketed event takes no RSVPs (not_free)');
select throws_ok(pg_temp.call_auth(:'host', format('select concierto.update_event(%L, rsvp_capacity => 10)', :'ticketed')), '22023',
                 format('event %s sells tickets: remove its tiers before it takes RSVPs', :'ticketed'), 'nor becomes free while it has tiers');

-- Capacity edits.
select throws_ok(pg_temp.call_auth(:'host', format('select concierto.update_event(%L, rsvp_capacity => 2)', :'ev')), '22023',
                 format('3 people RSVPed to event %s already: rsvp_capacity cannot be less', :'ev'), 'the capacity never drops below those going');
select is(pg_temp.auth_json(:'host', format('select concierto.update_event(%L, rsvp_capacity => 4)', :'ev')) -> 'rsvp_capacity', '4'::jsonb,
          'the host makes room');
select is(pg_temp.rsvp(:'fan1', :'ev') -> 'going', '4'::jsonb, 'and the fan is back');

-- Lists and counts --------------------------------------------------------------------------------

select is(pg_temp.auth_json(:'fan1', 'select jsonb_agg(jsonb_build_object(''event_id'', r.event_id, ''state'', r.state, ''event_state'', r.event_state)) from concierto.my_rsvps() as r'),
          jsonb_build_array(jsonb_build_object('event_id', :'ev', 'state', 'going', 'event_state', 'published')),
          'my_rsvps lists the fan''s RSVPs with their events');
select is(pg_temp.auth_json(:'artist', 'select jsonb_agg(r) from concierto.my_rsvps() as r'), null, 'and nobody else''s');
select is(pg_temp.auth_json(:'host', format('select concierto.host_stats(%L) -> ''rsvps''', :'ev')),
          '{"capacity": 4, "going": 4, "cancelled": 0}'::jsonb, 'host_stats counts the RSVPs for the host');
select is(pg_temp.auth_json(:'admin', format('select concierto.host_stats(%L) -> ''rsvps'' -> ''going''', :'ev')), '4'::jsonb,
          'and for a Treasury admin');
select throws_ok(pg_temp.call_auth(:'other_host', format('select concierto.host_stats(%L)', :'ev')), '42501',
                 format('the stats of event %s are for its host and staff', :'ev'), 'not for another host');
select is(pg_temp.auth_json(:'host', format('select concierto.host_stats(%L) -> ''rsvps''', :'ticketed')), 'null'::jsonb,
          'a ticketed event has no RSVP figures');

-- Row level security ---------------------------------------------------------------------------------

select is(pg_temp.sees('authenticated', :'fan2', format('select count(*) from concierto.event_rsvp where event_id = %L', :'ev')), 1::bigint,
          'a fan reads their own RSVP');
select is(pg_temp.sees('authenticated', :'host', format('select count(*) from concierto.event_rsvp where event_id = %L', :'ev')), 0::bigint,
          'the host reads no row (counts only)');
select is(pg_temp.sees('authenticated', :'artist', format('select count(*) from concierto.event_rsvp where event_id = %L', :'ev')), 0::bigint,
          'nor does a lineup artist');
select is(pg_temp.sees('authenticated', :'admin', format('select count(*) from concierto.event_rsvp where event_id = %L', :'ev')), 0::bigint,
          'nor an admin');
select is(pg_temp.sees('service_role', null, format('select count(*) from concierto.event_rsvp where event_id = %L', :'ev')), 4::bigint,
          'service_role reads them all');
select throws_ok(format($$select pg_temp.sees('anon', null, 'select count(*) from concierto.event_rsvp')$$), '42501', null,
                 'anon may not read RSVPs');
set local role anon;
select throws_ok(format('select concierto.rsvp(%L)', :'ev'), '42501', null, 'anon may not RSVP');
reset role;
set local role service_role;
select throws_ok(format('select concierto.rsvp(%L)', :'ev'), '42501', null, 'service_role RSVPs for nobody');
reset role;
select is(pg_temp.sees('anon', null, 'select count(*) from concierto.settings'), 1::bigint, 'the platform''s share is public');
set local role authenticated;
select throws_ok('update concierto.settings set platform_share_bp = 0', '42501', null, 'and changed through set_platform_share only');
reset role;

-- Cancellation tells those going ----------------------------------------------------------------------

select is(pg_temp.auth_json(:'host', format($$select concierto.cancel_event(%L, 'storm warning') -> 'notified'$$, :'ev')), '4'::jsonb,
          'cancelling a free event tells the four going');
select is((select count(*)::int from people.notifications where kind = 'event.cancelled' and payload ->> 'event_id' = :'ev'
           and user_id in (:'fan1', :'fan2', :'fan3', :'fan4')), 4, 'each gets event.cancelled');
select throws_ok(format('select pg_temp.rsvp(%L, %L)', :'fan1', :'ev'), '55000',
                 format('event %s is cancelled: it takes RSVPs once published', :'ev'), 'a cancelled event takes no RSVP');
select is(pg_temp.auth_json(:'fan2', 'select jsonb_agg(r.event_state) from concierto.my_rsvps() as r'), '["cancelled"]'::jsonb,
          'my_rsvps shows the event cancelled');

select * from finish();
rollback;
