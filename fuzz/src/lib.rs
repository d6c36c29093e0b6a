//! What the fuzz targets share: how an input is read (a readable seed as it is, or a generated
//! structure), a JSON-aware mutator for targets whose input is a PVE answer or body, and
//! generators of parameter values from pve-sim's declarations.
//!
//! An input whose first byte is below 0x80 is *literal*: the seeds in `corpus/` are real PVE
//! shapes written as text. An input starting with a byte of 0x80 or more is *generated*: the
//! rest feeds [`arbitrary::Unstructured`], which builds a structured input the target checks the
//! same way. libFuzzer explores both.

pub mod json_mutator;
pub mod pve_values;

use arbitrary::Unstructured;

/// How the target should read this input.
#[derive(Debug)]
pub enum Input<'a> {
    /// A readable seed (or a mutation of one): the bytes as they are.
    Literal(&'a [u8]),
    /// Bytes to build a structured input from.
    Generated(Unstructured<'a>),
}

/// Splits literal inputs from generated ones (see the module docs).
pub fn input(data: &[u8]) -> Input<'_> {
    match data.split_first() {
        Some((first, rest)) if *first >= 0x80 => Input::Generated(Unstructured::new(rest)),
        _ => Input::Literal(data),
    }
}

/// A small deterministic random source for mutators (libFuzzer hands them a seed).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from libFuzzer's seed.
    pub fn new(seed: u32) -> Self {
        Self(u64::from(seed).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits (xorshift64*).
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % n as u64).unwrap_or(0)
    }

    /// One of `items`, if any.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        items.get(self.below(items.len()))
    }
}
