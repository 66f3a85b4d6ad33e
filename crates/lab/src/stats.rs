//! The lab's own latency figures (not CloudWatch's): how much time the gateway, the event
//! building and the Runtime API add on top of the function's Duration. Bounded ring of samples.

use std::sync::Mutex;
use std::time::Duration;

const CAPACITY: usize = 100_000;

#[derive(Default)]
pub struct LatencyStats {
    ring: Mutex<(Vec<u32>, usize, u64)>,
}

/// The admin API's `overhead` figures.
pub use lab_admin_api::Overhead as Summary;

impl LatencyStats {
    pub fn record(&self, d: Duration) {
        let us = u32::try_from(d.as_micros()).unwrap_or(u32::MAX);
        let mut g = self.ring.lock().expect("stats lock");
        let (ring, next, total) = &mut *g;
        if ring.len() < CAPACITY {
            ring.push(us);
        } else {
            ring[*next] = us;
        }
        *next = (*next + 1) % CAPACITY;
        *total += 1;
    }

    /// Percentiles over the samples kept; `reset` starts a fresh window (for benchmarks).
    pub fn summary(&self, reset: bool) -> Summary {
        let mut g = self.ring.lock().expect("stats lock");
        let mut v = g.0.clone();
        let count = g.2;
        if reset {
            *g = (Vec::new(), 0, 0);
        }
        drop(g);
        v.sort_unstable();
        let pick = |q: f64| {
            if v.is_empty() {
                0
            } else {
                v[((v.len() - 1) as f64 * q).round() as usize]
            }
        };
        Summary {
            count,
            p50_us: pick(0.5),
            p90_us: pick(0.9),
            p99_us: pick(0.99),
            max_us: v.last().copied().unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_the_window() {
        let s = LatencyStats::default();
        for us in 1..=100 {
            s.record(Duration::from_micros(us));
        }
        let sum = s.summary(true);
        assert_eq!(
            (sum.count, sum.p50_us, sum.p99_us, sum.max_us),
            (100, 51, 99, 100)
        );
        assert_eq!(s.summary(false).count, 0);
    }
}
