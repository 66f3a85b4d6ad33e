//! The diagnose step: reads the logs of every function through the [`Telemetry`] port (the
//! lab's `GET /logs`, CloudWatch Logs' `FilterLogEvents`) and diagnoses them (the pure part is
//! [`super::diagnosis`]).

use incident_report::LogLine;
use outage_config::Stage;
use time::OffsetDateTime;

use super::diagnosis::{self, FunctionDiagnosis};
use crate::ports::Telemetry;

/// What the diagnose step found.
#[derive(Debug, Default)]
pub struct Findings {
    pub diagnoses: Vec<FunctionDiagnosis>,
    pub excerpt: Vec<LogLine>,
    pub passed: bool,
    pub detail: String,
}

/// The diagnose step: handler errors in the logs of every function since the drill started
/// (for the drilled function: since the fault was injected), and the story of the first
/// failing invocation of each.
pub async fn diagnose_from_logs(
    telemetry: &impl Telemetry,
    stage: &Stage,
    function: &str,
    expected_message: &str,
    (started_at, finished_at): (OffsetDateTime, OffsetDateTime),
    injected_at: OffsetDateTime,
) -> Findings {
    let mut findings = Findings::default();
    let mut errors = Vec::new();
    // The drilled function first: its diagnosis is the incident's.
    let mut keys: Vec<&String> = stage.functions.keys().collect();
    keys.sort_by_key(|k| k.as_str() != function);
    for key in keys {
        let events = match telemetry
            .log_events(key, started_at, finished_at, Some("ERROR"))
            .await
        {
            Ok(e) => e,
            Err(e) => {
                errors.push(format!("{}: {e}", stage.function_name(key)));
                continue;
            }
        };
        let from = if key == function { injected_at } else { started_at };
        let Some(d) = diagnosis::diagnose(key, &events, from) else {
            continue;
        };
        if let Some(id) = d.failing_request_ids.first() {
            match telemetry.log_events(key, started_at, finished_at, Some(id)).await {
                Ok(story) => findings.excerpt.extend(diagnosis::invocation_excerpt(&story, id)),
                Err(e) => errors.push(format!("{}: {e}", stage.function_name(key))),
            }
        }
        findings.diagnoses.push(d);
    }
    let main = findings.diagnoses.iter().find(|d| d.function == function);
    (findings.passed, findings.detail) = match main {
        _ if !errors.is_empty() => (false, format!("cannot read the logs: {}", errors.join("; "))),
        None => (
            false,
            format!(
                "no handler error in the logs of {}",
                stage.function_name(function)
            ),
        ),
        Some(d) if d.error_message != expected_message => (
            false,
            format!(
                "{} fails with \"{}\", not the injected \"{expected_message}\"",
                stage.function_name(function),
                d.error_message
            ),
        ),
        Some(d) => {
            let others: Vec<String> = findings
                .diagnoses
                .iter()
                .filter(|o| o.function != function)
                .map(|o| format!("{}: \"{}\"", stage.function_name(&o.function), o.error_message))
                .collect();
            (
                true,
                format!(
                    "{}: \"{}\" ({} failed requests){}",
                    stage.function_name(function),
                    d.error_message,
                    d.failed_requests,
                    if others.is_empty() {
                        String::new()
                    } else {
                        format!("; also failing: {}", others.join(", "))
                    }
                ),
            )
        }
    };
    findings
}
