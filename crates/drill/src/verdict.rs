//! The verdict of a scenario: each alarm of the stage judged against the hypothesis, from the
//! alarms' histories alone, and the budgets that MTTD and MTTR are held to.
//!
//! Budgets come from the alarm's maths. CloudWatch evaluates whole periods aligned to the clock,
//! so in the worst case a fault starts just after a period began: M whole periods must breach
//! (one more when the threshold needs several failures, which the partial first period may not
//! hold), then the evaluation runs, then the metric delay passes (`MetricDelays::alarm_lag`: the
//! delay rounded up to the alarm's evaluation cadence, since a period not wholly visible at one
//! evaluation is judged at the next). Clearing needs the N periods of the evaluation range to
//! roll past the last failure, and the period the fix lands in may still breach: N + 1 periods,
//! plus the same lag. Both get 10 s of slack for the lab's tick and the drill's polling. With the
//! dev stage's 10 s `fast-errors` alarm (1 of 1) and the lab's 5 s EMF delay (a lag of 10 s)
//! that is MTTD <= 10 + 10 + 10 = 30 s and MTTR <= 20 + 10 + 10 = 40 s; the one-minute alarms
//! on AWS/Lambda data, published as each minute closes, get no lag.

use std::collections::BTreeMap;
use std::time::Duration;

use incident_report::catalogue::{Cell, Verdict};
use outage_config::{AlarmDefinition, AlarmState, Statistic};
use time::OffsetDateTime;

/// Slack on every budget: the lab's alarm tick (up to a second after the aligned instant), the
/// drill's polling, and a request in flight at a period boundary.
pub const BUDGET_SLACK: Duration = Duration::from_secs(10);

/// The longest the alarm may take to fire after the fault starts. The period the fault starts
/// in is covered only in part: an alarm whose threshold is one failure fires on it, but one that
/// needs several (the API's 5xx count) may have to wait for the next whole period.
pub fn detection_budget(alarm: &AlarmDefinition, metric_delay: Duration) -> Duration {
    let partial = u64::from(alarm.threshold > 1.0 && alarm.statistic == Statistic::Sum);
    Duration::from_secs(u64::from(alarm.period_s) * (u64::from(alarm.datapoints_to_alarm) + partial))
        + metric_delay
        + BUDGET_SLACK
}

/// The longest the alarm may take to clear after the fix.
pub fn recovery_budget(alarm: &AlarmDefinition, metric_delay: Duration) -> Duration {
    Duration::from_secs(u64::from(alarm.period_s) * (u64::from(alarm.evaluation_periods) + 1))
        + metric_delay
        + BUDGET_SLACK
}

/// The longest the alarm may take to clear after the fix when its metric gets no more data
/// (nothing invokes the function any more): CloudWatch then evaluates the newest datapoints of
/// the whole evaluation range, N + 2 periods (`../shared/aws-semantics`, the lab's evaluator),
/// so the last breaching period is seen until it rolls out of that range.
pub fn recovery_budget_without_data(alarm: &AlarmDefinition, metric_delay: Duration) -> Duration {
    Duration::from_secs(u64::from(alarm.period_s) * (u64::from(alarm.evaluation_periods) + 3))
        + metric_delay
        + BUDGET_SLACK
}

/// How long after its newest breaching period closed the alarm went to ALARM, from the first
/// ALARM transition at or after `since`: its state reason lists the breaching datapoints, newest
/// first, each with its period start (`[5.0 (02/12/26 03:30:00), ...]`, UTC). That lag is the
/// metric's delay plus CloudWatch's evaluation, measured on the target itself: in the lab it
/// shows the modelled delay at work; on AWS it is the figure AWS does not document.
pub fn observed_alarm_lag(history: &[Transition], period_s: u32, since: OffsetDateTime) -> Option<f64> {
    let fired = history
        .iter()
        .find(|t| t.state == AlarmState::Alarm && t.at >= since)?;
    let newest = fired
        .reason
        .split('[')
        .nth(1)?
        .split('(')
        .nth(1)?
        .split(')')
        .next()?;
    // dd/MM/yy HH:mm:ss; the time crate cannot parse a two-digit year, so by hand.
    let n: Vec<u8> = newest
        .split(['/', ' ', ':'])
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let [day, month, year, hour, minute, second] = n[..] else {
        return None;
    };
    let date =
        time::Date::from_calendar_date(2000 + i32::from(year), time::Month::try_from(month).ok()?, day)
            .ok()?;
    let start = date.with_hms(hour, minute, second).ok()?.assume_utc();
    let closed = start + time::Duration::seconds(i64::from(period_s));
    Some((fired.at - closed).as_seconds_f64())
}

/// One state change of an alarm (DescribeAlarmHistory's StateUpdate items).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub at: OffsetDateTime,
    /// The state left, when the history says (`HistoryData.oldState`).
    pub from: Option<AlarmState>,
    pub state: AlarmState,
    /// Why (`newState.stateReason`): the datapoints that crossed the threshold.
    pub reason: String,
}

impl Transition {
    /// A change to `state` at `at`, with nothing more known.
    pub fn to(at: OffsetDateTime, state: AlarmState) -> Transition {
        Transition {
            at,
            from: None,
            state,
            reason: String::new(),
        }
    }
}

/// An alarm the hypothesis says must fire.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub alarm: String,
    pub detect_within: Duration,
    pub recover_within: Duration,
}

/// The instants the verdict is judged against.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Window {
    /// The fault (or change, or surge) applied.
    pub injected_at: OffsetDateTime,
    /// The fix applied, or the fault expired on its own; `None` when the run stopped before.
    pub fixed_at: Option<OffsetDateTime>,
    /// The end of observation: nothing after it is judged.
    pub end: OffsetDateTime,
}

/// What the alarms said about the hypothesis.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Judgement {
    pub cells: BTreeMap<String, Cell>,
    /// MTTD and MTTR of the primary (first expected) alarm, in seconds.
    pub mttd_s: Option<f64>,
    pub mttr_s: Option<f64>,
    /// One line per broken claim; empty when the hypothesis held.
    pub problems: Vec<String>,
}

fn secs(from: OffsetDateTime, to: OffsetDateTime) -> f64 {
    (to - from).as_seconds_f64()
}

/// The first change to `state` at or after `from` and at or before `until`.
fn first(
    history: &[Transition],
    state: AlarmState,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Option<OffsetDateTime> {
    history
        .iter()
        .filter(|t| t.state == state && t.at >= from && t.at <= until)
        .map(|t| t.at)
        .min()
}

/// Judges every alarm in `judged` (the stage's alarms less those not judged). An expected alarm
/// is `fired` when it went to ALARM after the injection (late is still `fired`, with a problem
/// naming the budget), `silent` otherwise; any other alarm that went to ALARM after the
/// injection is a `false-alarm`, and `quiet` otherwise. Histories are oldest first or in any
/// order; alarms missing from `histories` never changed state.
pub fn judge(
    judged: &[String],
    expected: &[Expected],
    histories: &BTreeMap<String, Vec<Transition>>,
    window: Window,
) -> Judgement {
    let mut out = Judgement::default();
    let none = Vec::new();
    for alarm in judged {
        let history = histories.get(alarm).unwrap_or(&none);
        let fired_at = first(history, AlarmState::Alarm, window.injected_at, window.end);
        let cell = match expected.iter().find(|e| &e.alarm == alarm) {
            Some(e) => {
                let budget = e.detect_within.as_secs_f64();
                let cleared_at = fired_at.and_then(|f| first(history, AlarmState::Ok, f, window.end));
                match fired_at {
                    None => out.problems.push(format!(
                        "{alarm} was expected to fire within {budget:.0} s and stayed silent"
                    )),
                    Some(f) if secs(window.injected_at, f) > budget => out.problems.push(format!(
                        "{alarm} fired {:.1} s after the injection, over its {budget:.0} s budget",
                        secs(window.injected_at, f)
                    )),
                    Some(_) => {}
                }
                if let (Some(_), Some(fix)) = (fired_at, window.fixed_at) {
                    let limit = e.recover_within.as_secs_f64();
                    match cleared_at {
                        None => out.problems.push(format!(
                            "{alarm} did not return to OK within {limit:.0} s of the fix"
                        )),
                        Some(ok) if secs(fix, ok) > limit => out.problems.push(format!(
                            "{alarm} returned to OK {:.1} s after the fix, over its {limit:.0} s budget",
                            secs(fix, ok)
                        )),
                        Some(_) => {}
                    }
                }
                Cell {
                    verdict: if fired_at.is_some() {
                        Verdict::Fired
                    } else {
                        Verdict::Silent
                    },
                    fired_after_s: fired_at.map(|f| secs(window.injected_at, f)),
                    cleared_after_s: cleared_at.map(|ok| secs(window.injected_at, ok)),
                    budget_s: Some(budget),
                }
            }
            None => {
                if let Some(f) = fired_at {
                    out.problems.push(format!(
                        "false alarm: {alarm} went to ALARM {:.1} s after the injection, and the hypothesis says it stays quiet",
                        secs(window.injected_at, f)
                    ));
                }
                Cell {
                    verdict: if fired_at.is_some() {
                        Verdict::FalseAlarm
                    } else {
                        Verdict::Quiet
                    },
                    fired_after_s: fired_at.map(|f| secs(window.injected_at, f)),
                    cleared_after_s: None,
                    budget_s: None,
                }
            }
        };
        out.cells.insert(alarm.clone(), cell);
    }
    if let Some(primary) = expected.first() {
        let cell = out.cells.get(&primary.alarm);
        out.mttd_s = cell.and_then(|c| c.fired_after_s);
        out.mttr_s = match (cell.and_then(|c| c.cleared_after_s), window.fixed_at) {
            (Some(cleared), Some(fix)) => Some(cleared - secs(window.injected_at, fix)),
            _ => None,
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use outage_config::{AlarmKind, Stage};
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-12-01 10:00:00 UTC);

    fn at(s: i64) -> OffsetDateTime {
        T0 + time::Duration::seconds(s)
    }

    fn dev() -> Stage {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Stage::load_named(&root, "dev").unwrap()
    }

    fn alarm(stage: &Stage, key: &str, kind: AlarmKind) -> AlarmDefinition {
        let name = stage.function_alarm_name(key, kind);
        stage
            .alarm_definitions("")
            .into_iter()
            .find(|a| a.name == name)
            .unwrap()
    }

    #[test]
    fn the_observed_lag_is_read_from_the_reason_of_the_first_alarm() {
        let reason = |s: &str| Transition {
            at: datetime!(2026-12-02 03:30:31.5 UTC),
            from: Some(AlarmState::Ok),
            state: AlarmState::Alarm,
            reason: s.into(),
        };
        let history = [reason(
            "Threshold Crossed: 2 datapoints [3.0 (02/12/26 03:30:00), 5.0 (02/12/26 03:29:40)] were greater than or equal to the threshold (1.0).",
        )];
        // The newest breaching period, 03:30:00 to 03:30:20, judged 11.5 s after it closed.
        assert_eq!(observed_alarm_lag(&history, 20, T0), Some(11.5));
        assert_eq!(
            observed_alarm_lag(&history, 20, datetime!(2026-12-02 04:00 UTC)),
            None,
            "before `since` only"
        );
        let vague = [reason(
            "Threshold Crossed: no datapoints were received for 1 period",
        )];
        assert_eq!(observed_alarm_lag(&vague, 20, T0), None);
    }

    #[test]
    fn budgets_of_the_dev_alarms() {
        let stage = dev();
        let fast = alarm(&stage, "payment-fixed", AlarmKind::FastErrors);
        // 20 s, 1 of 1.
        assert_eq!(detection_budget(&fast, Duration::ZERO), Duration::from_secs(30));
        assert_eq!(recovery_budget(&fast, Duration::ZERO), Duration::from_secs(50));
        assert_eq!(
            recovery_budget_without_data(&fast, Duration::ZERO),
            Duration::from_secs(90),
            "the whole evaluation range, 1 + 2 periods, must roll past"
        );
        // The lab's 5 s EMF delay lags the alarm by one 10 s evaluation.
        let lag = outage_config::MetricDelays::default().alarm_lag(&fast);
        assert_eq!(detection_budget(&fast, lag), Duration::from_secs(40));
        assert_eq!(recovery_budget(&fast, lag), Duration::from_secs(60));
        let p99 = alarm(&stage, "payment-fixed", AlarmKind::DurationP99);
        // 2 of 3 one-minute periods.
        assert_eq!(detection_budget(&p99, Duration::ZERO), Duration::from_secs(130));
        assert_eq!(recovery_budget(&p99, Duration::ZERO), Duration::from_secs(250));
        let api = stage
            .alarm_definitions("")
            .into_iter()
            .find(|a| a.name == "dev-api-5xx")
            .unwrap();
        assert_eq!(
            detection_budget(&api, Duration::ZERO),
            Duration::from_secs(130),
            "5 failures may not fit in the minute the fault starts in"
        );
        let errors = alarm(&stage, "payment-fixed", AlarmKind::Errors);
        assert_eq!(
            detection_budget(&errors, Duration::from_secs(60)),
            Duration::from_secs(130),
            "a modelled delay adds to the budget"
        );
    }

    fn expected(alarm: &str, detect: u64, recover: u64) -> Expected {
        Expected {
            alarm: alarm.into(),
            detect_within: Duration::from_secs(detect),
            recover_within: Duration::from_secs(recover),
        }
    }

    fn history(items: &[(i64, AlarmState)]) -> Vec<Transition> {
        items
            .iter()
            .map(|&(s, state)| Transition::to(at(s), state))
            .collect()
    }

    fn window(fix: Option<i64>, end: i64) -> Window {
        Window {
            injected_at: at(0),
            fixed_at: fix.map(at),
            end: at(end),
        }
    }

    #[test]
    fn a_hypothesis_that_holds() {
        let judged = vec!["fast".to_string(), "errors".to_string(), "other".to_string()];
        let histories = BTreeMap::from([
            (
                "fast".to_string(),
                history(&[
                    (-30, AlarmState::Ok),
                    (9, AlarmState::Alarm),
                    (31, AlarmState::Ok),
                ]),
            ),
            (
                "errors".to_string(),
                history(&[(55, AlarmState::Alarm), (115, AlarmState::Ok)]),
            ),
        ]);
        let j = judge(
            &judged,
            &[expected("fast", 20, 30), expected("errors", 70, 130)],
            &histories,
            window(Some(10), 120),
        );
        assert!(j.problems.is_empty(), "{:?}", j.problems);
        assert_eq!(j.cells["fast"].verdict, Verdict::Fired);
        assert_eq!(j.cells["fast"].fired_after_s, Some(9.0));
        assert_eq!(j.cells["errors"].cleared_after_s, Some(115.0));
        assert_eq!(j.cells["other"].verdict, Verdict::Quiet);
        assert_eq!((j.mttd_s, j.mttr_s), (Some(9.0), Some(21.0)));
    }

    #[test]
    fn silent_late_and_false_alarms_are_problems() {
        let judged = vec![
            "fast".to_string(),
            "slow".to_string(),
            "noisy".to_string(),
            "stuck".to_string(),
        ];
        let histories = BTreeMap::from([
            (
                "slow".to_string(),
                history(&[(45, AlarmState::Alarm), (60, AlarmState::Ok)]),
            ),
            // Fired before the injection and cleared: not this scenario's doing.
            (
                "noisy".to_string(),
                history(&[
                    (-20, AlarmState::Alarm),
                    (-5, AlarmState::Ok),
                    (30, AlarmState::Alarm),
                ]),
            ),
            ("stuck".to_string(), history(&[(8, AlarmState::Alarm)])),
        ]);
        let j = judge(
            &judged,
            &[
                expected("fast", 20, 30),
                expected("slow", 20, 30),
                expected("stuck", 20, 30),
            ],
            &histories,
            window(Some(10), 90),
        );
        assert_eq!(j.cells["fast"].verdict, Verdict::Silent);
        assert_eq!(
            j.cells["slow"].verdict,
            Verdict::Fired,
            "late is still fired, with a problem"
        );
        assert_eq!(j.cells["noisy"].verdict, Verdict::FalseAlarm);
        assert_eq!(j.cells["noisy"].fired_after_s, Some(30.0));
        let text = j.problems.join("\n");
        assert!(
            text.contains("fast was expected to fire within 20 s and stayed silent"),
            "{text}"
        );
        assert!(
            text.contains("slow fired 45.0 s after the injection, over its 20 s budget"),
            "{text}"
        );
        assert!(
            text.contains("stuck did not return to OK within 30 s of the fix"),
            "{text}"
        );
        assert!(text.contains("false alarm: noisy"), "{text}");
        assert_eq!((j.mttd_s, j.mttr_s), (None, None));
    }

    #[test]
    fn nothing_after_the_window_counts() {
        let judged = vec!["late".to_string()];
        let histories = BTreeMap::from([("late".to_string(), history(&[(100, AlarmState::Alarm)]))]);
        let j = judge(&judged, &[], &histories, window(Some(10), 90));
        assert_eq!(j.cells["late"].verdict, Verdict::Quiet);
        assert!(j.problems.is_empty());
    }
}
