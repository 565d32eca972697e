-- Treasury refund requests (docs/treasury-refunds.md): treasury_private.request_refund validates against
-- what is still refundable (open requests counted) and answers a repeated idempotency key with the same
-- request; treasury.request_refund is for admins and service_role; the worker claims due requests with a
-- lease, records Stripe's refund or a failure (retry or final); a request is refunded once the
-- charge.refunded booking covers it, in the order the requests were sent. Admins read the requests, nobody
-- else. Two sessions racing on one payment: tests/tests/refund_race.rs.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(70);
\ir concierto_helpers.psql

-- Requests other tests or the demo left are set aside for this transaction, so the worker's claims below
-- see this test's alone.
delete from treasury.refund_requests;

select gen_random_uuid() as admin \gset
insert into treasury.admins (user_id, note) values (:'admin', 'pgtap refunds');

select pg_temp.buy(:'buyer', :'tier', 2, 'pi_pgtap_refunds_1') as o1 \gset
select pg_temp.buy(:'friend', :'tier', 1, 'pi_pgtap_refunds_2') as o2 \gset
select pg_temp.buy(:'friend', :'tier', 1, 'pi_pgtap_refunds_3') as o3 \gset

create function pg_temp.state(id uuid)
returns text
language sql
as $$
  select state from treasury.refund_requests as r where r.id = state.id
$$;

-- Schema -------------------------------------------------------------------------------------------------------
select has_table('treasury', 'refund_requests', 'treasury.refund_requests exists');
select ok((select relrowsecurity from pg_class where oid = 'treasury.refund_requests'::regclass), 'with row level security');
select col_is_unique('treasury', 'refund_requests', 'idempotency_key', 'one request per idempotency key');

-- Validation ---------------------------------------------------------------------------------------------------
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', 0, 'why', 'pgtap_refunds_zero')$$,
                 '22023', 'amount_minor must be an integer > 0 (minor units), got 0', 'a zero amount is refused');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', -5, 'why', 'pgtap_refunds_neg')$$,
                 '22023', 'amount_minor must be an integer > 0 (minor units), got -5', 'a negative amount is refused');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', null, 'why', 'pgtap_refunds_null')$$,
                 '22023', 'amount_minor must be an integer > 0 (minor units), got null', 'a null amount is refused');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', 100, '  ', 'pgtap_refunds_blank')$$,
                 '22023', 'reason must be a non-blank string of at most 500 characters', 'a blank reason is refused');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', 100, 'why', '')$$,
                 '22023', 'idempotency_key must be a string of 1 to 255 characters (Stripe''s limit)', 'an empty key is refused');
select throws_ok(format($$select treasury_private.request_refund('pi_pgtap_refunds_1', 100, 'why', %L)$$, repeat('k', 256)),
                 '22023', 'idempotency_key must be a string of 1 to 255 characters (Stripe''s limit)',
                 'a key longer than Stripe''s 255 characters is refused');
select throws_ok($$select treasury_private.request_refund(null, 100, 'why', 'pgtap_refunds_nopay')$$,
                 '22023', 'payment_id is required', 'a missing payment is refused');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_unknown', 100, 'why', 'pgtap_refunds_unknown')$$,
                 'P0002', 'payment pi_pgtap_refunds_unknown is not a recorded payment', 'an unknown payment is refused');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', 5001, 'why', 'pgtap_refunds_over')$$,
                 '55000', 'payment pi_pgtap_refunds_1 has 5000 EUR left to refund, asked for 5001 (paid 5000, refunded 0, '
                          'lost in disputes 0, in open disputes 0, in open refund requests 0)',
                 'more than the payment is refused, naming what is left');
select is((select count(*) from treasury.refund_requests), 0::bigint, 'no refused call left a request');

-- Idempotency and what is still refundable ----------------------------------------------------------------------
select treasury_private.request_refund('pi_pgtap_refunds_1', 3000, 'event cancelled', 'pgtap_refunds_a') as ra \gset
select results_eq(format($$select payment_id, amount_minor, currency::text, reason, state, attempts, stripe_refund_id, requested_by
                           from treasury.refund_requests where id = %L$$, :'ra'),
                  $$values ('pi_pgtap_refunds_1', 3000::bigint, 'EUR', 'event cancelled', 'requested', 0, null::text, null::uuid)$$,
                  'a request: in the payment''s currency, requested, no attempt yet, by the platform');
select is(treasury_private.request_refund('pi_pgtap_refunds_1', 3000, 'event cancelled', 'pgtap_refunds_a'), :'ra'::uuid,
          'the same key answers the same request');
select is((select count(*) from treasury.refund_requests where payment_id = 'pi_pgtap_refunds_1'), 1::bigint, 'and makes no second');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', 2000, 'event cancelled', 'pgtap_refunds_a')$$,
                 '22023', 'idempotency_key pgtap_refunds_a was used for a refund of 3000 EUR of payment pi_pgtap_refunds_1',
                 'the same key for another amount is refused');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', 2001, 'event cancelled', 'pgtap_refunds_b')$$,
                 '55000', 'payment pi_pgtap_refunds_1 has 2000 EUR left to refund, asked for 2001 (paid 5000, refunded 0, '
                          'lost in disputes 0, in open disputes 0, in open refund requests 3000)',
                 'an open request counts: over-requesting is refused');
select treasury_private.request_refund('pi_pgtap_refunds_1', 2000, 'event cancelled', 'pgtap_refunds_b') as rb \gset
select ok(:'rb'::uuid <> :'ra'::uuid, 'what is left can be requested under another key');
select throws_ok($$select treasury_private.request_refund('pi_pgtap_refunds_1', 1, 'event cancelled', 'pgtap_refunds_c')$$,
                 '55000', null, 'and then nothing more');

-- The admin RPC and who may call what -------------------------------------------------------------------------
select pg_temp.act_as(:'admin');
select lives_ok($$select treasury.request_refund('pi_pgtap_refunds_2', 1000, 'refunds_due: seat sold twice', 'pgtap_refunds_admin')$$,
                'an admin asks for a refund');
select is((select count(*) from treasury.refund_requests), 3::bigint, 'an admin reads every request');
select throws_ok($$select treasury.claim_refund_work()$$, '42501', null, 'an admin cannot claim the worker''s batch');
reset role;
select pg_temp.act_as(:'buyer');
select throws_ok($$select treasury.request_refund('pi_pgtap_refunds_1', 1, 'mine', 'pgtap_refunds_buyer')$$,
                 '42501', 'treasury.request_refund is for Treasury admins', 'the buyer cannot ask for a refund of their own payment');
select is((select count(*) from treasury.refund_requests), 0::bigint, 'the buyer reads no request, not even of their payment');
select throws_ok($$select treasury.record_refund_sent(gen_random_uuid(), 're_x', 'succeeded')$$, '42501', null,
                 'a user cannot record a refund');
select throws_ok($$select treasury.record_refund_failure(gen_random_uuid(), 'x', null)$$, '42501', null,
                 'nor a failure');
select throws_ok($$insert into treasury.refund_requests (payment_id, amount_minor, currency, reason, idempotency_key, next_attempt_at)
                   values ('pi_pgtap_refunds_1', 1, 'EUR', 'x', 'pgtap_refunds_direct', now())$$, '42501', null,
                 'nor write the table');
reset role;
set local role anon;
set local request.jwt.claims to '{"role": "anon"}';
select throws_ok('select count(*) from treasury.refund_requests', '42501', 'permission denied for table refund_requests',
                 'anon reads no requests');
select throws_ok($$select treasury.request_refund('pi_pgtap_refunds_1', 1, 'x', 'pgtap_refunds_anon')$$, '42501', null,
                 'anon cannot ask for a refund');
reset role;
set local role service_role;
set local request.jwt.claims to '{"role": "service_role"}';
select is((select count(*) from treasury.refund_requests), 3::bigint, 'service_role reads every request');
select is((treasury.request_refund('pi_pgtap_refunds_3', 2500, 'refunds_due', 'pgtap_refunds_service')).state, 'requested',
          'service_role asks for a refund');
reset role;
select set_config('request.jwt.claims', '', true);
select is((select requested_by from treasury.refund_requests where idempotency_key = 'pgtap_refunds_admin'), :'admin'::uuid,
          'a request names the admin who asked');

-- The worker's claim ---------------------------------------------------------------------------------------------
select is((select string_agg(w ->> 'idempotency_key', ',' order by w ->> 'idempotency_key')
           from jsonb_array_elements(treasury.claim_refund_work(10, 300)) as w),
          'pgtap_refunds_a,pgtap_refunds_admin,pgtap_refunds_b,pgtap_refunds_service', 'the worker claims every due request');
select is(jsonb_array_length(treasury.claim_refund_work(10, 300)), 0, 'a second run claims none while they are leased');
select is((select w from jsonb_array_elements(treasury.claim_refund_work(10, 300, now() + interval '301 seconds')) as w
           where w ->> 'id' = :'ra'),
          jsonb_build_object('id', :'ra', 'payment_id', 'pi_pgtap_refunds_1', 'payment_intent', 'pi_pgtap_refunds_1', 'charge', null,
                             'amount', 3000, 'currency', 'eur', 'reason', 'event cancelled',
                             'idempotency_key', 'pgtap_refunds_a', 'attempts', 2),
          'once the lease ran out the next run claims them again, a second attempt, with what the Stripe call needs');
select throws_ok('select treasury.claim_refund_work(0)', '22023', 'batch_size must be between 1 and 1000, got 0', 'a bad batch size');

-- Failures ------------------------------------------------------------------------------------------------------
select is(treasury.record_refund_failure(:'ra', 'Stripe answered nothing: network', 120) ->> 'state', 'requested',
          'a failure to retry leaves the request requested');
select is((select next_attempt_at > now() + interval '119 seconds' and leased_until is null and last_error like 'Stripe answered nothing%'
           from treasury.refund_requests where id = :'ra'), true, 'due again after the delay, the error kept');
select is((select count(*) from jsonb_array_elements(treasury.claim_refund_work(10, 300, now() + interval '60 seconds')) as w
           where w ->> 'id' = :'ra'), 0::bigint, 'not claimed before it is due');
select is((select count(*) from jsonb_array_elements(treasury.claim_refund_work(10, 300, now() + interval '121 seconds')) as w
           where w ->> 'id' = :'ra'), 1::bigint, 'claimed once it is');
select is(treasury.record_refund_failure((select id from treasury.refund_requests where idempotency_key = 'pgtap_refunds_admin'),
                                         'charge_already_refunded: Charge has already been refunded.', null) ->> 'state',
          'failed', 'a refusal about the refund fails it for good');
select lives_ok($$select treasury_private.request_refund('pi_pgtap_refunds_2', 1000, 'refunds_due again', 'pgtap_refunds_admin_2')$$,
                'a failed request no longer counts: the amount can be asked for again');
select throws_ok(format('select treasury.record_refund_failure(%L, %L, 0)', :'ra', 'x'), '22023', null,
                 'a retry delay must be at least a second');

-- Sent, then booked ---------------------------------------------------------------------------------------------
select is(treasury.record_refund_sent(:'ra', 're_pgtap_a', 'succeeded') ->> 'state', 'sent', 'Stripe''s refund: sent');
select is(treasury.record_refund_sent(:'ra', 're_pgtap_a', 'succeeded') ->> 'state', 'sent', 'recording it again changes nothing');
select throws_ok(format('select treasury.record_refund_sent(%L, %L, %L)', :'ra', 're_pgtap_other', 'succeeded'), '55000',
                 format('refund request %s was answered with refund re_pgtap_a, not re_pgtap_other', :'ra'),
                 'another refund for the same request is refused');
select is(treasury.record_refund_failure(:'ra', 'late', 60) ->> 'state', 'sent', 'a late failure leaves a sent request sent');
select is(treasury.record_refund_sent(:'rb', 're_pgtap_b', 'succeeded', now() + interval '1 second') ->> 'state', 'sent',
          'the second request is sent after it');

select is(pg_temp.refund('pi_pgtap_refunds_1', 5000, 2000) ->> 'status', 'applied', 'Stripe books 2000 of the payment');
select is(pg_temp.state(:'ra') || ',' || pg_temp.state(:'rb'), 'sent,sent',
          'a total that does not cover the first request sent marks none');
select is(pg_temp.refund('pi_pgtap_refunds_1', 5000, 3000) ->> 'status', 'applied', 'then 3000');
select is(pg_temp.state(:'ra') || ',' || pg_temp.state(:'rb'), 'refunded,sent', 'the first request is refunded');
select is(pg_temp.refund('pi_pgtap_refunds_1', 5000, 5000) ->> 'status', 'applied', 'then all of it');
select is(pg_temp.state(:'ra') || ',' || pg_temp.state(:'rb'), 'refunded,refunded', 'both are refunded');
select is((select count(*) from public.event_tickets where order_id = :'o1' and state = 'void'), 2::bigint,
          'and the order''s tickets are void');
select is(pg_temp.receive('evt_pgtap_refunds_again', 'charge.refunded', jsonb_build_object(
            'id', 'ch_pgtap_refunds_1', 'object', 'charge', 'payment_intent', 'pi_pgtap_refunds_1', 'amount', 5000,
            'amount_refunded', 5000, 'refunded', true, 'currency', 'eur')) ->> 'note',
          'already_recorded', 'another charge.refunded with the same total books nothing twice');
select is((select refunded_minor from treasury.payments where id = 'pi_pgtap_refunds_1'), 5000::bigint,
          'the payment is refunded once');

-- The booking arrives before the worker records Stripe's answer.
select id as rs from treasury.refund_requests where idempotency_key = 'pgtap_refunds_service' \gset
select is(pg_temp.refund('pi_pgtap_refunds_3', 2500, 2500) ->> 'status', 'applied', 'Stripe books a refund the worker has not recorded yet');
select is(pg_temp.state(:'rs'), 'requested', 'the request waits for its refund id');
select is(treasury.record_refund_sent(:'rs', 're_pgtap_s', 'succeeded') ->> 'state', 'refunded',
          'recorded afterwards, it is refunded at once');

-- Stripe's refund events ------------------------------------------------------------------------------------------
create function pg_temp.refund_object(id text, status text, request text, failure text default null)
returns jsonb
language sql
as $$
  select jsonb_strip_nulls(jsonb_build_object(
    'id', id, 'object', 'refund', 'amount', 1000, 'currency', 'eur', 'payment_intent', 'pi_pgtap_refunds_2',
    'charge', 'ch_pgtap_refunds_2', 'status', status, 'failure_reason', failure,
    'metadata', case when request is null then '{}'::jsonb else jsonb_build_object('refund_request_id', request) end))
$$;

select id as r2 from treasury.refund_requests where idempotency_key = 'pgtap_refunds_admin_2' \gset
select is(pg_temp.receive('evt_pgtap_refunds_rc', 'refund.created', pg_temp.refund_object('re_pgtap_r2', 'pending', :'r2')) ->> 'state',
          'sent', 'refund.created for a request whose answer the worker has not recorded: sent');
select is((select stripe_refund_id || ' ' || stripe_status from treasury.refund_requests where id = :'r2'), 're_pgtap_r2 pending',
          'with Stripe''s refund and its status');
select is(pg_temp.receive('evt_pgtap_refunds_rf', 'refund.updated',
                          pg_temp.refund_object('re_pgtap_r2', 'failed', :'r2', 'expired_or_canceled_card')) ->> 'state',
          'failed', 'refund.updated to failed fails the request');
select is((select last_error from treasury.refund_requests where id = :'r2'),
          'Stripe''s refund re_pgtap_r2 is failed: expired_or_canceled_card', 'naming Stripe''s reason');
select is(pg_temp.receive('evt_pgtap_refunds_late', 'refund.created', pg_temp.refund_object('re_pgtap_r2', 'succeeded', :'r2')) ->> 'state',
          'failed', 'an older event arriving late changes nothing');
select is(treasury.record_refund_sent(:'r2', 're_pgtap_r2', 'succeeded') ->> 'state', 'failed',
          'nor does a late answer of the worker');
select lives_ok($$select treasury_private.request_refund('pi_pgtap_refunds_2', 2500, 'again', 'pgtap_refunds_admin_3')$$,
                'the failed refund no longer holds its amount');
select is(pg_temp.receive('evt_pgtap_refunds_dash', 'refund.created', pg_temp.refund_object('re_pgtap_dashboard', 'succeeded', null)) ->> 'status',
          'ignored', 'a refund made elsewhere is left to charge.refunded');
select is(pg_temp.receive('evt_pgtap_refunds_bad', 'refund.updated', pg_temp.refund_object('x_1', 'succeeded', :'r2')) ->> 'status',
          'failed', 'an event whose object is no refund is recorded failed');

-- Two sessions asking at once for more than is left of one payment: the payment row lock serialises them and
-- the second sees the first's request (tests/tests/refund_race.rs runs it over real connections, and tests/e2e/refunds.test.ts).
select * from finish();
rollback;
