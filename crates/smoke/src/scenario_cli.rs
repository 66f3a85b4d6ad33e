//! `smoke-test drill --scenario NAME|PATH --target aws`: one scenario of the catalogue against a
//! deployed stage, through the AWS adapters and HTTP load on the deployed API.

use std::time::Duration;

use outage_config::Stage;
use outage_scenario::Scenario;

use crate::load::HttpLoad;
use crate::scenario_run::{run_scenario, Ports, RunEvent, RunOutcome, RunReport, RunSettings};
use crate::targets::aws::AwsTarget;
use crate::traffic::HttpTraffic;

/// Where the deployed stage is, as the binary resolved it from `terraform output`.
pub struct Deployed {
    pub api_url: String,
    pub region: String,
    pub function_names: std::collections::BTreeMap<String, String>,
}

/// Runs `scenario`; `Err` means it did not start and nothing changed.
pub async fn run_on_aws(
    stage: &Stage,
    scenario: &Scenario,
    deployed: Deployed,
    interrupt: impl std::future::Future<Output = ()> + Send,
) -> Result<RunReport, String> {
    let aws = AwsTarget::from_environment(&deployed.region, deployed.function_names)
        .await
        .with_stage(&stage.stage);
    // Longer than API Gateway's 30 s integration timeout: a timeout fault is an answer (503).
    let http = HttpTraffic::new(&deployed.api_url, Duration::from_secs(35)).map_err(|e| e.to_string())?;
    let load = HttpLoad::new(http);
    let ports = Ports {
        control: &aws,
        alarms: &aws,
        load: &load,
    };
    let say = |e: &RunEvent| eprintln!("{:>7.1} s  {:<9} {}", e.elapsed_s, e.phase, e.text);
    run_scenario(stage, scenario, ports, RunSettings::aws(), interrupt, &say)
        .await
        .map_err(|e| e.to_string())
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
