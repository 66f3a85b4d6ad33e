//! The incident model: everything a drill observed, in the shape the renderers need.
//!
//! The drill fills an [`Incident`] as it goes (or at the end) and hands it to
//! [`crate::write_report`]. Every instant is UTC and serialised as RFC 3339; durations are
//! derived from instants rather than stored, so the numbers in the report can never disagree
//! with its timeline.

use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};

/// One drill, from the first baseline request to the last validation check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub stage: String,
    pub drill_id: String,
    /// A one-line title, e.g. "payment-fixed failing with an unhandled exception".
    pub title: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// The fault that was injected and the alarm expected to catch it.
    pub fault: FaultInjection,
    /// The instants MTTD and MTTR are measured between.
    pub detection: Detection,
    #[serde(default)]
    pub targets: Targets,
    /// The drill's steps in order (baseline, break, detect, diagnose, fix, validate).
    pub steps: Vec<Step>,
    /// Everything notable, in time order; the report sorts it again to be safe.
    pub events: Vec<TimelineEvent>,
    pub metrics: Metrics,
    /// State over time of every alarm worth showing (at least the primary one).
    pub alarms: Vec<AlarmTrack>,
    pub diagnosis: Diagnosis,
    pub blast_radius: Vec<RouteImpact>,
    pub postmortem: Postmortem,
    /// How the fast alarm compares with the standard one-minute AWS/Lambda path.
    pub alarm_path_comparison: AlarmPathComparison,
    /// The release a release scenario ran: its outcome and how traffic split by version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseSummary>,
}

/// A release of a new version through the `live` alias, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseSummary {
    /// The deployment's id (`r-...` in the lab, `d-...` on AWS).
    pub id: String,
    pub strategy: String,
    pub from_version: String,
    pub to_version: String,
    /// How the scenario expected it to end, and how it did (`rolled-back`, `promoted`,
    /// `refused`; `None`: it did not end on its own).
    pub expected: String,
    pub ended: Option<String>,
    /// The alarm (or person) that stopped it.
    pub stopped_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Requests `live` sent to each version during the release, oldest version first: the
    /// target's own count where it keeps one (the lab), else what clients saw.
    pub versions: Vec<VersionSplit>,
    /// Whether `versions` is the target's count (failures per version included) or the
    /// clients' (a failed answer names no version: those are counted apart).
    pub counted_by: SplitSource,
    /// Client requests to the function's routes during the release, and how many failed.
    pub requests: u64,
    pub failed: u64,
}

/// One version's share of a release's traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionSplit {
    pub version: String,
    pub requests: u64,
    /// Failed requests of this version: `None` where the clients counted (they cannot tell).
    pub failed: Option<u64>,
}

/// Who counted a release's traffic per version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SplitSource {
    /// The alias itself (the lab counts each version's invocations and failures).
    Target,
    /// The clients, from the `x-function-version` header of each successful answer.
    Clients,
}

impl ReleaseSummary {
    /// The share of the release's client requests that failed.
    pub fn failed_share(&self) -> Option<f64> {
        (self.requests > 0).then(|| self.failed as f64 / self.requests as f64)
    }

    /// One sentence: what was released, how it ended against what was expected.
    pub fn headline(&self) -> String {
        let ended = match (&self.ended, &self.stopped_by) {
            (Some(e), Some(by)) => format!("{e} (stopped by {by})"),
            (Some(e), None) => e.clone(),
            (None, Some(by)) => format!("stopped by {by}"),
            (None, None) => "did not end on its own".into(),
        };
        let took = self
            .ended_at
            .map(|e| format!(" after {:.1} s", (e - self.started_at).as_seconds_f64()))
            .unwrap_or_default();
        format!(
            "Release {}: version {} \u{2192} {}, strategy {}; ended {ended}{took}; expected {}.",
            self.id, self.from_version, self.to_version, self.strategy, self.expected
        )
    }

    /// One sentence on what the clients saw.
    pub fn clients_line(&self) -> String {
        match self.failed_share() {
            Some(share) => format!(
                "{} client requests to the function's routes during the release, {} failed ({:.1} %).",
                self.requests,
                self.failed,
                share * 100.0
            ),
            None => "No client request reached the function's routes during the release.".into(),
        }
    }
}

/// What was broken, where and how.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultInjection {
    /// Function key in the stage file, e.g. `payment-fixed`.
    pub function: String,
    /// The `FAULT_MODE` used, e.g. `exception`.
    pub mode: String,
    /// The route that fronts the function, e.g. `GET /pay-fixed`.
    pub route: String,
    /// The alarm expected to fire, e.g. `dev-payment-fixed-fast-errors`.
    pub alarm: String,
}

impl FaultInjection {
    /// What broke, as the report's header names it: `FAULT_MODE=exception` for a fault alone,
    /// the words of a compound incident as they are (`exception + surge of 8 clients`).
    pub fn label(&self) -> String {
        if self.mode.contains(' ') {
            self.mode.clone()
        } else {
            format!("FAULT_MODE={}", self.mode)
        }
    }
}

/// The four instants of the break -> detect -> fix -> recover cycle. Missing ones mean the
/// drill never got there (the alarm never fired, say), which the report shows as a failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detection {
    #[serde(with = "time::serde::rfc3339")]
    pub fault_injected_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub alarm_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub fix_applied_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub recovered_at: Option<OffsetDateTime>,
}

/// The drill's objectives, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Targets {
    pub mttd_s: f64,
    pub mttr_s: f64,
    pub drill_s: f64,
}

impl Default for Targets {
    /// Placeholder objectives: a drill replaces them with the budgets it derived from its
    /// primary alarm's maths and metric delay (`verdict::detection_budget`, `recovery_budget`).
    fn default() -> Self {
        Self {
            mttd_s: 20.0,
            mttr_s: 30.0,
            drill_s: 90.0,
        }
    }
}

/// A drill step's status, as the admin API's drill document has it.
pub use lab_admin_api::StepStatus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub name: String,
    pub status: StepStatus,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub started_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub finished_at: Option<OffsetDateTime>,
    #[serde(default)]
    pub detail: String,
}

/// What kind of moment an event is; it decides the marker colour in the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    #[default]
    Info,
    Fault,
    Alarm,
    Fix,
    Recovery,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Info => "info",
            EventKind::Fault => "fault",
            EventKind::Alarm => "alarm",
            EventKind::Fix => "fix",
            EventKind::Recovery => "recovery",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    #[serde(default)]
    pub kind: EventKind,
    pub text: String,
}

/// One datapoint: the start of its period and the statistic's value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Point {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub value: f64,
}

/// One line on a chart: a function key or a route, and its datapoints oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

impl Series {
    /// Counts (Sum) have no datapoint for a period without events; for a chart a missing count
    /// is a zero. Fills every period from `start` to `end` that has no point with 0, keeping the
    /// periods aligned to the existing points (or to `start` when there are none).
    pub fn fill_missing_with_zero(&mut self, period_s: u32, start: OffsetDateTime, end: OffsetDateTime) {
        let period = Duration::seconds(i64::from(period_s.max(1)));
        let anchor = self.points.first().map_or(start, |p| p.timestamp);
        // First aligned period start at or after `start`.
        let behind = (anchor - start)
            .whole_seconds()
            .rem_euclid(period.whole_seconds());
        let mut t = start + Duration::seconds(behind);
        let mut filled = Vec::new();
        while t <= end {
            let value = self
                .points
                .iter()
                .find(|p| p.timestamp == t)
                .map_or(0.0, |p| p.value);
            filled.push(Point { timestamp: t, value });
            t += period;
        }
        // Keep points that did not fall on the grid (should not happen with CloudWatch data).
        for p in &self.points {
            if !filled.iter().any(|f| f.timestamp == p.timestamp) {
                filled.push(*p);
            }
        }
        filled.sort_by_key(|p| p.timestamp);
        self.points = filled;
    }
}

/// A datapoint as the lab's `GET /metrics` answers it.
pub use lab_admin_api::MetricPoint as EpochDatapoint;

impl Series {
    /// A series from the `datapoints` of the lab's `GET /metrics` answer (or CloudWatch
    /// `GetMetricData` timestamps converted to epoch seconds). Points outside the range a
    /// timestamp can hold are dropped.
    pub fn from_datapoints(name: impl Into<String>, datapoints: &[EpochDatapoint]) -> Self {
        let points = datapoints
            .iter()
            .filter_map(|d| {
                OffsetDateTime::from_unix_timestamp(d.timestamp)
                    .ok()
                    .map(|timestamp| Point {
                        timestamp,
                        value: d.value,
                    })
            })
            .collect();
        Self {
            name: name.into(),
            points,
        }
    }
}

/// The metrics around the spike, one series per function (or route for the API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The period every series below was aggregated over.
    pub period_s: u32,
    /// `AWS/Lambda Invocations` (Sum) per function.
    pub invocations: Vec<Series>,
    /// `AWS/Lambda Errors` (Sum) per function.
    pub errors: Vec<Series>,
    /// API Gateway 5xx responses (Sum) per route.
    pub api_5xx: Vec<Series>,
    /// `AWS/Lambda Duration` p99 in milliseconds per function; optional.
    #[serde(default)]
    pub duration_p99_ms: Vec<Series>,
    /// Where each chart's numbers come from, shown under its title.
    #[serde(default)]
    pub sources: MetricSources,
}

/// The metric behind each chart, as the chart's subtitle names it. The defaults are the AWS
/// metrics; a drill that charts finer data (the high-resolution `OutageLab` metrics, or its own
/// client-side counts per route) says so here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSources {
    pub invocations: String,
    pub errors: String,
    pub api_5xx: String,
    pub duration_p99_ms: String,
}

impl Default for MetricSources {
    fn default() -> Self {
        Self {
            invocations: "AWS/Lambda Invocations".into(),
            errors: "AWS/Lambda Errors".into(),
            api_5xx: "AWS/ApiGateway 5xx".into(),
            duration_p99_ms: "AWS/Lambda Duration".into(),
        }
    }
}

/// CloudWatch's alarm states: the one definition in `outage-config`.
pub use outage_config::AlarmState;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmTransition {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub state: AlarmState,
    #[serde(default)]
    pub reason: String,
}

/// One alarm's state over the drill: where it started and every change after that.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmTrack {
    pub name: String,
    pub initial_state: AlarmState,
    pub transitions: Vec<AlarmTransition>,
}

/// One state change of an alarm, as the lab's admin API and DescribeAlarmHistory give it.
pub use lab_admin_api::AlarmHistoryItem;

impl AlarmTrack {
    /// The track of one alarm from its history, oldest first as the admin API returns it.
    /// With no history the alarm has been in `current` all along.
    pub fn from_history(name: impl Into<String>, history: &[AlarmHistoryItem], current: AlarmState) -> Self {
        let mut history: Vec<&AlarmHistoryItem> = history.iter().collect();
        history.sort_by_key(|h| h.timestamp);
        Self {
            name: name.into(),
            initial_state: history.first().map_or(current, |h| h.old_state),
            transitions: history
                .iter()
                .map(|h| AlarmTransition {
                    timestamp: h.timestamp,
                    state: h.new_state,
                    reason: h.reason.clone(),
                })
                .collect(),
        }
    }

    /// The state intervals between `start` and `end`, in time order, with no gaps.
    pub fn intervals(
        &self,
        start: OffsetDateTime,
        end: OffsetDateTime,
    ) -> Vec<(OffsetDateTime, OffsetDateTime, AlarmState)> {
        let mut changes: Vec<&AlarmTransition> = self.transitions.iter().collect();
        changes.sort_by_key(|t| t.timestamp);
        let mut out = Vec::new();
        let mut from = start;
        let mut state = self.initial_state;
        for change in changes {
            if change.timestamp <= start {
                state = change.state;
                continue;
            }
            if change.timestamp >= end {
                break;
            }
            if change.timestamp > from {
                out.push((from, change.timestamp, state));
            }
            from = change.timestamp;
            state = change.state;
        }
        if end > from {
            out.push((from, end, state));
        }
        out
    }
}

/// One log line as CloudWatch Logs shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLine {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub log_group: String,
    pub message: String,
}

/// What the logs say about the failure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnosis {
    pub error_message: String,
    /// e.g. `Runtime.HandlerError` or the function's own error type.
    pub error_type: String,
    /// Lambda request ids of failed invocations (a sample; `failed_requests` is the count).
    pub failing_request_ids: Vec<String>,
    pub failed_requests: u64,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub first_failure_at: Option<OffsetDateTime>,
    /// The lines that show the root cause, oldest first.
    pub log_excerpt: Vec<LogLine>,
}

/// How one route fared while the fault was active.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RouteImpact {
    /// e.g. `GET /pay-fixed`.
    pub route: String,
    pub function: String,
    pub requests: u64,
    pub errors_5xx: u64,
    pub degraded: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionItem {
    pub text: String,
    #[serde(default)]
    pub owner: String,
}

/// The blameless postmortem's sections, as prose.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Postmortem {
    pub summary: String,
    pub impact: String,
    pub root_cause: String,
    pub detection: String,
    pub resolution: String,
    pub action_items: Vec<ActionItem>,
}

/// The fast alarm against the one-minute `AWS/Lambda Errors` alarm that most stacks rely on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmPathComparison {
    /// Name and period of the fast path, e.g. `dev-payment-fixed-fast-errors`, 10.
    pub fast_alarm: String,
    pub fast_period_s: u32,
    /// Name and period of the standard path, e.g. `dev-payment-fixed-errors`, 60.
    pub standard_alarm: String,
    pub standard_period_s: u32,
    /// When the standard alarm fired in this drill, if it did before the fix.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub standard_alarm_at: Option<OffsetDateTime>,
    /// Free text: why the numbers differ.
    pub note: String,
}

/// A measured duration against its objective.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Measure {
    /// Seconds, or `None` when the end instant was never reached.
    pub seconds: Option<f64>,
    pub target_s: f64,
    pub met: bool,
}

impl Measure {
    fn between(from: Option<OffsetDateTime>, to: Option<OffsetDateTime>, target_s: f64) -> Self {
        let seconds = match (from, to) {
            (Some(from), Some(to)) => Some((to - from).as_seconds_f64()),
            _ => None,
        };
        Self {
            seconds,
            target_s,
            met: seconds.is_some_and(|s| s <= target_s),
        }
    }
}

/// The headline numbers, derived from the instants.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub mttd: Measure,
    pub mttr: Measure,
    pub drill: Measure,
    /// Every step passed.
    pub steps_passed: bool,
    /// Every step passed and every target was met.
    pub all_met: bool,
}

impl Incident {
    /// Fault injected -> alarm in ALARM.
    pub fn mttd(&self) -> Measure {
        Measure::between(
            Some(self.detection.fault_injected_at),
            self.detection.alarm_at,
            self.targets.mttd_s,
        )
    }

    /// Fix applied -> alarm back to OK.
    pub fn mttr(&self) -> Measure {
        Measure::between(
            self.detection.fix_applied_at,
            self.detection.recovered_at,
            self.targets.mttr_s,
        )
    }

    /// The whole drill.
    pub fn drill_duration(&self) -> Measure {
        Measure::between(
            Some(self.started_at),
            Some(self.finished_at),
            self.targets.drill_s,
        )
    }

    pub fn outcome(&self) -> Outcome {
        let (mttd, mttr, drill) = (self.mttd(), self.mttr(), self.drill_duration());
        let steps_passed =
            !self.steps.is_empty() && self.steps.iter().all(|s| s.status == StepStatus::Passed);
        Outcome {
            mttd,
            mttr,
            drill,
            steps_passed,
            all_met: steps_passed && mttd.met && mttr.met && drill.met,
        }
    }

    /// Events sorted by time (stable, so equal instants keep the drill's order).
    pub fn sorted_events(&self) -> Vec<&TimelineEvent> {
        let mut events: Vec<&TimelineEvent> = self.events.iter().collect();
        events.sort_by_key(|e| e.timestamp);
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-25 14:00:00 UTC);

    fn s(n: i64) -> OffsetDateTime {
        T0 + Duration::seconds(n)
    }

    #[test]
    fn alarm_intervals_cover_the_window_without_gaps() {
        let track = AlarmTrack {
            name: "a".into(),
            initial_state: AlarmState::InsufficientData,
            transitions: vec![
                AlarmTransition {
                    timestamp: s(40),
                    state: AlarmState::Ok,
                    reason: String::new(),
                },
                AlarmTransition {
                    timestamp: s(-5),
                    state: AlarmState::Ok,
                    reason: String::new(),
                },
                AlarmTransition {
                    timestamp: s(20),
                    state: AlarmState::Alarm,
                    reason: String::new(),
                },
                AlarmTransition {
                    timestamp: s(99),
                    state: AlarmState::Alarm,
                    reason: String::new(),
                },
            ],
        };
        assert_eq!(
            track.intervals(s(0), s(60)),
            vec![
                (s(0), s(20), AlarmState::Ok),
                (s(20), s(40), AlarmState::Alarm),
                (s(40), s(60), AlarmState::Ok),
            ]
        );
    }

    #[test]
    fn admin_api_answers_deserialise_into_the_model() {
        // Shapes from docs/lab-admin-api.md: GET /drill, GET /metrics, GET /alarms/{name}/history.
        let drill: serde_json::Value = serde_json::from_str(
            r#"{"running": true, "drill_id": "d1", "started_at": "2026-11-25T14:00:00Z",
                "steps": [{"name": "baseline", "status": "passed", "started_at": "2026-11-25T14:00:00Z",
                           "finished_at": "2026-11-25T14:00:15.5Z", "detail": "ok"},
                          {"name": "break", "status": "running", "started_at": "2026-11-25T14:00:15.5Z",
                           "finished_at": null, "detail": ""}],
                "events": [{"timestamp": "2026-11-25T14:00:15.5Z", "text": "fault injected"}]}"#,
        )
        .unwrap();
        let steps: Vec<Step> = serde_json::from_value(drill["steps"].clone()).unwrap();
        assert_eq!(steps[0].status, StepStatus::Passed);
        assert_eq!(steps[0].finished_at, Some(s(15) + Duration::milliseconds(500)));
        assert_eq!(
            (steps[1].status, steps[1].finished_at),
            (StepStatus::Running, None)
        );
        let events: Vec<TimelineEvent> = serde_json::from_value(drill["events"].clone()).unwrap();
        assert_eq!(events[0].kind, EventKind::Info);

        let metrics: serde_json::Value = serde_json::from_str(
            r#"{"label": "Invocations", "period": 10, "stat": "Sum",
                "datapoints": [{"timestamp": 1795615200, "value": 25.0}, {"timestamp": 1795615210, "value": 3}]}"#,
        )
        .unwrap();
        let points: Vec<EpochDatapoint> = serde_json::from_value(metrics["datapoints"].clone()).unwrap();
        let series = Series::from_datapoints("auth", &points);
        assert_eq!(series.points[1].timestamp, s(10));
        assert_eq!(series.points[1].value, 3.0);

        let history: Vec<AlarmHistoryItem> = serde_json::from_str(
            r#"[{"timestamp": "2026-11-25T14:00:27Z", "old_state": "OK", "new_state": "ALARM", "reason": "Threshold Crossed"},
                {"timestamp": "2026-11-25T14:00:50Z", "old_state": "ALARM", "new_state": "OK", "reason": ""}]"#,
        )
        .unwrap();
        let track = AlarmTrack::from_history("a", &history, AlarmState::Ok);
        assert_eq!(
            track
                .intervals(s(0), s(60))
                .iter()
                .map(|i| i.2)
                .collect::<Vec<_>>(),
            [AlarmState::Ok, AlarmState::Alarm, AlarmState::Ok]
        );
        let quiet = AlarmTrack::from_history("b", &[], AlarmState::InsufficientData);
        assert_eq!(quiet.initial_state, AlarmState::InsufficientData);
    }

    #[test]
    fn missing_counts_become_zero_on_the_period_grid() {
        let mut series = Series {
            name: "x".into(),
            points: vec![
                Point {
                    timestamp: s(12),
                    value: 3.0,
                },
                Point {
                    timestamp: s(32),
                    value: 1.0,
                },
            ],
        };
        series.fill_missing_with_zero(10, s(0), s(40));
        let got: Vec<(i64, f64)> = series
            .points
            .iter()
            .map(|p| ((p.timestamp - T0).whole_seconds(), p.value))
            .collect();
        assert_eq!(got, vec![(2, 0.0), (12, 3.0), (22, 0.0), (32, 1.0)]);
    }

    #[test]
    fn measures_compare_against_targets_inclusively() {
        let m = Measure::between(Some(s(0)), Some(s(20)), 20.0);
        assert_eq!((m.seconds, m.met), (Some(20.0), true));
        let m = Measure::between(Some(s(0)), None, 20.0);
        assert_eq!((m.seconds, m.met), (None, false));
    }
}
