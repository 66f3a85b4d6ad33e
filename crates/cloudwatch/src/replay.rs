//! What-if for alarms: a recorded metric series replayed through the alarm engine under other
//! alarm settings and other metric delays, to see when each would have fired and cleared, and
//! whether it would have raised a false alarm. `outage-lab alarm-replay` feeds it a drill's
//! `incident.json`.
//!
//! The recording is a series of sums per bucket (the drill records 5 s buckets). Each bucket's
//! sum is stored as one sample at the bucket's start and becomes visible `delay` after the
//! bucket ends, so the alarm sees the data as late as the delay says; the engine, its cadence,
//! its evaluation range and its missing-data rules are the lab's own, unchanged.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use outage_config::{AlarmDefinition, AlarmKind, AlarmSubject, Statistic, TreatMissingData};

use crate::alarms::{AlarmEngine, AlarmState, EvalSpec};
use crate::clock::{Clock, ManualClock};
use crate::metrics::{MetricStore, Sample};

/// One alarm setting to try: period, N, M, threshold (`>=`), missing-data rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Setting {
    pub period_s: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub threshold: f64,
    pub treat_missing_data: TreatMissingData,
}

impl std::fmt::Display for Setting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} s, {} of {}, >= {}",
            self.period_s, self.datapoints_to_alarm, self.evaluation_periods, self.threshold
        )?;
        if self.treat_missing_data != TreatMissingData::NotBreaching {
            write!(f, ", {}", self.treat_missing_data.as_str())?;
        }
        Ok(())
    }
}

/// The syntax of a setting on the command line (no shell metacharacters, so it needs no quotes).
pub const SETTING_SYNTAX: &str =
    "PERIODs:MofN:THRESHOLD[:MISSING], e.g. 10s:1of1:1 or 30s:2of3:5:missing (the period in seconds, M datapoints to alarm of N evaluation periods, the alarm in ALARM at or above THRESHOLD, MISSING one of notBreaching (default), breaching, ignore, missing)";

impl FromStr for Setting {
    type Err = String;

    fn from_str(s: &str) -> Result<Setting, String> {
        let bad = |why: &str| format!("alarm setting {s:?}: {why}; expected {SETTING_SYNTAX}");
        let parts: Vec<&str> = s.split(':').collect();
        if !(3..=4).contains(&parts.len()) {
            return Err(bad("it needs three or four parts separated by ':'"));
        }
        let number = |v: &str, what: &str| {
            v.parse::<u32>()
                .map_err(|_| bad(&format!("{what} {v:?} is not a whole number")))
        };
        let period = parts[0]
            .strip_suffix('s')
            .ok_or_else(|| bad("the period must end in 's'"))?;
        let (m, n) = parts[1]
            .split_once("of")
            .ok_or_else(|| bad(&format!("{:?} is not MofN", parts[1])))?;
        let setting = Setting {
            period_s: number(period, "the period")?,
            evaluation_periods: number(n, "N")?,
            datapoints_to_alarm: number(m, "M")?,
            threshold: parts[2]
                .parse()
                .map_err(|_| bad(&format!("the threshold {:?} is not a number", parts[2])))?,
            treat_missing_data: match parts.get(3) {
                None => TreatMissingData::NotBreaching,
                Some(m) => TreatMissingData::parse(m)
                    .ok_or_else(|| bad(&format!("{m:?} is not a missing-data rule")))?,
            },
        };
        EvalSpec::new(
            "replay",
            setting.period_s,
            setting.evaluation_periods,
            setting.datapoints_to_alarm,
            setting.threshold,
            "GreaterThanOrEqualToThreshold",
            setting.treat_missing_data,
        )
        .map_err(|e| bad(&format!("{} {}", e.field, e.message)))?;
        Ok(setting)
    }
}

/// A recorded series and the instants it is judged against.
#[derive(Debug, Clone, PartialEq)]
pub struct Recording {
    /// Sums per bucket: (bucket start, sum), oldest first.
    pub points: Vec<(SystemTime, f64)>,
    pub bucket_s: u32,
    pub fault_at: SystemTime,
    /// The fix, or the fault's end; `None` when the recording stopped before.
    pub fixed_at: Option<SystemTime>,
}

/// What one setting under one delay would have done.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub setting: Setting,
    pub delay: Duration,
    /// Seconds from the fault to ALARM; `None`: it never fired (a missed incident).
    pub fired_after_s: Option<f64>,
    /// Seconds from the fix to OK after firing; `None`: still in ALARM when the replay ended.
    pub cleared_after_fix_s: Option<f64>,
    /// ALARM before the fault, or again after it had cleared (flapping).
    pub false_alarms: usize,
    /// Every change, seconds from the fault (negative before it).
    pub changes: Vec<(f64, AlarmState)>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ReplayError {
    #[error("the recording has no data points")]
    Empty,
    #[error("the {period} s period is not a whole number of the recording's {bucket} s buckets")]
    Period { period: u32, bucket: u32 },
}

fn definition(setting: &Setting) -> AlarmDefinition {
    AlarmDefinition {
        name: "replay".into(),
        kind: AlarmKind::FastErrors,
        subject: AlarmSubject::Api,
        namespace: "Replay".into(),
        metric_name: "Recorded".into(),
        dimensions: BTreeMap::new(),
        statistic: Statistic::Sum,
        period_s: setting.period_s,
        evaluation_periods: setting.evaluation_periods,
        datapoints_to_alarm: setting.datapoints_to_alarm,
        threshold: setting.threshold,
        comparison_operator: "GreaterThanOrEqualToThreshold".into(),
        treat_missing_data: setting.treat_missing_data,
        description: String::new(),
        runbook: String::new(),
        topic: String::new(),
        minus: Vec::new(),
    }
}

fn seconds_between(from: SystemTime, to: SystemTime) -> f64 {
    match to.duration_since(from) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    }
}

/// Replays `recording` through an alarm with `setting`, its data `delay` late.
pub fn replay(recording: &Recording, setting: Setting, delay: Duration) -> Result<Outcome, ReplayError> {
    let first = recording.points.first().ok_or(ReplayError::Empty)?.0;
    let last = recording.points.last().ok_or(ReplayError::Empty)?.0;
    if recording.bucket_s == 0 || !setting.period_s.is_multiple_of(recording.bucket_s) {
        return Err(ReplayError::Period {
            period: setting.period_s,
            bucket: recording.bucket_s,
        });
    }
    let bucket = Duration::from_secs(u64::from(recording.bucket_s));
    let clock = Arc::new(ManualClock::new(first));
    let store = Arc::new(MetricStore::new(clock.clone(), Duration::from_secs(24 * 3600)));
    for &(at, value) in &recording.points {
        let sample = Sample {
            namespace: "Replay".into(),
            metric_name: "Recorded".into(),
            dimensions: BTreeMap::new(),
            unit: "Count".into(),
            value,
            timestamp: at,
            resolution_s: 1,
        };
        store.put_arriving([sample], at + bucket + delay);
    }
    let engine = AlarmEngine::new(vec![definition(&setting)], store, clock.clone());
    // Long enough for the last data to arrive and leave the evaluation range.
    let range = u64::from(setting.period_s) * u64::from(setting.evaluation_periods + 3);
    let end = last + bucket + delay + Duration::from_secs(range + 60);
    let mut changes = Vec::new();
    while clock.now() < end {
        clock.advance(Duration::from_secs(1));
        for change in engine.tick() {
            changes.push((
                seconds_between(recording.fault_at, change.timestamp),
                change.new_state,
            ));
        }
    }
    let fired_after_s = changes
        .iter()
        .find(|(t, s)| *s == AlarmState::Alarm && *t >= 0.0)
        .map(|(t, _)| *t);
    let fix_offset = recording.fixed_at.map(|f| seconds_between(recording.fault_at, f));
    let cleared_at = fired_after_s.and_then(|fired| {
        changes
            .iter()
            .find(|(t, s)| *s == AlarmState::Ok && *t > fired)
            .map(|(t, _)| *t)
    });
    let cleared_after_fix_s = match (cleared_at, fix_offset) {
        (Some(c), Some(f)) => Some(c - f),
        _ => None,
    };
    let false_alarms = changes
        .iter()
        .filter(|(t, s)| *s == AlarmState::Alarm && (*t < 0.0 || cleared_at.is_some_and(|c| *t > c)))
        .count();
    Ok(Outcome {
        setting,
        delay,
        fired_after_s,
        cleared_after_fix_s,
        false_alarms,
        changes,
    })
}
