-- Concierto's objects: its tables with row level security, its functions (security definer,
-- empty search_path, a comment each) and who may call them, the Treasury hooks it installs and
-- its pg_cron job.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(22);

select tables_are('concierto',
  array['events', 'event_artists', 'ticket_tiers', 'staff', 'orders', 'scans', 'ticket_transfers', 'refunds_due',
        'settings', 'event_rsvp', 'artist_applications'],
  'the concierto tables');
select has_table('public', 'event_tickets', 'tickets keep the table name the app uses');
select columns_are('public', 'event_tickets',
  array['id', 'event_id', 'tier_id', 'order_id', 'seat', 'owner_id', 'state', 'version', 'issued_at', 'transferred_at',
        'redeemed_at', 'redeemed_gate', 'redeemed_by', 'voided_at', 'void_reason'],
  'a ticket: event, tier, order, seat, owner, state, version and what happened to it');
select col_type_is('public', 'event_tickets', 'version', 'integer', 'the version is an integer (the token carries it as u32)');
select col_type_is('concierto', 'ticket_tiers', 'price_minor', 'bigint', 'prices are bigint minor units');
select col_type_is('concierto', 'orders', 'amount_minor', 'bigint', 'and so are order amounts');

select is(
  (select array_agg(c.oid::regclass::text order by 1) from pg_class as c
   where c.oid in ('concierto.events'::regclass, 'concierto.event_artists'::regclass, 'concierto.ticket_tiers'::regclass,
                   'concierto.staff'::regclass, 'concierto.orders'::regclass, 'public.event_tickets'::regclass,
                   'concierto.scans'::regclass, 'concierto.ticket_transfers'::regclass, 'concierto.refunds_due'::regclass,
                   'concierto.settings'::regclass, 'concierto.event_rsvp'::regclass,
                   'concierto.artist_applications'::regclass)
     and not c.relrowsecurity),
  null,
  'row level security is on for every Concierto table'
);
select is(
  (select array_agg(c.oid::regclass::text order by 1) from pg_class as c
   where (c.relnamespace = 'concierto'::regnamespace and c.relkind = 'r' or c.oid = 'public.event_tickets'::regclass)
     and obj_description(c.oid, 'pg_class') is null),
  null,
  'every Concierto table has a comment'
);
select is(
  (select array_agg(r || ' ' || t || ' ' || p order by 1)
   from unnest(array['anon', 'authenticated', 'service_role']) as r,
        unnest(array['concierto.events', 'concierto.event_artists', 'concierto.ticket_tiers', 'concierto.staff',
                      'concierto.orders', 'public.event_tickets', 'concierto.scans', 'concierto.ticket_transfers',
                      'concierto.refunds_due', 'concierto.settings', 'concierto.event_rsvp',
                      'concierto.artist_applications']) as t,
        unnest(array['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE']) as p
   where has_table_privilege(r, t, p)),
  null,
  'no API role writes a Concierto table: changes go through the functions'
);

select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc as p
   where p.pronamespace = 'concierto'::regnamespace
     and not (p.prosecdef and p.proconfig @> array['search_path=""'])),
  null,
  'every concierto function runs as security definer with an empty search_path'
);
select is(
  (select array_agg(p.oid::regprocedure::text order by 1) from pg_proc as p
   where p.pronamespace = 'concierto'::regnamespace and obj_description(p.oid, 'pg_proc') is null),
  null,
  'every concierto function has a comment'
);
select results_eq(
  $$select p.proname::text collate "default", array_agg(r order by r)
    from pg_proc as p cross join unnest(array['anon', 'authenticated', 'service_role']) as r
    where p.pronamespace = 'concierto'::regnamespace and has_function_privilege(r, p.oid, 'EXECUTE')
    group by p.proname order by p.proname$$,
  $$values ('add_staff', '{authenticated,service_role}'::text[]), ('apply_to_event', '{authenticated}'),
           ('availability', '{anon,authenticated,service_role}'), ('can_see_event', '{anon,authenticated,service_role}'),
           ('cancel_event', '{authenticated,service_role}'), ('cancel_rsvp', '{authenticated}'),
           ('create_draft_event', '{authenticated}'), ('create_event', '{service_role}'),
           ('create_tier', '{authenticated,service_role}'), ('decide_application', '{authenticated,service_role}'),
           ('host_stats', '{authenticated,service_role}'), ('is_staff', '{anon,authenticated,service_role}'),
           ('lineup_invitations', '{authenticated}'), ('my_rsvps', '{authenticated}'),
           ('publish_event', '{authenticated,service_role}'), ('redeem', '{authenticated}'),
           ('remove_staff', '{authenticated,service_role}'), ('remove_tier', '{authenticated,service_role}'),
           ('reserve', '{authenticated}'), ('respond_to_lineup', '{authenticated}'), ('rsvp', '{authenticated}'),
           ('set_lineup', '{authenticated,service_role}'), ('set_platform_share', '{authenticated,service_role}'),
           ('ticket_for_token', '{authenticated}'), ('transfer_ticket', '{authenticated}'),
           ('update_event', '{authenticated,service_role}'), ('update_tier', '{authenticated,service_role}'),
           ('upload_scans', '{authenticated}')$$,
  'who may call each concierto function'
);
select is(
  (select array_agg(p.proname::text order by 1) from pg_proc as p
   cross join unnest(array['anon', 'authenticated', 'service_role']) as r
   where p.pronamespace = 'concierto_private'::regnamespace and has_function_privilege(r, p.oid, 'EXECUTE')),
  null,
  'no API role may call a concierto_private function'
);

select function_returns('concierto', 'reserve', array['uuid', 'integer'], 'jsonb', 'reserve(tier_id, quantity) returns jsonb');
select function_returns('concierto', 'ticket_for_token', array['uuid'], 'jsonb', 'ticket_for_token(ticket_id) returns jsonb');
select function_returns('concierto', 'redeem', array['uuid', 'integer', 'uuid', 'text', 'timestamp with time zone', 'text'],
                        'jsonb', 'redeem(ticket_id, version, event_id, gate, scanned_at, nonce) returns jsonb');
select function_returns('concierto', 'upload_scans', array['jsonb'], 'jsonb', 'upload_scans(scans) returns jsonb');
select function_returns('concierto', 'transfer_ticket', array['uuid', 'uuid'], 'jsonb', 'transfer_ticket(ticket_id, to_user) returns jsonb');
select is(
  (select array_agg(p.proargnames::text order by p.proname) from pg_proc as p
   where p.pronamespace = 'concierto'::regnamespace and p.proname in ('reserve', 'redeem', 'upload_scans', 'ticket_for_token')),
  array['{ticket_id,version,event_id,gate,scanned_at,nonce}', '{tier_id,quantity}', '{ticket_id}', '{scans}'],
  'the parameter names the app and the edge pass (PostgREST names them)'
);

select ok(
  (select bool_and(p.prosrc like '%concierto_private.%') from pg_proc as p
   where p.oid in ('treasury_private.after_payment(text)'::regprocedure, 'treasury_private.after_refund(text, bigint)'::regprocedure)),
  'Concierto installs Treasury''s payment and refund hooks'
);
select is(
  (select array_agg(p.proname::text order by 1) from pg_proc as p
   cross join unnest(array['anon', 'authenticated', 'service_role']) as r
   where p.oid in ('treasury_private.after_payment(text)'::regprocedure, 'treasury_private.after_refund(text, bigint)'::regprocedure)
     and has_function_privilege(r, p.oid, 'EXECUTE')),
  null,
  'which no API role may call'
);
select is(
  (select count(*)::int from cron.job where jobname = 'concierto-expire-orders' and schedule = '* * * * *'
     and command = 'select concierto_private.expire_orders()'),
  1,
  'pg_cron expires reservations every minute'
);

select * from finish();
rollback;
