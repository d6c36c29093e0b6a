//! A small JSON writer for large answers (`/cluster/resources` over thousands of guests):
//! handlers that would build tens of thousands of `serde_json::Map`s write the text directly
//! and hand it over with [`crate::Sim::respond_raw`]. Keys and values are escaped here.

use serde_json::Value;

/// Appends `s` as a JSON string (quoted and escaped). Only ASCII bytes ever need escaping,
/// so the text is copied in runs between them.
pub(crate) fn push_str(out: &mut String, s: &str) {
    out.reserve(s.len() + 2);
    out.push('"');
    let mut start = 0;
    for (i, &b) in s.as_bytes().iter().enumerate() {
        if b >= 0x20 && b != b'"' && b != b'\\' {
            continue;
        }
        // `i` is at an ASCII byte, hence at a char boundary.
        out.push_str(&s[start..i]);
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            _ => {
                out.push_str("\\u00");
                out.push(char::from(HEX[usize::from(b >> 4)]));
                out.push(char::from(HEX[usize::from(b & 0xf)]));
            }
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends an unsigned integer in decimal (without `core::fmt`).
pub(crate) fn push_u64(out: &mut String, v: u64) {
    out.push_str(itoa::Buffer::new().format(v));
}

/// Appends a number with at most four decimals (as `round4` leaves it) the way `Display` writes
/// it (`0`, `0.5`, `0.1234`, `12.03`), without `core::fmt`'s float formatting; non-finite values
/// are written as `null`.
pub(crate) fn push_fixed4(out: &mut String, v: f64) {
    if !v.is_finite() {
        out.push_str("null");
        return;
    }
    let n = (v.abs() * 10_000.0).round() as u64;
    if n == 0 {
        out.push('0');
        return;
    }
    if v < 0.0 {
        out.push('-');
    }
    push_u64(out, n / 10_000);
    let mut frac = n % 10_000;
    if frac == 0 {
        return;
    }
    out.push('.');
    let mut digits = 4;
    while frac.is_multiple_of(10) {
        frac /= 10;
        digits -= 1;
    }
    let mut buf = itoa::Buffer::new();
    let text = buf.format(frac);
    for _ in text.len()..digits {
        out.push('0');
    }
    out.push_str(text);
}

/// Writes one JSON object member by member; `end` closes it.
#[derive(Debug)]
pub(crate) struct ObjWriter<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> ObjWriter<'a> {
    pub(crate) fn begin(out: &'a mut String) -> Self {
        out.push('{');
        Self { out, first: true }
    }

    /// Goes on writing members of an object another writer began (each with a leading comma).
    pub(crate) fn continued(out: &'a mut String) -> Self {
        Self { out, first: false }
    }

    /// Stops writing without closing the object (another writer goes on with
    /// [`ObjWriter::continued`]).
    pub(crate) fn leave_open(self) {}

    /// Keys are the simulator's own ASCII names: written without escaping (debug builds check).
    fn key(&mut self, k: &str) {
        debug_assert!(k.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\'));
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(k);
        self.out.push_str("\":");
    }

    pub(crate) fn str(&mut self, k: &str, v: &str) -> &mut Self {
        self.key(k);
        push_str(self.out, v);
        self
    }

    pub(crate) fn u64(&mut self, k: &str, v: u64) -> &mut Self {
        self.key(k);
        push_u64(self.out, v);
        self
    }

    pub(crate) fn end(self) {
        self.out.push('}');
    }
}

/// Appends any `serde_json::Value`.
pub(crate) fn push_value(out: &mut String, v: &Value) {
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
            .u64("n", 42);
        o.end();
        s.push(']');
        let v: Value = serde_json::from_str(&s).unwrap();
        for n in [0u64, 7, 10, 99, 12_345, u64::MAX] {
            let mut t = String::new();
            push_u64(&mut t, n);
            assert_eq!(t, n.to_string());
        }
        assert_eq!(v[0]["odd"], "a\"b\\c\nd\u{1}é");
        assert_eq!(v[0]["n"], 42);
        for x in [
            0.0, 0.5, 0.1234, 0.0001, 0.05, 1.0, 12.03, 0.987, -0.25, 3.1,
        ] {
            let mut t = String::new();
            push_fixed4(&mut t, x);
            assert_eq!(t, x.to_string(), "{x}");
        }
    }
}
