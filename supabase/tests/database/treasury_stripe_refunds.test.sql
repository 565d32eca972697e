-- Treasury: refunds through charge.refunded. amount_refunded is Stripe's cumulative total;
-- each new total reverses allocate_refund(amount, shares, before, total), so partial refunds
-- in any steps end with every party at exactly zero. Stale totals change nothing; refunds
-- that arrive before their payment wait (deferred) and are applied, in Stripe's order, when
-- it arrives.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(35);
\ir treasury_helpers.psql

select pg_temp.balance(null, 'stripe_balance') as stripe_before,
       pg_temp.balance(null, 'platform_revenue') as revenue_before \gset

-- Partial, partial, full ----------------------------------------------------------------------

select pg_temp.receive('evt_pgtap_ref_pay', 'checkout.session.completed', 1763800000,
                       pg_temp.session('pi_pgtap_ref', 1001, :'meta')) ->> 'status' as paid \gset
select is(:'paid'::text, 'applied', 'a payment of 10.01, split 701 / 200 / 100');

select is(
  pg_temp.receive('evt_pgtap_ref_1', 'charge.refunded', 1763800100, pg_temp.charge('pi_pgtap_ref', 1001, 333)),
  jsonb_build_object('received', true, 'status', 'applied', 'event_id', 'evt_pgtap_ref_1', 'type', 'charge.refunded',
                     'payment_id', 'pi_pgtap_ref', 'refunded_minor', 333),
  'a partial refund of 3.33 is applied'
);
-- allocate_split(333): 233.1, 66.6, 33.3 -> 233, 66, 33 and the unit to the largest remainder (host).
select results_eq(
  $$select role, amount_minor, reference from public.treasury_splits
    where payment_id = 'pi_pgtap_ref' and reason = 'refund' order by party_index$$,
  $$values ('artist', -233::bigint, 'pi_pgtap_ref:refunded:333'), ('host', -67::bigint, 'pi_pgtap_ref:refunded:333'),
           ('platform', -33::bigint, 'pi_pgtap_ref:refunded:333')$$,
  'the reversal lines are allocate_refund(1001, shares, 0, 333), negative'
);
select results_eq(
  $$select a.purpose, l.amount from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
    where l.kind = 'refund' and l.reference = 'pi_pgtap_ref:refunded:333' order by l.id$$,
  $$values ('payable', 233::bigint), ('payable', 67::bigint), ('platform_revenue', 33::bigint), ('stripe_balance', -333::bigint)$$,
  'the ledger: Dr each payable and the platform''s revenue, Cr Stripe balance'
);
select is((select refunded_minor from treasury.payments where id = 'pi_pgtap_ref'), 333::bigint, 'refunded_minor is the total');
select is(pg_temp.balance(:'artist', 'payable'), 468::bigint, 'the artist is owed 701 - 233');

select is(
  pg_temp.receive('evt_pgtap_ref_2', 'charge.refunded', 1763800200, pg_temp.charge('pi_pgtap_ref', 1001, 600)) ->> 'refunded_minor',
  '600',
  'a second partial refund takes the total to 6.00'
);
-- allocate_split(600) - allocate_split(333) = (420, 120, 60) - (233, 67, 33).
select is(
  (select array_agg(amount_minor order by party_index) from public.treasury_splits
   where payment_id = 'pi_pgtap_ref' and reference = 'pi_pgtap_ref:refunded:600'),
  '{-187,-53,-27}'::bigint[],
  'it reverses the cumulative allocation minus what was reversed before'
);

select count(*) as ledger_rows from public.treasury_ledger \gset
select is(
  pg_temp.receive('evt_pgtap_ref_stale', 'charge.refunded', 1763800150, pg_temp.charge('pi_pgtap_ref', 1001, 333)),
  jsonb_build_object('received', true, 'status', 'applied', 'note', 'already_recorded', 'event_id', 'evt_pgtap_ref_stale',
                     'type', 'charge.refunded', 'payment_id', 'pi_pgtap_ref'),
  'an older total arriving late is already recorded'
);
select is(
  pg_temp.receive('evt_pgtap_ref_2', 'charge.refunded', 1763800200, pg_temp.charge('pi_pgtap_ref', 1001, 600)) ->> 'status',
  'duplicate',
  'a redelivered refund is a duplicate'
);
select is((select count(*) from public.treasury_ledger), :ledger_rows::bigint, 'neither posts anything');
select is((select refunded_minor from treasury.payments where id = 'pi_pgtap_ref'), 600::bigint, 'the total stays 6.00');

select is(
  pg_temp.receive('evt_pgtap_ref_3', 'charge.refunded', 1763800300, pg_temp.charge('pi_pgtap_ref', 1001, 1001)) ->> 'status',
  'applied',
  'the rest is refunded'
);
select is(
  (select array_agg(total order by party_index) from (
     select party_index, sum(amount_minor) as total from public.treasury_splits
     where payment_id = 'pi_pgtap_ref' group by party_index) as s),
  '{0,0,0}'::numeric[],
  'after a full refund in three steps every party''s lines sum to exactly zero'
);
select is(pg_temp.balance(:'artist', 'payable'), 0::bigint, 'the artist is owed nothing');
select is(pg_temp.balance(:'host', 'payable'), 0::bigint, 'the host is owed nothing');
select is(pg_temp.balance(null, 'platform_revenue') - :revenue_before, 0::bigint, 'the platform kept nothing');
select is(pg_temp.balance(null, 'stripe_balance') - :stripe_before, 0::bigint, 'the Stripe balance is back where it was');
select results_eq(
  format($$select user_id, artist_id, payload ->> 'amount_minor', client_event_id from public.passport_entries
           where kind = 'treasury.refund' and payload ->> 'payment_id' = 'pi_pgtap_ref' order by id$$),
  format($$values (%1$L::uuid, %2$L::uuid, '333', 'stripe:pi_pgtap_ref:refund:333'),
                  (%1$L::uuid, %2$L::uuid, '267', 'stripe:pi_pgtap_ref:refund:600'),
                  (%1$L::uuid, %2$L::uuid, '401', 'stripe:pi_pgtap_ref:refund:1001')$$, :'buyer', :'artist'),
  'Passport: one treasury.refund per step for the buyer, with the amount of that step'
);
select is(
  pg_temp.receive('evt_pgtap_ref_4', 'charge.refunded', 1763800400, pg_temp.charge('pi_pgtap_ref', 1001, 1001)) ->> 'note',
  'already_recorded',
  'a second event with the full total changes nothing'
);

-- Refunds before their payment -----------------------------------------------------------------

select is(
  pg_temp.receive('evt_pgtap_late_b', 'charge.refunded', 1763800520, pg_temp.charge('pi_pgtap_late', 2000, 1200)),
  jsonb_build_object('received', true, 'status', 'deferred', 'note', 'waiting for payment pi_pgtap_late',
                     'event_id', 'evt_pgtap_late_b', 'type', 'charge.refunded'),
  'a refund of an unknown payment is deferred'
);
select is(
  pg_temp.receive('evt_pgtap_late_a', 'charge.refunded', 1763800510, pg_temp.charge('pi_pgtap_late', 2000, 500)) ->> 'status',
  'deferred',
  'so is an earlier one that arrives after it'
);
select is(
  (select array_agg(event_id order by event_id) from treasury.stripe_event_problems where payment_intent_id = 'pi_pgtap_late'),
  '{evt_pgtap_late_a,evt_pgtap_late_b}'::text[],
  'both wait where admins see them'
);
select is((select count(*) from public.treasury_splits where payment_id = 'pi_pgtap_late'), 0::bigint, 'nothing is split yet');

select is(
  pg_temp.receive('evt_pgtap_late_pay', 'payment_intent.succeeded', 1763800500, pg_temp.intent('pi_pgtap_late', 2000, :'meta')),
  jsonb_build_object('received', true, 'status', 'applied', 'event_id', 'evt_pgtap_late_pay', 'type', 'payment_intent.succeeded',
                     'payment_id', 'pi_pgtap_late',
                     'deferred_events', jsonb_build_array(
                       jsonb_build_object('event_id', 'evt_pgtap_late_a', 'status', 'applied'),
                       jsonb_build_object('event_id', 'evt_pgtap_late_b', 'status', 'applied'))),
  'the payment applies what waited for it, in Stripe''s created order, in the same transaction'
);
select results_eq(
  $$select reference, array_agg(amount_minor order by party_index) from public.treasury_splits
    where payment_id = 'pi_pgtap_late' group by reference order by min(id)$$,
  $$values ('pi_pgtap_late', '{1400,400,200}'::bigint[]), ('pi_pgtap_late:refunded:500', '{-350,-100,-50}'::bigint[]),
           ('pi_pgtap_late:refunded:1200', '{-490,-140,-70}'::bigint[])$$,
  'payment, then the refund to 5.00, then the one to 12.00'
);
select results_eq(
  $$select event_id, status, note, attempts, applied_at is not null from treasury.stripe_events
    where event_id in ('evt_pgtap_late_a', 'evt_pgtap_late_b') order by event_id$$,
  $$values ('evt_pgtap_late_a', 'applied', null::text, 2, true), ('evt_pgtap_late_b', 'applied', null::text, 2, true)$$,
  'the deferred events are now applied'
);
select is((select refunded_minor from treasury.payments where id = 'pi_pgtap_late'), 1200::bigint, 'refunded 12.00 of 20.00');
select is(pg_temp.balance(:'artist', 'payable'), 560::bigint, 'the artist is owed 1400 - 840');

-- Refused refunds -------------------------------------------------------------------------------------

select is(
  pg_temp.receive('evt_pgtap_late_over', 'charge.refunded', 1763800600, pg_temp.charge('pi_pgtap_late', 2000, 2500)) ->> 'note',
  'refunded total 2500 with 0 lost and 0 in open disputes exceeds payment pi_pgtap_late of 2000',
  'more than was paid fails'
);
select is(
  pg_temp.receive('evt_pgtap_late_usd', 'charge.refunded', 1763800601,
                  pg_temp.charge('pi_pgtap_late', 2000, 1500) || '{"currency": "usd"}') ->> 'note',
  'payment pi_pgtap_late is recorded in EUR, this event says USD',
  'a refund in another currency fails'
);
select is(
  pg_temp.receive('evt_pgtap_ref_bad', 'charge.refunded', 1763800602,
                  pg_temp.charge('pi_pgtap_late', 2000, 1500) - 'amount_refunded') ->> 'note',
  'data.object.amount_refunded must be an integer >= 0',
  'a charge without amount_refunded fails'
);

-- A charge that names no PaymentIntent -------------------------------------------------------------

select pg_temp.receive('evt_pgtap_chg_pay', 'payment_intent.succeeded', 1763800700,
                       pg_temp.intent('pi_pgtap_chg', 1000, :'meta')) ->> 'status' as paid \gset
select is(
  pg_temp.receive('evt_pgtap_chg_ref', 'charge.refunded', 1763800701,
                  pg_temp.charge('pi_pgtap_chg', 1000, 1000) || '{"payment_intent": null}') ->> 'payment_id',
  'pi_pgtap_chg',
  'a refund is matched by its charge when it names no PaymentIntent'
);
select is((select refunded_minor from treasury.payments where id = 'pi_pgtap_chg'), 1000::bigint, 'and applied');

select is_empty($$select * from treasury.check_invariants()$$, 'the ledger invariants hold');

select * from finish();
rollback;
