//! Runs one scenario: the experiment of a scenario file, as named phases over one state.
//!
//! 1. baseline: steady traffic on the scenario's routes; route checks; which alarms are already
//!    in ALARM (those are not judged); the prior configuration read and refused if it already
//!    carries a live fault;
//! 2. break: the configuration change, then the fault (with `FAULT_EXPIRES_AT`, so a killed run
//!    heals itself), then the surge; for a release scenario the fault (and `release.set`) build
//!    a new version that a release shifts `live` to, by the scenario's strategy;
//! 3. detect: every alarm polled until the fix is due (the first or every expected alarm fired,
//!    the fault expired for a scenario with no fix, or the release ended: rolled back by its
//!    alarms, refused by its pre-traffic check, or promoted), watching the stop conditions: a
//!    route outside the blast radius degrading, the scenario's time budget, an interrupt;
//! 4. fix: the exact prior configuration written back and read back (always, once anything may
//!    have been applied; not interruptible), the surge stopped. An incident that ends on its
//!    own (an expiring fault, a release) is its own fix: nothing is applied then, unless the run
//!    was stopped;
//! 5. validate: until every expected alarm that fired is OK again and the settle time passed
//!    (the longest expected period after the fix, so alarms that see the incident late are
//!    seen; after a release, a whole period of every alarm of the function, so a promoted
//!    version is watched at full traffic), then an incident that ended on its own is put back
//!    (the prior variables served on `live` again), then every alarm's history judged.
//!
//! The phases talk to the world through ports only, so each runs against the lab, AWS, or the
//! test doubles of `tests`.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use outage_config::{AlarmDefinition, AlarmState, AlarmSubject, FaultConfig, FaultMode, MetricDelays, Stage};
use outage_scenario::{FixAfter, FixPlan, ReleaseOutcome, Scenario};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::PortError;
pub use crate::ports::{AlarmBoard, Concurrency, Deployments, Load, LoadHandle, Observation};
use crate::ports::{ControlPlane, ReleaseState, ReleaseStatus, Variables};
use crate::traffic::Tally;
use crate::verdict::{self, Expected, Judgement, Transition, Window};

/// How a run polls and waits; the lab and AWS differ.
#[derive(Debug, Clone)]
pub struct RunSettings {
    /// How long the baseline watches before anything changes.
    pub baseline: Duration,
    pub poll_interval: Duration,
    /// How long a configuration update may take to apply.
    pub update_deadline: Duration,
    /// How late metric data becomes visible on this target: the lab's own model, or what AWS
    /// is assumed to show; the budgets and the settle time add it (`MetricDelays::alarm_lag`).
    pub metric_delays: MetricDelays,
    /// Degradation of a route outside the blast radius is judged over this window.
    pub stop_window: Duration,
}

impl RunSettings {
    /// A lab publishing its metrics with `metric_delays`.
    pub fn lab(metric_delays: MetricDelays) -> RunSettings {
        RunSettings {
            baseline: Duration::from_secs(5),
            poll_interval: Duration::from_millis(500),
            update_deadline: Duration::from_secs(30),
            metric_delays,
            stop_window: Duration::from_secs(5),
        }
    }

    pub fn aws() -> RunSettings {
        RunSettings {
            baseline: Duration::from_secs(30),
            poll_interval: Duration::from_secs(5),
            update_deadline: Duration::from_secs(120),
            metric_delays: MetricDelays::uniform(Duration::from_secs(90)),
            stop_window: Duration::from_secs(30),
        }
    }
}

/// How the run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunOutcome {
    /// Every claim of the hypothesis held.
    Passed,
    /// It ran to the end and some claim did not hold.
    Failed,
    /// A stop condition or an interrupt ended it early; everything was restored.
    Stopped,
    /// The prior configuration could not be written back: a person must act.
    RestoreFailed,
}

/// One line of what happened, for progress output and the incident timeline.
#[derive(Debug, Clone, Serialize)]
pub struct RunEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub elapsed_s: f64,
    pub phase: &'static str,
    pub kind: RunEventKind,
    pub text: String,
}

/// What an event marks on the incident timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunEventKind {
    /// Something was broken on purpose (the fault, a configuration change, a surge).
    Fault,
    /// An expected alarm reached ALARM.
    Alarm,
    /// The prior configuration was written back (or could not be).
    Fix,
    /// Every expected alarm is out of ALARM again.
    Recovery,
    Info,
}

/// Everything a run found, for the report and the coverage matrix.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub scenario: String,
    pub outcome: RunOutcome,
    pub problems: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub injected_at: Option<OffsetDateTime>,
    pub fault_expires_at: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub fixed_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// Alarms in ALARM when the baseline ended, and the ones the scenario ignores.
    pub not_judged: Vec<String>,
    pub judged: Vec<String>,
    #[serde(skip)]
    pub judgement: Judgement,
    /// Budgets of the primary expected alarm, seconds.
    pub mttd_budget_s: Option<f64>,
    pub mttr_budget_s: Option<f64>,
    /// How long after its breaching period closed the primary alarm fired, seconds
    /// (`verdict::observed_alarm_lag`), and the lag the budgets assumed.
    pub alarm_lag_s: Option<f64>,
    pub assumed_lag_s: Option<f64>,
    #[serde(skip)]
    pub histories: BTreeMap<String, Vec<Transition>>,
    pub restored_exactly: bool,
    /// The release a release scenario ran, as it ended.
    pub release: Option<ReleaseReport>,
    pub events: Vec<RunEvent>,
}

/// What a release scenario's release did.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseReport {
    /// How the scenario expects it to end (`rolled-back`, `promoted`, `refused`).
    pub expected: &'static str,
    /// How it ended, in the same words; `None` while it had not ended.
    pub ended: Option<&'static str>,
    /// The target's own account of it (per-version traffic where the target counts it).
    pub state: ReleaseState,
    /// What the scenario's clients saw on the function's routes from the release's start to
    /// its end, by the version that answered (`Tally::failed_share`: the share that failed).
    pub clients: Tally,
}

impl ReleaseReport {
    /// The scenario's word for how a release ended: an alarm's rollback, a promotion, a refusal
    /// by the pre-traffic check. A person's stop (the run's own, on an interrupt) is none.
    pub fn outcome_of(
        state: &ReleaseState,
        alarms: &BTreeMap<String, AlarmDefinition>,
    ) -> Option<ReleaseOutcome> {
        match state.status {
            ReleaseStatus::Succeeded => Some(ReleaseOutcome::Promoted),
            ReleaseStatus::Failed => Some(ReleaseOutcome::Refused),
            ReleaseStatus::Stopped if state.stopped_by.as_ref().is_some_and(|a| alarms.contains_key(a)) => {
                Some(ReleaseOutcome::RolledBack)
            }
            _ => None,
        }
    }
}

impl RunReport {
    pub fn passed(&self) -> bool {
        self.outcome == RunOutcome::Passed
    }
}

/// A run that cannot start; nothing was changed (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("precondition: {0}")]
    Precondition(String),
    #[error("before changing anything: {0}")]
    Port(#[from] PortError),
}

/// The ports a run needs.
pub struct Ports<'a, C, B, L, D> {
    pub control: &'a C,
    pub alarms: &'a B,
    pub load: &'a L,
    /// Releases, for a scenario with `[release]`.
    pub deployments: &'a D,
}

/// What the run changed, so that the fix can write back exactly what was there.
#[derive(Debug, Clone, Default)]
struct Prior {
    variables: Variables,
    revision_id: Option<String>,
    reserved_concurrency: Option<Option<u32>>,
}

/// The state the phases share.
struct Run<'a, C, B, L, D> {
    scenario: &'a Scenario,
    ports: Ports<'a, C, B, L, D>,
    settings: RunSettings,
    definitions: BTreeMap<String, AlarmDefinition>,
    /// The `FAULT_*` variables the stage file itself gives the function (the deliberately
    /// broken payment's): a scenario may start from those, never from any other fault.
    configured_fault: Variables,
    /// The functions the steady load reaches (it goes on after the fix).
    steady_functions: BTreeSet<String>,
    clock: Instant,
    started_at: OffsetDateTime,
    events: Mutex<Vec<RunEvent>>,
    on_event: &'a (dyn Fn(&RunEvent) + Send + Sync),
    prior: Prior,
    /// Something was (or may have been) applied: the fix must run.
    touched: bool,
    injected_at: Option<OffsetDateTime>,
    fault_expires_at: Option<OffsetDateTime>,
    fixed_at: Option<OffsetDateTime>,
    stopped: Option<String>,
    problems: Vec<String>,
    not_judged: Vec<String>,
    restore_failed: bool,
    /// The prior configuration was written back (or tried): it happens once.
    put_back: bool,
    /// The release a release scenario started, as last read, and how many of its events the
    /// run has passed on.
    release: Option<ReleaseState>,
    release_events_told: usize,
}

/// Runs `scenario` to its end. `Err` means it did not start and nothing changed; once anything
/// may have been applied, the answer is a report, whose outcome is `RestoreFailed` if the prior
/// configuration is not back.
pub async fn run_scenario<C, B, L, D>(
    stage: &Stage,
    scenario: &Scenario,
    ports: Ports<'_, C, B, L, D>,
    settings: RunSettings,
    interrupt: impl Future<Output = ()> + Send,
    on_event: &(dyn Fn(&RunEvent) + Send + Sync),
) -> Result<RunReport, RunError>
where
    C: ControlPlane + Concurrency,
    B: AlarmBoard,
    L: Load,
    D: Deployments,
{
    let definitions = stage
        .alarm_definitions("")
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect();
    let mut run = Run {
        scenario,
        ports,
        settings,
        definitions,
        configured_fault: stage.fault_vars(&scenario.function),
        steady_functions: scenario
            .traffic
            .routes
            .iter()
            .filter_map(|r| stage.routes.get(r).cloned())
            .collect(),
        clock: Instant::now(),
        started_at: OffsetDateTime::now_utc(),
        events: Mutex::new(Vec::new()),
        on_event,
        prior: Prior::default(),
        touched: false,
        injected_at: None,
        fault_expires_at: None,
        fixed_at: None,
        stopped: None,
        problems: Vec::new(),
        not_judged: Vec::new(),
        restore_failed: false,
        put_back: false,
        release: None,
        release_events_told: 0,
    };
    tokio::pin!(interrupt);
    let steady = run
        .ports
        .load
        .start(&scenario.traffic.routes, scenario.traffic.interval);
    run.baseline().await?;
    let surge = run.inject().await;
    if !run.touched || run.stopped.is_none() {
        run.detect(&mut interrupt).await;
    }
    drop(surge);
    if run.touched {
        run.fix().await;
    }
    if run.stopped.is_none() && !run.restore_failed {
        run.validate(&mut interrupt).await;
    }
    // An incident that ended on its own leaves the stage as it was found only now.
    run.put_back("validate").await;
    let report = run.judge().await;
    drop(steady);
    Ok(report)
}

impl<C, B, L, D> Run<'_, C, B, L, D>
where
    C: ControlPlane + Concurrency,
    B: AlarmBoard,
    L: Load,
    D: Deployments,
{
    /// An event of `phase`: whatever the break and fix phases say marks the fault and the fix.
    fn say(&self, phase: &'static str, text: impl Into<String>) {
        let kind = match phase {
            "break" => RunEventKind::Fault,
            "fix" => RunEventKind::Fix,
            _ => RunEventKind::Info,
        };
        self.mark(phase, kind, text);
    }

    fn mark(&self, phase: &'static str, kind: RunEventKind, text: impl Into<String>) {
        let event = RunEvent {
            at: OffsetDateTime::now_utc(),
            elapsed_s: self.clock.elapsed().as_secs_f64(),
            phase,
            kind,
            text: text.into(),
        };
        (self.on_event)(&event);
        self.events.lock().expect("events poisoned").push(event);
    }

    fn expected(&self) -> Vec<Expected> {
        expectations(
            self.scenario,
            &self.definitions,
            &self.settings,
            &self.steady_functions,
        )
    }

    /// Phase 1.
    async fn baseline(&mut self) -> Result<(), RunError> {
        let s = self.scenario;
        self.say(
            "baseline",
            format!("steady traffic on {}", s.traffic.routes.join(", ")),
        );
        let prior = bounded(
            self.settings.update_deadline + CALL_TIMEOUT,
            self.ports
                .control
                .wait_until_applied(&s.function, self.settings.update_deadline),
        )
        .await?;
        let prior_fault: Variables = prior
            .variables
            .iter()
            .filter(|(k, _)| k.starts_with("FAULT_"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if let Ok(f) = FaultConfig::from_vars(&prior.variables) {
            let live = f.mode != FaultMode::None && !f.is_expired(OffsetDateTime::now_utc());
            if live && prior_fault != self.configured_fault {
                return Err(RunError::Precondition(format!(
                    "{} already has FAULT_MODE={}, which its stage file does not set; a scenario starts from the stage's own configuration",
                    prior.function_name, f.mode
                )));
            }
        }
        self.prior.variables = prior.variables;
        self.prior.revision_id = prior.revision_id;
        if s.configuration.is_some() {
            let current = bounded(CALL_TIMEOUT, self.ports.control.reserved_concurrency(&s.function)).await?;
            self.prior.reserved_concurrency = Some(current);
        }
        tokio::time::sleep(self.settings.baseline).await;
        let states = bounded(CALL_TIMEOUT, self.ports.alarms.states()).await?;
        let mut not_judged: Vec<String> = states
            .iter()
            .filter(|(name, state)| **state == AlarmState::Alarm && !s.ignored.contains(name))
            .map(|(name, _)| name.clone())
            .collect();
        for name in &not_judged {
            if s.expected.iter().any(|e| &e.name == name) {
                return Err(RunError::Precondition(format!(
                    "{name} is already in ALARM before the scenario starts, and the scenario expects it to fire: wait for it to clear"
                )));
            }
        }
        self.say(
            "baseline",
            match not_judged.len() {
                0 => "every judged alarm is out of ALARM".to_string(),
                _ => format!("already in ALARM, not judged: {}", not_judged.join(", ")),
            },
        );
        not_judged.extend(s.ignored.iter().cloned());
        not_judged.sort();
        not_judged.dedup();
        self.not_judged = not_judged;
        Ok(())
    }

    /// Phase 2. Returns the surge's load, which stops when dropped.
    async fn inject(&mut self) -> Option<LoadHandle> {
        let s = self.scenario;
        let control = self.ports.control;
        if let Some(c) = &s.configuration {
            self.touched = true;
            if let Err(e) = bounded(
                CALL_TIMEOUT,
                control.set_reserved_concurrency(&s.function, c.reserved_concurrency),
            )
            .await
            {
                self.stopped = Some(format!("changing the reserved concurrency: {e}"));
                return None;
            }
            self.say(
                "break",
                format!(
                    "{}: reserved concurrency {}",
                    s.function_name,
                    c.reserved_concurrency
                        .map_or("unreserved".into(), |v| v.to_string())
                ),
            );
        }
        if s.fault.is_some() || s.release.is_some() {
            // The fault (and a release's variables) on `$LATEST`, then served: straight on
            // `live` as a hotfix deploy, or as a new version through a release.
            let mut vars = self.prior.variables.clone();
            let mut expires = None;
            if let Some(fault) = &s.fault {
                let now = OffsetDateTime::now_utc();
                let ttl = fault
                    .expires_after
                    .unwrap_or(s.max_duration + Duration::from_secs(60));
                let at = (now + ttl).replace_nanosecond(0).unwrap_or(now + ttl);
                vars.extend(fault.vars.clone());
                vars.insert("FAULT_EXPIRES_AT".into(), at.format(&Rfc3339).unwrap_or_default());
                expires = Some(at);
            }
            if let Some(release) = &s.release {
                vars.extend(release.set.clone());
            }
            match bounded(
                CALL_TIMEOUT,
                control.replace_variables(&s.function, &vars, self.prior.revision_id.as_deref()),
            )
            .await
            {
                Err(e @ (PortError::Rejected(_) | PortError::NotFound(_))) => {
                    self.stopped = Some(format!("the change was not applied: {e}"));
                    return None;
                }
                Err(e) => {
                    self.touched = true;
                    self.stopped = Some(format!("changing the variables: {e}"));
                    return None;
                }
                Ok(_) => self.touched = true,
            }
            if let Err(e) = bounded(
                self.settings.update_deadline + CALL_TIMEOUT,
                control.wait_until_applied(&s.function, self.settings.update_deadline),
            )
            .await
            {
                self.stopped = Some(format!("waiting for the change to apply: {e}"));
                return None;
            }
            self.fault_expires_at = expires;
            if let Some(release) = &s.release {
                let started = bounded(
                    CALL_TIMEOUT,
                    self.ports.deployments.start_release(
                        &s.function,
                        release.strategy.as_deref(),
                        release.check,
                    ),
                )
                .await;
                let state = match started {
                    Ok(state) => state,
                    Err(e) => {
                        self.stopped = Some(format!("the release did not start: {e}"));
                        return None;
                    }
                };
                self.say(
                    "break",
                    format!(
                        "{}: release {} of version {} (live on version {}), strategy {}{}{}",
                        s.function_name,
                        state.id,
                        state.to_version,
                        state.from_version,
                        state.strategy,
                        if release.check {
                            ""
                        } else {
                            ", no pre-traffic check"
                        },
                        s.fault
                            .as_ref()
                            .map(|f| format!(", the new version has FAULT_MODE={}", f.mode()))
                            .unwrap_or_default()
                    ),
                );
                self.release = Some(state);
            } else {
                if let Err(e) = bounded(CALL_TIMEOUT, control.serve_latest(&s.function)).await {
                    self.stopped = Some(format!("serving the fault on the `live` alias: {e}"));
                    return None;
                }
                let fault = s.fault.as_ref().expect("no release: a fault was injected");
                self.say(
                    "break",
                    format!(
                        "{}: FAULT_MODE={} injected, expires at {}",
                        s.function_name,
                        fault.mode(),
                        expires.and_then(|e| e.format(&Rfc3339).ok()).unwrap_or_default()
                    ),
                );
            }
        }
        self.injected_at = Some(OffsetDateTime::now_utc());
        s.surge.as_ref().map(|surge| {
            self.say(
                "break",
                format!(
                    "surge: {} clients, one request each every {} ms, on {}",
                    surge.concurrency,
                    surge.interval.as_millis(),
                    surge.routes.join(", ")
                ),
            );
            let routes: Vec<String> = (0..surge.concurrency as usize)
                .map(|i| surge.routes[i % surge.routes.len()].clone())
                .collect();
            self.ports.load.start(&routes, surge.interval)
        })
    }

    /// Phase 3: until the fix is due, a stop condition or an interrupt.
    async fn detect(&mut self, interrupt: &mut (impl Future<Output = ()> + Send + Unpin)) {
        let s = self.scenario;
        let Some(injected) = self.injected_at else {
            return;
        };
        let expected = self.expected();
        let longest = expected
            .iter()
            .map(|e| e.detect_within)
            .max()
            .unwrap_or(Duration::ZERO);
        let baseline_health = self.route_health(self.started_at, injected);
        let mut fired: BTreeMap<String, f64> = BTreeMap::new();
        loop {
            let elapsed = (OffsetDateTime::now_utc() - injected).unsigned_abs();
            // The fix is due.
            let due = match s.fix {
                FixPlan::Restore {
                    after: FixAfter::FirstAlarm,
                } => !fired.is_empty(),
                FixPlan::Restore {
                    after: FixAfter::AllAlarms,
                } => fired.len() == expected.len(),
                FixPlan::None => self
                    .fault_expires_at
                    .is_some_and(|e| OffsetDateTime::now_utc() >= e),
                // The release ended on its own, and every expected alarm had its chance.
                FixPlan::Release => {
                    self.follow_release().await;
                    self.release.as_ref().is_none_or(|r| r.status.is_done())
                        && (fired.len() == expected.len() || elapsed > longest)
                }
            };
            if due {
                return;
            }
            if elapsed > longest && !matches!(s.fix, FixPlan::None | FixPlan::Release) {
                self.say(
                    "detect",
                    format!("detection budgets ran out ({:.0} s)", longest.as_secs_f64()),
                );
                return;
            }
            if (OffsetDateTime::now_utc() - self.started_at).unsigned_abs() > s.max_duration {
                self.stopped = Some(format!(
                    "stopped: the scenario's time budget of {:.0} s ran out",
                    s.max_duration.as_secs_f64()
                ));
                self.say("detect", self.stopped.clone().unwrap_or_default());
                return;
            }
            if let Some(reason) = self.outside_blast_radius(&baseline_health) {
                self.say("detect", reason.clone());
                self.stopped = Some(reason);
                return;
            }
            match bounded(CALL_TIMEOUT, self.ports.alarms.states()).await {
                Ok(states) => {
                    for e in &expected {
                        if states.get(&e.alarm) == Some(&AlarmState::Alarm) && !fired.contains_key(&e.alarm) {
                            let after = (OffsetDateTime::now_utc() - injected).as_seconds_f64();
                            fired.insert(e.alarm.clone(), after);
                            self.mark(
                                "detect",
                                RunEventKind::Alarm,
                                format!("{} is in ALARM, {after:.1} s after the injection", e.alarm),
                            );
                        }
                    }
                }
                Err(e) => self.say("detect", format!("reading the alarms failed, retrying: {e}")),
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = &mut *interrupt => {
                    self.stopped = Some("interrupted".into());
                    self.say("detect", "interrupted: restoring");
                    return;
                }
            }
        }
    }

    /// The share of each route's requests that failed (5xx or no answer) between two instants.
    fn route_health(&self, from: OffsetDateTime, to: OffsetDateTime) -> BTreeMap<String, (u32, u32)> {
        let mut health: BTreeMap<String, (u32, u32)> = BTreeMap::new();
        for o in self.ports.load.observations() {
            if o.at >= from && o.at <= to {
                let e = health.entry(o.route.clone()).or_default();
                e.0 += 1;
                if o.failed() {
                    e.1 += 1;
                }
            }
        }
        health
    }

    /// A route outside the blast radius that was healthy at baseline and now fails most of
    /// its requests: the experiment is hurting what it promised not to touch.
    fn outside_blast_radius(&self, baseline: &BTreeMap<String, (u32, u32)>) -> Option<String> {
        let now = OffsetDateTime::now_utc();
        let recent = self.route_health(now - self.settings.stop_window, now);
        recent.iter().find_map(|(route, &(sent, failed))| {
            let healthy_before = baseline.get(route).is_none_or(|&(b_sent, b_failed)| b_failed * 2 < b_sent.max(1));
            let degraded = sent >= 4 && failed * 2 >= sent;
            (!self.scenario.blast_radius.contains(route) && healthy_before && degraded).then(|| {
                format!(
                    "stopped: {route} is outside the blast radius and {failed} of its last {sent} requests failed"
                )
            })
        })
    }

    /// Phase 4: always once anything may have been applied. A scenario whose incident ends on
    /// its own (a fault that expires, a release that rolls itself back or is promoted) applies
    /// nothing here unless it was stopped: that ending is the fix being measured, and the stage
    /// is put back by [`Run::put_back`] once the alarms have been watched.
    async fn fix(&mut self) {
        let s = self.scenario;
        if self.stopped.is_none() {
            match s.fix {
                FixPlan::None => {
                    // The fault healed itself at its expiry.
                    self.fixed_at = self.fault_expires_at;
                    self.say("fix", "nothing applied: the fault expired on its own");
                    return;
                }
                FixPlan::Release => {
                    self.fixed_at = self.release.as_ref().and_then(|r| r.ended_at);
                    if self.fixed_at.is_some() {
                        self.say("fix", "nothing applied: the release ended on its own");
                        return;
                    }
                }
                FixPlan::Restore { .. } => {}
            }
        }
        self.put_back("fix").await;
        self.fixed_at = Some(OffsetDateTime::now_utc());
    }

    /// Writes back what the run changed: a release in progress stopped, the exact prior
    /// variables published and served on `live`, the reserved concurrency. Once per run: in the
    /// fix, or after the verdict window for an incident that ended on its own.
    async fn put_back(&mut self, phase: &'static str) {
        if self.put_back || !self.touched {
            return;
        }
        self.put_back = true;
        let s = self.scenario;
        let control = self.ports.control;
        let mut failures = Vec::new();
        if let Err(e) = self.stop_release(phase).await {
            failures.push(e);
        }
        // The prior variables published and served again, after a release too: the newest
        // version is then the one `live` serves, so a later release cannot ship the scenario's
        // build.
        if s.fault.is_some() || s.release.is_some() {
            match restore(
                control,
                &s.function,
                &self.prior.variables,
                self.settings.update_deadline,
            )
            .await
            {
                Ok(()) => self.say(
                    phase,
                    format!("{}: prior variables restored and read back", s.function_name),
                ),
                Err(e) => failures.push(e),
            }
        }
        if let Some(prior) = self.prior.reserved_concurrency {
            match bounded(CALL_TIMEOUT, control.set_reserved_concurrency(&s.function, prior)).await {
                Ok(()) => self.say(
                    phase,
                    format!(
                        "{}: reserved concurrency back to {}",
                        s.function_name,
                        prior.map_or("unreserved".into(), |v| v.to_string())
                    ),
                ),
                Err(e) => failures.push(format!("writing back the reserved concurrency: {e}")),
            }
        }
        if !failures.is_empty() {
            self.restore_failed = true;
            let reason = format!(
                "RESTORE FAILED: {} may still be broken{}: {}",
                s.function_name,
                self.fault_expires_at
                    .map(|e| format!(
                        " (the fault expires at {})",
                        e.format(&Rfc3339).unwrap_or_default()
                    ))
                    .unwrap_or_default(),
                failures.join("; ")
            );
            self.say(phase, reason.clone());
            self.problems.push(reason);
        }
    }

    /// Phase 5: every expected alarm that fired back to OK, and the settle time passed.
    async fn validate(&mut self, interrupt: &mut (impl Future<Output = ()> + Send + Unpin)) {
        let Some(fixed) = self.fixed_at else {
            return;
        };
        let expected = self.expected();
        let settle = expected
            .iter()
            .map(|e| settle_of(&self.definitions[&e.alarm], &self.settings))
            .max()
            .unwrap_or(Duration::ZERO)
            .max(release_settle(self.scenario, &self.definitions, &self.settings));
        let longest_recovery = expected
            .iter()
            .map(|e| e.recover_within)
            .max()
            .unwrap_or(Duration::ZERO)
            .max(settle);
        self.say(
            "validate",
            if expected.is_empty() {
                format!(
                    "watching every alarm for {:.0} s, a whole period of the function's alarms",
                    settle.as_secs_f64()
                )
            } else {
                format!(
                    "waiting for the expected alarms to clear (at most {:.0} s)",
                    longest_recovery.as_secs_f64()
                )
            },
        );
        loop {
            let since = (OffsetDateTime::now_utc() - fixed).unsigned_abs();
            if since > longest_recovery {
                return;
            }
            if since >= settle {
                if let Ok(states) = bounded(CALL_TIMEOUT, self.ports.alarms.states()).await {
                    let still: Vec<&str> = expected
                        .iter()
                        .filter(|e| states.get(&e.alarm) == Some(&AlarmState::Alarm))
                        .map(|e| e.alarm.as_str())
                        .collect();
                    if still.is_empty() {
                        self.mark(
                            "validate",
                            RunEventKind::Recovery,
                            "every expected alarm is out of ALARM",
                        );
                        return;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                _ = &mut *interrupt => {
                    self.stopped = Some("interrupted while the alarms cleared (the fix was already applied)".into());
                    return;
                }
            }
        }
    }

    /// Reads the release again and passes on what it said since the last read; its end is
    /// marked as the fix on the timeline (a rollback, a promotion or a refusal).
    async fn follow_release(&mut self) {
        let Some(current) = &self.release else {
            return;
        };
        if current.status.is_done() {
            return;
        }
        let function = &self.scenario.function;
        let state = match bounded(
            CALL_TIMEOUT,
            self.ports.deployments.release_state(function, &current.id),
        )
        .await
        {
            Ok(state) => state,
            Err(e) => {
                self.say(
                    "detect",
                    format!("reading release {} failed, retrying: {e}", current.id),
                );
                return;
            }
        };
        for event in state.events.iter().skip(self.release_events_told) {
            self.say("detect", format!("release {}: {event}", state.id));
        }
        self.release_events_told = state.events.len();
        if state.status.is_done() {
            let text = match ReleaseReport::outcome_of(&state, &self.definitions) {
                Some(ReleaseOutcome::RolledBack) => format!(
                    "release {} rolled back by {}: live on version {} again",
                    state.id,
                    state.stopped_by.as_deref().unwrap_or("an alarm"),
                    state.from_version
                ),
                Some(ReleaseOutcome::Promoted) => format!(
                    "release {} promoted: version {} serves all of live's traffic",
                    state.id, state.to_version
                ),
                Some(ReleaseOutcome::Refused) => format!(
                    "release {}: the pre-traffic check refused version {}; no traffic moved",
                    state.id, state.to_version
                ),
                None => format!("release {} ended {:?}", state.id, state.status),
            };
            self.mark("detect", RunEventKind::Fix, text);
        }
        self.release = Some(state);
    }

    /// A release still running is stopped (the run was interrupted or ran out of time), which
    /// rolls `live` back.
    async fn stop_release(&mut self, phase: &'static str) -> Result<(), String> {
        let s = self.scenario;
        let Some(state) = self.release.clone().filter(|r| !r.status.is_done()) else {
            return Ok(());
        };
        bounded(
            CALL_TIMEOUT,
            self.ports.deployments.stop_release(&s.function, &state.id),
        )
        .await
        .map_err(|e| format!("stopping release {}: {e}", state.id))?;
        let deadline = Instant::now() + self.settings.update_deadline;
        loop {
            self.follow_release().await;
            if self.release.as_ref().is_some_and(|r| r.status.is_done()) {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "release {} did not stop within {} s",
                    state.id,
                    self.settings.update_deadline.as_secs()
                ));
            }
            tokio::time::sleep(self.settings.poll_interval).await;
        }
        self.say(phase, format!("release {} stopped", state.id));
        Ok(())
    }

    /// The release's account, with what the clients saw on the function's routes while it ran.
    fn release_report(&self) -> Option<ReleaseReport> {
        let (release, state) = (self.scenario.release.as_ref()?, self.release.clone()?);
        let from = self.injected_at.unwrap_or(self.started_at);
        let to = state
            .ended_at
            .or(self.fixed_at)
            .unwrap_or_else(OffsetDateTime::now_utc);
        let routes = &self.scenario.function_routes;
        let seen: Vec<Observation> = self
            .ports
            .load
            .observations()
            .into_iter()
            .filter(|o| routes.contains(&o.route))
            .collect();
        let clients = Tally::of(&seen, from, to);
        Some(ReleaseReport {
            expected: release.outcome.as_str(),
            ended: ReleaseReport::outcome_of(&state, &self.definitions).map(ReleaseOutcome::as_str),
            clients,
            state,
        })
    }

    /// The verdict, from the alarms' own histories.
    async fn judge(mut self) -> RunReport {
        let s = self.scenario;
        let finished_at = OffsetDateTime::now_utc();
        let judged: Vec<String> = self
            .definitions
            .keys()
            .filter(|name| !self.not_judged.contains(name))
            .cloned()
            .collect();
        let mut histories = BTreeMap::new();
        for name in self.definitions.keys() {
            match bounded(CALL_TIMEOUT, self.ports.alarms.history(name, self.started_at)).await {
                Ok(h) => {
                    histories.insert(name.clone(), h);
                }
                Err(e) => self.problems.push(format!("reading the history of {name}: {e}")),
            }
        }
        let expected = self.expected();
        let judgement = match self.injected_at {
            Some(injected_at) => verdict::judge(
                &judged,
                &expected,
                &histories,
                Window {
                    injected_at,
                    fixed_at: self.fixed_at,
                    end: finished_at,
                },
            ),
            None => Judgement::default(),
        };
        let mut problems = std::mem::take(&mut self.problems);
        if let Some(reason) = &self.stopped {
            problems.insert(0, reason.clone());
        }
        let release = self.release_report();
        if let (Some(r), None) = (&release, &self.stopped) {
            if r.ended != Some(r.expected) {
                problems.push(format!(
                    "release {} ended {}, the scenario expects {}{}",
                    r.state.id,
                    r.ended.unwrap_or("without an outcome of its own"),
                    r.expected,
                    r.state
                        .stopped_by
                        .as_ref()
                        .map(|by| format!(" (stopped by {by})"))
                        .unwrap_or_default()
                ));
            }
            let limit = s.release.as_ref().and_then(|x| x.max_failed_share);
            if let (Some(limit), Some(share)) = (limit, r.clients.failed_share()) {
                if share > limit {
                    problems.push(format!(
                        "{} of {} requests ({:.1}%) failed during the release, above release.max_failed_share ({:.1}%)",
                        r.clients.failed,
                        r.clients.requests,
                        share * 100.0,
                        limit * 100.0
                    ));
                }
            }
        }
        // A stopped run's silent cells say nothing about the hypothesis; its false alarms do.
        problems.extend(judgement.problems.iter().cloned());
        let outcome = if self.restore_failed {
            RunOutcome::RestoreFailed
        } else if self.stopped.is_some() {
            RunOutcome::Stopped
        } else if problems.is_empty() {
            RunOutcome::Passed
        } else {
            RunOutcome::Failed
        };
        self.say(
            "validate",
            format!("{}: {}", s.name, outcome_text(outcome, &problems)),
        );
        let primary = expected.first();
        let primary_def = primary.map(|e| &self.definitions[&e.alarm]);
        let alarm_lag_s = match (primary, primary_def, self.injected_at) {
            (Some(e), Some(def), Some(injected)) => histories
                .get(&e.alarm)
                .and_then(|h| verdict::observed_alarm_lag(h, def.period_s, injected)),
            _ => None,
        };
        let assumed_lag_s = primary_def.map(|d| self.settings.metric_delays.alarm_lag(d).as_secs_f64());
        RunReport {
            scenario: s.name.clone(),
            outcome,
            problems,
            started_at: self.started_at,
            injected_at: self.injected_at,
            fault_expires_at: self
                .fault_expires_at
                .map(|e| e.format(&Rfc3339).unwrap_or_default()),
            fixed_at: self.fixed_at,
            finished_at,
            not_judged: self.not_judged.clone(),
            judged,
            judgement,
            mttd_budget_s: primary.map(|e| e.detect_within.as_secs_f64()),
            mttr_budget_s: primary.map(|e| e.recover_within.as_secs_f64()),
            alarm_lag_s,
            assumed_lag_s,
            histories,
            restored_exactly: self.touched && !self.restore_failed,
            release,
            events: self.events.into_inner().expect("events poisoned"),
        }
    }
}

fn outcome_text(outcome: RunOutcome, problems: &[String]) -> String {
    match outcome {
        RunOutcome::Passed => "passed: every claim of the hypothesis held".into(),
        _ => format!(
            "{}: {}",
            match outcome {
                RunOutcome::Failed => "FAILED",
                RunOutcome::Stopped => "STOPPED",
                _ => "RESTORE FAILED",
            },
            problems.join("; ")
        ),
    }
}

/// The budgets of each expected alarm: the file's, or derived from the alarm's maths and the
/// target's metric delays.
fn expectations(
    scenario: &Scenario,
    definitions: &BTreeMap<String, AlarmDefinition>,
    settings: &RunSettings,
    steady_functions: &BTreeSet<String>,
) -> Vec<Expected> {
    scenario
        .expected
        .iter()
        .map(|e| {
            let def = &definitions[&e.name];
            let lag = settings.metric_delays.alarm_lag(def);
            Expected {
                alarm: e.name.clone(),
                detect_within: e.within.unwrap_or_else(|| verdict::detection_budget(def, lag)),
                recover_within: e.recover_within.unwrap_or_else(|| {
                    // An alarm whose function gets no steady traffic after the fix can only
                    // clear on missing data, which CloudWatch judges over the whole
                    // evaluation range.
                    let fed = match &def.subject {
                        AlarmSubject::Function(key) => steady_functions.contains(key),
                        AlarmSubject::Api => !steady_functions.is_empty(),
                    };
                    if fed {
                        verdict::recovery_budget(def, lag)
                    } else {
                        verdict::recovery_budget_without_data(def, lag)
                    }
                }),
            }
        })
        .collect()
}

/// One whole period of an alarm, and the delay before its data shows: after that the alarm
/// has seen what happened.
fn settle_of(def: &AlarmDefinition, settings: &RunSettings) -> Duration {
    Duration::from_secs(u64::from(def.period_s)) + settings.metric_delays.alarm_lag(def)
}

/// How long a release scenario watches after the release ended: a whole period of every alarm
/// of the function (and the API's), so that whatever version `live` serves at the end is seen
/// at full traffic. Zero for other scenarios.
fn release_settle(
    scenario: &Scenario,
    definitions: &BTreeMap<String, AlarmDefinition>,
    settings: &RunSettings,
) -> Duration {
    if scenario.release.is_none() {
        return Duration::ZERO;
    }
    let function = AlarmSubject::Function(scenario.function.clone());
    definitions
        .values()
        .filter(|d| d.subject == function || d.subject == AlarmSubject::Api)
        .map(|d| settle_of(d, settings))
        .max()
        .unwrap_or_default()
}

/// About how long a run of `scenario` takes when every claim holds: the baseline, the
/// incident until its fix is due, then the alarms clearing. What a catalogue run orders its
/// scenarios by, longest first, so the slowest do not start last.
pub fn estimated_duration(stage: &Stage, scenario: &Scenario, settings: &RunSettings) -> Duration {
    let definitions: BTreeMap<String, AlarmDefinition> = stage
        .alarm_definitions("")
        .into_iter()
        .map(|d| (d.name.clone(), d))
        .collect();
    let steady = scenario
        .traffic
        .routes
        .iter()
        .filter_map(|r| stage.routes.get(r).cloned())
        .collect();
    let expected = expectations(scenario, &definitions, settings, &steady);
    let longest = |f: fn(&Expected) -> Duration| expected.iter().map(f).max().unwrap_or_default();
    let incident = match scenario.fix {
        FixPlan::Restore {
            after: FixAfter::FirstAlarm,
        } => expected.iter().map(|e| e.detect_within).min().unwrap_or_default(),
        FixPlan::Restore {
            after: FixAfter::AllAlarms,
        } => longest(|e| e.detect_within),
        FixPlan::None => scenario
            .fault
            .as_ref()
            .and_then(|f| f.expires_after)
            .unwrap_or_default(),
        FixPlan::Release => match &scenario.release {
            Some(r) if r.outcome == ReleaseOutcome::Promoted => r.routing.duration(Duration::from_secs(60)),
            _ => longest(|e| e.detect_within),
        },
    };
    settings.baseline
        + incident
        + longest(|e| e.recover_within).max(release_settle(scenario, &definitions, settings))
}

/// Writes back the exact prior variables, reads them back, and serves them on `live` (a hotfix
/// deploy).
async fn restore<C: ControlPlane>(
    control: &C,
    function: &str,
    prior: &Variables,
    update_deadline: Duration,
) -> Result<(), String> {
    let mut last = String::new();
    for _ in 0..3 {
        let attempt = async {
            bounded(CALL_TIMEOUT, control.replace_variables(function, prior, None)).await?;
            let applied = bounded(
                update_deadline + CALL_TIMEOUT,
                control.wait_until_applied(function, update_deadline),
            )
            .await?;
            bounded(CALL_TIMEOUT, control.serve_latest(function)).await?;
            if &applied.variables == prior {
                Ok(())
            } else {
                Err(PortError::Transport(
                    "the variables read back differ from the prior ones".into(),
                ))
            }
        };
        match attempt.await {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Err(format!(
        "restoring the prior variables failed three times: {last}"
    ))
}

/// The longest one control-plane or alarm call may take.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

async fn bounded<T>(limit: Duration, f: impl Future<Output = Result<T, PortError>>) -> Result<T, PortError> {
    tokio::time::timeout(limit, f).await.unwrap_or_else(|_| {
        Err(PortError::Transport(format!(
            "no answer within {} s",
            limit.as_secs()
        )))
    })
}
