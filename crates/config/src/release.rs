//! How a release shifts traffic from the version an alias serves to a new one: CodeDeploy's
//! traffic-routing configurations for the Lambda compute platform, predefined or custom, and
//! the schedule of weights each one follows. The lab's release engine follows the schedule;
//! on AWS, CodeDeploy does, from the same configuration.
//!
//! AWS's model (CodeDeploy API reference, `TrafficRoutingConfig`, `TimeBasedCanary`,
//! `TimeBasedLinear`): a canary shifts `percentage` at once and the rest after `interval`
//! minutes; a linear one shifts `percentage` more every `interval` minutes until all traffic is
//! shifted; all-at-once shifts everything at once. Percentages and intervals are whole numbers.

use std::fmt;
use std::time::Duration;

/// One traffic-routing configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficRouting {
    AllAtOnce,
    /// `TimeBasedCanary`: `percentage` now, the rest after `interval_minutes`.
    Canary {
        percentage: u8,
        interval_minutes: u32,
    },
    /// `TimeBasedLinear`: `percentage` more every `interval_minutes`.
    Linear {
        percentage: u8,
        interval_minutes: u32,
    },
}

/// CodeDeploy's predefined configurations for Lambda.
pub const PREDEFINED: [(&str, TrafficRouting); 9] = [
    ("CodeDeployDefault.LambdaAllAtOnce", TrafficRouting::AllAtOnce),
    ("CodeDeployDefault.LambdaCanary10Percent5Minutes", canary(10, 5)),
    ("CodeDeployDefault.LambdaCanary10Percent10Minutes", canary(10, 10)),
    ("CodeDeployDefault.LambdaCanary10Percent15Minutes", canary(10, 15)),
    ("CodeDeployDefault.LambdaCanary10Percent30Minutes", canary(10, 30)),
    (
        "CodeDeployDefault.LambdaLinear10PercentEvery1Minute",
        linear(10, 1),
    ),
    (
        "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes",
        linear(10, 2),
    ),
    (
        "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes",
        linear(10, 3),
    ),
    (
        "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes",
        linear(10, 10),
    ),
];

const fn canary(percentage: u8, interval_minutes: u32) -> TrafficRouting {
    TrafficRouting::Canary {
        percentage,
        interval_minutes,
    }
}

const fn linear(percentage: u8, interval_minutes: u32) -> TrafficRouting {
    TrafficRouting::Linear {
        percentage,
        interval_minutes,
    }
}

/// The longest interval accepted here: two days. The API reference gives no bound; this is the
/// project's, far beyond any release a person watches.
pub const MAX_INTERVAL_MINUTES: u32 = 2880;

impl fmt::Display for TrafficRouting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrafficRouting::AllAtOnce => write!(f, "all-at-once"),
            TrafficRouting::Canary {
                percentage,
                interval_minutes,
            } => write!(f, "canary:{percentage}%:{interval_minutes}m"),
            TrafficRouting::Linear {
                percentage,
                interval_minutes,
            } => write!(f, "linear:{percentage}%:{interval_minutes}m"),
        }
    }
}

impl TrafficRouting {
    /// A predefined name (`CodeDeployDefault.LambdaCanary10Percent5Minutes`, the prefix
    /// optional), or a custom one: `all-at-once`, `canary:PERCENT%:MINUTESm`,
    /// `linear:PERCENT%:MINUTESm` (`canary:10%:1m`).
    pub fn parse(text: &str) -> Result<TrafficRouting, String> {
        let t = text.trim();
        let bare = t.strip_prefix("CodeDeployDefault.").unwrap_or(t);
        if let Some((_, r)) = PREDEFINED
            .iter()
            .find(|(name, _)| name.strip_prefix("CodeDeployDefault.") == Some(bare))
        {
            return Ok(*r);
        }
        if t == "all-at-once" {
            return Ok(TrafficRouting::AllAtOnce);
        }
        let unknown = || {
            format!(
                "unknown release strategy {text:?}: use all-at-once, canary:PERCENT%:MINUTESm, linear:PERCENT%:MINUTESm (e.g. canary:10%:1m), or one of {}",
                PREDEFINED.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )
        };
        let mut parts = t.split(':');
        let (Some(kind), Some(pct), Some(mins), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(unknown());
        };
        let percentage: u8 = pct
            .strip_suffix('%')
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| {
                format!("{text:?}: the percentage {pct:?} must be a whole number with %, e.g. 10%")
            })?;
        let interval_minutes: u32 = mins
            .strip_suffix('m')
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| {
                format!("{text:?}: the interval {mins:?} must be whole minutes with m, e.g. 5m")
            })?;
        let routing = match kind {
            "canary" => canary(percentage, interval_minutes),
            "linear" => linear(percentage, interval_minutes),
            _ => return Err(unknown()),
        };
        routing.validate().map_err(|e| format!("{text:?}: {e}"))?;
        Ok(routing)
    }

    /// Percentages in 1..=99 and intervals in 1..=2880 minutes.
    pub fn validate(&self) -> Result<(), String> {
        let (percentage, interval) = match self {
            TrafficRouting::AllAtOnce => return Ok(()),
            TrafficRouting::Canary {
                percentage,
                interval_minutes,
            }
            | TrafficRouting::Linear {
                percentage,
                interval_minutes,
            } => (*percentage, *interval_minutes),
        };
        if !(1..=99).contains(&percentage) {
            return Err(format!(
                "the percentage must be 1 to 99, not {percentage} (100 % at once is all-at-once)"
            ));
        }
        if !(1..=MAX_INTERVAL_MINUTES).contains(&interval) {
            return Err(format!(
                "the interval must be 1 to {MAX_INTERVAL_MINUTES} minutes, not {interval}"
            ));
        }
        Ok(())
    }

    /// The weights of the new version over time: `(offset from the start, weight)`, the first at
    /// offset zero and the last at weight 1.0 (the new version takes all traffic). `minute` is
    /// how long a minute of the configuration lasts (a real minute on AWS; the lab may run a
    /// release faster and says so).
    pub fn schedule(&self, minute: Duration) -> Vec<(Duration, f64)> {
        match *self {
            TrafficRouting::AllAtOnce => vec![(Duration::ZERO, 1.0)],
            TrafficRouting::Canary {
                percentage,
                interval_minutes,
            } => vec![
                (Duration::ZERO, f64::from(percentage) / 100.0),
                (minute * interval_minutes, 1.0),
            ],
            TrafficRouting::Linear {
                percentage,
                interval_minutes,
            } => {
                let mut steps = Vec::new();
                let mut shifted = 0u32;
                let mut at = Duration::ZERO;
                while shifted < 100 {
                    shifted = (shifted + u32::from(percentage)).min(100);
                    steps.push((at, f64::from(shifted) / 100.0));
                    at += minute * interval_minutes;
                }
                steps
            }
        }
    }

    /// How long the whole shift takes.
    pub fn duration(&self, minute: Duration) -> Duration {
        self.schedule(minute).last().map_or(Duration::ZERO, |(at, _)| *at)
    }
}

/// Written as its text (`canary:10%:1m`, a predefined name) in the stage file.
impl serde::Serialize for TrafficRouting {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TrafficRouting {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        TrafficRouting::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The stage file's `release` block: how a release of any of the stage's functions shifts
/// traffic. Absent: all at once, as CodeDeploy's default configuration for Lambda.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSettings {
    pub strategy: TrafficRouting,
}

impl Default for ReleaseSettings {
    fn default() -> Self {
        ReleaseSettings {
            strategy: TrafficRouting::AllAtOnce,
        }
    }
}

/// The alias every function's API integration invokes and every release moves.
pub const LIVE_ALIAS: &str = "live";

#[cfg(test)]
mod tests {
    use super::*;

    const M: Duration = Duration::from_secs(60);

    #[test]
    fn predefined_names_with_or_without_the_prefix() {
        assert_eq!(
            TrafficRouting::parse("CodeDeployDefault.LambdaCanary10Percent5Minutes").unwrap(),
            canary(10, 5)
        );
        assert_eq!(
            TrafficRouting::parse("LambdaLinear10PercentEvery1Minute").unwrap(),
            linear(10, 1)
        );
        assert_eq!(
            TrafficRouting::parse("CodeDeployDefault.LambdaAllAtOnce").unwrap(),
            TrafficRouting::AllAtOnce
        );
        for (name, routing) in PREDEFINED {
            assert_eq!(TrafficRouting::parse(name).unwrap(), routing, "{name}");
            routing.validate().unwrap();
        }
    }

    #[test]
    fn custom_strategies_round_trip_through_their_text() {
        for text in ["all-at-once", "canary:10%:1m", "linear:25%:2m"] {
            let r = TrafficRouting::parse(text).unwrap();
            assert_eq!(r.to_string(), text);
        }
    }

    #[test]
    fn bad_strategies_name_the_problem() {
        let e = TrafficRouting::parse("blue-green").unwrap_err();
        assert!(
            e.contains("unknown release strategy \"blue-green\"") && e.contains("LambdaAllAtOnce"),
            "{e}"
        );
        let e = TrafficRouting::parse("canary:0%:1m").unwrap_err();
        assert!(e.contains("1 to 99, not 0"), "{e}");
        let e = TrafficRouting::parse("canary:100%:1m").unwrap_err();
        assert!(e.contains("all-at-once"), "{e}");
        let e = TrafficRouting::parse("linear:10%:0m").unwrap_err();
        assert!(e.contains("1 to 2880 minutes, not 0"), "{e}");
        let e = TrafficRouting::parse("canary:ten%:1m").unwrap_err();
        assert!(e.contains("whole number with %"), "{e}");
        let e = TrafficRouting::parse("canary:10%:1h").unwrap_err();
        assert!(e.contains("whole minutes with m"), "{e}");
    }

    #[test]
    fn schedules_follow_codedeploy() {
        assert_eq!(TrafficRouting::AllAtOnce.schedule(M), vec![(Duration::ZERO, 1.0)]);
        assert_eq!(
            canary(10, 5).schedule(M),
            vec![(Duration::ZERO, 0.1), (M * 5, 1.0)]
        );
        let l = linear(30, 2).schedule(M);
        assert_eq!(
            l,
            vec![(Duration::ZERO, 0.3), (M * 2, 0.6), (M * 4, 0.9), (M * 6, 1.0)]
        );
        assert_eq!(linear(10, 1).schedule(M).len(), 10);
        assert_eq!(linear(10, 1).duration(M), M * 9);
        // A faster minute scales the whole schedule.
        assert_eq!(
            canary(10, 1).duration(Duration::from_secs(6)),
            Duration::from_secs(6)
        );
    }
}
