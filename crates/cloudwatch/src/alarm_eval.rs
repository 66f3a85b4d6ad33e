//! `outage-lab alarm-eval`: the evaluator over JSON cases (contract in ARCHITECTURE.md).

use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AlarmEvalError {
    #[error("input is not JSON: {0}")]
    Json(String),
    #[error("case {case}: field `{field}`: {message}")]
    Case { case: String, field: String, message: String },
}

/// One JSON line `{"id","state","reason"}` per case; the newest period of a case without
/// `newest_period_start` is the last complete period before now.
pub fn run_alarm_eval(input: &str) -> Result<Vec<String>, AlarmEvalError> {
    run_alarm_eval_at(input, SystemTime::now())
}

/// As [`run_alarm_eval`], with "now" given.
pub fn run_alarm_eval_at(input: &str, now: SystemTime) -> Result<Vec<String>, AlarmEvalError> {
    let _ = (input, now);
    todo!("alarm-eval")
}
