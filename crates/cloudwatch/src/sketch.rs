//! The aggregate of the samples in one storage bucket (one second or one minute of one series).
//!
//! Sum, SampleCount, Minimum and Maximum are exact. Percentiles need the values themselves; to
//! keep memory bounded under load a bucket keeps at most [`MAX_VALUES`] weighted values: when
//! full, the values are sorted and adjacent pairs merged into one value of the pair's combined
//! weight (alternating which one survives, so there is no bias up or down). Below the cap,
//! percentiles are exact nearest-rank; above it, each compaction adds a rank error of at most
//! one stored value's weight, which stays far below CloudWatch's own percentile approximation.

/// Values kept per bucket before compaction.
pub(crate) const MAX_VALUES: usize = 2048;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Aggregate {
    pub sum: f64,
    /// Number of samples (exact, whatever the compaction).
    pub count: f64,
    pub min: f64,
    pub max: f64,
    /// (value, weight): each entry stands for `weight` samples.
    values: Vec<(f64, u64)>,
    /// Alternates which element of a pair survives a compaction.
    keep_upper: bool,
}

impl Aggregate {
    pub fn new() -> Self {
        Aggregate {
            sum: 0.0,
            count: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
            values: Vec::new(),
            keep_upper: false,
        }
    }

    pub fn add(&mut self, value: f64) {
        self.add_weighted(value, 1);
    }

    fn add_weighted(&mut self, value: f64, weight: u64) {
        self.values.push((value, weight));
        if self.values.len() > MAX_VALUES {
            self.compact();
        }
        self.sum += value * weight as f64;
        self.count += weight as f64;
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Adds every sample of `other` to `self`.
    pub fn merge(&mut self, other: &Aggregate) {
        for &(v, w) in &other.values {
            self.values.push((v, w));
            if self.values.len() > MAX_VALUES {
                self.compact();
            }
        }
        self.sum += other.sum;
        self.count += other.count;
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    fn compact(&mut self) {
        self.values.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut out = Vec::with_capacity(self.values.len() / 2 + 1);
        let mut chunks = self.values.chunks_exact(2);
        for pair in &mut chunks {
            let (lo, hi) = (pair[0], pair[1]);
            let kept = if self.keep_upper { hi.0 } else { lo.0 };
            self.keep_upper = !self.keep_upper;
            out.push((kept, lo.1 + hi.1));
        }
        out.extend_from_slice(chunks.remainder());
        self.values = out;
    }

    /// Nearest-rank percentile (`p` in 0..=100): the smallest value whose cumulative weight
    /// reaches `ceil(p / 100 * count)` (at least rank 1). p0 is the minimum, p100 the maximum.
    pub fn percentile(&self, p: f64) -> Option<f64> {
        if self.values.is_empty() {
            return None;
        }
        if p <= 0.0 {
            return Some(self.min);
        }
        if p >= 100.0 {
            return Some(self.max);
        }
        let mut sorted = self.values.clone();
        sorted.sort_by(|a, b| a.0.total_cmp(&b.0));
        let total: u64 = sorted.iter().map(|v| v.1).sum();
        let rank = ((p / 100.0) * total as f64).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (v, w) in sorted {
            seen += w;
            if seen >= rank {
                return Some(v);
            }
        }
        Some(self.max)
    }

    /// Approximate heap use, for the store's memory figures.
    pub fn stored_values(&self) -> usize {
        self.values.len()
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
        assert!(a.stored_values() <= MAX_VALUES);
        assert_eq!(a.count, f64::from(n));
        assert_eq!(a.sum, f64::from(n) * f64::from(n + 1) / 2.0);
        assert_eq!((a.min, a.max), (1.0, f64::from(n)));
        let p99 = a.percentile(99.0).unwrap();
        // Exact answer 99,000; allow 0.5 % of the range.
        assert!((p99 - 99_000.0).abs() <= 500.0, "p99 {p99}");
        let p50 = a.percentile(50.0).unwrap();
        assert!((p50 - 50_000.0).abs() <= 500.0, "p50 {p50}");
    }
}
