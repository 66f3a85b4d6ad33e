//! `outage-lab drill --scenario NAME|PATH ... | --all`: scenario files run on labs of their own,
//! concurrently, each judged by the scenario runner and written up as an incident report; the
//! whole run as one game-day report with the coverage matrix.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use incident_report::catalogue::{CatalogueRun, ScenarioResult};
use outage_config::{AlarmState, Stage};
use outage_drill::incident::{self, IncidentPorts};
use outage_drill::lab::LabTarget;
use outage_drill::load::HttpLoad;
use outage_drill::ports::Load;
use outage_drill::scenario_run::{
    estimated_duration, run_scenario, Ports, RunError, RunOutcome, RunSettings,
};
use outage_drill::traffic::HttpTraffic;
use outage_scenario::{Scenario, ScenarioError};
use serde::Serialize;
use time::OffsetDateTime;

use crate::{Lab, LabConfig};
use lab_admin_api::{DrillDocument, DrillStep, DrillTimelineEvent, StepStatus as DrillStepStatus};

/// What the person running the catalogue chooses.
#[derive(Debug, Clone)]
pub struct CatalogueOptions {
    pub root: PathBuf,
    pub stage: String,
    pub bin_dir: PathBuf,
    /// Default `<root>/.outage-lab/<stage>/drills/<id>/`.
    pub report_dir: Option<PathBuf>,
    /// Scenario names or paths; empty with `all` false = the default scenario.
    pub scenarios: Vec<String>,
    pub all: bool,
    /// Scenarios running at once.
    pub jobs: usize,
    /// How late each lab shows its metric data; the budgets follow.
    pub metric_delays: outage_config::MetricDelays,
}

/// How the run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Passed,
    Failed,
    /// Bad input: nothing was injected.
    Usage,
    /// A prior configuration could not be written back.
    RestoreFailed,
}

/// `--json`: the contract of ../shared/ARCHITECTURE.md, plus each scenario's budgets, outcome,
/// problems and report folder.
#[derive(Debug, Serialize)]
pub struct CatalogueJson {
    pub passed: bool,
    pub report: PathBuf,
    pub scenarios: Vec<ScenarioJson>,
}

#[derive(Debug, Serialize)]
pub struct ScenarioJson {
    pub name: String,
    pub passed: bool,
    pub outcome: String,
    pub mttd_s: Option<f64>,
    pub mttd_budget_s: Option<f64>,
    pub mttr_s: Option<f64>,
    pub mttr_budget_s: Option<f64>,
    /// How long after its breaching period closed the primary alarm fired, seconds.
    pub alarm_lag_s: Option<f64>,
    pub failed_requests: u64,
    pub total_requests: u64,
    pub cells: BTreeMap<String, &'static str>,
    pub not_judged: Vec<String>,
    pub problems: Vec<String>,
    pub report: Option<PathBuf>,
}

/// Resolves the scenario arguments against the stage: any bad file is bad input.
pub fn select(options: &CatalogueOptions, stage: &Stage) -> Result<Vec<Scenario>, Vec<ScenarioError>> {
    if options.all {
        let dir = options.root.join(outage_scenario::CATALOGUE_DIR);
        return outage_scenario::catalogue(&dir, stage).map_err(|e| e.errors);
    }
    let args: Vec<String> = if options.scenarios.is_empty() {
        vec![outage_scenario::DEFAULT_SCENARIO.to_owned()]
    } else {
        options.scenarios.clone()
    };
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for arg in &args {
        match outage_scenario::load_arg(arg, &options.root, stage) {
            Ok(s) => out.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

fn run_id(now: OffsetDateTime) -> String {
    format!("drill-{}", crate::time_fmt::compact_utc(now))
}

/// Runs the selected scenarios and writes the game-day report.
pub async fn run(options: CatalogueOptions) -> anyhow::Result<(Exit, CatalogueJson, String)> {
    let stage = Stage::load_named(&options.root, &options.stage)
        .with_context(|| format!("cannot read stage {}", options.stage))?;
    let scenarios = match select(&options, &stage) {
        Ok(s) if s.is_empty() => anyhow::bail!(
            "no scenario to run in {}",
            options.root.join("scenarios").display()
        ),
        Ok(s) => s,
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            return Ok((
                Exit::Usage,
                CatalogueJson {
                    passed: false,
                    report: PathBuf::new(),
                    scenarios: Vec::new(),
                },
                String::new(),
            ));
        }
    };
    let started_at = OffsetDateTime::now_utc();
    let id = run_id(started_at);
    let dir = options.report_dir.clone().unwrap_or_else(|| {
        options
            .root
            .join(".outage-lab")
            .join(&stage.stage)
            .join("drills")
            .join(&id)
    });
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create the report folder {}", dir.display()))?;
    let dir = dir.canonicalize()?;
    if scenarios.iter().any(|s| dir.join(&s.name).join("lab").exists()) {
        anyhow::bail!(
            "{} already holds a run: choose an empty --report-dir",
            dir.display()
        );
    }
    eprintln!(
        "{id}: stage {}, {} scenario(s), {} at a time; report: {}",
        stage.stage,
        scenarios.len(),
        options.jobs.clamp(1, scenarios.len()),
        dir.display()
    );
    let jobs = options.jobs.clamp(1, scenarios.len());
    // Longest first: the last to start are the shortest, so a few slots at a time do not end
    // with one long scenario running alone.
    let settings = RunSettings::lab(options.metric_delays);
    let mut by_length = scenarios.clone();
    by_length.sort_by_key(|s| std::cmp::Reverse(estimated_duration(&stage, s, &settings)));
    let names: Vec<String> = by_length.iter().map(|s| s.name.clone()).collect();
    let runs = by_length.into_iter().map(|scenario| {
        let options = options.clone();
        let stage = stage.clone();
        let dir = dir.join(&scenario.name);
        async move { run_one(&options, &stage, &scenario, &dir).await }
    });
    let mut tasks: BTreeMap<String, _> = names.into_iter().zip(start_in_order(jobs, runs).await).collect();
    let mut results = Vec::new();
    let mut json = Vec::new();
    let mut exit = Exit::Passed;
    for scenario in &scenarios {
        let task = tasks.remove(&scenario.name).expect("every scenario was started");
        let outcome = task
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", scenario.name))?;
        let (result, line, run_exit) = match outcome {
            Ok(done) => done,
            Err(e) => {
                let problem = format!("{e:#}");
                eprintln!("[{}] could not run: {problem}", scenario.name);
                let result = not_run(scenario, problem.clone());
                let line = scenario_json(&result, "not-run", None);
                let run_exit = if problem.contains("precondition") {
                    Exit::Usage
                } else {
                    Exit::Failed
                };
                (result, line, run_exit)
            }
        };
        exit = worse(exit, run_exit);
        results.push(result);
        json.push(line);
    }
    let catalogue = CatalogueRun {
        id: id.clone(),
        stage: stage.stage.clone(),
        target: "lab".into(),
        started_at,
        finished_at: OffsetDateTime::now_utc(),
        alarms: stage.alarm_definitions("").into_iter().map(|a| a.name).collect(),
        scenarios: results,
    };
    let files = incident_report::catalogue::write_catalogue(&catalogue, &dir)?;
    let text = summary_text(&catalogue, &files.html);
    Ok((
        exit,
        CatalogueJson {
            passed: catalogue.passed(),
            report: dir,
            scenarios: json,
        },
        text,
    ))
}

/// Runs `jobs` of `work` at a time, starting each in the order given once a slot is free;
/// returns when the last has started. The slot is taken before the task exists: a task that
/// waited for its slot itself would start whenever the runtime first polled it, which on a
/// multi-threaded runtime is not the order of spawning (a fresh-clone run started the longest
/// scenario twelfth, five minutes in, and the catalogue took 130 s more).
async fn start_in_order<T, F>(
    jobs: usize,
    work: impl IntoIterator<Item = F>,
) -> Vec<tokio::task::JoinHandle<T>>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let slots = Arc::new(tokio::sync::Semaphore::new(jobs.max(1)));
    let mut handles = Vec::new();
    for run in work {
        let slot = slots
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        handles.push(tokio::spawn(async move {
            let _slot = slot;
            run.await
        }));
    }
    handles
}

fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Passed => 0,
        Exit::Failed => 1,
        Exit::Usage => 2,
        Exit::RestoreFailed => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

fn not_run(scenario: &Scenario, problem: String) -> ScenarioResult {
    ScenarioResult {
        name: scenario.name.clone(),
        title: scenario.title.clone(),
        lesson: scenario.lesson.clone(),
        runbook: scenario.runbook.clone(),
        passed: false,
        problems: vec![problem],
        mttd_s: None,
        mttd_budget_s: None,
        mttr_s: None,
        mttr_budget_s: None,
        alarm_lag_s: None,
        failed_requests: 0,
        total_requests: 0,
        cells: BTreeMap::new(),
        not_judged: Vec::new(),
        report: None,
    }
}

fn scenario_json(result: &ScenarioResult, outcome: &str, report: Option<PathBuf>) -> ScenarioJson {
    ScenarioJson {
        name: result.name.clone(),
        passed: result.passed,
        outcome: outcome.to_owned(),
        mttd_s: result.mttd_s,
        mttd_budget_s: result.mttd_budget_s,
        mttr_s: result.mttr_s,
        mttr_budget_s: result.mttr_budget_s,
        alarm_lag_s: result.alarm_lag_s,
        failed_requests: result.failed_requests,
        total_requests: result.total_requests,
        cells: result
            .cells
            .iter()
            .map(|(k, c)| (k.clone(), c.verdict.as_str()))
            .collect(),
        not_judged: result.not_judged.clone(),
        problems: result.problems.clone(),
        report,
    }
}

/// One scenario on a lab of its own.
async fn run_one(
    options: &CatalogueOptions,
    stage: &Stage,
    scenario: &Scenario,
    dir: &Path,
) -> anyhow::Result<(ScenarioResult, ScenarioJson, Exit)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let lab = Lab::start(LabConfig {
        root: options.root.clone(),
        stage: stage.stage.clone(),
        port: 0,
        admin_port: 0,
        bin_dir: options.bin_dir.clone(),
        run_dir: Some(dir.join("lab")),
        console: false,
        metric_delays: options.metric_delays,
        reserved_concurrency: Default::default(),
    })
    .await
    .with_context(|| format!("cannot start a lab for scenario {}", scenario.name))?;
    let name = scenario.name.clone();
    eprintln!(
        "[{name}] {}; dashboard: {}/?token={}",
        scenario.title, lab.admin_url, lab.token
    );
    let result = judge_and_write(&lab, stage, scenario, dir).await;
    lab.shutdown().await;
    result
}

async fn judge_and_write(
    lab: &crate::LabHandle,
    stage: &Stage,
    scenario: &Scenario,
    dir: &Path,
) -> anyhow::Result<(ScenarioResult, ScenarioJson, Exit)> {
    let target = LabTarget::connect(&lab.admin_url, &lab.token_file).await?;
    let load = HttpLoad::new(HttpTraffic::new(&lab.gateway_url, Duration::from_secs(10))?);
    let drill_id = format!("{}-{}", run_id(OffsetDateTime::now_utc()), scenario.name);
    let name = scenario.name.clone();
    // The live dashboard shows the run's timeline: the newest document goes to `PUT /drill`
    // from one publisher, so a slow answer never holds the run up.
    let (publish, mut newest) = tokio::sync::mpsc::unbounded_channel::<DrillDocument>();
    let publisher = {
        let target = target.clone();
        tokio::spawn(async move {
            while let Some(mut doc) = newest.recv().await {
                while let Ok(newer) = newest.try_recv() {
                    doc = newer;
                }
                if let Err(e) = target.publish_drill(&doc).await {
                    tracing::warn!("the lab did not take the drill timeline (PUT /drill): {e}");
                }
            }
        })
    };
    let timeline = std::sync::Mutex::new(DrillDocument {
        running: true,
        drill_id: Some(drill_id.clone()),
        started_at: Some(rfc3339(OffsetDateTime::now_utc())),
        steps: PHASES
            .iter()
            .map(|p| DrillStep {
                name: (*p).to_owned(),
                status: DrillStepStatus::Pending,
                started_at: None,
                finished_at: None,
                detail: None,
            })
            .collect(),
        events: Some(Vec::new()),
    });
    let say = |e: &outage_drill::scenario_run::RunEvent| {
        eprintln!("[{name}] [{:>6.1} s] {}: {}", e.elapsed_s, e.phase, e.text);
        let mut doc = timeline.lock().expect("timeline poisoned");
        let at = rfc3339(e.at);
        let current = doc.steps.iter().position(|s| s.name == e.phase);
        for (i, step) in doc.steps.iter_mut().enumerate() {
            if Some(i) == current && step.status == DrillStepStatus::Pending {
                step.status = DrillStepStatus::Running;
                step.started_at = Some(at.clone());
            } else if current.is_some_and(|c| i < c) && step.status == DrillStepStatus::Running {
                step.status = DrillStepStatus::Passed;
                step.finished_at = Some(at.clone());
            }
        }
        doc.events.get_or_insert_with(Vec::new).push(DrillTimelineEvent {
            timestamp: at,
            kind: Some(incident::event_kind(e.kind).as_str().to_owned()),
            text: e.text.clone(),
        });
        let _ = publish.send(doc.clone());
    };
    let mut report = match run_scenario(
        stage,
        scenario,
        Ports {
            control: &target,
            alarms: &target,
            load: &load,
            deployments: &target,
        },
        RunSettings::lab(lab.state.metrics.delays()),
        super::interrupted(),
        &say,
    )
    .await
    {
        Ok(r) => r,
        Err(e @ RunError::Precondition(_)) => anyhow::bail!("{e}"),
        Err(e) => return Err(e.into()),
    };
    {
        let mut doc = timeline.lock().expect("timeline poisoned").clone();
        doc.running = false;
        let passed = report.passed();
        for step in &mut doc.steps {
            if step.status == DrillStepStatus::Running {
                step.status = if passed {
                    DrillStepStatus::Passed
                } else {
                    DrillStepStatus::Failed
                };
                step.finished_at = Some(rfc3339(report.finished_at));
            }
        }
        let _ = publish.send(doc);
        drop(publish);
        let _ = tokio::time::timeout(Duration::from_secs(5), publisher).await;
    }
    // Every alarm that fires must reach its topic (an alarm with no notification is an
    // outage nobody hears about), and a deliberately broken function's must never reach
    // on-call's.
    let topics: BTreeMap<String, String> = stage
        .alarm_definitions("")
        .into_iter()
        .map(|d| (d.name, d.topic))
        .collect();
    match target.admin().notifications().await {
        Ok(notes) => {
            for (alarm, cell) in &report.judgement.cells {
                let topic = topics
                    .get(alarm)
                    .cloned()
                    .unwrap_or_else(|| stage.alarm_topic_name());
                let notified = notes
                    .iter()
                    .any(|n| &n.alarm_name == alarm && n.new_state == AlarmState::Alarm && n.topic == topic);
                if cell.verdict == incident_report::catalogue::Verdict::Fired && !notified {
                    report.problems.push(format!(
                        "{alarm} went to ALARM but no notification reached {topic}"
                    ));
                }
            }
            // One page per incident: whenever an alarm that pages fired, the stage's composite
            // alarm must have paged too.
            let composite = stage.composite_alarm(&[]).name;
            let paged = report.judgement.cells.iter().any(|(alarm, cell)| {
                cell.verdict == incident_report::catalogue::Verdict::Fired
                    && topics.get(alarm) == Some(&stage.alarm_topic_name())
            });
            let composite_paged = notes.iter().any(|n| {
                n.alarm_name == composite
                    && n.new_state == AlarmState::Alarm
                    && n.topic == stage.alarm_topic_name()
            });
            if paged && !composite_paged {
                report.problems.push(format!(
                    "an alarm that pages fired, but the composite alarm {composite} did not page"
                ));
            }
            for n in &notes {
                let broken = topics.get(&n.alarm_name) == Some(&stage.known_broken_topic_name());
                if broken && n.topic == stage.alarm_topic_name() {
                    report.problems.push(format!(
                        "{} paged on-call ({}), but its function is broken on purpose",
                        n.alarm_name, n.topic
                    ));
                }
            }
        }
        Err(e) => report.problems.push(format!("reading the notifications: {e}")),
    }
    if report.outcome == RunOutcome::Passed && !report.problems.is_empty() {
        report.outcome = RunOutcome::Failed;
    }
    let written = incident::write_incident(
        stage,
        scenario,
        &report,
        IncidentPorts {
            telemetry: &target,
            alarms: &target,
        },
        &load.observations(),
        dir,
        &drill_id,
    )
    .await?;
    for d in &written.findings.diagnoses {
        eprintln!(
            "[{}] diagnose {}: {} failed requests since {} UTC, {}: \"{}\"",
            scenario.name,
            stage.function_name(&d.function),
            d.failed_requests,
            incident_report::hms_millis(d.first_failure_at),
            d.error_type,
            d.error_message
        );
    }
    let result = written.result;
    let files = written.files;
    let passed = result.passed;
    let outcome = serde_json::to_value(report.outcome)?
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let json = scenario_json(&result, &outcome, Some(files.dir.clone()));
    let exit = match report.outcome {
        RunOutcome::Passed => Exit::Passed,
        RunOutcome::RestoreFailed => Exit::RestoreFailed,
        _ => Exit::Failed,
    };
    eprintln!(
        "[{}] {}: report {}",
        scenario.name,
        if passed { "PASSED" } else { "FAILED" },
        files.html.display()
    );
    Ok((result, json, exit))
}

/// The phases as the dashboard's timeline shows them.
const PHASES: [&str; 5] = ["baseline", "break", "detect", "fix", "validate"];

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

fn summary_text(run: &CatalogueRun, html: &Path) -> String {
    let mut out = String::new();
    let coverage = run.coverage();
    for s in &run.scenarios {
        let fired: Vec<String> = s
            .cells
            .iter()
            .filter(|(_, c)| c.verdict == incident_report::catalogue::Verdict::Fired)
            .map(|(n, c)| format!("{n} {:.1} s", c.fired_after_s.unwrap_or_default()))
            .collect();
        out.push_str(&format!(
            "scenario {} {}: MTTD {} (budget {}), MTTR {} (budget {}), alarm lag {}; fired: {}\n",
            s.name,
            if s.passed { "PASSED" } else { "FAILED" },
            secs(s.mttd_s),
            secs(s.mttd_budget_s),
            secs(s.mttr_s),
            secs(s.mttr_budget_s),
            secs(s.alarm_lag_s),
            if fired.is_empty() {
                "none".into()
            } else {
                fired.join(", ")
            }
        ));
        for p in &s.problems {
            out.push_str(&format!("  problem: {p}\n"));
        }
        out.push_str(&format!("  learn: {}\n", s.lesson));
    }
    out.push_str(&format!(
        "{} {}: {} of {} scenarios passed; {} of {} alarms of the stage proven to fire; {} red cells\n  report: {}\n",
        run.id,
        if run.passed() { "PASSED" } else { "FAILED" },
        run.scenarios.iter().filter(|s| s.passed).count(),
        run.scenarios.len(),
        coverage.covered.len(),
        run.alarms.len(),
        coverage.red_cells,
        html.display()
    ));
    out
}

fn secs(s: Option<f64>) -> String {
    s.map_or("-".into(), |s| format!("{s:.1} s"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
    use std::sync::Mutex;

    /// Runs 40 tasks `jobs` at a time; what each saw when its body began: its index, and how
    /// many ran at once at most.
    async fn run(jobs: usize) -> (Vec<usize>, usize, Vec<usize>) {
        let started = Arc::new(Mutex::new(Vec::new()));
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let work = (0..40).map(|i| {
            let (started, running, most) = (started.clone(), running.clone(), most.clone());
            async move {
                started.lock().unwrap().push(i);
                most.fetch_max(running.fetch_add(1, SeqCst) + 1, SeqCst);
                tokio::time::sleep(Duration::from_millis(1)).await;
                running.fetch_sub(1, SeqCst);
                i * 10
            }
        });
        let work: Vec<_> = work.collect();
        // From a worker thread, as the catalogue's own task: there tokio runs the task spawned
        // last first (its LIFO slot), so tasks that took their slot themselves started out of order.
        let handles = tokio::spawn(start_in_order(jobs, work)).await.unwrap();
        let mut results = Vec::new();
        for h in handles {
            results.push(h.await.unwrap());
        }
        let started = started.lock().unwrap().clone();
        (started, most.load(SeqCst), results)
    }

    // On a multi-threaded runtime, tasks that each waited for a slot themselves started in the
    // order the runtime first polled them.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_slot_runs_the_work_in_the_order_given() {
        let (started, most, results) = run(1).await;
        assert_eq!(started, (0..40).collect::<Vec<_>>());
        assert_eq!(most, 1);
        assert_eq!(results, (0..40).map(|i| i * 10).collect::<Vec<_>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_slots_run_three_at_a_time_and_return_every_result_in_order() {
        let (started, most, results) = run(3).await;
        assert!((1..=3).contains(&most), "three at a time at most, not {most}");
        assert_eq!(started.len(), 40);
        assert_eq!(results, (0..40).map(|i| i * 10).collect::<Vec<_>>());
    }
}
