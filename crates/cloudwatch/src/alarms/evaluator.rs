//! The pure CloudWatch evaluation rules (CloudWatch User Guide, "Configuring how CloudWatch
//! alarms treat missing data"), applied to one evaluation range:
//!
//! 1. At least N real datapoints in the range: the newest N real ones are evaluated (M of N,
//!    not necessarily consecutive); TreatMissingData plays no part.
//! 2. Fewer than N (k real): the N - k gaps are filled, as few fills as possible:
//!    - `breaching` / `notBreaching`: each fill counts as breaching / not breaching.
//!    - `missing`: no real datapoint at all gives INSUFFICIENT_DATA. Otherwise ALARM when M of
//!      the real datapoints breach, or by the early-ALARM rule (below); else OK.
//!    - `ignore`: no real datapoint keeps the current state; M breaching real datapoints give
//!      ALARM; where `missing` would need the early-ALARM rule the state is kept; else OK.
//! 3. Early ALARM (`missing`): every real datapoint in the range breaches and the oldest of
//!    them is at least M periods old (the newest period is 1 period old). The documentation
//!    states the rule as "the oldest breaching datapoint is at least as old as M and every more
//!    recent one is breaching or missing"; its own table (2 of 3, `0 - X - -` -> OK) shows that
//!    an older non-breaching real datapoint in the range also prevents it, which is what this
//!    implementation follows, and it reproduces every row of the table.

use std::time::{SystemTime, UNIX_EPOCH};

use outage_config::TreatMissingData;
use serde_json::json;

use super::{AlarmState, EvalSpec, Evaluation};
use crate::reason::{self, Crossing, FillKind};

/// Evaluates one alarm over its whole evaluation range (`datapoints`, oldest first, `None` =
/// missing; `period_starts[i]` is the start of `datapoints[i]`; a missing start prints as the
/// epoch), given the state before. Never panics; a spec with M > N is treated as M = N.
pub fn evaluate(
    spec: &EvalSpec,
    datapoints: &[Option<f64>],
    period_starts: &[SystemTime],
    current: AlarmState,
) -> Evaluation {
    let n = usize::try_from(spec.evaluation_periods)
        .unwrap_or(usize::MAX)
        .max(1);
    let m = usize::try_from(spec.datapoints_to_alarm)
        .unwrap_or(usize::MAX)
        .clamp(1, n);
    let len = datapoints.len();
    let start_of = |i: usize| period_starts.get(i).copied().unwrap_or(UNIX_EPOCH);
    let breaches = |v: f64| spec.comparison_operator.breaches(v, spec.threshold);

    // Real datapoints, oldest first: (index in the range, value).
    let real: Vec<(usize, f64)> = datapoints
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let evaluated: &[(usize, f64)] = if real.len() >= n {
        &real[real.len() - n..]
    } else {
        &real
    };
    let k = evaluated.len();
    let breaching_real = evaluated.iter().filter(|(_, v)| breaches(*v)).count();
    let fills = n - k;

    let early_alarm =
        || k > 0 && breaching_real == k && evaluated.first().is_some_and(|&(i, _)| len - i >= m);
    let tmd = spec.treat_missing_data;

    // Decide the state, and how fills are described.
    let (state, fill_kind) = if fills == 0 {
        (
            if breaching_real >= m {
                AlarmState::Alarm
            } else {
                AlarmState::Ok
            },
            None,
        )
    } else {
        match tmd {
            TreatMissingData::Breaching => (
                if breaching_real + fills >= m {
                    AlarmState::Alarm
                } else {
                    AlarmState::Ok
                },
                Some(FillKind::Breaching),
            ),
            TreatMissingData::NotBreaching => (
                if breaching_real >= m {
                    AlarmState::Alarm
                } else {
                    AlarmState::Ok
                },
                Some(FillKind::NonBreaching),
            ),
            TreatMissingData::Missing => {
                if k == 0 {
                    return Evaluation {
                        state: AlarmState::InsufficientData,
                        reason: reason::insufficient_data(n),
                        reason_data: Some(reason_data(spec, evaluated, datapoints, &start_of, fills)),
                        retained: false,
                    };
                }
                (
                    if breaching_real >= m || early_alarm() {
                        AlarmState::Alarm
                    } else {
                        AlarmState::Ok
                    },
                    None,
                )
            }
            TreatMissingData::Ignore => {
                if k == 0 || (breaching_real < m && early_alarm()) {
                    return Evaluation {
                        state: current,
                        reason: retained_reason(k, n, current),
                        reason_data: None,
                        retained: true,
                    };
                }
                (
                    if breaching_real >= m {
                        AlarmState::Alarm
                    } else {
                        AlarmState::Ok
                    },
                    None,
                )
            }
        }
    };

    let alarm = state == AlarmState::Alarm;
    // The datapoints that decided the state, newest first.
    let listed: Vec<(f64, SystemTime)> = evaluated
        .iter()
        .rev()
        .filter(|(_, v)| breaches(*v) == alarm)
        .map(|&(i, v)| (v, start_of(i)))
        .collect();
    let reason = reason::threshold_crossed(&Crossing {
        alarm,
        n,
        m,
        listed: &listed,
        received: k,
        fills: fill_kind.map(|kind| (fills, kind)),
        phrase: spec.comparison_operator.phrase(),
        threshold: spec.threshold,
    });
    Evaluation {
        state,
        reason,
        reason_data: Some(reason_data(spec, evaluated, datapoints, &start_of, fills)),
        retained: false,
    }
}

fn retained_reason(k: usize, n: usize, current: AlarmState) -> String {
    let received = if k == 0 {
        "no datapoints were received".to_owned()
    } else {
        format!("only {k} of {n} datapoints were received")
    };
    format!("Unchanged: {received} for the last {n} periods and missing data is ignored (TreatMissingData: ignore), so the alarm stays {current}.")
}

/// StateReasonData as CloudWatch writes it: the evaluated datapoints newest first, gaps that
/// were filled shown by their timestamp alone (the newest gaps are the ones filled).
fn reason_data(
    spec: &EvalSpec,
    evaluated: &[(usize, f64)],
    datapoints: &[Option<f64>],
    start_of: &dyn Fn(usize) -> SystemTime,
    fills: usize,
) -> serde_json::Value {
    let mut periods: Vec<(usize, Option<f64>)> = evaluated.iter().map(|&(i, v)| (i, Some(v))).collect();
    let gaps = datapoints
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, v)| v.is_none())
        .take(fills)
        .map(|(i, _)| (i, None));
    periods.extend(gaps);
    periods.sort_by_key(|p| std::cmp::Reverse(p.0));
    let evaluated_json: Vec<serde_json::Value> = periods
        .iter()
        .map(|&(i, v)| match v {
            Some(v) => json!({ "timestamp": reason::data_time(start_of(i)), "value": v }),
            None => json!({ "timestamp": reason::data_time(start_of(i)) }),
        })
        .collect();
    let oldest = periods.last().map(|&(i, _)| reason::data_time(start_of(i)));
    json!({
        "version": "1.0",
        "startDate": oldest,
        "period": spec.period_s,
        "recentDatapoints": evaluated.iter().map(|&(_, v)| v).collect::<Vec<_>>(),
        "threshold": spec.threshold,
        "evaluatedDatapoints": evaluated_json,
    })
}
