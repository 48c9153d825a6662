//! A small deterministic generator (splitmix64), usable in `const fn`: the compile-time proof's
//! test values, the run-time checks and [`train::Layer::init`](crate::train::Layer::init) draw
//! from it, so a seed means the same numbers everywhere.

/// Sebastiano Vigna's splitmix64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub const fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A nonzero integer in `[-r, r]`, each of the `2r` values about equally likely; `r` is
    /// taken as at least 1 and at most `i64::MAX`.
    pub const fn nonzero(&mut self, r: u64) -> i64 {
        let r = if r == 0 {
            1
        } else if r > i64::MAX as u64 {
            i64::MAX as u64
        } else {
            r
        };
        let v = self.next_u64() % (2 * r);
        if v < r {
            v as i64 - r as i64
        } else {
            (v - r + 1) as i64
        }
    }

    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `0..n` (`n >= 1`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_nonzero_and_in_range() {
        let (mut a, mut b) = (SplitMix64::new(9), SplitMix64::new(9));
        for _ in 0..1000 {
            let v = a.nonzero(3);
            assert_eq!(v, b.nonzero(3));
            assert!(v != 0 && (-3..=3).contains(&v));
            let u = a.unit();
            assert!((0.0..1.0).contains(&u));
            b.unit();
        }
    }
}
