-- People notifications: the inbox calls (keyset pages, unread only, unread count, mark read by ids or all),
-- preferences per kind (and notify honouring them), a dedupe key told once, retention (read and old only),
-- the feeds of a ticket transfer (concierto.transfer_ticket) and of DNA rises (coliseum.process_pending),
-- the realtime publication, and who reads and changes what: the user, another user, anon, an admin,
-- service_role.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(45);
\ir concierto_helpers.psql

select gen_random_uuid() as admin \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap people');

-- The SQLSTATE and message of sql as who (null: anon), or null when it runs.
create function pg_temp.refusal(who uuid, sql text)
returns text
language plpgsql
as $$
declare
  s text;
  m text;
begin
  perform set_config('role', case when who is null then 'anon' else 'authenticated' end, true),
          set_config('request.jwt.claims', case when who is null then '{"role": "anon"}'
                                                else json_build_object('sub', who, 'role', 'authenticated')::text end, true);
  execute sql;
  reset role;
  return null;
exception when others then
  get stacked diagnostics s = returned_sqlstate, m = message_text;
  return s || ' ' || m;
end
$$;

-- The ticket feed: a transfer through the real ticket functions -------------------------------------------
select pg_temp.buy(:'buyer', :'tier', 2, 'pi_pgtap_people_n1') as o1 \gset
select pg_temp.ticket(:'o1', 1) as t1, pg_temp.ticket(:'o1', 2) as t2 \gset
select pg_temp.as_user(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'t1', :'friend')) ->> 'version' as v1 \gset
select results_eq(format($$select kind, title, body, payload, dedupe_key from people.notifications where user_id = %L$$, :'friend'),
                  format($$values ('ticket.transferred'::text, 'A ticket was transferred to you'::text,
                                   'Your ticket for pgTAP live, Lagos'::text,
                                   jsonb_build_object('ticket_id', %L::uuid, 'event_id', %L::uuid, 'from_user_id', %L::uuid,
                                                      'version', %s),
                                   'ticket:' || %L || ':' || %s)$$, :'t1', :'event', :'buyer', :'v1', :'t1', :'v1'),
                  'the new owner is told, with the ids the app links to');
select is((select count(*) from people.notifications where user_id = :'buyer' and kind = 'ticket.transferred'), 0::bigint,
          'the giver is not');
-- The friend turns ticket notifications off: the next transfer to them is not told, and still happens.
select pg_temp.act_as(:'friend');
select is(people.set_notification_preference('ticket.transferred', false), false, 'the user turns a kind off');
reset role;
select pg_temp.as_user(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'t2', :'friend')) ->> 'owner_id' as owner2 \gset
select is(:'owner2'::uuid, :'friend'::uuid, 'the transfer happens');
select is((select count(*) from people.notifications where user_id = :'friend'), 1::bigint, 'but is not told');
-- Back, and the ticket comes back to the friend: a new version, a new notification.
select pg_temp.act_as(:'friend');
select is(people.set_notification_preference('ticket.transferred', null), true, 'null: back to the default (on)');
reset role;
select pg_temp.as_user(:'friend', format('select concierto.transfer_ticket(%L, %L)', :'t1', :'buyer')) as _back \gset
select pg_temp.as_user(:'buyer', format('select concierto.transfer_ticket(%L, %L)', :'t1', :'friend')) as _again \gset
select is((select count(*) from people.notifications where user_id = :'friend' and kind = 'ticket.transferred'), 2::bigint,
          'each transfer (ticket, version) is told');

-- notify itself: the dedupe key, unknown kinds ----------------------------------------------------------------
select isnt(people_private.notify(:'friend', 'badge.earned', 'First ticket', null, '{}', 'pgtap:badge:1'), null,
            'notify returns the new id');
select is(people_private.notify(:'friend', 'badge.earned', 'First ticket', null, '{}', 'pgtap:badge:1'), null,
          'the same dedupe key is told once');
select throws_ok(format($$select people_private.notify(%L, 'nope.kind', 'x')$$, :'friend'), '22023',
                 'unknown notification kind ''nope.kind''', 'unknown kinds are refused');
select throws_ok($$select people_private.notify(null, 'badge.earned', 'x')$$, '22023', 'a notification needs a user',
                 'a notification needs a user');
select people_private.notify(:'friend', 'payout.paid', 'n' || g) from generate_series(1, 5) as g;

-- The inbox calls ------------------------------------------------------------------------------------------
select pg_temp.act_as(:'friend');
select is(people.unread_count(), 8::bigint, 'eight unread');
select results_eq('select title from people.list_notifications(null, 3)', $$values ('n5'::text), ('n4'), ('n3')$$,
                  'a page, newest first');
select results_eq(format('select title from people.list_notifications(%s, 3)',
                         (select min(id) from people.list_notifications(null, 3))),
                  $$values ('n2'::text), ('n1'), ('First ticket')$$, 'the next page starts below the last id');
select is(people.mark_read(array(select id from people.notifications where title in ('n5', 'n4'))), 2, 'mark two read');
select is(people.mark_read(array(select id from people.notifications where title in ('n5', 'n4'))), 0,
          'marking them again marks nothing');
select results_eq('select title from people.list_notifications(null, 2, true)', $$values ('n3'::text), ('n2')$$,
                  'unread only');
select is(people.unread_count(), 6::bigint, 'six unread');
select results_eq('select kind, enabled, default_enabled from people.notification_settings() where kind in (''ticket.transferred'', ''payout.paid'')',
                  $$values ('payout.paid'::text, true, true), ('ticket.transferred', true, true)$$, 'the settings per kind');
reset role;
select is(pg_temp.refusal(:'friend', 'select people.list_notifications(null, 0)'), '22023 page_size must be 1 to 100',
          'page sizes are bounded');
select is(pg_temp.refusal(:'friend', $$select people.set_notification_preference('nope.kind', true)$$),
          '22023 unknown notification kind ''nope.kind''', 'unknown kinds are named');
select is(pg_temp.refusal(:'friend', 'select people.mark_read(array(select g::bigint from generate_series(1, 1001) as g))'),
          '22023 at most 1000 ids per call, got 1001', 'mark_read takes at most 1000 ids');

-- Another user, an admin, anon, service_role ---------------------------------------------------------------------
select pg_temp.act_as(:'admin');
select is((select count(*) from people.notifications where user_id = :'friend'), 0::bigint,
          'an admin reads no one else''s inbox (nor does realtime deliver it: the same policy)');
select is(people.mark_read(array(select id from people.notifications where user_id = :'friend')), 0,
          'nor marks it');
reset role;
select pg_temp.act_as(:'buyer');
select is((select count(*) from people.notifications where user_id = :'friend'), 0::bigint, 'another user reads none');
update people.notifications set read_at = now() where user_id = :'friend';
reset role;
select is((select count(*) from people.notifications where user_id = :'friend' and read_at is null), 6::bigint,
          'nor marks any through the table');
select is(pg_temp.refusal(:'buyer', format($$update people.notifications set title = 'x' where user_id = %L$$, :'buyer')),
          '42501 permission denied for table notifications', 'only read_at is writable, and only one''s own');
select is(pg_temp.refusal(:'buyer', format($$insert into people.notifications (user_id, kind, title) values (%L, 'badge.earned', 'x')$$, :'buyer')),
          '42501 permission denied for table notifications', 'nobody writes a notification directly');
select is(pg_temp.refusal(:'buyer', format($$select people_private.notify(%L, 'badge.earned', 'x')$$, :'buyer')),
          '42501 permission denied for schema people_private', 'nor calls notify');
select is(pg_temp.refusal(:'buyer', format($$insert into people.notification_preferences (user_id, kind, enabled) values (%L, 'badge.earned', false)$$, :'friend')),
          '42501 new row violates row-level security policy for table "notification_preferences"',
          'preferences are one''s own');
select is(pg_temp.refusal(null, 'select count(*) from people.notifications'), '42501 permission denied for table notifications',
          'anon reads no notifications');
select is(pg_temp.refusal(null, 'select people.unread_count()'), '42501 permission denied for function unread_count',
          'anon has no inbox');
select is(pg_temp.refusal(null, 'select people.mark_read()'), '42501 permission denied for function mark_read', 'nor marks');
select is(pg_temp.refusal(null, 'select count(*) from people.notification_kinds'), null, 'anon reads the kinds');
select set_config('role', 'service_role', true), set_config('request.jwt.claims', '{"role": "service_role"}', true);
select is((select count(*) from people.notifications where user_id = :'friend'), 8::bigint, 'service_role reads every inbox');
select throws_ok('select people.unread_count()', '42501', 'permission denied for function unread_count',
                 'but has no inbox of its own');
reset role;
select ok((select count(*) = 1 from pg_publication_tables
           where pubname = 'supabase_realtime' and schemaname = 'people' and tablename = 'notifications'),
          'notifications are in the realtime publication');

-- Retention ----------------------------------------------------------------------------------------------------
update people.notifications set created_at = now() - interval '100 days'
where user_id = :'friend' and title in ('n5', 'n4', 'n3');
select ok(people_private.prune_notifications(90) >= 2, 'the job deletes read notifications older than 90 days');
select results_eq(format($$select title from people.notifications where user_id = %L and title like 'n_' order by title$$, :'friend'),
                  $$values ('n1'::text), ('n2'), ('n3')$$, 'unread ones stay, however old');
select throws_ok('select people_private.prune_notifications(0)', '22023', 'keep_days must be at least 1', 'keep_days >= 1');
select is((select schedule from cron.job where jobname = 'people-prune-notifications'), '17 3 * * *',
          'the job runs daily');

-- The DNA feed: the processor's refresh tells the artist of each rise ------------------------------------------
select count(passport.log(:'support', 'audio.play', 'pgtap:people:play:' || g,
                          jsonb_build_object('track_id', gen_random_uuid(), 'duration_ms', 60000, 'genre', 'highlife'),
                          :'support', now() - interval '1 minute', 'system')) as _plays
from generate_series(1, 5) as g \gset
select ok(coliseum.process_pending(100000) >= 5, 'the processor folds the plays');
select ok((select count(*) from people.notifications where user_id = :'support' and kind = 'dna.increased') >= 1,
          'the artist gets dna.increased');
select is((select count(*) from people.notifications as n
           join coliseum.notifications as c on c.id = (n.payload ->> 'coliseum_notification_id')::bigint
           where n.user_id = :'support' and n.kind = 'dna.increased'
             and c.artist_id = n.user_id and c.message = n.title and c.domain = n.payload ->> 'domain'
             and n.dedupe_key = 'coliseum.notifications:' || c.id),
          (select count(*) from coliseum.notifications where artist_id = :'support'),
          'one per row of coliseum.notifications, with its domain, scores and id');
select pg_temp.act_as(:'support');
select ok(people.unread_count() >= 1, 'the artist reads them in the inbox');
reset role;

select * from finish();
rollback;
