//! The domain metrics' shared math: the 0–100 strength score and two
//! measures of how a total is spread over its parts.
//!
//! ```text
//! strength_score(raw)         = least(100, 100 * ln(1 + greatest(raw, 0)) / ln(1 + 1e7))
//! normalized_entropy(weights) = -Σ p_i ln p_i / ln k     (0 when k < 2, at most 1)
//! concentration(weights)      =  Σ p_i²                  (0 when k = 0, at most 1)
//!     p_i = w_i / Σw over the k positive weights, in the order given
//! ```
//!
//! The SQL twins (`sql/twins/coliseum_metrics.sql`) evaluate the same
//! float8 expressions in the same order, so both give bit-identical results.
//! Postgres checks every float8 `+ * /` for overflow and underflow and raises
//! SQLSTATE 22003 instead of returning infinity or zero; the checked
//! operations below do the same, so the two implementations also fail alike.

use std::fmt;

/// The raw strength that scores 100: ten million weight units, e.g. ten
/// thousand fans attending a show (tier 5) in the last day.
pub const SCORE_FULL_RAW: f64 = 1e7;

/// Why a spread metric has no value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MetricError {
    /// A weight is NaN or infinite: it has no share of the total.
    NotFinite(f64),
    /// A float8 operation overflowed (the weights sum beyond `f64::MAX`).
    Overflow,
    /// A float8 operation underflowed to zero: a share below 4.9e-324 of the total,
    /// or a share below about 1.6e-162 squared.
    Underflow,
}

impl MetricError {
    /// The SQLSTATE the database raises for it.
    pub fn sqlstate(self) -> &'static str {
        match self {
            MetricError::NotFinite(_) => "22023",
            MetricError::Overflow | MetricError::Underflow => "22003",
        }
    }
}

impl fmt::Display for MetricError {
    /// The message the database raises, word for word (the last two are Postgres' own).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricError::NotFinite(w) => write!(f, "weights must be finite, got {}", float8_text(*w)),
            MetricError::Overflow => f.write_str("value out of range: overflow"),
            MetricError::Underflow => f.write_str("value out of range: underflow"),
        }
    }
}

impl std::error::Error for MetricError {}

/// A domain's raw strength on a 0–100 log scale that is the same for every
/// artist and every period: 0 for no activity, 50 at √(1e7 + 1) − 1 ≈ 3 161, 100 from
/// [`SCORE_FULL_RAW`] up. NaN, which Postgres orders above every number,
/// scores 100, as `greatest`/`least` do in the twin.
pub fn strength_score(raw: f64) -> f64 {
    let scaled = 100.0 * (1.0 + pg_larger(raw, 0.0)).ln() / (1.0 + SCORE_FULL_RAW).ln();
    pg_smaller(100.0, scaled)
}

/// Shannon entropy of the shares of the positive weights, divided by its
/// maximum `ln k`: 0 when everything is in one part (or there are fewer than
/// two), 1 when the k parts are equal. Non-positive weights are ignored.
pub fn normalized_entropy(weights: &[f64]) -> Result<f64, MetricError> {
    let (k, sum) = count_and_sum(weights)?;
    if k < 2 {
        return Ok(0.0);
    }
    let mut h = 0.0;
    for &w in weights.iter().filter(|&&w| w > 0.0) {
        let p = div(w, sum)?;
        h = add(h, mul(p, p.ln())?)?;
    }
    Ok(pg_smaller(1.0, div(-h, (k as f64).ln())?))
}

/// Herfindahl index of the shares of the positive weights: 1 when one part
/// holds everything, 1/k when the k parts are equal, 0 when there is none.
/// Non-positive weights are ignored.
pub fn concentration(weights: &[f64]) -> Result<f64, MetricError> {
    let (k, sum) = count_and_sum(weights)?;
    if k == 0 {
        return Ok(0.0);
    }
    let mut h = 0.0;
    for &w in weights.iter().filter(|&&w| w > 0.0) {
        let p = div(w, sum)?;
        h = add(h, mul(p, p)?)?;
    }
    Ok(pg_smaller(1.0, h))
}

/// How many weights are positive and their sum, in order; refuses NaN and
/// infinities where they occur, so an earlier overflow is reported first.
fn count_and_sum(weights: &[f64]) -> Result<(usize, f64), MetricError> {
    let mut k = 0;
    let mut sum = 0.0;
    for &w in weights {
        if !w.is_finite() {
            return Err(MetricError::NotFinite(w));
        }
        if w > 0.0 {
            k += 1;
            sum = add(sum, w)?;
        }
    }
    Ok((k, sum))
}

// Postgres' float8 operators (float.h: float8_pl, float8_mul, float8_div):
// an infinite result from finite operands is an overflow, a zero result from
// non-zero operands an underflow.

fn add(a: f64, b: f64) -> Result<f64, MetricError> {
    let r = a + b;
    if r.is_infinite() && a.is_finite() && b.is_finite() {
        return Err(MetricError::Overflow);
    }
    Ok(r)
}

fn mul(a: f64, b: f64) -> Result<f64, MetricError> {
    let r = a * b;
    if r.is_infinite() && a.is_finite() && b.is_finite() {
        return Err(MetricError::Overflow);
    }
    if r == 0.0 && a != 0.0 && b != 0.0 {
        return Err(MetricError::Underflow);
    }
    Ok(r)
}

/// Only ever called with a non-zero divisor (a sum of positive weights, or `ln k` for k ≥ 2).
fn div(a: f64, b: f64) -> Result<f64, MetricError> {
    let r = a / b;
    if r.is_infinite() && a.is_finite() {
        return Err(MetricError::Overflow);
    }
    if r == 0.0 && a != 0.0 && b.is_finite() {
        return Err(MetricError::Underflow);
    }
    Ok(r)
}

/// `a > b` in Postgres' float8 order, where NaN is above every number.
fn pg_gt(a: f64, b: f64) -> bool {
    if a.is_nan() {
        !b.is_nan()
    } else {
        a > b
    }
}

/// `float8larger(a, b)`, which `greatest` uses.
fn pg_larger(a: f64, b: f64) -> f64 {
    if pg_gt(a, b) {
        a
    } else {
        b
    }
}

/// `float8smaller(a, b)`, which `least` uses.
fn pg_smaller(a: f64, b: f64) -> f64 {
    if pg_gt(b, a) {
        a
    } else {
        b
    }
}

/// How Postgres prints a non-finite float8.
fn float8_text(w: f64) -> &'static str {
    if w.is_nan() {
        "NaN"
    } else if w > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn score_hand_computed_points() {
        assert_eq!(strength_score(0.0), 0.0);
        assert_eq!(strength_score(-5.0), 0.0);
        assert_eq!(strength_score(f64::NEG_INFINITY), 0.0);
        // ln(1 + 3161.2776...) is half of ln(1 + 1e7): sqrt(1e7 + 1) - 1.
        assert!(close(strength_score((1e7f64 + 1.0).sqrt() - 1.0), 50.0));
        // 100 × ln(1001) / ln(10000001) = 100 × 6.908754779 / 16.118095750 = 42.863343698.
        assert!(close(strength_score(1000.0), 42.86334369805723));
        assert!(close(strength_score(1.0), 100.0 * 2f64.ln() / 10_000_001f64.ln()));
        assert!(strength_score(1e7) > 99.999_999_999);
        assert_eq!(strength_score(1e7 * 1.001), 100.0);
        assert_eq!(strength_score(f64::MAX), 100.0);
        assert_eq!(strength_score(f64::INFINITY), 100.0);
        assert_eq!(strength_score(f64::NAN), 100.0);
        assert_eq!(strength_score(-0.0).to_bits(), 0f64.to_bits());
    }

    #[test]
    fn entropy_hand_computed_cases() {
        assert_eq!(normalized_entropy(&[]), Ok(0.0));
        assert_eq!(normalized_entropy(&[5.0]), Ok(0.0));
        assert_eq!(normalized_entropy(&[5.0, 0.0, -3.0]), Ok(0.0));
        assert_eq!(normalized_entropy(&[2.0, 2.0]), Ok(1.0));
        assert_eq!(normalized_entropy(&[7.0, 7.0, 7.0, 7.0]), Ok(1.0));
        // p = 1/4, 3/4: H = -(0.25 ln 0.25 + 0.75 ln 0.75) = 0.5623351446188083; / ln 2 = 0.8112781244591328.
        assert!(close(normalized_entropy(&[1.0, 3.0]).unwrap(), 0.8112781244591328));
        // Zeros and negatives are not parts: the same as [1, 3].
        assert_eq!(normalized_entropy(&[0.0, 1.0, -2.0, 3.0]), normalized_entropy(&[1.0, 3.0]));
        // p = 1/2, 1/4, 1/4: H = 1.5 ln 2; / ln 3 = 0.946394630357186.
        assert!(close(normalized_entropy(&[2.0, 1.0, 1.0]).unwrap(), 1.5 * 2f64.ln() / 3f64.ln()));
        // A tiny part barely counts.
        assert!(normalized_entropy(&[1e6, 1.0]).unwrap() < 1e-4);
    }

    #[test]
    fn concentration_hand_computed_cases() {
        assert_eq!(concentration(&[]), Ok(0.0));
        assert_eq!(concentration(&[0.0, -1.0]), Ok(0.0));
        assert_eq!(concentration(&[42.0]), Ok(1.0));
        assert_eq!(concentration(&[3.0, 3.0]), Ok(0.5));
        assert_eq!(concentration(&[1.0, 1.0, 1.0, 1.0]), Ok(0.25));
        // 0.25² + 0.75² = 0.625.
        assert_eq!(concentration(&[1.0, 3.0]), Ok(0.625));
        // 0.5² + 0.25² + 0.25² = 0.375.
        assert_eq!(concentration(&[2.0, 0.0, 1.0, 1.0]), Ok(0.375));
    }

    #[test]
    fn non_finite_weights_are_refused_in_order() {
        assert!(matches!(normalized_entropy(&[1.0, f64::NAN]), Err(MetricError::NotFinite(w)) if w.is_nan()));
        let err = concentration(&[1.0, f64::INFINITY, f64::NAN]).unwrap_err();
        assert_eq!(err.to_string(), "weights must be finite, got Infinity");
        assert_eq!(err.sqlstate(), "22023");
        assert_eq!(
            normalized_entropy(&[f64::NEG_INFINITY]).unwrap_err().to_string(),
            "weights must be finite, got -Infinity"
        );
        assert_eq!(
            normalized_entropy(&[2.0, f64::NAN]).unwrap_err().to_string(),
            "weights must be finite, got NaN"
        );
        // The sum overflows before the NaN is reached, as in the twin's loop.
        assert_eq!(concentration(&[f64::MAX, f64::MAX, f64::NAN]), Err(MetricError::Overflow));
    }

    #[test]
    fn float8_range_errors_match_postgres() {
        assert_eq!(normalized_entropy(&[f64::MAX, f64::MAX]), Err(MetricError::Overflow));
        assert_eq!(MetricError::Overflow.to_string(), "value out of range: overflow");
        assert_eq!(MetricError::Overflow.sqlstate(), "22003");
        // A share of 1e-200 cannot be squared in float8.
        assert_eq!(concentration(&[1.0, 1e-200]), Err(MetricError::Underflow));
        // ... but its entropy term, p ln p, is representable.
        assert!(normalized_entropy(&[1.0, 1e-200]).is_ok());
        // The smallest subnormal weight is 4.9e-324 of a total of 1e10: its share is zero.
        assert_eq!(normalized_entropy(&[1e10, 5e-324]), Err(MetricError::Underflow));
        assert_eq!(MetricError::Underflow.to_string(), "value out of range: underflow");
    }

    fn weights() -> impl Strategy<Value = Vec<f64>> {
        prop::collection::vec(prop_oneof![3 => 0.01f64..1e6, 1 => Just(0.0), 1 => -10.0f64..0.0], 0..40)
    }

    proptest! {
        #[test]
        fn score_is_bounded_and_monotone(a in -1e3f64..1e9, b in 0f64..1e9) {
            let s = strength_score(a);
            prop_assert!((0.0..=100.0).contains(&s));
            prop_assert!(strength_score(a + b) >= s);
        }

        #[test]
        fn spreads_are_bounded(w in weights()) {
            let k = w.iter().filter(|&&x| x > 0.0).count();
            let e = normalized_entropy(&w).unwrap();
            let c = concentration(&w).unwrap();
            prop_assert!((0.0..=1.0).contains(&e));
            prop_assert!((0.0..=1.0).contains(&c));
            if k > 0 {
                // Σp² is at least 1/k, reached when the parts are equal.
                prop_assert!(c >= (1.0 / k as f64) * (1.0 - 1e-12));
            }
        }

        #[test]
        fn equal_parts_are_fully_spread(x in 0.01f64..1e6, k in 2usize..60) {
            let w = vec![x; k];
            prop_assert!(close(normalized_entropy(&w).unwrap(), 1.0));
            prop_assert!(close(concentration(&w).unwrap(), 1.0 / k as f64));
        }

        #[test]
        fn order_does_not_matter(w in weights(), seed in any::<u64>()) {
            let mut shuffled = w.clone();
            // A seeded Fisher–Yates: the permutation varies with the case.
            let mut state = seed | 1;
            for i in (1..shuffled.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                shuffled.swap(i, (state % (i as u64 + 1)) as usize);
            }
            prop_assert!(close(normalized_entropy(&w).unwrap(), normalized_entropy(&shuffled).unwrap()));
            prop_assert!(close(concentration(&w).unwrap(), concentration(&shuffled).unwrap()));
        }

        #[test]
        fn scale_does_not_matter(w in weights(), factor in 1e-3f64..1e3, exp in -20i32..20) {
            let scaled: Vec<f64> = w.iter().map(|x| x * factor).collect();
            prop_assert!(close(normalized_entropy(&w).unwrap(), normalized_entropy(&scaled).unwrap()));
            prop_assert!(close(concentration(&w).unwrap(), concentration(&scaled).unwrap()));
            // A power of two scales every float exactly, so the shares and results are bit-identical.
            let two = 2f64.powi(exp);
            let exact: Vec<f64> = w.iter().map(|x| x * two).collect();
            prop_assert_eq!(normalized_entropy(&w).unwrap().to_bits(), normalized_entropy(&exact).unwrap().to_bits());
            prop_assert_eq!(concentration(&w).unwrap().to_bits(), concentration(&exact).unwrap().to_bits());
        }

        #[test]
        fn one_dominant_part_concentrates(small in prop::collection::vec(0.01f64..1.0, 1..10)) {
            let mut w = small.clone();
            w.push(1e9);
            prop_assert!(concentration(&w).unwrap() > 0.999_999);
            prop_assert!(normalized_entropy(&w).unwrap() < 0.01);
        }
    }
}
