//! Event weight = tier multiplier x recency decay.
//!
//! Times are microseconds (Postgres' own resolution), so the extension passes
//! `timestamptz` values through unchanged and the SQL twin can reproduce every
//! floating-point step exactly:
//!
//! ```text
//! age_s  = (as_of - occurred_at) in seconds        (negative ages count as 0)
//! decay  = max(0.1, 1 - age_s / 2_592_000)         (30 days, 10 % floor)
//! weight = multiplier(tier) * decay
//! ```

use serde::{Deserialize, Serialize};

/// Seconds in the 30-day decay window.
pub const DECAY_WINDOW_SECONDS: f64 = 30.0 * 86_400.0;
/// The decay never drops below this fraction of the full weight.
pub const DECAY_FLOOR: f64 = 0.1;

/// The five weight tiers of the event catalog, from ambient signals to
/// landmark moments. The numeric value (1..=5) is what the database stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 0.1x: impressions, skips, views.
    Trace = 1,
    /// 1x: plays, likes, profile changes.
    Signal = 2,
    /// 10x: shares, follows, playlist adds, comments, votes.
    Intent = 3,
    /// 100x: purchases, memberships, tips, tickets.
    Commitment = 4,
    /// 1000x: showing up — attending an event.
    Landmark = 5,
}

impl Tier {
    pub const ALL: [Tier; 5] = [Tier::Trace, Tier::Signal, Tier::Intent, Tier::Commitment, Tier::Landmark];

    pub fn from_level(level: i64) -> Option<Tier> {
        Tier::ALL.into_iter().find(|t| t.level() == level)
    }

    pub fn level(self) -> i64 {
        self as i64
    }

    pub fn multiplier(self) -> f64 {
        match self {
            Tier::Trace => 0.1,
            Tier::Signal => 1.0,
            Tier::Intent => 10.0,
            Tier::Commitment => 100.0,
            Tier::Landmark => 1000.0,
        }
    }

    /// The multiplier in tenths: 1, 10, 100, 1000, 10000.
    pub fn multiplier_units(self) -> i64 {
        10_i64.pow((self.level() - 1) as u32)
    }

    pub fn name(self) -> &'static str {
        match self {
            Tier::Trace => "trace",
            Tier::Signal => "signal",
            Tier::Intent => "intent",
            Tier::Commitment => "commitment",
            Tier::Landmark => "landmark",
        }
    }
}

/// The multiplier of a tier level (1..=5), `None` for any other level.
pub fn tier_multiplier(level: i64) -> Option<f64> {
    Tier::from_level(level).map(Tier::multiplier)
}

/// Linear decay over 30 days from 1.0, never below 0.1. `age_micros` is
/// `as_of - occurred_at`; an event from the future is not decayed.
pub fn recency_decay(age_micros: i64) -> f64 {
    let age_seconds = age_micros.max(0) as f64 / 1_000_000.0;
    (1.0 - age_seconds / DECAY_WINDOW_SECONDS).max(DECAY_FLOOR)
}

/// The weight of an event of tier `level` that happened at `occurred_at_micros`,
/// seen at `as_of_micros` (both microseconds on any common epoch).
pub fn event_weight(level: i64, occurred_at_micros: i64, as_of_micros: i64) -> Option<f64> {
    let age = as_of_micros.saturating_sub(occurred_at_micros);
    tier_multiplier(level).map(|m| m * recency_decay(age))
}

/// Microseconds in the 30-day decay window.
pub const DECAY_WINDOW_MICROS: i64 = 2_592_000_000_000;
/// Age from which the floor applies: 1 - 27/30 = 0.1.
pub const FLOOR_AGE_MICROS: i64 = 2_332_800_000_000;

/// The multiplier of a tier level in tenths (1, 10, 100, 1000, 10000): the
/// integer unit in which scores add weights exactly.
pub fn tier_units(level: i64) -> Option<i64> {
    Tier::from_level(level).map(Tier::multiplier_units)
}

/// The exact decayed weight of one event in units x microseconds:
/// `tier_units x max(P / 10, P - max(age, 0))` with P the 30-day window, so
/// that `weight = decayed_units / (10 P)` is `event_weight` computed without
/// rounding. Fits i64 for every tier (at most 2.6e16).
pub fn decayed_units(level: i64, occurred_at_micros: i64, as_of_micros: i64) -> Option<i64> {
    let age = as_of_micros.saturating_sub(occurred_at_micros).max(0);
    let decayed = (DECAY_WINDOW_MICROS - age.min(FLOOR_AGE_MICROS)).max(DECAY_WINDOW_MICROS / 10);
    tier_units(level).map(|u| u * decayed)
}

/// Where an event falls on the decay curve as seen at `as_of`. Within a region
/// the decayed units of a set of events follow from two sums (see
/// [`bucket_terms`]); the regions meet where their formulas agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecayRegion {
    /// After `as_of`: not decayed.
    Future,
    /// `as_of - 27 d <= t <= as_of`: linear.
    Linear,
    /// Before `as_of - 27 d`: the 10 % floor.
    Floor,
}

impl DecayRegion {
    pub fn name(self) -> &'static str {
        match self {
            DecayRegion::Future => "future",
            DecayRegion::Linear => "linear",
            DecayRegion::Floor => "floor",
        }
    }
}

pub fn decay_region(occurred_at_micros: i64, as_of_micros: i64) -> DecayRegion {
    if occurred_at_micros > as_of_micros {
        DecayRegion::Future
    } else if occurred_at_micros >= as_of_micros.saturating_sub(FLOOR_AGE_MICROS) {
        DecayRegion::Linear
    } else {
        DecayRegion::Floor
    }
}

/// Why a bucket of events cannot be decayed as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BucketError {
    /// first_at > last_at, or first_at before the bucket's start.
    BadRange,
    /// The events straddle two decay regions: decay them one by one.
    SpansRegions(DecayRegion, DecayRegion),
}

impl std::fmt::Display for BucketError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BucketError::BadRange => write!(f, "a bucket needs bucket_start <= first_at <= last_at"),
            BucketError::SpansRegions(a, b) => {
                write!(
                    f,
                    "the bucket spans two decay regions ({} and {}); decay its events one by one",
                    a.name(),
                    b.name()
                )
            }
        }
    }
}

/// The decayed units of a bucket of events all in one decay region, from
/// `units = sum(tier_units)` and `unit_micros = sum(tier_units x (t - start))`:
/// `units x coefficient + (if linear) unit_micros`. Returns the coefficient and
/// whether `unit_micros` is added, so that callers with arbitrary-precision
/// sums (SQL numeric) apply the same formula.
pub fn bucket_terms(start: i64, first_at: i64, last_at: i64, as_of: i64) -> Result<(i64, bool), BucketError> {
    if first_at > last_at || first_at < start {
        return Err(BucketError::BadRange);
    }
    let (a, b) = (decay_region(first_at, as_of), decay_region(last_at, as_of));
    if a != b {
        return Err(BucketError::SpansRegions(a, b));
    }
    Ok(match a {
        DecayRegion::Future => (DECAY_WINDOW_MICROS, false),
        // sum u (P - (as_of - t)) = (P - as_of + start) sum u + sum u (t - start)
        DecayRegion::Linear => (DECAY_WINDOW_MICROS - (as_of - start), true),
        DecayRegion::Floor => (DECAY_WINDOW_MICROS / 10, false),
    })
}

/// [`bucket_terms`] applied to i128 sums.
pub fn bucket_decayed_units(
    units: i128,
    unit_micros: i128,
    start: i64,
    first_at: i64,
    last_at: i64,
    as_of: i64,
) -> Result<i128, BucketError> {
    let (coefficient, linear) = bucket_terms(start, first_at, last_at, as_of)?;
    Ok(units * i128::from(coefficient) + if linear { unit_micros } else { 0 })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400 * 1_000_000;

    #[test]
    fn multipliers_span_four_orders_of_magnitude() {
        let got: Vec<f64> = (1..=5).map(|l| tier_multiplier(l).unwrap()).collect();
        assert_eq!(got, vec![0.1, 1.0, 10.0, 100.0, 1000.0]);
        assert_eq!(tier_multiplier(0), None);
        assert_eq!(tier_multiplier(6), None);
    }

    #[test]
    fn decay_hand_computed_points() {
        assert_eq!(recency_decay(0), 1.0);
        assert_eq!(recency_decay(15 * DAY), 0.5);
        assert!((recency_decay(3 * DAY) - 0.9).abs() < 1e-15);
        // 1 - 27/30 = 0.1: the floor is reached on day 27 and held after.
        assert!((recency_decay(27 * DAY) - 0.1).abs() < 1e-15);
        assert_eq!(recency_decay(29 * DAY), 0.1);
        assert_eq!(recency_decay(400 * DAY), 0.1);
        assert_eq!(recency_decay(-DAY), 1.0);
    }

    #[test]
    fn weight_is_tier_times_decay() {
        assert_eq!(event_weight(5, 0, 15 * DAY), Some(500.0));
        assert_eq!(event_weight(2, 10 * DAY, 10 * DAY), Some(1.0));
        assert_eq!(event_weight(1, 0, 90 * DAY), Some(0.1 * 0.1));
        assert_eq!(event_weight(9, 0, 0), None);
    }

    #[test]
    fn decayed_units_are_the_exact_weight() {
        let p = DECAY_WINDOW_MICROS;
        assert_eq!(tier_units(1), Some(1));
        assert_eq!(tier_units(5), Some(10_000));
        assert_eq!(tier_units(0), None);
        // tier 2 (1x) now: 1.0 = 10 units x P / (10 P)
        assert_eq!(decayed_units(2, 0, 0), Some(10 * p));
        // 15 days old: 0.5
        assert_eq!(decayed_units(2, 0, 15 * DAY), Some(5 * p));
        // past the floor and from the future
        assert_eq!(decayed_units(2, 0, 29 * DAY), Some(p));
        assert_eq!(decayed_units(5, 0, 27 * DAY), Some(10_000 * p / 10));
        assert_eq!(decayed_units(5, DAY, 0), Some(10_000 * p));
        assert_eq!(decayed_units(7, 0, 0), None);
    }

    #[test]
    fn buckets_refuse_to_straddle_regions() {
        assert_eq!(bucket_terms(0, 0, DAY, 20 * DAY), Ok((DECAY_WINDOW_MICROS - 20 * DAY, true)));
        assert!(matches!(bucket_terms(0, 0, 2 * DAY, DAY), Err(BucketError::SpansRegions(..))));
        assert_eq!(bucket_terms(0, DAY, 0, DAY), Err(BucketError::BadRange));
        assert_eq!(bucket_terms(DAY, 0, DAY, DAY), Err(BucketError::BadRange));
        // the edges: at as_of and at as_of - 27 d the formulas meet
        assert_eq!(decay_region(DAY, DAY), DecayRegion::Linear);
        assert_eq!(decay_region(0, 27 * DAY), DecayRegion::Linear);
        assert_eq!(decay_region(-1, 27 * DAY), DecayRegion::Floor);
    }

    proptest! {
        #[test]
        fn decay_is_bounded_and_non_increasing(a in -DAY..400 * DAY, b in 0..400 * DAY) {
            let d1 = recency_decay(a);
            let d2 = recency_decay(a.saturating_add(b));
            prop_assert!((DECAY_FLOOR..=1.0).contains(&d1));
            prop_assert!(d2 <= d1);
        }

        #[test]
        fn decayed_units_match_event_weight(level in 1i64..=5, occ in any::<i32>(), age in -DAY..400 * DAY) {
            let occ = occ as i64 * 1_000;
            let exact = decayed_units(level, occ, occ + age).unwrap() as f64 / (10 * DECAY_WINDOW_MICROS) as f64;
            let w = event_weight(level, occ, occ + age).unwrap();
            prop_assert!((exact - w).abs() <= 1e-12 * w.max(1.0));
        }

        /// A bucket decayed as a whole equals the sum of its events decayed one
        /// by one, whenever it lies in one region.
        #[test]
        fn bucket_equals_sum_of_rows(
            events in proptest::collection::vec((1i64..=5, 0i64..3_600_000_000), 1..40),
            start in -100 * DAY..100 * DAY,
            as_of_offset in -2 * DAY..60 * DAY,
        ) {
            let as_of = start + as_of_offset;
            let times: Vec<i64> = events.iter().map(|(_, dt)| start + dt).collect();
            let (first, last) = (*times.iter().min().unwrap(), *times.iter().max().unwrap());
            let units: i128 = events.iter().map(|(l, _)| i128::from(tier_units(*l).unwrap())).sum();
            let unit_micros: i128 = events.iter().map(|(l, dt)| i128::from(tier_units(*l).unwrap()) * i128::from(*dt)).sum();
            let rows: i128 = events.iter().zip(&times).map(|((l, _), t)| i128::from(decayed_units(*l, *t, as_of).unwrap())).sum();
            match bucket_decayed_units(units, unit_micros, start, first, last, as_of) {
                Ok(total) => prop_assert_eq!(total, rows),
                Err(BucketError::SpansRegions(..)) => prop_assert_ne!(decay_region(first, as_of), decay_region(last, as_of)),
                Err(e) => prop_assert!(false, "{}", e),
            }
        }

        #[test]
        fn weight_never_exceeds_multiplier(level in 1i64..=5, occ in any::<i32>(), age in 0i64..100 * DAY) {
            let occ = occ as i64 * 1_000_000;
            let w = event_weight(level, occ, occ + age).unwrap();
            let m = tier_multiplier(level).unwrap();
            prop_assert!(w <= m && w >= m * DECAY_FLOOR);
        }
    }
}
