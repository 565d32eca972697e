-- Treasury receipts outbox: the payment's own transaction writes the messages of its facts (the
-- payment receipt, the tickets issued, a refund, a payout paid), once per fact, to the address
-- auth.users has (none: skipped); the sender claims due messages with a lease, marks them sent
-- or failed (backoff, then failed for good after 8 attempts or at once when retrying cannot help);
-- only service_role reads the table.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(41);
\ir concierto_helpers.psql

-- Messages other tests left in this database (the end-to-end tests fill the outbox) are set aside
-- for this transaction, so what the sender claims below is this test's alone.
delete from treasury.outbox;

insert into auth.users (id, email) values (:'buyer', 'fan@example.test'), (:'headliner', 'artist@example.test');

-- Which messages of a recipient exist, as "kind status".
create function pg_temp.messages(who uuid)
returns text
language sql
as $$
  select string_agg(kind || ' ' || status, ', ' order by created_at, kind) from treasury.outbox where recipient_id = who
$$;

create function pg_temp.at(offset_s int)
returns timestamptz
language sql
as $$
  select now() + make_interval(secs => offset_s)
$$;

-- Filled with the payment ---------------------------------------------------------------------------------

select pg_temp.buy(:'buyer', :'tier', 2, 'pi_pgtap_outbox_1') as o1 \gset
select is(pg_temp.messages(:'buyer'), 'payment_receipt pending, ticket_issued pending',
          'paying two seats queues a receipt and a ticket message in the payment''s transaction');
select results_eq($$select email, data ->> 'payment_id', (data ->> 'amount_minor')::bigint, data ->> 'currency',
                           data ->> 'product_title', (data ->> 'quantity')::int, data -> 'receipt'
                    from treasury.outbox where dedupe_key = 'payment_receipt:pi_pgtap_outbox_1'$$,
                  $$values ('fan@example.test', 'pi_pgtap_outbox_1', 5000::bigint, 'EUR',
                            (select title from treasury.products p join treasury.payments y on y.product_id = p.id
                             where y.id = 'pi_pgtap_outbox_1'), 2,
                            '{"rpc": "treasury.receipt", "payment_id": "pi_pgtap_outbox_1"}'::jsonb)$$,
                  'the receipt: to the buyer''s address, the amount in minor units with its currency, the product, the receipt RPC');
select results_eq(format($$select data -> 'event' ->> 'title', data -> 'event' ->> 'venue', (data -> 'event' ->> 'starts_at')::timestamptz,
                                  data ->> 'tier', data -> 'seats', jsonb_array_length(data -> 'ticket_ids'), data ->> 'payment_id'
                           from treasury.outbox where dedupe_key = 'ticket_issued:' || %L$$, :'o1'),
                  format($$select title, venue, starts_at, 'General', '[1, 2]'::jsonb, 2, 'pi_pgtap_outbox_1'
                           from concierto.events where id = %L$$, :'event'),
                  'the ticket message: one for the order, with the event, its venue and start, the tier and both seats');

select is(pg_temp.pay(jsonb_build_object('amount_minor', 5000, 'metadata',
                                         (select payload -> 'data' -> 'object' -> 'metadata' from treasury.stripe_events
                                          where event_id = 'evt_pi_pgtap_outbox_1_cs')), 'pi_pgtap_outbox_1') ->> 'status',
          'duplicate', 'a redelivered payment event');
select is(pg_temp.pay_intent(jsonb_build_object('amount_minor', 5000, 'metadata',
                                                (select payload -> 'data' -> 'object' -> 'metadata' from treasury.stripe_events
                                                 where event_id = 'evt_pi_pgtap_outbox_1_cs')), 'pi_pgtap_outbox_1') ->> 'note',
          'already_recorded', 'and the PaymentIntent event of the same payment');
select is((select count(*) from treasury.outbox where recipient_id = :'buyer'), 2::bigint, 'queue nothing more');

select pg_temp.buy(:'friend', :'tier', 1, 'pi_pgtap_outbox_2') as o2 \gset
select results_eq(format($$select kind, status, email, last_error from treasury.outbox where recipient_id = %L order by kind$$, :'friend'),
                  $$values ('payment_receipt', 'skipped', null::text, 'the recipient has no email address'),
                           ('ticket_issued', 'skipped', null, 'the recipient has no email address')$$,
                  'a buyer without an email address: the messages are recorded skipped, never sent');

select is(pg_temp.refund('pi_pgtap_outbox_1', 5000, 2500) ->> 'status', 'applied', 'half of the payment is refunded');
select results_eq($$select (data ->> 'amount_minor')::bigint, (data ->> 'refunded_total_minor')::bigint, data ->> 'currency', status
                    from treasury.outbox where kind = 'refund' and recipient_id = (select buyer_id from treasury.payments where id = 'pi_pgtap_outbox_1')$$,
                  $$values (2500::bigint, 2500::bigint, 'EUR', 'pending')$$, 'the refund message says how much came back');
select is(pg_temp.receive('evt_pgtap_outbox_rf_again', 'charge.refunded', jsonb_build_object(
            'id', 'ch_pgtap_outbox_1', 'object', 'charge', 'payment_intent', 'pi_pgtap_outbox_1', 'amount', 5000,
            'amount_refunded', 2500, 'refunded', false, 'currency', 'eur')) ->> 'note',
          'already_recorded', 'another event with the same refunded total');
select is((select count(*) from treasury.outbox where kind = 'refund'), 1::bigint, 'queues no second refund message');

-- A payout paid -----------------------------------------------------------------------------------------------

select treasury.link_stripe_account(:'headliner', 'acct_pgtapOutbox') is not null as linked \gset
select (treasury.set_wallet_verification(:'headliner', true)).verification as v \gset
select set_config('request.jwt.claims', json_build_object('sub', :'headliner', 'role', 'authenticated')::text, true) as c \gset
select id as payout from treasury.request_payout(1000, 'EUR') \gset
select set_config('request.jwt.claims', '', true) as c \gset
select treasury.process_payouts(now()) as q \gset
select is(treasury.receive_stripe_event(jsonb_build_object(
            'id', 'evt_pgtap_outbox_paid', 'object', 'event', 'type', 'payout.paid', 'created', extract(epoch from now())::bigint,
            'livemode', false, 'account', 'acct_pgtapOutbox', 'data', jsonb_build_object('object', jsonb_build_object(
              'id', 'po_pgtap_outbox', 'object', 'payout', 'amount', 1000, 'currency', 'eur', 'status', 'paid',
              'metadata', jsonb_build_object('payout_id', :'payout', 'payout_attempt', '1'))))) ->> 'state',
          'paid', 'the payout is paid');
select results_eq($$select email, data ->> 'payout_id', (data ->> 'amount_minor')::bigint, data ->> 'currency', data ->> 'stripe_payout_id'
                    from treasury.outbox where kind = 'payout_sent'$$,
                  format($$values ('artist@example.test', %L, 1000::bigint, 'EUR', 'po_pgtap_outbox')$$, :'payout'),
                  'the payee is told: amount, currency, the Stripe payout');

-- The sender's side ----------------------------------------------------------------------------------------------

select pg_temp.act_as(:'buyer');
select throws_ok($$select treasury.claim_outbox()$$, '42501', null, 'a user cannot claim messages');
select throws_ok($$select * from treasury.outbox$$, '42501', null, 'nor read the outbox');
reset role;

select ok(has_function_privilege('service_role', 'treasury.claim_outbox(int, int, timestamptz)', 'execute')
          and has_function_privilege('service_role', 'treasury.outbox_sent(uuid, text, timestamptz)', 'execute')
          and has_function_privilege('service_role', 'treasury.outbox_failed(uuid, text, boolean, timestamptz)', 'execute'),
          'service_role, the sender, may claim and mark messages');
select ok(has_table_privilege('service_role', 'treasury.outbox', 'select')
          and not has_table_privilege('service_role', 'treasury.outbox', 'insert')
          and not has_table_privilege('authenticated', 'treasury.outbox', 'select'),
          'and read the outbox, never write it directly; users neither');
select treasury.claim_outbox(50, 120, pg_temp.at(1)) as batch \gset
select is((select jsonb_agg(m ->> 'kind' order by m ->> 'kind') from jsonb_array_elements(:'batch'::jsonb) as m),
          '["payment_receipt", "payout_sent", "refund", "ticket_issued"]'::jsonb,
          'the sender claims the four pending messages, not the skipped ones');
select is((select count(*) from treasury.outbox where status = 'sending' and attempts = 1 and leased_until = pg_temp.at(121)),
          4::bigint, 'each is sending, leased, one attempt');
select results_eq(format($$select count(distinct m ->> 'request_key'), min(m ->> 'request_key') like 'receipts/%%',
                                  (select count(*) from treasury.outbox where request_key = min(m ->> 'request_key'))
                           from jsonb_array_elements(%L::jsonb) as m$$, :'batch'),
                  $$values (1::bigint, true, 4::bigint)$$,
                  'in one Resend batch request, whose key each message keeps');
select is(treasury.claim_outbox(50, 120, pg_temp.at(2)), '[]'::jsonb, 'another run meanwhile gets nothing');

select id as receipt_id from treasury.outbox where dedupe_key = 'payment_receipt:pi_pgtap_outbox_1' \gset
select id as ticket_msg from treasury.outbox where kind = 'ticket_issued' and recipient_id = :'buyer' \gset
select id as refund_msg from treasury.outbox where kind = 'refund' \gset
select id as payout_msg from treasury.outbox where kind = 'payout_sent' \gset
select request_key as first_request from treasury.outbox where id = :'ticket_msg' \gset

select is(treasury.outbox_sent(:'receipt_id', 're_pgtap_1', pg_temp.at(3)) ->> 'status', 'sent', 'a delivered message is sent');
select results_eq(format($$select status, provider_id, sent_at from treasury.outbox where id = %L$$, :'receipt_id'),
                  $$values ('sent', 're_pgtap_1', pg_temp.at(3))$$, 'with the provider''s id and when');
select is(treasury.outbox_sent(:'receipt_id', 're_pgtap_1', pg_temp.at(4)) ->> 'status', 'sent', 'reporting it again changes nothing');
select is(treasury.outbox_failed(:'receipt_id', 'late timeout', true, pg_temp.at(5)) ->> 'status', 'sent',
          'a late failure report for a sent message changes nothing');

select is(treasury.outbox_failed(:'refund_msg', '422: invalid_to_address', false, pg_temp.at(3)) ->> 'status', 'failed',
          'a failure retrying cannot fix fails for good at once');
select is((select request_key from treasury.outbox where id = :'refund_msg'), null,
          'and leaves its request: set pending again by an operator, it goes into a new one');

select results_eq(format($$select r ->> 'status', (r ->> 'next_attempt_at')::timestamptz from treasury.outbox_failed(%L, '503: unavailable', true, pg_temp.at(3)) as r$$, :'ticket_msg'),
                  $$values ('pending', pg_temp.at(33))$$, 'a retryable failure: pending again after 30 seconds');
select is(treasury.claim_outbox(50, 120, pg_temp.at(20)), '[]'::jsonb, 'not before');
select is(treasury.claim_outbox(50, 120, pg_temp.at(40)), '[]'::jsonb,
          'nor while a run still holds another message of its request (the payout, leased until 121 s): a request is made again whole');

-- A crashed run: the lease ends, the request is claimed again whole, under the same key.
select results_eq(format($$select m ->> 'id', m ->> 'request_key' from jsonb_array_elements(treasury.claim_outbox(1, 120, pg_temp.at(200))) as m
                           order by m ->> 'id'$$),
                  format($$select id::text, %L from treasury.outbox where id in (%L, %L) order by id::text$$,
                         :'first_request', :'ticket_msg', :'payout_msg'),
                  'once the crashed run''s lease ended, its request comes back whole under its key (even past batch_size 1)');
select is((select attempts from treasury.outbox where id = :'payout_msg'), 2, '...counting the attempt');
select results_eq(format($$select r ->> 'status', (r ->> 'next_attempt_at')::timestamptz from treasury.outbox_failed(%L, '503: unavailable', true, pg_temp.at(200)) as r$$, :'ticket_msg'),
                  $$values ('pending', pg_temp.at(260))$$, 'the second failure waits twice as long');

-- Eight attempts at most.
do $$
declare
  msg uuid := (select id from treasury.outbox where kind = 'ticket_issued' and status = 'pending');
  step int := 0;
begin
  while (select status from treasury.outbox where id = msg) = 'pending' and step < 20 loop
    step := step + 1;
    perform treasury.claim_outbox(50, 120, now() + interval '1 day' * step);
    perform treasury.outbox_failed(msg, '503: unavailable', true, now() + interval '1 day' * step);
  end loop;
end
$$;
select results_eq(format($$select status, attempts, last_error, request_key from treasury.outbox where id = %L$$, :'ticket_msg'),
                  $$values ('failed', 8, '503: unavailable', null::text)$$, 'after 8 attempts it stays failed for an operator');

-- Requests of at most 100 (Resend's limit), claimed whole -------------------------------------------------
delete from treasury.outbox;
insert into treasury.outbox (kind, dedupe_key, recipient_id, email, data)
select 'payment_receipt', 'pgtap_bulk:' || i, :'buyer', 'fan@example.test', '{}'::jsonb from generate_series(1, 150) as i;
select treasury.claim_outbox(120, 120, pg_temp.at(1)) as bulk \gset
select results_eq(format($$select count(*) from jsonb_array_elements(%L::jsonb) as m group by m ->> 'request_key' order by 1 desc$$, :'bulk'),
                  $$values (100::bigint), (20::bigint)$$,
                  '120 new messages go into a request of 100 and one of 20');
select ok((select bool_and(ids = in_id_order and last - first + 1 = cardinality(ids))
           from (select array_agg(m.value ->> 'id' order by m.n) as ids, array_agg(m.value ->> 'id' order by m.value ->> 'id') as in_id_order,
                        min(m.n) as first, max(m.n) as last
                 from jsonb_array_elements(:'bulk'::jsonb) with ordinality as m(value, n)
                 group by m.value ->> 'request_key') as r),
          'each request''s messages come together, in id order: the order of the request''s body');
select request_key as big_request from treasury.outbox where request_key is not null
group by request_key having count(*) = 100 \gset
select request_key as small_request from treasury.outbox where request_key is not null
group by request_key having count(*) = 20 \gset
select count(*) as failed_big from treasury.outbox as m, treasury.outbox_failed(m.id, '429: rate_limit_exceeded', true, pg_temp.at(2))
where m.request_key = :'big_request' \gset
select count(*) as failed_small from treasury.outbox as m, treasury.outbox_failed(m.id, '429: rate_limit_exceeded', true, pg_temp.at(3))
where m.request_key = :'small_request' \gset
select results_eq($$select count(*), min(m ->> 'request_key'), max(m ->> 'request_key')
                    from jsonb_array_elements(treasury.claim_outbox(30, 120, pg_temp.at(40))) as m$$,
                  format($$values (100::bigint, %L, %L)$$, :'big_request', :'big_request'),
                  'a request made again is claimed whole under its key, even when larger than the claim''s batch_size');
select results_eq(format($$select m ->> 'request_key' = %L, count(*)
                           from jsonb_array_elements(treasury.claim_outbox(50, 120, pg_temp.at(41))) as m group by 1 order by 1$$,
                         :'small_request'),
                  $$values (false, 30::bigint), (true, 20::bigint)$$,
                  'the next claim: the other request again, then the 30 new messages left in a new request');

select throws_ok($$select treasury.claim_outbox(0)$$, '22023', null, 'batch_size must be at least 1');
select throws_ok(format($$select treasury.outbox_sent(%L, '')$$, :'payout_msg'), '22023', null, 'sent needs the provider''s id');
select throws_ok($$select treasury.outbox_failed(gen_random_uuid(), 'x')$$, 'P0002', null, 'an unknown message is P0002');

select * from finish();
rollback;
