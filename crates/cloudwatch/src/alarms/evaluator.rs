//! The pure CloudWatch evaluation rules.

use std::time::SystemTime;

use super::{AlarmState, EvalSpec, Evaluation};

/// Evaluates one alarm over its whole evaluation range (`datapoints`, oldest first, `None` =
/// missing; `period_starts[i]` is the start of `datapoints[i]`), given the state before.
pub fn evaluate(spec: &EvalSpec, datapoints: &[Option<f64>], period_starts: &[SystemTime], current: AlarmState) -> Evaluation {
    let _ = (spec, datapoints, period_starts, current);
    todo!("evaluator")
}
