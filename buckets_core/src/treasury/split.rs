//! The split engine: an amount of money in integer minor units divided among
//! parties by shares in basis points, so that the lines always sum exactly to
//! the amount.
//!
//! ```text
//! base_i     = floor(amount * bp_i / 10000)
//! remainder_i = amount * bp_i mod 10000
//! leftover   = amount - Σ base_i              (0 <= leftover < number of parties)
//! line_i     = base_i + 1 for the `leftover` largest remainders (ties: lower index first), else base_i
//! ```
//!
//! Refunds follow what is left: after `refunded` of a payment of `amount` has
//! come back, each party holds `allocate_split(amount - refunded)` of it. The
//! lines of one refund are the difference between what the parties held
//! before it and what they hold after it, so no party's holding ever goes
//! below zero, and a full refund, in any number of steps, returns every party
//! to exactly zero (`allocate_split(0)` is all zeros). Largest remainder is not
//! monotone in the amount, so one line of a refund can be −1: that party gets
//! a unit back (see docs/treasury-splits.md, "Refunds").
//!
//! The SQL twin (`sql/twins/treasury_split.sql`) computes the same integers
//! and raises the same errors (all SQLSTATE 22023) in the same order.

use std::fmt;

/// Shares are in basis points: 10 000 is the whole amount.
pub const BASIS_POINTS: i64 = 10_000;

/// Why an allocation has no value. Every one is an invalid argument
/// (SQLSTATE 22023); positions are 1-based, in array order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SplitError {
    /// The amount to split (or the refunded amount) is below zero.
    NegativeAmount(i64),
    /// There is no party to split among.
    NoShares,
    /// The share at this position is missing (NULL in SQL).
    NullShare { position: usize },
    /// The share at this position is not within 0..=10000.
    ShareOutOfRange { position: usize, share: i32 },
    /// The shares do not add up to 10 000 basis points.
    SharesSum(i64),
    /// `refunded_before` is below zero.
    NegativeRefundedBefore(i64),
    /// `refunded_total` is below `refunded_before`: refunds only accumulate.
    RefundedTotalBelowBefore { before: i64, total: i64 },
    /// `refunded_total` is above the amount.
    RefundedTotalAboveAmount { amount: i64, total: i64 },
}

impl SplitError {
    /// The SQLSTATE the database raises for it: invalid_parameter_value.
    pub fn sqlstate(self) -> &'static str {
        "22023"
    }
}

impl fmt::Display for SplitError {
    /// The message the database raises, word for word.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SplitError::NegativeAmount(a) => write!(f, "amount must not be negative, got {a}"),
            SplitError::NoShares => f.write_str("shares_bp must not be empty"),
            SplitError::NullShare { position } => write!(f, "share {position} must not be NULL"),
            SplitError::ShareOutOfRange { position, share } => {
                write!(f, "share {position} must be between 0 and 10000 basis points, got {share}")
            }
            SplitError::SharesSum(sum) => write!(f, "shares must sum to 10000 basis points, got {sum}"),
            SplitError::NegativeRefundedBefore(b) => write!(f, "refunded_before must not be negative, got {b}"),
            SplitError::RefundedTotalBelowBefore { before, total } => {
                write!(f, "refunded_total must not be less than refunded_before ({before}), got {total}")
            }
            SplitError::RefundedTotalAboveAmount { amount, total } => {
                write!(f, "refunded_total must not exceed amount ({amount}), got {total}")
            }
        }
    }
}

impl std::error::Error for SplitError {}

/// Splits `amount` minor units among parties by their shares in basis
/// points (`None` is a missing share: SQL's NULL). The result has one line
/// per share, in the same order, and sums exactly to `amount`.
///
/// Checked in order: the amount, then each share in order, then their sum.
pub fn allocate_split(amount: i64, shares_bp: &[Option<i32>]) -> Result<Vec<i64>, SplitError> {
    if amount < 0 {
        return Err(SplitError::NegativeAmount(amount));
    }
    let shares = checked_shares(shares_bp)?;
    Ok(largest_remainder(amount, &shares))
}

/// The lines a refund reverses now, when the refunds of a payment of
/// `amount` went from `refunded_before` to `refunded_total` (both
/// cumulative): what the parties held before minus what they hold after,
/// `allocate_split(amount - refunded_before) - allocate_split(amount - refunded_total)`,
/// line by line. Positive lines are taken back from the party.
///
/// Each party always holds `allocate_split(amount - refunded)` of the
/// payment: never below zero, and zero for everyone once all of it is
/// refunded, in any number of steps. The lines sum exactly to
/// `refunded_total - refunded_before`, but largest remainder is not monotone
/// in the amount, so a line can be −1 (never less): that party's share of
/// what is left grew by a unit while what is left shrank.
///
/// Checked in order: the amounts (`amount`, `refunded_before`,
/// `refunded_total`: 0 <= before <= total <= amount), then the shares as in
/// [`allocate_split`].
pub fn allocate_refund(amount: i64, shares_bp: &[Option<i32>], refunded_before: i64, refunded_total: i64) -> Result<Vec<i64>, SplitError> {
    if amount < 0 {
        return Err(SplitError::NegativeAmount(amount));
    }
    if refunded_before < 0 {
        return Err(SplitError::NegativeRefundedBefore(refunded_before));
    }
    if refunded_total < refunded_before {
        return Err(SplitError::RefundedTotalBelowBefore {
            before: refunded_before,
            total: refunded_total,
        });
    }
    if refunded_total > amount {
        return Err(SplitError::RefundedTotalAboveAmount {
            amount,
            total: refunded_total,
        });
    }
    let shares = checked_shares(shares_bp)?;
    // 0 <= refunded_before <= refunded_total <= amount: both differences are within 0..=amount.
    let held_before = largest_remainder(amount - refunded_before, &shares);
    let held_after = largest_remainder(amount - refunded_total, &shares);
    Ok(held_before.iter().zip(&held_after).map(|(b, a)| b - a).collect())
}

/// The shares as numbers, once each is present and within 0..=10000 and
/// together they make 10 000.
fn checked_shares(shares_bp: &[Option<i32>]) -> Result<Vec<i64>, SplitError> {
    if shares_bp.is_empty() {
        return Err(SplitError::NoShares);
    }
    let mut shares = Vec::with_capacity(shares_bp.len());
    for (i, share) in shares_bp.iter().enumerate() {
        let position = i + 1;
        match *share {
            None => return Err(SplitError::NullShare { position }),
            Some(s) if !(0..=BASIS_POINTS as i32).contains(&s) => return Err(SplitError::ShareOutOfRange { position, share: s }),
            Some(s) => shares.push(i64::from(s)),
        }
    }
    let sum: i64 = shares.iter().sum();
    if sum != BASIS_POINTS {
        return Err(SplitError::SharesSum(sum));
    }
    Ok(shares)
}

/// The allocation itself, for a non-negative amount and valid shares.
/// `amount * bp` reaches 9.2e22 for `i64::MAX`, so the products are i128;
/// each base is at most `amount` and the remainders are below 10 000.
fn largest_remainder(amount: i64, shares: &[i64]) -> Vec<i64> {
    let mut lines = Vec::with_capacity(shares.len());
    let mut remainders = Vec::with_capacity(shares.len());
    for &bp in shares {
        let product = i128::from(amount) * i128::from(bp);
        let bps = i128::from(BASIS_POINTS);
        lines.push((product / bps) as i64);
        remainders.push((product % bps) as i64);
    }
    let leftover = (amount - lines.iter().sum::<i64>()) as usize;
    if leftover > 0 {
        // A stable sort on the remainder, largest first, keeps equal
        // remainders in index order: the lower index wins a tie.
        let mut order: Vec<usize> = (0..shares.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(remainders[i]));
        for &i in &order[..leftover] {
            lines[i] += 1;
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shares(bp: &[i32]) -> Vec<Option<i32>> {
        bp.iter().copied().map(Some).collect()
    }

    fn split(amount: i64, bp: &[i32]) -> Vec<i64> {
        allocate_split(amount, &shares(bp)).unwrap()
    }

    fn refund(amount: i64, bp: &[i32], before: i64, total: i64) -> Vec<i64> {
        allocate_refund(amount, &shares(bp), before, total).unwrap()
    }

    #[test]
    fn exact_splits_have_no_leftover() {
        assert_eq!(split(10_000, &[7000, 2000, 1000]), vec![7000, 2000, 1000]);
        assert_eq!(split(2500, &[7000, 2000, 1000]), vec![1750, 500, 250]);
        assert_eq!(split(0, &[7000, 2000, 1000]), vec![0, 0, 0]);
        assert_eq!(split(12_345, &[10_000]), vec![12_345]);
        assert_eq!(split(99, &[0, 10_000, 0]), vec![0, 99, 0]);
    }

    #[test]
    fn hand_computed_leftovers() {
        // 1 × 3333 = 3333: bases 0, 0, 0; remainders 3333, 3333, 3334: the unit goes to the third.
        assert_eq!(split(1, &[3333, 3333, 3334]), vec![0, 0, 1]);
        // 2: remainders 6666, 6666, 6668 (bases 0): two units, to the third and then the first (tie, lower index).
        assert_eq!(split(2, &[3333, 3333, 3334]), vec![1, 0, 1]);
        // 100 × 3333 / 10000 = 33.33 → 33, 33, 33.34 → 33; leftover 1 to the largest remainder (3400 of the third).
        assert_eq!(split(100, &[3333, 3333, 3334]), vec![33, 33, 34]);
        // 1001 × 7000 = 700.7, × 2000 = 200.2, × 1000 = 100.1: bases 700, 200, 100, leftover 1 → the first (7000).
        assert_eq!(split(1001, &[7000, 2000, 1000]), vec![701, 200, 100]);
        // 999 × 8500 = 849.15, × 1500 = 149.85: remainders 1500 and 8500, the leftover unit goes to the second.
        assert_eq!(split(999, &[8500, 1500]), vec![849, 150]);
        // Equal halves of an odd amount: the tie goes to the lower index.
        assert_eq!(split(5, &[5000, 5000]), vec![3, 2]);
        assert_eq!(split(1, &[2500, 2500, 2500, 2500]), vec![1, 0, 0, 0]);
        assert_eq!(split(3, &[2500, 2500, 2500, 2500]), vec![1, 1, 1, 0]);
        // Zero shares never get a leftover unit, even when they come first.
        assert_eq!(split(1, &[0, 5000, 0, 5000]), vec![0, 1, 0, 0]);
        // 7 × 1 bp = 0.0007 (remainder 7) three times, 7 × 9997 = 6.9979 (remainder 9979): the unit goes to the last.
        assert_eq!(split(7, &[1, 1, 1, 9997]), vec![0, 0, 0, 7]);
    }

    #[test]
    fn the_largest_amounts_do_not_overflow() {
        let max = i64::MAX; // 9 223 372 036 854 775 807
        assert_eq!(split(max, &[10_000]), vec![max]);
        // × 5000 / 10000 = 4 611 686 018 427 387 903.5: one unit of leftover, to the first.
        assert_eq!(
            split(max, &[5000, 5000]),
            vec![4_611_686_018_427_387_904, 4_611_686_018_427_387_903]
        );
        // × 1 / 10000 = 922 337 203 685 477.5807; × 9999 = 9 222 449 699 651 090 329.4193.
        assert_eq!(split(max, &[1, 9999]), vec![922_337_203_685_478, 9_222_449_699_651_090_329]);
        assert_eq!(refund(max, &[1, 9999], 0, max), split(max, &[1, 9999]));
        // max - 1 = 9 223 372 036 854 775 806: × 1 / 10000 = 922 337 203 685 477.5806 (remainder 5806);
        // × 9999 / 10000 = 9 222 449 699 651 090 328.4194 (remainder 4194). Bases sum to max - 2, the unit
        // goes to the first: split(max - 1) = 922 337 203 685 478, 9 222 449 699 651 090 328.
        assert_eq!(split(max - 1, &[1, 9999]), vec![922_337_203_685_478, 9_222_449_699_651_090_328]);
        // Refunding 1 of max: split(max) - split(max - 1) = 0, 1; the rest: split(max - 1) - split(0).
        assert_eq!(refund(max, &[1, 9999], 0, 1), vec![0, 1]);
        assert_eq!(
            refund(max, &[1, 9999], 1, max),
            vec![922_337_203_685_478, 9_222_449_699_651_090_328]
        );
    }

    #[test]
    fn refunds_leave_each_party_the_split_of_what_is_left() {
        let bp = [7000, 2000, 1000];
        // 1001 splits 701, 200, 100 (bases 700, 200, 100; remainders 7000, 2000, 1000).
        // A refund of 2 leaves 999: 699.3, 199.8, 99.9 → bases 699, 199, 99, two units to the remainders
        // 9000 and 8000 → split(999) = 699, 200, 100. Lines: 701 - 699, 200 - 200, 100 - 100.
        assert_eq!(split(999, &bp), vec![699, 200, 100]);
        assert_eq!(refund(1001, &bp, 0, 2), vec![2, 0, 0]);
        // Then up to 501 (500 left, exact: 350, 100, 50): 699 - 350, 200 - 100, 100 - 50.
        assert_eq!(refund(1001, &bp, 2, 501), vec![349, 100, 50]);
        // The rest: split(500) - split(0).
        assert_eq!(refund(1001, &bp, 501, 1001), vec![350, 100, 50]);
        // Nothing new: no lines.
        assert_eq!(refund(1001, &bp, 501, 501), vec![0, 0, 0]);
        assert_eq!(refund(0, &bp, 0, 0), vec![0, 0, 0]);
        // A refund of 1 leaves 1000 (exact: 700, 200, 100): 701 - 700 = 1 from the first.
        assert_eq!(refund(1001, &bp, 0, 1), vec![1, 0, 0]);
        // A full refund at once is the split itself.
        assert_eq!(refund(1001, &bp, 0, 1001), split(1001, &bp));
        // 333 of 1001 refunded leaves 668: 467.6, 133.6, 66.8 → bases 467, 133, 66, two units to the
        // remainders 8000 (third) and 6000 (first, the tie with the second goes to the lower index).
        assert_eq!(split(668, &bp), vec![468, 133, 67]);
        assert_eq!(refund(1001, &bp, 0, 333), vec![233, 67, 33]);
    }

    #[test]
    fn a_refund_line_can_be_minus_one_but_no_holding_goes_negative() {
        // Largest remainder is not monotone in the amount (the "Alabama paradox"):
        // split(15): 2.5125, 12.0165, 0.471 → bases 2, 12, 0; one unit to the remainder 5125 → 3, 12, 0.
        // split(14): 2.345, 11.2154, 0.4396 → bases 2, 11, 0; one unit to the remainder 4396 → 2, 11, 1.
        // split(1): 0.1675, 0.8011, 0.0314 → the unit to the remainder 8011 → 0, 1, 0.
        let bp = [1675, 8011, 314];
        assert_eq!(split(15, &bp), vec![3, 12, 0]);
        assert_eq!(split(14, &bp), vec![2, 11, 1]);
        assert_eq!(split(1, &bp), vec![0, 1, 0]);
        // Refunding 1 of 15 leaves 14: held 3, 12, 0 → 2, 11, 1, so the third party gets a unit back.
        assert_eq!(refund(15, &bp, 0, 1), vec![1, 1, -1]);
        // Then up to 14 (1 left): 2, 11, 1 → 0, 1, 0; and the last unit.
        assert_eq!(refund(15, &bp, 1, 14), vec![2, 10, 1]);
        assert_eq!(refund(15, &bp, 14, 15), vec![0, 1, 0]);
        // 14 of 15 refunded in one step leaves everyone split(1) = 0, 1, 0: nobody below zero
        // (reversing split(14) from split(15) would have left the third party at 0 - 1 = -1).
        assert_eq!(refund(15, &bp, 0, 14), vec![3, 11, 0]);
        let held: Vec<i64> = split(15, &bp).iter().zip(refund(15, &bp, 0, 14)).map(|(p, r)| p - r).collect();
        assert_eq!(held, split(1, &bp));
    }

    #[test]
    fn arguments_are_checked_in_order() {
        let err = |amount, bp: &[Option<i32>]| allocate_split(amount, bp).unwrap_err();
        assert_eq!(err(-1, &[None]), SplitError::NegativeAmount(-1));
        assert_eq!(err(5, &[]), SplitError::NoShares);
        assert_eq!(err(5, &[Some(5000), None, Some(-1)]), SplitError::NullShare { position: 2 });
        assert_eq!(
            err(5, &[Some(5000), Some(10_001), None]),
            SplitError::ShareOutOfRange {
                position: 2,
                share: 10_001
            }
        );
        assert_eq!(
            err(5, &[Some(-1), Some(10_001)]),
            SplitError::ShareOutOfRange { position: 1, share: -1 }
        );
        assert_eq!(err(5, &shares(&[5000, 4999])), SplitError::SharesSum(9999));
        assert_eq!(err(5, &shares(&[10_000, 10_000])), SplitError::SharesSum(20_000));
        assert_eq!(err(5, &shares(&[0])), SplitError::SharesSum(0));

        let rerr = |a, bp: &[Option<i32>], b, t| allocate_refund(a, bp, b, t).unwrap_err();
        let ok = shares(&[10_000]);
        assert_eq!(rerr(-1, &[], -1, -2), SplitError::NegativeAmount(-1));
        assert_eq!(rerr(10, &[], -1, -2), SplitError::NegativeRefundedBefore(-1));
        assert_eq!(rerr(10, &[], 5, 4), SplitError::RefundedTotalBelowBefore { before: 5, total: 4 });
        assert_eq!(rerr(10, &[], 5, 11), SplitError::RefundedTotalAboveAmount { amount: 10, total: 11 });
        assert_eq!(rerr(10, &[], 5, 10), SplitError::NoShares);
        assert_eq!(rerr(10, &[Some(1)], 0, 0), SplitError::SharesSum(1));
        assert!(allocate_refund(10, &ok, 10, 10).is_ok());
    }

    #[test]
    fn messages_match_the_database() {
        let cases = [
            (SplitError::NegativeAmount(-5), "amount must not be negative, got -5"),
            (SplitError::NoShares, "shares_bp must not be empty"),
            (SplitError::NullShare { position: 3 }, "share 3 must not be NULL"),
            (
                SplitError::ShareOutOfRange { position: 1, share: -20 },
                "share 1 must be between 0 and 10000 basis points, got -20",
            ),
            (SplitError::SharesSum(9999), "shares must sum to 10000 basis points, got 9999"),
            (
                SplitError::NegativeRefundedBefore(-1),
                "refunded_before must not be negative, got -1",
            ),
            (
                SplitError::RefundedTotalBelowBefore { before: 7, total: 6 },
                "refunded_total must not be less than refunded_before (7), got 6",
            ),
            (
                SplitError::RefundedTotalAboveAmount { amount: 10, total: 11 },
                "refunded_total must not exceed amount (10), got 11",
            ),
        ];
        for (err, message) in cases {
            assert_eq!(err.to_string(), message);
            assert_eq!(err.sqlstate(), "22023");
        }
    }

    /// Shares in basis points that sum to 10 000: `n` parties, some of them 0.
    fn valid_shares() -> impl Strategy<Value = Vec<i32>> {
        (1usize..12).prop_flat_map(|n| {
            (prop::collection::vec(0i32..=10_000, n - 1), prop::collection::vec(any::<bool>(), n)).prop_map(|(mut cuts, zero)| {
                cuts.sort_unstable();
                let mut bounds = vec![0];
                bounds.extend(cuts);
                bounds.push(10_000);
                let mut bp: Vec<i32> = bounds.windows(2).map(|w| w[1] - w[0]).collect();
                // Move some parties' shares to the next party, so that zero shares are common.
                for i in 0..bp.len() - 1 {
                    if zero[i] && zero[i + 1] {
                        bp[i + 1] += bp[i];
                        bp[i] = 0;
                    }
                }
                bp
            })
        })
    }

    fn amount() -> impl Strategy<Value = i64> {
        prop_oneof![0i64..1000, 0i64..10_000_000, 0..=i64::MAX, Just(i64::MAX)]
    }

    /// Cumulative refunded amounts of a payment of `a`: sorted points in 0..=a, one per cut.
    fn cumulative_steps(a: i64, cuts: &[u64]) -> Vec<i64> {
        let mut steps: Vec<i64> = cuts.iter().map(|&c| ((u128::from(c) * (a as u128 + 1)) >> 64) as i64).collect();
        steps.sort_unstable();
        steps
    }

    /// What each party holds of a payment of `a` after refunds reaching each of `steps` in turn:
    /// the split minus every line reversed.
    fn held_after(a: i64, bp: &[i32], steps: &[i64]) -> Vec<i128> {
        let mut held: Vec<i128> = split(a, bp).iter().map(|&l| i128::from(l)).collect();
        let mut before = 0;
        for &total in steps {
            for (h, l) in held.iter_mut().zip(refund(a, bp, before, total)) {
                *h -= i128::from(l);
            }
            before = total;
        }
        held
    }

    proptest! {
        #[test]
        fn lines_sum_to_the_amount_and_stay_within_one_unit(a in amount(), bp in valid_shares()) {
            let lines = split(a, &bp);
            prop_assert_eq!(lines.len(), bp.len());
            prop_assert_eq!(lines.iter().map(|&l| i128::from(l)).sum::<i128>(), i128::from(a));
            for (line, &b) in lines.iter().zip(&bp) {
                // floor(quota) <= line <= floor(quota) + 1, and a zero share gets nothing.
                let floor = (i128::from(a) * i128::from(b) / 10_000) as i64;
                prop_assert!(*line == floor || *line == floor + 1);
                if b == 0 {
                    prop_assert_eq!(*line, 0);
                }
            }
        }

        #[test]
        fn leftover_units_go_to_the_largest_remainders(a in 0i64..100_000_000, bp in valid_shares()) {
            let lines = split(a, &bp);
            let rem = |i: usize| i64::from(bp[i]) * a % 10_000;
            let got: Vec<bool> = lines.iter().zip(&bp).map(|(&l, &b)| l > i64::from(b) * a / 10_000).collect();
            // Whoever got a unit ranks before whoever did not: larger remainder, or equal and lower index.
            for i in 0..bp.len() {
                for j in 0..bp.len() {
                    if got[i] && !got[j] {
                        prop_assert!(rem(i) > rem(j) || (rem(i) == rem(j) && i < j), "{:?} {}", bp, a);
                    }
                }
            }
        }

        #[test]
        fn splitting_is_scale_exact(a in 0i64..1_000_000_000, bp in valid_shares()) {
            // Whole multiples of 10 000 have no remainders: every line is a × bp / 10 000.
            let lines = split(a * 10_000, &bp);
            let exact: Vec<i64> = bp.iter().map(|&b| a * i64::from(b)).collect();
            prop_assert_eq!(lines, exact);
        }

        #[test]
        fn a_full_refund_in_any_steps_returns_every_party_to_zero(
            a in amount(),
            bp in valid_shares(),
            cuts in prop::collection::vec(any::<u64>(), 0..6),
        ) {
            let mut steps = cumulative_steps(a, &cuts);
            steps.push(a);
            let held = held_after(a, &bp, &steps);
            prop_assert!(held.iter().all(|&h| h == 0), "{:?}", held);
        }

        #[test]
        fn every_party_always_holds_the_split_of_what_is_left(
            a in amount(),
            bp in valid_shares(),
            cuts in prop::collection::vec(any::<u64>(), 1..8),
        ) {
            // Cumulative refunds that need not reach the amount: after each step, each party holds
            // what it was paid minus every line reversed so far, which is split(a - refunded) >= 0.
            let steps = cumulative_steps(a, &cuts);
            let mut held: Vec<i128> = split(a, &bp).iter().map(|&l| i128::from(l)).collect();
            let mut before = 0;
            for &total in &steps {
                let lines = refund(a, &bp, before, total);
                prop_assert_eq!(lines.iter().map(|&l| i128::from(l)).sum::<i128>(), i128::from(total - before));
                for (h, l) in held.iter_mut().zip(&lines) {
                    // A line is at least -1: one unit back at most.
                    prop_assert!(*l >= -1, "{:?} {} {} {}: {:?}", bp, a, before, total, lines);
                    *h -= i128::from(*l);
                    prop_assert!(*h >= 0, "{:?} {} {} {}: {:?}", bp, a, before, total, held);
                }
                let left: Vec<i128> = split(a - total, &bp).iter().map(|&l| i128::from(l)).collect();
                prop_assert_eq!(&held, &left);
                before = total;
            }
        }

        #[test]
        fn refund_lines_are_differences_of_what_is_left(a in 0i64..10_000_000, bp in valid_shares(), x in any::<u64>(), y in any::<u64>()) {
            let (mut b, mut t) = ((x % (a as u64 + 1)) as i64, (y % (a as u64 + 1)) as i64);
            if b > t {
                std::mem::swap(&mut b, &mut t);
            }
            let expected: Vec<i64> = split(a - b, &bp).iter().zip(split(a - t, &bp)).map(|(p, q)| p - q).collect();
            prop_assert_eq!(refund(a, &bp, b, t), expected);
        }
    }
}
