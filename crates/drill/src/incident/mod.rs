//! The write-up of a scenario run, the same on the lab and on AWS: the diagnosis from the
//! functions' logs, the metrics around the incident, every charted alarm's track, the blast
//! radius from what clients saw, and the postmortem drafted from them, written as the incident
//! report (Markdown, HTML, JSON) and summed up as the scenario's row of the game-day report.
//!
//! It reads the target only through ports: [`Telemetry`] (the lab's `GET /logs` and
//! `GET /metrics`, or CloudWatch Logs `FilterLogEvents` and CloudWatch `GetMetricData`) and
//! [`AlarmBoard`] (the states now; the histories come with the run's report, read by its judge
//! from `DescribeAlarmHistory` or the lab's history).

pub mod assemble;
pub mod diagnosis;
pub mod logs;

use std::collections::BTreeSet;
use std::path::Path;

use incident_report::catalogue::ScenarioResult;
use incident_report::{
    EventKind, Incident, ReleaseSummary, ReportError, ReportFiles, SplitSource, Step as ReportStep,
    StepStatus, Targets, TimelineEvent, VersionSplit,
};
use outage_config::{AlarmState, Stage};
use outage_scenario::Scenario;
use time::OffsetDateTime;

use crate::error::PortError;
use crate::ports::{AlarmBoard, Observation, Telemetry};
use crate::scenario_run::{ReleaseReport, RunEvent, RunEventKind, RunOutcome, RunReport};
use logs::Findings;

/// Why an incident report could not be written.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    #[error("reading the target for the report: {0}")]
    Port(#[from] PortError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What was written, and the scenario's row of the game-day report.
#[derive(Debug)]
pub struct Written {
    pub incident: Incident,
    pub files: ReportFiles,
    pub findings: Findings,
    pub result: ScenarioResult,
}

/// Where the write-up reads the target.
pub struct IncidentPorts<'a, T, B> {
    pub telemetry: &'a T,
    pub alarms: &'a B,
}

/// Writes the incident report of `report` (a finished run of `scenario`) into `dir`, with
/// `run.json` (the runner's report) and `result.json` (its row of the game-day report)
/// beside it. `observations` are the run's client requests.
pub async fn write_incident<T: Telemetry, B: AlarmBoard>(
    stage: &Stage,
    scenario: &Scenario,
    report: &RunReport,
    ports: IncidentPorts<'_, T, B>,
    observations: &[Observation],
    dir: &Path,
    drill_id: &str,
) -> Result<Written, IncidentError> {
    let injected = report.injected_at.unwrap_or(report.started_at);
    let expected_message = scenario
        .fault
        .as_ref()
        .and_then(|f| f.vars.get("FAULT_MESSAGE").cloned())
        .unwrap_or_default();
    let findings = logs::diagnose_from_logs(
        ports.telemetry,
        stage,
        &scenario.function,
        &expected_message,
        (report.started_at, OffsetDateTime::now_utc()),
        injected,
    )
    .await;

    let routes = diagnosis::routes(stage);
    let end = report.fixed_at.unwrap_or(report.finished_at);
    let during = diagnosis::route_stats(&routes, observations, injected, end);
    let failed_requests: u64 = during.iter().map(|r| r.errors_5xx() + r.unanswered).sum();
    let total_requests: u64 = during.iter().map(|r| r.requests).sum();
    let window = assemble::chart_window(report.started_at, report.finished_at);
    let metrics = assemble::metrics(ports.telemetry, stage, &routes, observations, window).await?;

    // The expected alarms, and every alarm whose verdict failed, are charted.
    let states = ports.alarms.states().await?;
    let mut charted = BTreeSet::new();
    let alarms = scenario
        .expected
        .iter()
        .map(|e| e.name.clone())
        .chain(
            report
                .judgement
                .cells
                .iter()
                .filter(|(_, c)| c.verdict.is_failure())
                .map(|(n, _)| n.clone()),
        )
        .filter(|name| charted.insert(name.clone()))
        .map(|name| {
            let history = report.histories.get(&name).map_or(&[][..], Vec::as_slice);
            let now = states.get(&name).copied().unwrap_or(AlarmState::InsufficientData);
            assemble::track(&name, history, now)
        })
        .collect();

    let primary = scenario.expected.first();
    let primary_cell = primary.and_then(|p| report.judgement.cells.get(&p.name));
    let at = |s: Option<f64>| s.map(|s| injected + time::Duration::seconds_f64(s));
    let mut incident = assemble::build(assemble::Facts {
        stage: stage.clone(),
        drill_id: drill_id.to_owned(),
        function: scenario.function.clone(),
        mode: incident_mode(scenario),
        route: scenario.function_routes.first().cloned().unwrap_or_default(),
        alarm: primary.map(|p| p.name.clone()).unwrap_or_default(),
        alarm_period_s: primary
            .and_then(|p| stage.alarm_definitions("").into_iter().find(|d| d.name == p.name))
            .map_or(60, |d| d.period_s),
        started_at: report.started_at,
        finished_at: report.finished_at,
        detection: incident_report::Detection {
            fault_injected_at: injected,
            alarm_at: at(primary_cell.and_then(|c| c.fired_after_s)),
            fix_applied_at: report.fixed_at,
            recovered_at: at(primary_cell.and_then(|c| c.cleared_after_s)),
        },
        steps: steps(report, findings.passed, &findings.detail),
        events: report.events.iter().map(timeline_event).collect(),
        metrics,
        alarms,
        diagnoses: findings.diagnoses.clone(),
        log_excerpt: findings.excerpt.clone(),
        blast_radius: diagnosis::blast_radius(&during),
    });
    incident.targets = Targets {
        mttd_s: report.mttd_budget_s.unwrap_or(incident.targets.mttd_s),
        mttr_s: report.mttr_budget_s.unwrap_or(incident.targets.mttr_s),
        drill_s: scenario.max_duration.as_secs_f64(),
    };
    incident.release = report.release.as_ref().map(|r| release_summary(r, injected));
    incident.title = format!("{}: {}", scenario.name, scenario.title);
    incident.postmortem.summary = format!(
        "{} What to learn: {}",
        incident.postmortem.summary, scenario.lesson
    );
    let files = incident_report::write_report(&incident, dir)?;
    let run_json = dir.join("run.json");
    let text = serde_json::to_string_pretty(report).expect("a run report serialises") + "\n";
    std::fs::write(&run_json, text).map_err(|source| IncidentError::Write {
        path: run_json.clone(),
        source,
    })?;

    let result = ScenarioResult {
        name: scenario.name.clone(),
        title: scenario.title.clone(),
        lesson: scenario.lesson.clone(),
        runbook: scenario.runbook.clone(),
        passed: report.passed(),
        problems: report.problems.clone(),
        mttd_s: report.judgement.mttd_s,
        mttd_budget_s: report.mttd_budget_s,
        mttr_s: report.judgement.mttr_s,
        mttr_budget_s: report.mttr_budget_s,
        alarm_lag_s: report.alarm_lag_s,
        failed_requests,
        total_requests,
        cells: report.judgement.cells.clone(),
        not_judged: report.not_judged.clone(),
        report: Some(scenario.name.clone()),
    };
    incident_report::catalogue::write_result(&result, dir)?;
    Ok(Written {
        incident,
        files,
        findings,
        result,
    })
}

/// The report's view of a release scenario's release: the target's per-version count where it
/// keeps one, else the clients'.
fn release_summary(r: &ReleaseReport, started_at: OffsetDateTime) -> ReleaseSummary {
    let (mut versions, counted_by): (Vec<VersionSplit>, _) = if r.state.traffic.is_empty() {
        let split = r.clients.served_by.iter().map(|(version, n)| VersionSplit {
            version: version.clone(),
            requests: u64::from(*n),
            failed: None,
        });
        (split.collect(), SplitSource::Clients)
    } else {
        let split = r.state.traffic.iter().map(|(version, t)| VersionSplit {
            version: version.clone(),
            requests: t.requests,
            failed: Some(t.failed),
        });
        (split.collect(), SplitSource::Target)
    };
    versions.sort_by_key(|v| v.version.parse::<u64>().unwrap_or(u64::MAX));
    ReleaseSummary {
        id: r.state.id.clone(),
        strategy: r.state.strategy.clone(),
        from_version: r.state.from_version.clone(),
        to_version: r.state.to_version.clone(),
        expected: r.expected.to_owned(),
        ended: r.ended.map(str::to_owned),
        stopped_by: r.state.stopped_by.clone(),
        started_at,
        ended_at: r.state.ended_at,
        versions,
        counted_by,
        requests: u64::from(r.clients.requests),
        failed: u64::from(r.clients.failed),
    }
}

/// The report's marker for a run event.
pub fn timeline_event(e: &RunEvent) -> TimelineEvent {
    TimelineEvent {
        timestamp: e.at,
        kind: event_kind(e.kind),
        text: e.text.clone(),
    }
}

pub fn event_kind(kind: RunEventKind) -> EventKind {
    match kind {
        RunEventKind::Fault => EventKind::Fault,
        RunEventKind::Alarm => EventKind::Alarm,
        RunEventKind::Fix => EventKind::Fix,
        RunEventKind::Recovery => EventKind::Recovery,
        RunEventKind::Info => EventKind::Info,
    }
}

/// What the incident's "mode" says: the fault, or the change that staged the incident.
fn incident_mode(scenario: &Scenario) -> String {
    let mut parts = Vec::new();
    if let Some(f) = &scenario.fault {
        parts.push(f.mode().name().to_owned());
    }
    if let Some(c) = &scenario.configuration {
        parts.push(format!(
            "reserved concurrency {}",
            c.reserved_concurrency
                .map_or("unreserved".into(), |v| v.to_string())
        ));
    }
    if let Some(s) = &scenario.surge {
        parts.push(format!("surge of {} clients", s.concurrency));
    }
    if let Some(r) = &scenario.release {
        let build = if parts.is_empty() {
            "a new version".to_owned()
        } else {
            format!("a new version with {}", parts.join(" + "))
        };
        return format!("{build}, released {}", r.routing);
    }
    parts.join(" + ")
}

/// The report's steps, from the run's events and verdict.
fn steps(report: &RunReport, diagnosed: bool, diagnosis: &str) -> Vec<ReportStep> {
    let first = |phase: &str| report.events.iter().find(|e| e.phase == phase).map(|e| e.at);
    let last = |phase: &str| {
        report
            .events
            .iter()
            .rev()
            .find(|e| e.phase == phase)
            .map(|e| e.at)
    };
    let problems = report.problems.join("; ");
    let silent = report
        .problems
        .iter()
        .any(|p| p.contains("silent") || p.contains("budget"));
    let step = |name: &str, passed: bool, detail: String| ReportStep {
        name: name.to_owned(),
        status: if passed {
            StepStatus::Passed
        } else {
            StepStatus::Failed
        },
        started_at: first(if name == "diagnose" { "detect" } else { name }),
        finished_at: last(if name == "diagnose" { "detect" } else { name }),
        detail,
    };
    vec![
        step(
            "baseline",
            true,
            format!("not judged: {}", report.not_judged.join(", ")),
        ),
        step("break", report.injected_at.is_some(), String::new()),
        step(
            "detect",
            report.injected_at.is_some() && !silent,
            problems.clone(),
        ),
        step("diagnose", diagnosed, diagnosis.to_owned()),
        step("fix", report.outcome != RunOutcome::RestoreFailed, String::new()),
        step("validate", report.passed(), problems),
    ]
}
