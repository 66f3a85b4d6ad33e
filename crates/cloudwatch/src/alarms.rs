//! Metric alarms: the pure evaluator ([`evaluate`]) and the engine that runs every alarm of a
//! stage on CloudWatch's cadence ([`AlarmEngine`]).

mod engine;
mod evaluator;

use std::time::SystemTime;

use outage_config::TreatMissingData;
use serde::{Deserialize, Serialize};

pub use engine::{AlarmEngine, AlarmStatus, CompositeError, CompositeStatus, HistoryItem, StateChange};
pub use evaluator::evaluate;

/// The three alarm states: the one definition in `outage-config`, shared with the drill and
/// the admin API.
pub use outage_config::AlarmState;

/// CloudWatch's four static-threshold comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ComparisonOperator {
    GreaterThanOrEqualToThreshold,
    GreaterThanThreshold,
    LessThanThreshold,
    LessThanOrEqualToThreshold,
}

impl ComparisonOperator {
    pub const ALL: [ComparisonOperator; 4] = [
        ComparisonOperator::GreaterThanOrEqualToThreshold,
        ComparisonOperator::GreaterThanThreshold,
        ComparisonOperator::LessThanThreshold,
        ComparisonOperator::LessThanOrEqualToThreshold,
    ];

    pub fn parse(s: &str) -> Option<ComparisonOperator> {
        ComparisonOperator::ALL.into_iter().find(|op| op.as_str() == s)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "GreaterThanOrEqualToThreshold",
            ComparisonOperator::GreaterThanThreshold => "GreaterThanThreshold",
            ComparisonOperator::LessThanThreshold => "LessThanThreshold",
            ComparisonOperator::LessThanOrEqualToThreshold => "LessThanOrEqualToThreshold",
        }
    }

    /// Whether `value` breaches `threshold`.
    pub fn breaches(&self, value: f64, threshold: f64) -> bool {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => value >= threshold,
            ComparisonOperator::GreaterThanThreshold => value > threshold,
            ComparisonOperator::LessThanThreshold => value < threshold,
            ComparisonOperator::LessThanOrEqualToThreshold => value <= threshold,
        }
    }

    /// The words AWS's state reasons use: "greater than or equal to".
    pub fn phrase(&self) -> &'static str {
        match self {
            ComparisonOperator::GreaterThanOrEqualToThreshold => "greater than or equal to",
            ComparisonOperator::GreaterThanThreshold => "greater than",
            ComparisonOperator::LessThanThreshold => "less than",
            ComparisonOperator::LessThanOrEqualToThreshold => "less than or equal to",
        }
    }
}

/// What the evaluator needs to know about an alarm.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSpec {
    pub period_s: u32,
    /// N.
    pub evaluation_periods: u32,
    /// M.
    pub datapoints_to_alarm: u32,
    pub threshold: f64,
    pub comparison_operator: ComparisonOperator,
    pub treat_missing_data: TreatMissingData,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("alarm {alarm}: field `{field}`: {message}")]
pub struct EvalSpecError {
    pub alarm: String,
    pub field: &'static str,
    pub message: String,
}

impl EvalSpec {
    /// Checks the settings as PutMetricAlarm does; `alarm` only labels errors.
    pub fn new(
        alarm: &str,
        period_s: u32,
        evaluation_periods: u32,
        datapoints_to_alarm: u32,
        threshold: f64,
        comparison_operator: &str,
        treat_missing_data: TreatMissingData,
    ) -> Result<EvalSpec, EvalSpecError> {
        let err = |field: &'static str, message: String| EvalSpecError {
            alarm: alarm.to_owned(),
            field,
            message,
        };
        if !(matches!(period_s, 10 | 20 | 30) || (period_s >= 60 && period_s.is_multiple_of(60))) {
            return Err(err(
                "period",
                format!("{period_s} is not an alarm period (10, 20, 30 or a multiple of 60)"),
            ));
        }
        if evaluation_periods == 0 {
            return Err(err("evaluation_periods", "must be at least 1".into()));
        }
        if u64::from(evaluation_periods) * u64::from(period_s) > 86_400 {
            return Err(err(
                "evaluation_periods",
                "evaluation_periods * period must not exceed one day (86400 s)".into(),
            ));
        }
        if datapoints_to_alarm == 0 || datapoints_to_alarm > evaluation_periods {
            return Err(err(
                "datapoints_to_alarm",
                format!("{datapoints_to_alarm} must be from 1 to evaluation_periods ({evaluation_periods})"),
            ));
        }
        if !threshold.is_finite() {
            return Err(err("threshold", format!("{threshold} is not a finite number")));
        }
        let comparison_operator = ComparisonOperator::parse(comparison_operator).ok_or_else(|| {
            err(
                "comparison_operator",
                format!(
                    "{comparison_operator:?} is not one of {}",
                    ComparisonOperator::ALL.map(|o| o.as_str()).join(", ")
                ),
            )
        })?;
        Ok(EvalSpec {
            period_s,
            evaluation_periods,
            datapoints_to_alarm,
            threshold,
            comparison_operator,
            treat_missing_data,
        })
    }

    /// The spec of a stage alarm.
    pub fn from_definition(def: &outage_config::AlarmDefinition) -> Result<EvalSpec, EvalSpecError> {
        EvalSpec::new(
            &def.name,
            def.period_s,
            def.evaluation_periods,
            def.datapoints_to_alarm,
            def.threshold,
            &def.comparison_operator,
            def.treat_missing_data,
        )
    }

    /// How many periods CloudWatch looks at: the evaluation range. The AWS documentation's
    /// table shows 5 periods for N = 3 and says only that the range is longer than N; the lab
    /// uses N + 2 for every N (so 3 periods for N = 1), which reproduces the table and lets a
    /// lone late or missing period fall back on an older real datapoint, as CloudWatch does.
    pub fn evaluation_range(&self) -> u32 {
        self.evaluation_periods.saturating_add(2)
    }
}

/// The result of one evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    pub state: AlarmState,
    pub reason: String,
    /// CloudWatch's StateReasonData equivalent: the evaluated datapoints and threshold.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_data: Option<serde_json::Value>,
    /// True when the rules say "keep the current state" (`ignore` without enough data): the
    /// alarm keeps its state and its previous reason.
    #[serde(default)]
    pub retained: bool,
}

/// The period starts of an evaluation range whose newest period starts at `newest_start`.
pub fn period_starts(newest_start: SystemTime, period_s: u32, count: usize) -> Vec<SystemTime> {
    let period = std::time::Duration::from_secs(u64::from(period_s));
    (0..count)
        .rev()
        .map(|back| {
            let back = u32::try_from(back).unwrap_or(u32::MAX);
            newest_start
                .checked_sub(period * back)
                .unwrap_or(std::time::UNIX_EPOCH)
        })
        .collect()
}
