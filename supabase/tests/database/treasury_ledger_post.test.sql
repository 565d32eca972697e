-- Treasury ledger: accounts made on demand, treasury_private.post and its errors, the
-- deferred balance check that refuses an unbalanced transaction at commit however it was
-- inserted, account_balances kept by the ledger itself, balance_at, and postings that no role
-- may change.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(47);

select gen_random_uuid() as payee \gset

-- Accounts -----------------------------------------------------------------------------------

select treasury_private.account(:'payee', 'payable', 'EUR') as payable \gset
select treasury_private.account(null, 'stripe_balance', 'EUR') as stripe \gset
select treasury_private.account(null, 'stripe_balance', 'USD') as stripe_usd \gset
select treasury_private.account(null, 'platform_revenue', 'USD') as revenue_usd \gset
select is(treasury_private.account(:'payee', 'payable', 'EUR'), :payable::bigint, 'an account is made once and found after');
select results_eq(
  format('select owner_id, owner_kind, purpose, normal_side, currency::text from treasury.accounts where id = %s', :payable),
  format($$values (%L::uuid, 'user', 'payable', 'credit', 'EUR')$$, :'payee'),
  'a payee''s payable: a user''s account, credit side'
);
select results_eq(
  format('select owner_id, owner_kind, normal_side from treasury.accounts where id = %s', :stripe),
  $$values (null::uuid, 'platform', 'debit')$$,
  'the Stripe balance: the platform''s, debit side'
);
select isnt(:stripe_usd::bigint, :stripe::bigint, 'one account per currency');
select throws_ok(format($$select treasury_private.account(%L, 'stripe_balance', 'EUR')$$, :'payee'), '22023',
                 'a stripe_balance account belongs to the platform (owner null)', 'a user cannot own a platform account');
select throws_ok($$select treasury_private.account(null, 'payable', 'EUR')$$, '22023',
                 'a payable account belongs to a user (owner not null)', 'the platform has no payable');
select throws_ok($$select treasury_private.account(null, 'savings', 'EUR')$$, '22023', 'unknown account purpose savings',
                 'an unknown purpose is refused');
select throws_ok(format($$select treasury_private.account(%L, 'payable', 'eur')$$, :'payee'), '22023',
                 'currency must be an ISO 4217 code in capitals, got eur', 'a currency in lower case is refused');

-- post ------------------------------------------------------------------------------------------

select treasury_private.post('test_sale', 'pgtap-1', jsonb_build_array(
  jsonb_build_object('account_id', :stripe, 'amount', 1000),
  jsonb_build_object('account_id', :payable, 'amount', -1000),
  jsonb_build_object('account_id', :payable, 'amount', 0))) as txn \gset
select results_eq(
  format('select txn_id, kind, reference, account_id, currency::text, amount from public.treasury_ledger where txn_id = %s order by id', :txn),
  format($$values (%1$s::bigint, 'test_sale', 'pgtap-1', %2$s::bigint, 'EUR', 1000::bigint),
                  (%1$s, 'test_sale', 'pgtap-1', %3$s, 'EUR', -1000)$$, :txn, :stripe, :payable),
  'post writes one posting per non-zero line, in order, with the account''s currency'
);
select results_eq(
  format('select balance, entries from treasury.account_balances where account_id = %s', :payable),
  $$values (-1000::bigint, 1::bigint)$$,
  'account_balances follows in the same transaction (credit: negative)'
);
select is((select normal_balance from treasury.balances where account_id = :payable), 1000::bigint,
          'treasury.balances reads it on its normal side');
select throws_ok(format($$select treasury_private.post('test_sale', 'pgtap-1', '[{"account_id": %s, "amount": 5}, {"account_id": %s, "amount": -5}]')$$,
                        :stripe, :payable),
                 '23505', 'ledger transaction test_sale pgtap-1 is posted already', 'a (kind, reference) is posted once');
select throws_ok(format($$select treasury_private.post('test_sale', 'pgtap-2', '[{"account_id": %s, "amount": 5}, {"account_id": %s, "amount": -4}]')$$,
                        :stripe, :payable),
                 '23514', 'ledger transaction test_sale pgtap-2 does not balance in EUR: debits exceed credits by 1',
                 'an unbalanced transaction is refused');
select throws_ok(format($$select treasury_private.post('test_fx', 'pgtap-3', '[{"account_id": %s, "amount": 5}, {"account_id": %s, "amount": -5}]')$$,
                        :stripe, :revenue_usd),
                 '23514', 'ledger transaction test_fx pgtap-3 does not balance in EUR: debits exceed credits by 5',
                 'balance is per currency: EUR 5 against USD 5 does not balance');
select lives_ok(format($$select treasury_private.post('test_fx', 'pgtap-4', '[{"account_id": %s, "amount": 5}, {"account_id": %s, "amount": -5}, {"account_id": %s, "amount": 7}, {"account_id": %s, "amount": -7}]')$$,
                       :stripe, :payable, :stripe_usd, :revenue_usd),
                'a transaction balanced in each of two currencies is posted');
select throws_ok(format($$select treasury_private.post('test_sale', 'pgtap-5', '[{"account_id": %s, "amount": 0}]')$$, :stripe),
                 '22023', 'ledger transaction test_sale pgtap-5 has no non-zero line', 'a transaction needs a non-zero line');
select throws_ok($$select treasury_private.post('test_sale', 'pgtap-6', '[{"account_id": 999999999, "amount": 5}, {"account_id": 999999998, "amount": -5}]')$$,
                 'P0002', 'account 999999999 does not exist', 'an unknown account is refused');
select throws_ok(format($$select treasury_private.post('test_sale', 'pgtap-7', '[{"account_id": %s, "amount": 5.5}]')$$, :stripe),
                 '22023', 'lines[0] amount must be an integer (minor units)', 'a fractional amount is refused');
select throws_ok($$select treasury_private.post('test_sale', 'pgtap-8', '[{"amount": 5}]')$$,
                 '22023', 'lines[0] account_id must be an integer', 'a line without an account is refused');
select throws_ok($$select treasury_private.post('test_sale', 'pgtap-9', '[1]')$$,
                 '22023', 'lines[0] must be an object {"account_id": n, "amount": n}', 'a line must be an object');
select throws_ok($$select treasury_private.post('test_sale', 'pgtap-10', '{}')$$,
                 '22023', 'lines must be a JSON array of {"account_id": n, "amount": n}', 'lines must be an array');
select throws_ok($$select treasury_private.post('Sale!', 'pgtap-11', '[]')$$,
                 '22023', 'kind must be 1 to 50 lower-case letters or _, got Sale!', 'a kind is a lower-case word');
select throws_ok($$select treasury_private.post('test_sale', '', '[]')$$,
                 '22023', 'reference must be a string of 1 to 255 characters', 'a reference is required');
select is((select count(*) from treasury.ledger_transactions where reference like 'pgtap-%'), 2::bigint,
          'refused calls leave nothing behind');

-- The deferred balance check ------------------------------------------------------------------

select ok(
  (select tgdeferrable and tginitdeferred and tgenabled = 'A' from pg_trigger
   where tgrelid = 'public.treasury_ledger'::regclass and tgname = 'treasury_ledger_balanced'),
  'the balance check is a constraint trigger, deferred to commit, enabled always'
);

-- Writes straight into the tables, as only the owner can: one posting now, the other
-- later, and the check that runs at commit (here forced by SET CONSTRAINTS ... IMMEDIATE).
create function pg_temp.direct(reference text, lines bigint[][], created timestamptz default now())
returns bigint
language plpgsql
as $$
declare
  txn bigint;
  line bigint[];
begin
  insert into treasury.ledger_transactions (kind, reference) values ('direct', reference) returning id into txn;
  foreach line slice 1 in array lines loop
    insert into public.treasury_ledger (txn_id, kind, reference, account_id, currency, amount, created_at)
    select txn, 'direct', reference, a.id, a.currency, line[2], created from treasury.accounts as a where a.id = line[1];
  end loop;
  return txn;
end
$$;
create function pg_temp.commit_check()
returns void
language plpgsql
as $$
begin
  set constraints public.treasury_ledger_balanced immediate;
  set constraints public.treasury_ledger_balanced deferred;
end
$$;

select throws_like(
  format($$select pg_temp.direct('unbalanced', array[[%s, 500], [%s, -499]]), pg_temp.commit_check()$$, :stripe, :payable),
  'ledger transaction % (direct unbalanced) does not balance in EUR: debits exceed credits by 1',
  'an unbalanced transaction inserted directly is refused at commit (23514)'
);
select throws_ok(
  format($$select pg_temp.direct('one-sided', array[[%s, 500]]), pg_temp.commit_check()$$, :stripe),
  '23514', null, 'so is a single posting'
);
select lives_ok(
  format($$select pg_temp.direct('two-steps', array[[%s, 300], [%s, -300]]), pg_temp.commit_check()$$, :stripe, :payable),
  'postings inserted one by one pass when the transaction balances at commit'
);
select is((select normal_balance from treasury.balances where account_id = :payable), 1305::bigint,
          'direct inserts keep account_balances too (1000 + 5 + 300)');

-- balance_at -------------------------------------------------------------------------------------

select pg_temp.direct('back-dated', array[[:stripe, 40], [:payable, -40]], now() - interval '2 days') as backdated \gset
select is(treasury.balance_at(:payable, now() - interval '3 days'), 0::bigint, 'nothing was posted three days ago');
select is(treasury.balance_at(:payable, now() - interval '1 day'), -40::bigint, 'a day ago: the back-dated posting');
select is(treasury.balance_at(:payable, now()), -1345::bigint, 'now: every posting');
select is(treasury.balance_at(:payable, now()), (select balance from treasury.account_balances where account_id = :payable),
          'balance_at(now) equals the kept balance');
select throws_ok($$select treasury.balance_at(999999999, now())$$, 'P0002', 'account 999999999 not found', 'an unknown account');
select throws_ok(format('select treasury.balance_at(%s, null)', :payable), '22023',
                 'at is required: the moment to read the balance at', 'at is required');

-- Nobody changes postings -------------------------------------------------------------------------

select throws_ok(format('update public.treasury_ledger set amount = amount + 1 where txn_id = %s', :txn), '42501',
                 'treasury_ledger is append-only: UPDATE is refused', 'postgres cannot UPDATE a posting');
select throws_ok(format('delete from public.treasury_ledger where txn_id = %s', :txn), '42501',
                 'treasury_ledger is append-only: DELETE is refused', 'postgres cannot DELETE a posting');
-- TRUNCATE waits for no deferred check: run the pending ones first.
set constraints public.treasury_ledger_balanced immediate;
select throws_ok('truncate public.treasury_ledger cascade', '42501',
                 'treasury_ledger is append-only: TRUNCATE is refused', 'postgres cannot TRUNCATE the ledger');
set constraints public.treasury_ledger_balanced deferred;
select throws_ok(format($$update treasury.ledger_transactions set reference = 'x' where id = %s$$, :txn), '42501',
                 'ledger_transactions is append-only: UPDATE is refused', 'a transaction''s reference never changes');
select throws_ok(format('delete from treasury.ledger_transactions where id = %s', :txn), '42501',
                 'ledger_transactions is append-only: DELETE is refused', 'a transaction is never deleted');
select throws_ok(format($$update treasury.accounts set currency = 'USD' where id = %s$$, :payable), '42501',
                 'accounts is append-only: UPDATE is refused', 'an account never changes');
select throws_ok(format('update treasury.account_balances set balance = 0 where account_id = %s', :payable), '42501',
                 'account_balances is kept by the ledger: UPDATE is refused', 'balances are written only by the ledger');
select throws_ok(format('insert into treasury.account_balances values (%s, %L, 0, 0, now())', :stripe_usd, 'USD'), '42501',
                 'account_balances is kept by the ledger: INSERT is refused', 'nor inserted by hand');

select rolsuper or has_parameter_privilege('session_replication_role', 'SET') as may_replicate
from pg_roles where rolname = current_user \gset
\if :may_replicate
set local session_replication_role = replica;
select throws_ok(format('update public.treasury_ledger set amount = 1 where txn_id = %s', :txn), '42501',
                 'treasury_ledger is append-only: UPDATE is refused', 'UPDATE is refused in replica mode');
select throws_ok(format('delete from public.treasury_ledger where txn_id = %s', :txn), '42501',
                 'treasury_ledger is append-only: DELETE is refused', 'DELETE is refused in replica mode');
select throws_like(
  format($$select pg_temp.direct('replica', array[[%s, 500]]), pg_temp.commit_check()$$, :stripe),
  '%does not balance%', 'the balance check holds in replica mode'
);
reset session_replication_role;
\else
select skip('this role may not set session_replication_role', 3);
\endif

select is(
  (select count(*) from treasury.check_invariants() where reference in (:txn::text, :backdated::text)),
  0::bigint,
  'these postings violate no invariant'
);

select * from finish();
rollback;
