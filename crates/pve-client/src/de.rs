//! Tolerant serde helpers for PVE's JSON habits: numbers sent as strings (`"2048"`), booleans sent
//! as `0`/`1` (or `"1"`, or `true`), floats where ints are expected (`1.5e3`), fields omitted.
//!
//! Use them with `#[serde(default, deserialize_with = "de::int")]` and friends. Every helper
//! accepts int, float, string and bool; the `opt_*` ones also accept `null` and `""` as `None`.
//! A value the wanted type cannot hold is an error, never a stand-in: an integer out of range,
//! and a string reading as an infinite or not-a-number float (`"inf"`, `"nan"`, `"1e400"`).

use std::fmt;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// A scalar as PVE may send it, before conversion to the wanted type.
#[derive(Debug, Clone, PartialEq)]
enum Scalar {
    Int(i128),
    Float(f64),
    Str(String),
    Bool(bool),
    Null,
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, a numeric string, a boolean or null")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(i128::from(v)))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(i128::from(v)))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Scalar, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Scalar, E> {
        Ok(Scalar::Str(v))
    }
    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }
}

fn scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Scalar, D::Error> {
    d.deserialize_any(ScalarVisitor)
}

/// The integer a scalar stands for; `None` for null or an empty string.
fn to_int(s: Scalar) -> Result<Option<i128>, String> {
    match s {
        Scalar::Int(i) => Ok(Some(i)),
        Scalar::Float(f) => float_to_int(f).map(Some),
        Scalar::Bool(b) => Ok(Some(i128::from(b))),
        Scalar::Null => Ok(None),
        Scalar::Str(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            if let Ok(i) = t.parse::<i128>() {
                return Ok(Some(i));
            }
            match t.parse::<f64>() {
                Ok(f) => float_to_int(f).map(Some),
                Err(_) => Err(format!("expected an integer, got string {s:?}")),
            }
        }
    }
}

fn float_to_int(f: f64) -> Result<i128, String> {
    if f.is_finite() && f.abs() < 1e30 {
        // Rounded, not truncated: `1.5e3` is 1500 and `2047.9999` is 2048.
        #[allow(clippy::cast_possible_truncation)]
        Ok(f.round() as i128)
    } else {
        Err(format!("expected an integer, got {f}"))
    }
}

fn to_float(s: Scalar) -> Result<Option<f64>, String> {
    match s {
        #[allow(clippy::cast_precision_loss)]
        Scalar::Int(i) => Ok(Some(i as f64)),
        Scalar::Float(f) => Ok(Some(f)),
        Scalar::Bool(b) => Ok(Some(if b { 1.0 } else { 0.0 })),
        Scalar::Null => Ok(None),
        Scalar::Str(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            // `inf`, `nan` and `1e400` parse as floats but are no figure JSON could carry back.
            match t.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Some(f)),
                _ => Err(format!("expected a number, got string {s:?}")),
            }
        }
    }
}

fn to_bool(s: Scalar) -> Result<Option<bool>, String> {
    match s {
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::Int(i) => Ok(Some(i != 0)),
        Scalar::Float(f) => Ok(Some(f != 0.0)),
        Scalar::Null => Ok(None),
        Scalar::Str(s) => match s.trim().to_ascii_lowercase().as_str() {
            "" => Ok(None),
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            other => match other.parse::<f64>() {
                Ok(f) if f.is_finite() => Ok(Some(f != 0.0)),
                _ => Err(format!("expected a boolean, got string {s:?}")),
            },
        },
    }
}

fn convert<T: TryFrom<i128>, E: de::Error>(v: Option<i128>) -> Result<Option<T>, E> {
    match v {
        None => Ok(None),
        Some(i) => T::try_from(i)
            .map(Some)
            .map_err(|_| E::custom(format!("integer {i} out of range"))),
    }
}

/// Any integer type from int, float (rounded), numeric string or bool; null and `""` give 0.
pub fn int<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128> + Default,
{
    let v = to_int(scalar(d)?).map_err(de::Error::custom)?;
    Ok(convert::<T, D::Error>(v)?.unwrap_or_default())
}

/// Like [`int`], but null and `""` give `None`. Pair with `#[serde(default)]` for absent fields.
pub fn opt_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128>,
{
    let v = to_int(scalar(d)?).map_err(de::Error::custom)?;
    convert::<T, D::Error>(v)
}

/// A float from int, float, numeric string or bool; null and `""` give 0.0.
pub fn float<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(to_float(scalar(d)?)
        .map_err(de::Error::custom)?
        .unwrap_or(0.0))
}

/// Like [`float`], but null and `""` give `None`.
pub fn opt_float<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    to_float(scalar(d)?).map_err(de::Error::custom)
}

/// A boolean from `0`/`1`, `true`/`false`, `"1"`, `"yes"`, ...; null and `""` give `false`.
pub fn bool01<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(to_bool(scalar(d)?)
        .map_err(de::Error::custom)?
        .unwrap_or(false))
}

/// Like [`bool01`], but null and `""` give `None`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    to_bool(scalar(d)?).map_err(de::Error::custom)
}

/// A string from a string or a scalar (`"vmid": 100` and `"id": "100"` both become `"100"`);
/// null gives `""`.
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(opt_string(d)?.unwrap_or_default())
}

/// Like [`string`], but null gives `None` (an empty string stays `Some("")`).
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match scalar(d)? {
        Scalar::Str(s) => Some(s),
        Scalar::Int(i) => Some(i.to_string()),
        Scalar::Float(f) => Some(f.to_string()),
        Scalar::Bool(b) => Some(if b { "1" } else { "0" }.to_owned()),
        Scalar::Null => None,
    })
}

/// A list of floats where each item may be a number or a numeric string (node `loadavg`).
pub fn float_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
    let raw: Option<Vec<serde_json::Value>> = serde::Deserialize::deserialize(d)?;
    raw.unwrap_or_default()
        .into_iter()
        .map(|v| {
            let s = match v {
                serde_json::Value::Number(n) => Scalar::Float(n.as_f64().unwrap_or(0.0)),
                serde_json::Value::String(s) => Scalar::Str(s),
                serde_json::Value::Bool(b) => Scalar::Bool(b),
                _ => Scalar::Null,
            };
            to_float(s)
                .map(|f| f.unwrap_or(0.0))
                .map_err(de::Error::custom)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use serde::Deserialize;

    #[derive(Debug, Deserialize, Default)]
    #[serde(default)]
    struct T {
        #[serde(deserialize_with = "super::int")]
        i: u64,
        #[serde(deserialize_with = "super::opt_int")]
        oi: Option<i32>,
        #[serde(deserialize_with = "super::float")]
        f: f64,
        #[serde(deserialize_with = "super::opt_float")]
        of: Option<f64>,
        #[serde(deserialize_with = "super::bool01")]
        b: bool,
        #[serde(deserialize_with = "super::opt_bool")]
        ob: Option<bool>,
        #[serde(deserialize_with = "super::string")]
        s: String,
        #[serde(deserialize_with = "super::float_list")]
        l: Vec<f64>,
    }

    fn parse(json: &str) -> Result<T, String> {
        serde_json::from_str::<T>(json).map_err(|e| e.to_string())
    }

    #[test]
    fn ints_accept_every_pve_shape() {
        let check = |json: &str, want: u64| assert_eq!(parse(json).unwrap().i, want, "{json}");
        check(r#"{"i": 2048}"#, 2048);
        check(r#"{"i": "2048"}"#, 2048);
        check(r#"{"i": " 7 "}"#, 7);
        check(r#"{"i": 1.5e3}"#, 1500);
        check(r#"{"i": "1.5e3"}"#, 1500);
        check(r#"{"i": true}"#, 1);
        check(r#"{"i": null}"#, 0);
        check(r#"{"i": ""}"#, 0);
        check(r#"{}"#, 0);
        assert!(parse(r#"{"i": "abc"}"#).unwrap_err().contains("integer"));
        assert!(parse(r#"{"i": -1}"#).unwrap_err().contains("out of range"));
    }

    #[test]
    fn optional_ints_floats_bools() {
        let t = parse(r#"{"oi": "12", "of": "0.25", "ob": "1"}"#).unwrap();
        assert_eq!((t.oi, t.of, t.ob), (Some(12), Some(0.25), Some(true)));
        let t = parse(r#"{"oi": null, "of": "", "ob": null}"#).unwrap();
        assert_eq!((t.oi, t.of, t.ob), (None, None, None));
        let t = parse(r#"{}"#).unwrap();
        assert_eq!((t.oi, t.of, t.ob), (None, None, None));
    }

    #[test]
    fn floats_and_bools() {
        let check_f = |json: &str, want: f64| assert_eq!(parse(json).unwrap().f, want, "{json}");
        check_f(r#"{"f": 0.02}"#, 0.02);
        check_f(r#"{"f": "0.00"}"#, 0.0);
        check_f(r#"{"f": 3}"#, 3.0);
        check_f(r#"{"f": false}"#, 0.0);
        let check_b = |json: &str, want: bool| assert_eq!(parse(json).unwrap().b, want, "{json}");
        check_b(r#"{"b": 1}"#, true);
        check_b(r#"{"b": 0}"#, false);
        check_b(r#"{"b": "1"}"#, true);
        check_b(r#"{"b": "0"}"#, false);
        check_b(r#"{"b": true}"#, true);
        check_b(r#"{"b": "false"}"#, false);
        check_b(r#"{"b": null}"#, false);
        assert!(parse(r#"{"b": "maybe"}"#).unwrap_err().contains("boolean"));
    }

    #[test]
    fn non_finite_strings_are_refused() {
        // Found by fuzz/client_de: `"1e400"` decoded as an infinite float, which JSON encodes
        // as null, so a decoded answer did not survive being encoded again.
        for text in ["inf", "-inf", "NaN", "1e400", "infinity"] {
            let json = format!(r#"{{"f": "{text}"}}"#);
            assert!(parse(&json).unwrap_err().contains("number"), "{text}");
            let json = format!(r#"{{"of": "{text}"}}"#);
            assert!(parse(&json).unwrap_err().contains("number"), "{text}");
            let json = format!(r#"{{"b": "{text}"}}"#);
            assert!(parse(&json).unwrap_err().contains("boolean"), "{text}");
            let json = format!(r#"{{"l": ["1", "{text}"]}}"#);
            assert!(parse(&json).is_err(), "{text}");
        }
        assert_eq!(parse(r#"{"f": "1e300"}"#).unwrap().f, 1e300);
    }

    #[test]
    fn strings_and_lists() {
        assert_eq!(parse(r#"{"s": 100}"#).unwrap().s, "100");
        assert_eq!(parse(r#"{"s": "102"}"#).unwrap().s, "102");
        assert_eq!(
            parse(r#"{"l": ["0.10", 0.05, "1"]}"#).unwrap().l,
            vec![0.10, 0.05, 1.0]
        );
    }
}
