//! A small deterministic pseudo-random generator.
//!
//! Everything the simulator generates is a pure function of the seed and of a few integers
//! (a content id, a request number), so that a site and its fault schedule can be reproduced
//! exactly. `SplitMix64` is enough for that and costs nothing to build.

/// Mixes a 64-bit value (the `SplitMix64` finaliser).
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Hashes a seed and a list of integers into one value.
pub(crate) fn hash(seed: u64, parts: &[u64]) -> u64 {
    let mut h = mix(seed ^ 0x5151_7A7A);
    for p in parts {
        h = mix(h ^ p.wrapping_mul(0x2545_F491_4F6C_DD1D));
    }
    h
}

/// Hashes a string (FNV-1a), for mixing text into a seed.
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A `SplitMix64` stream.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A stream seeded from a seed and a list of integers.
    pub(crate) fn new(seed: u64, parts: &[u64]) -> Self {
        Rng(hash(seed, parts))
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// A `usize` in `0..n`.
    pub(crate) fn index(&mut self, n: usize) -> usize {
        self.below(n as u64) as usize
    }

    /// A value in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// A float in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// A count whose average is `mean` (integer part plus a Bernoulli trial for the fraction).
    pub(crate) fn around(&mut self, mean: f32) -> usize {
        let mean = f64::from(mean.max(0.0));
        let base = mean.floor();
        let spread = self.below(3) as f64 - 1.0; // -1, 0, +1 around the mean
        let frac = mean - base;
        let v = base + if self.chance(frac) { 1.0 } else { 0.0 };
        if base >= 1.0 {
            (v + spread).max(0.0) as usize
        } else {
            v as usize
        }
    }

    /// Lower-case hexadecimal digits.
    pub(crate) fn hex(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        while s.len() < len {
            let v = self.next_u64();
            for i in 0..16 {
                if s.len() == len {
                    break;
                }
                let d = ((v >> (i * 4)) & 0xF) as u32;
                s.push(char::from_digit(d, 16).unwrap_or('0'));
            }
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic() {
        let a: Vec<u64> = (0..4).map(|_| Rng::new(7, &[1]).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut r = Rng::new(7, &[1]);
        let mut s = Rng::new(7, &[2]);
        assert_ne!(r.next_u64(), s.next_u64());
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::new(1, &[]);
        for _ in 0..1000 {
            let v = r.range(3, 5);
            assert!((3..=5).contains(&v));
            assert!(r.unit() < 1.0);
        }
        assert_eq!(r.hex(24).len(), 24);
    }
}
