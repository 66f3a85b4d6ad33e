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
use outage_drill::ports::{
    ControlPlane, Deployments, FunctionConfiguration, ReleaseState, ReleaseStatus, Variables,
};
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
    /// Every published version's variables (version N at N - 1).
    published: Vec<Variables>,
    /// A release: the new version's variables and its share of `live`'s traffic.
    canary: Option<(Variables, f64)>,
    release: Option<ReleaseState>,
    /// A release promotes itself after this long unless an alarm it watches fires first.
    promote_after: Duration,
    /// Requests `live` has routed, to split them by weight without randomness.
    routed: u64,
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
        let w = self.0.lock().unwrap();
        w.served.contains_key("FAULT_MODE")
            || w.canary
                .as_ref()
                .is_some_and(|(v, _)| v.contains_key("FAULT_MODE"))
    }

    /// Which version `live` routes the next request to, and whether it carries the fault: a
    /// weight of 0.1 sends exactly every tenth request to the new version.
    fn route(&self) -> (String, bool) {
        let mut w = self.0.lock().unwrap();
        w.routed += 1;
        let n = w.routed as f64;
        if let Some((vars, weight)) = w.canary.clone() {
            if (n * weight).floor() > ((n - 1.0) * weight).floor() {
                let to = w
                    .release
                    .as_ref()
                    .map(|r| r.to_version.clone())
                    .unwrap_or_default();
                return (to, vars.contains_key("FAULT_MODE"));
            }
        }
        (w.versions.to_string(), w.served.contains_key("FAULT_MODE"))
    }

    /// Ends the release: `live` on `version` for all traffic.
    fn end_release(&self, status: ReleaseStatus, stopped_by: Option<String>) {
        let mut w = self.0.lock().unwrap();
        let Some(mut r) = w.release.take() else { return };
        if r.status.is_done() {
            w.release = Some(r);
            return;
        }
        let (vars, _) = w.canary.take().expect("a running release splits traffic");
        let live = if status == ReleaseStatus::Succeeded {
            r.to_version.clone()
        } else {
            r.from_version.clone()
        };
        w.served = if status == ReleaseStatus::Succeeded {
            vars
        } else {
            w.served.clone()
        };
        w.versions = live.parse().unwrap();
        r.status = status;
        r.stopped_by = stopped_by;
        r.ended_at = Some(OffsetDateTime::now_utc());
        r.events.push(format!("{status:?}"));
        w.release = Some(r);
    }
}

impl Deployments for Fake {
    async fn start_release(
        &self,
        _function: &str,
        strategy: Option<&str>,
        _check: bool,
    ) -> Result<ReleaseState, PortError> {
        let state = {
            let mut w = self.0.lock().unwrap();
            let vars = w.variables.clone();
            w.published.push(vars.clone());
            let to = w.published.len().to_string();
            let state = ReleaseState {
                id: "r-1".into(),
                strategy: strategy.unwrap_or("canary:10%:1m").into(),
                from_version: w.versions.to_string(),
                to_version: to,
                status: ReleaseStatus::InProgress,
                stopped_by: None,
                ended_at: None,
                traffic: BTreeMap::new(),
                events: vec!["10% of live's traffic on the new version".into()],
            };
            w.canary = Some((vars, 0.1));
            w.release = Some(state.clone());
            state
        };
        // The release engine: the function's fast alarm is its rollback trigger.
        let me = self.clone();
        tokio::spawn(async move {
            let until = tokio::time::Instant::now() + me.0.lock().unwrap().promote_after;
            loop {
                if me
                    .0
                    .lock()
                    .unwrap()
                    .release
                    .as_ref()
                    .is_none_or(|r| r.status.is_done())
                {
                    return;
                }
                let alarm = "dev-payment-fixed-fast-errors";
                if me.0.lock().unwrap().states.get(alarm) == Some(&AlarmState::Alarm) {
                    me.end_release(ReleaseStatus::Stopped, Some(alarm.into()));
                    return;
                }
                if tokio::time::Instant::now() >= until {
                    me.end_release(ReleaseStatus::Succeeded, None);
                    return;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        });
        Ok(state)
    }

    async fn release_state(&self, _function: &str, _id: &str) -> Result<ReleaseState, PortError> {
        Ok(self
            .0
            .lock()
            .unwrap()
            .release
            .clone()
            .expect("a release was started"))
    }

    async fn stop_release(&self, _function: &str, _id: &str) -> Result<(), PortError> {
        self.end_release(ReleaseStatus::Stopped, Some("outage-drill".into()));
        Ok(())
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
        let published = w.served.clone();
        w.published.push(published);
        w.versions = w.published.len() as u32;
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
                    // A route fails while the version that serves it carries the fault and the
                    // route is the function's.
                    let (version, faulty) = if route == "GET /pay-fixed" {
                        me.route()
                    } else {
                        ("1".into(), false)
                    };
                    let broken_auth =
                        route == "GET /auth" && me.fault_live() && me.0.lock().unwrap().collateral;
                    let failed = faulty || broken_auth;
                    me.0.lock().unwrap().observations.push(Observation {
                        at: OffsetDateTime::now_utc(),
                        route: route.clone(),
                        status: Some(if failed { 500 } else { 200 }),
                        request_id: None,
                        version: (!failed).then_some(version),
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
    run_on(&stage(), fake, scenario).await
}

async fn run_on(
    stage: &Stage,
    fake: &Fake,
    scenario: &Scenario,
) -> Result<outage_drill::scenario_run::RunReport, RunError> {
    run_scenario(
        stage,
        scenario,
        Ports {
            control: fake,
            alarms: fake,
            load: fake,
            deployments: fake,
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
            deployments: &fake,
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

const BAD_RELEASE: &str = r#"
title = "t"
lesson = "l"
runbook = "docs/runbooks/fast-errors.md"
function = "payment-fixed"
[fault]
mode = "exception"
[release]
outcome = "rolled-back"
check = false
max_failed_share = 0.5
[traffic]
routes = ["GET /pay-fixed", "GET /auth"]
every_ms = 25
[[expect]]
alarm = "fast-errors"
within_s = 3
recover_within_s = 3
[quiet]
ignore = [{ alarm = "errors" }, { alarm = "api-5xx" }]
"#;

const GOOD_RELEASE: &str = r#"
title = "t"
lesson = "l"
runbook = "docs/runbooks/fast-errors.md"
function = "payment-fixed"
[release]
outcome = "promoted"
set = { GREETING = "v2" }
[traffic]
routes = ["GET /pay-fixed", "GET /auth"]
every_ms = 25
"#;

/// The dev stage with every alarm period at one second: a release scenario waits a whole
/// period of each of the function's alarms after the release ends.
fn quick_stage() -> Stage {
    let mut stage = stage();
    let a = &mut stage.alarms;
    for math in [
        &mut a.fast_errors,
        &mut a.errors,
        &mut a.duration_p99,
        &mut a.throttles,
        &mut a.api_5xx,
    ] {
        math.period_s = 1;
    }
    stage
}

fn release_scenario(text: &str) -> Scenario {
    Scenario::parse(text, Path::new("scenarios/test.toml"), &quick_stage()).unwrap()
}

async fn run_release(fake: &Fake, text: &str) -> outage_drill::scenario_run::RunReport {
    run_on(&quick_stage(), fake, &release_scenario(text))
        .await
        .unwrap()
}

/// A world whose function was deployed once (version 1 serves `KEEP=me`).
fn deployed(promote_after: Duration) -> Fake {
    let fake = Fake::default();
    {
        let mut w = fake.0.lock().unwrap();
        w.variables = Variables::from([("KEEP".into(), "me".into())]);
        w.served = w.variables.clone();
        w.published = vec![w.variables.clone()];
        w.versions = 1;
        w.promote_after = promote_after;
    }
    fake
}

fn left_as_found(fake: &Fake) {
    let w = fake.0.lock().unwrap();
    let prior = Variables::from([("KEEP".into(), "me".into())]);
    assert_eq!(w.variables, prior, "$LATEST has its prior variables");
    assert_eq!(w.served, prior, "live serves what it served before");
    assert!(w.canary.is_none(), "no traffic split is left");
}

#[tokio::test]
async fn a_bad_release_rolled_back_by_its_alarm_passes_and_shows_the_split() {
    let fake = deployed(Duration::from_secs(30));
    alarm_follows_fault(
        &fake,
        "dev-payment-fixed-fast-errors",
        Duration::from_millis(1000),
        Duration::from_millis(200),
    );
    let report = run_release(&fake, BAD_RELEASE).await;
    assert_eq!(report.outcome, RunOutcome::Passed, "{:?}", report.problems);
    let release = report.release.as_ref().expect("a release report");
    assert_eq!(
        (release.expected, release.ended),
        ("rolled-back", Some("rolled-back"))
    );
    assert_eq!(
        release.state.stopped_by.as_deref(),
        Some("dev-payment-fixed-fast-errors")
    );
    // One request in ten reached the faulty version 2, and every one of them failed.
    let share = release.clients.failed_share().unwrap();
    assert!((0.05..=0.15).contains(&share), "{share}");
    assert_eq!(release.clients.served_by.keys().collect::<Vec<_>>(), ["1"]);
    assert!(report.fixed_at.unwrap() <= release.state.ended_at.unwrap() + time::Duration::milliseconds(1));
    left_as_found(&fake);
}

#[tokio::test]
async fn a_bad_release_that_no_alarm_stops_fails_the_scenario() {
    // No alarm fires: the release promotes the faulty version.
    let fake = deployed(Duration::from_millis(300));
    let report = run_release(&fake, BAD_RELEASE).await;
    assert_eq!(report.outcome, RunOutcome::Failed);
    let problems = report.problems.join("; ");
    assert!(
        problems.contains("ended promoted, the scenario expects rolled-back"),
        "{problems}"
    );
    assert!(problems.contains("stayed silent"), "{problems}");
    left_as_found(&fake);
}

#[tokio::test]
async fn a_good_release_is_promoted_with_no_alarm_then_put_back() {
    let fake = deployed(Duration::from_millis(300));
    let report = run_release(&fake, GOOD_RELEASE).await;
    assert_eq!(report.outcome, RunOutcome::Passed, "{:?}", report.problems);
    let release = report.release.as_ref().unwrap();
    assert_eq!(release.ended, Some("promoted"));
    assert_eq!(release.clients.failed_share(), Some(0.0));
    assert_eq!(release.clients.served_by.keys().collect::<Vec<_>>(), ["1", "2"]);
    assert!(report
        .judgement
        .cells
        .values()
        .all(|c| c.verdict.as_str() == "quiet"));
    // The promoted version served all traffic for a whole alarm period (1 s here) before the
    // run put live back (less a poll): a version failing only under full traffic would be seen.
    let at = |text: &str| {
        report
            .events
            .iter()
            .find(|e| e.text.contains(text))
            .unwrap_or_else(|| panic!("no event {text:?}"))
            .elapsed_s
    };
    assert!(
        at("prior variables restored") - at("promoted") >= 0.9,
        "{:#?}",
        report.events
    );
    left_as_found(&fake);
}

#[tokio::test]
async fn a_good_release_that_pages_someone_fails() {
    let fake = deployed(Duration::from_millis(300));
    let f = fake.clone();
    tokio::spawn(async move {
        while f.0.lock().unwrap().canary.is_none() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        f.set("dev-payment-fixed-errors", AlarmState::Alarm);
    });
    let report = run_release(&fake, GOOD_RELEASE).await;
    assert_eq!(report.outcome, RunOutcome::Failed);
    assert_eq!(
        report.judgement.cells["dev-payment-fixed-errors"]
            .verdict
            .as_str(),
        "false-alarm"
    );
    left_as_found(&fake);
}

#[tokio::test]
async fn an_interrupted_release_is_stopped_and_put_back() {
    let fake = deployed(Duration::from_secs(30));
    let report = run_scenario(
        &quick_stage(),
        &release_scenario(BAD_RELEASE),
        Ports {
            control: &fake,
            alarms: &fake,
            load: &fake,
            deployments: &fake,
        },
        settings(),
        tokio::time::sleep(Duration::from_millis(500)),
        &|_| {},
    )
    .await
    .unwrap();
    assert_eq!(report.outcome, RunOutcome::Stopped, "{:?}", report.problems);
    assert_eq!(report.problems[0], "interrupted");
    let release = report.release.as_ref().unwrap();
    assert_eq!(release.state.status, ReleaseStatus::Stopped);
    assert_eq!(release.state.stopped_by.as_deref(), Some("outage-drill"));
    left_as_found(&fake);
}

#[test]
fn the_catalogue_s_longest_scenarios_are_estimated_longest() {
    let stage = stage();
    let settings = RunSettings::lab(outage_config::MetricDelays::NONE);
    let all = outage_scenario::catalogue(&root().join("scenarios"), &stage).unwrap();
    let estimate = |name: &str| {
        let s = all.iter().find(|s| s.name == name).unwrap();
        outage_drill::scenario_run::estimated_duration(&stage, s, &settings)
    };
    // duration-p99 needs 2 of 3 one-minute periods to fire and to clear: the longest runs.
    assert!(estimate("timeouts") > estimate("crash-loop"));
    assert!(estimate("latency-regression") > estimate("partial-failure"));
    // A fix at the first page of a 20 s alarm: the shortest.
    assert!(all
        .iter()
        .all(|s| estimate(&s.name) >= estimate("payment-exception")));
    // A promotion lasts the canary's minute, then a whole period of every alarm.
    assert!(estimate("good-release") >= Duration::from_secs(60 + 60));
}
