//! Companon's DNA matching as SQL functions, over `buckets_core::companon`.
//! Their SQL twins are in `sql/twins/companon_matching.sql` (see
//! docs/companon.md, "Matching").

use buckets_core::companon::{self, MatchError};
use pgrx::prelude::*;
use pgrx::JsonB;

/// The dimensions of the vectors, in order (1 = A's score): domain,
/// component (`score` for the domain's score), and how the value is brought
/// into 0..1 (`score`: / 100; `share`: as is; `log`: ln(1 + x) / ln(1 + cap)).
#[pg_extern(immutable, strict, parallel_safe)]
fn dna_dimensions() -> TableIterator<
    'static,
    (
        name!(dimension, i32),
        name!(domain, &'static str),
        name!(component, &'static str),
        name!(scale, &'static str),
        name!(cap, Option<f64>),
    ),
> {
    TableIterator::new(companon::DIMENSIONS.iter().enumerate().map(|(i, d)| {
        let (scale, cap) = d.scale.sql();
        (i as i32 + 1, d.domain, d.component, scale, cap)
    }))
}

/// An artist's DNA vector: the 26 dimensions of `buckets_core::companon::DIMENSIONS`,
/// each in 0..1, from the four domain scores (A, T, G, C) and their
/// components (`{"A": {...}, "T": {...}, ...}`).
#[pg_extern(immutable, strict, parallel_safe)]
fn dna_vector(scores: Array<'_, f64>, components: JsonB) -> Vec<f64> {
    let scores: Vec<Option<f64>> = scores.iter().collect();
    companon::dna_vector(&scores, &components.0).unwrap_or_else(|e| refuse(e))
}

/// A campaign target's vector from its canonical `domains` and `components`.
#[pg_extern(immutable, strict, parallel_safe)]
fn target_vector(domains: JsonB, components: JsonB) -> Vec<f64> {
    companon::target_vector(&domains.0, &components.0).unwrap_or_else(|e| refuse(e))
}

/// The cosine similarity of a target and a DNA vector, in 0..1.
#[pg_extern(immutable, strict, parallel_safe)]
fn dna_similarity(target: Array<'_, f64>, dna: Array<'_, f64>) -> f64 {
    let target: Vec<Option<f64>> = target.iter().collect();
    let dna: Vec<Option<f64>> = dna.iter().collect();
    companon::similarity(&target, &dna).unwrap_or_else(|e| refuse(e))
}

/// The `n` dimensions that contribute most to the similarity, largest first:
/// `[{"domain", "component", "weight", "value", "contribution"}]`.
#[pg_extern(immutable, strict, parallel_safe)]
fn dna_drivers(target: Array<'_, f64>, dna: Array<'_, f64>, n: i32) -> JsonB {
    let target: Vec<Option<f64>> = target.iter().collect();
    let dna: Vec<Option<f64>> = dna.iter().collect();
    let drivers = companon::drivers(&target, &dna, n).unwrap_or_else(|e| refuse(e));
    JsonB(drivers.iter().map(companon::Driver::to_json).collect())
}

/// Every matching error is a bad argument: SQLSTATE 22023.
fn refuse(e: MatchError) -> ! {
    super::raise(PgSqlErrorCode::ERRCODE_INVALID_PARAMETER_VALUE, e.to_string())
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    fn float(sql: &str) -> f64 {
        Spi::get_one::<f64>(&format!("select {sql}"))
            .expect("query runs")
            .expect("not null")
    }

    const TARGET: &str = r#"target_vector('{"A": 1, "C": 0.5}', '{"C": {"touring_viability": 1}}')"#;

    #[pg_test]
    fn vectors_by_hand() {
        let t = Spi::get_one::<Vec<f64>>(&format!("select {TARGET}")).unwrap().unwrap();
        assert_eq!(t.len(), 26);
        assert_eq!((t[0], t[18], t[23]), (1.0, 0.5, 0.5));
        assert_eq!(t.iter().filter(|x| **x > 0.0).count(), 3);
        let v = Spi::get_one::<Vec<f64>>(
            r#"select dna_vector('{50, 0, 0, 25}', '{"A": {"crossover": 0.5, "main_genre": "afrobeats"}, "C": {"countries": 250}}')"#,
        )
        .unwrap()
        .unwrap();
        assert_eq!((v[0], v[4], v[18], v[21]), (0.5, 0.5, 0.25, 1.0));
    }

    #[pg_test]
    fn similarity_and_drivers_by_hand() {
        // t = (A 1, C 0.5, C.touring 0.5), v = (A 0.5, C.touring 1): t·v = 1, |t| = sqrt(1.5), |v| = sqrt(1.25).
        let dna = "array[0.5::float8] || array_fill(0::float8, array[22]) || array[1::float8, 0, 0]";
        let s = float(&format!("dna_similarity({TARGET}, {dna})"));
        assert!((s - 1.0 / (1.5f64.sqrt() * 1.25f64.sqrt())).abs() < 1e-15);
        assert_eq!(float(&format!("dna_similarity({dna}, {TARGET})")), s);
        let drivers = Spi::get_one::<pgrx::JsonB>(&format!("select dna_drivers({TARGET}, {dna}, 5)"))
            .unwrap()
            .unwrap()
            .0;
        let names: Vec<String> = drivers
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{}.{}", d["domain"].as_str().unwrap(), d["component"].as_str().unwrap()))
            .collect();
        assert_eq!(names, ["A.score", "C.touring_viability"]);
        assert_eq!(
            float("dna_similarity(array_fill(0::float8, array[26]), array_fill(1::float8, array[26]))"),
            0.0
        );
    }

    #[pg_test]
    fn matching_errors_carry_their_sqlstate() {
        for (sql, message) in [
            ("select dna_similarity('{1}', '{1}')", "target must hold 26 values, got 1"),
            (
                "select dna_similarity(array_fill(1::float8, array[26]), array_fill(2::float8, array[26]))",
                "dna[1] must be a number from 0 to 1",
            ),
            (
                "select dna_vector('{1,2,3}', '{}')",
                "scores must hold 4 values (A, T, G, C), got 3",
            ),
            ("select target_vector('{\"Q\": 1}', '{}')", "domains.Q is not a domain (A, T, G, C)"),
            (
                "select dna_drivers(array_fill(1::float8, array[26]), array_fill(1::float8, array[26]), -2)",
                "n must be at least 0, got -2",
            ),
        ] {
            Spi::run(&format!(
                "do $$ begin perform ({sql}); perform set_config('test.error', 'no error', true);
                 exception when others then perform set_config('test.error', sqlstate || ' ' || sqlerrm, true); end $$"
            ))
            .unwrap();
            let got = Spi::get_one::<String>("select current_setting('test.error')").unwrap().unwrap();
            assert_eq!(got, format!("22023 {message}"));
        }
    }

    #[pg_test]
    fn dimensions_are_listed_in_order() {
        let (n, last) = Spi::get_two::<i64, String>(
            "select count(*), (array_agg(domain || '.' || component || ':' || scale || ':' || coalesce(cap::text, '') order by dimension desc))[1]
               from dna_dimensions()",
        )
        .unwrap();
        assert_eq!((n, last.as_deref()), (Some(26), Some("C.fan_density:share:")));
        let log = Spi::get_one::<f64>("select cap from dna_dimensions() where domain = 'C' and component = 'countries'").unwrap();
        assert_eq!(log, Some(250.0));
    }

    #[pg_test]
    fn matching_functions_are_immutable_strict_and_parallel_safe() {
        let count = Spi::get_one::<i64>(
            "select count(*) from pg_proc p join pg_extension e on e.extname = 'pg_coliseum' and p.pronamespace = e.extnamespace
              where p.proname in ('dna_vector', 'target_vector', 'dna_similarity', 'dna_drivers')
                and p.provolatile = 'i' and p.proisstrict and p.proparallel = 's'",
        )
        .unwrap();
        assert_eq!(count, Some(4));
    }
}
