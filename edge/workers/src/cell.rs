//! A column's value as the handlers read it, the same from both hosts.
//!
//! The Deno host (pg.ts `value`) asks for text and makes of it: booleans,
//! `int2`/`int4`/`oid`/`float4`/`float8` numbers, `json`/`jsonb` parsed, dates
//! and times JavaScript `Date`s (JSON: ISO 8601 in UTC, milliseconds, `Z`),
//! and everything else the text itself (`int8` and `numeric` too, so no digit
//! is lost). tokio-postgres asks for binary, so this decodes each type into
//! that same JSON value. A type this does not know is refused with its name,
//! never guessed at.

use chrono::{DateTime, Duration, NaiveDate};
use serde_json::{Number, Value};
use tokio_postgres::types::{FromSql, Type};

type Failure = Box<dyn std::error::Error + Sync + Send>;

/// One column of a row, as JSON.
pub struct Cell(pub Value);

impl<'a> FromSql<'a> for Cell {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, Failure> {
        decode(ty.oid(), raw)
            .map(Cell)
            .map_err(|e| format!("a column of type {}: {e}", ty.name()).into())
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Failure> {
        Ok(Cell(Value::Null))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// Microseconds from the Unix epoch to Postgres's, 2000-01-01.
const POSTGRES_EPOCH_MICROS: i64 = 946_684_800_000_000;

/// The JSON value of a column of type `oid` sent in binary as `raw`.
pub fn decode(oid: u32, raw: &[u8]) -> Result<Value, String> {
    Ok(match oid {
        16 => Value::Bool(fixed::<1>(raw)?[0] != 0),
        21 => i16::from_be_bytes(fixed(raw)?).into(),
        23 => i32::from_be_bytes(fixed(raw)?).into(),
        26 => u32::from_be_bytes(fixed(raw)?).into(),
        // As JavaScript reads the text: f32's shortest text, not its widened bits.
        700 => number(f32::from_be_bytes(fixed(raw)?).to_string().parse::<f64>().unwrap_or(f64::NAN)),
        701 => number(f64::from_be_bytes(fixed(raw)?)),
        114 => parse_json(raw)?,
        3802 => match raw.split_first() {
            Some((1, json)) => parse_json(json)?,
            _ => return Err("an unknown jsonb version".into()),
        },
        1082 => date(i32::from_be_bytes(fixed(raw)?)),
        1114 | 1184 => timestamp(i64::from_be_bytes(fixed(raw)?)),
        20 => Value::String(i64::from_be_bytes(fixed(raw)?).to_string()),
        1700 => Value::String(numeric(raw)?),
        2950 => Value::String(uuid(fixed(raw)?)),
        // text, varchar, bpchar, name, char, unknown, citext-less text kinds: the bytes are the text.
        25 | 1043 | 1042 | 19 | 18 | 705 => Value::String(utf8(raw)?),
        // A function returning void answers an empty text.
        2278 => Value::String(String::new()),
        _ => return Err("the Worker host does not read this type; return it as text or jsonb".into()),
    })
}

fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.try_into().map_err(|_| format!("{} bytes where {N} were expected", raw.len()))
}

fn utf8(raw: &[u8]) -> Result<String, String> {
    String::from_utf8(raw.to_vec()).map_err(|e| e.to_string())
}

fn parse_json(raw: &[u8]) -> Result<Value, String> {
    serde_json::from_slice(raw).map_err(|e| e.to_string())
}

/// NaN and the infinities are `null`, as `JSON.stringify` writes them.
fn number(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// `date`: midnight UTC of the day, as `new Date("2026-12-03")`.
fn date(days: i32) -> Value {
    NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|epoch| epoch.checked_add_signed(Duration::days(days.into())))
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .map_or(Value::Null, |midnight| iso(midnight.and_utc().timestamp_micros()))
}

/// `timestamptz` (and `timestamp`, which the stack's UTC clock reads alike):
/// `infinity` is an invalid `Date`, which JSON writes as `null`.
fn timestamp(micros: i64) -> Value {
    match micros.checked_add(POSTGRES_EPOCH_MICROS) {
        Some(unix) if micros != i64::MAX && micros != i64::MIN => iso(unix),
        _ => Value::Null,
    }
}

/// As `Date.prototype.toJSON`: UTC, milliseconds (the rest cut off), `Z`.
fn iso(unix_micros: i64) -> Value {
    let millis = unix_micros.div_euclid(1000);
    DateTime::from_timestamp_millis(millis).map_or(Value::Null, |t| Value::String(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()))
}

fn uuid(b: [u8; 16]) -> String {
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

/// `numeric` as Postgres writes it: base-10000 digits, `weight` the power of
/// the first, `dscale` the decimals shown.
fn numeric(raw: &[u8]) -> Result<String, String> {
    let word = |i: usize| -> Result<u16, String> {
        raw.get(2 * i..2 * i + 2)
            .map(|w| u16::from_be_bytes([w[0], w[1]]))
            .ok_or_else(|| "a numeric cut short".to_owned())
    };
    let (ndigits, weight, sign, dscale) = (word(0)? as usize, word(1)? as i16, word(2)?, word(3)? as usize);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    let digits: Vec<u16> = (0..ndigits).map(|i| word(4 + i)).collect::<Result<_, _>>()?;
    let digit = |power: i32| -> u16 {
        usize::try_from(i32::from(weight) - power)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0)
    };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        text.push_str(&digit(i32::from(weight)).to_string());
        for power in (0..i32::from(weight)).rev() {
            text.push_str(&format!("{:04}", digit(power)));
        }
    }
    if dscale > 0 {
        let mut fraction = String::new();
        let mut power = -1;
        while fraction.len() < dscale {
            fraction.push_str(&format!("{:04}", digit(power)));
            power -= 1;
        }
        fraction.truncate(dscale);
        text.push('.');
        text.push_str(&fraction);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn numeric_bytes(ndigits: u16, weight: i16, sign: u16, dscale: u16, digits: &[u16]) -> Vec<u8> {
        [ndigits, weight as u16, sign, dscale]
            .iter()
            .chain(digits)
            .flat_map(|w| w.to_be_bytes())
            .collect()
    }

    #[test]
    fn numerics_read_as_postgres_writes_them() {
        assert_eq!(numeric(&numeric_bytes(2, 1, 0, 2, &[12, 3456])).unwrap(), "123456.00");
        assert_eq!(numeric(&numeric_bytes(2, 0, 0x4000, 5, &[1, 2300])).unwrap(), "-1.23000");
        assert_eq!(numeric(&numeric_bytes(1, -1, 0, 3, &[5])).unwrap(), "0.000");
        assert_eq!(numeric(&numeric_bytes(1, -1, 0, 4, &[5])).unwrap(), "0.0005");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0, 0, &[])).unwrap(), "0");
        assert_eq!(numeric(&numeric_bytes(1, 2, 0, 0, &[7])).unwrap(), "700000000");
        assert_eq!(numeric(&numeric_bytes(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
    }

    #[test]
    fn times_read_as_javascript_dates_write_them() {
        // 2026-12-03 16:37:41.123456+00
        let micros = 1_796_315_861_123_456 - POSTGRES_EPOCH_MICROS;
        assert_eq!(decode(1184, &micros.to_be_bytes()).unwrap(), json!("2026-12-03T16:37:41.123Z"));
        assert_eq!(decode(1184, &i64::MAX.to_be_bytes()).unwrap(), Value::Null);
        assert_eq!(decode(1082, &0i32.to_be_bytes()).unwrap(), json!("2000-01-01T00:00:00.000Z"));
        assert_eq!(decode(1082, &(-1i32).to_be_bytes()).unwrap(), json!("1999-12-31T00:00:00.000Z"));
    }

    #[test]
    fn numbers_json_and_text_read_as_the_deno_host_reads_them() {
        assert_eq!(decode(16, &[1]).unwrap(), json!(true));
        assert_eq!(decode(23, &(-7i32).to_be_bytes()).unwrap(), json!(-7));
        assert_eq!(decode(700, &1.1f32.to_be_bytes()).unwrap(), json!(1.1));
        assert_eq!(decode(701, &f64::NAN.to_be_bytes()).unwrap(), Value::Null);
        assert_eq!(
            decode(20, &9_007_199_254_740_993i64.to_be_bytes()).unwrap(),
            json!("9007199254740993")
        );
        assert_eq!(decode(3802, b"\x01{\"a\": [1]}").unwrap(), json!({"a": [1]}));
        assert_eq!(decode(114, b"[true]").unwrap(), json!([true]));
        assert_eq!(decode(25, "é".as_bytes()).unwrap(), json!("é"));
        assert_eq!(decode(2278, b"").unwrap(), json!(""));
        let id = [
            0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3, 0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00,
        ];
        assert_eq!(decode(2950, &id).unwrap(), json!("123e4567-e89b-12d3-a456-426614174000"));
    }

    #[test]
    fn an_unknown_type_is_refused_not_guessed() {
        assert!(decode(600, &[0; 16]).unwrap_err().contains("does not read this type"));
        assert!(decode(23, &[0; 3]).unwrap_err().contains("3 bytes"));
    }
}
