//! What the drill prints when it is done, and `drill.json` next to the report.

use std::fmt::Write;
use std::path::PathBuf;

use incident_report::{RouteImpact, Targets};
use serde::Serialize;
use time::OffsetDateTime;

use super::diagnosis::{FunctionDiagnosis, RouteStats};

/// One route check of the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct CheckLine {
    pub route: String,
    pub status: Option<u16>,
    pub expected: Vec<u16>,
    pub latency_ms: f64,
    pub passed: bool,
    pub problems: Vec<String>,
}

/// The drill's result: printed as text or JSON, and written as `drill.json`.
#[derive(Debug, Clone, Serialize)]
pub struct DrillSummary {
    pub drill_id: String,
    pub stage: String,
    pub function: String,
    pub alarm: String,
    pub passed: bool,
    /// Why it did not pass.
    pub problems: Vec<String>,
    pub mttd_s: Option<f64>,
    pub mttr_s: Option<f64>,
    /// First baseline request to the end of validation.
    pub drill_s: f64,
    /// The whole command: lab start, drill, report.
    pub command_s: f64,
    pub targets: Targets,
    pub standard_alarm: String,
    pub standard_period_s: u32,
    /// When the one-minute alarm fired, counted from the injection, if it did before the fix.
    pub standard_alarm_after_s: Option<f64>,
    /// When the one-minute alarm fired at all during the drill (before or after the fix),
    /// counted from the injection.
    pub standard_alarm_fired_after_s: Option<f64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub injected_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub alarm_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub restored_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ok_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub alarm_notified_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ok_notified_at: Option<OffsetDateTime>,
    /// What is left of the fault after the fix; `None` when nothing.
    pub fault_left: Option<String>,
    pub checks: Vec<CheckLine>,
    pub baseline: Vec<RouteStats>,
    pub during_break: Vec<RouteStats>,
    pub after_fix: Vec<RouteStats>,
    pub blast_radius: Vec<RouteImpact>,
    pub diagnoses: Vec<FunctionDiagnosis>,
    pub report_dir: PathBuf,
    pub report_html: PathBuf,
}

fn measure(value: Option<f64>, target: f64) -> String {
    match value {
        Some(v) => format!(
            "{v:>5.1} s  (target <= {target:.0} s: {})",
            if v <= target { "met" } else { "MISSED" }
        ),
        None => format!("    - s  (target <= {target:.0} s: MISSED, never reached)"),
    }
}

impl DrillSummary {
    /// The closing block for people.
    pub fn text(&self) -> String {
        let mut out = String::new();
        let verdict = if self.passed { "PASSED" } else { "FAILED" };
        let _ = writeln!(
            out,
            "\ndrill {} {verdict}: {} broken, {} watched",
            self.drill_id, self.function, self.alarm
        );
        let _ = writeln!(out, "  MTTD   {}", measure(self.mttd_s, self.targets.mttd_s));
        let _ = writeln!(out, "  MTTR   {}", measure(self.mttr_s, self.targets.mttr_s));
        let _ = writeln!(
            out,
            "  drill  {}",
            measure(Some(self.drill_s), self.targets.drill_s)
        );
        let standard = match (self.standard_alarm_after_s, self.standard_alarm_fired_after_s) {
            (Some(s), _) => format!("fired {s:.1} s after the injection"),
            (None, Some(s)) => {
                format!("fired only after the fix ({s:.1} s after the injection), once its minute closed")
            }
            (None, None) => "had not fired by the end of the drill".into(),
        };
        let _ = writeln!(
            out,
            "  the one-minute {} ({} s AWS/Lambda Errors) {standard}; it sees a failure only when its {} s period closes, and clears only after a whole clean one",
            self.standard_alarm, self.standard_period_s, self.standard_period_s
        );
        let _ = writeln!(out, "  blast radius (while the fault was live):");
        for r in &self.blast_radius {
            let _ = writeln!(
                out,
                "    {:<16} {:<14} {:>4} requests {:>4} 5xx  {}",
                r.route,
                r.function,
                r.requests,
                r.errors_5xx,
                if r.degraded { "DEGRADED" } else { "healthy" }
            );
        }
        for d in &self.diagnoses {
            let _ = writeln!(
                out,
                "  root cause in {}: {}: \"{}\" ({} failed requests, first at {} UTC, e.g. {})",
                d.log_group,
                d.error_type,
                d.error_message,
                d.failed_requests,
                super::hms_millis(d.first_failure_at),
                d.failing_request_ids.first().map_or("-", String::as_str)
            );
        }
        for p in &self.problems {
            let _ = writeln!(out, "  problem: {p}");
        }
        let _ = writeln!(out, "  report: {}", self.report_html.display());
        let _ = writeln!(
            out,
            "  (command took {:.1} s including the lab start and the report)",
            self.command_s
        );
        out
    }
}
