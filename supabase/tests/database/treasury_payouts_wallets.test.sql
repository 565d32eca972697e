-- Treasury payouts: wallet ids (check symbol proven on the whole quasigroup and on a sample of ids
-- with every single-symbol error and every adjacent transposition), wallets made for every payee,
-- linking a Stripe account, verification, and the guards that keep wallet ids stable.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(41);
\ir treasury_payouts_helpers.psql

-- The check symbol ---------------------------------------------------------------------------------

select is(
  (select count(*) from generate_series(0, 31) as i, generate_series(0, 31) as x, generate_series(0, 31) as y
   where x <> y and treasury_private.wallet_damm_step(i, x) = treasury_private.wallet_damm_step(i, y)),
  0::bigint,
  'every row of the quasigroup is a permutation: a wrong symbol always changes the interim'
);
select is(
  (select count(*) from generate_series(0, 31) as i, generate_series(0, 31) as j, generate_series(0, 31) as x
   where i <> j and treasury_private.wallet_damm_step(i, x) = treasury_private.wallet_damm_step(j, x)),
  0::bigint,
  'every column is a permutation: a changed interim stays changed to the end'
);
select is(
  (select count(*) from generate_series(0, 31) as i, generate_series(0, 31) as x, generate_series(0, 31) as y
   where x <> y
     and treasury_private.wallet_damm_step(treasury_private.wallet_damm_step(i, x), y)
       = treasury_private.wallet_damm_step(treasury_private.wallet_damm_step(i, y), x)),
  0::bigint,
  'totally anti-symmetric: no adjacent transposition of different symbols leaves the interim unchanged (all 32^3 cases)'
);

create temporary table sample_ids as
select n, treasury_private.new_wallet_id() as wallet_id from generate_series(1, 100) as n;
create temporary table sample_bodies as
select n, wallet_id, replace(substr(wallet_id, 5), '-', '') as body from sample_ids;
create function pg_temp.fmt(body text)
returns text
language sql
as $$
  select 'BKT-' || substr(body, 1, 4) || '-' || substr(body, 5, 4) || '-' || substr(body, 9, 1)
$$;

select is((select count(*) from sample_ids where treasury.wallet_id_valid(wallet_id)), 100::bigint,
          'fresh wallet ids are valid');
select is((select count(distinct wallet_id) from sample_ids), 100::bigint, 'and distinct');
select is((select count(*) from sample_ids where wallet_id !~ '^BKT-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]$'),
          0::bigint, 'shaped BKT-XXXX-XXXX-C in Crockford base32: no I, L, O or U');
select is(
  (select count(*)
   from sample_bodies as s
   cross join generate_series(1, 9) as pos
   cross join regexp_split_to_table(treasury_private.wallet_alphabet(), '') as sym
   where sym <> substr(s.body, pos, 1)
     and treasury.wallet_id_valid(pg_temp.fmt(overlay(s.body placing sym from pos for 1)))),
  0::bigint,
  'every single-symbol substitution of 100 ids, check symbol included (27,900 variants), is refused'
);
select is(
  (select count(*)
   from sample_bodies as s
   cross join generate_series(1, 8) as pos
   where substr(s.body, pos, 1) <> substr(s.body, pos + 1, 1)
     and treasury.wallet_id_valid(pg_temp.fmt(
           overlay(s.body placing substr(s.body, pos + 1, 1) || substr(s.body, pos, 1) from pos for 2)))),
  0::bigint,
  'every transposition of two adjacent different symbols, check symbol included, is refused'
);
select ok(
  (select count(*) from sample_bodies as s cross join generate_series(1, 8) as pos
   where substr(s.body, pos, 1) <> substr(s.body, pos + 1, 1)) > 700,
  'the transposition sample is not vacuous'
);

select is(treasury.wallet_id_valid(null), false, 'null is not a wallet id');
select is(treasury.wallet_id_valid(lower(:'meta')), false, 'nor any text');
select is(treasury.wallet_id_valid((select lower(wallet_id) from sample_ids where n = 1)), false,
          'wallet_id_valid wants the canonical upper-case form');
select is(treasury.wallet_id_normalize((select lower(replace(wallet_id, '-', ' ')) from sample_ids where n = 1)),
          (select wallet_id from sample_ids where n = 1), 'wallet_id_normalize reads lower case and spaces');
select is(treasury.wallet_id_normalize((select substr(replace(wallet_id, '-', ''), 4) from sample_ids where n = 1)),
          (select wallet_id from sample_ids where n = 1), 'and the nine symbols without BKT');
select is(treasury.wallet_id_normalize('bkt-o1il-l0o1-0'), 'BKT-0111-1001-0', 'O reads as 0, I and L as 1 (Crockford)');
select is(treasury.wallet_id_normalize('BKT-1234-5678'), null, 'too short: null');
select is(treasury.wallet_id_normalize('BKT-UUUU-5678-9'), null, 'U is no symbol: null');

-- Wallets of payees ------------------------------------------------------------------------------------

select pg_temp.pay('pi_pgtap_wal_1', 10000, :'meta') as paid \gset
select is((select count(*) from treasury.wallets where user_id in (:'artist', :'host')), 2::bigint,
          'the artist and the host got a wallet with their first payable account');
select is((select count(*) from treasury.wallets where user_id = :'buyer'), 0::bigint, 'the buyer, who earns nothing, did not');
select wallet_id as artist_wallet from treasury.wallets where user_id = :'artist' \gset
select ok(treasury.wallet_id_valid(:'artist_wallet'), 'a payee''s wallet id is valid');
select is((select verification from treasury.wallets where user_id = :'artist'), 'unverified', 'and starts unverified');
select pg_temp.pay('pi_pgtap_wal_2', 5000, :'meta') as paid \gset
select is((select wallet_id from treasury.wallets where user_id = :'artist'), :'artist_wallet', 'the wallet id is stable');

select pg_temp.act_as(:'artist');
select is((select wallet_id from treasury.my_wallet()), :'artist_wallet', 'my_wallet gives the payee their wallet');
reset role;
select gen_random_uuid() as newcomer \gset
select pg_temp.act_as(:'newcomer');
select ok(treasury.wallet_id_valid((select wallet_id from treasury.my_wallet())), 'my_wallet makes one for a user who has none');
select is((select wallet_id from treasury.my_wallet()), (select wallet_id from treasury.wallets where user_id = :'newcomer'),
          'once');
reset role;
select pg_temp.act_as(null);
select throws_ok('select treasury.my_wallet()', '42501', 'permission denied for function my_wallet', 'anon has no wallet');
reset role;

-- Stripe account and verification ------------------------------------------------------------------------

select throws_ok(format($$select treasury.link_stripe_account(%L, 'acct-bad')$$, :'artist'), '22023',
                 'stripe_account_id must be a Stripe connected account id (acct_...), got acct-bad', 'a malformed account id is refused');
select throws_ok(format($$select treasury.set_wallet_verification(%L, true)$$, :'artist'), '55000',
                 format('wallet %s has no Stripe account to verify', :'artist_wallet'), 'a wallet without an account cannot be verified');
select throws_ok(format($$select treasury.set_wallet_verification(%L, true)$$, gen_random_uuid()), 'P0002', null,
                 'a user without a wallet cannot be verified');
select is((select stripe_account_id from treasury.link_stripe_account(:'artist', 'acct_pgtapWal1')), 'acct_pgtapWal1',
          'link_stripe_account links the connected account');
select is((select verification || ' ' || (verified_at is not null)::text from treasury.set_wallet_verification(:'artist', true, 'kyc')),
          'verified true', 'set_wallet_verification verifies it');
select is((select verification from treasury.link_stripe_account(:'artist', 'acct_pgtapWal1')), 'verified',
          'linking the same account again changes nothing');
select throws_ok(format($$select treasury.link_stripe_account(%L, 'acct_pgtapWal1')$$, :'host'), '23505',
                 'Stripe account acct_pgtapWal1 is linked to another wallet', 'one connected account, one wallet');
select results_eq(
  $$select stripe_account_id, verification, verification_note from treasury.link_stripe_account(
      (select user_id from treasury.wallets where stripe_account_id = 'acct_pgtapWal1'), 'acct_pgtapWal2')$$,
  $$values ('acct_pgtapWal2', 'unverified', 'Stripe account changed from acct_pgtapWal1')$$,
  'a new account resets the wallet to unverified, and says why'
);
select is((select verification from treasury.set_wallet_verification(:'artist', false)), 'unverified', 'and it can be unverified by hand');
select is((select wallet_id from treasury.wallets where user_id = :'artist'), :'artist_wallet', 'none of it changes the wallet id');

-- Guards ----------------------------------------------------------------------------------------------------

select throws_ok(format($$update treasury.wallets set wallet_id = %L where user_id = %L$$,
                        (select wallet_id from sample_ids where n = 2), :'artist'),
                 '42501', 'wallets keep their ids forever: UPDATE is refused', 'a wallet id never changes, even for the owner');
select throws_ok(format($$delete from treasury.wallets where user_id = %L$$, :'artist'), '42501',
                 'wallets keep their ids forever: DELETE is refused', 'wallets are never deleted');
select throws_ok($$insert into treasury.wallets (user_id, wallet_id) values (gen_random_uuid(), 'BKT-0000-0000-1')$$, '23514', null,
                 'a wallet id with a wrong check symbol cannot be stored');
select throws_ok(format($$update treasury.wallets set verification = 'verified', verified_at = now() where user_id = %L$$, :'host'),
                 '23514', null, 'a wallet is verified only with a Stripe account');

select is_empty($$select * from pg_temp.violations()$$, 'no ledger or payout invariant is violated');

select * from finish();
rollback;
