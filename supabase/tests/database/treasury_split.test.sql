-- Treasury split engine: coliseum.allocate_split and coliseum.allocate_refund on
-- hand-computed cases, their properties over a grid of amounts, and their errors.
-- Runs on both clusters: the main one answers from pg_coliseum, the twins one from
-- sql/twins/treasury_split.sql; the expected values are the same.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = extensions, public;

select plan(43);

-- Signatures -----------------------------------------------------------------------------
select has_function('coliseum', 'allocate_split', array['bigint', 'integer[]']);
select has_function('coliseum', 'allocate_refund', array['bigint', 'integer[]', 'bigint', 'bigint']);
select function_returns('coliseum', 'allocate_split', array['bigint', 'integer[]'], 'bigint[]');
select volatility_is('coliseum', 'allocate_split', array['bigint', 'integer[]'], 'immutable');
select volatility_is('coliseum', 'allocate_refund', array['bigint', 'integer[]', 'bigint', 'bigint'], 'immutable');
select is_strict('coliseum', 'allocate_split', array['bigint', 'integer[]']);
select is_strict('coliseum', 'allocate_refund', array['bigint', 'integer[]', 'bigint', 'bigint']);

-- Splits -----------------------------------------------------------------------------------
select is(coliseum.allocate_split(10000, '{7000,2000,1000}'), '{7000,2000,1000}'::bigint[], 'an exact split has no leftover');
select is(coliseum.allocate_split(2500, '{7000,2000,1000}'), '{1750,500,250}'::bigint[], '25.00 split 70/20/10');
select is(coliseum.allocate_split(0, '{7000,2000,1000}'), '{0,0,0}'::bigint[], 'nothing to split');
select is(coliseum.allocate_split(12345, '{10000}'), '{12345}'::bigint[], 'one party takes all');
-- 1001 x 70% = 700.7, x 20% = 200.2, x 10% = 100.1: bases 700, 200, 100, one unit left for the largest remainder.
select is(coliseum.allocate_split(1001, '{7000,2000,1000}'), '{701,200,100}'::bigint[], 'the leftover unit goes to the largest remainder');
-- 999 x 85% = 849.15, x 15% = 149.85: the unit goes to .85 although its share is smaller.
select is(coliseum.allocate_split(999, '{8500,1500}'), '{849,150}'::bigint[], 'the largest remainder, not the largest share');
-- 100 x 33.33% = 33.33 twice, x 33.34% = 33.34: the unit goes to the third.
select is(coliseum.allocate_split(100, '{3333,3333,3334}'), '{33,33,34}'::bigint[], 'thirds of 1.00');
-- 2 units: remainders .6666, .6666, .6668: the third, then the first of the tie.
select is(coliseum.allocate_split(2, '{3333,3333,3334}'), '{1,0,1}'::bigint[], 'ties go to the lower index');
select is(coliseum.allocate_split(5, '{5000,5000}'), '{3,2}'::bigint[], 'an odd amount halved: the first gets the extra unit');
select is(coliseum.allocate_split(3, '{2500,2500,2500,2500}'), '{1,1,1,0}'::bigint[], 'three units over four equal parties');
select is(coliseum.allocate_split(1, '{0,5000,0,5000}'), '{0,1,0,0}'::bigint[], 'a zero share never gets a unit');
select is(coliseum.allocate_split(9223372036854775807, '{1,9999}'),
          '{922337203685478,9222449699651090329}'::bigint[], 'the largest bigint does not overflow');
select is(coliseum.allocate_split(9999, array_fill(1, array[10000])),
          array_fill(1::bigint, array[9999]) || 0::bigint, '9999 units over 10000 parties of 1 bp');
select is(coliseum.allocate_split(5, '[0:1]={5000,5000}'), '{3,2}'::bigint[], 'any lower bound: one line per element, 1-based');
select is(coliseum.allocate_split(null, '{10000}'), null, 'strict: NULL amount');

-- Every amount from 0 to 3000 under three rules: the lines sum to the amount, each is
-- floor(amount x bp / 10000) or one more, and exactly `leftover` lines got the extra unit.
select is(
  (select count(*)
     from generate_series(0, 3000) as a(amount)
     cross join (values ('{7000,2000,1000}'::int[]), ('{3333,3333,3334}'), ('{1675,8011,314,0}')) as r(bp)
     cross join lateral (select coliseum.allocate_split(a.amount, r.bp) as lines) s
    where (select sum(l) from unnest(s.lines) l) <> a.amount
       or exists (select 1 from unnest(s.lines, r.bp) as u(l, b)
                   where u.l not in (a.amount * u.b / 10000, a.amount * u.b / 10000 + 1))),
  0::bigint,
  'splits of 0..3000 sum exactly and stay within one unit of the exact share');

-- Refunds -----------------------------------------------------------------------------------
-- Each party always holds the split of what is left of the payment, so the lines of a refund are
-- allocate_split(amount - before) - allocate_split(amount - total).
-- 1001 split 701, 200, 100 is refunded in three steps: 2, then up to 501, then all.
-- 999 left: 699.3, 199.8, 99.9 -> 699, 199, 99 and two units to the remainders .9, .8 -> 699, 200, 100.
select is(coliseum.allocate_refund(1001, '{7000,2000,1000}', 0, 2), '{2,0,0}'::bigint[], 'a refund of 2 units: 701 - 699');
select is(coliseum.allocate_refund(1001, '{7000,2000,1000}', 2, 501), '{349,100,50}'::bigint[],
          'split(999) = 699, 200, 100 minus split(500) = 350, 100, 50');
select is(coliseum.allocate_refund(1001, '{7000,2000,1000}', 501, 1001), '{350,100,50}'::bigint[], 'the rest: split(500)');
select is(coliseum.allocate_refund(1001, '{7000,2000,1000}', 501, 501), '{0,0,0}'::bigint[], 'nothing new, no lines');
select is(coliseum.allocate_refund(1001, '{7000,2000,1000}', 0, 1001), coliseum.allocate_split(1001, '{7000,2000,1000}'),
          'a full refund at once is the split');
-- Largest remainder is not monotone in the amount: with 1675/8011/314, split(15) = 3, 12, 0
-- (2.5125, 12.0165, 0.471: the unit to .5125), split(14) = 2, 11, 1 (2.345, 11.2154, 0.4396: the
-- unit to .4396) and split(1) = 0, 1, 0 (the unit to .8011).
select is(coliseum.allocate_refund(15, '{1675,8011,314}', 0, 1), '{1,1,-1}'::bigint[],
          'a refund line can be -1: 15 -> 14 left gives the third party a unit back');
select is(coliseum.allocate_refund(15, '{1675,8011,314}', 0, 14), '{3,11,0}'::bigint[],
          '14 of 15 refunded leaves everyone split(1) = 0, 1, 0, nobody below zero');
select is(coliseum.allocate_refund(15, '{1675,8011,314}', 14, 15), '{0,1,0}'::bigint[], 'the last unit: split(1)');

-- Every payment of 0..400 under a three-party rule, refunded in the steps a/3, a/2, a: each
-- party gives back exactly what it was paid, and after each step holds the split of what is
-- left, never below zero.
select is(
  (select count(*)
     from generate_series(0, 400) as a(amount)
     cross join lateral (
       select coliseum.allocate_split(a.amount, '{1675,8011,314}') as paid,
              coliseum.allocate_refund(a.amount, '{1675,8011,314}', 0, a.amount / 3) as r1,
              coliseum.allocate_refund(a.amount, '{1675,8011,314}', a.amount / 3, a.amount / 2) as r2,
              coliseum.allocate_refund(a.amount, '{1675,8011,314}', a.amount / 2, a.amount) as r3
     ) s
    where exists (select 1 from unnest(s.paid, s.r1, s.r2, s.r3) as u(p, x, y, z) where u.p - u.x - u.y - u.z <> 0)),
  0::bigint,
  'a full refund in three steps returns every party to zero');
select is(
  (select count(*)
     from generate_series(0, 400) as a(amount)
     cross join lateral (
       select coliseum.allocate_split(a.amount, '{1675,8011,314}') as paid,
              coliseum.allocate_refund(a.amount, '{1675,8011,314}', 0, a.amount / 3) as r1,
              coliseum.allocate_refund(a.amount, '{1675,8011,314}', a.amount / 3, a.amount / 2) as r2,
              coliseum.allocate_split(a.amount - a.amount / 3, '{1675,8011,314}') as left1,
              coliseum.allocate_split(a.amount - a.amount / 2, '{1675,8011,314}') as left2
     ) s
    where exists (select 1 from unnest(s.paid, s.r1, s.r2, s.left1, s.left2) as u(p, x, y, h1, h2)
                   where u.p - u.x <> u.h1 or u.p - u.x - u.y <> u.h2 or u.h1 < 0 or u.h2 < 0)),
  0::bigint,
  'after each partial refund every party holds the split of what is left');

-- Errors: SQLSTATE 22023, checked in argument order (refunds: the amounts, then the shares) --
select throws_ok($$select coliseum.allocate_split(-1, '{null}')$$, '22023', 'amount must not be negative, got -1',
                 'a negative amount, before the shares');
select throws_ok($$select coliseum.allocate_split(1, '{}')$$, '22023', 'shares_bp must not be empty', 'no party');
select throws_ok($$select coliseum.allocate_split(1, '{5000,null,-7}')$$, '22023', 'share 2 must not be NULL', 'a NULL share');
select throws_ok($$select coliseum.allocate_split(1, '{5000,10001,null}')$$, '22023',
                 'share 2 must be between 0 and 10000 basis points, got 10001', 'a share above 100%');
select throws_ok($$select coliseum.allocate_split(1, '{-1,10001}')$$, '22023',
                 'share 1 must be between 0 and 10000 basis points, got -1', 'a negative share');
select throws_ok($$select coliseum.allocate_split(1, '{5000,4999}')$$, '22023',
                 'shares must sum to 10000 basis points, got 9999', 'shares short of 100%');
select throws_ok($$select coliseum.allocate_refund(10, '{}', -1, 5)$$, '22023',
                 'refunded_before must not be negative, got -1', 'a negative refunded_before');
select throws_ok($$select coliseum.allocate_refund(10, '{}', 5, 4)$$, '22023',
                 'refunded_total must not be less than refunded_before (5), got 4', 'refunds only accumulate');
select throws_ok($$select coliseum.allocate_refund(10, '{10000}', 0, 11)$$, '22023',
                 'refunded_total must not exceed amount (10), got 11', 'no refund beyond the payment');
select throws_ok($$select coliseum.allocate_refund(10, '{6000}', 0, 10)$$, '22023',
                 'shares must sum to 10000 basis points, got 6000', 'a refund checks the shares too');

select * from finish();
rollback;
