-- Treasury payouts: asking for a payout. Who may ask, every argument checked with its SQLSTATE
-- and message, the minimum from the settings (per currency, '*' for the rest), the available
-- balance (payable: what disputes hold and earlier payouts took is not available), a retried
-- request (client_request_id), and what a request writes: the payout, its first transition, its
-- ledger transaction (payable -> payouts_queued, or -> payouts_held) and its Passport event.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(38);
\ir treasury_payouts_helpers.psql

select pg_temp.pay('pi_pgtap_req_1', 10000, :'meta') as paid \gset
select pg_temp.verified_wallet(:'artist', 'acct_pgtapReqArtist') as artist_wallet \gset
select gen_random_uuid() as nobody \gset
select pg_temp.balance(null, 'payouts_queued') as queued_before, pg_temp.balance(null, 'payouts_held') as held_before \gset

-- The SQLSTATE and the detail code of a call, as the payee (claims only: the role stays the
-- session's, so this helper may run).
create function pg_temp.error_of(who uuid, amount bigint, currency text)
returns text
language plpgsql
as $$
declare
  code text;
  detail text;
begin
  perform set_config('request.jwt.claims', json_build_object('sub', who, 'role', 'authenticated')::text, true);
  perform treasury.request_payout(amount, currency);
  perform set_config('request.jwt.claims', '', true);
  return 'no error';
exception when others then
  get stacked diagnostics code = returned_sqlstate, detail = pg_exception_detail;
  perform set_config('request.jwt.claims', '', true);
  return code || ' ' || detail;
end
$$;

-- Who may ask -------------------------------------------------------------------------------------------

select pg_temp.act_as(null);
select throws_ok($$select treasury.request_payout(1000, 'EUR')$$, '42501', 'permission denied for function request_payout',
                 'anon cannot ask for a payout');
reset role;
select pg_temp.act_as_service();
select throws_ok($$select treasury.request_payout(1000, 'EUR')$$, '42501', 'sign in to request a payout',
                 'service_role is nobody''s payee: the payee asks, with their own token');
reset role;

-- Arguments ----------------------------------------------------------------------------------------------

select pg_temp.act_as(:'artist');
select throws_ok($$select treasury.request_payout(null, 'EUR')$$, '22023',
                 'amount_minor must be an integer > 0 (minor units), got null', 'amount is required');
select throws_ok($$select treasury.request_payout(0, 'EUR')$$, '22023',
                 'amount_minor must be an integer > 0 (minor units), got 0', 'zero is no payout');
select throws_ok($$select treasury.request_payout(-5000, 'EUR')$$, '22023',
                 'amount_minor must be an integer > 0 (minor units), got -5000', 'nor is a negative amount');
select throws_ok($$select treasury.request_payout(1000, null)$$, '22023', 'currency is required (ISO 4217, e.g. EUR)',
                 'currency is required');
select throws_ok($$select treasury.request_payout(1000, 'EURO')$$, '22023', 'currency must be a 3-letter ISO 4217 code, got EURO',
                 'a currency is three letters');
select throws_ok($$select treasury.request_payout(1000, 'EUR', '')$$, '22023', 'client_request_id must be a string of 1 to 200 characters',
                 'an empty client_request_id is refused');
select throws_ok($$select treasury.request_payout(999, 'EUR')$$, '22023', 'the minimum payout is 1000 EUR, requested 999',
                 'the minimum is 1000 minor units by default');
select throws_ok($$select treasury.request_payout(7001, 'EUR')$$, '55000', 'the available balance is 7000 EUR, requested 7001',
                 'no more than the available balance (the artist''s 70 % of 10000)');
select throws_ok($$select treasury.request_payout(1000, 'USD')$$, '55000', 'the available balance is 0 USD, requested 1000',
                 'nothing is available in a currency never earned');
reset role;
select is(pg_temp.error_of(:'artist', 999, 'EUR'), '22023 below_minimum', 'below the minimum: detail below_minimum');
select is(pg_temp.error_of(:'artist', 7001, 'EUR'), '55000 insufficient_funds', 'too much: detail insufficient_funds');
select is(pg_temp.error_of(:'nobody', 1000, 'EUR'), '55000 insufficient_funds', 'a user who earned nothing has nothing available');

-- Settings per currency -----------------------------------------------------------------------------------

select pg_temp.act_as_service();
insert into treasury.payout_settings (currency, minimum_minor, max_attempts, retry_base, retry_max)
values ('EUR', 1500, 3, interval '1 minute', interval '1 hour');
reset role;
select is(pg_temp.error_of(:'artist', 1200, 'EUR'), '22023 below_minimum', 'a currency''s own row overrides ''*''');
select pg_temp.act_as_service();
delete from treasury.payout_settings where currency = 'EUR';
select throws_ok($$delete from treasury.payout_settings where currency = '*'$$, '42501', null, 'the ''*'' row cannot be removed');
reset role;
select pg_temp.act_as(:'artist');
select throws_ok($$update treasury.payout_settings set minimum_minor = 1$$, '42501', 'permission denied for table payout_settings',
                 'a user cannot change the settings');
reset role;

-- What is available -------------------------------------------------------------------------------------

select pg_temp.receive('evt_pgtap_req_dp', 'charge.dispute.created', pg_temp.ts(-60),
                       pg_temp.dispute('dp_pgtap_req', 'pi_pgtap_req_1', 1000, 'needs_response')) ->> 'status' as disputed \gset
select pg_temp.act_as(:'artist');
select throws_ok($$select treasury.request_payout(6301, 'EUR')$$, '55000', 'the available balance is 6300 EUR, requested 6301',
                 'what a dispute holds (70 % of 1000) is not available');
select id as first from treasury.request_payout(2000, 'eur') \gset
reset role;

select results_eq(
  format($$select payee_id, wallet_id, amount_minor, currency::text, state, hold_reasons, attempts, due_at = now()
           from treasury.payouts where id = %L$$, :'first'),
  format($$values (%L::uuid, %L, 2000::bigint, 'EUR', 'pending', '{}'::text[], 0, true)$$, :'artist', :'artist_wallet'),
  'a request of a verified payee is pending, due at once, in upper-case currency, with their wallet id'
);
select results_eq(
  format($$select t.kind, t.reference, a.owner_id, a.purpose, l.amount
           from public.treasury_ledger as l
           join treasury.ledger_transactions as t on t.id = l.txn_id
           join treasury.accounts as a on a.id = l.account_id
           where t.reference like %L order by l.amount desc$$, :'first' || ':%'),
  format($$values ('payout_request', %L, %L::uuid, 'payable', 2000::bigint),
                  ('payout_request', %L, null::uuid, 'payouts_queued', -2000::bigint)$$, :'first' || ':1', :'artist', :'first' || ':1'),
  'its ledger transaction: Dr the payee''s payable, Cr payouts_queued, reference <payout>:1'
);
select results_eq(
  format($$select seq, from_state, to_state, actor, actor_id, attempt,
                  ledger_txn_id = (select id from treasury.ledger_transactions where reference = %L)
           from treasury.payout_transitions where payout_id = %L$$, :'first' || ':1', :'first'),
  format($$values (1, null::text, 'pending', 'payee', %L::uuid, null::int, true)$$, :'artist'),
  'its first transition: from nothing to pending, by the payee, with that transaction'
);
select results_eq(
  format($$select kind, source, client_event_id, payload from public.passport_entries
           where user_id = %L and kind like 'treasury.payout%%'$$, :'artist'),
  format($$values ('treasury.payout_requested', 'treasury', %L,
                   jsonb_build_object('payout_id', %L, 'amount_minor', 2000, 'currency', 'EUR'))$$, 'payout:' || :'first' || ':requested', :'first'),
  'and its Passport event treasury.payout_requested, in the same transaction'
);
select is(pg_temp.balance(:'artist', 'payable'), 4300::bigint, 'the payable balance is down by the payout');

select pg_temp.act_as(:'artist');
select throws_ok($$select treasury.request_payout(4301, 'EUR')$$, '55000', 'the available balance is 4300 EUR, requested 4301',
                 'a payout already requested is not available again');
select id as keyed from treasury.request_payout(1000, 'EUR', 'app-req-1') \gset
select is((select id from treasury.request_payout(1000, 'EUR', 'app-req-1')), :'keyed'::uuid,
          'the same client_request_id returns the same payout');
select throws_ok($$select treasury.request_payout(1500, 'EUR', 'app-req-1')$$, '22023',
                 'client_request_id app-req-1 was used for a payout of 1000 EUR', 'and refuses a different request under it');
select isnt((select id from treasury.request_payout(1000, 'EUR', 'app-req-2')), :'keyed'::uuid,
            'another client_request_id is another payout');
select id as all_in from treasury.request_payout(2300, 'EUR') \gset
select throws_ok($$select treasury.request_payout(1000, 'EUR')$$, '55000', 'the available balance is 0 EUR, requested 1000',
                 'everything available can be asked for, and then nothing is left');
reset role;

select is((select count(*) from treasury.payouts where payee_id = :'artist'), 4::bigint, 'four payouts, the retried request once');
select is((select count(*) from public.passport_entries where user_id = :'artist' and kind = 'treasury.payout_requested'),
          4::bigint, 'four payout_requested events');
select is(pg_temp.balance(:'artist', 'payable'), 0::bigint, 'the payable balance is zero');
select is(pg_temp.balance(null, 'payouts_queued') - :queued_before, 6300::bigint, 'payouts_queued holds the four');

-- An unverified payee is held ------------------------------------------------------------------------------

select pg_temp.act_as(:'host');
select id as held from treasury.request_payout(1000, 'EUR') \gset
reset role;
select results_eq(
  format($$select state, hold_reasons, hold_detail, due_at from treasury.payouts where id = %L$$, :'held'),
  $$values ('held', '{wallet_unverified}'::text[], 'Held: the wallet has no Stripe account linked yet.', null::timestamptz)$$,
  'a payee whose wallet is not verified is held, and told why'
);
select results_eq(
  format($$select a.purpose, l.amount from public.treasury_ledger as l join treasury.accounts as a on a.id = l.account_id
           where l.reference = %L order by l.amount desc$$, :'held' || ':1'),
  $$values ('payable', 1000::bigint), ('payouts_held', -1000::bigint)$$,
  'its money goes from payable to payouts_held'
);
select is((select count(*) from public.passport_entries where user_id = :'host' and kind = 'treasury.payout_requested'),
          1::bigint, 'a held payout was requested all the same');

select is(pg_temp.balance(null, 'payouts_held') - :held_before, 1000::bigint, 'payouts_held holds it');
select pg_temp.act_as(:'host');
select throws_ok($$select treasury.request_payout(1000, 'EUR')$$, '55000', 'the available balance is 800 EUR, requested 1000',
                 'a held payout''s money is not available either: the host''s 2000, less 200 disputed, less 1000 held');
reset role;

select is_empty($$select * from pg_temp.violations()$$, 'no ledger or payout invariant is violated');

select * from finish();
rollback;
