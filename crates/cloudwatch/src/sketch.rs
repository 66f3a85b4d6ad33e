//! The aggregate of the samples in one storage bucket (one second or one minute of one series).
//!
//! Sum, SampleCount, Minimum and Maximum are exact. Percentiles need the values themselves; to
//! keep memory bounded under load the values live in levels, level `i` holding values that each
//! stand for `2^i` samples (the compactor scheme of the KLL quantile sketch). When a level holds
//! more than [`LEVEL_CAPACITY`] values it is sorted and every other value (alternating which
//! half, so there is no bias up or down) moves up one level with twice the weight. Up to
//! [`LEVEL_CAPACITY`] samples (in a bucket, or in the buckets a query merges into one period)
//! percentiles are exact nearest-rank; beyond, the rank error stays within 1 % of the sample
//! count (tested), and memory grows with the logarithm of the count only.

/// Values a level holds before it is compacted.
pub(crate) const LEVEL_CAPACITY: usize = 512;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Aggregate {
    pub sum: f64,
    /// Number of samples (exact, whatever the compaction).
    pub count: f64,
    pub min: f64,
    pub max: f64,
    /// `levels[i]`: values of weight `2^i`.
    levels: Vec<Vec<f64>>,
    /// Alternates which half of a compacted level survives.
    keep_odd: bool,
}

impl Aggregate {
    pub fn new() -> Self {
        Aggregate {
            sum: 0.0,
            count: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            levels: vec![Vec::new()],
            keep_odd: false,
        }
    }

    pub fn add(&mut self, value: f64) {
        self.levels[0].push(value);
        self.compact_from(0);
        self.sum += value;
        self.count += 1.0;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Adds every sample of `other` to `self`.
    pub fn merge(&mut self, other: &Aggregate) {
        for (level, values) in other.levels.iter().enumerate() {
            if self.levels.len() <= level {
                self.levels.resize_with(level + 1, Vec::new);
            }
            self.levels[level].extend_from_slice(values);
            self.compact_from(level);
        }
        self.sum += other.sum;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// Compacts `level` and the levels above it while they are over capacity.
    fn compact_from(&mut self, mut level: usize) {
        while level < self.levels.len() && self.levels[level].len() > LEVEL_CAPACITY {
            let mut values = std::mem::take(&mut self.levels[level]);
            values.sort_by(f64::total_cmp);
            // An odd value out stays at this level with its own weight.
            if values.len() % 2 == 1 {
                let last = values.pop().unwrap_or_default();
                self.levels[level].push(last);
            }
            let offset = usize::from(self.keep_odd);
            self.keep_odd = !self.keep_odd;
            let promoted: Vec<f64> = values.iter().skip(offset).step_by(2).copied().collect();
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].extend(promoted);
            level += 1;
        }
    }

    /// Nearest-rank percentile (`p` in 0..=100): the smallest value whose cumulative weight
    /// reaches `ceil(p / 100 * count)` (at least rank 1). p0 is the minimum, p100 the maximum.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.count <= 0.0 {
            return None;
        }
        if p <= 0.0 {
            return Some(self.min);
        }
        if p >= 100.0 {
            return Some(self.max);
        }
        let mut weighted: Vec<(f64, u64)> = self
            .levels
            .iter()
            .enumerate()
            .flat_map(|(level, values)| values.iter().map(move |&v| (v, 1u64 << level.min(63))))
            .collect();
        weighted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: u64 = weighted.iter().map(|v| v.1).sum();
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (v, w) in weighted {
            seen += w;
            if seen >= rank {
                return Some(v);
            }
        }
        Some(self.max)
    }

    /// Values kept for percentiles, for the store's memory figures.
    pub fn stored_values(&self) -> usize {
        self.levels.iter().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_small_sets() {
        let mut a = Aggregate::new();
        for v in [15.0, 20.0, 35.0, 40.0, 50.0] {
            a.add(v);
        }
        // The classic nearest-rank example: p30 -> 20, p40 -> 20, p50 -> 35, p100 -> 50.
        assert_eq!(a.percentile(30.0), Some(20.0));
        assert_eq!(a.percentile(40.0), Some(20.0));
        assert_eq!(a.percentile(50.0), Some(35.0));
        assert_eq!(a.percentile(100.0), Some(50.0));
        assert_eq!(a.percentile(0.0), Some(15.0));
    }

    #[test]
    fn compaction_keeps_exact_totals_and_close_percentiles() {
        let mut a = Aggregate::new();
        let n = 100_000u32;
        for i in 1..=n {
            a.add(f64::from(i));
        }
        assert!(a.stored_values() <= LEVEL_CAPACITY * 10, "{}", a.stored_values());
        assert_eq!(a.count, f64::from(n));
        assert_eq!(a.sum, f64::from(n) * f64::from(n + 1) / 2.0);
        assert_eq!((a.min, a.max), (1.0, f64::from(n)));
        let p99 = a.percentile(99.0).unwrap();
        // Exact answer 99,000; allow 0.5 % of the range.
        assert!((p99 - 99_000.0).abs() <= 500.0, "p99 {p99}");
        let p50 = a.percentile(50.0).unwrap();
        assert!((p50 - 50_000.0).abs() <= 500.0, "p50 {p50}");
    }

    /// A deterministic shuffle of 1..=n (multiplicative step modulo a prime > n).
    fn shuffled(n: u64) -> impl Iterator<Item = f64> {
        const P: u64 = 200_003;
        assert!(n < P);
        (1..P)
            .map(|i| (i * 7_919) % P)
            .filter(move |&v| v <= n)
            .map(|v| v as f64)
    }

    #[test]
    fn percentiles_stay_close_in_any_order_and_after_merges() {
        let n = 200_000u64;
        let mut whole = Aggregate::new();
        let mut parts: Vec<Aggregate> = (0..100).map(|_| Aggregate::new()).collect();
        for (i, v) in shuffled(n).enumerate() {
            whole.add(v);
            parts[i % 100].add(v);
        }
        let mut merged = Aggregate::new();
        for part in &parts {
            merged.merge(part);
        }
        for agg in [&whole, &merged] {
            assert_eq!(agg.count, n as f64);
            assert!(
                agg.stored_values() <= LEVEL_CAPACITY * 12,
                "{}",
                agg.stored_values()
            );
            for p in [1.0, 50.0, 90.0, 99.0, 99.9] {
                let exact = (p / 100.0 * n as f64).ceil();
                let got = agg.percentile(p).unwrap();
                // Within 1 % of the sample count in rank.
                assert!((got - exact).abs() <= n as f64 / 100.0, "p{p}: {got} vs {exact}");
            }
        }
    }
}
