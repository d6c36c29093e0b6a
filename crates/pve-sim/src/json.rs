//! A small JSON writer for large answers (`/cluster/resources` over thousands of guests):
//! handlers that would build tens of thousands of `serde_json::Map`s write the text directly
//! and hand it over with [`crate::Sim::respond_raw`]. Keys and values are escaped here.

use std::fmt::Write as _;

use serde_json::Value;

/// Appends `s` as a JSON string (quoted and escaped).
pub fn push_str(out: &mut String, s: &str) {
    out.push('"');
    let mut start = 0;
    for (i, c) in s.char_indices() {
        let esc = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if (c as u32) < 0x20 => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(esc);
        }
        start = i + c.len_utf8();
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Writes one JSON object member by member; `end` closes it.
#[derive(Debug)]
pub struct ObjWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> ObjWriter<'a> {
    pub fn begin(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, first: true }
    }

    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        push_str(self.out, k);
        self.out.push(':');
    }

    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_str(self.out, v);
        self
    }

    pub fn u64(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        let _ = write!(self.out, "{v}");
        self
    }

    pub fn i64(&mut self, k: &str, v: i64) -> &mut Self {
        self.key(k);
        let _ = write!(self.out, "{v}");
        self
    }

    /// A number; non-finite values are written as `null`.
    pub fn f64(&mut self, k: &str, v: f64) -> &mut Self {
        self.key(k);
        if v.is_finite() {
            let _ = write!(self.out, "{v}");
        } else {
            self.out.push_str("null");
        }
        self
    }

    /// Any `serde_json::Value`.
    pub fn value(&mut self, k: &str, v: &Value) -> &mut Self {
        self.key(k);
        push_value(self.out, v);
        self
    }

    pub fn end(self) {
        self.out.push('}');
    }
}

/// Appends any `serde_json::Value`.
pub fn push_value(out: &mut String, v: &Value) {
    match v {
        Value::String(s) => push_str(out, s),
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn writes_valid_json() {
        let mut s = String::from("[");
        let mut o = ObjWriter::begin(&mut s);
        o.str("id", "qemu/100")
            .str("odd", "a\"b\\c\nd\u{1}é")
            .u64("n", 42)
            .i64("neg", -1)
            .f64("cpu", 0.125)
            .f64("nan", f64::NAN)
            .value("tags", &serde_json::json!(["x"]));
        o.end();
        s.push(']');
        let v: Value = serde_json::from_str(&s).unwrap();
        assert_eq!(v[0]["odd"], "a\"b\\c\nd\u{1}é");
        assert_eq!(v[0]["n"], 42);
        assert_eq!(v[0]["cpu"], 0.125);
        assert!(v[0]["nan"].is_null());
        assert_eq!(v[0]["tags"][0], "x");
    }
}
