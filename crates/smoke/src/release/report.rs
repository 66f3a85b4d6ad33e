//! What `smoke-test release` reports: one entry per function of the stage, as JSON (`--json`)
//! or as lines for people, and the exit code it implies.

use std::collections::BTreeMap;

use serde::Serialize;
use time::OffsetDateTime;

/// How one function's release ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not decided yet: never in a finished report.
    Pending,
    /// `live` already serves the newest published version.
    Unchanged,
    /// The new version failed its direct invocation; no deployment was started.
    PreTrafficFailed,
    /// Nothing was started: a read failed, a release was already shifting traffic, or an earlier
    /// function's release failed first.
    NotStarted,
    /// CodeDeploy shifted all traffic to the new version.
    Succeeded,
    /// CodeDeploy failed the deployment (and rolled back).
    Failed,
    /// The deployment was stopped, by an alarm or by a person, and rolled back.
    Stopped,
    /// The deadline passed; the smoke test stopped the deployment with a rollback.
    TimedOut,
    /// Interrupted (Ctrl-C, SIGTERM); the smoke test stopped the deployment with a rollback.
    Interrupted,
    /// The smoke test had to stop the deployment and could not: `live` may still split traffic.
    StopFailed,
}

impl Status {
    fn label(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Unchanged => "unchanged",
            Status::PreTrafficFailed => "PRE-TRAFFIC CHECK FAILED",
            Status::NotStarted => "NOT STARTED",
            Status::Succeeded => "succeeded",
            Status::Failed => "FAILED",
            Status::Stopped => "STOPPED",
            Status::TimedOut => "TIMED OUT",
            Status::Interrupted => "INTERRUPTED",
            Status::StopFailed => "STOP FAILED",
        }
    }

    fn passed(self) -> bool {
        matches!(self, Status::Unchanged | Status::Succeeded)
    }
}

/// The pre-traffic check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PreTrafficCheck {
    Passed,
    Failed,
    /// A function deployed broken on purpose (its stage file sets a `fault`) is released
    /// without a gate.
    Skipped,
    /// Nothing to release, or the release did not get that far.
    NotRun,
}

/// One function's release.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionRelease {
    /// The function's key in the stage file (`payment-fixed`).
    pub function: String,
    /// The deployed name (`dev-payment-fixed`).
    pub function_name: String,
    /// The version `live` served before.
    pub from_version: Option<String>,
    /// The newest published version.
    pub to_version: Option<String>,
    pub status: Status,
    /// The alarm that stopped the deployment, when one did.
    pub stopped_by: Option<String>,
    /// When the deployment ended (CodeDeploy's completeTime) or, failing that, when the alarm
    /// that stopped it went to ALARM.
    #[serde(with = "time::serde::rfc3339::option")]
    pub stopped_at: Option<OffsetDateTime>,
    /// Bake requests sent through the API.
    pub requests: u32,
    /// The share of them the new version answered (`None` with no requests).
    pub new_version_share: Option<f64>,
    /// 5xx answers or none at all.
    pub failed_requests: u32,
    /// Answers by the version in their `x-function-version` header.
    pub served_by: BTreeMap<String, u32>,
    pub pre_traffic_check: PreTrafficCheck,
    pub deployment_id: Option<String>,
    /// What happened, in a sentence or two.
    pub detail: String,
}

/// The whole run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReleaseReport {
    pub stage: String,
    pub passed: bool,
    pub functions: Vec<FunctionRelease>,
    /// The old versions deleted after the train passed, per function (empty when pruning was
    /// not run). A version that could not be deleted does not fail the release.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pruned: Vec<super::prune::Pruned>,
}

impl ReleaseReport {
    pub fn new(stage: &str, functions: Vec<FunctionRelease>) -> ReleaseReport {
        ReleaseReport {
            stage: stage.to_owned(),
            passed: functions.iter().all(|f| f.status.passed()),
            functions,
            pruned: Vec::new(),
        }
    }

    /// 0 every function succeeded or had nothing to release; 3 a deployment that had to be
    /// stopped could not be (a person must act); 1 anything else.
    pub fn exit_code(&self) -> u8 {
        if self.functions.iter().any(|f| f.status == Status::StopFailed) {
            3
        } else if self.passed {
            0
        } else {
            1
        }
    }
}

fn versions(f: &FunctionRelease) -> String {
    match (&f.from_version, &f.to_version) {
        (Some(a), Some(b)) if a == b => format!("version {a}"),
        (a, b) => format!(
            "{} -> {}",
            a.as_deref().unwrap_or("?"),
            b.as_deref().unwrap_or("?")
        ),
    }
}

/// One block per function, then the verdict.
pub fn render(report: &ReleaseReport) -> String {
    let mut out = format!("release {}:\n", report.stage);
    for f in &report.functions {
        out.push_str(&format!(
            "{:<16} {:<10} {}: {}\n",
            f.function,
            versions(f),
            f.status.label(),
            f.detail
        ));
        if f.requests > 0 {
            let share = f
                .new_version_share
                .map_or("-".to_owned(), |s| format!("{:.1} %", s * 100.0));
            let by: Vec<String> = f.served_by.iter().map(|(v, n)| format!("v{v} {n}")).collect();
            out.push_str(&format!(
                "{:<16} traffic: {} requests, new version served {share}, {} failed ({})\n",
                "",
                f.requests,
                f.failed_requests,
                if by.is_empty() {
                    "no version header seen".to_owned()
                } else {
                    by.join(", ")
                }
            ));
        }
        if let Some(alarm) = &f.stopped_by {
            let at = f
                .stopped_at
                .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
                .unwrap_or_else(|| "-".into());
            out.push_str(&format!("{:<16} stopped by {alarm} at {at}\n", ""));
        }
    }
    let released = report
        .functions
        .iter()
        .filter(|f| f.status == Status::Succeeded)
        .count();
    let unchanged = report
        .functions
        .iter()
        .filter(|f| f.status == Status::Unchanged)
        .count();
    for p in &report.pruned {
        out.push_str(&super::prune::line(p));
        out.push('\n');
    }
    out.push_str(&format!(
        "{}: {released} released, {unchanged} unchanged, {} not released\n",
        if report.passed { "PASSED" } else { "FAILED" },
        report.functions.len() - released - unchanged
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(status: Status) -> FunctionRelease {
        FunctionRelease {
            function: "auth".into(),
            function_name: "dev-auth".into(),
            from_version: Some("3".into()),
            to_version: Some("4".into()),
            status,
            stopped_by: None,
            stopped_at: None,
            requests: 0,
            new_version_share: None,
            failed_requests: 0,
            served_by: BTreeMap::new(),
            pre_traffic_check: PreTrafficCheck::Passed,
            deployment_id: None,
            detail: String::new(),
        }
    }

    #[test]
    fn exit_codes_follow_the_contract() {
        let code =
            |s: &[Status]| ReleaseReport::new("dev", s.iter().map(|s| entry(*s)).collect()).exit_code();
        assert_eq!(code(&[Status::Succeeded, Status::Unchanged]), 0);
        assert_eq!(code(&[]), 0);
        assert_eq!(code(&[Status::Succeeded, Status::Stopped]), 1);
        assert_eq!(code(&[Status::PreTrafficFailed, Status::NotStarted]), 1);
        assert_eq!(code(&[Status::TimedOut, Status::StopFailed]), 3);
    }

    #[test]
    fn the_json_has_the_documented_fields() {
        let mut e = entry(Status::Stopped);
        e.stopped_by = Some("dev-auth-fast-errors".into());
        let v = serde_json::to_value(ReleaseReport::new("dev", vec![e])).unwrap();
        assert_eq!(v["passed"], false);
        let f = &v["functions"][0];
        for field in [
            "function",
            "from_version",
            "to_version",
            "status",
            "stopped_by",
            "requests",
            "new_version_share",
            "failed_requests",
            "pre_traffic_check",
        ] {
            assert!(f.get(field).is_some(), "{field} missing from {f}");
        }
        assert_eq!(f["status"], "stopped");
        assert_eq!(f["pre_traffic_check"], "passed");
    }
}
