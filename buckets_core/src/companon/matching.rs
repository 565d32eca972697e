//! DNA matching: how close an artist's DNA is to what a campaign targets.
//!
//! Both sides become vectors over the same 26 dimensions: per domain (A, T,
//! G, C) its 0–100 score and its numeric components ([`DIMENSIONS`]).
//!
//! ```text
//! artist  v_i = normalise(scale_i, value_i)                  each in 0..1 (30d row of coliseum_domain_strength)
//! target  t_i = w_d                  for the score of domain d
//!         t_i = w_d * w_dc           for component c of domain d (0 when not weighted)
//! similarity(t, v) = min(1, Σ t_i v_i / (sqrt(Σ t_i²) sqrt(Σ v_i²)))    0 when either vector is 0
//! contribution_i   = t_i v_i / (sqrt(Σ t_i²) sqrt(Σ v_i²))              Σ contribution_i = similarity
//! ```
//!
//! Everything is non-negative, so the cosine lies in 0..1, and it compares
//! directions: scaling a target (or a DNA vector) by any positive factor
//! changes nothing. Every value below [`FLUSH`] counts as 0: such a value
//! carries no signal, and flushing keeps every product of two values far
//! above float8's smallest number, where Postgres would raise an underflow.
//!
//! The SQL twins (`sql/twins/companon_matching.sql`) evaluate the same float8
//! operations in the same order, so both implementations give the same bits.

use serde_json::{json, Map, Value};
use std::fmt;

/// The domains, in the order of the vector.
pub const DOMAINS: [&str; 4] = ["A", "T", "G", "C"];
/// Values below this count as 0 (see the module's documentation).
pub const FLUSH: f64 = 1e-9;
/// The number of dimensions of a DNA or target vector.
pub const DNA_LEN: usize = 26;

/// How a raw value is brought into 0..1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// A 0–100 score: `x / 100`.
    Score,
    /// A share or ratio that is already in 0..1.
    Share,
    /// A count, weight or amount without an upper bound: `ln(1 + x) / ln(1 +
    /// cap)`, the log scale of the strength score (whose cap is 1e7 weight
    /// units), saturating at `cap`.
    Log(f64),
}

/// One dimension of the vectors: a domain's score (`component` = "score") or
/// one of its components, as `coliseum_domain_strength.components` names it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dimension {
    pub domain: &'static str,
    pub component: &'static str,
    pub scale: Scale,
}

impl Scale {
    /// How SQL names it (`coliseum.dna_dimensions()`): `score`, `share` or
    /// `log`, and the cap of a log scale.
    pub fn sql(self) -> (&'static str, Option<f64>) {
        match self {
            Scale::Score => ("score", None),
            Scale::Share => ("share", None),
            Scale::Log(cap) => ("log", Some(cap)),
        }
    }
}

const fn dim(domain: &'static str, component: &'static str, scale: Scale) -> Dimension {
    Dimension { domain, component, scale }
}

/// The dimensions in vector order (index 0 is `u1` in SQL): per domain its
/// score, then its components in the order of `companon.dna_components`.
/// Caps: weights (engagement, influence, touring) 1e7 weight units like the
/// score; people and events 1e7; repeat 1,000 plays a fan; revenue 1e10 US
/// cents; revenue per fan and per engagement unit 1e5 cents, per transaction
/// 1e6 cents; cities 10,000; countries 250 (every ISO code).
pub const DIMENSIONS: [Dimension; DNA_LEN] = [
    dim("A", "score", Scale::Score),
    dim("A", "engagement", Scale::Log(1e7)),
    dim("A", "influence", Scale::Log(1e7)),
    dim("A", "genre_diversity", Scale::Share),
    dim("A", "crossover", Scale::Share),
    dim("T", "score", Scale::Score),
    dim("T", "engagement", Scale::Log(1e7)),
    dim("T", "fans", Scale::Log(1e7)),
    dim("T", "loyalty", Scale::Share),
    dim("T", "repeat", Scale::Log(1e3)),
    dim("T", "conversion", Scale::Share),
    dim("G", "score", Scale::Score),
    dim("G", "engagement", Scale::Log(1e7)),
    dim("G", "revenue_usd_cents", Scale::Log(1e10)),
    dim("G", "transactions", Scale::Log(1e7)),
    dim("G", "revenue_per_fan", Scale::Log(1e5)),
    dim("G", "avg_transaction_value", Scale::Log(1e6)),
    dim("G", "monetization_efficiency", Scale::Log(1e5)),
    dim("C", "score", Scale::Score),
    dim("C", "engagement", Scale::Log(1e7)),
    dim("C", "cities", Scale::Log(1e4)),
    dim("C", "countries", Scale::Log(250.0)),
    dim("C", "city_distribution", Scale::Share),
    dim("C", "touring_viability", Scale::Log(1e7)),
    dim("C", "attendance", Scale::Log(1e7)),
    dim("C", "fan_density", Scale::Share),
];

/// A bad argument: SQLSTATE 22023 with this message, word for word in the
/// extension and the twins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchError(pub String);

impl MatchError {
    pub fn sqlstate(&self) -> &'static str {
        "22023"
    }
}

impl fmt::Display for MatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MatchError {}

fn bad<T>(message: String) -> Result<T, MatchError> {
    Err(MatchError(message))
}

/// Values below [`FLUSH`] (and negative ones) become 0.
fn flush(x: f64) -> f64 {
    if x < FLUSH {
        0.0
    } else {
        x
    }
}

/// A finite raw value in 0..1 on its scale, [`FLUSH`]ed: negative values
/// and those below `FLUSH` are 0 before any arithmetic, values past the top
/// of the scale are 1.
pub fn normalise(scale: Scale, x: f64) -> f64 {
    if x.is_nan() || x < FLUSH {
        return 0.0;
    }
    let r = match scale {
        Scale::Score => x / 100.0,
        Scale::Share => x,
        Scale::Log(cap) => (1.0 + x).ln() / (1.0 + cap).ln(),
    };
    flush(r.min(1.0))
}

/// An artist's DNA vector from the four domain scores (A, T, G, C, each
/// 0–100) and `{"A": components, "T": …}` (the `components` of the domain
/// rows; a missing domain or component counts 0, non-numeric components such
/// as `main_genre` are not read).
pub fn dna_vector(scores: &[Option<f64>], components: &Value) -> Result<Vec<f64>, MatchError> {
    if scores.len() != DOMAINS.len() {
        return bad(format!("scores must hold 4 values (A, T, G, C), got {}", scores.len()));
    }
    let mut score = [0.0; 4];
    for (i, s) in scores.iter().enumerate() {
        match s {
            Some(x) if x.is_finite() => score[i] = *x,
            _ => return bad(format!("scores[{}] must be a finite number", i + 1)),
        }
    }
    let Some(domains) = components.as_object() else {
        return bad("components must be a JSON object of domains, such as {\"A\": {\"engagement\": 12.5}}".into());
    };
    let mut v = Vec::with_capacity(DNA_LEN);
    for d in DIMENSIONS {
        let di = domain_index(d.domain);
        if d.component == "score" {
            v.push(normalise(d.scale, score[di]));
            continue;
        }
        let of_domain = match domains.get(d.domain) {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => return bad(format!("components.{} must be a JSON object", d.domain)),
        };
        let x = match of_domain.and_then(|m| m.get(d.component)) {
            None | Some(Value::Null) => 0.0,
            Some(Value::Number(n)) => n.as_f64().unwrap_or(0.0),
            Some(_) => return bad(format!("components.{}.{} must be a number", d.domain, d.component)),
        };
        v.push(normalise(d.scale, x));
    }
    Ok(v)
}

fn domain_index(domain: &str) -> usize {
    DOMAINS
        .iter()
        .position(|d| *d == domain)
        .expect("a dimension's domain is one of DOMAINS")
}

/// A campaign target's vector from its canonical `domains` (`{"A": 1, "C":
/// 0.5}`, weights 0..1, missing = 0) and `components` (`{"C":
/// {"touring_viability": 1}}`, weights 0..1) (docs/companon.md, "The
/// target"). Checks, in this order: both objects; no unknown domain; each
/// domain weight (A, T, G, C); no unknown domain in components; each
/// domain's components an object without unknown names; each component
/// weight in vector order. Unknown names are reported smallest first.
pub fn target_vector(domains: &Value, components: &Value) -> Result<Vec<f64>, MatchError> {
    let Some(domains) = domains.as_object() else {
        return bad("domains must be a JSON object of domain weights, such as {\"A\": 1, \"C\": 0.5}".into());
    };
    if let Some(k) = unknown_key(domains, |k| DOMAINS.contains(&k)) {
        return bad(format!("domains.{k} is not a domain (A, T, G, C)"));
    }
    let mut w = [0.0; 4];
    for (i, d) in DOMAINS.iter().enumerate() {
        w[i] = weight(domains.get(*d), &format!("domains.{d}"))?;
    }
    let Some(components) = components.as_object() else {
        return bad("components must be a JSON object of domains, such as {\"C\": {\"touring_viability\": 1}}".into());
    };
    if let Some(k) = unknown_key(components, |k| DOMAINS.contains(&k)) {
        return bad(format!("components.{k} is not a domain (A, T, G, C)"));
    }
    for d in DOMAINS {
        match components.get(d) {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                let known = |k: &str| DIMENSIONS.iter().any(|x| x.domain == d && x.component == k && k != "score");
                if let Some(k) = unknown_key(m, known) {
                    return bad(format!("components.{d}.{k} is not a DNA component of domain {d}"));
                }
            }
            Some(_) => return bad(format!("components.{d} must be a JSON object of component weights")),
        }
    }
    let mut t = Vec::with_capacity(DNA_LEN);
    for d in DIMENSIONS {
        let wd = w[domain_index(d.domain)];
        if d.component == "score" {
            t.push(wd);
            continue;
        }
        let given = components.get(d.domain).and_then(|m| m.get(d.component));
        let wc = weight(given, &format!("components.{}.{}", d.domain, d.component))?;
        t.push(flush(wd * wc));
    }
    Ok(t)
}

/// The smallest key (byte order) that `known` refuses.
fn unknown_key(m: &Map<String, Value>, known: impl Fn(&str) -> bool) -> Option<&str> {
    m.keys().map(String::as_str).filter(|k| !known(k)).min()
}

/// A weight 0..1 ([`FLUSH`]ed); absent or null is 0.
fn weight(v: Option<&Value>, path: &str) -> Result<f64, MatchError> {
    match v {
        None | Some(Value::Null) => Ok(0.0),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(x) if (0.0..=1.0).contains(&x) => Ok(flush(x)),
            _ => bad(format!("{path} must be a number from 0 to 1")),
        },
        Some(_) => bad(format!("{path} must be a number from 0 to 1")),
    }
}

/// Checks a vector argument (26 finite values in 0..1) and [`FLUSH`]es it.
fn vector(name: &str, x: &[Option<f64>]) -> Result<Vec<f64>, MatchError> {
    if x.len() != DNA_LEN {
        return bad(format!("{name} must hold {DNA_LEN} values, got {}", x.len()));
    }
    x.iter()
        .enumerate()
        .map(|(i, e)| match e {
            Some(v) if (0.0..=1.0).contains(v) => Ok(flush(*v)),
            _ => bad(format!("{name}[{}] must be a number from 0 to 1", i + 1)),
        })
        .collect()
}

/// `(Σ t_i v_i, sqrt(Σ t_i²) * sqrt(Σ v_i²))`, each sum in index order.
fn dot_and_norms(t: &[f64], v: &[f64]) -> (f64, f64) {
    let (mut dot, mut tt, mut vv) = (0.0, 0.0, 0.0);
    for i in 0..DNA_LEN {
        dot += t[i] * v[i];
        tt += t[i] * t[i];
        vv += v[i] * v[i];
    }
    (dot, tt.sqrt() * vv.sqrt())
}

/// The cosine similarity of a target and a DNA vector, in 0..1; 0 when
/// either is the zero vector. Symmetric in its arguments.
pub fn similarity(target: &[Option<f64>], dna: &[Option<f64>]) -> Result<f64, MatchError> {
    let t = vector("target", target)?;
    let v = vector("dna", dna)?;
    let (dot, norms) = dot_and_norms(&t, &v);
    if norms == 0.0 {
        return Ok(0.0);
    }
    Ok((dot / norms).min(1.0))
}

/// What one dimension brings to a similarity.
#[derive(Debug, Clone, PartialEq)]
pub struct Driver {
    pub dimension: Dimension,
    /// The target's weight `t_i`.
    pub weight: f64,
    /// The artist's normalised value `v_i`.
    pub value: f64,
    /// `t_i v_i / (|t| |v|)`: the dimensions' contributions add up to the similarity.
    pub contribution: f64,
}

impl Driver {
    pub fn to_json(&self) -> Value {
        json!({
            "domain": self.dimension.domain,
            "component": self.dimension.component,
            "weight": self.weight,
            "value": self.value,
            "contribution": self.contribution,
        })
    }
}

/// The `n` dimensions that contribute most to the similarity, largest first
/// (ties: vector order); only those that contribute.
pub fn drivers(target: &[Option<f64>], dna: &[Option<f64>], n: i32) -> Result<Vec<Driver>, MatchError> {
    if n < 0 {
        return bad(format!("n must be at least 0, got {n}"));
    }
    let t = vector("target", target)?;
    let v = vector("dna", dna)?;
    let (_, norms) = dot_and_norms(&t, &v);
    if norms == 0.0 {
        return Ok(Vec::new());
    }
    let mut all: Vec<Driver> = (0..DNA_LEN)
        .filter(|&i| t[i] * v[i] > 0.0)
        .map(|i| Driver {
            dimension: DIMENSIONS[i],
            weight: t[i],
            value: v[i],
            contribution: t[i] * v[i] / norms,
        })
        .collect();
    // Stable: equal contributions keep vector order.
    all.sort_by(|a, b| b.contribution.total_cmp(&a.contribution));
    all.truncate(n as usize);
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn some(x: &[f64]) -> Vec<Option<f64>> {
        x.iter().copied().map(Some).collect()
    }

    fn unit(i: usize) -> Vec<f64> {
        let mut v = vec![0.0; DNA_LEN];
        v[i] = 1.0;
        v
    }

    fn sim(t: &[f64], v: &[f64]) -> f64 {
        similarity(&some(t), &some(v)).unwrap()
    }

    #[test]
    fn the_dimensions_are_the_components_of_companon() {
        // companon.dna_components (20261202150700_companon.sql), in its order, after each domain's score.
        let names: Vec<String> = DIMENSIONS.iter().map(|d| format!("{}.{}", d.domain, d.component)).collect();
        assert_eq!(names[0], "A.score");
        assert_eq!(names[5], "T.score");
        assert_eq!(names[11], "G.score");
        assert_eq!(names[18], "C.score");
        assert_eq!(DIMENSIONS.iter().filter(|d| d.component != "score").count(), 22);
        let migration = include_str!("../../../supabase/migrations/20261202150700_companon.sql");
        for d in DIMENSIONS.iter().filter(|d| d.component != "score") {
            assert!(
                migration.contains(&format!("('{}', '{}', ", d.domain, d.component)),
                "{}.{} is a component of companon.dna_components",
                d.domain,
                d.component
            );
        }
    }

    #[test]
    fn normalising_by_hand() {
        assert_eq!(normalise(Scale::Score, 50.0), 0.5);
        assert_eq!(normalise(Scale::Score, 250.0), 1.0);
        assert_eq!(normalise(Scale::Share, 0.25), 0.25);
        assert_eq!(normalise(Scale::Share, -3.0), 0.0);
        assert_eq!(normalise(Scale::Log(1e7), 1e7), 1.0);
        assert_eq!(normalise(Scale::Log(1e7), 1e9), 1.0);
        assert!((normalise(Scale::Log(1e3), 9.0) - 10f64.ln() / 1001f64.ln()).abs() < 1e-15);
        assert_eq!(normalise(Scale::Log(250.0), 0.0), 0.0);
        // Below FLUSH: nothing.
        assert_eq!(normalise(Scale::Share, 1e-10), 0.0);
        assert_eq!(normalise(Scale::Score, 5e-8), 0.0);
        assert_eq!(normalise(Scale::Log(1e7), f64::INFINITY), 1.0);
    }

    #[test]
    fn dna_vector_by_hand() {
        let components = json!({
            "A": {"engagement": 10000000, "influence": 0, "genre_diversity": 0.5, "crossover": 0.25, "main_genre": "afrobeats"},
            "C": {"countries": 250, "fan_density": 1, "cities": 0},
        });
        let v = dna_vector(&some(&[40.0, 0.0, 100.0, 10.0]), &components).unwrap();
        assert_eq!(v.len(), DNA_LEN);
        assert_eq!(v[0], 0.4);
        assert_eq!(v[1], 1.0);
        assert_eq!(v[2], 0.0);
        assert_eq!(v[3], 0.5);
        assert_eq!(v[4], 0.25);
        assert_eq!(v[5..11], [0.0; 6]); // T: no components
        assert_eq!(v[11], 1.0);
        assert_eq!(v[18], 0.1);
        assert_eq!(v[21], 1.0);
        assert_eq!(v[25], 1.0);
    }

    #[test]
    fn dna_vector_errors() {
        let e = |scores: &[Option<f64>], c: Value| dna_vector(scores, &c).unwrap_err().0;
        assert_eq!(
            e(&some(&[1.0, 2.0, 3.0]), json!({})),
            "scores must hold 4 values (A, T, G, C), got 3"
        );
        assert_eq!(
            e(&[Some(1.0), None, Some(1.0), Some(1.0)], json!({})),
            "scores[2] must be a finite number"
        );
        assert_eq!(e(&some(&[1.0, 1.0, f64::NAN, 1.0]), json!({})), "scores[3] must be a finite number");
        assert!(e(&some(&[0.0; 4]), json!([])).starts_with("components must be a JSON object"));
        assert_eq!(e(&some(&[0.0; 4]), json!({"T": 3})), "components.T must be a JSON object");
        assert_eq!(
            e(&some(&[0.0; 4]), json!({"G": {"transactions": "7"}})),
            "components.G.transactions must be a number"
        );
    }

    #[test]
    fn target_vector_by_hand() {
        let t = target_vector(&json!({"A": 1, "C": 0.5}), &json!({"C": {"touring_viability": 1, "cities": 0.5}})).unwrap();
        let mut want = vec![0.0; DNA_LEN];
        want[0] = 1.0;
        want[18] = 0.5;
        want[20] = 0.25;
        want[23] = 0.5;
        assert_eq!(t, want);
        // Weights below FLUSH weigh nothing, even multiplied.
        let t = target_vector(&json!({"T": 1e-300}), &json!({"T": {"loyalty": 1e-300}})).unwrap();
        assert_eq!(t, vec![0.0; DNA_LEN]);
    }

    #[test]
    fn target_vector_errors_in_their_order() {
        let e = |d: Value, c: Value| target_vector(&d, &c).unwrap_err().0;
        assert!(e(json!([1]), json!({})).starts_with("domains must be a JSON object"));
        assert_eq!(
            e(json!({"Z": 1, "B": 1, "A": 2}), json!({})),
            "domains.B is not a domain (A, T, G, C)"
        );
        assert_eq!(e(json!({"C": 2, "A": -1}), json!({})), "domains.A must be a number from 0 to 1");
        assert_eq!(e(json!({"T": "1"}), json!({})), "domains.T must be a number from 0 to 1");
        assert!(e(json!({"A": 1}), json!(null)).starts_with("components must be a JSON object"));
        assert_eq!(e(json!({"A": 1}), json!({"X": {}})), "components.X is not a domain (A, T, G, C)");
        assert_eq!(
            e(json!({"A": 1}), json!({"T": []})),
            "components.T must be a JSON object of component weights"
        );
        assert_eq!(
            e(json!({"A": 1}), json!({"A": {"zeal": 1, "score": 1}})),
            "components.A.score is not a DNA component of domain A"
        );
        assert_eq!(
            e(json!({"A": 1}), json!({"A": {"crossover": 2, "influence": 3}})),
            "components.A.influence must be a number from 0 to 1"
        );
    }

    #[test]
    fn similarity_by_hand() {
        assert_eq!(sim(&unit(0), &unit(0)), 1.0);
        assert_eq!(sim(&unit(0), &unit(1)), 0.0);
        let mut t = vec![0.0; DNA_LEN];
        t[0] = 1.0;
        t[5] = 1.0;
        // cos 45°
        assert!((sim(&t, &unit(5)) - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-15);
        assert_eq!(sim(&vec![0.0; DNA_LEN], &unit(3)), 0.0);
        assert_eq!(sim(&unit(3), &vec![0.0; DNA_LEN]), 0.0);
    }

    #[test]
    fn vector_arguments_are_checked() {
        let e = |t: &[Option<f64>], v: &[Option<f64>]| similarity(t, v).unwrap_err().0;
        let ok = some(&unit(0));
        assert_eq!(e(&some(&[1.0]), &ok), "target must hold 26 values, got 1");
        assert_eq!(e(&ok, &some(&[])), "dna must hold 26 values, got 0");
        let mut bad = ok.clone();
        bad[4] = Some(1.5);
        assert_eq!(e(&bad, &ok), "target[5] must be a number from 0 to 1");
        bad[4] = None;
        assert_eq!(e(&ok, &bad), "dna[5] must be a number from 0 to 1");
        bad[4] = Some(f64::NAN);
        assert_eq!(e(&ok, &bad), "dna[5] must be a number from 0 to 1");
        assert_eq!(drivers(&ok, &ok, -1).unwrap_err().0, "n must be at least 0, got -1");
    }

    #[test]
    fn drivers_by_hand() {
        let mut t = vec![0.0; DNA_LEN];
        let mut v = vec![0.0; DNA_LEN];
        t[0] = 1.0; // A.score
        t[23] = 0.5; // C.touring_viability
        t[2] = 0.5; // A.influence, which the artist lacks
        v[0] = 0.5;
        v[23] = 0.8;
        v[10] = 1.0; // T.conversion, which the target does not weigh
        let d = drivers(&some(&t), &some(&v), 5).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].dimension.domain, d[0].dimension.component), ("A", "score"));
        assert_eq!((d[1].dimension.domain, d[1].dimension.component), ("C", "touring_viability"));
        let total: f64 = d.iter().map(|x| x.contribution).sum();
        assert!((total - sim(&t, &v)).abs() < 1e-15);
        assert_eq!(d[1].weight, 0.5);
        assert_eq!(d[1].value, 0.8);
        assert_eq!(drivers(&some(&t), &some(&v), 1).unwrap().len(), 1);
        assert!(drivers(&some(&t), &some(&vec![0.0; DNA_LEN]), 3).unwrap().is_empty());
        assert_eq!(
            d[0].to_json(),
            json!({"domain": "A", "component": "score", "weight": 1.0, "value": 0.5, "contribution": d[0].contribution})
        );
    }

    fn vectors() -> impl Strategy<Value = Vec<f64>> {
        // Mostly zeros, as real targets are; values anywhere in 0..1, tiny ones included.
        prop::collection::vec(
            prop_oneof![3 => Just(0.0), 1 => Just(1.0), 1 => 1e-12f64..1e-6, 4 => 0.0f64..=1.0],
            DNA_LEN,
        )
    }

    proptest! {
        #[test]
        fn similarity_is_in_0_1_and_symmetric(t in vectors(), v in vectors()) {
            let s = sim(&t, &v);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, sim(&v, &t));
        }

        #[test]
        fn scaling_the_target_changes_nothing(t in vectors(), v in vectors(), k in 0.01f64..=1.0) {
            let scaled: Vec<f64> = t.iter().map(|x| flush(x * k)).collect();
            // Scaling can push a value under FLUSH; only compare when it does not.
            let same_support = t.iter().zip(&scaled).all(|(a, b)| (flush(*a) > 0.0) == (*b > 0.0));
            prop_assume!(same_support);
            prop_assert!((sim(&t, &v) - sim(&scaled, &v)).abs() < 1e-12);
        }

        #[test]
        fn a_vector_is_its_own_best_match(v in vectors()) {
            let flushed: Vec<f64> = v.iter().copied().map(flush).collect();
            let s = sim(&v, &v);
            if flushed.iter().all(|x| *x == 0.0) {
                prop_assert_eq!(s, 0.0);
            } else {
                prop_assert!((s - 1.0).abs() < 1e-12);
            }
        }

        #[test]
        fn contributions_add_up_to_the_similarity(t in vectors(), v in vectors()) {
            let d = drivers(&some(&t), &some(&v), DNA_LEN as i32).unwrap();
            let total: f64 = d.iter().map(|x| x.contribution).sum();
            prop_assert!((total - sim(&t, &v)).abs() < 1e-12);
            prop_assert!(d.windows(2).all(|w| w[0].contribution >= w[1].contribution));
        }

        #[test]
        fn normalised_values_are_in_0_1(x in -1e12f64..1e12, i in 0..DNA_LEN) {
            let n = normalise(DIMENSIONS[i].scale, x);
            prop_assert!(n == 0.0 || (FLUSH..=1.0).contains(&n));
        }

        #[test]
        fn target_scale_invariance_through_the_weights(wa in 0.01f64..=1.0, wc in 0.01f64..=1.0, k in 0.1f64..=1.0, v in vectors()) {
            let t1 = target_vector(&json!({"A": wa, "C": wc}), &json!({"C": {"cities": 1}})).unwrap();
            let t2 = target_vector(&json!({"A": wa * k, "C": wc * k}), &json!({"C": {"cities": 1}})).unwrap();
            prop_assert!((sim(&t1, &v) - sim(&t2, &v)).abs() < 1e-12);
        }
    }
}
