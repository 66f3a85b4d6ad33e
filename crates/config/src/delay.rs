//! When metric data becomes visible to CloudWatch's readers (alarms, GetMetricData, the
//! dashboard): the lab publishes with this delay, and the drill sizes its budgets and deadlines
//! with the same numbers, so a drill in the lab waits as long as one on AWS would.
//!
//! Two kinds of data, two models:
//! - **Vended metrics** (`AWS/Lambda`, `AWS/ApiGateway`): "Lambda sends metric data to
//!   CloudWatch in 1-minute intervals" (Lambda developer guide, "Using CloudWatch metrics with
//!   Lambda"). A minute's data becomes visible when the minute closes, plus `vended`.
//! - **Metrics extracted from Embedded Metric Format logs** (the functions' `OutageLab`
//!   metrics): CloudWatch Logs turns each log line into datapoints after the line arrives, `emf`
//!   later. AWS publishes no figure; its guidance for alarms on EMF metrics ("Setting alarms on
//!   metrics created with the embedded metric format") asks for logs flushed every 5 s or less to
//!   avoid alarming on partial data, which is the lab's default.
//!
//! Both are settings (`outage-lab up|drill --emf-delay-s --vended-delay-s`); the AWS drill
//! measures what AWS really shows and reports it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::stage::AlarmDefinition;

/// How often Lambda and API Gateway send their metrics.
pub const VENDED_INTERVAL_S: u64 = 60;
/// The lab's default delay of EMF-extracted metrics.
pub const DEFAULT_EMF_DELAY: Duration = Duration::from_secs(5);
/// The lab's default delay of vended metrics after their minute closes.
pub const DEFAULT_VENDED_DELAY: Duration = Duration::ZERO;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricDelays {
    /// From a log line's arrival to its metrics' visibility.
    pub emf: Duration,
    /// From the close of a vended metric's minute to its visibility.
    pub vended: Duration,
    /// The interval vended metrics are sent in ([`VENDED_INTERVAL_S`]); zero shows them at once.
    pub vended_interval: Duration,
}

impl Default for MetricDelays {
    fn default() -> Self {
        MetricDelays {
            emf: DEFAULT_EMF_DELAY,
            vended: DEFAULT_VENDED_DELAY,
            vended_interval: Duration::from_secs(VENDED_INTERVAL_S),
        }
    }
}

/// Whether AWS publishes the namespace itself (on its 1-minute interval).
pub fn is_vended(namespace: &str) -> bool {
    namespace.starts_with("AWS/")
}

fn epoch_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

fn round_up(d: Duration, step_s: u64) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs.div_ceil(step_s) * step_s)
}

impl MetricDelays {
    /// Visible at once: for tests of what is counted rather than when it shows.
    pub const NONE: MetricDelays = MetricDelays {
        emf: Duration::ZERO,
        vended: Duration::ZERO,
        vended_interval: Duration::ZERO,
    };

    /// Both kinds `delay` late: what the AWS target assumes before it has measured anything.
    pub fn uniform(delay: Duration) -> MetricDelays {
        MetricDelays {
            emf: delay,
            vended: delay,
            ..MetricDelays::default()
        }
    }

    /// When data of `namespace` that arrived (or, for vended metrics, was observed) at `at`
    /// becomes visible.
    pub fn visible_at(&self, namespace: &str, at: SystemTime) -> SystemTime {
        if is_vended(namespace) {
            let interval = self.vended_interval.as_secs();
            if interval == 0 {
                return at + self.vended;
            }
            let interval_end = (epoch_secs(at) / interval + 1) * interval;
            UNIX_EPOCH + Duration::from_secs(interval_end) + self.vended
        } else {
            at + self.emf
        }
    }

    /// How much later than CloudWatch's own evaluation of a period an alarm can judge it: the
    /// delay of its metric beyond the period's close, rounded up to the alarm's evaluation
    /// cadence (10 s under one-minute periods, else 60 s), since a period whose data is not all
    /// visible at one evaluation is judged whole at the next. Vended data is published when its
    /// minute closes, which is when a one-minute alarm evaluates: only `vended` counts.
    pub fn alarm_lag(&self, alarm: &AlarmDefinition) -> Duration {
        let cadence = if alarm.period_s < 60 { 10 } else { 60 };
        let delay = if is_vended(&alarm.namespace) {
            self.vended
        } else {
            self.emf
        };
        if delay.is_zero() {
            Duration::ZERO
        } else {
            round_up(delay, cadence)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(s)
    }

    #[test]
    fn vended_data_waits_for_its_minute_to_close_emf_data_for_the_delay() {
        let d = MetricDelays {
            emf: Duration::from_secs(5),
            vended: Duration::from_secs(7),
            ..MetricDelays::default()
        };
        assert_eq!(d.visible_at("AWS/Lambda", at(120)), at(187));
        assert_eq!(d.visible_at("AWS/ApiGateway", at(179)), at(187));
        assert_eq!(d.visible_at("OutageLab", at(179)), at(184));
        assert_eq!(MetricDelays::NONE.visible_at("OutageLab", at(179)), at(179));
        assert_eq!(MetricDelays::NONE.visible_at("AWS/Lambda", at(179)), at(179));
    }

    #[test]
    fn the_alarm_lag_rounds_the_delay_up_to_the_cadence() {
        let stage = crate::Stage::load_named(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
            "dev",
        )
        .unwrap();
        let defs = stage.alarm_definitions("x");
        let fast = defs.iter().find(|d| d.name == "dev-auth-fast-errors").unwrap();
        let errors = defs.iter().find(|d| d.name == "dev-auth-errors").unwrap();
        let d = MetricDelays::default();
        assert_eq!(d.alarm_lag(fast), Duration::from_secs(10));
        assert_eq!(d.alarm_lag(errors), Duration::ZERO);
        let aws = MetricDelays::uniform(Duration::from_secs(90));
        assert_eq!(aws.alarm_lag(fast), Duration::from_secs(90));
        assert_eq!(aws.alarm_lag(errors), Duration::from_secs(120));
        assert_eq!(MetricDelays::NONE.alarm_lag(fast), Duration::ZERO);
    }
}
