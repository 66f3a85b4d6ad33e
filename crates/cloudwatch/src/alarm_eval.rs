//! `outage-lab alarm-eval`: the evaluator over JSON cases (contract in ARCHITECTURE.md).
//!
//! Input: one case object or an array of them:
//! `{"id"?, "period", "evaluation_periods", "datapoints_to_alarm", "threshold",
//!   "comparison_operator", "treat_missing_data", "datapoints": [oldest..newest, null = missing],
//!   "initial_state"?, "newest_period_start"?}`.
//! `datapoints` is the whole evaluation range. `initial_state` (default INSUFFICIENT_DATA, a new
//! alarm) is the state before the evaluation. `newest_period_start` (RFC 3339) dates the
//! datapoints for the reason text; by default the newest datapoint is the last complete period
//! before now. Other fields are ignored, so a table of cases with expectations can be fed as is.
//! Output: one JSON line `{"id","state","reason"}` per case, in input order.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use outage_config::TreatMissingData;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::alarms::{evaluate, period_starts, AlarmState, EvalSpec};

/// The longest evaluation range accepted (one day of 10 s periods, plus the range margin).
const MAX_DATAPOINTS: usize = 8_642;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlarmEvalError {
    #[error("input is not JSON: {0}")]
    Json(String),
    #[error("input must be a case object or an array of case objects, not {0}")]
    Shape(&'static str),
    #[error("case {case}: field `{field}`: {message}")]
    Case {
        case: String,
        field: String,
        message: String,
    },
}

/// One JSON line `{"id","state","reason"}` per case; the newest period of a case without
/// `newest_period_start` is the last complete period before now.
pub fn run_alarm_eval(input: &str) -> Result<Vec<String>, AlarmEvalError> {
    run_alarm_eval_at(input, SystemTime::now())
}

/// As [`run_alarm_eval`], with "now" given (deterministic output for tests).
pub fn run_alarm_eval_at(input: &str, now: SystemTime) -> Result<Vec<String>, AlarmEvalError> {
    let value: Value = serde_json::from_str(input).map_err(|e| AlarmEvalError::Json(e.to_string()))?;
    let cases = match value {
        Value::Array(cases) => cases,
        Value::Object(_) => vec![value],
        other => return Err(AlarmEvalError::Shape(json_kind(&other))),
    };
    cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            let label = case_label(case, i);
            let case = Case::parse(case, &label, now)?;
            let eval = evaluate(&case.spec, &case.datapoints, &case.starts, case.initial_state);
            Ok(json!({ "id": case.id, "state": eval.state, "reason": eval.reason }).to_string())
        })
        .collect()
}

/// A parsed case.
struct Case {
    id: Value,
    spec: EvalSpec,
    datapoints: Vec<Option<f64>>,
    starts: Vec<SystemTime>,
    initial_state: AlarmState,
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `"doc-t1-r1-missing"` or `#3` (1-based position) when the case has no usable id.
fn case_label(case: &Value, index: usize) -> String {
    match case.get("id") {
        Some(Value::String(s)) => format!("{s:?}"),
        Some(Value::Number(n)) => n.to_string(),
        _ => format!("#{}", index + 1),
    }
}

impl Case {
    fn parse(v: &Value, label: &str, now: SystemTime) -> Result<Case, AlarmEvalError> {
        let err = |field: &str, message: String| AlarmEvalError::Case {
            case: label.to_owned(),
            field: field.to_owned(),
            message,
        };
        let Value::Object(obj) = v else {
            return Err(err(
                "(case)",
                format!("a case must be an object, not {}", json_kind(v)),
            ));
        };
        let required = |field: &str| {
            obj.get(field)
                .filter(|v| !v.is_null())
                .ok_or_else(|| err(field, "is required".into()))
        };
        let uint = |field: &str| -> Result<u32, AlarmEvalError> {
            let v = required(field)?;
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| err(field, format!("{v} is not a whole number from 0 to {}", u32::MAX)))
        };
        let text = |field: &str| -> Result<&str, AlarmEvalError> {
            let v = required(field)?;
            v.as_str()
                .ok_or_else(|| err(field, format!("{v} is not a string")))
        };

        let id = match obj.get("id") {
            None | Some(Value::Null) => Value::Null,
            Some(v @ (Value::String(_) | Value::Number(_))) => v.clone(),
            Some(v) => return Err(err("id", format!("{v} is not a string or a number"))),
        };
        let period = uint("period")?;
        let evaluation_periods = uint("evaluation_periods")?;
        let datapoints_to_alarm = uint("datapoints_to_alarm")?;
        let threshold_value = required("threshold")?;
        let threshold = threshold_value
            .as_f64()
            .ok_or_else(|| err("threshold", format!("{threshold_value} is not a number")))?;
        let operator = text("comparison_operator")?;
        let tmd_text = text("treat_missing_data")?;
        let treat_missing_data = match tmd_text {
            "missing" => TreatMissingData::Missing,
            "notBreaching" => TreatMissingData::NotBreaching,
            "breaching" => TreatMissingData::Breaching,
            "ignore" => TreatMissingData::Ignore,
            other => {
                return Err(err(
                    "treat_missing_data",
                    format!("{other:?} is not one of missing, notBreaching, breaching, ignore"),
                ))
            }
        };
        let spec = EvalSpec::new(
            label,
            period,
            evaluation_periods,
            datapoints_to_alarm,
            threshold,
            operator,
            treat_missing_data,
        )
        .map_err(|e| err(e.field, e.message))?;

        let Value::Array(raw) = required("datapoints")? else {
            return Err(err(
                "datapoints",
                "must be an array of numbers and nulls, oldest first".into(),
            ));
        };
        if raw.is_empty() || raw.len() > MAX_DATAPOINTS {
            return Err(err(
                "datapoints",
                format!("must hold 1 to {MAX_DATAPOINTS} entries, not {}", raw.len()),
            ));
        }
        let datapoints = raw
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Null => Ok(None),
                v => v.as_f64().map(Some).ok_or_else(|| {
                    err(
                        &format!("datapoints[{i}]"),
                        format!("{v} is not a number or null"),
                    )
                }),
            })
            .collect::<Result<Vec<_>, _>>()?;

        let initial_state = match obj.get("initial_state") {
            None | Some(Value::Null) => AlarmState::InsufficientData,
            Some(Value::String(s)) => AlarmState::parse(s).ok_or_else(|| {
                err(
                    "initial_state",
                    format!("{s:?} is not one of OK, ALARM, INSUFFICIENT_DATA"),
                )
            })?,
            Some(v) => return Err(err("initial_state", format!("{v} is not a string"))),
        };

        let newest_start = match obj.get("newest_period_start") {
            None | Some(Value::Null) => last_complete_period_start(now, period),
            Some(Value::String(s)) => {
                OffsetDateTime::parse(s, &Rfc3339)
                    .map(SystemTime::from)
                    .map_err(|e| {
                        err(
                            "newest_period_start",
                            format!("{s:?} is not an RFC 3339 time: {e}"),
                        )
                    })?
            }
            Some(v) => return Err(err("newest_period_start", format!("{v} is not a string"))),
        };
        let starts = period_starts(newest_start, period, datapoints.len());
        Ok(Case {
            id,
            spec,
            datapoints,
            starts,
            initial_state,
        })
    }
}

/// The start of the last period that ended at or before `now` (periods aligned to the epoch).
fn last_complete_period_start(now: SystemTime, period_s: u32) -> SystemTime {
    let secs = now.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let period = u64::from(period_s.max(1));
    let end = secs / period * period;
    UNIX_EPOCH + Duration::from_secs(end.saturating_sub(period))
}
