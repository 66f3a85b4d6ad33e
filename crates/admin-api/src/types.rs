//! Every message of the admin API. Lambda's and CloudWatch's own field names where the lab
//! stands in for them (`Configuration`, `AlarmView`), so a client maps one-to-one onto the AWS
//! SDK; snake_case for the lab's own documents.

use std::collections::BTreeMap;
use std::path::PathBuf;

use outage_config::AlarmState;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A function's environment variables, as a whole.
pub type Variables = BTreeMap<String, String>;

/// `lab.json` in a run folder: where a running lab is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabInfo {
    pub stage: String,
    pub pid: u32,
    pub gateway_url: String,
    pub admin_url: String,
    pub api_id: String,
    /// Absolute, or relative to the run folder.
    pub token_file: PathBuf,
    pub run_dir: PathBuf,
    /// RFC 3339.
    pub started_at: String,
}

/// One change to the stage's control plane in `GET /changes`, as CloudTrail records a management
/// event: who called which Lambda API on which function, when, and with what. Environment
/// variable values are not recorded (CloudTrail hides them for Lambda): only which names were
/// added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub event_time: OffsetDateTime,
    /// The Lambda API: `UpdateFunctionConfiguration`, `PutFunctionConcurrency`,
    /// `DeleteFunctionConcurrency`.
    pub event_name: String,
    /// Who: the `X-Outage-Lab-Actor` header of the request, or `admin-api`.
    pub actor: String,
    pub function_name: String,
    /// What changed, in words: `variables added FAULT_MODE`, `reserved concurrency 5 -> 1`.
    pub summary: String,
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

/// The header naming who makes a control-plane call (recorded in the change history).
pub const ACTOR_HEADER: &str = "x-outage-lab-actor";

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    pub status: String,
}

/// Alarms per state, in `GET /status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmCounts {
    #[serde(rename = "ALARM")]
    pub alarm: usize,
    #[serde(rename = "INSUFFICIENT_DATA")]
    pub insufficient_data: usize,
    #[serde(rename = "OK")]
    pub ok: usize,
}

impl AlarmCounts {
    pub fn add(&mut self, state: AlarmState) {
        match state {
            AlarmState::Ok => self.ok += 1,
            AlarmState::Alarm => self.alarm += 1,
            AlarmState::InsufficientData => self.insufficient_data += 1,
        }
    }

    pub fn total(&self) -> usize {
        self.ok + self.alarm + self.insufficient_data
    }
}

/// `GET /status`: `lab.json` plus counts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    #[serde(flatten)]
    pub lab: LabInfo,
    pub functions: usize,
    pub alarms: AlarmCounts,
    /// The id of the game day running on this lab (`GET /gameday`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gameday: Option<String>,
}

/// Lambda's `LastUpdateStatus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum LastUpdateStatus {
    Successful,
    InProgress,
    Failed,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Environment {
    pub variables: Variables,
}

/// `GET /functions/{key}/configuration`: Lambda's `FunctionConfiguration`, the fields the lab has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Configuration {
    /// `<stage>-<key>`.
    pub function_name: String,
    pub environment: Environment,
    pub memory_size: u32,
    pub timeout: u32,
    /// Absent when the function has no reserved concurrency (after `DELETE .../concurrency`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reserved_concurrent_executions: Option<u32>,
    pub last_update_status: LastUpdateStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_update_status_reason: Option<String>,
    /// Changes on every update.
    pub revision_id: String,
}

/// `PUT /functions/{key}/configuration`: Lambda's `UpdateFunctionConfiguration`, variables only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ConfigurationUpdate {
    pub variables: Variables,
}

/// `PUT /functions/{key}/concurrency` and its answer: Lambda's `PutFunctionConcurrency`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Concurrency {
    pub reserved_concurrent_executions: u32,
}

/// An execution environment's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentState {
    Cold,
    Warm,
    Busy,
}

/// One execution environment of a function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvironmentView {
    pub id: String,
    pub state: EnvironmentState,
    pub invocations: u64,
    pub started_at: String,
    pub revision_id: String,
    pub log_stream: String,
    pub pid: Option<u32>,
}

/// `GET /functions` (a list) and `GET /functions/{key}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionView {
    #[serde(flatten)]
    pub configuration: Configuration,
    /// The function's key in the stage file.
    pub key: String,
    /// The code base (`payment`).
    pub code: String,
    pub log_group: String,
    pub environments: Vec<EnvironmentView>,
    /// The `live` alias the API invokes: which versions serve the traffic. The configuration
    /// above is `$LATEST`'s, which clients reach only once a version of it is on the alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveView>,
}

/// What the `live` alias serves, each version with its variables and share of invocations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveView {
    pub alias: AliasView,
    pub versions: Vec<ServedVersion>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServedVersion {
    pub version: String,
    pub weight: f64,
    pub variables: Variables,
}

/// `GET /alarms` (a list) and `GET /alarms/{name}`: CloudWatch's `MetricAlarm` fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AlarmView {
    pub alarm_name: String,
    pub state_value: AlarmState,
    pub state_reason: String,
    /// The evaluated datapoints, or null.
    pub state_reason_data: Option<serde_json::Value>,
    #[serde(with = "time::serde::rfc3339")]
    pub state_updated_timestamp: OffsetDateTime,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
    pub statistic: String,
    pub period: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub threshold: f64,
    pub comparison_operator: String,
    pub treat_missing_data: String,
    /// What the SNS e-mail carries: the metric, the maths and the subject, `Runbook: <link>` last.
    #[serde(default)]
    pub alarm_description: String,
    /// The topics its state changes notify, by name (DescribeAlarms gives ARNs; the lab has no
    /// account to make one): `<stage>-alarms`, or `<stage>-known-broken`, which pages nobody.
    #[serde(default)]
    pub alarm_actions: Vec<String>,
    /// Dimension sets of the same metric subtracted before the threshold is compared (CloudWatch
    /// metric math `m0 - FILL(m1, 0) - ...`): the API's 5xx without the routes broken on purpose.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub minus: Vec<BTreeMap<String, String>>,
}

/// One composite alarm in `GET /composite-alarms`, as DescribeAlarms' `CompositeAlarms` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CompositeAlarmView {
    pub alarm_name: String,
    pub state_value: AlarmState,
    /// The alarm whose change moved it, and when.
    pub state_reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub state_updated_timestamp: OffsetDateTime,
    pub alarm_rule: String,
    pub alarm_description: String,
    pub alarm_actions: Vec<String>,
}

/// One entry of `GET /alarms/{name}/history` (DescribeAlarmHistory's state updates), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmHistoryItem {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: String,
}

/// `GET /metrics?...`: one metric, GetMetricStatistics-like.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MetricQuery {
    pub namespace: String,
    pub metric: String,
    /// Must equal the series' dimension set exactly.
    pub dimensions: BTreeMap<String, String>,
    /// Seconds; default 60.
    pub period: Option<u32>,
    /// Sum (default), Average, Minimum, Maximum, SampleCount or pNN(.N).
    pub stat: Option<String>,
    /// Epoch seconds, inclusive; default an hour before `end`.
    pub start: Option<i64>,
    /// Epoch seconds, exclusive; default now + 1 s.
    pub end: Option<i64>,
}

impl MetricQuery {
    pub const DEFAULT_PERIOD: u32 = 60;
    pub const DEFAULT_STAT: &'static str = "Sum";

    /// The query string, `?namespace=...`.
    pub fn to_query(&self) -> String {
        let mut pairs = vec![
            ("namespace", self.namespace.clone()),
            ("metric", self.metric.clone()),
        ];
        let dims: Vec<(String, String)> = self
            .dimensions
            .iter()
            .map(|(k, v)| (format!("dim.{k}"), v.clone()))
            .collect();
        pairs.extend(dims.iter().map(|(k, v)| (k.as_str(), v.clone())));
        if let Some(p) = self.period {
            pairs.push(("period", p.to_string()));
        }
        if let Some(s) = &self.stat {
            pairs.push(("stat", s.clone()));
        }
        if let Some(s) = self.start {
            pairs.push(("start", s.to_string()));
        }
        if let Some(e) = self.end {
            pairs.push(("end", e.to_string()));
        }
        crate::encode::query_string(pairs)
    }

    /// Reads the query string's pairs; the error names the parameter.
    pub fn from_query(q: &BTreeMap<String, String>) -> Result<MetricQuery, String> {
        let required = |name: &str| {
            q.get(name)
                .filter(|v| !v.is_empty())
                .cloned()
                .ok_or_else(|| format!("{name}: required"))
        };
        let number = |name: &str, what: &str| -> Result<Option<i64>, String> {
            q.get(name)
                .map(|v| v.parse::<i64>().map_err(|_| format!("{name}: expected {what}")))
                .transpose()
        };
        Ok(MetricQuery {
            namespace: required("namespace")?,
            metric: required("metric")?,
            dimensions: q
                .iter()
                .filter_map(|(k, v)| k.strip_prefix("dim.").map(|n| (n.to_owned(), v.clone())))
                .collect(),
            period: q
                .get("period")
                .map(|p| {
                    p.parse::<u32>()
                        .map_err(|_| "period: expected whole seconds".to_owned())
                })
                .transpose()?,
            stat: q.get("stat").cloned(),
            end: number("end", "epoch seconds")?,
            start: number("start", "epoch seconds")?,
        })
    }
}

/// One period of [`MetricData`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricPoint {
    /// The period's start, epoch seconds.
    pub timestamp: i64,
    pub value: f64,
}

/// The answer to `GET /metrics`: only periods that have data, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricData {
    pub label: String,
    pub period: u32,
    pub stat: String,
    pub datapoints: Vec<MetricPoint>,
}

/// `GET /logs/{key}?...`: FilterLogEvents-like.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogQuery {
    /// Events whose message contains this text.
    pub filter: Option<String>,
    /// Events from this many seconds back.
    pub since_s: Option<u64>,
    /// The newest N of the matches.
    pub limit: Option<usize>,
}

impl LogQuery {
    pub fn to_query(&self) -> String {
        let mut pairs = Vec::new();
        if let Some(f) = &self.filter {
            pairs.push(("filter", f.clone()));
        }
        if let Some(s) = self.since_s {
            pairs.push(("since", s.to_string()));
        }
        if let Some(l) = self.limit {
            pairs.push(("limit", l.to_string()));
        }
        crate::encode::query_string(pairs)
    }

    pub fn from_query(q: &BTreeMap<String, String>) -> Result<LogQuery, String> {
        Ok(LogQuery {
            filter: q.get("filter").filter(|f| !f.is_empty()).cloned(),
            since_s: q
                .get("since")
                .map(|s| s.parse().map_err(|_| "since: expected whole seconds".to_owned()))
                .transpose()?,
            limit: q
                .get("limit")
                .map(|s| s.parse().map_err(|_| "limit: expected a whole number".to_owned()))
                .transpose()?,
        })
    }
}

/// One log event, oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEvent {
    /// Epoch milliseconds, as CloudWatch Logs stores them.
    pub timestamp: i64,
    pub log_group: String,
    pub log_stream: String,
    pub message: String,
}

/// One delivery of the alarm topic (`GET /notifications`, and a line of `notifications.jsonl`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    /// `<stage>-alarms` (on-call), or `<stage>-known-broken` (nobody subscribes).
    pub topic: String,
    pub subject: String,
    pub alarm_name: String,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: String,
    /// The alarm's description, as the SNS e-mail's "Alarm Description" carries it: the runbook
    /// link last.
    #[serde(default)]
    pub description: String,
}

/// A drill step's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    Pending,
    Running,
    Passed,
    Failed,
}

impl StepStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Running => "running",
            StepStatus::Passed => "passed",
            StepStatus::Failed => "failed",
        }
    }

    pub fn of(passed: bool) -> StepStatus {
        if passed {
            StepStatus::Passed
        } else {
            StepStatus::Failed
        }
    }
}

/// One step of [`DrillDocument`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillStep {
    /// `baseline`, `break`, `detect`, `diagnose`, `fix`, `validate`.
    pub name: String,
    pub status: StepStatus,
    /// RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One event of [`DrillDocument`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrillTimelineEvent {
    /// RFC 3339.
    pub timestamp: String,
    /// The report's marker: `fault`, `alarm`, `fix`, `recovery`, `info`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub text: String,
}

/// `GET/PUT /drill`: the running drill's timeline, which the dashboard shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrillDocument {
    #[serde(default)]
    pub running: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drill_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    #[serde(default)]
    pub steps: Vec<DrillStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<DrillTimelineEvent>>,
}

/// The time the lab adds to each invocation, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overhead {
    pub count: u64,
    pub p50_us: u32,
    pub p90_us: u32,
    pub p99_us: u32,
    pub max_us: u32,
}

/// The metric store's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricStoreStats {
    pub series: usize,
    pub buckets: usize,
    pub stored_values: usize,
    pub dropped_samples: u64,
}

/// `GET /stats[?reset=true]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    pub overhead: Overhead,
    pub metric_store: MetricStoreStats,
}

/// Every error answer: `{"message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorMessage {
    pub message: String,
}

/// Reads a request body as `T`; the error names the field that is wrong, as the server's 400 says.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            format!("body: not JSON: {inner}")
        } else if path.is_empty() || path == "." {
            format!("body: {inner}")
        } else {
            format!("{path}: {inner}")
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bodies_name_the_wrong_field() {
        let e = parse_body::<ConfigurationUpdate>(br#"{"Variables":{"FAULT_MODE":1}}"#).unwrap_err();
        assert!(e.starts_with("Variables.FAULT_MODE: "), "{e}");
        let e = parse_body::<ConfigurationUpdate>(br#"{"Vars":{}}"#).unwrap_err();
        assert!(e.contains("`Variables`"), "{e}");
        let e = parse_body::<DrillDocument>(br#"{"running":"yes"}"#).unwrap_err();
        assert!(e.starts_with("running: "), "{e}");
        let e = parse_body::<Concurrency>(b"{").unwrap_err();
        assert!(e.starts_with("body: not JSON"), "{e}");
    }

    #[test]
    fn a_drill_document_round_trips_as_written() {
        let doc = json!({ "running": true, "drill_id": "d1", "steps": [{ "name": "baseline", "status": "running" }], "events": [] });
        let typed: DrillDocument = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(serde_json::to_value(&typed).unwrap(), doc);
        assert_eq!(
            serde_json::to_value(DrillDocument::default()).unwrap(),
            json!({ "running": false, "steps": [] })
        );
    }

    #[test]
    fn status_is_lab_json_plus_counts() {
        let status = Status {
            lab: LabInfo {
                stage: "dev".into(),
                pid: 1,
                gateway_url: "http://127.0.0.1:1".into(),
                admin_url: "http://127.0.0.1:2".into(),
                api_id: "abc".into(),
                token_file: "/r/admin-token".into(),
                run_dir: "/r".into(),
                started_at: "2026-01-01T00:00:00Z".into(),
            },
            functions: 4,
            alarms: AlarmCounts {
                ok: 1,
                ..AlarmCounts::default()
            },
            gameday: None,
        };
        let v = serde_json::to_value(&status).unwrap();
        assert_eq!(v["stage"], "dev");
        // Absent, not null, on a lab no game day runs on.
        assert!(v.get("gameday").is_none(), "{v}");
        assert_eq!(v["alarms"], json!({"ALARM": 0, "INSUFFICIENT_DATA": 0, "OK": 1}));
        let back: Status = serde_json::from_value(v).unwrap();
        assert_eq!(back, status);
    }

    #[test]
    fn metric_queries_round_trip_through_the_query_string() {
        let q = MetricQuery {
            namespace: "AWS/ApiGateway".into(),
            metric: "5xx".into(),
            dimensions: [("Stage".to_owned(), "$default".to_owned())].into(),
            period: Some(10),
            stat: Some("p99".into()),
            start: Some(1),
            end: Some(2),
        };
        let s = q.to_query();
        let back = MetricQuery::from_query(&crate::encode::parse_query(&s[1..])).unwrap();
        assert_eq!(back, q);
        let e = MetricQuery::from_query(&crate::encode::parse_query("metric=x")).unwrap_err();
        assert_eq!(e, "namespace: required");
    }
}

/// How a game day ended (or that it has not).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum GameDayOutcome {
    Running,
    /// The lab judged the incident over: the fault gone, the alarms OK, healthy traffic.
    Resolved,
    /// The responder gave up (`outage-lab gameday --give-up`).
    GaveUp,
    /// Ended before the incident was resolved without anyone giving up: the time limit passed,
    /// or the game-day process was stopped (Ctrl-C, a signal, killed). The record says which.
    Abandoned,
}

impl GameDayOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            GameDayOutcome::Running => "running",
            GameDayOutcome::Resolved => "resolved",
            GameDayOutcome::GaveUp => "gave-up",
            GameDayOutcome::Abandoned => "abandoned",
        }
    }
}

/// `GET /gameday`: what the responder may know of the running game day. Never the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameDayView {
    pub id: String,
    pub stage: String,
    pub level: u8,
    pub outcome: GameDayOutcome,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    /// The first page (a paging alarm's ALARM notification), when there was one.
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_page_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    pub diagnoses: u32,
    pub hints_used: u32,
    /// The game day's folder: its record, and at the end its scorecard and postmortem.
    pub folder: String,
    /// The causes a diagnosis may name.
    pub causes: Vec<String>,
}

/// `POST /gameday/diagnosis`: what the responder believes is wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    /// A function key of the stage (`payment-fixed`).
    pub function: String,
    /// One of [`GameDayView::causes`].
    pub cause: String,
}

/// The answer to an acknowledgement, a diagnosis or a hint: what was recorded, in words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GameDayReply {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub message: String,
}

/// `POST /functions/{key}/versions`: Lambda's `PublishVersion`. With `revision_id`, refused
/// when `$LATEST` changed since that revision.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PublishVersion {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// One version of a function (`ListVersionsByFunction`'s items, `PublishVersion`'s answer):
/// `$LATEST` or a published, immutable snapshot of the code and the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VersionView {
    pub function_name: String,
    /// `$LATEST`, or `1`, `2`, ...
    pub version: String,
    /// The binary's SHA-256, base64 as Lambda writes it.
    pub code_sha256: String,
    pub environment: Environment,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub revision_id: String,
    /// When the version was published (for `$LATEST`, last modified).
    pub last_modified: String,
}

/// An alias's weighted routing (Lambda's `AliasRoutingConfiguration`): version to the share of
/// invocations it gets, beside the alias's main version.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AliasRouting {
    pub additional_version_weights: BTreeMap<String, f64>,
}

/// `GET /functions/{key}/aliases/live`: Lambda's `AliasConfiguration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct AliasView {
    pub name: String,
    pub alias_arn: String,
    pub function_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRouting>,
    pub revision_id: String,
}

/// `PUT /functions/{key}/aliases/live`: Lambda's `UpdateAlias`. An absent `function_version`
/// keeps the main version; an absent `routing_config` keeps the weights, an empty one clears them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct AliasUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_config: Option<AliasRouting>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision_id: Option<String>,
}

/// `POST /functions/{key}/releases`: publish a new version from `$LATEST` with these changes
/// and shift the `live` alias to it by the strategy, watching the function's alarms.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseRequest {
    /// A new binary for the function (Lambda's `UpdateFunctionCode`); absent = the same code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<PathBuf>,
    /// Variables to set on top of `$LATEST`'s.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub set: Variables,
    /// Variables to remove.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unset: Vec<String>,
    /// A traffic-routing configuration (`canary:10%:1m`, a CodeDeploy predefined name); absent =
    /// the stage file's `release.strategy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Skip the direct invocation of the new version before any traffic moves (CodeDeploy's
    /// `BeforeAllowTraffic` hook left out): a build that fails only under traffic, or a
    /// pipeline without the hook, then meets the alarms alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skip_check: bool,
}

/// A release's status, as CodeDeploy names a deployment's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReleaseStatus {
    InProgress,
    Succeeded,
    /// Rolled back: an alarm went to ALARM, or the pre-traffic check failed, or a person ran
    /// `rollback`. The events say which.
    Stopped,
    /// The new version failed its pre-traffic check: no traffic moved.
    Failed,
}

impl ReleaseStatus {
    pub fn is_done(self) -> bool {
        self != ReleaseStatus::InProgress
    }
}

/// One thing that happened in a release, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub message: String,
}

/// Requests one version of a release served, and how many of them failed (5xx or no answer).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionTraffic {
    pub requests: u64,
    pub failed: u64,
}

/// `GET /releases` (a list, newest last) and `GET /releases/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseView {
    pub id: String,
    /// The function's key.
    pub function: String,
    pub strategy: String,
    pub from_version: String,
    pub to_version: String,
    pub status: ReleaseStatus,
    /// The new version's share of the alias's traffic now.
    pub weight: f64,
    /// The alarm that stopped the release, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped_by: Option<String>,
    /// The alarms watched as rollback triggers.
    pub alarms: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Traffic served through the alias during the release, per version.
    pub traffic: BTreeMap<String, VersionTraffic>,
    pub events: Vec<ReleaseEvent>,
}

/// `POST /functions/{key}/rollback`: what was rolled back, in words, and the release it stopped
/// or undid, if a release had moved the alias.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackReply {
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseView>,
}
