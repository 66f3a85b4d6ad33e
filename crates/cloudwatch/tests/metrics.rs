//! The metric store on a virtual clock: statistics, storage resolutions, query rules, retention
//! and the series cap.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lab_cloudwatch::{Clock, ManualClock, MetricQuery, MetricStore, QueryError, Sample};

/// 2026-11-25T14:00:00Z
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_615_200)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn dims(service: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("Service".to_owned(), service.to_owned())])
}

fn sample(metric: &str, value: f64, at: SystemTime, resolution_s: u32) -> Sample {
    Sample {
        namespace: "OutageLab".into(),
        metric_name: metric.into(),
        dimensions: dims("dev-payment"),
        unit: "Count".into(),
        value,
        timestamp: at,
        resolution_s,
    }
}

fn query(metric: &str, period_s: u32, statistic: &str, start: SystemTime, end: SystemTime) -> MetricQuery {
    MetricQuery {
        namespace: "OutageLab".into(),
        metric_name: metric.into(),
        dimensions: dims("dev-payment"),
        period_s,
        statistic: statistic.into(),
        start,
        end,
    }
}

fn store_at(now: SystemTime) -> (Arc<ManualClock>, MetricStore) {
    let clock = Arc::new(ManualClock::new(now));
    let store = MetricStore::new(clock.clone(), Duration::from_secs(3 * 3600));
    (clock, store)
}

fn values(points: &[lab_cloudwatch::Datapoint]) -> Vec<(u64, f64)> {
    points
        .iter()
        .map(|d| (d.timestamp.duration_since(t0()).unwrap().as_secs(), d.value))
        .collect()
}

#[test]
fn every_statistic_over_one_period() {
    let (_clock, store) = store_at(t0() + secs(120));
    // 1..=100 in one minute, standard resolution.
    store.put_many((1..=100u32).map(|i| {
        sample(
            "Latency",
            f64::from(i),
            t0() + Duration::from_millis(u64::from(i) * 500),
            60,
        )
    }));
    let one = |stat: &str| {
        let points = store
            .query(&query("Latency", 60, stat, t0(), t0() + secs(60)))
            .unwrap();
        assert_eq!(points.len(), 1, "{stat}");
        assert_eq!(points[0].timestamp, t0());
        assert_eq!(points[0].sample_count, 100.0);
        points[0].value
    };
    assert_eq!(one("Sum"), 5050.0);
    assert_eq!(one("Average"), 50.5);
    assert_eq!(one("Minimum"), 1.0);
    assert_eq!(one("Maximum"), 100.0);
    assert_eq!(one("SampleCount"), 100.0);
    // Nearest rank: the ceil(p/100 * 100)-th smallest value.
    assert_eq!(one("p50"), 50.0);
    assert_eq!(one("p99"), 99.0);
    assert_eq!(one("p99.5"), 100.0);
    assert_eq!(one("p90.1"), 91.0);
    assert_eq!(one("p100"), 100.0);
    assert_eq!(one("p0"), 1.0);
}

#[test]
fn bad_statistics_periods_and_ranges_are_refused_by_name() {
    let (_clock, store) = store_at(t0());
    for stat in ["sum", "p", "p101", "p-1", "p9x", "p99.", "p.5", "P99", "tm99", ""] {
        let e = store
            .query(&query("Faults", 60, stat, t0(), t0() + secs(60)))
            .unwrap_err();
        assert_eq!(e, QueryError::Statistic(stat.to_owned()));
        assert!(e.to_string().contains("Sum, Average"), "{e}");
    }
    for period in [0, 7, 45, 90] {
        assert_eq!(
            store
                .query(&query("Faults", period, "Sum", t0(), t0() + secs(60)))
                .unwrap_err(),
            QueryError::Period(period)
        );
    }
    assert_eq!(
        store.query(&query("Faults", 60, "Sum", t0(), t0())).unwrap_err(),
        QueryError::Range
    );
}

#[test]
fn only_periods_with_data_oldest_first_and_exact_dimension_match() {
    let (_clock, store) = store_at(t0() + secs(600));
    store.put(sample("Faults", 1.0, t0() + secs(130), 1));
    store.put(sample("Faults", 2.0, t0() + secs(5), 1));
    store.put(sample("Faults", 4.0, t0() + secs(7), 1));
    let points = store
        .query(&query("Faults", 60, "Sum", t0(), t0() + secs(600)))
        .unwrap();
    assert_eq!(values(&points), vec![(0, 6.0), (120, 1.0)]);

    // A different (or partial) dimension set is a different metric.
    let mut q = query("Faults", 60, "Sum", t0(), t0() + secs(600));
    q.dimensions.insert("Extra".into(), "x".into());
    assert!(store.query(&q).unwrap().is_empty());
    q.dimensions.clear();
    assert!(store.query(&q).unwrap().is_empty());

    // start inclusive, end exclusive.
    let points = store
        .query(&query("Faults", 1, "Sum", t0() + secs(5), t0() + secs(7)))
        .unwrap();
    assert_eq!(values(&points), vec![(5, 2.0)]);
}

#[test]
fn high_resolution_data_is_kept_per_second() {
    let (_clock, store) = store_at(t0() + secs(60));
    for s in [1, 3, 11, 12, 25] {
        store.put(sample("Faults", 1.0, t0() + secs(s), 1));
    }
    let points = store
        .query(&query("Faults", 10, "Sum", t0(), t0() + secs(60)))
        .unwrap();
    assert_eq!(values(&points), vec![(0, 2.0), (10, 2.0), (20, 1.0)]);
    let points = store
        .query(&query("Faults", 1, "SampleCount", t0(), t0() + secs(60)))
        .unwrap();
    assert_eq!(
        values(&points),
        vec![(1, 1.0), (3, 1.0), (11, 1.0), (12, 1.0), (25, 1.0)]
    );
}

#[test]
fn standard_resolution_data_is_a_per_minute_aggregate_even_for_shorter_periods() {
    let (_clock, store) = store_at(t0() + secs(300));
    for s in [1, 3, 11, 12, 25, 61] {
        store.put(sample("Errors", 1.0, t0() + secs(s), 60));
    }
    // A 10 s query returns each minute's aggregate at the minute's start.
    let points = store
        .query(&query("Errors", 10, "Sum", t0(), t0() + secs(300)))
        .unwrap();
    assert_eq!(values(&points), vec![(0, 5.0), (60, 1.0)]);
    // A 120 s period holds both minutes.
    let points = store
        .query(&query("Errors", 120, "Sum", t0(), t0() + secs(300)))
        .unwrap();
    assert_eq!(values(&points), vec![(0, 6.0)]);
}

#[test]
fn retention_drops_old_samples_on_write_and_by_the_sweep() {
    let clock = Arc::new(ManualClock::new(t0()));
    let store = MetricStore::new(clock.clone(), Duration::from_secs(600));
    store.put(sample("Faults", 1.0, t0() - secs(601), 1)); // already too old
    store.put(sample("Faults", 1.0, t0() + secs(3 * 3600), 1)); // more than two hours ahead
    store.put(sample("Faults", f64::NAN, t0(), 1));
    assert_eq!(store.stats().dropped_samples, 3);
    assert_eq!(store.stats().series, 0);

    store.put(sample("Faults", 1.0, t0(), 1));
    let mut other = sample("Requests", 1.0, t0(), 60);
    other.dimensions = dims("dev-auth");
    store.put(other);
    assert_eq!(store.stats().series, 2);

    // Twenty minutes later the old buckets are gone, even of series nobody writes to any more.
    clock.advance(secs(1200));
    store.put(sample("Faults", 1.0, clock.now(), 1));
    let stats = store.stats();
    assert_eq!((stats.series, stats.buckets), (1, 1));
    let points = store
        .query(&query(
            "Faults",
            60,
            "Sum",
            t0() - secs(3600),
            clock.now() + secs(60),
        ))
        .unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(points[0].timestamp, t0() + secs(1200));
}

#[test]
fn memory_stays_bounded_under_a_long_steady_load() {
    let clock = Arc::new(ManualClock::new(t0()));
    let retention = Duration::from_secs(900);
    let store = MetricStore::new(clock.clone(), retention);
    // One hour at 50 samples per second on one high-resolution series.
    for _ in 0..3600 {
        let now = clock.now();
        store.put_many((0..50).map(|i| sample("Latency", f64::from(i), now, 1)));
        clock.advance(secs(1));
    }
    let stats = store.stats();
    assert_eq!(stats.series, 1);
    // 900 s of per-second buckets, plus the sweep's slack.
    assert!(stats.buckets <= 900 + 60, "{stats:?}");
    assert!(stats.stored_values <= (900 + 60) * 50, "{stats:?}");
    assert_eq!(stats.dropped_samples, 0);
}

#[test]
fn the_series_cap_refuses_new_series_only() {
    let clock = Arc::new(ManualClock::new(t0()));
    let store = MetricStore::new(clock, Duration::from_secs(600)).with_max_series(2);
    for service in ["a", "b", "c"] {
        let mut s = sample("Faults", 1.0, t0(), 1);
        s.dimensions = dims(service);
        store.put(s);
    }
    let mut again = sample("Faults", 1.0, t0(), 1);
    again.dimensions = dims("a");
    store.put(again);
    let stats = store.stats();
    assert_eq!((stats.series, stats.dropped_samples), (2, 1));
    let listed: Vec<String> = store
        .list_metrics()
        .into_iter()
        .map(|m| m.dimensions["Service"].clone())
        .collect();
    assert_eq!(listed, ["a", "b"]);
}

#[test]
fn the_store_is_shared_across_threads() {
    let clock = Arc::new(ManualClock::new(t0()));
    let store = Arc::new(MetricStore::new(clock, Duration::from_secs(600)));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for i in 0..1000u64 {
                    store.put(sample("Requests", 1.0, t0() + Duration::from_millis(i), 1));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    let points = store
        .query(&query("Requests", 60, "Sum", t0(), t0() + secs(60)))
        .unwrap();
    assert_eq!(values(&points), vec![(0, 4000.0)]);
}

#[test]
fn late_data_is_invisible_until_it_arrives_then_lands_in_its_own_period() {
    let (clock, store) = store_at(t0() + secs(12));
    // Observed at +12 s, visible at +17 s (the lab's EMF delay of 5 s).
    store.put_arriving([sample("Faults", 3.0, t0() + secs(12), 1)], t0() + secs(17));
    let q = query("Faults", 10, "Sum", t0(), t0() + secs(60));
    assert!(store.query(&q).unwrap().is_empty());
    assert_eq!(store.in_flight(), 1);
    assert!(
        store.list_metrics().is_empty(),
        "a series with nothing visible is not listed"
    );
    clock.advance(secs(4));
    assert!(store.query(&q).unwrap().is_empty(), "one second early");
    clock.advance(secs(1));
    assert_eq!(
        values(&store.query(&q).unwrap()),
        [(10, 3.0)],
        "stamped with its own time"
    );
    assert_eq!(store.in_flight(), 0);
    // Data due now or earlier is stored at once.
    store.put_arriving([sample("Faults", 1.0, t0() + secs(17), 1)], t0() + secs(17));
    assert_eq!(values(&store.query(&q).unwrap()), [(10, 4.0)]);
}

/// Vended metrics of a whole minute become visible at one instant; the store aggregates them as
/// they arrive, and what lands must read exactly as the same samples stored one by one.
#[test]
fn a_minute_of_late_samples_reads_as_the_same_samples_stored_at_once() {
    let visible_at = t0() + secs(120);
    let (_, at_once) = store_at(visible_at);
    let (clock, late) = store_at(t0() + secs(30));
    // Some of the minute is already visible in both: the late batch merges into its buckets.
    for store in [&at_once, &late] {
        store.put_many([
            sample("Duration", 7.0, t0() + secs(1), 60),
            sample("Duration", 9.0, t0() + secs(1), 1),
        ]);
    }
    let samples: Vec<Sample> = (0..300u32)
        .flat_map(|i| {
            let at = t0() + Duration::from_millis(u64::from(i) * 200);
            let value = f64::from((i * 37) % 101);
            [
                sample("Duration", value, at, 60),
                sample("Duration", value, at, 1),
                sample("Errors", f64::from(i % 2), at, 60),
            ]
        })
        .collect();
    at_once.put_many(samples.clone());
    late.put_arriving(samples, visible_at);
    assert_eq!(late.in_flight(), 900);
    let q = |metric: &str, period: u32, stat: &str| query(metric, period, stat, t0(), t0() + secs(60));
    assert!(
        late.query(&q("Errors", 60, "Sum")).unwrap().is_empty(),
        "invisible before its time"
    );
    clock.set(visible_at);
    for (metric, period) in [
        ("Duration", 60),
        ("Duration", 10),
        ("Duration", 1),
        ("Errors", 60),
    ] {
        for stat in [
            "Sum",
            "SampleCount",
            "Minimum",
            "Maximum",
            "Average",
            "p50",
            "p99",
            "p99.9",
        ] {
            assert_eq!(
                late.query(&q(metric, period, stat)).unwrap(),
                at_once.query(&q(metric, period, stat)).unwrap(),
                "{metric} {stat} per {period} s"
            );
        }
    }
    assert_eq!(late.in_flight(), 0);
    assert_eq!(late.stats(), at_once.stats());
}

#[test]
fn a_late_sample_is_judged_as_of_its_arrival() {
    let (clock, store) = store_at(t0());
    let arrival = t0() + secs(60);
    store.put_arriving(
        [
            sample("Faults", f64::NAN, t0(), 1),
            // Older than the three-hour retention when it arrives.
            sample("Faults", 1.0, arrival - secs(3 * 3600 + 1), 1),
            // More than two hours ahead of its arrival.
            sample("Faults", 1.0, arrival + secs(2 * 3600 + 1), 1),
            sample("Faults", 2.0, t0() + secs(5), 1),
        ],
        arrival,
    );
    assert_eq!(
        store.stats().dropped_samples,
        3,
        "refused on arrival, not kept in flight"
    );
    assert_eq!(store.in_flight(), 1);
    clock.set(arrival);
    assert_eq!(
        values(
            &store
                .query(&query("Faults", 60, "Sum", t0(), t0() + secs(60)))
                .unwrap()
        ),
        [(0, 2.0)]
    );
}

#[test]
fn late_samples_of_a_series_beyond_the_cap_are_counted_as_dropped() {
    let clock = Arc::new(ManualClock::new(t0()));
    let store = MetricStore::new(clock.clone(), Duration::from_secs(600)).with_max_series(1);
    store.put_many([sample("Faults", 1.0, t0(), 1)]);
    store.put_arriving(
        [
            sample("Throttles", 1.0, t0(), 1),
            sample("Throttles", 1.0, t0(), 60),
            sample("Faults", 1.0, t0(), 1),
        ],
        t0() + secs(60),
    );
    clock.advance(secs(60));
    assert_eq!(
        values(
            &store
                .query(&query("Faults", 60, "SampleCount", t0(), t0() + secs(60)))
                .unwrap()
        ),
        [(0, 2.0)]
    );
    let stats = store.stats();
    assert_eq!((stats.series, stats.dropped_samples), (1, 2));
}
