-- Subscriptions (docs/treasury-checkout.md): memberships and Coliseum plans driven by
-- checkout.session.completed (mode subscription), invoice.paid, invoice.payment_failed and
-- customer.subscription.*: in any order and duplicated they converge; a membership's invoices
-- are payments split like any other, logged to Passport; a plan unlocks the boards while paid,
-- locks at the end of a cancelled period and after the grace period of a failed renewal.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(48);
\ir concierto_helpers.psql

select treasury.define_split_rule('pgtap membership 90/10', jsonb_build_array(
  jsonb_build_object('party_id', :'headliner', 'role', 'artist', 'share_bp', 9000),
  jsonb_build_object('party_id', null, 'role', 'platform', 'share_bp', 1000))) as rule \gset
insert into treasury.products (type, title, artist_id, price_minor, currency, split_rule_id)
values ('membership', 'Headliner fan club', :'headliner', 500, 'EUR', :'rule')
returning id as club \gset

-- The DETAIL code begin_checkout raises for items as who.
create function pg_temp.refusal_code(who uuid, items jsonb)
returns text
language plpgsql
as $$
declare
  code text;
begin
  perform pg_temp.as_user(who, format('select treasury.begin_checkout(%L::jsonb)', items));
  return 'no error';
exception when others then
  get stacked diagnostics code = pg_exception_detail;
  return code;
end
$$;

-- Stripe's created for step n of a scenario: an hour ago plus n seconds.
create function pg_temp.at(n int)
returns bigint
language sql
as $$
  select extract(epoch from now())::bigint - 3600 + n
$$;

create function pg_temp.epoch(t interval)
returns bigint
language sql
as $$
  select extract(epoch from now() + t)::bigint
$$;

create function pg_temp.plan_meta(who uuid, plan text)
returns jsonb
language sql
as $$
  select jsonb_build_object('buyer_id', who, 'kind', 'plan', 'plan', plan)
$$;

create function pg_temp.club_meta(who uuid)
returns jsonb
language sql
as $$
  select jsonb_build_object('buyer_id', who::text, 'kind', 'membership', 'product_id', p.id::text, 'artist_id', p.artist_id::text)
  from treasury.products as p where p.title = 'Headliner fan club'
$$;

create function pg_temp.ev(id text, type text, created bigint, object jsonb)
returns jsonb
language sql
as $$
  select treasury.receive_stripe_event(jsonb_build_object(
    'id', id, 'object', 'event', 'api_version', '2026-10-28.endive', 'type', type, 'created', created,
    'livemode', false, 'data', jsonb_build_object('object', object)))
$$;

create function pg_temp.session_completed(id text, created bigint, sub text, md jsonb)
returns jsonb
language sql
as $$
  select pg_temp.ev(id, 'checkout.session.completed', created, jsonb_build_object(
    'id', 'cs_' || substr(sub, 5), 'object', 'checkout.session', 'mode', 'subscription', 'status', 'complete',
    'payment_status', 'paid', 'subscription', sub, 'customer', 'cus_' || substr(sub, 5), 'amount_total', 0,
    'currency', 'eur', 'metadata', md))
$$;

-- An invoice of API 2026-10-28.endive: the subscription and its metadata under
-- parent.subscription_details, the period on the lines, no PaymentIntent.
create function pg_temp.invoice(id text, type text, created bigint, inv text, sub text, md jsonb, amount bigint,
                                period_end bigint, reason text)
returns jsonb
language sql
as $$
  select pg_temp.ev(id, type, created, jsonb_build_object(
    'id', inv, 'object', 'invoice', 'customer', 'cus_' || substr(sub, 5), 'currency', 'eur', 'billing_reason', reason,
    'amount_due', amount, 'amount_paid', case when type = 'invoice.paid' then amount else 0 end,
    'status', case when type = 'invoice.paid' then 'paid' else 'open' end,
    'period_start', period_end - 60 * 86400, 'period_end', period_end - 30 * 86400,
    'parent', jsonb_build_object('type', 'subscription_details',
                                 'subscription_details', jsonb_build_object('subscription', sub, 'metadata', md)),
    'lines', jsonb_build_object('object', 'list', 'data', jsonb_build_array(jsonb_build_object(
      'id', 'il_' || substr(inv, 4), 'amount', amount, 'currency', 'eur',
      'period', jsonb_build_object('start', period_end - 30 * 86400, 'end', period_end))))))
$$;

-- A subscription object of API 2026-10-28.endive: the period on its items.
create function pg_temp.subscription(id text, type text, created bigint, sub text, md jsonb, status text,
                                     cancelling boolean, period_end bigint, ended bigint default null)
returns jsonb
language sql
as $$
  select pg_temp.ev(id, type, created, jsonb_build_object(
    'id', sub, 'object', 'subscription', 'customer', 'cus_' || substr(sub, 5), 'status', status,
    'cancel_at_period_end', cancelling, 'ended_at', ended, 'metadata', md,
    'items', jsonb_build_object('object', 'list', 'data', jsonb_build_array(jsonb_build_object(
      'id', 'si_' || substr(sub, 5), 'current_period_start', period_end - 30 * 86400, 'current_period_end', period_end)))))
$$;

-- The plan who reads the boards under.
create function pg_temp.plan_of(who uuid)
returns text
language plpgsql
as $$
declare
  answer text;
begin
  perform pg_temp.act_as(who);
  answer := coliseum.my_plan();
  reset role;
  perform set_config('request.jwt.claims', '', true);
  return answer;
end
$$;

-- What a subscription and its user's plan row came to.
create function pg_temp.state(sub text)
returns jsonb
language sql
as $$
  select jsonb_build_object('status', s.status, 'cancel_at_period_end', s.cancel_at_period_end,
                            'paid_through', s.paid_through, 'failing_since', s.failing_since, 'access_until', s.access_until,
                            'customer', s.customer_id, 'plan_row', (select to_jsonb(u) - 'updated_at' - 'user_id' from coliseum.user_plans as u where u.user_id = s.user_id),
                            'invoices', (select count(*) from treasury.subscription_invoices as i where i.subscription_id = s.id))
  from treasury.subscriptions as s where s.stripe_subscription_id = sub
$$;

-- A pro plan's life as Stripe tells it, each step an event; order says which steps arrive in
-- what order (repeats are redeliveries of the same event).
create function pg_temp.pro_run(who uuid, sub text, steps int[])
returns jsonb
language plpgsql
as $$
declare
  step int;
  md jsonb := pg_temp.plan_meta(who, 'pro');
  period_end bigint := pg_temp.epoch('20 days');
begin
  foreach step in array steps loop
    perform case step
      when 1 then pg_temp.session_completed('evt_' || sub || '_1', pg_temp.at(1), sub, md)
      when 2 then pg_temp.subscription('evt_' || sub || '_2', 'customer.subscription.created', pg_temp.at(2), sub, md, 'incomplete', false, period_end)
      when 3 then pg_temp.invoice('evt_' || sub || '_3', 'invoice.paid', pg_temp.at(3), 'in_' || sub || '_1', sub, md, 1499, period_end, 'subscription_create')
      when 4 then pg_temp.subscription('evt_' || sub || '_4', 'customer.subscription.updated', pg_temp.at(4), sub, md, 'active', false, period_end)
      when 5 then pg_temp.subscription('evt_' || sub || '_5', 'customer.subscription.updated', pg_temp.at(5), sub, md, 'active', true, period_end)
    end;
  end loop;
  return pg_temp.state(sub) - 'customer';
end
$$;

-- Plans: events in any order converge ---------------------------------------------------------

select gen_random_uuid() as fan1, gen_random_uuid() as fan2, gen_random_uuid() as fan3, gen_random_uuid() as fan4 \gset
select pg_temp.pro_run(:'fan1', 'sub_pgtap_a', array[1, 2, 3, 4]) as run_a \gset
select is(:'run_a'::jsonb - 'paid_through' - 'access_until' - 'plan_row',
          '{"status": "active", "cancel_at_period_end": false, "failing_since": null, "invoices": 1}',
          'in order: the subscription is active with one paid invoice');
select is((:'run_a'::jsonb ->> 'access_until')::timestamptz, (:'run_a'::jsonb ->> 'paid_through')::timestamptz + interval '3 days',
          'a renewing plan gives access through the paid period plus the renewal grace');
select is(:'run_a'::jsonb #>> '{plan_row,plan}', 'pro', 'the pro plan is set');
select is(pg_temp.plan_of(:'fan1'), 'pro', 'and the boards unlock: my_plan is pro');
select is(pg_temp.pro_run(:'fan2', 'sub_pgtap_b', array[4, 3, 3, 1, 2, 4, 1]) - 'plan_row',
          :'run_a'::jsonb - 'plan_row', 'reversed and duplicated, the same state');
select is(pg_temp.pro_run(:'fan3', 'sub_pgtap_c', array[3, 1, 4, 2]) - 'plan_row',
          :'run_a'::jsonb - 'plan_row', 'the invoice first, the same state');
select is(pg_temp.plan_of(:'fan2') || pg_temp.plan_of(:'fan3'), 'propro', 'and the same plan');
select is((select count(*) from passport_entries where user_id = :'fan2' and kind = 'system.plan_changed'), 1::bigint,
          'the plan change is logged once, whatever the deliveries');
select is((select customer_id from treasury.stripe_customers where user_id = :'fan2'), 'cus_pgtap_b',
          'the customer is recorded for the billing portal');

-- Cancelled at period end: locks when the period ends.
select pg_temp.pro_run(:'fan1', 'sub_pgtap_a', array[5]) as cancelled \gset
select is((:'cancelled'::jsonb ->> 'access_until')::timestamptz, (:'cancelled'::jsonb ->> 'paid_through')::timestamptz,
          'cancelled at period end: access until the paid period ends, no grace');
select is((:'cancelled'::jsonb #>> '{plan_row,expires_at}')::timestamptz, (:'cancelled'::jsonb ->> 'paid_through')::timestamptz,
          'the plan row ends then');
select is(pg_temp.plan_of(:'fan1'), 'pro', 'the board stays unlocked until then');
select is(pg_temp.pro_run(:'fan2', 'sub_pgtap_b', array[5, 4, 3]) - 'plan_row', :'cancelled'::jsonb - 'plan_row',
          'the cancellation first, then older events: still cancelled');
select is(pg_temp.subscription('evt_sub_pgtap_a_0', 'customer.subscription.updated', pg_temp.at(0), 'sub_pgtap_a',
                               pg_temp.plan_meta(:'fan1', 'pro'), 'active', false, pg_temp.epoch('20 days')) ->> 'status',
          'ignored', 'a state older than the recorded one is ignored');
update coliseum.user_plans set expires_at = now() - interval '1 second' where user_id = :'fan1';
select is(pg_temp.plan_of(:'fan1'), 'free', 'once the period is over the board locks, before any event');

-- A period that ended an hour ago and was cancelled: locked, and the row goes.
select pg_temp.session_completed('evt_sub_pgtap_d_1', pg_temp.at(1), 'sub_pgtap_d', pg_temp.plan_meta(:'fan4', 'enterprise')) as done \gset
select pg_temp.invoice('evt_sub_pgtap_d_2', 'invoice.paid', pg_temp.at(2), 'in_pgtap_d_1', 'sub_pgtap_d',
                       pg_temp.plan_meta(:'fan4', 'enterprise'), 9900, pg_temp.epoch('-1 hour'), 'subscription_create') as done \gset
select is(pg_temp.plan_of(:'fan4'), 'enterprise', 'a renewal that is due: access during the grace period');
select pg_temp.subscription('evt_sub_pgtap_d_3', 'customer.subscription.deleted', pg_temp.at(3), 'sub_pgtap_d',
                            pg_temp.plan_meta(:'fan4', 'enterprise'), 'canceled', false, pg_temp.epoch('-1 hour'), pg_temp.epoch('-1 hour')) as done \gset
select is(pg_temp.plan_of(:'fan4'), 'free', 'deleted at the end of its period: the board locks');
select ok(not exists (select 1 from coliseum.user_plans where user_id = :'fan4'), 'and the plan row is removed');
select is((select payload ->> 'plan' from passport_entries where user_id = :'fan4' and kind = 'system.plan_changed'
           and client_event_id = 'stripe:evt_sub_pgtap_d_3:plan'), 'free', 'the downgrade is logged under an id derived from the event');

-- Grace period of a failed renewal.
select gen_random_uuid() as fan5, gen_random_uuid() as fan6 \gset
select pg_temp.invoice('evt_sub_pgtap_e_1', 'invoice.paid', pg_temp.at(1) - 40 * 86400, 'in_pgtap_e_1', 'sub_pgtap_e',
                       pg_temp.plan_meta(:'fan5', 'basic'), 499, pg_temp.epoch('-2 days'), 'subscription_create') as done \gset
select pg_temp.invoice('evt_sub_pgtap_e_2', 'invoice.payment_failed', pg_temp.epoch('-1 day'), 'in_pgtap_e_2', 'sub_pgtap_e',
                       pg_temp.plan_meta(:'fan5', 'basic'), 499, pg_temp.epoch('28 days'), 'subscription_cycle') as done \gset
select is(pg_temp.plan_of(:'fan5'), 'basic', 'a renewal failed a day ago: still within the 3-day grace');
select is((select access_until from treasury.subscriptions where stripe_subscription_id = 'sub_pgtap_e'),
          to_timestamp(pg_temp.epoch('-1 day')) + interval '3 days', 'access ends 3 days after the first failure');
select pg_temp.invoice('evt_sub_pgtap_f_1', 'invoice.paid', pg_temp.at(1) - 40 * 86400, 'in_pgtap_f_1', 'sub_pgtap_f',
                       pg_temp.plan_meta(:'fan6', 'basic'), 499, pg_temp.epoch('-5 days'), 'subscription_create') as done \gset
select pg_temp.invoice('evt_sub_pgtap_f_3', 'invoice.payment_failed', pg_temp.epoch('-2 days'), 'in_pgtap_f_2', 'sub_pgtap_f',
                       pg_temp.plan_meta(:'fan6', 'basic'), 499, pg_temp.epoch('25 days'), 'subscription_cycle') as done \gset
select pg_temp.invoice('evt_sub_pgtap_f_2', 'invoice.payment_failed', pg_temp.epoch('-4 days'), 'in_pgtap_f_2', 'sub_pgtap_f',
                       pg_temp.plan_meta(:'fan6', 'basic'), 499, pg_temp.epoch('25 days'), 'subscription_cycle') as done \gset
select is((select failing_since from treasury.subscriptions where stripe_subscription_id = 'sub_pgtap_f'),
          to_timestamp(pg_temp.epoch('-4 days')), 'the grace counts from the first failure, whatever order the retries arrive in');
select is(pg_temp.plan_of(:'fan6'), 'free', 'four days after the first failure the plan is downgraded');
select pg_temp.invoice('evt_sub_pgtap_f_4', 'invoice.paid', pg_temp.epoch('-1 minute'), 'in_pgtap_f_2', 'sub_pgtap_f',
                       pg_temp.plan_meta(:'fan6', 'basic'), 499, pg_temp.epoch('25 days'), 'subscription_cycle') as done \gset
select is(pg_temp.plan_of(:'fan6'), 'basic', 'the retry is paid: the plan is back');
select ok((select failing_since is null from treasury.subscriptions where stripe_subscription_id = 'sub_pgtap_f'), 'and nothing is failing');

-- A plan set by hand is not lowered by a subscription.
select coliseum.set_plan(:'fan3', 'enterprise') as done \gset
select pg_temp.pro_run(:'fan3', 'sub_pgtap_c', array[5]) as done \gset
select is((select plan || ' ' || coalesce(expires_at::text, 'forever') from coliseum.user_plans where user_id = :'fan3'),
          'enterprise forever', 'a hand-set enterprise plan stays when a pro subscription changes');

-- A plan bought through begin_checkout: the session's completion completes the checkout.
select gen_random_uuid() as fan7 \gset
select pg_temp.as_user(:'fan7', $$select treasury.begin_checkout('[{"kind": "plan", "plan": "pro"}]')$$) as pro_co \gset
select pg_temp.session_completed('evt_sub_pgtap_g_1', pg_temp.at(1), 'sub_pgtap_g', :'pro_co'::jsonb #> '{session_params,metadata}') as done \gset
select is((select status from treasury.checkouts where id = (:'pro_co'::jsonb ->> 'checkout_id')::uuid), 'completed',
          'checkout.session.completed (mode subscription) completes the checkout');
select is((select checkout_id::text || ' ' || plan from treasury.subscriptions where stripe_subscription_id = 'sub_pgtap_g'),
          (:'pro_co'::jsonb ->> 'checkout_id') || ' pro', 'and records the subscription of its plan');
select is(pg_temp.refusal_code(:'fan7', '[{"kind": "plan", "plan": "basic"}]'), 'already_subscribed',
          'a user with a plan subscription cannot start another: they change it in the billing portal');

-- Memberships --------------------------------------------------------------------------------

select pg_temp.invoice('evt_club_1', 'invoice.paid', pg_temp.at(1), 'in_pgtap_club_1', 'sub_pgtap_club', pg_temp.club_meta(:'buyer'),
                       500, pg_temp.epoch('30 days'), 'subscription_create') as club_paid \gset
select is(:'club_paid'::jsonb ->> 'status', 'applied', 'the first invoice of a membership, before its checkout event, is applied');
select is((select jsonb_build_object('product', product_id = :'club', 'type', product_type, 'buyer', buyer_id = :'buyer',
                                     'amount', amount_minor, 'currency', currency)
           from treasury.payments where id = 'in_pgtap_club_1'),
          '{"product": true, "type": "membership", "buyer": true, "amount": 500, "currency": "EUR"}',
          'it is booked as a payment of the membership product under the invoice id');
select results_eq($$select role, amount_minor from public.treasury_splits where payment_id = 'in_pgtap_club_1' order by party_index$$,
                  $$values ('artist', 450::bigint), ('platform', 50::bigint)$$, 'split by the membership''s rule');
select is((select payload - 'membership_id' from passport_entries where user_id = :'buyer' and kind = 'membership.started'),
          '{"plan": "monthly", "amount_minor": 500, "currency": "EUR"}', 'membership.started is logged');
select pg_temp.session_completed('evt_club_0', pg_temp.at(0), 'sub_pgtap_club', pg_temp.club_meta(:'buyer')) as done \gset
select pg_temp.invoice('evt_club_1_again', 'invoice.paid', pg_temp.at(5), 'in_pgtap_club_1', 'sub_pgtap_club', pg_temp.club_meta(:'buyer'),
                       500, pg_temp.epoch('30 days'), 'subscription_create') as done \gset
select is((select count(*) from treasury.payments where id = 'in_pgtap_club_1'), 1::bigint,
          'the same invoice in another event books nothing twice');
select pg_temp.invoice('evt_club_2', 'invoice.paid', pg_temp.at(6), 'in_pgtap_club_2', 'sub_pgtap_club', pg_temp.club_meta(:'buyer'),
                       500, pg_temp.epoch('60 days'), 'subscription_cycle') as done \gset
select is((select count(*) from passport_entries where user_id = :'buyer' and kind = 'membership.renewed'
           and client_event_id = 'invoice:in_pgtap_club_2:renewed'), 1::bigint, 'a renewal is membership.renewed');
select is((select paid_through from treasury.subscriptions where stripe_subscription_id = 'sub_pgtap_club'),
          to_timestamp(pg_temp.epoch('60 days')), 'and extends the paid period');
select pg_temp.subscription('evt_club_3', 'customer.subscription.updated', pg_temp.at(7), 'sub_pgtap_club', pg_temp.club_meta(:'buyer'),
                            'active', true, pg_temp.epoch('60 days')) as done \gset
select pg_temp.subscription('evt_club_4', 'customer.subscription.updated', pg_temp.at(8), 'sub_pgtap_club', pg_temp.club_meta(:'buyer'),
                            'active', true, pg_temp.epoch('60 days')) as done \gset
select is((select count(*) from passport_entries where user_id = :'buyer' and kind = 'membership.cancelled'), 1::bigint,
          'cancelling is membership.cancelled, once');
select is(pg_temp.refusal_code(:'buyer', jsonb_build_array(jsonb_build_object('kind', 'membership', 'artist_id', :'headliner'))),
          'already_subscribed', 'a member cannot start the same membership again');
select is_empty($$select * from treasury.check_invariants()$$, 'the ledger is balanced');

-- Events that are not ours --------------------------------------------------------------------

select is(pg_temp.subscription('evt_foreign', 'customer.subscription.updated', pg_temp.at(1), 'sub_foreign', '{}', 'active', false,
                               pg_temp.epoch('30 days')) ->> 'status', 'ignored', 'a subscription without our metadata is ignored');
select pg_temp.invoice('evt_bad_meta', 'invoice.paid', pg_temp.at(1), 'in_bad', 'sub_bad',
                       jsonb_build_object('kind', 'membership', 'buyer_id', :'buyer', 'product_id', gen_random_uuid()),
                       500, pg_temp.epoch('30 days'), 'subscription_create') as bad_meta \gset
select is(:'bad_meta'::jsonb ->> 'status', 'failed', 'one with broken metadata is failed');
select matches(:'bad_meta'::jsonb ->> 'note', '^metadata.product_id [0-9a-f-]{36} is not a membership product$', 'with why');
select is(pg_temp.ev('evt_plain_invoice', 'invoice.paid', pg_temp.at(1), '{"id": "in_plain", "object": "invoice", "parent": null}') ->> 'status',
          'ignored', 'an invoice of no subscription is ignored');

-- Row level security and the billing account ---------------------------------------------------

select pg_temp.act_as(:'fan2');
select is((select count(*) from treasury.subscriptions where user_id <> :'fan2'), 0::bigint, 'a user reads no one else''s subscriptions');
select is((select count(*) from treasury.subscriptions), 1::bigint, 'but reads their own');
select is((select count(*) from treasury.stripe_customers where user_id <> :'fan2')
          + (select count(*) from treasury.subscription_invoices as i join treasury.subscriptions as s on s.id = i.subscription_id where s.user_id <> :'fan2'),
          0::bigint, 'nor anyone else''s customer or invoices');
select is(treasury.billing_customer(), 'cus_pgtap_b', 'billing_customer names their Stripe customer');
reset role;
select throws_ok(pg_temp.call_as(:'stranger', 'select to_jsonb(treasury.billing_customer())'), 'P0002',
                 'you have no subscription to manage', 'a user who never subscribed has no_billing_account');

select * from finish();
rollback;
