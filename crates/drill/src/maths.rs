//! Alarm maths: how much traffic makes an alarm fire, and how long to wait for it.
//!
//! CloudWatch evaluates a metric alarm on whole periods aligned to the clock: it fires when
//! `datapoints_to_alarm` (M) of the last `evaluation_periods` (N) datapoints breach, and it is
//! evaluated every 10 s for periods under a minute and every minute otherwise. The drill cannot
//! know where in a period it starts, so the first period may be partial; traffic runs until the
//! alarm is seen, at a steady rate that puts `margin` times the threshold into every period.

use std::time::Duration;

use outage_config::AlarmDefinition;
use serde::Serialize;

/// The numbers of one alarm that the drill sizes itself from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlarmMaths {
    pub period: Duration,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    /// The alarm fires when a period's Sum is at least this.
    pub threshold: f64,
}

impl AlarmMaths {
    pub fn of(definition: &AlarmDefinition) -> AlarmMaths {
        AlarmMaths {
            period: Duration::from_secs(u64::from(definition.period_s)),
            evaluation_periods: definition.evaluation_periods,
            datapoints_to_alarm: definition.datapoints_to_alarm,
            threshold: definition.threshold,
        }
    }

    /// How often CloudWatch evaluates the alarm: every 10 s below a one-minute period, every
    /// minute otherwise.
    pub fn evaluation_cadence(&self) -> Duration {
        if self.period < Duration::from_secs(60) {
            Duration::from_secs(10)
        } else {
            Duration::from_secs(60)
        }
    }
}

/// Fewest failing requests the drill puts in one period, whatever the threshold: a single
/// request lost at a period boundary must not decide the drill.
pub const MIN_REQUESTS_PER_PERIOD: u32 = 5;

/// The shortest gap between two requests (20 per second): far below any stage's API throttle
/// and reserved concurrency, so the drill never trips the throttles alarm instead.
pub const MIN_INTERVAL: Duration = Duration::from_millis(50);

/// How the drill drives traffic.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrafficPlan {
    /// Failing requests aimed at each period.
    pub per_period: u32,
    /// The gap between two requests.
    #[serde(serialize_with = "as_seconds")]
    pub interval: Duration,
    /// The most requests one phase sends (enough to cover its deadline).
    pub max_requests: u32,
}

/// How long each phase may take.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Deadlines {
    /// From the fault applied to ALARM seen.
    #[serde(serialize_with = "as_seconds")]
    pub alarm: Duration,
    /// From the fix applied to OK seen.
    #[serde(serialize_with = "as_seconds")]
    pub ok: Duration,
}

/// Traffic that breaches every period with `margin` times the threshold. `fault_rate` is the
/// share of requests the fault affects (FAULT_RATE): fewer affected means more requests.
pub fn traffic_plan(maths: &AlarmMaths, deadlines: &Deadlines, margin: f64, fault_rate: f64) -> TrafficPlan {
    let rate = if fault_rate > 0.0 && fault_rate <= 1.0 {
        fault_rate
    } else {
        1.0
    };
    let wanted = (maths.threshold * margin.max(1.0) / rate).ceil();
    let per_period = (wanted as u32).max(MIN_REQUESTS_PER_PERIOD);
    let interval = (maths.period / per_period).max(MIN_INTERVAL);
    let longest = deadlines.alarm.max(deadlines.ok);
    let max_requests = (longest.as_secs_f64() / interval.as_secs_f64()).ceil() as u32 + 1;
    TrafficPlan {
        per_period,
        interval,
        max_requests,
    }
}

/// How often to send a request to a function during a release's bake so that a broken new
/// version serving `share` of the traffic trips `maths`'s alarm in a period with probability
/// `confidence`: each request reaches the new version with probability `share`, so a period needs
/// n requests with 1 - (1 - share)^n >= confidence per failure the threshold asks for (a quiet
/// stage otherwise sends a canary no request at all). Never faster than [`MIN_INTERVAL`].
pub fn bake_interval(maths: &AlarmMaths, share: f64, confidence: f64) -> Duration {
    let share = share.clamp(0.01, 1.0);
    let per_failure = if share >= 1.0 {
        1.0
    } else {
        ((1.0 - confidence).ln() / (1.0 - share).ln()).ceil()
    };
    let per_period = ((per_failure * maths.threshold.max(1.0)) as u32).max(MIN_REQUESTS_PER_PERIOD);
    (maths.period / per_period).max(MIN_INTERVAL)
}

/// Deadlines from the alarm maths. `metric_delay` is how late a datapoint becomes visible to
/// the alarm (seconds in the lab; up to a minute or more for AWS/Lambda metrics).
///
/// - ALARM: M breaching periods, plus the partial period the fault starts in, plus one spare
///   period, plus one evaluation cadence, plus the metric delay.
/// - OK: the N periods of the evaluation range must roll past the last failure: N periods, plus
///   the partial one, plus one cadence, plus the metric delay.
pub fn deadlines(maths: &AlarmMaths, metric_delay: Duration) -> Deadlines {
    let cadence = maths.evaluation_cadence();
    Deadlines {
        alarm: maths.period * (maths.datapoints_to_alarm + 2) + cadence + metric_delay,
        ok: maths.period * (maths.evaluation_periods + 1) + cadence + metric_delay,
    }
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bake_traffic_reaches_a_canary_often_enough_to_trip_the_alarm() {
        let fast = AlarmMaths {
            period: Duration::from_secs(20),
            evaluation_periods: 1,
            datapoints_to_alarm: 1,
            threshold: 1.0,
        };
        // 10 %: 44 requests give 1 - 0.9^44 = 0.990 of at least one on the canary.
        assert_eq!(bake_interval(&fast, 0.1, 0.99), Duration::from_secs(20) / 44);
        // All at once: the floor of five per period.
        assert_eq!(bake_interval(&fast, 1.0, 0.99), Duration::from_secs(4));
        // A tiny share is capped by the fastest rate the drills use.
        assert_eq!(bake_interval(&fast, 0.01, 0.99), MIN_INTERVAL);
    }

    fn maths(period_s: u64, n: u32, m: u32, threshold: f64) -> AlarmMaths {
        AlarmMaths {
            period: Duration::from_secs(period_s),
            evaluation_periods: n,
            datapoints_to_alarm: m,
            threshold,
        }
    }

    #[test]
    fn cadence_follows_the_period() {
        assert_eq!(maths(10, 1, 1, 1.0).evaluation_cadence(), Duration::from_secs(10));
        assert_eq!(maths(30, 1, 1, 1.0).evaluation_cadence(), Duration::from_secs(10));
        assert_eq!(maths(60, 1, 1, 1.0).evaluation_cadence(), Duration::from_secs(60));
        assert_eq!(
            maths(300, 1, 1, 1.0).evaluation_cadence(),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn deadlines_for_the_dev_fast_errors_alarm() {
        // 10 s period, 1 of 1: (1 + 2) * 10 + 10 + 5 = 45 s to ALARM; (1 + 1) * 10 + 10 + 5 = 35 s to OK.
        let d = deadlines(&maths(10, 1, 1, 1.0), Duration::from_secs(5));
        assert_eq!(d.alarm, Duration::from_secs(45));
        assert_eq!(d.ok, Duration::from_secs(35));
    }

    #[test]
    fn deadlines_grow_with_m_and_n() {
        // 60 s, 2 of 3: ALARM (2 + 2) * 60 + 60 + 90; OK (3 + 1) * 60 + 60 + 90.
        let d = deadlines(&maths(60, 3, 2, 1.0), Duration::from_secs(90));
        assert_eq!(d.alarm, Duration::from_secs(390));
        assert_eq!(d.ok, Duration::from_secs(390));
    }

    #[test]
    fn traffic_puts_margin_times_threshold_in_every_period() {
        let m = maths(60, 1, 1, 10.0);
        let d = deadlines(&m, Duration::from_secs(0));
        let plan = traffic_plan(&m, &d, 2.0, 1.0);
        assert_eq!(plan.per_period, 20);
        assert_eq!(plan.interval, Duration::from_secs(3));
        // Enough requests to last until the longer deadline (240 s / 3 s, plus one).
        assert_eq!(plan.max_requests, 81);
        // Whatever the alignment, any whole period inside the traffic gets per_period requests.
        assert!(f64::from(plan.per_period) >= m.threshold * 2.0);
    }

    #[test]
    fn small_thresholds_still_send_a_floor_of_requests() {
        let m = maths(10, 1, 1, 1.0);
        let plan = traffic_plan(&m, &deadlines(&m, Duration::from_secs(5)), 2.0, 1.0);
        assert_eq!(plan.per_period, MIN_REQUESTS_PER_PERIOD);
        assert_eq!(plan.interval, Duration::from_secs(2));
    }

    #[test]
    fn a_partial_fault_rate_sends_more() {
        let m = maths(60, 1, 1, 10.0);
        let d = deadlines(&m, Duration::ZERO);
        assert_eq!(traffic_plan(&m, &d, 2.0, 0.5).per_period, 40);
        // An out-of-range rate is treated as 1.0 rather than dividing by zero.
        assert_eq!(traffic_plan(&m, &d, 2.0, 0.0).per_period, 20);
    }

    #[test]
    fn interval_never_goes_below_the_floor() {
        let m = maths(10, 1, 1, 1000.0);
        let plan = traffic_plan(&m, &deadlines(&m, Duration::ZERO), 3.0, 1.0);
        assert_eq!(plan.interval, MIN_INTERVAL);
    }
}
