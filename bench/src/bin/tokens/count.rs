//! Counting what a text costs a model: its UTF-8 bytes and its tokens in the two OpenAI BPE
//! encodings, `o200k_base` (GPT-4o and later) and `cl100k_base` (GPT-4, GPT-3.5), with
//! tiktoken-rs, whose BPE tables are compiled into the crate (no network at build or run time).

use std::ops::AddAssign;

use tiktoken_rs::CoreBPE;

use crate::Res;

/// The two encodings, loaded once.
pub struct Counter {
    o200k: CoreBPE,
    cl100k: CoreBPE,
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Counter { o200k_base, cl100k_base }")
    }
}

/// What one text costs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cost {
    pub bytes: usize,
    pub o200k: usize,
    pub cl100k: usize,
}

impl Counter {
    pub fn new() -> Res<Self> {
        Ok(Self {
            o200k: tiktoken_rs::o200k_base().map_err(|e| format!("o200k_base: {e}"))?,
            cl100k: tiktoken_rs::cl100k_base().map_err(|e| format!("cl100k_base: {e}"))?,
        })
    }

    /// Bytes and tokens of `text`, read as ordinary text (special-token names are not special).
    pub fn cost(&self, text: &str) -> Cost {
        Cost {
            bytes: text.len(),
            o200k: self.o200k.encode_ordinary(text).len(),
            cl100k: self.cl100k.encode_ordinary(text).len(),
        }
    }
}

/// One counter for every test of this binary (loading the tables takes seconds in debug builds).
#[cfg(test)]
pub fn for_tests() -> &'static Counter {
    static COUNTER: std::sync::OnceLock<Counter> = std::sync::OnceLock::new();
    #[allow(clippy::expect_used)]
    COUNTER.get_or_init(|| Counter::new().expect("the bundled BPE tables load"))
}

impl AddAssign for Cost {
    fn add_assign(&mut self, other: Self) {
        self.bytes += other.bytes;
        self.o200k += other.o200k;
        self.cl100k += other.cl100k;
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn counts_known_texts() {
        let c = for_tests();
        // Reference counts from OpenAI's tiktoken for both encodings.
        let hello = c.cost("hello world");
        assert_eq!((hello.bytes, hello.o200k, hello.cl100k), (11, 2, 2));
        let json = c.cost(r#"{"name":"get_vms"}"#);
        assert_eq!(json.bytes, 18);
        assert!(json.o200k > 2 && json.o200k < 18, "{json:?}");
        assert_eq!(c.cost("").o200k, 0);
        // Special-token names count as ordinary text.
        assert!(c.cost("<|endoftext|>").o200k > 1);
    }
}
