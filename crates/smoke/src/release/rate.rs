//! How much synthetic traffic a bake needs: enough that a faulty new version, which receives
//! only the canary's share of it, is asked often enough in every period of the function's fast
//! alarm to trip that alarm, so CodeDeploy stops the release while the share is still small.
//! The maths is the drill library's ([`bake_interval`]: n requests per period with
//! `1 - (1 - p)^n >= 0.99`, 44 per 20 s for a 10 % canary), the same as the lab's releases
//! use; on AWS the API's throttle also caps the rate.

use std::time::Duration;

use outage_config::Stage;
use serde::Serialize;

use crate::maths::{bake_interval, AlarmMaths};

/// How sure the bake wants to be that a faulty canary is asked in every period.
pub const CONFIDENCE: f64 = 0.99;

/// The bake traffic of one release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BakeRate {
    /// The new version's first share of the traffic (0.1 for a 10 % canary, 1.0 all at once).
    pub share: f64,
    /// The fast alarm's period the rate is sized for.
    pub period_s: u32,
    /// The gap between two requests.
    #[serde(serialize_with = "as_seconds")]
    pub interval: Duration,
    /// Requests in one period at that interval.
    pub per_period: u32,
    /// When the API's throttle made the interval longer than the maths asked for: the
    /// confidence is then below [`CONFIDENCE`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub capped_by: Option<String>,
}

/// The fast-errors alarm's maths, from the stage file.
fn fast_errors(stage: &Stage) -> AlarmMaths {
    let fast = &stage.alarms.fast_errors;
    AlarmMaths {
        period: Duration::from_secs(u64::from(fast.period_s.max(1))),
        evaluation_periods: fast.evaluation_periods,
        datapoints_to_alarm: fast.datapoints_to_alarm,
        threshold: fast.threshold.unwrap_or(1.0),
    }
}

/// The bake rate for a release whose first step gives the new version `share` of the traffic:
/// the drill library's interval, never faster than `api_throttle.rate_limit` allows.
pub fn bake_rate(stage: &Stage, share: f64) -> BakeRate {
    let maths = fast_errors(stage);
    let wanted = bake_interval(&maths, share, CONFIDENCE);
    let rate_limit = stage.api_throttle.rate_limit;
    let throttle = if rate_limit > 0.0 {
        Duration::from_secs_f64(1.0 / rate_limit)
    } else {
        Duration::ZERO
    };
    let interval = wanted.max(throttle);
    BakeRate {
        share,
        period_s: stage.alarms.fast_errors.period_s,
        interval,
        per_period: (maths.period.as_secs_f64() / interval.as_secs_f64()).floor() as u32,
        capped_by: (interval > wanted).then(|| format!("the API's throttle ({rate_limit} requests/s)")),
    }
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev() -> Stage {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Stage::load_named(&root, "dev").unwrap()
    }

    #[test]
    fn dev_bakes_a_ten_percent_canary_at_44_requests_per_20_s() {
        // 1 - 0.9^44 = 0.990: a faulty canary is asked at least once in every period.
        let rate = bake_rate(&dev(), 0.1);
        assert_eq!(rate.period_s, 20);
        assert_eq!(rate.interval, Duration::from_secs(20) / 44);
        assert_eq!(rate.per_period, 44);
        assert!(1.0 - 0.9_f64.powi(rate.per_period as i32) >= CONFIDENCE);
        assert_eq!(rate.capped_by, None);
    }

    #[test]
    fn the_api_throttle_caps_the_rate_and_says_so() {
        let mut stage = dev();
        stage.api_throttle.rate_limit = 2.0;
        let rate = bake_rate(&stage, 0.1);
        assert_eq!(rate.interval, Duration::from_millis(500));
        assert_eq!(rate.per_period, 40);
        assert_eq!(
            rate.capped_by.as_deref(),
            Some("the API's throttle (2 requests/s)")
        );
    }
}
