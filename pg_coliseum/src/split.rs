//! The Treasury split engine as SQL functions, over `buckets_core::treasury`.
//! Their SQL twins are in `sql/twins/treasury_split.sql` (see
//! docs/treasury-splits.md).

use buckets_core::treasury::{self, SplitError};
use pgrx::prelude::*;

/// Splits `amount` minor units by `shares_bp` (basis points, each 0..10000,
/// summing to 10000) by largest remainder, ties to the lower index: one line
/// per share, in order, summing exactly to `amount`.
#[pg_extern(immutable, strict, parallel_safe)]
fn allocate_split(amount: i64, shares_bp: Array<'_, i32>) -> Vec<i64> {
    let shares: Vec<Option<i32>> = shares_bp.iter().collect();
    treasury::allocate_split(amount, &shares).unwrap_or_else(|e| refuse(e))
}

/// The lines a refund reverses when the cumulative refunds of a payment of
/// `amount` go from `refunded_before` to `refunded_total`: what the parties
/// held before minus what they hold after,
/// `allocate_split(amount - refunded_before) - allocate_split(amount - refunded_total)`.
/// Each party always holds the split of what is left, so no holding goes
/// below zero and a full refund leaves every party at zero; a line can be −1
/// (largest remainder is not monotone in the amount).
#[pg_extern(immutable, strict, parallel_safe)]
fn allocate_refund(amount: i64, shares_bp: Array<'_, i32>, refunded_before: i64, refunded_total: i64) -> Vec<i64> {
    let shares: Vec<Option<i32>> = shares_bp.iter().collect();
    treasury::allocate_refund(amount, &shares, refunded_before, refunded_total).unwrap_or_else(|e| refuse(e))
}

/// Every split error is a bad argument: SQLSTATE 22023.
fn refuse(e: SplitError) -> ! {
    super::raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.to_string())
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn lines(sql: &str) -> Option<Vec<i64>> {
        Spi::get_one::<Vec<i64>>(&format!("select {sql}")).expect("query runs")
    }

    #[pg_test]
    fn hand_computed_splits() {
        assert_eq!(lines("allocate_split(10000, '{7000,2000,1000}')"), Some(vec![7000, 2000, 1000]));
        assert_eq!(lines("allocate_split(0, '{7000,2000,1000}')"), Some(vec![0, 0, 0]));
        // Bases 700, 200, 100; remainders 7000, 2000, 1000: the leftover unit goes to the first.
        assert_eq!(lines("allocate_split(1001, '{7000,2000,1000}')"), Some(vec![701, 200, 100]));
        // Remainders 6666, 6666, 6668: two units, to the third, then the first of the tie.
        assert_eq!(lines("allocate_split(2, '{3333,3333,3334}')"), Some(vec![1, 0, 1]));
        assert_eq!(lines("allocate_split(5, '{5000,5000}')"), Some(vec![3, 2]));
        assert_eq!(lines("allocate_split(1, '{0,5000,0,5000}')"), Some(vec![0, 1, 0, 0]));
        // 9999 units over 10 000 parties of 1 bp: remainders 9999 each, the last party gets none.
        let mut many = vec![1; 9999];
        many.push(0);
        assert_eq!(lines("allocate_split(9999, array_fill(1, array[10000]))"), Some(many));
    }

    #[pg_test]
    fn the_largest_amount_does_not_overflow() {
        assert_eq!(
            lines("allocate_split(9223372036854775807, '{1,9999}')"),
            Some(vec![922_337_203_685_478, 9_222_449_699_651_090_329])
        );
        assert_eq!(
            lines("allocate_refund(9223372036854775807, '{5000,5000}', 0, 9223372036854775807)"),
            Some(vec![4_611_686_018_427_387_904, 4_611_686_018_427_387_903])
        );
        // Refunding 1 leaves max - 1 = 9223372036854775806: × 1 bp = 922337203685477.5806,
        // × 9999 bp = 9222449699651090328.4194; bases sum to max - 2, the unit to the remainder 5806,
        // so the parties hold 922337203685478 and 9222449699651090328: split(max) - that = 0, 1.
        assert_eq!(lines("allocate_refund(9223372036854775807, '{1,9999}', 0, 1)"), Some(vec![0, 1]));
        assert_eq!(
            lines("allocate_refund(9223372036854775807, '{1,9999}', 1, 9223372036854775807)"),
            Some(vec![922_337_203_685_478, 9_222_449_699_651_090_328])
        );
    }

    #[pg_test]
    fn hand_computed_refunds() {
        // Each party holds the split of what is left: lines = split(amount - before) - split(amount - total).
        // 1001 by 70/20/10 splits 701, 200, 100 (remainders 7000, 2000, 1000: the unit to the first).
        let bp = "'{7000,2000,1000}'";
        // 1000 left is exact (700, 200, 100): 701 - 700, 200 - 200, 100 - 100.
        assert_eq!(lines(&format!("allocate_refund(1001, {bp}, 0, 1)")), Some(vec![1, 0, 0]));
        // 999 left: 699.3, 199.8, 99.9 → 699, 199, 99 and two units to the remainders 9000, 8000 → 699, 200, 100.
        assert_eq!(lines(&format!("allocate_refund(1001, {bp}, 0, 2)")), Some(vec![2, 0, 0]));
        // From 999 left to 500 left (exact: 350, 100, 50): 699 - 350, 200 - 100, 100 - 50.
        assert_eq!(lines(&format!("allocate_refund(1001, {bp}, 2, 501)")), Some(vec![349, 100, 50]));
        // From 500 left to nothing.
        assert_eq!(lines(&format!("allocate_refund(1001, {bp}, 501, 1001)")), Some(vec![350, 100, 50]));
        assert_eq!(lines(&format!("allocate_refund(1001, {bp}, 501, 501)")), Some(vec![0, 0, 0]));
        // Largest remainder is not monotone in the amount. With 1675/8011/314:
        //   split(15): 2.5125, 12.0165, 0.471  → 2, 12, 0 + the unit to the remainder 5125 → 3, 12, 0
        //   split(14): 2.345, 11.2154, 0.4396  → 2, 11, 0 + the unit to the remainder 4396 → 2, 11, 1
        //   split(1):  0.1675, 0.8011, 0.0314  → 0, 0, 0 + the unit to the remainder 8011 → 0, 1, 0
        let bp = "'{1675,8011,314}'";
        // 15 → 14 left: 3 - 2, 12 - 11, 0 - 1: the third party gets a unit back.
        assert_eq!(lines(&format!("allocate_refund(15, {bp}, 0, 1)")), Some(vec![1, 1, -1]));
        // 14 → 1 left: 2 - 0, 11 - 1, 1 - 0; 1 → 0 left: 0, 1, 0.
        assert_eq!(lines(&format!("allocate_refund(15, {bp}, 1, 14)")), Some(vec![2, 10, 1]));
        assert_eq!(lines(&format!("allocate_refund(15, {bp}, 14, 15)")), Some(vec![0, 1, 0]));
        // 14 of 15 at once: 15 → 1 left, 3 - 0, 12 - 1, 0 - 0: everyone still holds split(1) >= 0.
        assert_eq!(lines(&format!("allocate_refund(15, {bp}, 0, 14)")), Some(vec![3, 11, 0]));
    }

    #[pg_test]
    fn null_in_null_out_and_arrays_are_read_in_storage_order() {
        assert_eq!(lines("allocate_split(null, '{10000}')"), None);
        assert_eq!(lines("allocate_split(5, null)"), None);
        assert_eq!(lines("allocate_refund(5, '{10000}', null, 5)"), None);
        assert_eq!(lines("allocate_refund(5, '{10000}', 0, null)"), None);
        // Other lower bounds and dimensions: one line per element, the result 1-based and flat.
        assert_eq!(lines("allocate_split(5, '[0:1]={5000,5000}')"), Some(vec![3, 2]));
        assert_eq!(lines("allocate_split(5, '{{5000},{5000}}')"), Some(vec![3, 2]));
        let dims = Spi::get_one::<String>("select array_dims(allocate_split(5, '[0:1]={5000,5000}'))").unwrap();
        assert_eq!(dims.as_deref(), Some("[1:2]"));
    }

    #[pg_test(error = "amount must not be negative, got -1")]
    fn a_negative_amount_is_refused_first() {
        Spi::run("select allocate_split(-1, '{null}')").unwrap();
    }

    #[pg_test(error = "shares_bp must not be empty")]
    fn no_shares_are_refused() {
        Spi::run("select allocate_split(1, '{}')").unwrap();
    }

    #[pg_test(error = "share 2 must not be NULL")]
    fn a_null_share_is_refused() {
        Spi::run("select allocate_split(1, '{5000,null,20000}')").unwrap();
    }

    #[pg_test(error = "share 2 must be between 0 and 10000 basis points, got 10001")]
    fn a_share_out_of_range_is_refused() {
        Spi::run("select allocate_split(1, '{5000,10001,null}')").unwrap();
    }

    #[pg_test(error = "shares must sum to 10000 basis points, got 9999")]
    fn shares_must_make_the_whole() {
        Spi::run("select allocate_split(1, '{5000,4999}')").unwrap();
    }

    #[pg_test(error = "refunded_total must not be less than refunded_before (5), got 4")]
    fn refunds_only_accumulate() {
        Spi::run("select allocate_refund(10, '{}', 5, 4)").unwrap();
    }

    #[pg_test(error = "refunded_total must not exceed amount (10), got 11")]
    fn a_refund_cannot_exceed_the_payment() {
        Spi::run("select allocate_refund(10, '{10000}', 0, 11)").unwrap();
    }

    #[pg_test]
    fn split_errors_carry_their_sqlstate() {
        Spi::run(
            "do $test$ begin
               begin perform allocate_split(-5, '{10000}'); raise 'no error';
               exception when invalid_parameter_value then null; end;
               begin perform allocate_split(5, '{9999}'); raise 'no error';
               exception when invalid_parameter_value then null; end;
               begin perform allocate_refund(5, '{10000}', -1, 0); raise 'no error';
               exception when invalid_parameter_value then null; end;
             end $test$",
        )
        .unwrap();
    }

    #[pg_test]
    fn split_functions_are_immutable_strict_and_parallel_safe() {
        let count = Spi::get_one::<i64>(
            "select count(*) from pg_proc p join pg_extension e on e.extname = 'pg_coliseum' and p.pronamespace = e.extnamespace
              where p.proname in ('allocate_split', 'allocate_refund')
                and p.provolatile = 'i' and p.proisstrict and p.proparallel = 's'",
        )
        .unwrap();
        assert_eq!(count, Some(2));
    }
}
