//! The scenario runner's phases and failure branches, over test doubles of its ports: a
//! control plane that keeps a configuration (and can be told to fail), an alarm board whose
//! states a script changes over time, and a load that records what it would send. The real
//! lab runs the same code end to end in `crates/lab/tests`.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use outage_config::{AlarmState, Stage};
use outage_drill::error::PortError;
use outage_drill::ports::{ControlPlane, FunctionConfiguration, Variables};
use outage_drill::scenario_run::{
    run_scenario, AlarmBoard, Concurrency, Load, LoadHandle, Observation, Ports, RunError, RunOutcome,
    RunSettings,
};
use outage_drill::verdict::Transition;
use outage_scenario::Scenario;
use time::OffsetDateTime;

fn root() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stage() -> Stage {
    Stage::load_named(&root(), "dev").unwrap()
}

fn scenario(text: &str) -> Scenario {
    Scenario::parse(text, Path::new("scenarios/test.toml"), &stage()).unwrap()
}

const FAST: &str = r#"
title = "t"
lesson = "l"
runbook = "docs/runbooks/fast-errors.md"
function = "payment-fixed"
fix_after = "first-alarm"
[fault]
mode = "exception"
[traffic]
routes = ["GET /pay-fixed", "GET /auth"]
[[expect]]
alarm = "fast-errors"
within_s = 3
recover_within_s = 3
[quiet]
ignore = [{ alarm = "errors" }, { alarm = "api-5xx" }]
"#;

/// What the world looks like to the runner.
#[derive(Default)]
struct World {
    /// `$LATEST`'s variables, and what the `live` alias serves to traffic.
    variables: Variables,
    served: Variables,
    versions: u32,
    revision: u32,
    reserved: Option<u32>,
    /// The fault also breaks GET /auth.
    collateral: bool,
    /// Restores fail from now on (the lab died, or the API refuses).
    fail_updates_after: Option<u32>,
    updates: u32,
    states: BTreeMap<String, AlarmState>,
    history: BTreeMap<String, Vec<Transition>>,
    observations: Vec<Observation>,
}

#[derive(Clone, Default)]
struct Fake(Arc<Mutex<World>>);

impl Fake {
    fn set(&self, alarm: &str, state: AlarmState) {
        let mut w = self.0.lock().unwrap();
        w.states.insert(alarm.to_owned(), state);
        w.history
            .entry(alarm.to_owned())
            .or_default()
            .push(Transition::to(OffsetDateTime::now_utc(), state));
    }

    fn fault_live(&self) -> bool {
        self.0.lock().unwrap().served.contains_key("FAULT_MODE")
    }
}

impl ControlPlane for Fake {
    async fn configuration(&self, function: &str) -> Result<FunctionConfiguration, PortError> {
        let w = self.0.lock().unwrap();
        Ok(FunctionConfiguration {
            function_name: format!("dev-{function}"),
            variables: w.variables.clone(),
            revision_id: Some(w.revision.to_string()),
            last_update_status: Some("Successful".into()),
            last_update_status_reason: None,
        })
    }

    async fn replace_variables(
        &self,
        function: &str,
        variables: &Variables,
        _revision_id: Option<&str>,
    ) -> Result<FunctionConfiguration, PortError> {
        {
            let mut w = self.0.lock().unwrap();
            w.updates += 1;
            if w.fail_updates_after.is_some_and(|n| w.updates > n) {
                return Err(PortError::Transport("connection refused".into()));
            }
            w.variables = variables.clone();
            w.revision += 1;
        }
        self.configuration(function).await
    }

    async fn wait_until_applied(
        &self,
        function: &str,
        _deadline: Duration,
    ) -> Result<FunctionConfiguration, PortError> {
        self.configuration(function).await
    }

    async fn serve_latest(&self, _function: &str) -> Result<String, PortError> {
        let mut w = self.0.lock().unwrap();
        w.served = w.variables.clone();
        w.versions += 1;
        Ok(w.versions.to_string())
    }
}

impl Concurrency for Fake {
    async fn reserved_concurrency(&self, _function: &str) -> Result<Option<u32>, PortError> {
        Ok(self.0.lock().unwrap().reserved)
    }

    async fn set_reserved_concurrency(&self, _function: &str, value: Option<u32>) -> Result<(), PortError> {
        self.0.lock().unwrap().reserved = value;
        Ok(())
    }
}

impl AlarmBoard for Fake {
    async fn states(&self) -> Result<BTreeMap<String, AlarmState>, PortError> {
        let w = self.0.lock().unwrap();
        let mut all: BTreeMap<String, AlarmState> = stage()
            .alarm_definitions("")
            .into_iter()
            .map(|d| (d.name, AlarmState::Ok))
            .collect();
        all.extend(w.states.clone());
        Ok(all)
    }

    async fn history(&self, alarm: &str, since: OffsetDateTime) -> Result<Vec<Transition>, PortError> {
        let w = self.0.lock().unwrap();
        let all = w.history.get(alarm).cloned().unwrap_or_default();
        Ok(all.into_iter().filter(|t| t.at >= since).collect())
    }
}

impl Load for Fake {
    fn start(&self, routes: &[String], every: Duration) -> LoadHandle {
        let me = self.clone();
        let routes = routes.to_vec();
        LoadHandle(vec![tokio::spawn(async move {
            loop {
                for route in &routes {
                    // A route fails while the fault is live and the route is the function's.
                    let failing = me.fault_live() && route == "GET /pay-fixed";
                    let broken_auth =
                        route == "GET /auth" && me.fault_live() && me.0.lock().unwrap().collateral;
                    me.0.lock().unwrap().observations.push(Observation {
                        at: OffsetDateTime::now_utc(),
                        route: route.clone(),
                        status: Some(if failing || broken_auth { 500 } else { 200 }),
                        request_id: None,
                        latency_ms: 1.0,
                    });
                }
                tokio::time::sleep(every).await;
            }
        })])
    }

    fn observations(&self) -> Vec<Observation> {
        self.0.lock().unwrap().observations.clone()
    }
}

fn settings() -> RunSettings {
    RunSettings {
        baseline: Duration::from_millis(200),
        poll_interval: Duration::from_millis(20),
        update_deadline: Duration::from_secs(1),
        metric_delays: outage_config::MetricDelays::NONE,
        stop_window: Duration::from_millis(300),
    }
}

/// Plays the alarm: ALARM `fire_after` once the fault is live, OK `clear_after` once it is gone.
fn alarm_follows_fault(fake: &Fake, alarm: &'static str, fire_after: Duration, clear_after: Duration) {
    let fake = fake.clone();
    tokio::spawn(async move {
        while !fake.fault_live() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(fire_after).await;
        fake.set(alarm, AlarmState::Alarm);
        while fake.fault_live() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        tokio::time::sleep(clear_after).await;
        fake.set(alarm, AlarmState::Ok);
    });
}

async fn run(fake: &Fake, scenario: &Scenario) -> Result<outage_drill::scenario_run::RunReport, RunError> {
    run_scenario(
        &stage(),
        scenario,
        Ports {
            control: fake,
            alarms: fake,
            load: fake,
        },
        settings(),
        std::future::pending(),
        &|_| {},
    )
    .await
}

#[tokio::test]
async fn a_hypothesis_that_holds_passes_and_restores_exactly() {
    let fake = Fake::default();
    fake.0.lock().unwrap().variables = Variables::from([("KEEP".into(), "me".into())]);
    alarm_follows_fault(
        &fake,
        "dev-payment-fixed-fast-errors",
        Duration::from_millis(300),
        Duration::from_millis(300),
    );
    let report = run(&fake, &scenario(FAST)).await.unwrap();
    assert_eq!(report.outcome, RunOutcome::Passed, "{:?}", report.problems);
    let cell = &report.judgement.cells["dev-payment-fixed-fast-errors"];
    assert!(cell.fired_after_s.unwrap() >= 0.3);
    assert_eq!(
        report.judgement.cells["dev-auth-fast-errors"].verdict.as_str(),
        "quiet"
    );
    assert_eq!(
        fake.0.lock().unwrap().variables,
        Variables::from([("KEEP".into(), "me".into())]),
        "the exact prior variables are back"
    );
    assert!(report.not_judged.contains(&"dev-api-5xx".to_string()));
}

#[tokio::test]
async fn an_alarm_that_never_fires_fails_the_scenario_and_still_restores() {
    let fake = Fake::default();
    let report = run(&fake, &scenario(FAST)).await.unwrap();
    assert_eq!(report.outcome, RunOutcome::Failed);
    assert!(
        report.problems.iter().any(|p| p.contains("stayed silent")),
        "{:?}",
        report.problems
    );
    assert!(!fake.fault_live(), "restored");
}

#[tokio::test]
async fn a_false_alarm_fails_the_scenario() {
    let fake = Fake::default();
    alarm_follows_fault(
        &fake,
        "dev-payment-fixed-fast-errors",
        Duration::from_millis(100),
        Duration::from_millis(100),
    );
    alarm_follows_fault(
        &fake,
        "dev-product-duration-p99",
        Duration::from_millis(50),
        Duration::from_millis(100),
    );
    let report = run(&fake, &scenario(FAST)).await.unwrap();
    assert_eq!(report.outcome, RunOutcome::Failed);
    assert_eq!(
        report.judgement.cells["dev-product-duration-p99"]
            .verdict
            .as_str(),
        "false-alarm"
    );
}

#[tokio::test]
async fn a_restore_that_keeps_failing_is_restore_failed() {
    let fake = Fake::default();
    // The injection is update 1; every later update (the restores) fails: the lab died.
    fake.0.lock().unwrap().fail_updates_after = Some(1);
    alarm_follows_fault(
        &fake,
        "dev-payment-fixed-fast-errors",
        Duration::from_millis(50),
        Duration::from_millis(50),
    );
    let report = run(&fake, &scenario(FAST)).await.unwrap();
    assert_eq!(report.outcome, RunOutcome::RestoreFailed);
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("RESTORE FAILED") && p.contains("expires at")),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn a_function_already_broken_is_refused_before_anything_changes() {
    let fake = Fake::default();
    fake.0.lock().unwrap().variables = Variables::from([("FAULT_MODE".into(), "exception".into())]);
    let err = run(&fake, &scenario(FAST)).await.unwrap_err();
    assert!(
        err.to_string().contains("already has FAULT_MODE=exception"),
        "{err}"
    );
    assert_eq!(fake.0.lock().unwrap().updates, 0, "nothing was written");
}

#[tokio::test]
async fn an_expected_alarm_already_in_alarm_is_refused() {
    let fake = Fake::default();
    fake.set("dev-payment-fixed-fast-errors", AlarmState::Alarm);
    let err = run(&fake, &scenario(FAST)).await.unwrap_err();
    assert!(err.to_string().contains("already in ALARM"), "{err}");
    assert_eq!(fake.0.lock().unwrap().updates, 0);
}

#[tokio::test]
async fn a_route_outside_the_blast_radius_degrading_stops_and_restores() {
    let fake = Fake::default();
    // In this world the fault also breaks GET /auth: the experiment hurts a route it promised
    // not to touch, and nothing pages for it (the expected alarm never fires).
    fake.0.lock().unwrap().collateral = true;
    let report = run(
        &fake,
        &scenario(&FAST.replace("[traffic]", "[traffic]\nevery_ms = 20")),
    )
    .await
    .unwrap();
    assert_eq!(report.outcome, RunOutcome::Stopped, "{:?}", report.problems);
    assert!(
        report.problems[0].contains("GET /auth is outside the blast radius"),
        "{:?}",
        report.problems
    );
    assert!(!fake.fault_live(), "restored after the stop");
}

#[tokio::test]
async fn an_interrupt_stops_and_restores() {
    let fake = Fake::default();
    let report = run_scenario(
        &stage(),
        &scenario(FAST),
        Ports {
            control: &fake,
            alarms: &fake,
            load: &fake,
        },
        settings(),
        tokio::time::sleep(Duration::from_millis(500)),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.outcome, RunOutcome::Stopped);
    assert_eq!(report.problems[0], "interrupted");
    assert!(!fake.fault_live());
}
