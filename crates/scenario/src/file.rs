//! The scenario file exactly as it is written (`scenarios/<name>.toml`). These types are what
//! serde reads and what the JSON Schema is generated from; [`crate::Scenario`] is the validated,
//! resolved value the runner uses.
//!
//! Keys after a `[table]` header belong to that table in TOML, so the top-level keys (`title`,
//! `lesson`, `runbook`, `function`, `fix`) come before the first table.

use outage_config::AlarmKind;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// One scenario: an incident staged on one function, the alarms that must catch it, and the
/// guardrails of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "outage-lab scenario")]
pub struct ScenarioFile {
    /// One line for people: "Exception in payment-fixed".
    pub title: String,
    /// Two sentences on what the responder should learn from this scenario.
    pub lesson: String,
    /// Link to the runbook a responder follows (a path in the repository or a URL).
    pub runbook: String,
    /// The function the incident happens to: a key of the stage file's `functions`.
    pub function: String,
    /// `restore` (default): the exact prior configuration is written back once the expected
    /// alarms have fired. `none`: nothing is restored; the fault heals itself at
    /// `FAULT_EXPIRES_AT` (needs `fault.expires_after_s`).
    #[serde(default)]
    pub fix: Fix,
    /// When the fix comes (with `fix = "restore"` only). `all-alarms` (default): once every
    /// expected alarm has fired or run out of its detection budget, so each alarm that sees the
    /// incident gets to fire. `first-alarm`: as soon as the first expected alarm fires, as a
    /// responder acts on the first page; the other expected alarms must then fire on what
    /// already happened (one failure each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix_after: Option<FixAfter>,
    /// A `FAULT_*` fault injected into the function through the control plane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<FaultSection>,
    /// A change of the function's configuration, restored by the fix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration: Option<ConfigurationSection>,
    /// Extra client load on the function's routes while the incident lasts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub surge: Option<SurgeSection>,
    /// A release of a new version through the `live` alias, as the stage releases. `[fault]`
    /// and `release.set` then build the new version instead of changing what `live` serves,
    /// and the incident ends the release's own way: its alarms roll it back, or it is promoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release: Option<ReleaseSection>,
    /// Steady load before, during and after the incident.
    #[serde(default)]
    pub traffic: TrafficSection,
    /// The hypothesis: the alarms that must fire (at least one; none for a release that must be
    /// promoted, whose hypothesis is that no alarm fires, and any number for one that must be
    /// refused).
    #[serde(default)]
    pub expect: Vec<ExpectSection>,
    /// Every other alarm of the stage must stay quiet, except these.
    #[serde(default)]
    pub quiet: QuietSection,
    /// When to abort the run and restore.
    #[serde(default)]
    pub stop: StopSection,
}

/// How the incident ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Fix {
    /// The exact prior configuration is written back (and read back).
    #[default]
    Restore,
    /// Nothing is applied while the incident lasts: the fault expires through
    /// `FAULT_EXPIRES_AT`. The prior configuration is still written back at the very end of the
    /// run, after the verdict, so the stage is left as it was found.
    None,
}

/// When a `restore` fix is applied.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FixAfter {
    /// Once every expected alarm has fired (or run out of its detection budget).
    #[default]
    AllAlarms,
    /// As soon as the first expected alarm fires.
    FirstAlarm,
}

/// The fault modes a scenario can inject (`FAULT_MODE` without `none`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FaultModeName {
    /// The handler returns an error: Lambda `Errors` and the function's `Faults`.
    Exception,
    /// The process aborts: `Runtime.ExitError`, Lambda `Errors`, no `Faults`.
    Panic,
    /// `latency_ms` added before the handler runs.
    Latency,
    /// The handler sleeps past its deadline: `Sandbox.Timedout`.
    Timeout,
    /// A handled answer with `status`: API 5xx, but not Lambda `Errors`.
    Status,
}

impl FaultModeName {
    pub fn as_str(self) -> &'static str {
        match self {
            FaultModeName::Exception => "exception",
            FaultModeName::Panic => "panic",
            FaultModeName::Latency => "latency",
            FaultModeName::Timeout => "timeout",
            FaultModeName::Status => "status",
        }
    }
}

/// A fault, written as the `FAULT_*` variables it becomes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultSection {
    /// `FAULT_MODE`.
    pub mode: FaultModeName,
    /// `FAULT_RATE`: share of invocations affected, above 0 and at most 1 (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub rate: Option<f64>,
    /// `FAULT_LATENCY_MS`: milliseconds added; required with `mode = "latency"`, refused otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// `FAULT_STATUS`: the answer's status (400..=599); required with `mode = "status"`, refused otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 400, max = 599))]
    pub status: Option<u16>,
    /// `FAULT_MESSAGE`: the error text (default "Simulated <service> failure").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// `FAULT_SEED`: makes `rate` sampling reproducible.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `FAULT_EXPIRES_AT` = injection + this many seconds. With `fix = "none"` this is how the
    /// incident ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub expires_after_s: Option<u32>,
}

/// A configuration change of the function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigurationSection {
    /// Reserved concurrency while the incident lasts (Lambda `PutFunctionConcurrency`); 0
    /// disables the function, as on AWS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 1000))]
    pub reserved_concurrency: Option<u32>,
}

/// Extra load on the function's routes from the injection until the fix (or the fault's expiry).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurgeSection {
    /// Parallel clients.
    #[schemars(range(min = 1))]
    pub concurrency: u32,
    /// Each client's pace: one request every this many milliseconds (default 100). A client
    /// never waits for an answer to send the next one, so refused requests do not speed it up.
    #[serde(default = "default_surge_every_ms")]
    #[schemars(range(min = 1))]
    pub every_ms: u32,
}

pub const DEFAULT_SURGE_EVERY_MS: u32 = 100;

fn default_surge_every_ms() -> u32 {
    DEFAULT_SURGE_EVERY_MS
}

/// A release of a new version of the scenario's function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseSection {
    /// How the release must end.
    pub outcome: ReleaseOutcome,
    /// The traffic-routing configuration (`canary:10%:1m`, `linear:10%:1m`, `all-at-once`, or a
    /// CodeDeploy predefined name); default: the stage file's `release.strategy`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Invoke the new version directly before any traffic moves, as CodeDeploy's
    /// `BeforeAllowTraffic` hook does (default true). `false` leaves the alarms alone to guard
    /// the release: a build that fails only under traffic.
    #[serde(default = "default_check")]
    pub check: bool,
    /// Variables the new version sets on top of the function's own (not `FAULT_*`: that is
    /// `[fault]`'s job).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub set: std::collections::BTreeMap<String, String>,
    /// The most the share of failed requests (5xx or no answer) to the function's routes may be
    /// from the release's start to its end: the claim a canary exists to keep.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_failed_share: Option<f64>,
}

fn default_check() -> bool {
    true
}

/// How a release ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseOutcome {
    /// An expected alarm went to ALARM and the release put `live` back on the old version.
    RolledBack,
    /// The new version took all of `live`'s traffic and no alarm fired.
    Promoted,
    /// The pre-traffic check refused the new version: no traffic moved.
    Refused,
}

impl ReleaseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseOutcome::RolledBack => "rolled-back",
            ReleaseOutcome::Promoted => "promoted",
            ReleaseOutcome::Refused => "refused",
        }
    }
}

/// Steady load before, during and after the incident.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrafficSection {
    /// Route keys ("GET /pay-fixed") of the stage; default: every route of the stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routes: Option<Vec<String>>,
    /// One request per route every this many milliseconds (default 250: 4 requests/s per route).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub every_ms: Option<u32>,
}

pub const DEFAULT_TRAFFIC_EVERY_MS: u32 = 250;

/// One alarm that must fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpectSection {
    /// The alarm kind.
    #[schemars(schema_with = "alarm_kind_schema")]
    pub alarm: AlarmKind,
    /// The function whose alarm it is (default: the scenario's function); `api-5xx` takes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// Detection budget (MTTD), seconds from the injection; default derived from the alarm's maths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub within_s: Option<u32>,
    /// Recovery budget (MTTR), seconds from the fix (or the fault's expiry, when `fix = "none"`)
    /// to the alarm back to OK; default derived from the alarm's maths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub recover_within_s: Option<u32>,
}

/// The alarms that are not judged.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietSection {
    /// Alarms that may fire or not without failing the scenario (alarms already in ALARM at
    /// baseline are never judged). Written like an expectation, so a scenario holds no stage
    /// name and runs on every stage.
    #[serde(default)]
    pub ignore: Vec<AlarmRef>,
}

/// An alarm of the stage by kind and function, without the stage's name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlarmRef {
    /// The alarm kind.
    #[schemars(schema_with = "alarm_kind_schema")]
    pub alarm: AlarmKind,
    /// The function whose alarm it is (default: the scenario's function); `api-5xx` takes none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// Stop conditions: abort and restore.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopSection {
    /// The whole run may last this long (default 300 s).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_duration_s: Option<u32>,
    /// Routes allowed to degrade; any other route degrading aborts the run. Default: the routes
    /// of the scenario's function.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blast_radius: Option<Vec<String>>,
}

pub const DEFAULT_MAX_DURATION_S: u32 = 300;

/// The schema of an alarm kind: the spellings the files use, taken from [`AlarmKind::ALL`].
fn alarm_kind_schema(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = AlarmKind::ALL.iter().map(|k| k.as_str()).collect();
    json_schema!({
        "type": "string",
        "enum": names,
        "description": "An alarm kind of the stage: fast-errors (OutageLab Faults, 10 s), errors (AWS/Lambda Errors), duration-p99 (AWS/Lambda Duration p99), throttles (AWS/Lambda Throttles), api-5xx (AWS/ApiGateway 5xx, the whole API)."
    })
}

/// The JSON Schema of the format, as committed in `scenarios/scenario.schema.json`.
pub fn schema() -> Schema {
    let mut value = schemars::schema_for!(ScenarioFile).to_value();
    drop_null(&mut value);
    Schema::try_from(value).expect("the generated schema is an object")
}

/// TOML has no null: an optional field is one left out, so `Option`'s "or null" is dropped
/// (`"type": ["integer", "null"]` and `anyOf: [X, {"type": "null"}]`).
fn drop_null(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(any)) = map.get("anyOf") {
                let rest: Vec<Value> = any
                    .iter()
                    .filter(|s| s.get("type").is_none_or(|t| t != "null"))
                    .cloned()
                    .collect();
                if rest.len() == 1 && rest.len() < any.len() {
                    map.remove("anyOf");
                    if let Value::Object(inner) = &rest[0] {
                        for (k, v) in inner {
                            map.entry(k.clone()).or_insert_with(|| v.clone());
                        }
                    }
                }
            }
            map.values_mut().for_each(drop_null);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null),
        _ => {}
    }
}

/// [`schema`] as the committed file's text (pretty, ending in a newline).
pub fn schema_json() -> String {
    let value = serde_json::to_value(schema()).expect("a schema serialises");
    let mut text = serde_json::to_string_pretty(&sorted_keys(value)).expect("a schema serialises");
    text.push('\n');
    text
}

/// Object keys in sorted order at every level: the file must not depend on whether a build
/// happens to switch on serde_json's `preserve_order` (a whole-workspace build does).
fn sorted_keys(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted_keys(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted_keys).collect()),
        other => other,
    }
}
