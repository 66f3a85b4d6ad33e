//! `outage-lab drill`: the whole outage cycle on a lab started for the occasion, measured and
//! written up.
//!
//! 1. baseline: traffic on every route of the stage; each answers as the stage file says (the
//!    smoke test's route checks), `/pay` included, which the stage file breaks on purpose;
//! 2. break: traffic on every route goes on (so `/pay` keeps failing, the original scenario) and
//!    the smoke test's drill engine injects a fault into the drilled function through the
//!    control plane;
//! 3. detect: the engine waits for the function's fast alarm; its notification must follow;
//! 4. diagnose: as soon as the alarm fires, the logs of every function are searched for handler
//!    errors (message, type, request ids, first failure), next to the restore;
//! 5. fix: the engine restores the exact prior configuration;
//! 6. validate: the alarm is OK again, with its notification, healthy traffic on the route, and
//!    no fault left in the configuration.
//!
//! Then the incident report: metrics around the spike, alarm histories, blast radius (from the
//! statuses clients saw per route), postmortem.

mod baseline;
mod diagnose;
pub mod diagnosis;
mod incident;
mod notifications;
mod observed;
mod output;
pub mod scenarios;
mod timeline;

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use incident_report::EventKind;
use outage_config::{FaultConfig, FaultMode, Stage};
use outage_drill::check::{self, CheckReport};
use outage_drill::drill::{
    self as engine, DrillEvent, DrillEventKind, DrillPlan, DrillReport, DrillSettings, Step,
};
use outage_drill::lab::LabTarget;
use outage_drill::ports::ControlPlane;
use outage_drill::traffic::HttpTraffic;
use time::OffsetDateTime;

use crate::{Lab, LabConfig, LabHandle};
use diagnose::{diagnose_from_logs, Findings};
use lab_admin_api::{AdminClient, AlarmState};
use notifications::notification;
use observed::ObservedTraffic;
use timeline::LabTimeline;

pub use output::DrillSummary;

/// What the person running the drill chooses.
#[derive(Debug, Clone)]
pub struct DrillOptions {
    pub root: PathBuf,
    pub stage: String,
    /// Folder with the function binaries.
    pub bin_dir: PathBuf,
    /// Default `<root>/.outage-lab/<stage>/drills/<drill-id>/`.
    pub report_dir: Option<PathBuf>,
    /// The function to break (`payment-fixed`).
    pub function: String,
}

/// How long the baseline watches every route before anything is broken.
pub const BASELINE: Duration = Duration::from_secs(5);
/// The steady client load on each route during the whole drill (4 requests per second).
pub const LOAD_EVERY: Duration = Duration::from_millis(250);
/// The route checks' latency budget (a cold start of a debug build included).
pub const CHECK_BUDGET: Duration = Duration::from_secs(3);

/// `HH:MM:SS.mmm` in UTC.
pub(crate) fn hms_millis(t: OffsetDateTime) -> String {
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

fn drill_id(now: OffsetDateTime) -> String {
    format!(
        "drill-{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Prints one progress line on stderr, timed from the drill's start like the engine's lines.
struct Say {
    started: Instant,
}

impl Say {
    fn line(&self, text: &str) {
        Say::at(self.started.elapsed().as_secs_f64(), text);
    }

    fn at(elapsed_s: f64, text: &str) {
        eprintln!("[{elapsed_s:>6.1} s] {text}");
    }
}

/// Runs the drill on a lab of its own and writes the report; `Ok` holds the summary whether
/// the drill passed or not, `Err` means it could not run at all.
pub async fn run(options: DrillOptions) -> anyhow::Result<DrillSummary> {
    let command_started = Instant::now();
    let stage = Stage::load_named(&options.root, &options.stage)
        .with_context(|| format!("cannot read stage {}", options.stage))?;
    let plan = DrillPlan::new(&stage, &DrillSettings::lab(&options.function))?;
    let now = OffsetDateTime::now_utc();
    let id = drill_id(now);
    let report_dir = options.report_dir.clone().unwrap_or_else(|| {
        options
            .root
            .join(".outage-lab")
            .join(&stage.stage)
            .join("drills")
            .join(&id)
    });
    std::fs::create_dir_all(&report_dir)
        .with_context(|| format!("cannot create the report folder {}", report_dir.display()))?;
    let report_dir = report_dir.canonicalize()?;
    let lab_dir = report_dir.join("lab");
    if lab_dir.exists() {
        anyhow::bail!(
            "{} already holds a drill's lab run: choose an empty --report-dir",
            report_dir.display()
        );
    }
    let lab = Lab::start(LabConfig {
        root: options.root.clone(),
        stage: stage.stage.clone(),
        port: 0,
        admin_port: 0,
        bin_dir: options.bin_dir.clone(),
        run_dir: Some(lab_dir),
        console: false,
    })
    .await
    .with_context(|| format!("cannot start the lab for stage {}", stage.stage))?;
    // On stderr with the progress lines, so that stdout holds only the result (`--json`).
    eprintln!("drill {id}: stage {}, breaking {}", stage.stage, plan.function);
    eprintln!("gateway:   {}", lab.gateway_url);
    eprintln!("admin:     {}", lab.admin_url);
    eprintln!("dashboard: {}/?token={}", lab.admin_url, lab.token);
    eprintln!("report:    {}", report_dir.display());
    let result = drill(&lab, &stage, &plan, &id, &report_dir, command_started).await;
    lab.shutdown().await;
    result
}

async fn drill(
    lab: &LabHandle,
    stage: &Stage,
    plan: &DrillPlan,
    id: &str,
    report_dir: &std::path::Path,
    command_started: Instant,
) -> anyhow::Result<DrillSummary> {
    let say = Say {
        started: Instant::now(),
    };
    let started_at = OffsetDateTime::now_utc();
    let admin = AdminClient::new(&lab.admin_url, &lab.token)?;
    let target = LabTarget::connect(&lab.admin_url, &lab.token_file).await?;
    let traffic = ObservedTraffic::new(HttpTraffic::new(&lab.gateway_url, Duration::from_secs(10))?);
    let routes = diagnosis::routes(stage);
    let timeline = Arc::new(Mutex::new(LabTimeline::new(id)));

    // The dashboard gets the newest timeline document; one publisher, so a slow PUT never
    // holds the drill up.
    let (publish_tx, mut publish_rx) = tokio::sync::mpsc::unbounded_channel::<lab_admin_api::DrillDocument>();
    let publisher = {
        let target = target.clone();
        tokio::spawn(async move {
            while let Some(mut doc) = publish_rx.recv().await {
                while let Ok(newer) = publish_rx.try_recv() {
                    doc = newer;
                }
                if let Err(e) = target.publish_drill(&doc).await {
                    tracing::warn!("the lab did not take the drill timeline (PUT /drill): {e}");
                }
            }
        })
    };
    let publish = {
        let timeline = timeline.clone();
        move || {
            let doc = timeline.lock().expect("timeline poisoned").to_document();
            let _ = publish_tx.send(doc);
        }
    };
    let record = |kind: DrillEventKind| {
        let event = DrillEvent {
            at: OffsetDateTime::now_utc(),
            elapsed_s: say.started.elapsed().as_secs_f64(),
            kind,
        };
        say.line(&event.text());
        timeline.lock().expect("timeline poisoned").record(&event);
        publish();
    };
    let note = |kind: EventKind, text: String| {
        say.line(&text);
        timeline.lock().expect("timeline poisoned").note(kind, text);
        publish();
    };
    let note_at = |at: OffsetDateTime, kind: EventKind, text: String| {
        say.line(&text);
        timeline
            .lock()
            .expect("timeline poisoned")
            .note_at(at, kind, text);
        publish();
    };

    // 1. Baseline.
    record(DrillEventKind::StepStarted { step: Step::Baseline });
    let load = traffic.steady_load(
        &routes.iter().map(|r| r.path.clone()).collect::<Vec<_>>(),
        LOAD_EVERY,
    );
    let checks = check::run_checks(traffic.http(), stage, "lab", CHECK_BUDGET).await;
    for r in &checks.results {
        note(
            EventKind::Info,
            format!(
                "check {}: {} in {:.0} ms{}",
                r.expectation.route,
                r.status.map_or("no answer".into(), |s| s.to_string()),
                r.latency_ms,
                if r.passed {
                    String::new()
                } else {
                    format!(" FAILED: {}", r.problems.join("; "))
                }
            ),
        );
    }
    tokio::time::sleep(BASELINE).await;
    let baseline_end = OffsetDateTime::now_utc();
    let baseline = diagnosis::route_stats(&routes, &traffic.observations(), started_at, baseline_end);
    let verdict = baseline::judge(stage, &baseline, &checks);
    for line in &verdict.lines {
        note(EventKind::Info, line.clone());
    }
    let baseline_problems = verdict.problems;
    if !baseline_problems.is_empty() {
        record(DrillEventKind::StepFinished {
            step: Step::Baseline,
            passed: false,
            detail: baseline_problems.join("; "),
        });
        for t in load {
            t.abort();
        }
        timeline.lock().expect("timeline poisoned").finish();
        publish();
        drop(publish);
        let _ = tokio::time::timeout(Duration::from_secs(5), publisher).await;
        anyhow::bail!("baseline failed: {}", baseline_problems.join("; "));
    }

    // 2-7. Break, detect, fix, validate by the engine; diagnose as soon as the alarm fires.
    let (alarm_tx, alarm_rx) = tokio::sync::oneshot::channel::<OffsetDateTime>();
    let alarm_tx = Mutex::new(Some(alarm_tx));
    let injected_at = Mutex::new(None::<OffsetDateTime>);
    let offset = say.started.elapsed().as_secs_f64();
    let display = outage_drill::progress::Progress::new();
    let sink = |e: &DrillEvent| {
        // Engine times count from the engine's start; the drill's from its own.
        let mut shifted = e.clone();
        shifted.elapsed_s += offset;
        // The baseline was announced when the route checks started.
        if !matches!(e.kind, DrillEventKind::StepStarted { step: Step::Baseline }) {
            display.event(&shifted);
        }
        match &e.kind {
            DrillEventKind::FaultInjected { .. } => {
                *injected_at.lock().expect("poisoned") = Some(e.at);
            }
            DrillEventKind::AlarmRaised { .. } => {
                let from = injected_at.lock().expect("poisoned").unwrap_or(e.at);
                if let Some(tx) = alarm_tx.lock().expect("poisoned").take() {
                    let _ = tx.send(from);
                }
            }
            _ => {}
        }
        timeline.lock().expect("timeline poisoned").record(e);
        publish();
    };
    let diagnose = {
        let admin = admin.clone();
        let stage = stage.clone();
        let timeline = timeline.clone();
        let function = plan.function.clone();
        let expected_message = plan
            .fault_variables
            .get("FAULT_MESSAGE")
            .cloned()
            .unwrap_or_default();
        // Plain lines are printed as they come; on a terminal the engine's spinner owns stderr
        // until the engine is done, so the findings are printed then, with their own times.
        let live = !std::io::IsTerminal::is_terminal(&std::io::stderr());
        let drill_started = say.started;
        tokio::spawn(async move {
            let Ok(injected) = alarm_rx.await else {
                return None;
            };
            timeline.lock().expect("timeline poisoned").diagnose_started();
            let findings =
                diagnose_from_logs(&admin, &stage, &function, &expected_message, started_at, injected).await;
            let elapsed_s = drill_started.elapsed().as_secs_f64();
            let mut lines = Vec::new();
            let mut t = timeline.lock().expect("timeline poisoned");
            for d in &findings.diagnoses {
                let line = format!(
                    "diagnose {}: {} handler errors since {} UTC, {}: \"{}\", e.g. request {}",
                    stage.function_name(&d.function),
                    d.failed_requests,
                    hms_millis(d.first_failure_at),
                    d.error_type,
                    d.error_message,
                    d.failing_request_ids.first().map_or("-", String::as_str)
                );
                t.note(EventKind::Info, line.clone());
                lines.push((elapsed_s, line));
            }
            t.diagnose_finished(findings.passed, &findings.detail);
            lines.push((
                elapsed_s,
                format!(
                    "diagnose: {} ({})",
                    if findings.passed { "passed" } else { "FAILED" },
                    findings.detail
                ),
            ));
            if live {
                for (at, line) in lines.drain(..) {
                    Say::at(at, &line);
                }
            }
            Some((findings, lines))
        })
    };
    let report: DrillReport =
        engine::run_drill(&target, &target, &traffic, plan, interrupted(), &sink).await?;
    display.finish();
    // No ALARM means no diagnosis: dropping the sender ends the waiting task at once.
    drop(alarm_tx.lock().expect("poisoned").take());
    let findings = match tokio::time::timeout(Duration::from_secs(30), diagnose).await {
        Ok(Ok(Some((findings, unprinted)))) => {
            for (at, line) in unprinted {
                Say::at(at, &line);
            }
            findings
        }
        _ => {
            say.line("diagnose: not run, the alarm never fired");
            timeline
                .lock()
                .expect("timeline poisoned")
                .diagnose_finished(false, "not run: the alarm never fired");
            Findings {
                detail: "not run: the alarm never fired".into(),
                ..Findings::default()
            }
        }
    };
    for t in load {
        t.abort();
    }

    // What the engine does not check itself: the notifications, and that no fault is left.
    let mut problems: Vec<String> = report.failure.iter().cloned().collect();
    if !findings.passed {
        problems.push(format!("diagnose: {}", findings.detail));
    }
    let alarm = &plan.alarm.name;
    let notified_alarm = match report.alarm_at {
        Some(_) => notification(&admin, alarm, AlarmState::Alarm, started_at).await?,
        None => None,
    };
    match (&report.alarm_at, &notified_alarm) {
        (Some(_), Some(n)) => note_at(
            n.timestamp,
            EventKind::Alarm,
            format!(
                "notification at {} UTC on {}: {}",
                hms_millis(n.timestamp),
                n.topic,
                n.subject
            ),
        ),
        (Some(_), None) => {
            problems.push(format!("no ALARM notification for {alarm}"));
            record(DrillEventKind::StepFinished {
                step: Step::Detect,
                passed: false,
                detail: format!("{alarm} went to ALARM but no notification was sent"),
            });
        }
        _ => {}
    }
    let notified_ok = match report.ok_at {
        Some(_) => {
            notification(
                &admin,
                alarm,
                AlarmState::Ok,
                report.restored_at.unwrap_or(started_at),
            )
            .await?
        }
        None => None,
    };
    let config = target.configuration(&plan.function).await?;
    let fault_left = match FaultConfig::from_vars(&config.variables) {
        Ok(f) if f.mode == FaultMode::None => None,
        Ok(f) => Some(format!("FAULT_MODE={} is still set", f.mode)),
        Err(e) => Some(format!("unreadable FAULT_* variables: {e}")),
    };
    if report.ok_at.is_some() {
        let mut validate_problems = Vec::new();
        match &notified_ok {
            Some(n) => note_at(
                n.timestamp,
                EventKind::Recovery,
                format!(
                    "notification at {} UTC on {}: {}",
                    hms_millis(n.timestamp),
                    n.topic,
                    n.subject
                ),
            ),
            None => validate_problems.push(format!("no OK notification for {alarm}")),
        }
        match &fault_left {
            None => note(
                EventKind::Recovery,
                format!(
                    "{}: no FAULT_* variables left in its configuration",
                    config.function_name
                ),
            ),
            Some(p) => validate_problems.push(format!("{}: {p}", config.function_name)),
        }
        if !validate_problems.is_empty() {
            record(DrillEventKind::StepFinished {
                step: Step::Validate,
                passed: false,
                detail: validate_problems.join("; "),
            });
            problems.extend(validate_problems);
        }
    }
    let finished_at = OffsetDateTime::now_utc();
    {
        let mut t = timeline.lock().expect("timeline poisoned");
        t.finish();
    }
    publish();

    // The report.
    let observations = traffic.observations();
    let break_window = (
        report.injected_at.unwrap_or(baseline_end),
        report.restored_at.unwrap_or(finished_at),
    );
    let during_break = diagnosis::route_stats(&routes, &observations, break_window.0, break_window.1);
    let after_fix = diagnosis::route_stats(&routes, &observations, break_window.1, finished_at);
    let window = incident::chart_window(started_at, finished_at);
    let metrics = incident::metrics(&admin, stage, &routes, &observations, window).await?;
    let mut alarms = Vec::new();
    for name in incident::charted_alarms(stage, &plan.function, &findings.diagnoses) {
        alarms.push(incident::alarm_track(&admin, &name).await?);
    }
    // The one-minute alarm is evaluated once its minute closes: it may fire within the drill
    // but after the fix, an alarm about an incident that is already over. Said as it is.
    let injected = report.injected_at.unwrap_or(baseline_end);
    let standard_name = stage.function_alarm_name(&plan.function, outage_config::AlarmKind::Errors);
    let standard_fired_at = alarms
        .iter()
        .find(|t| t.name == standard_name)
        .and_then(|t| incident::first_alarm_at(t, injected));
    if let Some(at) = standard_fired_at {
        let after_fix = report
            .restored_at
            .filter(|fix| at > *fix)
            .map(|fix| format!(", {:.1} s after the fix", (at - fix).as_seconds_f64()))
            .unwrap_or_default();
        note_at(
            at,
            EventKind::Alarm,
            format!(
                "one-minute alarm {standard_name} went to ALARM at {} UTC, {:.1} s after the injection{after_fix}",
                hms_millis(at),
                (at - injected).as_seconds_f64()
            ),
        );
    }
    let steps = timeline.lock().expect("timeline poisoned").report_steps();
    let events = timeline.lock().expect("timeline poisoned").events().to_vec();
    let route = format!("GET {}", plan.route_path);
    let incident = incident::build(incident::Facts {
        stage: stage.clone(),
        drill_id: id.to_owned(),
        function: plan.function.clone(),
        mode: plan.mode.clone(),
        route,
        alarm: alarm.clone(),
        alarm_period_s: plan.alarm.period_s,
        started_at,
        finished_at,
        detection: incident_report::Detection {
            fault_injected_at: report.injected_at.unwrap_or(baseline_end),
            alarm_at: report.alarm_at,
            fix_applied_at: report.restored_at,
            recovered_at: report.ok_at,
        },
        steps,
        events,
        metrics,
        alarms,
        diagnoses: findings.diagnoses.clone(),
        log_excerpt: findings.excerpt.clone(),
        blast_radius: diagnosis::blast_radius(&during_break),
    });
    let files = incident_report::write_report(&incident, report_dir)?;
    drop(publish);
    let _ = tokio::time::timeout(Duration::from_secs(5), publisher).await;

    let outcome = incident.outcome();
    let summary = DrillSummary {
        drill_id: id.to_owned(),
        stage: stage.stage.clone(),
        function: plan.function.clone(),
        alarm: alarm.clone(),
        passed: problems.is_empty() && report.passed(),
        problems,
        mttd_s: outcome.mttd.seconds,
        mttr_s: outcome.mttr.seconds,
        drill_s: outcome.drill.seconds.unwrap_or_default(),
        command_s: command_started.elapsed().as_secs_f64(),
        targets: incident.targets,
        standard_alarm: incident.alarm_path_comparison.standard_alarm.clone(),
        standard_period_s: incident.alarm_path_comparison.standard_period_s,
        standard_alarm_fired_after_s: standard_fired_at.map(|t| (t - injected).as_seconds_f64()),
        standard_alarm_after_s: incident
            .alarm_path_comparison
            .standard_alarm_at
            .map(|t| (t - incident.detection.fault_injected_at).as_seconds_f64()),
        injected_at: report.injected_at,
        alarm_at: report.alarm_at,
        restored_at: report.restored_at,
        ok_at: report.ok_at,
        alarm_notified_at: notified_alarm.map(|n| n.timestamp),
        ok_notified_at: notified_ok.map(|n| n.timestamp),
        fault_left,
        baseline,
        during_break,
        after_fix,
        blast_radius: incident.blast_radius.clone(),
        diagnoses: findings.diagnoses,
        checks: checks_summary(&checks),
        report_dir: files.dir.clone(),
        report_html: files.html.clone(),
    };
    std::fs::write(
        report_dir.join("drill.json"),
        serde_json::to_string_pretty(&summary)? + "\n",
    )
    .with_context(|| format!("cannot write {}", report_dir.join("drill.json").display()))?;
    Ok(summary)
}

fn checks_summary(checks: &CheckReport) -> Vec<output::CheckLine> {
    checks
        .results
        .iter()
        .map(|r| output::CheckLine {
            route: r.expectation.route.clone(),
            status: r.status,
            expected: r.expectation.statuses.clone(),
            latency_ms: r.latency_ms,
            passed: r.passed,
            problems: r.problems.clone(),
        })
        .collect()
}

/// Resolves on Ctrl-C or SIGTERM: the engine then restores the prior configuration.
async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

/// `outage-lab drill`: runs the drill and prints its summary (text or JSON) on stdout;
/// `Ok(true)` when it passed.
pub async fn cli(
    root: anyhow::Result<PathBuf>,
    stage: String,
    bin_dir: Option<PathBuf>,
    report_dir: Option<PathBuf>,
    function: String,
    json: bool,
) -> anyhow::Result<bool> {
    let bin_dir = match bin_dir {
        Some(d) => d,
        None => crate::default_bin_dir().context("cannot find this executable's folder")?,
    };
    let summary = run(DrillOptions {
        root: root?,
        stage,
        bin_dir,
        report_dir,
        function,
    })
    .await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else {
        print!("{}", summary.text());
    }
    Ok(summary.passed)
}
