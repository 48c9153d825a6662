//! A small deterministic generator (splitmix64), usable in `const fn`: the compile-time proof's
//! test values, the run-time checks and [`train::Layer::init`](crate::train::Layer::init) draw
//! from it, and the examples shuffle their epochs with it ([`SplitMix64::shuffle`]), so a seed
//! means the same numbers everywhere.

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
        self.nonzero_except(r, 0)
    }

    /// A nonzero integer in `[-r, r]` other than `except`, each of the candidates about equally
    /// likely; `r` is taken as at least 1 and at most `i64::MAX`. An `except` of 0 or outside
    /// `[-r, r]` excludes nothing, and then the draw is exactly [`Self::nonzero`]'s. With `r = 1`
    /// and `except = ±1` the one candidate left is `-except`.
    pub const fn nonzero_except(&mut self, r: u64, except: i64) -> i64 {
        let r = if r == 0 {
            1
        } else if r > i64::MAX as u64 {
            i64::MAX as u64
        } else {
            r
        };
        let skip = except != 0 && except.unsigned_abs() <= r;
        let n = if skip { 2 * r - 1 } else { 2 * r };
        let v = self.next_u64() % n;
        // The v-th nonzero value of [-r, r] in increasing order...
        let w = if v < r {
            v as i64 - r as i64
        } else {
            (v - r + 1) as i64
        };
        // ...or, when `except` is left out, the v-th of the others.
        if skip && w >= except {
            if w == -1 {
                1
            } else {
                w + 1
            }
        } else {
            w
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

    /// `items` in a random order (Fisher-Yates, from the last item down: item `i` swapped with
    /// the one at [`Self::below`]`(i + 1)`), so a seed gives the same order everywhere.
    ///
    /// ```
    /// use conv_runtime::rng::SplitMix64;
    ///
    /// let mut order: Vec<usize> = (0..10).collect();
    /// SplitMix64::new(7).shuffle(&mut order);
    /// let mut again: Vec<usize> = (0..10).collect();
    /// SplitMix64::new(7).shuffle(&mut again);
    /// assert_eq!(order, again);
    /// order.sort();
    /// assert_eq!(order, (0..10).collect::<Vec<_>>());
    /// ```
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            items.swap(i, self.below(i as u64 + 1) as usize);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order is Fisher-Yates drawn with `below` from the last item down (the order the
    /// examples' epochs have always had), and a permutation, for lengths 0 to 39.
    #[test]
    fn shuffle_is_fisher_yates_from_the_end() {
        for len in 0..40usize {
            for seed in [0, 1, 42] {
                let mut items: Vec<usize> = (0..len).collect();
                SplitMix64::new(seed).shuffle(&mut items);
                let mut expected: Vec<usize> = (0..len).collect();
                let mut rng = SplitMix64::new(seed);
                let mut i = len;
                while i > 1 {
                    i -= 1;
                    let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                    expected.swap(i, j);
                }
                assert_eq!(items, expected, "len {len}, seed {seed}");
                items.sort_unstable();
                assert!(
                    items.iter().copied().eq(0..len),
                    "len {len}: not a permutation"
                );
            }
        }
    }

    #[test]
    fn nonzero_except_leaves_out_exactly_the_exception() {
        for r in 1..=4u64 {
            let r_i = r as i64;
            for except in -r_i - 1..=r_i + 1 {
                let mut seen = std::collections::BTreeSet::new();
                let mut rng = SplitMix64::new(r * 100 + except.unsigned_abs());
                for _ in 0..400 {
                    seen.insert(rng.nonzero_except(r, except));
                }
                let want: std::collections::BTreeSet<i64> =
                    (-r_i..=r_i).filter(|&v| v != 0 && v != except).collect();
                assert_eq!(seen, want, "r = {r}, except = {except}");
            }
        }
        // Without an exception in range, the same draws as `nonzero`.
        let (mut a, mut b) = (SplitMix64::new(5), SplitMix64::new(5));
        for except in [0, 9, -9] {
            for _ in 0..100 {
                assert_eq!(a.nonzero(3), b.nonzero_except(3, except));
            }
        }
    }

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
