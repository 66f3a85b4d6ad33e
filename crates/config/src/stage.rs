//! The stage file: `environments/<stage>/terraform.tfvars.json`.
//!
//! Terraform loads it as variables; the lab and the smoke test load it here. Every name that
//! more than one part needs (deployed function names, log groups, alarm names and their
//! metrics, the SNS topic) is derived here, once, and Terraform's locals mirror these rules
//! (a test in `scripts/checks` compares the two).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::alarm::{AlarmKind, RUNBOOKS_DIR, RUNBOOK_INDEX};
use crate::fault::{FaultConfig, FaultConfigError};

/// The function code bases in `functions/`: a stage's function must use one of them.
pub const KNOWN_CODES: [&str; 3] = ["auth", "product", "payment"];

/// HTTP API stage that the lab and Terraform use (auto-deployed).
pub const API_STAGE_NAME: &str = "$default";

#[derive(Debug, thiserror::Error)]
pub enum StageError {
    #[error("cannot read stage file {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("stage file {path}: field `{field}`: {message}")]
    Parse {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("stage file {path}: field `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
}

/// One stage, exactly as the stage file writes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub stage: String,
    pub aws_region: String,
    pub allowed_account_ids: Vec<String>,
    pub log_retention_days: u32,
    #[serde(default)]
    pub tracing_enabled: bool,
    pub alarm_emails: Vec<String>,
    pub api_throttle: ApiThrottle,
    pub functions: BTreeMap<String, FunctionSpec>,
    /// Route key ("GET /pay") to function key.
    pub routes: BTreeMap<String, String>,
    pub alarms: Alarms,
    /// Where the runbooks of [`RUNBOOKS_DIR`] are published, e.g.
    /// `https://github.com/<owner>/<repo>/blob/main/docs/runbooks` (https, no trailing slash);
    /// each alarm links `<runbook_base_url>/<kind>.md`. Absent: the repository-relative path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runbook_base_url: Option<String>,
    /// How releases shift traffic to a new version (`release.strategy`).
    #[serde(default)]
    pub release: crate::release::ReleaseSettings,
}

/// The longest `runbook_base_url` accepted: CloudWatch keeps at most 1024 characters of an
/// alarm description, and the description holds the metric, maths and subject before the link.
pub const MAX_RUNBOOK_BASE_URL_LEN: usize = 512;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiThrottle {
    /// Steady-state requests per second.
    pub rate_limit: f64,
    /// Bucket size.
    pub burst_limit: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionSpec {
    /// Code base in `functions/<code>`; the same code may be deployed under several keys.
    pub code: String,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// Lambda's reserved concurrency; `null` (or absent) = unreserved, drawing on the account's
    /// unreserved pool. A new account's quota is often 10, where no reservation is allowed at
    /// all (AWS keeps 100 unreserved): such a stage must leave every function unreserved.
    #[serde(default)]
    pub reserved_concurrency: Option<u32>,
    pub fault: Option<FaultSpec>,
}

/// A fault as the stage file writes it; [`FaultSpec::env_vars`] turns it into `FAULT_*`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    pub mode: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

impl FaultSpec {
    /// The `FAULT_*` variables Terraform and the lab set for this fault.
    pub fn env_vars(&self) -> BTreeMap<String, String> {
        let mut vars = BTreeMap::new();
        vars.insert("FAULT_MODE".to_owned(), self.mode.clone());
        let mut put = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                vars.insert(name.to_owned(), v);
            }
        };
        put("FAULT_MESSAGE", self.message.clone());
        put("FAULT_RATE", self.rate.map(|r| r.to_string()));
        put("FAULT_LATENCY_MS", self.latency_ms.map(|v| v.to_string()));
        put("FAULT_STATUS", self.status.map(|v| v.to_string()));
        put("FAULT_EXPIRES_AT", self.expires_at.clone());
        put("FAULT_SEED", self.seed.map(|v| v.to_string()));
        vars
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TreatMissingData {
    #[serde(rename = "missing")]
    Missing,
    #[serde(rename = "notBreaching")]
    NotBreaching,
    #[serde(rename = "breaching")]
    Breaching,
    #[serde(rename = "ignore")]
    Ignore,
}

impl TreatMissingData {
    pub fn as_str(&self) -> &'static str {
        match self {
            TreatMissingData::Missing => "missing",
            TreatMissingData::NotBreaching => "notBreaching",
            TreatMissingData::Breaching => "breaching",
            TreatMissingData::Ignore => "ignore",
        }
    }

    /// The rule named as CloudWatch (and the stage file) writes it: `notBreaching`, ...
    pub fn parse(name: &str) -> Option<TreatMissingData> {
        [
            TreatMissingData::Missing,
            TreatMissingData::NotBreaching,
            TreatMissingData::Breaching,
            TreatMissingData::Ignore,
        ]
        .into_iter()
        .find(|t| t.as_str() == name)
    }
}

/// The alarm maths of one kind. `threshold_ms` is the threshold of duration alarms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlarmMath {
    pub period_s: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold_ms: Option<f64>,
    pub treat_missing_data: TreatMissingData,
}

/// The alarm kinds: four per function, one for the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Alarms {
    /// `OutageLab Faults`, high resolution: detection within seconds.
    pub fast_errors: AlarmMath,
    /// `AWS/Lambda Errors`: the backstop for crashes and timeouts a function cannot report.
    pub errors: AlarmMath,
    /// `AWS/Lambda Duration` p99 against `threshold_ms`.
    pub duration_p99: AlarmMath,
    /// `AWS/Lambda Throttles`.
    pub throttles: AlarmMath,
    /// `AWS/ApiGateway 5xx` for the whole API.
    pub api_5xx: AlarmMath,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlarmSubject {
    /// The function's key in the stage file.
    Function(String),
    Api,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Statistic {
    Sum,
    /// An extended statistic such as `p99`.
    Percentile(String),
}

impl Statistic {
    /// The name CloudWatch uses: `Sum` or `p99`.
    pub fn name(&self) -> &str {
        match self {
            Statistic::Sum => "Sum",
            Statistic::Percentile(p) => p,
        }
    }
}

/// One alarm, fully resolved: what Terraform creates and the lab evaluates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmDefinition {
    pub name: String,
    pub kind: AlarmKind,
    pub subject: AlarmSubject,
    pub namespace: String,
    pub metric_name: String,
    pub dimensions: BTreeMap<String, String>,
    pub statistic: Statistic,
    pub period_s: u32,
    pub evaluation_periods: u32,
    pub datapoints_to_alarm: u32,
    pub threshold: f64,
    pub comparison_operator: String,
    pub treat_missing_data: TreatMissingData,
    /// The alarm's description, as Terraform writes it into `alarm_description` (and so into the
    /// SNS e-mail): the metric, the maths and the subject, ending with `Runbook: <runbook>`.
    #[serde(default)]
    pub description: String,
    /// The runbook of the alarm's kind: `<runbook_base_url>/<kind>.md`, or the
    /// repository-relative `docs/runbooks/<kind>.md` when the stage file sets no base URL.
    #[serde(default)]
    pub runbook: String,
    /// The SNS topic its actions notify: `<stage>-alarms` (on-call's e-mail), or for a
    /// deliberately broken function `<stage>-known-broken`, which nobody subscribes to.
    #[serde(default)]
    pub topic: String,
    /// Series of the same metric subtracted, period by period, before the threshold is compared
    /// (CloudWatch metric math `m0 - FILL(m1, 0) - ...`; Sum alarms only): the API's 5xx without
    /// the routes of functions deployed broken on purpose, which would otherwise page on every
    /// call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub minus: Vec<BTreeMap<String, String>>,
}

/// The stage's composite alarm, as terraform/modules/monitoring creates it (PutCompositeAlarm).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeAlarmDefinition {
    pub name: String,
    /// The `AlarmRule`: `ALARM("<alarm>") OR ...` over every alarm that pages.
    pub rule: String,
    pub description: String,
    /// The paging topic, `<stage>-alarms`.
    pub topic: String,
}

impl Stage {
    /// Loads `environments/<stage>/terraform.tfvars.json` below `root` and checks that the file
    /// names the same stage as its folder.
    pub fn load_named(root: &Path, stage: &str) -> Result<Stage, StageError> {
        let path = root
            .join("environments")
            .join(stage)
            .join("terraform.tfvars.json");
        let loaded = Stage::load(&path)?;
        if loaded.stage != stage {
            return Err(StageError::Invalid {
                path,
                field: "stage".into(),
                message: format!("is {:?} but the file is in environments/{stage}", loaded.stage),
            });
        }
        Ok(loaded)
    }

    /// Loads and validates one stage file.
    pub fn load(path: &Path) -> Result<Stage, StageError> {
        let text = std::fs::read_to_string(path).map_err(|source| StageError::Read {
            path: path.to_owned(),
            source,
        })?;
        Stage::parse(&text, path)
    }

    /// Parses and validates stage-file text; `path` only labels errors.
    pub fn parse(text: &str, path: &Path) -> Result<Stage, StageError> {
        let mut de = serde_json::Deserializer::from_str(text);
        let stage: Stage = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let field = e.path().to_string();
            StageError::Parse {
                path: path.to_owned(),
                field: if field == "." { "(top level)".into() } else { field },
                message: e.into_inner().to_string(),
            }
        })?;
        stage.validate().map_err(|(field, message)| StageError::Invalid {
            path: path.to_owned(),
            field,
            message,
        })?;
        Ok(stage)
    }

    fn validate(&self) -> Result<(), (String, String)> {
        let bad = |field: String, message: String| Err((field, message));
        if !is_name(&self.stage) {
            return bad(
                "stage".into(),
                format!("{:?} must be lower-case letters, digits and '-'", self.stage),
            );
        }
        if self.aws_region.trim().is_empty() {
            return bad("aws_region".into(), "must not be empty".into());
        }
        if self.allowed_account_ids.is_empty() {
            return bad(
                "allowed_account_ids".into(),
                "must list at least one AWS account id".into(),
            );
        }
        for (i, id) in self.allowed_account_ids.iter().enumerate() {
            if id.len() != 12 || !id.bytes().all(|b| b.is_ascii_digit()) {
                return bad(
                    format!("allowed_account_ids[{i}]"),
                    format!("{id:?} is not a 12-digit AWS account id"),
                );
            }
        }
        // The values CloudWatch Logs accepts for retention.
        const RETENTION: [u32; 22] = [
            1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
            3288, 3653,
        ];
        if !RETENTION.contains(&self.log_retention_days) {
            return bad(
                "log_retention_days".into(),
                format!(
                    "{} is not a CloudWatch Logs retention ({RETENTION:?})",
                    self.log_retention_days
                ),
            );
        }
        for (i, email) in self.alarm_emails.iter().enumerate() {
            if !email.contains('@') || email.contains(char::is_whitespace) {
                return bad(
                    format!("alarm_emails[{i}]"),
                    format!("{email:?} is not an e-mail address"),
                );
            }
        }
        if let Some(url) = &self.runbook_base_url {
            check_runbook_base_url(url).map_err(|message| ("runbook_base_url".to_owned(), message))?;
        }
        if !self.api_throttle.rate_limit.is_finite() || self.api_throttle.rate_limit <= 0.0 {
            return bad("api_throttle.rate_limit".into(), "must be greater than 0".into());
        }
        if self.api_throttle.burst_limit == 0 {
            return bad("api_throttle.burst_limit".into(), "must be greater than 0".into());
        }
        if self.functions.is_empty() {
            return bad("functions".into(), "must define at least one function".into());
        }
        for (key, f) in &self.functions {
            let at = |field: &str| format!("functions.{key}.{field}");
            if !is_name(key) {
                return bad(
                    format!("functions.{key}"),
                    "function keys are lower-case letters, digits and '-'".into(),
                );
            }
            if !KNOWN_CODES.contains(&f.code.as_str()) {
                return bad(
                    at("code"),
                    format!(
                        "{:?} is not a code base in functions/ (one of {})",
                        f.code,
                        KNOWN_CODES.join(", ")
                    ),
                );
            }
            if !(128..=10_240).contains(&f.memory_mb) {
                return bad(
                    at("memory_mb"),
                    format!("{} is outside Lambda's 128..=10240 MB", f.memory_mb),
                );
            }
            if !(1..=900).contains(&f.timeout_s) {
                return bad(
                    at("timeout_s"),
                    format!("{} is outside Lambda's 1..=900 s", f.timeout_s),
                );
            }
            if let Some(r) = f.reserved_concurrency.filter(|r| *r == 0 || *r > 1000) {
                return bad(
                    at("reserved_concurrency"),
                    format!("{r} must be from 1 to the account limit 1000, or null (unreserved): 0 would stop the function"),
                );
            }
            if let Some(fault) = &f.fault {
                FaultConfig::from_vars(&fault.env_vars()).map_err(|e: FaultConfigError| {
                    (at(&format!("fault.{}", fault_field(e.variable))), e.to_string())
                })?;
            }
        }
        if self.routes.is_empty() {
            return bad("routes".into(), "must define at least one route".into());
        }
        for (route, target) in &self.routes {
            let field = format!("routes.{route}");
            let Some((method, path)) = route.split_once(' ') else {
                return bad(
                    field,
                    "a route key is \"METHOD /path\", for example \"GET /pay\"".into(),
                );
            };
            const METHODS: [&str; 8] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY"];
            if !METHODS.contains(&method) {
                return bad(
                    field,
                    format!("method {method:?} is not one of {}", METHODS.join(", ")),
                );
            }
            if !path.starts_with('/') || path.contains(char::is_whitespace) {
                return bad(
                    field,
                    format!("path {path:?} must start with '/' and hold no spaces"),
                );
            }
            if !self.functions.contains_key(target) {
                return bad(
                    field,
                    format!("names function {target:?}, which `functions` does not define"),
                );
            }
        }
        for (kind, math, threshold_field) in self.alarm_kinds() {
            let at = |field: &str| format!("alarms.{kind}.{field}");
            let p = math.period_s;
            if !(p == 10 || p == 20 || p == 30 || (p >= 60 && p.is_multiple_of(60))) {
                return bad(
                    at("period_s"),
                    format!("{p} is not a CloudWatch period (10, 20, 30 or a multiple of 60)"),
                );
            }
            // AWS/Lambda and AWS/ApiGateway publish one datapoint a minute: a shorter period
            // never holds one, and the alarm stays OK for ever. Only the functions' own
            // high-resolution metric (OutageLab, fast_errors) has 10 s datapoints.
            if kind != "fast_errors" && p < 60 {
                return bad(
                    at("period_s"),
                    format!(
                        "{p} s is finer than the one-minute metric this alarm watches (AWS/Lambda, AWS/ApiGateway): it would never see a datapoint and stay OK; use 60 or a multiple"
                    ),
                );
            }
            if math.evaluation_periods == 0 {
                return bad(at("evaluation_periods"), "must be at least 1".into());
            }
            if math.datapoints_to_alarm == 0 || math.datapoints_to_alarm > math.evaluation_periods {
                return bad(
                    at("datapoints_to_alarm"),
                    format!(
                        "{} must be from 1 to evaluation_periods ({})",
                        math.datapoints_to_alarm, math.evaluation_periods
                    ),
                );
            }
            // CloudWatch allows at most one day of evaluation (N * period <= 86400).
            if u64::from(math.evaluation_periods) * u64::from(p) > 86_400 {
                return bad(
                    at("evaluation_periods"),
                    "evaluation_periods * period_s must not exceed 86400 s".into(),
                );
            }
            let (given, other) = if threshold_field == "threshold" {
                (math.threshold, math.threshold_ms.map(|_| "threshold_ms"))
            } else {
                (math.threshold_ms, math.threshold.map(|_| "threshold"))
            };
            if let Some(other) = other {
                return bad(
                    at(other),
                    format!("this alarm kind takes `{threshold_field}`, not `{other}`"),
                );
            }
            match given {
                None => return bad(at(threshold_field), "is required".into()),
                Some(t) if !t.is_finite() || t <= 0.0 => {
                    return bad(at(threshold_field), format!("{t} must be a positive number"))
                }
                Some(_) => {}
            }
        }
        Ok(())
    }

    fn alarm_kinds(&self) -> [(&'static str, &AlarmMath, &'static str); 5] {
        [
            ("fast_errors", &self.alarms.fast_errors, "threshold"),
            ("errors", &self.alarms.errors, "threshold"),
            ("duration_p99", &self.alarms.duration_p99, "threshold_ms"),
            ("throttles", &self.alarms.throttles, "threshold"),
            ("api_5xx", &self.alarms.api_5xx, "threshold"),
        ]
    }

    /// The deployed Lambda function name of a function key: `<stage>-<key>`.
    pub fn function_name(&self, key: &str) -> String {
        format!("{}-{key}", self.stage)
    }

    /// The stage's CodeDeploy application (compute platform Lambda).
    pub fn codedeploy_application(&self) -> String {
        format!("{}-outage-lab", self.stage)
    }

    /// The alarms that stop a release of the function and roll it back: the function's own
    /// metric alarms. None for a function deployed broken on purpose: its alarms are always in
    /// ALARM, so a gated release of it could never succeed.
    pub fn rollback_alarms(&self, key: &str) -> Vec<String> {
        if self.is_known_broken(key) {
            return Vec::new();
        }
        self.alarm_definitions("")
            .into_iter()
            .filter(|d| d.subject == AlarmSubject::Function(key.to_owned()))
            .map(|d| d.name)
            .collect()
    }

    /// The function's CodeDeploy deployment group: named as the function.
    pub fn deployment_group(&self, key: &str) -> String {
        self.function_name(key)
    }

    /// The function's log group, as Lambda names it.
    pub fn log_group(&self, key: &str) -> String {
        format!("/aws/lambda/{}", self.function_name(key))
    }

    /// The HTTP API's name.
    pub fn api_name(&self) -> String {
        format!("{}-outage-lab", self.stage)
    }

    /// The concurrency the stage reserves in its account, over every function.
    pub fn reserved_total(&self) -> u32 {
        self.functions
            .values()
            .filter_map(|f| f.reserved_concurrency)
            .sum()
    }

    /// The SNS topic the alarms notify (on-call subscribes to it), every alarm but those of a
    /// deliberately broken function.
    pub fn alarm_topic_name(&self) -> String {
        format!("{}-alarms", self.stage)
    }

    /// The topic of a deliberately broken function's alarms: no subscription, so they show on
    /// the dashboard and in the history but never page anyone.
    pub fn known_broken_topic_name(&self) -> String {
        format!("{}-known-broken", self.stage)
    }

    /// A function the stage file deploys broken on purpose (it sets a `fault`): the seed's
    /// broken payment, there to be seen failing, not to page.
    pub fn is_known_broken(&self, key: &str) -> bool {
        self.functions.get(key).is_some_and(|f| f.fault.is_some())
    }

    /// The routes served by a function deployed broken on purpose (`GET /pay` in dev), in key order.
    pub fn known_broken_routes(&self) -> Vec<&str> {
        self.routes
            .iter()
            .filter(|(_, key)| self.is_known_broken(key))
            .map(|(route, _)| route.as_str())
            .collect()
    }

    /// The name of one alarm: `<stage>-<function>-<kind>` or `<stage>-api-<kind>`, the kind
    /// written with hyphens and without a second `api` (`dev-payment-fast-errors`, `dev-api-5xx`).
    pub fn alarm_name(&self, subject: &AlarmSubject, kind: AlarmKind) -> String {
        match subject {
            AlarmSubject::Function(key) => format!("{}-{key}-{}", self.stage, kind.name_suffix()),
            AlarmSubject::Api => format!("{}-api-{}", self.stage, kind.name_suffix()),
        }
    }

    /// The name of a function's alarm of one kind (`dev-payment-fixed-fast-errors`).
    pub fn function_alarm_name(&self, key: &str, kind: AlarmKind) -> String {
        self.alarm_name(&AlarmSubject::Function(key.to_owned()), kind)
    }

    /// The runbook of an alarm kind: `<runbook_base_url>/<kind>.md`, or `docs/runbooks/<kind>.md`
    /// (relative to the repository root) when the stage file sets no `runbook_base_url`.
    pub fn runbook_url(&self, kind: AlarmKind) -> String {
        match &self.runbook_base_url {
            Some(base) => format!("{base}/{}", kind.runbook_file()),
            None => kind.runbook_path(),
        }
    }

    /// The runbooks' index, linked where no single kind applies (the composite alarm).
    pub fn runbook_index_url(&self) -> String {
        match &self.runbook_base_url {
            Some(base) => format!("{base}/{RUNBOOK_INDEX}"),
            None => format!("{RUNBOOKS_DIR}/{RUNBOOK_INDEX}"),
        }
    }

    /// Every alarm the stage implies, functions in key order, then the API. `api_id` fills the
    /// `ApiId` dimension (the lab's id locally, the deployed API's id on AWS).
    pub fn alarm_definitions(&self, api_id: &str) -> Vec<AlarmDefinition> {
        let mut out = Vec::new();
        let define = |subject: AlarmSubject,
                      kind: AlarmKind,
                      math: &AlarmMath,
                      namespace: &str,
                      metric: &str,
                      dimensions: BTreeMap<String, String>,
                      statistic: Statistic| {
            let threshold = math.threshold.or(math.threshold_ms).unwrap_or_default();
            let runbook = self.runbook_url(kind);
            // terraform/modules/monitoring writes the same text into `alarm_description`
            // (scripts/tf-local-apply compares them); Terraform prints numbers as Rust does.
            let watched = match &subject {
                AlarmSubject::Function(key) => format!("function {}", self.function_name(key)),
                AlarmSubject::Api => format!("HTTP API {api_id}"),
            };
            let minus = match &subject {
                AlarmSubject::Api => self.known_broken_route_dimensions(api_id),
                AlarmSubject::Function(_) => Vec::new(),
            };
            let left_out: Vec<&str> = self
                .known_broken_routes()
                .into_iter()
                .filter(|r| r.contains(' '))
                .collect();
            let without = if matches!(subject, AlarmSubject::Api) && !left_out.is_empty() {
                format!(" without {} (broken on purpose)", left_out.join(", "))
            } else {
                String::new()
            };
            let description = format!(
                "{namespace} {metric} {statistic} >= {threshold} for {watched}{without} ({m} of {n} x {period} s). Runbook: {runbook}",
                statistic = statistic.name(),
                m = math.datapoints_to_alarm,
                n = math.evaluation_periods,
                period = math.period_s,
            );
            // A deliberately broken function fails on every request: its alarms must never page.
            let topic = match &subject {
                AlarmSubject::Function(key) if self.is_known_broken(key) => self.known_broken_topic_name(),
                _ => self.alarm_topic_name(),
            };
            AlarmDefinition {
                name: self.alarm_name(&subject, kind),
                kind,
                subject,
                topic,
                namespace: namespace.to_owned(),
                metric_name: metric.to_owned(),
                dimensions,
                statistic,
                period_s: math.period_s,
                evaluation_periods: math.evaluation_periods,
                datapoints_to_alarm: math.datapoints_to_alarm,
                threshold,
                comparison_operator: "GreaterThanOrEqualToThreshold".to_owned(),
                treat_missing_data: math.treat_missing_data,
                description,
                runbook,
                minus,
            }
        };
        for key in self.functions.keys() {
            let name = self.function_name(key);
            let by_function = BTreeMap::from([("FunctionName".to_owned(), name.clone())]);
            let subject = || AlarmSubject::Function(key.clone());
            let a = &self.alarms;
            out.push(define(
                subject(),
                AlarmKind::FastErrors,
                &a.fast_errors,
                "OutageLab",
                "Faults",
                BTreeMap::from([("Service".to_owned(), name.clone())]),
                Statistic::Sum,
            ));
            out.push(define(
                subject(),
                AlarmKind::Errors,
                &a.errors,
                "AWS/Lambda",
                "Errors",
                by_function.clone(),
                Statistic::Sum,
            ));
            out.push(define(
                subject(),
                AlarmKind::DurationP99,
                &a.duration_p99,
                "AWS/Lambda",
                "Duration",
                by_function.clone(),
                Statistic::Percentile("p99".into()),
            ));
            out.push(define(
                subject(),
                AlarmKind::Throttles,
                &a.throttles,
                "AWS/Lambda",
                "Throttles",
                by_function,
                Statistic::Sum,
            ));
        }
        let api_dims = BTreeMap::from([
            ("ApiId".to_owned(), api_id.to_owned()),
            ("Stage".to_owned(), API_STAGE_NAME.to_owned()),
        ]);
        out.push(define(
            AlarmSubject::Api,
            AlarmKind::Api5xx,
            &self.alarms.api_5xx,
            "AWS/ApiGateway",
            "5xx",
            api_dims,
            Statistic::Sum,
        ));
        out
    }

    /// `<stage>-service-health`: in ALARM while any alarm that pages is, so an incident pages
    /// once however many symptoms it has. A deliberately broken function's alarms stay out of the
    /// rule: they would hold it in ALARM for good. Same name, rule and description as
    /// terraform/modules/monitoring's `aws_cloudwatch_composite_alarm.service_health`.
    pub fn composite_alarm(&self, definitions: &[AlarmDefinition]) -> CompositeAlarmDefinition {
        let paging = self.alarm_topic_name();
        let terms: Vec<String> = definitions
            .iter()
            .filter(|d| d.topic == paging)
            .map(|d| format!("ALARM(\"{}\")", d.name))
            .collect();
        CompositeAlarmDefinition {
            name: format!("{}-service-health", self.stage),
            rule: if terms.is_empty() {
                "FALSE".to_owned()
            } else {
                terms.join(" OR ")
            },
            description: format!(
                "In ALARM while any alarm of stage {} that pages is: one page per incident instead of one per symptom. The alarm in ALARM names its runbook; all runbooks: {}",
                self.stage,
                self.runbook_index_url()
            ),
            topic: paging,
        }
    }

    /// The per-route dimension sets of the API's detailed metrics (`ApiId`, `Stage`, `Method`,
    /// `Resource`: API Gateway developer guide, "Monitor CloudWatch metrics for HTTP APIs") of
    /// every route a broken-on-purpose function serves. A `$default` route has no method and
    /// path to name, so it cannot be left out.
    pub fn known_broken_route_dimensions(&self, api_id: &str) -> Vec<BTreeMap<String, String>> {
        self.known_broken_routes()
            .into_iter()
            .filter_map(|route| route.split_once(' '))
            .map(|(method, path)| {
                BTreeMap::from([
                    ("ApiId".to_owned(), api_id.to_owned()),
                    ("Stage".to_owned(), API_STAGE_NAME.to_owned()),
                    ("Method".to_owned(), method.to_owned()),
                    ("Resource".to_owned(), path.to_owned()),
                ])
            })
            .collect()
    }

    /// The `FAULT_*` variables a function starts with (empty when it has no fault).
    pub fn fault_vars(&self, key: &str) -> BTreeMap<String, String> {
        self.functions
            .get(key)
            .and_then(|f| f.fault.as_ref())
            .map(FaultSpec::env_vars)
            .unwrap_or_default()
    }
}

/// A base URL the runbook file names are appended to after a `/`; the same rule as the
/// `runbook_base_url` validation in terraform/stack/stage-variables.tf.
fn check_runbook_base_url(url: &str) -> Result<(), String> {
    let Some(rest) = url.strip_prefix("https://") else {
        return Err(format!("{url:?} must be an https:// URL"));
    };
    if rest.split('/').next().unwrap_or_default().is_empty() {
        return Err(format!("{url:?} has no host"));
    }
    if url.contains(|c: char| c.is_ascii_whitespace() || c == '?' || c == '#') {
        return Err(format!(
            "{url:?} must not hold spaces, '?' or '#': the runbook's file name is appended to it"
        ));
    }
    if url.ends_with('/') {
        return Err(format!(
            "{url:?} must not end with '/': the runbook's file name is appended after one"
        ));
    }
    if url.chars().count() > MAX_RUNBOOK_BASE_URL_LEN {
        return Err(format!(
            "is longer than {MAX_RUNBOOK_BASE_URL_LEN} characters (CloudWatch keeps at most 1024 of an alarm description)"
        ));
    }
    Ok(())
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
}

/// The stage-file field of a `FAULT_*` variable.
fn fault_field(variable: &str) -> &'static str {
    match variable {
        "FAULT_MODE" => "mode",
        "FAULT_RATE" => "rate",
        "FAULT_MESSAGE" => "message",
        "FAULT_LATENCY_MS" => "latency_ms",
        "FAULT_STATUS" => "status",
        "FAULT_EXPIRES_AT" => "expires_at",
        _ => "seed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repo_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    fn dev_text() -> String {
        std::fs::read_to_string(repo_root().join("environments/dev/terraform.tfvars.json")).unwrap()
    }

    fn parse_edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<Stage, StageError> {
        let mut v: serde_json::Value = serde_json::from_str(&dev_text()).unwrap();
        edit(&mut v);
        Stage::parse(&v.to_string(), Path::new("dev.json"))
    }

    fn field_of(e: StageError) -> String {
        match e {
            StageError::Parse { field, .. } | StageError::Invalid { field, .. } => field,
            StageError::Read { .. } => panic!("unexpected read error"),
        }
    }

    #[test]
    fn the_composite_alarm_names_every_paging_alarm_and_no_known_broken_one() {
        let dev = Stage::load_named(&repo_root(), "dev").unwrap();
        let defs = dev.alarm_definitions("abc123");
        let composite = dev.composite_alarm(&defs);
        assert_eq!(composite.name, "dev-service-health");
        assert_eq!(composite.topic, "dev-alarms");
        assert!(composite
            .rule
            .contains("ALARM(\"dev-payment-fixed-fast-errors\") OR "));
        assert!(composite.rule.contains("ALARM(\"dev-api-5xx\")"));
        for broken in defs.iter().filter(|d| d.topic == "dev-known-broken") {
            assert!(
                !composite.rule.contains(&format!("\"{}\"", broken.name)),
                "{}",
                composite.rule
            );
        }
        let paging = defs.iter().filter(|d| d.topic == "dev-alarms").count();
        assert_eq!(composite.rule.matches(" OR ").count() + 1, paging);
    }

    #[test]
    fn every_committed_stage_loads() {
        for stage in ["dev", "staging", "prod"] {
            let s = Stage::load_named(&repo_root(), stage).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(s.stage, stage);
            assert!(s.functions["payment-fixed"].fault.is_none());
        }
        // The broken payment is there to be seen failing in dev and staging, never in prod.
        for stage in ["dev", "staging"] {
            let s = Stage::load_named(&repo_root(), stage).unwrap();
            assert_eq!(s.functions["payment"].fault.as_ref().unwrap().mode, "exception");
            assert!(s.is_known_broken("payment") && !s.is_known_broken("payment-fixed"));
        }
        let prod = Stage::load_named(&repo_root(), "prod").unwrap();
        assert!(!prod.functions.contains_key("payment") && !prod.routes.contains_key("GET /pay"));
        assert!(prod.functions.keys().all(|k| !prod.is_known_broken(k)));
    }

    #[test]
    fn a_function_broken_on_purpose_notifies_a_topic_nobody_subscribes_to() {
        let s = Stage::load_named(&repo_root(), "dev").unwrap();
        for a in s.alarm_definitions("lab0001") {
            let broken = matches!(&a.subject, AlarmSubject::Function(k) if k == "payment");
            let topic = if broken { "dev-known-broken" } else { "dev-alarms" };
            assert_eq!(a.topic, topic, "{}", a.name);
        }
    }

    #[test]
    fn alarm_set_is_four_per_function_and_one_for_the_api() {
        let s = Stage::load_named(&repo_root(), "dev").unwrap();
        let alarms = s.alarm_definitions("lab0001");
        assert_eq!(alarms.len(), 4 * s.functions.len() + 1);
        let fast = alarms
            .iter()
            .find(|a| a.name == "dev-payment-fixed-fast-errors")
            .unwrap();
        assert_eq!(
            (fast.namespace.as_str(), fast.metric_name.as_str(), fast.period_s),
            ("OutageLab", "Faults", 20)
        );
        assert_eq!(fast.dimensions["Service"], "dev-payment-fixed");
        let p99 = alarms.iter().find(|a| a.name == "dev-auth-duration-p99").unwrap();
        assert_eq!((p99.statistic.name(), p99.threshold), ("p99", 1000.0));
        let api = alarms.iter().find(|a| a.name == "dev-api-5xx").unwrap();
        assert_eq!(api.dimensions["ApiId"], "lab0001");
        assert_eq!(api.dimensions["Stage"], "$default");
    }

    #[test]
    fn each_alarm_describes_itself_and_links_its_runbook() {
        let s = Stage::load_named(&repo_root(), "dev").unwrap();
        assert_eq!(s.runbook_base_url, None);
        let alarms = s.alarm_definitions("lab0001");
        let by_name = |name: &str| alarms.iter().find(|a| a.name == name).unwrap().clone();
        let fast = by_name("dev-payment-fixed-fast-errors");
        assert_eq!(fast.runbook, "docs/runbooks/fast-errors.md");
        assert_eq!(
            fast.description,
            "OutageLab Faults Sum >= 1 for function dev-payment-fixed (1 of 1 x 20 s). Runbook: docs/runbooks/fast-errors.md"
        );
        assert_eq!(
            by_name("dev-auth-duration-p99").description,
            "AWS/Lambda Duration p99 >= 1000 for function dev-auth (2 of 3 x 60 s). Runbook: docs/runbooks/duration-p99.md"
        );
        assert_eq!(
            by_name("dev-api-5xx").description,
            "AWS/ApiGateway 5xx Sum >= 5 for HTTP API lab0001 without GET /pay (broken on purpose) (1 of 1 x 60 s). Runbook: docs/runbooks/api-5xx.md"
        );
        // The broken route's 5xx are subtracted (metric math over the per-route metrics); prod,
        // which does not deploy the broken payment, watches the plain metric.
        assert_eq!(
            by_name("dev-api-5xx").minus,
            [BTreeMap::from([
                ("ApiId".to_owned(), "lab0001".to_owned()),
                ("Method".to_owned(), "GET".to_owned()),
                ("Resource".to_owned(), "/pay".to_owned()),
                ("Stage".to_owned(), "$default".to_owned()),
            ])]
        );
        assert!(alarms
            .iter()
            .filter(|a| a.name != "dev-api-5xx")
            .all(|a| a.minus.is_empty()));
        let prod = Stage::load_named(&repo_root(), "prod").unwrap();
        let prod_api = prod
            .alarm_definitions("x")
            .into_iter()
            .find(|a| a.name == "prod-api-5xx")
            .unwrap();
        assert!(prod_api.minus.is_empty() && !prod_api.description.contains("without"));
        for a in &alarms {
            assert_eq!(a.runbook, a.kind.runbook_path(), "{}", a.name);
            assert!(
                a.description.ends_with(&format!("Runbook: {}", a.runbook)),
                "{}",
                a.description
            );
        }
        assert_eq!(s.runbook_index_url(), "docs/runbooks/README.md");
    }

    #[test]
    fn a_runbook_base_url_makes_every_link_absolute() {
        let base = "https://github.com/acme/outage-lab/blob/main/docs/runbooks";
        let s = parse_edited(|v| v["runbook_base_url"] = base.into()).unwrap();
        assert_eq!(
            s.runbook_url(AlarmKind::Throttles),
            format!("{base}/throttles.md")
        );
        assert_eq!(s.runbook_index_url(), format!("{base}/README.md"));
        let alarms = s.alarm_definitions("abc123");
        let kinds: std::collections::BTreeSet<AlarmKind> = alarms.iter().map(|a| a.kind).collect();
        assert_eq!(kinds.len(), AlarmKind::ALL.len());
        for a in &alarms {
            assert_eq!(a.runbook, format!("{base}/{}.md", a.kind));
            assert!(
                a.description
                    .ends_with(&format!(". Runbook: {base}/{}.md", a.kind)),
                "{}",
                a.description
            );
            assert!(a.description.len() <= 1024, "{}", a.description);
        }
        // The field is written back only when set, so a stage file without it stays as it was.
        let plain = Stage::load_named(&repo_root(), "dev").unwrap();
        assert!(!serde_json::to_string(&plain)
            .unwrap()
            .contains("runbook_base_url"));
        assert!(serde_json::to_string(&s).unwrap().contains(base));
    }

    /// A new account's concurrency quota is often 10, where no reservation is allowed at all:
    /// a stage must be able to leave its functions unreserved.
    #[test]
    fn reserved_concurrency_null_or_absent_is_unreserved_and_zero_is_refused() {
        let s = parse_edited(|v| v["functions"]["auth"]["reserved_concurrency"] = serde_json::Value::Null)
            .unwrap();
        assert_eq!(s.functions["auth"].reserved_concurrency, None);
        let s = parse_edited(|v| {
            v["functions"]["auth"]
                .as_object_mut()
                .unwrap()
                .remove("reserved_concurrency");
        })
        .unwrap();
        assert_eq!(s.functions["auth"].reserved_concurrency, None);
        assert_eq!(
            s.reserved_total(),
            30,
            "dev's three other functions reserve 10 each"
        );
        for bad in [0, 1001] {
            let e =
                parse_edited(|v| v["functions"]["auth"]["reserved_concurrency"] = bad.into()).unwrap_err();
            assert_eq!(field_of(e), "functions.auth.reserved_concurrency", "{bad}");
        }
    }

    #[test]
    fn a_release_is_gated_on_the_function_s_own_alarms_unless_it_is_broken_on_purpose() {
        let dev = Stage::load_named(&repo_root(), "dev").unwrap();
        assert_eq!(
            dev.rollback_alarms("payment-fixed"),
            [
                "dev-payment-fixed-fast-errors",
                "dev-payment-fixed-errors",
                "dev-payment-fixed-duration-p99",
                "dev-payment-fixed-throttles"
            ]
        );
        assert!(dev.rollback_alarms("payment").is_empty());
        assert_eq!(dev.codedeploy_application(), "dev-outage-lab");
        assert_eq!(dev.deployment_group("auth"), "dev-auth");
    }

    #[test]
    fn the_release_strategy_is_read_and_a_bad_one_names_the_field() {
        use crate::release::TrafficRouting;
        let dev = Stage::load_named(&repo_root(), "dev").unwrap();
        assert_eq!(dev.release.strategy.to_string(), "canary:10%:1m");
        let absent = parse_edited(|v| {
            v.as_object_mut().unwrap().remove("release");
        })
        .unwrap();
        assert_eq!(absent.release.strategy, TrafficRouting::AllAtOnce);
        let e = parse_edited(|v| v["release"]["strategy"] = "blue-green".into()).unwrap_err();
        assert!(e.to_string().contains("unknown release strategy"), "{e}");
        assert_eq!(field_of(e), "release.strategy");
        let e = parse_edited(|v| v["release"]["strategy"] = "canary:120%:1m".into()).unwrap_err();
        assert_eq!(field_of(e), "release.strategy");
    }

    #[test]
    fn a_bad_runbook_base_url_names_the_field() {
        let too_long = format!("https://example.com/{}", "a".repeat(MAX_RUNBOOK_BASE_URL_LEN));
        for (url, says) in [
            ("http://example.com/runbooks", "https://"),
            ("example.com/runbooks", "https://"),
            ("https://", "no host"),
            ("https:///docs/runbooks", "no host"),
            (
                "https://github.com/acme/outage-lab/blob/main/docs/runbooks/",
                "end with '/'",
            ),
            ("https://example.com/run books", "spaces"),
            ("https://example.com/runbooks?ref=main", "'?'"),
            ("https://example.com/runbooks#top", "'#'"),
            (too_long.as_str(), "longer than 512"),
        ] {
            let e = parse_edited(|v| v["runbook_base_url"] = url.into()).unwrap_err();
            let text = e.to_string();
            assert_eq!(field_of(e), "runbook_base_url", "{url}");
            assert!(text.contains(says), "{url}: {text}");
        }
        let e = parse_edited(|v| v["runbook_base_url"] = 3.into()).unwrap_err();
        assert_eq!(field_of(e), "runbook_base_url");
        // `null` is the same as leaving the field out, as in Terraform.
        assert_eq!(
            parse_edited(|v| v["runbook_base_url"] = serde_json::Value::Null)
                .unwrap()
                .runbook_base_url,
            None
        );
        assert!(parse_edited(|v| v["runbook_base_url"] = "https://runbooks.example.com".into()).is_ok());
    }

    #[test]
    fn malformed_json_names_the_field() {
        let e = Stage::parse(r#"{"stage": "dev", "aws_region": 3}"#, Path::new("x.json")).unwrap_err();
        assert_eq!(field_of(e), "aws_region");
        let e = parse_edited(|v| v["functions"]["auth"]["memory"] = 128.into()).unwrap_err();
        assert_eq!(field_of(e), "functions.auth.memory");
        let e =
            parse_edited(|v| v["alarms"]["errors"]["treat_missing_data"] = "sometimes".into()).unwrap_err();
        assert_eq!(field_of(e), "alarms.errors.treat_missing_data");
    }

    #[test]
    fn inconsistent_values_name_the_field() {
        type Edit = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(Edit, &str)> = vec![
            (
                Box::new(|v| v["routes"]["GET /x"] = "nope".into()),
                "routes.GET /x",
            ),
            (
                Box::new(|v| v["alarms"]["fast_errors"]["period_s"] = 45.into()),
                "alarms.fast_errors.period_s",
            ),
            (
                Box::new(|v| v["alarms"]["errors"]["threshold"] = 0.into()),
                "alarms.errors.threshold",
            ),
            (
                Box::new(|v| v["alarms"]["errors"]["period_s"] = 10.into()),
                "alarms.errors.period_s",
            ),
            (
                Box::new(|v| v["alarms"]["api_5xx"]["period_s"] = 30.into()),
                "alarms.api_5xx.period_s",
            ),
            (
                Box::new(|v| v["alarms"]["errors"]["datapoints_to_alarm"] = 2.into()),
                "alarms.errors.datapoints_to_alarm",
            ),
            (
                Box::new(|v| v["functions"]["payment"]["fault"]["mode"] = "explode".into()),
                "functions.payment.fault.mode",
            ),
            (
                Box::new(|v| v["functions"]["auth"]["code"] = "billing".into()),
                "functions.auth.code",
            ),
            (
                Box::new(|v| v["functions"]["auth"]["timeout_s"] = 0.into()),
                "functions.auth.timeout_s",
            ),
            (
                Box::new(|v| v["log_retention_days"] = 8.into()),
                "log_retention_days",
            ),
            (
                Box::new(|v| v["allowed_account_ids"][0] = "12".into()),
                "allowed_account_ids[0]",
            ),
        ];
        for (edit, field) in cases {
            assert_eq!(field_of(parse_edited(edit).unwrap_err()), field);
        }
    }

    #[test]
    fn folder_and_stage_field_must_agree() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("environments/qa");
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("terraform.tfvars.json"), dev_text()).unwrap();
        let e = Stage::load_named(dir.path(), "qa").unwrap_err();
        assert!(e.to_string().contains("environments/qa"), "{e}");
    }
}
