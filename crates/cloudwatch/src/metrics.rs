//! The metric store: samples in, CloudWatch statistics out.
//!
//! Storage follows CloudWatch's storage resolutions: a sample with `resolution_s == 1` (high
//! resolution) is kept per second, any other sample (standard resolution, 60) is aggregated per
//! minute. A query groups the stored buckets into periods aligned to multiples of the period
//! since the Unix epoch, by the bucket's start; so a 10 s query over standard-resolution data
//! returns each minute's aggregate at the minute's start (as CloudWatch does), and a query period
//! that is not a multiple of the data's resolution assigns each bucket wholly to the period its
//! start falls in, never splitting it.
//!
//! Data may arrive late, as on AWS ([`MetricStore::put_arriving`]): it waits in flight, invisible
//! to every reader, until its time comes; each read and write first lets in what is due. It is
//! judged (retention, future limit) as of its arrival and waits already aggregated per series
//! and bucket, so a minute of vended metrics lands as one merge per bucket.
//!
//! Memory is bounded three ways: samples older than the retention are dropped (on write and by a
//! sweep at most every [`SWEEP_EVERY`]), the number of series is capped (new series beyond the
//! cap are refused and counted), and each bucket keeps at most a few thousand values for
//! percentiles, growing with the logarithm of its sample count (see `sketch`).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::sketch::Aggregate;

/// Default cap on distinct series (namespace + metric name + dimensions).
pub const DEFAULT_MAX_SERIES: usize = 10_000;
/// How often the store sweeps every series for expired buckets.
pub const SWEEP_EVERY: Duration = Duration::from_secs(10);
/// CloudWatch refuses data stamped more than two hours in the future.
pub const MAX_FUTURE: Duration = Duration::from_secs(2 * 3600);

/// One value of one metric, as PutMetricData or an EMF record delivers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
    /// CloudWatch unit name ("Count", "Milliseconds", "None", ...).
    pub unit: String,
    pub value: f64,
    pub timestamp: SystemTime,
    /// 1 = high resolution (kept per second), 60 = standard (aggregated per minute).
    pub resolution_s: u32,
}

/// The identity of a series: CloudWatch treats each distinct dimension set as its own metric.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MetricId {
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
}

/// A GetMetricStatistics-style query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricQuery {
    pub namespace: String,
    pub metric_name: String,
    /// Must equal the series' dimension set exactly (CloudWatch matches dimension sets whole).
    pub dimensions: BTreeMap<String, String>,
    pub period_s: u32,
    /// Sum | Average | Minimum | Maximum | SampleCount | pNN | pNN.N
    pub statistic: String,
    /// Inclusive.
    pub start: SystemTime,
    /// Exclusive.
    pub end: SystemTime,
}

/// One period of a query's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Datapoint {
    /// The period's start.
    pub timestamp: SystemTime,
    pub value: f64,
    /// Samples in the period (for percentile low-sample-count rules).
    pub sample_count: f64,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("statistic {0:?} is not one of Sum, Average, Minimum, Maximum, SampleCount or a percentile pNN / pNN.N (0 to 100)")]
    Statistic(String),
    #[error("period {0} s is not allowed: use 1, 5, 10, 20, 30 or a multiple of 60")]
    Period(u32),
    #[error("start must be before end")]
    Range,
    #[error("namespace and metric name must not be empty")]
    Metric,
}

/// A parsed statistic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Statistic {
    Sum,
    Average,
    Minimum,
    Maximum,
    SampleCount,
    /// 0.0..=100.0
    Percentile(f64),
}

impl Statistic {
    pub fn parse(s: &str) -> Result<Statistic, QueryError> {
        let bad = || QueryError::Statistic(s.to_owned());
        Ok(match s {
            "Sum" => Statistic::Sum,
            "Average" => Statistic::Average,
            "Minimum" => Statistic::Minimum,
            "Maximum" => Statistic::Maximum,
            "SampleCount" => Statistic::SampleCount,
            _ => {
                let digits = s.strip_prefix('p').ok_or_else(bad)?;
                // pNN or pNN.N...: digits, at most one '.', no sign or exponent.
                let well_formed = !digits.is_empty()
                    && !digits.starts_with('.')
                    && !digits.ends_with('.')
                    && digits.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                    && digits.bytes().filter(|&b| b == b'.').count() <= 1;
                if !well_formed {
                    return Err(bad());
                }
                let p: f64 = digits.parse().map_err(|_| bad())?;
                if !(0.0..=100.0).contains(&p) {
                    return Err(bad());
                }
                Statistic::Percentile(p)
            }
        })
    }

    fn of(&self, agg: &Aggregate) -> Option<f64> {
        if agg.count <= 0.0 {
            return None;
        }
        Some(match self {
            Statistic::Sum => agg.sum,
            Statistic::Average => agg.sum / agg.count,
            Statistic::Minimum => agg.min,
            Statistic::Maximum => agg.max,
            Statistic::SampleCount => agg.count,
            Statistic::Percentile(p) => agg.percentile(*p)?,
        })
    }
}

/// What the store holds, for status pages and the memory-bound tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    pub series: usize,
    pub buckets: usize,
    /// Values kept for percentiles, over all buckets.
    pub stored_values: usize,
    /// Samples refused: older than the retention, too far in the future, non-finite, or a new
    /// series beyond the cap.
    pub dropped_samples: u64,
}

/// Buckets keyed by their start in whole seconds since the epoch.
type Series = BTreeMap<i64, Aggregate>;

/// Thread-safe metric storage with bounded retention.
pub struct MetricStore {
    clock: Arc<dyn Clock>,
    retention: Duration,
    max_series: usize,
    series: RwLock<HashMap<MetricId, Series>>,
    dropped: Mutex<u64>,
    last_sweep: Mutex<Option<SystemTime>>,
    /// Samples not yet visible, by the instant they become visible (and arrival order).
    in_flight: Mutex<InFlight>,
}

/// At most this many samples wait in flight; beyond it new ones are dropped and counted (a
/// minute of the lab's busiest traffic is far below it).
pub const MAX_IN_FLIGHT: usize = 1_000_000;

/// Samples waiting to become visible, aggregated as they arrive, by the instant they become
/// visible. Vended metrics of a whole minute share one instant: landing them one sample at a
/// time held the event loop of seven labs in one process for 150 to 400 ms at each minute's
/// close, on an idle machine; on a loaded one, long enough to push a 1.5 s invocation past its
/// 3 s timeout. Aggregated, a landing merges one aggregate per series and bucket.
#[derive(Default)]
struct InFlight {
    batches: BTreeMap<SystemTime, Batch>,
    samples: usize,
}

/// Samples aggregated per series and storage bucket.
#[derive(Default)]
struct Batch {
    series: HashMap<MetricId, Series>,
    samples: usize,
}

/// Why a sample was refused before it reached a series.
struct Refused;

impl Batch {
    /// Adds a sample as the store judges it at `at`: refused when not finite, older than the
    /// retention or too far in the future.
    fn add(&mut self, s: Sample, at: SystemTime, retention: Duration) -> Result<(), Refused> {
        let oldest = epoch_secs(at.checked_sub(retention).unwrap_or(UNIX_EPOCH));
        let newest = epoch_secs(at + MAX_FUTURE);
        let secs = epoch_secs(s.timestamp);
        if !s.value.is_finite() || secs < oldest || secs > newest {
            return Err(Refused);
        }
        let resolution: i64 = if s.resolution_s == 1 { 1 } else { 60 };
        let bucket = secs.div_euclid(resolution) * resolution;
        let id = MetricId {
            namespace: s.namespace,
            metric_name: s.metric_name,
            dimensions: s.dimensions,
        };
        self.series
            .entry(id)
            .or_default()
            .entry(bucket)
            .or_insert_with(Aggregate::new)
            .add(s.value);
        self.samples += 1;
        Ok(())
    }
}

impl std::fmt::Debug for MetricStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricStore")
            .field("retention", &self.retention)
            .field("stats", &self.stats())
            .finish()
    }
}

fn epoch_secs(t: SystemTime) -> i64 {
    match t.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        // Before the epoch: round towards minus infinity.
        Err(e) => {
            let d = e.duration();
            let whole = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
            if d.subsec_nanos() > 0 {
                -whole - 1
            } else {
                -whole
            }
        }
    }
}

pub(crate) fn from_epoch_secs(s: i64) -> SystemTime {
    if s >= 0 {
        UNIX_EPOCH + Duration::from_secs(s as u64)
    } else {
        UNIX_EPOCH - Duration::from_secs(s.unsigned_abs())
    }
}

/// Whether the bucket starting at `k` holds only samples older than `oldest` (epoch s). A key
/// on a minute boundary may be a minute bucket, which holds samples up to `k + 59`.
fn expired(k: i64, oldest: i64) -> bool {
    k + 60 <= oldest || (k < oldest && k.rem_euclid(60) != 0)
}

/// Periods CloudWatch accepts for queries.
pub fn valid_period(p: u32) -> bool {
    matches!(p, 1 | 5 | 10 | 20 | 30) || (p >= 60 && p.is_multiple_of(60))
}

impl MetricStore {
    pub fn new(clock: Arc<dyn Clock>, retention: Duration) -> Self {
        MetricStore {
            clock,
            retention,
            max_series: DEFAULT_MAX_SERIES,
            series: RwLock::new(HashMap::new()),
            dropped: Mutex::new(0),
            last_sweep: Mutex::new(None),
            in_flight: Mutex::new(InFlight::default()),
        }
    }

    /// Stores samples that become visible only at `visible_at` (at once when it is not later
    /// than now).
    pub fn put_arriving(&self, samples: impl IntoIterator<Item = Sample>, visible_at: SystemTime) {
        if visible_at <= self.clock.now() {
            return self.put_many(samples);
        }
        let mut dropped = 0u64;
        {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            let InFlight {
                batches,
                samples: waiting,
            } = &mut *in_flight;
            let batch = batches.entry(visible_at).or_default();
            for s in samples {
                // Judged as of its arrival: a late sample is refused or kept as CloudWatch
                // would when it gets there, however late the store next looks.
                if *waiting >= MAX_IN_FLIGHT || batch.add(s, visible_at, self.retention).is_err() {
                    dropped += 1;
                } else {
                    *waiting += 1;
                }
            }
            if batch.samples == 0 {
                batches.remove(&visible_at);
            }
        }
        self.count_dropped(dropped);
    }

    /// Lets in the samples whose time has come.
    fn land_due(&self, now: SystemTime) {
        let due = {
            let mut in_flight = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
            if in_flight
                .batches
                .first_key_value()
                .is_none_or(|(first, _)| *first > now)
            {
                return;
            }
            let later = in_flight.batches.split_off(&(now + Duration::from_nanos(1)));
            let due = std::mem::replace(&mut in_flight.batches, later);
            in_flight.samples -= due.values().map(|b| b.samples).sum::<usize>();
            due
        };
        for batch in due.into_values() {
            self.land(batch, now);
        }
    }

    /// Samples waiting to become visible.
    pub fn in_flight(&self) -> usize {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).samples
    }

    fn count_dropped(&self, dropped: u64) {
        if dropped > 0 {
            *self.dropped.lock().unwrap_or_else(|e| e.into_inner()) += dropped;
        }
    }

    /// Caps the number of distinct series; samples of new series beyond it are dropped.
    pub fn with_max_series(mut self, max_series: usize) -> Self {
        self.max_series = max_series;
        self
    }

    pub fn retention(&self) -> Duration {
        self.retention
    }

    pub fn put(&self, sample: Sample) {
        self.put_many(std::iter::once(sample));
    }

    pub fn put_many(&self, samples: impl IntoIterator<Item = Sample>) {
        let now = self.clock.now();
        self.land_due(now);
        self.store(samples, now);
    }

    fn store(&self, samples: impl IntoIterator<Item = Sample>, now: SystemTime) {
        let mut batch = Batch::default();
        let refused = samples
            .into_iter()
            .map(|s| batch.add(s, now, self.retention))
            .filter(Result::is_err)
            .count();
        self.count_dropped(refused as u64);
        self.land(batch, now);
    }

    /// Merges a batch into the series: one lookup per series, one merge per bucket.
    fn land(&self, batch: Batch, now: SystemTime) {
        self.maybe_sweep(now);
        let oldest = epoch_secs(now.checked_sub(self.retention).unwrap_or(UNIX_EPOCH));
        let mut dropped = 0u64;
        {
            let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
            for (id, arriving) in batch.series {
                if !series.contains_key(&id) && series.len() >= self.max_series {
                    dropped += arriving.values().map(|a| a.count as u64).sum::<u64>();
                    continue;
                }
                let buckets = series.entry(id).or_default();
                for (bucket, agg) in arriving {
                    match buckets.entry(bucket) {
                        std::collections::btree_map::Entry::Vacant(v) => {
                            v.insert(agg);
                        }
                        std::collections::btree_map::Entry::Occupied(mut o) => o.get_mut().merge(&agg),
                    }
                }
                // Keep a busy series trimmed without waiting for the sweep.
                while buckets
                    .first_key_value()
                    .is_some_and(|(&k, _)| expired(k, oldest))
                {
                    buckets.pop_first();
                }
            }
        }
        self.count_dropped(dropped);
    }

    fn maybe_sweep(&self, now: SystemTime) {
        {
            let mut last = self.last_sweep.lock().unwrap_or_else(|e| e.into_inner());
            match *last {
                Some(t) if now.duration_since(t).map(|d| d < SWEEP_EVERY).unwrap_or(true) => return,
                _ => *last = Some(now),
            }
        }
        self.sweep(now);
    }

    /// Drops every bucket that lies wholly before the retention window, and empty series.
    fn sweep(&self, now: SystemTime) {
        let oldest = epoch_secs(now.checked_sub(self.retention).unwrap_or(UNIX_EPOCH));
        let mut series = self.series.write().unwrap_or_else(|e| e.into_inner());
        series.retain(|_, buckets| {
            buckets.retain(|&k, _| !expired(k, oldest));
            !buckets.is_empty()
        });
    }

    /// The statistic per period, only periods that have data, oldest first.
    pub fn query(&self, q: &MetricQuery) -> Result<Vec<Datapoint>, QueryError> {
        let stat = Statistic::parse(&q.statistic)?;
        if !valid_period(q.period_s) {
            return Err(QueryError::Period(q.period_s));
        }
        if q.namespace.is_empty() || q.metric_name.is_empty() {
            return Err(QueryError::Metric);
        }
        if q.start >= q.end {
            return Err(QueryError::Range);
        }
        let now = self.clock.now();
        self.land_due(now);
        self.maybe_sweep(now);
        let id = MetricId {
            namespace: q.namespace.clone(),
            metric_name: q.metric_name.clone(),
            dimensions: q.dimensions.clone(),
        };
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        let Some(buckets) = series.get(&id) else {
            return Ok(Vec::new());
        };
        let (start, end) = (epoch_secs(q.start), epoch_secs(q.end));
        // A bucket belongs to the query when its start lies in [start, end).
        let period = i64::from(q.period_s);
        let mut periods: BTreeMap<i64, Aggregate> = BTreeMap::new();
        for (&bucket, agg) in buckets.range(start..end) {
            let p = bucket.div_euclid(period) * period;
            periods.entry(p).or_insert_with(Aggregate::new).merge(agg);
        }
        Ok(periods
            .into_iter()
            .filter_map(|(p, agg)| {
                stat.of(&agg).map(|value| Datapoint {
                    timestamp: from_epoch_secs(p),
                    value,
                    sample_count: agg.count,
                })
            })
            .collect())
    }

    /// Every series that holds data, sorted.
    pub fn list_metrics(&self) -> Vec<MetricId> {
        self.land_due(self.clock.now());
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        let mut ids: Vec<MetricId> = series
            .iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(id, _)| id.clone())
            .collect();
        ids.sort();
        ids
    }

    pub fn stats(&self) -> StoreStats {
        let series = self.series.read().unwrap_or_else(|e| e.into_inner());
        StoreStats {
            series: series.len(),
            buckets: series.values().map(BTreeMap::len).sum(),
            stored_values: series
                .values()
                .flat_map(|b| b.values())
                .map(Aggregate::stored_values)
                .sum(),
            dropped_samples: *self.dropped.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }
}
