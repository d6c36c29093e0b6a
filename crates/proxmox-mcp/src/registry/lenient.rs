//! Lenient deserializers for tool parameters: integers and booleans also arrive as strings
//! (`"vmid": "101"`, `"confirm": "true"`), because agents and form-based clients (n8n) send them so.
//!
//! Policy (documented in docs/tools.md): schemas keep the strict type (`integer`, `boolean`) so
//! agents are told the right thing, and deserialization also accepts the string spelling.
//! Use with `#[serde(deserialize_with = "lenient::int")]` or, for optional fields,
//! `#[serde(default, deserialize_with = "lenient::opt_int")]`.

use std::fmt;
use std::marker::PhantomData;

use serde::Deserializer;
use serde::de::{self, Visitor};

/// An integer given as a number or a numeric string.
pub(crate) fn int<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + TryFrom<i64>,
{
    d.deserialize_any(IntVisitor(PhantomData))
}

/// An optional integer: absent or `null` is `None`.
pub(crate) fn opt_int<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64> + TryFrom<i64>,
{
    d.deserialize_option(OptVisitor(IntVisitor(PhantomData)))
}

/// An optional boolean: absent or `null` is `None`.
pub(crate) fn opt_bool<'de, D>(d: D) -> Result<Option<bool>, D::Error>
where
    D: Deserializer<'de>,
{
    d.deserialize_option(OptVisitor(BoolVisitor))
}

struct IntVisitor<T>(PhantomData<T>);

impl<T: TryFrom<u64> + TryFrom<i64>> IntVisitor<T> {
    fn from_u64<E: de::Error>(v: u64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
    }
    fn from_i64<E: de::Error>(v: i64) -> Result<T, E> {
        T::try_from(v).map_err(|_| E::custom(format!("{v} is out of range")))
    }
}

impl<'de, T: TryFrom<u64> + TryFrom<i64>> Visitor<'de> for IntVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer (a number or a string of digits)")
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Self::from_u64(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Self::from_i64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        if v.fract() == 0.0 && v.abs() < 9.0e15 {
            // Exact: |v| < 2^53 and integral.
            #[allow(clippy::cast_possible_truncation)]
            Self::from_i64(v as i64)
        } else {
            Err(E::invalid_value(de::Unexpected::Float(v), &self))
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        let t = v.trim();
        if let Ok(n) = t.parse::<u64>() {
            Self::from_u64(n)
        } else if let Ok(n) = t.parse::<i64>() {
            Self::from_i64(n)
        } else {
            Err(E::invalid_value(de::Unexpected::Str(v), &self))
        }
    }
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean (true or false)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
        }
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
        match v {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
        match v.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" | "on" => Ok(true),
            "false" | "no" | "0" | "off" => Ok(false),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// Wraps a visitor so `null` (and an absent value) gives `None`.
struct OptVisitor<V>(V);

impl<'de, V: Visitor<'de> + Clone> Visitor<'de> for OptVisitor<V> {
    type Value = Option<V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        self.0.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self.0).map(Some)
    }
}

impl<T> Clone for IntVisitor<T> {
    fn clone(&self) -> Self {
        IntVisitor(PhantomData)
    }
}

impl Clone for BoolVisitor {
    fn clone(&self) -> Self {
        BoolVisitor
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct P {
        #[serde(deserialize_with = "super::int")]
        a: u32,
        #[serde(default, deserialize_with = "super::opt_int")]
        b: Option<u64>,
        #[serde(default, deserialize_with = "super::opt_bool")]
        c: Option<bool>,
    }

    fn parse(v: serde_json::Value) -> Result<P, String> {
        serde_json::from_value(v).map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_and_numeric_strings_are_accepted() {
        let want = P {
            a: 101,
            b: Some(7),
            c: Some(true),
        };
        assert_eq!(parse(json!({"a": 101, "b": 7, "c": true})).unwrap(), want);
        assert_eq!(
            parse(json!({"a": "101", "b": " 7 ", "c": "true"})).unwrap(),
            want
        );
        assert_eq!(parse(json!({"a": 101.0, "b": 7, "c": 1})).unwrap(), want);
        let none = parse(json!({"a": 1, "b": null, "c": null})).unwrap();
        assert_eq!((none.b, none.c), (None, None));
        let absent = parse(json!({"a": 1})).unwrap();
        assert_eq!((absent.b, absent.c), (None, None));
    }

    #[test]
    fn garbage_is_refused_with_what_was_expected() {
        let e = parse(json!({"a": "abc"})).unwrap_err();
        assert!(e.contains("an integer"), "{e}");
        let e = parse(json!({"a": -1})).unwrap_err();
        assert!(e.contains("out of range"), "{e}");
        let e = parse(json!({"a": 1.5})).unwrap_err();
        assert!(e.contains("an integer"), "{e}");
        let e = parse(json!({"a": 1, "c": "maybe"})).unwrap_err();
        assert!(e.contains("a boolean"), "{e}");
    }
}
