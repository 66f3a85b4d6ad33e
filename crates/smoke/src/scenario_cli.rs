//! `smoke-test drill --scenario NAME|PATH --target aws`: one scenario of the catalogue against a
//! deployed stage, through the AWS adapters and HTTP load on the deployed API.

use std::path::Path;
use std::time::Duration;

use incident_report::catalogue::{self, CatalogueRun};
use outage_config::Stage;
use outage_scenario::Scenario;
use time::OffsetDateTime;

use crate::incident::{write_incident, IncidentPorts};
use crate::ports::Load;
use crate::targets::aws_reads::failed_alarm_actions;

use crate::load::HttpLoad;
use crate::release::deployments::AwsDeployments;
use crate::release::Releaser;
use crate::scenario_run::{run_scenario, Ports, RunEvent, RunOutcome, RunReport, RunSettings};
use crate::targets::aws::{sdk_config, AwsTarget};
use crate::traffic::HttpTraffic;

/// Where the deployed stage is, as the binary resolved it from `terraform output`.
pub struct Deployed {
    pub api_url: String,
    pub region: String,
    pub function_names: std::collections::BTreeMap<String, String>,
}

/// Runs `scenario`, then writes its incident report into `<report_dir>/<scenario>/` and the
/// game-day report of every scenario in `report_dir`; `Err` means it did not start and nothing
/// changed.
pub async fn run_on_aws(
    stage: &Stage,
    scenario: &Scenario,
    deployed: Deployed,
    report_dir: Option<&Path>,
    interrupt: impl std::future::Future<Output = ()> + Send,
) -> Result<RunReport, String> {
    let aws = AwsTarget::from_environment(&deployed.region, deployed.function_names)
        .await
        .with_stage(&stage.stage);
    // Longer than API Gateway's 30 s integration timeout: a timeout fault is an answer (503).
    let http = HttpTraffic::new(&deployed.api_url, Duration::from_secs(35)).map_err(|e| e.to_string())?;
    let load = HttpLoad::new(http);
    let codedeploy = aws_sdk_codedeploy::Client::new(&sdk_config(&deployed.region).await);
    let deployments = AwsDeployments::new(
        Releaser::new(aws.clone(), codedeploy),
        stage.clone(),
        &deployed.api_url,
    );
    let ports = Ports {
        control: &aws,
        alarms: &aws,
        load: &load,
        deployments: &deployments,
    };
    let say = |e: &RunEvent| eprintln!("{:>7.1} s  {:<9} {}", e.elapsed_s, e.phase, e.text);
    let mut report = run_scenario(stage, scenario, ports, RunSettings::aws(), interrupt, &say)
        .await
        .map_err(|e| e.to_string())?;
    // An alarm that fired but whose notification did not go out paged nobody: not a pass.
    match failed_alarm_actions(
        &aws.cloudwatch,
        &format!("{}-", stage.stage),
        Some(report.started_at),
    )
    .await
    {
        Ok(failures) => {
            for failure in failures {
                report
                    .problems
                    .push(format!("a notification did not go out: {failure}"));
            }
        }
        Err(e) => report
            .problems
            .push(format!("reading the alarms' action history: {e}")),
    }
    if report.outcome == RunOutcome::Passed && !report.problems.is_empty() {
        report.outcome = RunOutcome::Failed;
    }
    if let Some(dir) = report_dir {
        eprintln!("writing the incident report (logs, metrics and alarm history from CloudWatch)");
        let drill_id = format!("{}-{}", stage.stage, scenario.name);
        let written = write_incident(
            stage,
            scenario,
            &report,
            IncidentPorts {
                telemetry: &aws,
                alarms: &aws,
            },
            &load.observations(),
            &dir.join(&scenario.name),
            &drill_id,
        )
        .await
        .map_err(|e| e.to_string())
        .and_then(|w| {
            eprintln!("report: {}", w.files.html.display());
            write_game_day(stage, dir).map_err(|e| e.to_string())
        });
        if let Err(e) = written {
            // The verdict stands; a run whose write-up is missing is not a pass.
            report.problems.push(format!("the incident report: {e}"));
            if report.outcome == RunOutcome::Passed {
                report.outcome = RunOutcome::Failed;
            }
        }
    }
    Ok(report)
}

/// The game-day report of every scenario whose result is in `dir`, each run on its own
/// (`run.json` holds its times).
pub fn write_game_day(stage: &Stage, dir: &Path) -> Result<std::path::PathBuf, incident_report::ReportError> {
    let scenarios = catalogue::read_results(dir)?;
    let times: Vec<(OffsetDateTime, OffsetDateTime)> = scenarios
        .iter()
        .filter_map(|s| {
            let text = std::fs::read_to_string(dir.join(&s.name).join("run.json")).ok()?;
            let run: serde_json::Value = serde_json::from_str(&text).ok()?;
            let at = |k: &str| {
                OffsetDateTime::parse(
                    run.get(k)?.as_str()?,
                    &time::format_description::well_known::Rfc3339,
                )
                .ok()
            };
            Some((at("started_at")?, at("finished_at")?))
        })
        .collect();
    let now = OffsetDateTime::now_utc();
    let run = CatalogueRun {
        id: format!("scenarios-{}", stage.stage),
        stage: stage.stage.clone(),
        target: "aws".into(),
        started_at: times.iter().map(|t| t.0).min().unwrap_or(now),
        finished_at: times.iter().map(|t| t.1).max().unwrap_or(now),
        alarms: stage.alarm_definitions("").into_iter().map(|a| a.name).collect(),
        scenarios,
    };
    Ok(catalogue::write_catalogue(&run, dir)?.html)
}

/// The verdict as the terminal shows it.
pub fn verdict_text(report: &RunReport) -> String {
    let outcome = match report.outcome {
        RunOutcome::Passed => "PASSED",
        RunOutcome::Failed => "FAILED",
        RunOutcome::Stopped => "STOPPED",
        RunOutcome::RestoreFailed => {
            "RESTORE FAILED: act now, the fault expires by itself at FAULT_EXPIRES_AT"
        }
    };
    let mut out = format!("scenario {} {outcome}\n", report.scenario);
    if let (Some(d), Some(b)) = (report.judgement.mttd_s, report.mttd_budget_s) {
        out += &format!("  MTTD {d:.1} s (budget {b:.0} s)\n");
    }
    if let (Some(r), Some(b)) = (report.judgement.mttr_s, report.mttr_budget_s) {
        out += &format!("  MTTR {r:.1} s (budget {b:.0} s)\n");
    }
    if let Some(lag) = report.alarm_lag_s {
        out += &format!(
            "  alarm lag {lag:.1} s: the alarm judged its breaching period that long after it closed (metric delay plus evaluation; the budgets assumed {:.0} s)\n",
            report.assumed_lag_s.unwrap_or_default()
        );
    }
    for (alarm, cell) in &report.judgement.cells {
        out += &format!("  {alarm:<40} {}\n", cell.verdict.as_str());
    }
    for alarm in &report.not_judged {
        out += &format!("  {alarm:<40} not judged\n");
    }
    for problem in &report.problems {
        out += &format!("  problem: {problem}\n");
    }
    out
}

/// 0 passed, 1 failed or stopped (restored), 3 the restore failed.
pub fn exit_code(report: &RunReport) -> u8 {
    match report.outcome {
        RunOutcome::Passed => 0,
        RunOutcome::Failed | RunOutcome::Stopped => 1,
        RunOutcome::RestoreFailed => 3,
    }
}
