//! A tiny deterministic random number generator (SplitMix64) and stable seed derivation.
//!
//! The Demo Bank's data must be identical for the same seed on every platform and every Rust version, so it
//! cannot use `rand`'s `StdRng` (whose algorithm may change between releases). SplitMix64 is small, fast and
//! fully specified; [`derive_seed`] mixes a base seed with labels (bank id, login, account index) so that every
//! account gets its own independent stream.

use rust_decimal::Decimal;

/// SplitMix64: one `u64` of state, one multiply-xorshift output function.
#[derive(Debug, Clone)]
pub struct SeededRng {
    state: u64,
}

impl SeededRng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.state)
    }

    /// A value in `0..bound` (`bound` > 0; 0 gives 0). The modulo bias is irrelevant for demo data.
    pub fn below(&mut self, bound: u64) -> u64 {
        if bound == 0 { 0 } else { self.next_u64() % bound }
    }

    /// A value in `low..=high`.
    pub fn between(&mut self, low: i64, high: i64) -> i64 {
        if high <= low {
            return low;
        }
        let span = high.abs_diff(low).saturating_add(1);
        low.saturating_add_unsigned(self.below(span))
    }

    /// An amount in cents within `low_cents..=high_cents`, as a two-decimal [`Decimal`].
    pub fn cents(&mut self, low_cents: i64, high_cents: i64) -> Decimal {
        Decimal::new(self.between(low_cents, high_cents), 2)
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// One element of a non-empty slice (the first one for an empty slice is impossible: callers pass constants).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let len = u64::try_from(items.len()).unwrap_or(u64::MAX);
        let index = usize::try_from(self.below(len)).unwrap_or(0);
        items.get(index)
    }
}

/// The SplitMix64 output function, also used as a stateless hash of one `u64`.
pub fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Mixes a base seed with labels into a new seed. Labels are hashed with FNV-1a, so the result is stable.
pub fn derive_seed(base: u64, labels: &[&str]) -> u64 {
    let mut seed = mix(base ^ 0x005E_ED0F_DE40_BA4E);
    for label in labels {
        let mut hash: u64 = 0xCBF2_9CE4_8422_2325;
        for byte in label.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01B3);
        }
        seed = mix(seed ^ hash);
    }
    seed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream() {
        let mut a = SeededRng::new(derive_seed(7, &["280001", "demo"]));
        let mut b = SeededRng::new(derive_seed(7, &["280001", "demo"]));
        let mut c = SeededRng::new(derive_seed(7, &["280001", "other"]));
        let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        let second: Vec<u64> = (0..5).map(|_| b.next_u64()).collect();
        let third: Vec<u64> = (0..5).map(|_| c.next_u64()).collect();
        assert_eq!(first, second);
        assert_ne!(first, third);
    }

    #[test]
    fn between_stays_in_range() {
        let mut rng = SeededRng::new(1);
        for _ in 0..1000 {
            let value = rng.between(-5, 5);
            assert!((-5..=5).contains(&value));
        }
    }
}
