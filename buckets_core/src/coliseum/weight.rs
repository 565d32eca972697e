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

    proptest! {
        #[test]
        fn decay_is_bounded_and_non_increasing(a in -DAY..400 * DAY, b in 0..400 * DAY) {
            let d1 = recency_decay(a);
            let d2 = recency_decay(a.saturating_add(b));
            prop_assert!((DECAY_FLOOR..=1.0).contains(&d1));
            prop_assert!(d2 <= d1);
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
