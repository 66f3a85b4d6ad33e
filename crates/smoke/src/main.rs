//! `smoke-test`: post-release route checks, the alarm fire/clear drill, and releases through
//! CodeDeploy.
//!
//! Exit codes: 0 passed; 1 a check or the drill failed (the prior configuration was restored),
//! or a release failed or was rolled back; 2 usage or configuration error (nothing was
//! changed); 3 the prior configuration could NOT be restored (or a release could not be
//! stopped): a person must act.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use outage_config::{FaultMode, Stage};
use smoke_test::check;
use smoke_test::drill::{self, AlarmKind, DrillOutcome, DrillPlan, DrillReport, DrillSettings};
use smoke_test::ports::{AlarmSource, ControlPlane};
use smoke_test::targets::aws::AwsTarget;
use smoke_test::targets::lab::LabTarget;
use smoke_test::targets::tf_output::TfOutputs;
use smoke_test::timeline::Timeline;
use smoke_test::traffic::HttpTraffic;
use smoke_test::{output, progress, scenario_cli};

const EXIT_FAILED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_RESTORE_FAILED: u8 = 3;

/// Post-release checks, the outage drill (the alarm fires, then clears) and canary releases,
/// against the local lab or a deployed AWS stage.
///
/// Exit codes: 0 passed, 1 a check or the drill failed (the prior configuration was restored)
/// or a release failed or was rolled back, 2 usage or configuration error (nothing changed),
/// 3 the prior configuration could NOT be restored (act now: the fault expires by itself at
/// FAULT_EXPIRES_AT) or a release could not be stopped.
#[derive(Debug, Parser)]
#[command(name = "smoke-test", version)]
struct Cli {
    /// More log output (-v info, -vv debug).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Every route of the stage answers as configured: status, JSON fields and types, content
    /// type, apigw-requestid, latency budget.
    Check {
        #[command(flatten)]
        target: TargetArgs,
        /// Per-request latency budget in milliseconds.
        #[arg(long, default_value_t = 3000)]
        latency_budget_ms: u64,
        /// Ask a route that does not answer as expected again (pausing 1, 2, 4, then 5 s) until
        /// this many seconds have passed: right after an apply, a new integration can answer
        /// 5xx or 404 for a while. Default 90 on aws, 0 on the lab (ready when it says so).
        #[arg(long)]
        settle_s: Option<u64>,
        /// Print the report as JSON on stdout instead of the table.
        #[arg(long)]
        json: bool,
        /// Also write the JSON report to this file.
        #[arg(long)]
        json_out: Option<PathBuf>,
        /// Also write a JUnit XML report to this file.
        #[arg(long)]
        junit_out: Option<PathBuf>,
    },
    /// Inject a fault through the control plane, drive traffic, wait for ALARM, restore the exact
    /// prior configuration, wait for OK; prints MTTD and MTTR.
    Drill {
        #[command(flatten)]
        target: TargetArgs,
        /// The function key in the stage file.
        #[arg(long, default_value = "payment-fixed")]
        function: String,
        /// The fault to inject.
        #[arg(long, value_enum, default_value_t = Mode::Exception)]
        mode: Mode,
        /// The alarm that must fire and clear.
        #[arg(long, value_enum, default_value_t = Alarm::FastErrors)]
        alarm: Alarm,
        /// Print the report as JSON on stdout instead of the summary.
        #[arg(long)]
        json: bool,
        /// Write the JSON report to this file.
        #[arg(long)]
        json_out: Option<PathBuf>,
        /// Write a JUnit XML report (one case per step) to this file.
        #[arg(long)]
        junit_out: Option<PathBuf>,
        /// Allow a drill on the prod stage.
        #[arg(long)]
        allow_prod: bool,
        /// Print the resolved plan (alarm, maths, deadlines, traffic, fault variables) as JSON
        /// and change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Run a scenario of the catalogue instead (a name in scenarios/ or a file path;
        /// --target aws only): its fault, alarms and verdict replace --function, --mode, --alarm.
        #[arg(long, conflicts_with_all = ["function", "mode", "alarm"])]
        scenario: Option<String>,
        /// With --scenario: write the incident report into <DIR>/<scenario>/ (as `outage-lab
        /// drill` does) and the game-day report of every scenario in DIR (index.html, index.md,
        /// catalogue.json).
        #[arg(long, value_name = "DIR", requires = "scenario")]
        report_dir: Option<PathBuf>,
    },
    /// Release every function whose newest published version `live` does not serve, one at a
    /// time through CodeDeploy: a pre-traffic check (the new version invoked directly with the
    /// route's API event, it must answer 2xx), then the stage's release strategy with synthetic
    /// traffic sized so that a faulty canary trips its fast alarm, and a rollback when an alarm
    /// stops it. Functions deployed broken on purpose are released without the check.
    Release {
        #[command(flatten)]
        target: TargetArgs,
        /// Allow a release to the prod stage.
        #[arg(long)]
        allow_prod: bool,
        /// Print the report as JSON on stdout instead of the summary.
        #[arg(long)]
        json: bool,
        /// After every function released (or had nothing to release), delete each function's
        /// published versions but the newest N and those `live` routes to. 0: delete nothing.
        #[arg(long, value_name = "N", default_value_t = 5)]
        keep_versions: usize,
    },
    /// Before an apply: no placeholder account id or e-mail in the stage file, the caller's
    /// account is the stage's, Lambda's concurrency quota has room for the stage's reservations,
    /// and once deployed every alarm notifies a topic and no notification failed. One line per
    /// check with what to do; exit 1 when one fails.
    Preflight {
        /// Only aws: the lab has no account to check.
        #[arg(long, value_enum)]
        target: Target,
        /// The stage: environments/<stage>/terraform.tfvars.json below --root.
        #[arg(long)]
        stage: String,
        /// The project root.
        #[arg(long, default_value = ".")]
        root: PathBuf,
        /// Print the findings as JSON on stdout.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Target {
    /// The local lab (`outage-lab up`), through its admin API.
    Lab,
    /// A deployed stage, through the AWS SDK (credentials from the standard chain).
    Aws,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Mode {
    Exception,
    Panic,
    Timeout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Alarm {
    FastErrors,
    Errors,
}

#[derive(Debug, clap::Args)]
struct TargetArgs {
    /// Where to run: the local lab or AWS.
    #[arg(long, value_enum)]
    target: Target,
    /// The stage: environments/<stage>/terraform.tfvars.json below --root.
    #[arg(long)]
    stage: String,
    /// The project root.
    #[arg(long, default_value = ".")]
    root: PathBuf,
    /// AWS: `terraform output -json` of the stage (API endpoint, function names, region).
    #[arg(long)]
    tf_output: Option<PathBuf>,
    /// AWS: the API endpoint when there is no --tf-output.
    #[arg(long)]
    api_url: Option<String>,
    /// Lab: the run folder holding lab.json (default: <root>/.outage-lab/<stage>/current).
    #[arg(long, conflicts_with = "admin_url")]
    lab_dir: Option<PathBuf>,
    /// Lab: the admin API URL (with --token-file).
    #[arg(long, requires = "token_file")]
    admin_url: Option<String>,
    /// Lab: the admin token file (with --admin-url).
    #[arg(long, requires = "admin_url")]
    token_file: Option<PathBuf>,
}

/// A configuration or usage problem: exit 2, nothing changed.
#[derive(Debug)]
struct UsageError(String);

impl<E: std::fmt::Display> From<E> for UsageError {
    fn from(e: E) -> Self {
        UsageError(e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = match cli.verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("smoke-test: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Check {
                target,
                latency_budget_ms,
                settle_s,
                json,
                json_out,
                junit_out,
            } => {
                run_check(
                    &target,
                    Duration::from_millis(latency_budget_ms),
                    settle_s,
                    json,
                    json_out,
                    junit_out,
                )
                .await
            }
            Command::Drill {
                target,
                function,
                mode,
                alarm,
                json,
                json_out,
                junit_out,
                allow_prod,
                dry_run,
                scenario,
                report_dir,
            } => {
                if let Some(scenario) = scenario {
                    return run_scenario_command(
                        &target,
                        &scenario,
                        ScenarioOutput {
                            json,
                            json_out: json_out.as_deref(),
                            report_dir: report_dir.as_deref(),
                        },
                        allow_prod,
                        dry_run,
                    )
                    .await;
                }
                let options = DrillArgs {
                    function,
                    mode,
                    alarm,
                    json,
                    json_out,
                    junit_out,
                    allow_prod,
                    dry_run,
                };
                run_drill_command(&target, options).await
            }
            Command::Release {
                target,
                allow_prod,
                json,
                keep_versions,
            } => run_release(&target, allow_prod, json, keep_versions).await,
            Command::Preflight {
                target,
                stage,
                root,
                json,
            } => run_preflight(target, &stage, &root, json).await,
        }
    });
    match result {
        Ok(code) => ExitCode::from(code),
        Err(UsageError(message)) => {
            eprintln!("smoke-test: {message}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// `preflight`: exit 0 every check passed or does not apply yet, 1 one failed, 2 usage.
async fn run_preflight(target: Target, stage: &str, root: &Path, json: bool) -> Result<u8, UsageError> {
    use smoke_test::preflight;
    if target != Target::Aws {
        return Err(UsageError(
            "preflight checks an AWS account before an apply: use --target aws (the lab needs none)".into(),
        ));
    }
    let stage = Stage::load_named(root, stage)?;
    let mut findings = preflight::stage_file_checks(&stage);
    let clients = preflight::Clients::from_environment(&stage.aws_region).await;
    findings.extend(preflight::aws_checks(&stage, &clients).await);
    if json {
        print!("{}", to_json(&findings));
    } else {
        print!("{}", preflight::render(&findings));
    }
    Ok(if preflight::passed(&findings) {
        0
    } else {
        EXIT_FAILED
    })
}

/// Refuses a drill on prod unless explicitly allowed.
fn guard_prod(stage: &str, allow_prod: bool) -> Result<(), UsageError> {
    guard_prod_for(
        stage,
        allow_prod,
        "refusing to drill the prod stage: it breaks a production function on purpose",
    )
}

/// Refuses an AWS-changing command on prod unless explicitly allowed; `refusal` says what it
/// would change.
fn guard_prod_for(stage: &str, allow_prod: bool, refusal: &str) -> Result<(), UsageError> {
    if stage == "prod" && !allow_prod {
        return Err(UsageError(format!(
            "{refusal}; pass --allow-prod if that is really intended"
        )));
    }
    Ok(())
}

/// The deployed stage as the AWS target sees it.
struct AwsStage {
    api_url: String,
    region: String,
    function_names: std::collections::BTreeMap<String, String>,
    alarm_names: Vec<String>,
    /// The stage's `terraform output`, when given.
    outputs: Option<TfOutputs>,
}

fn aws_stage(args: &TargetArgs, stage: &Stage) -> Result<AwsStage, UsageError> {
    if let Some(path) = &args.tf_output {
        let tf = TfOutputs::load(path)?;
        if tf.stage != stage.stage {
            return Err(UsageError(format!(
                "{} describes stage {:?}, not {:?}",
                path.display(),
                tf.stage,
                stage.stage
            )));
        }
        return Ok(AwsStage {
            api_url: args.api_url.clone().unwrap_or(tf.api_endpoint.clone()),
            region: tf.region.clone(),
            function_names: tf.function_names.clone(),
            alarm_names: tf.alarm_names.clone(),
            outputs: Some(tf),
        });
    }
    let api_url = args.api_url.clone().ok_or_else(|| {
        UsageError("--target aws needs --tf-output FILE (terraform output -json) or --api-url URL".into())
    })?;
    Ok(AwsStage {
        api_url,
        region: stage.aws_region.clone(),
        function_names: stage
            .functions
            .keys()
            .map(|k| (k.clone(), stage.function_name(k)))
            .collect(),
        alarm_names: Vec::new(),
        outputs: None,
    })
}

async fn lab_target(args: &TargetArgs) -> Result<LabTarget, UsageError> {
    let lab = match (&args.lab_dir, &args.admin_url, &args.token_file) {
        (Some(dir), _, _) => LabTarget::from_lab_dir(dir)?,
        (None, Some(url), Some(token)) => LabTarget::connect(url, token).await?,
        _ => LabTarget::discover(&args.root, &args.stage)?,
    };
    if !lab.info().stage.is_empty() && lab.info().stage != args.stage {
        return Err(UsageError(format!(
            "the lab at {} serves stage {:?}, not {:?}",
            lab.admin_url(),
            lab.info().stage,
            args.stage
        )));
    }
    Ok(lab)
}

fn load_stage(args: &TargetArgs) -> Result<Stage, UsageError> {
    Ok(Stage::load_named(&args.root, &args.stage)?)
}

fn write_file(path: &Path, text: &str) -> Result<(), UsageError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| UsageError(format!("cannot create {}: {e}", dir.display())))?;
    }
    std::fs::write(path, text).map_err(|e| UsageError(format!("cannot write {}: {e}", path.display())))
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("reports serialise") + "\n"
}

async fn run_check(
    args: &TargetArgs,
    budget: Duration,
    settle_s: Option<u64>,
    json: bool,
    json_out: Option<PathBuf>,
    junit_out: Option<PathBuf>,
) -> Result<u8, UsageError> {
    let stage = load_stage(args)?;
    let settle = Duration::from_secs(settle_s.unwrap_or(match args.target {
        Target::Lab => 0,
        Target::Aws => 90,
    }));
    let base_url = match args.target {
        Target::Lab => lab_target(args).await?.gateway_url().to_owned(),
        Target::Aws => aws_stage(args, &stage)?.api_url,
    };
    let http = HttpTraffic::new(&base_url, Duration::from_secs(30))?;
    let target = match args.target {
        Target::Lab => "lab",
        Target::Aws => "aws",
    };
    let report = check::run_checks(&http, &stage, target, budget, settle).await;
    if json {
        print!("{}", to_json(&report));
    } else {
        print!("{}", check::render_table(&report));
    }
    if let Some(path) = json_out {
        write_file(&path, &to_json(&report))?;
    }
    if let Some(path) = junit_out {
        write_file(&path, &output::check_junit(&report).to_xml())?;
    }
    Ok(if report.passed { 0 } else { EXIT_FAILED })
}

struct DrillArgs {
    function: String,
    mode: Mode,
    alarm: Alarm,
    json: bool,
    json_out: Option<PathBuf>,
    junit_out: Option<PathBuf>,
    allow_prod: bool,
    dry_run: bool,
}

async fn run_drill_command(args: &TargetArgs, options: DrillArgs) -> Result<u8, UsageError> {
    // A dry run changes nothing, so it may look at prod's plan.
    if !options.dry_run {
        guard_prod(&args.stage, options.allow_prod)?;
    }
    let stage = load_stage(args)?;
    let mut settings = match args.target {
        Target::Lab => DrillSettings::lab(&options.function),
        Target::Aws => DrillSettings::aws(&options.function),
    };
    settings.mode = match options.mode {
        Mode::Exception => FaultMode::Exception,
        Mode::Panic => FaultMode::Panic,
        Mode::Timeout => FaultMode::Timeout,
    };
    settings.alarm = match options.alarm {
        Alarm::FastErrors => AlarmKind::FastErrors,
        Alarm::Errors => AlarmKind::Errors,
    };
    let plan = DrillPlan::new(&stage, &settings)?;
    if options.dry_run {
        print!("{}", to_json(&plan));
        return Ok(0);
    }
    let report = match args.target {
        Target::Lab => {
            let lab = lab_target(args).await?;
            let http = HttpTraffic::new(lab.gateway_url(), Duration::from_secs(30))?;
            execute(&lab, &lab, &http, &plan, Some(&lab)).await?
        }
        Target::Aws => {
            let deployed = aws_stage(args, &stage)?;
            if !deployed.alarm_names.is_empty() && !deployed.alarm_names.contains(&plan.alarm.name) {
                return Err(UsageError(format!(
                    "terraform output `alarm_names` has no {} (the stage file implies it): is the stage deployed from this stage file?",
                    plan.alarm.name
                )));
            }
            let aws = AwsTarget::from_environment(&deployed.region, deployed.function_names).await;
            let http = HttpTraffic::new(&deployed.api_url, Duration::from_secs(35))?;
            execute(&aws, &aws, &http, &plan, None).await?
        }
    };
    if options.json {
        print!("{}", to_json(&report));
    } else {
        print!("{}", output::drill_summary(&report));
    }
    if let Some(path) = &options.json_out {
        write_file(path, &to_json(&report))?;
    }
    if let Some(path) = &options.junit_out {
        write_file(path, &output::drill_junit(&report).to_xml())?;
    }
    Ok(match report.outcome {
        DrillOutcome::Passed => 0,
        DrillOutcome::Failed | DrillOutcome::Interrupted => EXIT_FAILED,
        DrillOutcome::RestoreFailed => EXIT_RESTORE_FAILED,
    })
}

async fn execute<C: ControlPlane, A: AlarmSource>(
    control: &C,
    alarms: &A,
    http: &HttpTraffic,
    plan: &DrillPlan,
    lab: Option<&LabTarget>,
) -> Result<DrillReport, UsageError> {
    eprintln!(
        "drill: {} FAULT_MODE={} on {} via {}, alarm {} ({} s period, {} of {}), deadlines: ALARM {:.0} s, OK {:.0} s",
        plan.stage,
        plan.mode,
        plan.function,
        plan.route_path,
        plan.alarm.name,
        plan.alarm.period_s,
        plan.alarm.datapoints_to_alarm,
        plan.alarm.evaluation_periods,
        plan.deadlines.alarm.as_secs_f64(),
        plan.deadlines.ok.as_secs_f64()
    );
    // On the lab, the timeline also goes to the admin API (`PUT /drill`) for the live dashboard.
    // One publisher task sends the newest document, so a slow PUT never holds the drill up.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<lab_admin_api::DrillDocument>();
    let publisher = lab.cloned().map(|lab| {
        tokio::spawn(async move {
            let mut warned = false;
            while let Some(mut doc) = rx.recv().await {
                while let Ok(newer) = rx.try_recv() {
                    doc = newer;
                }
                if let Err(e) = lab.publish_drill(&doc).await {
                    if !warned {
                        tracing::warn!("the lab did not take the drill timeline (PUT /drill): {e}");
                        warned = true;
                    }
                }
            }
        })
    });
    let drill_id = format!("smoke-{}", time::OffsetDateTime::now_utc().unix_timestamp());
    let timeline = std::sync::Mutex::new(Timeline::new(&drill_id));
    let publishing = publisher.is_some();
    let display = progress::Progress::new();
    let progress = |e: &drill::DrillEvent| {
        display.event(e);
        if publishing {
            let mut t = timeline.lock().expect("timeline poisoned");
            t.record(e);
            let _ = tx.send(t.to_document());
        }
    };
    let result = drill::run_drill(control, alarms, http, plan, interrupted(), &progress).await;
    display.finish();
    {
        let mut t = timeline.lock().expect("timeline poisoned");
        t.finish();
        let _ = tx.send(t.to_document());
    }
    drop(tx);
    if let Some(task) = publisher {
        let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
    }
    let report = result?;
    if report.outcome == DrillOutcome::RestoreFailed {
        eprintln!(
            "\n!!! RESTORE FAILED: {} !!!",
            report.failure.as_deref().unwrap_or("")
        );
        let added: Vec<&str> = plan
            .fault_variables
            .keys()
            .map(String::as_str)
            .chain(["FAULT_EXPIRES_AT"])
            .collect();
        eprintln!(
            "!!! remove {} from {} by hand (the drill added only these; prior revision {}) !!!\n",
            added.join(", "),
            report.function_name,
            report.prior_revision_id.as_deref().unwrap_or("-")
        );
    }
    Ok(report)
}

/// `release`: exit 2 (nothing changed) for the lab, prod without --allow-prod, an unknown stage
/// or terraform outputs that disagree with the stage file; else the report's code (0, 1, 3).
async fn run_release(
    args: &TargetArgs,
    allow_prod: bool,
    json: bool,
    keep_versions: usize,
) -> Result<u8, UsageError> {
    use smoke_test::release;
    if args.target != Target::Aws {
        return Err(UsageError(
            "smoke-test release goes through CodeDeploy on AWS (--target aws); in the lab use `outage-lab release <function>`".into(),
        ));
    }
    guard_prod_for(
        &args.stage,
        allow_prod,
        "refusing to release to the prod stage: it shifts production traffic to new versions",
    )?;
    let stage = load_stage(args)?;
    let deployed = aws_stage(args, &stage)?;
    if let Some(tf) = &deployed.outputs {
        release::names::cross_check(&stage, tf).map_err(UsageError)?;
    }
    let releaser = release::Releaser::from_environment(&deployed.region, deployed.function_names).await;
    let http = HttpTraffic::new(&deployed.api_url, Duration::from_secs(35))?;
    let say = |line: &str| eprintln!("{line}");
    let mut report = release::run(
        &releaser,
        &stage,
        &http,
        &release::Timing::aws(),
        interrupted(),
        &say,
    )
    .await;
    // A train that did not pass keeps every version: the failed one is the postmortem's evidence.
    if report.passed && keep_versions > 0 {
        report.pruned = release::prune::prune(&releaser, &stage, keep_versions, &say).await;
    }
    if json {
        print!("{}", to_json(&report));
    } else {
        print!("{}", release::report::render(&report));
    }
    Ok(report.exit_code())
}

/// Where `drill --scenario` writes.
struct ScenarioOutput<'a> {
    json: bool,
    json_out: Option<&'a Path>,
    report_dir: Option<&'a Path>,
}

/// `drill --scenario`: exit 2 (nothing changed) for a bad scenario, prod without --allow-prod,
/// a run that could not start; else the run's code (0, 1, 3 = restore failed).
async fn run_scenario_command(
    args: &TargetArgs,
    arg: &str,
    output: ScenarioOutput<'_>,
    allow_prod: bool,
    dry_run: bool,
) -> Result<u8, UsageError> {
    let ScenarioOutput {
        json,
        json_out,
        report_dir,
    } = output;
    if args.target != Target::Aws {
        return Err(UsageError(
            "smoke-test drill --scenario runs against --target aws; on the lab use `outage-lab drill --scenario`".into(),
        ));
    }
    if !dry_run {
        guard_prod(&args.stage, allow_prod)?;
    }
    let stage = load_stage(args)?;
    let scenario = outage_scenario::load_arg(arg, &args.root, &stage)?;
    if dry_run {
        println!(
            "scenario {} ({}) is valid for stage {}; nothing changed",
            scenario.name, scenario.title, stage.stage
        );
        return Ok(0);
    }
    let deployed = aws_stage(args, &stage)?;
    let deployed = scenario_cli::Deployed {
        api_url: deployed.api_url,
        region: deployed.region,
        function_names: deployed.function_names,
    };
    let report = scenario_cli::run_on_aws(&stage, &scenario, deployed, report_dir, interrupted())
        .await
        .map_err(UsageError)?;
    if json {
        print!("{}", to_json(&report));
    } else {
        print!("{}", scenario_cli::verdict_text(&report));
    }
    if let Some(path) = json_out {
        write_file(path, &to_json(&report))?;
    }
    Ok(scenario_cli::exit_code(&report))
}

/// Resolves on Ctrl-C or SIGTERM (a cancelled CI job).
async fn interrupted() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prod_needs_allow_prod() {
        assert!(guard_prod("prod", false).unwrap_err().0.contains("--allow-prod"));
        assert!(guard_prod("prod", true).is_ok());
        assert!(guard_prod("dev", false).is_ok());
        assert!(guard_prod("staging", false).is_ok());
    }

    #[test]
    fn a_release_to_prod_says_what_it_would_change() {
        let e = guard_prod_for("prod", false, "refusing to release to the prod stage").unwrap_err();
        assert!(
            e.0.starts_with("refusing to release to the prod stage; pass --allow-prod"),
            "{}",
            e.0
        );
        assert!(guard_prod_for("prod", true, "x").is_ok());
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
