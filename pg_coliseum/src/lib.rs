//! pg_coliseum: the Coliseum math as SQL functions, and the processor that
//! keeps DNA fresh.
//!
//! A thin layer over `buckets_core::coliseum`: each function converts its
//! arguments, checks what SQL callers can get wrong, and delegates. Every
//! math function has a SQL twin with the same name, signature, volatility,
//! results and errors in `sql/twins/`, installed instead of the extension
//! where it cannot be loaded (see docs/coliseum-math.md). The processor
//! (`processor.rs`) exists only here: hosted Supabase drives the same SQL
//! entry point with pg_cron instead.

use buckets_core::coliseum::{self, counting, BucketError, MetricError, Tier};
use pgrx::prelude::*;

mod matching;
mod processor;
mod split;

::pgrx::pg_module_magic!(name, version);

/// Runs in every process that loads the library, whether at server start or
/// at a session's first call: registers the processor's settings.
#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    processor::register_settings();
}

/// The weight multiplier of a tier level (1..=5): 0.1, 1, 10, 100 or 1000.
#[pg_extern(immutable, strict, parallel_safe)]
fn tier_multiplier(tier: i16) -> f64 {
    checked_tier(tier).multiplier()
}

/// Linear decay from 1.0 over the 30 days after `occurred_at`, never below 0.1;
/// events after `as_of` are not decayed.
#[pg_extern(immutable, strict, parallel_safe)]
fn recency_decay(occurred_at: TimestampWithTimeZone, as_of: TimestampWithTimeZone) -> f64 {
    let occurred_at = finite_micros("occurred_at", occurred_at);
    let as_of = finite_micros("as_of", as_of);
    coliseum::recency_decay(as_of.saturating_sub(occurred_at))
}

/// `tier_multiplier(tier) * recency_decay(occurred_at, as_of)`.
#[pg_extern(immutable, strict, parallel_safe)]
fn event_weight(tier: i16, occurred_at: TimestampWithTimeZone, as_of: TimestampWithTimeZone) -> f64 {
    // Checked in argument order so the errors match the twin's.
    let level = checked_tier(tier).level();
    let occurred_at = finite_micros("occurred_at", occurred_at);
    let as_of = finite_micros("as_of", as_of);
    coliseum::event_weight(level, occurred_at, as_of).expect("a checked tier has a multiplier")
}

/// The tier's multiplier in tenths (1, 10, 100, 1000, 10000): the integer
/// unit in which scores add weights exactly.
#[pg_extern(immutable, strict, parallel_safe)]
fn tier_units(tier: i16) -> i64 {
    checked_tier(tier).multiplier_units()
}

/// The exact decayed weight of one event in units x microseconds:
/// `tier_units(tier) * max(P / 10, P - max(age, 0))`, P = 30 days in µs;
/// `event_weight = decayed_units / (10 P)` without rounding.
#[pg_extern(immutable, strict, parallel_safe)]
fn decayed_units(tier: i16, occurred_at: TimestampWithTimeZone, as_of: TimestampWithTimeZone) -> i64 {
    let level = checked_tier(tier).level();
    let occurred_at = finite_micros("occurred_at", occurred_at);
    let as_of = finite_micros("as_of", as_of);
    coliseum::decayed_units(level, occurred_at, as_of).expect("a checked tier has units")
}

/// The decayed units of a bucket of events that all lie in one decay region,
/// from `units = sum(tier_units)` and `unit_micros = sum(tier_units * (t -
/// bucket_start) in µs)`: equal to the sum of `decayed_units` over its events.
#[pg_extern(immutable, strict, parallel_safe)]
fn bucket_decayed_units(
    units: AnyNumeric,
    unit_micros: AnyNumeric,
    bucket_start: TimestampWithTimeZone,
    first_at: TimestampWithTimeZone,
    last_at: TimestampWithTimeZone,
    as_of: TimestampWithTimeZone,
) -> AnyNumeric {
    let start = finite_micros("bucket_start", bucket_start);
    let first_at = finite_micros("first_at", first_at);
    let last_at = finite_micros("last_at", last_at);
    let as_of = finite_micros("as_of", as_of);
    let (coefficient, linear) = coliseum::bucket_terms(start, first_at, last_at, as_of)
        .unwrap_or_else(|e: BucketError| raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.to_string()));
    let scaled = units * AnyNumeric::from(coefficient);
    if linear {
        scaled + unit_micros
    } else {
        scaled
    }
}

/// The 30-minute slot of the UTC clock that `occurred_at` falls in (Unix time
/// / 30 min, rounded down): same-track plays of a fan in one slot count once.
#[pg_extern(immutable, strict, parallel_safe)]
fn play_slot(occurred_at: TimestampWithTimeZone) -> i64 {
    let micros = finite_micros("occurred_at", occurred_at);
    coliseum::play_slot(micros + counting::POSTGRES_EPOCH_UNIX_MICROS)
}

/// Whether the `slot_rank`-th distinct track of a (fan, artist, slot) counts.
#[pg_extern(immutable, strict, parallel_safe)]
fn play_counts(slot_rank: i64) -> bool {
    coliseum::play_counts(slot_rank).unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.to_string()))
}

/// The units of the `day_rank`-th counted play of a (fan, artist, UTC day):
/// the tier's units for the first 10, half for the next 20, then 0.
#[pg_extern(immutable, strict, parallel_safe)]
fn play_units(tier: i16, day_rank: i64) -> i64 {
    let tier = checked_tier(tier);
    coliseum::play_units(tier, day_rank).unwrap_or_else(|e| raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.to_string()))
}

/// A domain's raw strength on the platform-wide 0–100 log scale.
#[pg_extern(immutable, strict, parallel_safe)]
fn strength_score(raw: f64) -> f64 {
    coliseum::strength_score(raw)
}

/// Shannon entropy of the shares of the positive weights over `ln k`, in
/// 0..1; NULL elements are skipped.
#[pg_extern(immutable, strict, parallel_safe)]
fn normalized_entropy(weights: Array<'_, f64>) -> f64 {
    spread(&weights, coliseum::normalized_entropy)
}

/// Herfindahl index (sum of squared shares) of the positive weights, in
/// 0..1; NULL elements are skipped.
#[pg_extern(immutable, strict, parallel_safe)]
fn concentration(weights: Array<'_, f64>) -> f64 {
    spread(&weights, coliseum::concentration)
}

/// Applies a spread metric to the non-NULL elements, in array order.
fn spread(weights: &Array<'_, f64>, metric: fn(&[f64]) -> Result<f64, MetricError>) -> f64 {
    let result = match weights.as_slice() {
        Ok(values) => metric(values),
        Err(_) => metric(&weights.iter().flatten().collect::<Vec<f64>>()),
    };
    result.unwrap_or_else(|e| {
        let code = match e {
            MetricError::NotFinite(_) => PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            MetricError::Overflow | MetricError::Underflow => PgSqlErrorCode::ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
        };
        raise(code, e.to_string())
    })
}

fn checked_tier(tier: i16) -> Tier {
    Tier::from_level(i64::from(tier)).unwrap_or_else(|| {
        raise(
            PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE,
            format!("tier must be between 1 and 5, got {tier}"),
        )
    })
}

/// Microseconds since 2000-01-01 UTC, Postgres' own representation. Only
/// differences are used, so the epoch does not matter. Infinite timestamps
/// have no age: they are refused with the SQLSTATE Postgres 15 uses for
/// `'infinity'::timestamptz - now()`.
fn finite_micros(argument: &str, ts: TimestampWithTimeZone) -> i64 {
    if !ts.is_finite() {
        let value = if ts.is_infinity() { "infinity" } else { "-infinity" };
        raise(
            PgSqlErrorCode::ERRCODE_DATETIME_FIELD_OVERFLOW,
            format!("{argument} must be a finite timestamp, got {value}"),
        );
    }
    pg_sys::TimestampTz::from(ts)
}

fn raise(code: PgSqlErrorCode, message: String) -> ! {
    ereport!(ERROR, code, message);
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use buckets_core::coliseum;
    use pgrx::prelude::*;

    const DAY_MICROS: i64 = 86_400_000_000;

    fn weight(sql_args: &str) -> Option<f64> {
        Spi::get_one::<f64>(&format!("select event_weight({sql_args})")).expect("query runs")
    }

    fn decay(occurred_at: &str, as_of: &str) -> f64 {
        Spi::get_one::<f64>(&format!(
            "select recency_decay('{occurred_at}'::timestamptz, '{as_of}'::timestamptz)"
        ))
        .expect("query runs")
        .expect("not null")
    }

    #[pg_test]
    fn multipliers_of_the_five_tiers() {
        let got: Vec<f64> = (1..=5)
            .map(|t| {
                Spi::get_one::<f64>(&format!("select tier_multiplier({t}::smallint)"))
                    .unwrap()
                    .unwrap()
            })
            .collect();
        assert_eq!(got, vec![0.1, 1.0, 10.0, 100.0, 1000.0]);
    }

    #[pg_test]
    fn hand_computed_weights() {
        let as_of = "'2026-11-22 12:00:00+00'::timestamptz";
        let at = |ago: &str| format!("{as_of} - interval '{ago}'");
        assert_eq!(weight(&format!("5::smallint, {}, {as_of}", at("0 days"))), Some(1000.0));
        assert_eq!(weight(&format!("5::smallint, {}, {as_of}", at("15 days"))), Some(500.0));
        assert_eq!(weight(&format!("4::smallint, {}, {as_of}", at("27 days"))), Some(10.0));
        assert_eq!(weight(&format!("4::smallint, {}, {as_of}", at("400 days"))), Some(10.0));
        assert_eq!(weight(&format!("2::smallint, {}, {as_of}", at("-3 days"))), Some(1.0));
        assert_eq!(
            weight(&format!("3::smallint, {}, {as_of}", at("3 days"))),
            Some(10.0 * coliseum::recency_decay(3 * DAY_MICROS))
        );
    }

    #[pg_test]
    fn ages_are_exact_to_the_microsecond_and_time_zone_free() {
        assert_eq!(
            decay("2026-11-01 00:00:00+00", "2026-11-01 00:00:01.000001+00"),
            coliseum::recency_decay(1_000_001)
        );
        assert_eq!(
            decay("2026-11-01 00:00:00+14", "2026-11-07 23:59:59.999999-12"),
            coliseum::recency_decay(8 * DAY_MICROS + 2 * 3_600_000_000 - 1)
        );
        assert_eq!(
            decay("1999-12-31 23:00:00+00", "2000-01-01 01:00:00+00"),
            coliseum::recency_decay(2 * 3_600_000_000)
        );
        // The span from 4713 BC to 294276 AD does not fit in i64 microseconds: it saturates to the floor.
        assert_eq!(decay("4713-01-01 00:00:00+00 BC", "294276-12-31 00:00:00+00"), 0.1);
        assert_eq!(decay("294276-12-31 00:00:00+00", "4713-01-01 00:00:00+00 BC"), 1.0);
    }

    #[pg_test]
    fn null_in_null_out() {
        let nulls: (Option<bool>, Option<bool>) = Spi::get_two(
            "select tier_multiplier(null) is null and recency_decay(null, now()) is null and recency_decay(now(), null) is null,
                    event_weight(null, now(), now()) is null and event_weight(1::smallint, null, now()) is null
                    and event_weight(1::smallint, now(), null) is null",
        )
        .unwrap();
        assert_eq!(nulls, (Some(true), Some(true)));
    }

    #[pg_test(error = "tier must be between 1 and 5, got 0")]
    fn tier_zero_is_refused() {
        Spi::run("select tier_multiplier(0::smallint)").unwrap();
    }

    #[pg_test(error = "tier must be between 1 and 5, got 6")]
    fn event_weight_checks_the_tier_first() {
        Spi::run("select event_weight(6::smallint, 'infinity', now())").unwrap();
    }

    #[pg_test(error = "occurred_at must be a finite timestamp, got -infinity")]
    fn infinite_occurred_at_is_refused() {
        Spi::run("select recency_decay('-infinity', 'infinity')").unwrap();
    }

    #[pg_test(error = "as_of must be a finite timestamp, got infinity")]
    fn infinite_as_of_is_refused() {
        Spi::run("select event_weight(1::smallint, now(), 'infinity')").unwrap();
    }

    #[pg_test]
    fn errors_carry_their_sqlstate() {
        Spi::run(
            "do $test$ begin
               begin perform tier_multiplier(-1::smallint); raise 'no error';
               exception when invalid_parameter_value then null; end;
               begin perform event_weight(9::smallint, now(), now()); raise 'no error';
               exception when invalid_parameter_value then null; end;
               begin perform recency_decay('infinity', now()); raise 'no error';
               exception when datetime_field_overflow then null; end;
             end $test$",
        )
        .unwrap();
    }

    #[pg_test]
    fn exact_decay_by_hand() {
        let units = |sql: &str| Spi::get_one::<i64>(&format!("select {sql}")).unwrap().unwrap();
        let p: i64 = 2_592_000_000_000;
        assert_eq!(units("tier_units(5::smallint)"), 10_000);
        // tier 2 (1x) 15 days old: 0.5 = 5 units x P
        assert_eq!(units("decayed_units(2::smallint, '2026-11-01 00:00Z', '2026-11-16 00:00Z')"), 5 * p);
        // a microsecond past the floor's start, and from the future
        assert_eq!(
            units("decayed_units(1::smallint, '2026-11-01 00:00Z', '2026-11-28 00:00:00.000001Z')"),
            p / 10
        );
        assert_eq!(
            units("decayed_units(3::smallint, '2026-11-02 00:00Z', '2026-11-01 00:00Z')"),
            100 * p
        );
        // a bucket of two tier-2 events at 10:15 and 10:45, seen at 12:00 the same day:
        // 10 (P - 6300 s) + 10 (P - 4500 s) in µs
        let bucket = Spi::get_one::<AnyNumeric>(
            "select bucket_decayed_units(20, 10 * 900000000::numeric + 10 * 2700000000::numeric, '2026-11-01 10:00Z',
                                         '2026-11-01 10:15Z', '2026-11-01 10:45Z', '2026-11-01 12:00Z')",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            bucket.to_string(),
            (10 * (p - 6_300_000_000) + 10 * (p - 4_500_000_000)).to_string()
        );
    }

    #[pg_test]
    #[should_panic(expected = "the bucket spans two decay regions (linear and future)")]
    fn a_bucket_across_two_regions_is_refused() {
        Spi::run(
            "select bucket_decayed_units(2, 0, '2026-11-01 10:00Z', '2026-11-01 10:15Z', '2026-11-01 10:45Z',
                                         '2026-11-01 10:30Z')",
        )
        .unwrap();
    }

    #[pg_test]
    fn counting_rules_by_hand() {
        let slot = |at: &str| Spi::get_one::<i64>(&format!("select play_slot('{at}')")).unwrap().unwrap();
        // Unix time / 1800 s: 2026-11-28T10:00Z is 1795860000 s.
        assert_eq!(slot("2026-11-28 10:00Z"), 997_700);
        assert_eq!(slot("2026-11-28 10:29:59.999999Z"), 997_700);
        assert_eq!(slot("2026-11-28 10:30Z"), 997_701);
        assert_eq!(slot("2026-11-28 12:30+02"), 997_701);
        assert_eq!(slot("1969-12-31 23:59:59.999999Z"), -1);
        let units = |tier: i16, rank: i64| {
            Spi::get_one::<i64>(&format!("select play_units({tier}::smallint, {rank})"))
                .unwrap()
                .unwrap()
        };
        assert_eq!([1, 10, 11, 30, 31].map(|r| units(2, r)), [10, 10, 5, 5, 0]);
        assert_eq!(units(1, 11), 0);
        let counts = |rank: i64| Spi::get_one::<bool>(&format!("select play_counts({rank})")).unwrap().unwrap();
        assert!(counts(1) && counts(10) && !counts(11));
    }

    #[pg_test]
    fn counting_errors_carry_their_sqlstate() {
        for (sql, code, message) in [
            ("select play_units(2::smallint, 0)", "22023", "day_rank must be at least 1, got 0"),
            ("select play_units(6::smallint, 1)", "22023", "tier must be between 1 and 5, got 6"),
            ("select play_counts(-1)", "22023", "slot_rank must be at least 1, got -1"),
            (
                "select play_slot('infinity')",
                "22008",
                "occurred_at must be a finite timestamp, got infinity",
            ),
        ] {
            Spi::run(&format!(
                "do $$ begin perform ({sql}); perform set_config('test.error', 'no error', true);
                 exception when others then perform set_config('test.error', sqlstate || ' ' || sqlerrm, true); end $$"
            ))
            .unwrap();
            let got = Spi::get_one::<String>("select current_setting('test.error')").unwrap().unwrap();
            assert_eq!(got, format!("{code} {message}"));
        }
    }

    #[pg_test]
    fn functions_are_immutable_strict_and_parallel_safe() {
        let count = Spi::get_one::<i64>(
            "select count(*) from pg_proc p join pg_extension e on e.extname = 'pg_coliseum' and p.pronamespace = e.extnamespace
              where p.proname in ('tier_multiplier', 'recency_decay', 'event_weight', 'strength_score', 'normalized_entropy', 'concentration',
                                  'tier_units', 'decayed_units', 'bucket_decayed_units', 'play_slot', 'play_counts', 'play_units')
                and p.provolatile = 'i' and p.proisstrict and p.proparallel = 's'",
        )
        .unwrap();
        assert_eq!(count, Some(12));
    }

    fn metric(sql: &str) -> Option<f64> {
        Spi::get_one::<f64>(&format!("select {sql}")).expect("query runs")
    }

    #[pg_test]
    fn strength_scores() {
        assert_eq!(metric("strength_score(0)"), Some(0.0));
        assert_eq!(metric("strength_score(-12.5)"), Some(0.0));
        assert_eq!(metric("strength_score(1000)"), Some(coliseum::strength_score(1000.0)));
        assert!((metric("strength_score(1000)").unwrap() - 42.86334369805723).abs() < 1e-12);
        assert_eq!(metric("strength_score(1e12)"), Some(100.0));
        assert_eq!(metric("strength_score('Infinity')"), Some(100.0));
        assert_eq!(metric("strength_score('-Infinity')"), Some(0.0));
        assert_eq!(metric("strength_score('NaN')"), Some(100.0));
        assert_eq!(metric("strength_score(null)"), None);
    }

    #[pg_test]
    fn spreads_of_hand_computed_arrays() {
        assert_eq!(metric("normalized_entropy('{}')"), Some(0.0));
        assert_eq!(metric("normalized_entropy('{5}')"), Some(0.0));
        assert_eq!(metric("normalized_entropy('{2,2}')"), Some(1.0));
        assert!((metric("normalized_entropy('{1,3}')").unwrap() - 0.8112781244591328).abs() < 1e-15);
        assert_eq!(metric("concentration('{}')"), Some(0.0));
        assert_eq!(metric("concentration('{42}')"), Some(1.0));
        assert_eq!(metric("concentration('{1,3}')"), Some(0.625));
        assert_eq!(metric("concentration('{2,0,1,-4,1}')"), Some(0.375));
        assert_eq!(metric("concentration(null)"), None);
        assert_eq!(metric("normalized_entropy(null)"), None);
    }

    #[pg_test]
    fn null_elements_are_skipped_and_dimensions_flattened() {
        let plain = coliseum::normalized_entropy(&[1.0, 2.0, 3.0, 4.0]).unwrap();
        assert_eq!(metric("normalized_entropy('{1,null,2,3,null,4}')"), Some(plain));
        assert_eq!(metric("normalized_entropy('{{1,2},{3,4}}')"), Some(plain));
        assert_eq!(metric("normalized_entropy('{null,null}')"), Some(0.0));
        assert_eq!(metric("concentration('{null,7,null}')"), Some(1.0));
        assert_eq!(metric("concentration(array[null]::float8[])"), Some(0.0));
    }

    #[pg_test(error = "weights must be finite, got NaN")]
    fn nan_weights_are_refused() {
        Spi::run("select normalized_entropy('{1,NaN}')").unwrap();
    }

    #[pg_test(error = "weights must be finite, got -Infinity")]
    fn infinite_weights_are_refused() {
        Spi::run("select concentration('{1,null,-Infinity}')").unwrap();
    }

    #[pg_test]
    fn spread_errors_carry_their_sqlstate() {
        Spi::run(
            "do $test$ begin
               begin perform concentration('{1,Infinity}'); raise 'no error';
               exception when invalid_parameter_value then null; end;
               begin perform normalized_entropy('{1.7e308,1.7e308}'); raise 'no error';
               exception when numeric_value_out_of_range then null; end;
               begin perform concentration('{1,1e-200}'); raise 'no error';
               exception when numeric_value_out_of_range then null; end;
             end $test$",
        )
        .unwrap();
    }
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        vec![]
    }
}
