//! Counting rules: how much of one fan's plays reaches an artist's scores, so
//! that one fan cannot buy a board.
//!
//! Three rules, applied to each `audio.play` in log order (docs/coliseum-dna.md,
//! "Counting rules", has the numbers' reasons):
//!
//! ```text
//! slot     = floor(unix time / 30 min)                  fixed 30-minute slots of the UTC clock
//! repeat   : the same track by the same fan for the same artist in the same slot counts once
//! slot cap : per (fan, artist, slot) the first SLOT_PLAYS distinct tracks count, later ones do not
//! day      : the k-th counted play of a (fan, artist, UTC day) weighs 1 for k <= FULL_PLAYS,
//!            1/2 for k <= DAY_PLAYS, 0 after: at most 20 plays' worth a day
//! ```
//!
//! A play that does not count still makes its mutations (the log of what
//! happened is complete); it carries 0 units.

use std::collections::HashMap;
use std::hash::Hash;

use super::weight::Tier;

/// Length of a counting slot: 30 minutes in microseconds.
pub const SLOT_MICROS: i64 = 1_800_000_000;
/// Distinct tracks of one (fan, artist, slot) that count.
pub const SLOT_PLAYS: i64 = 10;
/// Counted plays of one (fan, artist, UTC day) at full weight.
pub const FULL_PLAYS: i64 = 10;
/// Counted plays of one (fan, artist, UTC day) with any weight; those after
/// `FULL_PLAYS` weigh half.
pub const DAY_PLAYS: i64 = 30;

/// Microseconds between the Unix epoch and Postgres' (2000-01-01 UTC).
pub const POSTGRES_EPOCH_UNIX_MICROS: i64 = 946_684_800_000_000;

/// A rank that must start at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RankError {
    pub argument: &'static str,
    pub got: i64,
}

impl std::fmt::Display for RankError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} must be at least 1, got {}", self.argument, self.got)
    }
}

/// The 30-minute slot of an instant given in Unix microseconds; slots are
/// aligned on the UTC clock (:00 and :30), the same in every time zone.
pub fn play_slot(unix_micros: i64) -> i64 {
    unix_micros.div_euclid(SLOT_MICROS)
}

/// Whether the `slot_rank`-th distinct track a fan played for an artist in one
/// slot counts.
pub fn play_counts(slot_rank: i64) -> Result<bool, RankError> {
    if slot_rank < 1 {
        return Err(RankError {
            argument: "slot_rank",
            got: slot_rank,
        });
    }
    Ok(slot_rank <= SLOT_PLAYS)
}

/// The units (tenths of a weight, as `tier_units`) of the `day_rank`-th counted
/// play of a (fan, artist, UTC day) whose kind has `tier`: the tier's units up
/// to `FULL_PLAYS`, half of them (rounded down) up to `DAY_PLAYS`, then 0.
pub fn play_units(tier: Tier, day_rank: i64) -> Result<i64, RankError> {
    if day_rank < 1 {
        return Err(RankError {
            argument: "day_rank",
            got: day_rank,
        });
    }
    let units = tier.multiplier_units();
    Ok(if day_rank <= FULL_PLAYS {
        units
    } else if day_rank <= DAY_PLAYS {
        units / 2
    } else {
        0
    })
}

/// The most units one fan's plays of one tier can bring an artist in a UTC day.
pub fn day_cap_units(tier: Tier) -> i64 {
    FULL_PLAYS * tier.multiplier_units() + (DAY_PLAYS - FULL_PLAYS) * (tier.multiplier_units() / 2)
}

/// The rules applied in log order, as the processor applies them: the
/// reference the database is tested against. Keys are whatever identifies a
/// fan, an artist and a track.
#[derive(Debug)]
pub struct PlayCounter<F, A, K> {
    slots: HashMap<(A, F, i64), Vec<K>>,
    days: HashMap<(A, F, i64), i64>,
}

impl<F, A, K> Default for PlayCounter<F, A, K> {
    fn default() -> Self {
        PlayCounter {
            slots: HashMap::new(),
            days: HashMap::new(),
        }
    }
}

impl<F: Eq + Hash + Clone, A: Eq + Hash + Clone, K: Eq + Clone> PlayCounter<F, A, K> {
    /// The units of the next play in the log: `unix_micros` is when it
    /// happened (already clamped to its receipt, as mutations are).
    pub fn play(&mut self, fan: &F, artist: &A, track: &K, tier: Tier, unix_micros: i64) -> i64 {
        let slot = play_slot(unix_micros);
        let tracks = self.slots.entry((artist.clone(), fan.clone(), slot)).or_default();
        if tracks.contains(track) {
            return 0;
        }
        let slot_rank = tracks.len() as i64 + 1;
        if !play_counts(slot_rank).expect("ranks start at 1") {
            return 0;
        }
        tracks.push(track.clone());
        let day = unix_micros.div_euclid(86_400_000_000);
        let rank = self.days.entry((artist.clone(), fan.clone(), day)).or_insert(0);
        *rank += 1;
        play_units(tier, *rank).expect("ranks start at 1")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const MIN: i64 = 60_000_000;
    const DAY: i64 = 86_400_000_000;

    #[test]
    fn slots_are_half_hours_of_the_utc_clock() {
        assert_eq!(play_slot(0), 0);
        assert_eq!(play_slot(30 * MIN - 1), 0);
        assert_eq!(play_slot(30 * MIN), 1);
        assert_eq!(play_slot(-1), -1);
        // 2026-11-28T10:29:59.999999Z and 10:30:00Z
        let ten_thirty = 1_795_861_800_000_000;
        assert_eq!(play_slot(ten_thirty) - play_slot(ten_thirty - 1), 1);
        // Postgres' epoch is a slot boundary: both epochs agree on slot edges.
        assert_eq!(POSTGRES_EPOCH_UNIX_MICROS % SLOT_MICROS, 0);
    }

    #[test]
    fn the_day_curve_by_hand() {
        let units: Vec<i64> = [1, 10, 11, 30, 31, 1000]
            .iter()
            .map(|&r| play_units(Tier::Signal, r).unwrap())
            .collect();
        assert_eq!(units, vec![10, 10, 5, 5, 0, 0]);
        assert_eq!(day_cap_units(Tier::Signal), 200);
        assert_eq!(play_units(Tier::Trace, 11), Ok(0));
        assert_eq!(play_units(Tier::Intent, 12), Ok(50));
        assert_eq!(
            play_units(Tier::Signal, 0),
            Err(RankError {
                argument: "day_rank",
                got: 0
            })
        );
        assert_eq!(play_counts(10), Ok(true));
        assert_eq!(play_counts(11), Ok(false));
        assert_eq!(play_counts(-3).unwrap_err().to_string(), "slot_rank must be at least 1, got -3");
    }

    #[test]
    fn the_attack_is_worth_less_than_a_genuine_day() {
        // 34,000 plays of distinct tracks in 20 s against 50 plays of five
        // tracks, one every 28 minutes.
        let mut c = PlayCounter::default();
        let start = 1_795_860_000_000_000;
        let attack: i64 = (0..34_000)
            .map(|i| c.play(&"mallory", &"a1", &i, Tier::Signal, start + i * 588))
            .sum();
        let mut c = PlayCounter::default();
        let genuine: i64 = (0..50)
            .map(|i| c.play(&"fan", &"a2", &(i % 5), Tier::Signal, start + i * 28 * MIN))
            .sum();
        assert_eq!(attack, 100);
        assert_eq!(genuine, 350);
    }

    proptest! {
        #[test]
        fn slots_contain_their_instants(t in any::<i64>()) {
            let s = play_slot(t);
            prop_assert!(s as i128 * SLOT_MICROS as i128 <= t as i128);
            prop_assert!((t as i128) < (s as i128 + 1) * SLOT_MICROS as i128);
        }

        #[test]
        fn the_day_curve_is_non_increasing(tier in 1i64..=5, rank in 1i64..100) {
            let tier = Tier::from_level(tier).unwrap();
            prop_assert!(play_units(tier, rank + 1).unwrap() <= play_units(tier, rank).unwrap());
            prop_assert!(play_units(tier, rank).unwrap() <= tier.multiplier_units());
        }

        #[test]
        fn one_fan_is_bounded_and_a_repeat_adds_nothing(
            plays in proptest::collection::vec((0u8..3, 0u8..40, 0i64..3 * DAY), 1..400),
        ) {
            let mut plays = plays;
            plays.sort_by_key(|p| p.2);
            let mut counter = PlayCounter::default();
            let mut per_day: HashMap<(u8, i64), i64> = HashMap::new();
            let mut per_slot: HashMap<(u8, i64), i64> = HashMap::new();
            let mut seen = std::collections::HashSet::new();
            for (fan, track, t) in &plays {
                let units = counter.play(fan, &"artist", track, Tier::Signal, *t);
                let fresh = seen.insert((*fan, *track, play_slot(*t)));
                if !fresh {
                    prop_assert_eq!(units, 0);
                }
                *per_day.entry((*fan, t.div_euclid(DAY))).or_default() += units;
                if units > 0 {
                    *per_slot.entry((*fan, play_slot(*t))).or_default() += 1;
                }
            }
            prop_assert!(per_day.values().all(|&u| u <= day_cap_units(Tier::Signal)));
            prop_assert!(per_slot.values().all(|&n| n <= SLOT_PLAYS));
        }

        #[test]
        fn more_plays_never_lower_a_fans_total(
            plays in proptest::collection::vec((0u8..30, 0i64..DAY), 1..200),
            extra in (0u8..30, 0i64..DAY),
        ) {
            let mut plays = plays;
            plays.sort_by_key(|p| p.1);
            let total = |plays: &[(u8, i64)]| {
                let mut c = PlayCounter::default();
                plays.iter().map(|(track, t)| c.play(&0, &0, track, Tier::Signal, *t)).sum::<i64>()
            };
            let before = total(&plays);
            plays.push((extra.0, plays.last().unwrap().1.max(extra.1)));
            prop_assert!(total(&plays) >= before);
        }

        #[test]
        fn fans_do_not_share_limits(n in 1i64..200) {
            // n fans playing one track once each: every play counts in full.
            let mut c = PlayCounter::default();
            let total: i64 = (0..n).map(|fan| c.play(&fan, &"artist", &"track", Tier::Signal, 0)).sum();
            prop_assert_eq!(total, n * 10);
        }
    }
}
