//! pve-client's tolerant serde helpers (`de.rs`) on every scalar shape: numbers, numeric strings
//! with signs, fractions, exponents and padding, booleans, null, empty strings, lists. Literal
//! inputs are one JSON value; generated ones are a list of shaped scalars. Properties: no panic;
//! each `opt_*` helper agrees with its non-optional twin and with the others (an integer is the
//! same in every integer type it fits); what a helper decoded decodes to the same value again
//! from each shape PVE may send it in (number, string, `0`/`1`).

#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use proxmox_mcp_fuzz::{Input, input};
use pve_client::de;
use serde::Deserialize;
use serde_json::{Value, json};

/// A scalar in one of the shapes PVE sends.
#[derive(Debug, Arbitrary)]
enum Shape {
    Int(i64),
    Big(u64),
    Float(f64),
    Text(String),
    /// `[ws][sign]digits[.digits][e[sign]digits][ws]` as a string.
    Numeric {
        pad: u8,
        sign: u8,
        int: u64,
        frac: Option<u32>,
        exp: Option<i16>,
    },
    Bool(bool),
    BoolWord(u8),
    Null,
    List(Vec<Shape>),
}

impl Shape {
    fn to_json(&self, depth: u8) -> Value {
        match self {
            Shape::Int(i) => json!(i),
            Shape::Big(u) => json!(u),
            Shape::Float(f) => json!(f),
            Shape::Text(s) => json!(s),
            Shape::Numeric {
                pad,
                sign,
                int,
                frac,
                exp,
            } => {
                let ws = [" ", "\t", "", "\n"][usize::from(*pad % 4)];
                let sign = ["", "-", "+"][usize::from(*sign % 3)];
                let mut s = format!("{ws}{sign}{int}");
                if let Some(f) = frac {
                    s.push_str(&format!(".{f}"));
                }
                if let Some(e) = exp {
                    s.push_str(&format!("e{e}"));
                }
                s.push_str(ws);
                json!(s)
            }
            Shape::Bool(b) => json!(b),
            Shape::BoolWord(w) => {
                json!(
                    ["yes", "no", "on", "off", "TRUE", "False", "1", "0", "maybe"]
                        [usize::from(*w % 9)]
                )
            }
            Shape::Null => Value::Null,
            Shape::List(items) if depth < 2 => {
                Value::Array(items.iter().map(|s| s.to_json(depth + 1)).collect())
            }
            Shape::List(_) => json!([]),
        }
    }
}

macro_rules! holder {
    ($name:ident, $ty:ty, $with:literal) => {
        #[derive(Debug, Deserialize)]
        struct $name {
            #[serde(deserialize_with = $with)]
            v: $ty,
        }
    };
}

holder!(OptI128, Option<i128>, "de::opt_int");
holder!(OptI64, Option<i64>, "de::opt_int");
holder!(OptU64, Option<u64>, "de::opt_int");
holder!(OptU32, Option<u32>, "de::opt_int");
holder!(OptU8, Option<u8>, "de::opt_int");
holder!(IntU64, u64, "de::int");
holder!(IntI32, i32, "de::int");
holder!(OptF, Option<f64>, "de::opt_float");
holder!(F, f64, "de::float");
holder!(OptB, Option<bool>, "de::opt_bool");
holder!(B, bool, "de::bool01");
holder!(OptS, Option<String>, "de::opt_string");
holder!(S, String, "de::string");
holder!(FList, Vec<f64>, "de::float_list");

fn decode<T: for<'de> Deserialize<'de>>(v: &Value) -> Option<T> {
    serde_json::from_value(json!({ "v": v })).ok()
}

fuzz_target!(|data: &[u8]| {
    match input(data) {
        Input::Literal(text) => {
            if let Ok(v) = serde_json::from_slice::<Value>(text) {
                check(&v);
            }
        }
        Input::Generated(mut u) => {
            let shapes: Vec<Shape> = Vec::arbitrary(&mut u).unwrap_or_default();
            for s in &shapes {
                check(&s.to_json(0));
            }
        }
    }
});

fn check(v: &Value) {
    // Integers: one reading, narrowed to each type it fits.
    let wide = decode::<OptI128>(v).map(|h| h.v);
    if let Some(n) = wide {
        let i64v = decode::<OptI64>(v).map(|h| h.v);
        assert_eq!(
            i64v.is_some(),
            n.is_none_or(|n| i64::try_from(n).is_ok()),
            "{v}"
        );
        assert_eq!(
            i64v.flatten().map(i128::from),
            n.filter(|n| i64::try_from(*n).is_ok())
        );
        let u64v = decode::<OptU64>(v).map(|h| h.v);
        assert_eq!(
            u64v.is_some(),
            n.is_none_or(|n| u64::try_from(n).is_ok()),
            "{v}"
        );
        let u32v = decode::<OptU32>(v).map(|h| h.v);
        assert_eq!(
            u32v.flatten().map(i128::from),
            n.filter(|n| u32::try_from(*n).is_ok())
        );
        let u8v = decode::<OptU8>(v).map(|h| h.v);
        assert_eq!(
            u8v.flatten().map(i128::from),
            n.filter(|n| u8::try_from(*n).is_ok())
        );
        let i32v = decode::<IntI32>(v).map(|h| i128::from(h.v));
        assert_eq!(
            i32v,
            n.map_or(Some(0), |n| i32::try_from(n).ok().map(i128::from)),
            "{v}"
        );
        // `int` is `opt_int` with 0 for null and "".
        if let Some(u) = u64v {
            assert_eq!(
                decode::<IntU64>(v).map(|h| h.v),
                Some(u.unwrap_or(0)),
                "{v}"
            );
        }
        if let Some(Some(n)) = wide {
            // The same integer from each shape it may come in.
            let again = |x: Value| decode::<OptI128>(&x).map(|h| h.v);
            assert_eq!(again(json!(n.to_string())), Some(Some(n)), "{v}");
            if let Ok(i) = i64::try_from(n) {
                assert_eq!(again(json!(i)), Some(Some(n)), "{v}");
            }
        }
    } else {
        assert_eq!(
            decode::<IntI32>(v).map(|h| h.v),
            None,
            "int accepted what opt_int refused: {v}"
        );
    }
    // Exact integers are kept as they are.
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => {
            let want = n.as_i64().map(i128::from).or(n.as_u64().map(i128::from));
            assert_eq!(wide, Some(want), "{v}");
        }
        Value::String(s) => {
            if let Ok(n) = s.trim().parse::<i128>() {
                assert_eq!(wide, Some(Some(n)), "{v}");
            }
        }
        Value::Bool(b) => assert_eq!(wide, Some(Some(i128::from(*b))), "{v}"),
        _ => {}
    }

    // Floats: finite when decoded, and the same again from a number or a string.
    let f = decode::<OptF>(v).map(|h| h.v);
    if let Some(opt) = f {
        assert_eq!(decode::<F>(v).map(|h| h.v), Some(opt.unwrap_or(0.0)), "{v}");
        if let Some(x) = opt {
            assert!(x.is_finite(), "a decoded float is finite: {v} gave {x}");
            let again = |y: Value| decode::<OptF>(&y).map(|h| h.v);
            assert_eq!(again(json!(x)), Some(Some(x)), "{v}");
            assert_eq!(again(json!(x.to_string())), Some(Some(x)), "{v}");
        }
    } else {
        assert!(
            decode::<F>(v).is_none(),
            "float accepted what opt_float refused: {v}"
        );
    }

    // Booleans.
    let b = decode::<OptB>(v).map(|h| h.v);
    assert_eq!(
        decode::<B>(v).map(|h| h.v),
        b.map(|o| o.unwrap_or(false)),
        "{v}"
    );
    if let Some(Some(x)) = b {
        for shape in [
            json!(x),
            json!(u8::from(x)),
            json!(if x { "1" } else { "0" }),
        ] {
            assert_eq!(decode::<OptB>(&shape).map(|h| h.v), Some(Some(x)), "{v}");
        }
    }

    // Strings: a string stays itself; a scalar becomes its text.
    let s = decode::<OptS>(v).map(|h| h.v);
    assert_eq!(
        decode::<S>(v).map(|h| h.v),
        s.clone().map(Option::unwrap_or_default),
        "{v}"
    );
    if let Value::String(text) = v {
        assert_eq!(s, Some(Some(text.clone())));
    }
    if let Some(Some(text)) = s {
        assert_eq!(decode::<OptS>(&json!(text)).map(|h| h.v), Some(Some(text)));
    }

    // Lists of floats keep their length, every item finite.
    if let Some(list) = decode::<FList>(v).map(|h| h.v) {
        match v {
            Value::Array(items) => assert_eq!(list.len(), items.len(), "{v}"),
            _ => assert!(list.is_empty(), "{v}"),
        }
        assert!(list.iter().all(|x| x.is_finite()), "{v} gave {list:?}");
    }
}
