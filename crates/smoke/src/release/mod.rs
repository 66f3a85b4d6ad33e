//! `smoke-test release`: what `$LATEST` was published as reaches clients through CodeDeploy,
//! one function at a time, behind a pre-traffic check and the function's alarms.
//!
//! The phases, over one [`FunctionRelease`] per function:
//! 1. **survey** (reads only, every function): the newest published version
//!    (ListVersionsByFunction) against what `live` serves (GetAlias). Nothing starts unless the
//!    whole stage could be read.
//! 2. **pre-traffic check**: the new version invoked directly (Invoke, Qualifier = version) with
//!    the API's event for the function's route; it must answer 2xx without a FunctionError. A
//!    function deployed broken on purpose (its stage file sets a `fault`) skips it.
//! 3. **deploy**: CreateDeployment with the AppSpec that moves `live` between the two versions.
//! 4. **bake**: synthetic GETs of the route through the API at the rate [`rate::bake_rate`]
//!    sizes from the fast alarm's maths, while GetDeployment is polled until Succeeded, Failed
//!    or Stopped; past the strategy's duration plus a margin, or on Ctrl-C, StopDeployment with
//!    a rollback.
//! 5. **explain**: the alarm that stopped it, from CodeDeploy's own messages or else CloudWatch.
//!
//! Functions are released in key order; after one fails, the rest are not started (one release
//! train: the same commit built them, and payment and payment-fixed share their code).
//!
//! After a train that passed, [`prune`] deletes the versions nothing needs any more (the caller
//! chooses how many to keep).

pub mod alarms;
pub mod codedeploy;
pub mod deployments;
pub mod event;
pub mod lambda;
pub mod names;
pub mod prune;
pub mod rate;
pub mod report;
pub mod traffic;

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use outage_config::release::TrafficRouting;
use outage_config::Stage;
use time::OffsetDateTime;
use tokio::time::{sleep, Instant};

use crate::error::PortError;
use crate::targets::aws::{sdk_config, AwsTarget};
use crate::traffic::HttpTraffic;
use codedeploy::{DeploymentState, Phase};
pub use report::{FunctionRelease, PreTrafficCheck, ReleaseReport, Status};
use traffic::{BakeLoad, Tally};

/// The AWS clients a release uses: Lambda and CloudWatch through the drill's [`AwsTarget`]
/// (its names, its alarm reads), and CodeDeploy.
#[derive(Debug, Clone)]
pub struct Releaser {
    pub target: AwsTarget,
    pub codedeploy: aws_sdk_codedeploy::Client,
}

impl Releaser {
    pub fn new(target: AwsTarget, codedeploy: aws_sdk_codedeploy::Client) -> Releaser {
        Releaser { target, codedeploy }
    }

    /// Every client from the one SDK configuration (credential chain, region, rustls).
    pub async fn from_environment(region: &str, function_names: BTreeMap<String, String>) -> Releaser {
        let config = sdk_config(region).await;
        Releaser::new(
            AwsTarget::new(
                aws_sdk_lambda::Client::new(&config),
                aws_sdk_cloudwatch::Client::new(&config),
                function_names,
            ),
            aws_sdk_codedeploy::Client::new(&config),
        )
    }
}

/// The clock of a release. Tests shrink it; on AWS it is [`Timing::aws`].
#[derive(Debug, Clone, PartialEq)]
pub struct Timing {
    /// How long a minute of the release strategy lasts (a minute on AWS).
    pub minute: Duration,
    /// Between two GetDeployment calls.
    pub poll_every: Duration,
    /// Added to the strategy's duration for the deadline: CodeDeploy takes a while to start a
    /// Lambda deployment and to finish the last alias update.
    pub margin: Duration,
    /// Overrides the bake traffic's interval that the alarm maths gives (tests only).
    pub traffic_every: Option<Duration>,
    /// A line "still InProgress after ..." this often while nothing changes.
    pub report_every: Duration,
}

impl Timing {
    pub fn aws() -> Timing {
        Timing {
            minute: Duration::from_secs(60),
            poll_every: Duration::from_secs(5),
            margin: Duration::from_secs(300),
            traffic_every: None,
            report_every: Duration::from_secs(30),
        }
    }
}

/// Where progress lines go (stderr in the binary).
pub type Progress<'a> = &'a (dyn Fn(&str) + Sync);

/// Runs the release of every function of `stage` whose newest version `live` does not serve.
/// `http` reaches the deployed API; `interrupt` resolving stops a running deployment.
pub async fn run(
    releaser: &Releaser,
    stage: &Stage,
    http: &HttpTraffic,
    timing: &Timing,
    interrupt: impl Future<Output = ()>,
    progress: Progress<'_>,
) -> ReleaseReport {
    let mut interrupt = std::pin::pin!(interrupt);
    let mut entries = Vec::new();
    for key in stage.functions.keys() {
        entries.push(survey(releaser, stage, key).await);
    }
    for e in &entries {
        progress(&format!("release {}: {} {}", stage.stage, e.function, e.detail));
    }
    let mut blocked: Option<String> = entries
        .iter()
        .find(|e| e.status == Status::NotStarted)
        .map(|e| format!("not released: {} could not be surveyed", e.function));
    for entry in entries.iter_mut().filter(|e| e.status == Status::Pending) {
        if let Some(why) = &blocked {
            entry.status = Status::NotStarted;
            entry.detail = why.clone();
            continue;
        }
        release_one(releaser, stage, http, timing, entry, &mut interrupt, progress).await;
        if !matches!(entry.status, Status::Succeeded) {
            blocked = Some(format!(
                "not released: the release of {} did not succeed",
                entry.function
            ));
        }
    }
    ReleaseReport::new(&stage.stage, entries)
}

fn new_entry(key: &str, name: &str) -> FunctionRelease {
    FunctionRelease {
        function: key.to_owned(),
        function_name: name.to_owned(),
        from_version: None,
        to_version: None,
        status: Status::Pending,
        stopped_by: None,
        stopped_at: None,
        requests: 0,
        new_version_share: None,
        failed_requests: 0,
        served_by: BTreeMap::new(),
        pre_traffic_check: PreTrafficCheck::NotRun,
        deployment_id: None,
        detail: String::new(),
    }
}

/// Phase 1: what `live` serves and what was published last.
async fn survey(releaser: &Releaser, stage: &Stage, key: &str) -> FunctionRelease {
    let name = match releaser.target.name_of(key) {
        Ok(n) => n.to_owned(),
        Err(e) => {
            let mut entry = new_entry(key, &stage.function_name(key));
            entry.status = Status::NotStarted;
            entry.detail = e.to_string();
            return entry;
        }
    };
    let mut entry = new_entry(key, &name);
    let lambda = &releaser.target.lambda;
    let read = async {
        let live = lambda::live_alias(lambda, &name).await?;
        let latest = lambda::latest_version(lambda, &name).await?;
        Ok::<_, PortError>((live, latest))
    };
    match read.await {
        Err(e) => {
            entry.status = Status::NotStarted;
            entry.detail = e.to_string();
        }
        Ok((live, latest)) => {
            entry.from_version = Some(live.version.clone());
            entry.to_version = latest.clone();
            if !live.weights.is_empty() {
                let split: Vec<String> = live
                    .weights
                    .iter()
                    .map(|(v, w)| format!("version {v} at {:.0} %", w * 100.0))
                    .collect();
                entry.status = Status::NotStarted;
                entry.detail = format!(
                    "`live` already sends traffic to {} besides version {}: a release is under way; let it finish (or stop it) first",
                    split.join(", "),
                    live.version
                );
            } else if latest.as_deref() == Some(live.version.as_str()) || latest.is_none() {
                entry.status = Status::Unchanged;
                entry.to_version = Some(live.version.clone());
                entry.detail = format!("live already serves version {}", live.version);
            } else {
                entry.detail = format!(
                    "live serves version {}, version {} is newer",
                    live.version,
                    latest.as_deref().unwrap_or("?")
                );
            }
        }
    }
    entry
}

/// The route the stage file gives the function (`GET /pay-fixed`), the first in key order.
pub(crate) fn route_of<'a>(stage: &'a Stage, key: &str) -> Option<&'a str> {
    stage
        .routes
        .iter()
        .find(|(_, k)| k.as_str() == key)
        .map(|(route, _)| route.as_str())
}

/// How the function's deployment group shifts traffic: the stage's strategy, except for a
/// function deployed broken on purpose, whose group Terraform makes all-at-once with no alarms
/// (its alarms fire by design).
pub(crate) fn strategy_of(stage: &Stage, key: &str) -> TrafficRouting {
    if stage.is_known_broken(key) {
        TrafficRouting::AllAtOnce
    } else {
        stage.release.strategy
    }
}

/// Phases 2 to 5 for one function.
async fn release_one<I: Future<Output = ()>>(
    releaser: &Releaser,
    stage: &Stage,
    http: &HttpTraffic,
    timing: &Timing,
    entry: &mut FunctionRelease,
    interrupt: &mut std::pin::Pin<&mut I>,
    progress: Progress<'_>,
) {
    let key = entry.function.clone();
    let (Some(from), Some(to)) = (entry.from_version.clone(), entry.to_version.clone()) else {
        entry.status = Status::NotStarted;
        return;
    };
    let Some(route) = route_of(stage, &key) else {
        entry.status = Status::NotStarted;
        entry.detail = format!("no route of the stage file serves {key}: nothing to check or bake with");
        return;
    };
    let broken_on_purpose = stage.is_known_broken(&key);
    let say = |line: String| progress(&format!("release {}: {key} {from} -> {to}: {line}", stage.stage));

    // Phase 2: the pre-traffic check.
    if broken_on_purpose {
        entry.pre_traffic_check = PreTrafficCheck::Skipped;
        say("deployed broken on purpose (the stage file sets a fault): released without a gate, no pre-traffic check; its deployment group has no alarms and shifts all at once".into());
    } else {
        match pre_traffic_check(releaser, http.base_url(), &entry.function_name, route, &to).await {
            Ok(line) => {
                entry.pre_traffic_check = PreTrafficCheck::Passed;
                say(format!("pre-traffic check passed: {line}"));
            }
            Err(why) => {
                entry.pre_traffic_check = PreTrafficCheck::Failed;
                entry.status = Status::PreTrafficFailed;
                entry.detail =
                    format!("pre-traffic check of version {to} failed, no deployment started: {why}");
                say(entry.detail.clone());
                return;
            }
        }
    }

    // Phase 3: the deployment.
    let application = stage.codedeploy_application();
    let group = stage.deployment_group(&key);
    let spec = codedeploy::appspec(&entry.function_name, &from, &to);
    let description = format!("smoke-test release: {} {from} -> {to}", entry.function_name);
    let id = match codedeploy::create(
        &releaser.codedeploy,
        &application,
        &group,
        &spec,
        &description,
        None,
    )
    .await
    {
        Ok(id) => id,
        Err(e) => {
            entry.status = Status::NotStarted;
            entry.detail = format!("no deployment started: {e}");
            say(entry.detail.clone());
            return;
        }
    };
    entry.deployment_id = Some(id.clone());
    let strategy = strategy_of(stage, &key);
    let deadline = strategy.duration(timing.minute) + timing.margin;
    say(format!(
        "deployment {id} in {application}/{group}: {strategy}, deadline {} s",
        deadline.as_secs()
    ));

    // Phase 4: the bake. No traffic for a function broken on purpose: no alarm gates it, and
    // its route answers 500 by design.
    let load = if broken_on_purpose {
        None
    } else {
        let share = strategy.schedule(timing.minute).first().map_or(1.0, |(_, w)| *w);
        let rate = rate::bake_rate(stage, share);
        let every = timing.traffic_every.unwrap_or(rate.interval);
        say(format!(
            "bake traffic: GET {} every {} ms ({} per {} s fast-errors period, sized so that a {:.0} % first step is asked in each with P >= {}{})",
            crate::ports::route_path(route),
            every.as_millis(),
            rate.per_period,
            rate.period_s,
            share * 100.0,
            rate::CONFIDENCE,
            rate.capped_by
                .as_deref()
                .map(|c| format!("; capped by {c}"))
                .unwrap_or_default()
        ));
        Some(BakeLoad::start(http, crate::ports::route_path(route), every))
    };
    let ending = follow(releaser, &id, deadline, timing, interrupt, &say).await;
    let tally = load.map(BakeLoad::stop).unwrap_or_default();
    record_traffic(entry, &tally, &to);

    // Phase 5: what happened.
    explain(releaser, stage, entry, ending).await;
    say(format!(
        "{}; {} requests, {} failed",
        entry.detail, entry.requests, entry.failed_requests
    ));
}

/// Invokes the new version with the API's event for `route` (the API at `api_url`); `Ok` says
/// what it answered.
pub(crate) async fn pre_traffic_check(
    releaser: &Releaser,
    api_url: &str,
    function_name: &str,
    route: &str,
    version: &str,
) -> Result<String, String> {
    let domain = reqwest::Url::parse(api_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let event = event::http_api_event(route, &domain, OffsetDateTime::now_utc());
    let started = Instant::now();
    let answer = lambda::invoke_version(&releaser.target.lambda, function_name, version, &event)
        .await
        .map_err(|e| e.to_string())?;
    let status = event::judge_answer(answer.function_error.as_deref(), &answer.payload)?;
    Ok(format!(
        "{route} answered {status} in {} ms (executed version {})",
        started.elapsed().as_millis(),
        answer.executed_version.as_deref().unwrap_or("?")
    ))
}

/// How following a deployment ended.
enum Ending {
    /// CodeDeploy finished it: Succeeded, Failed or Stopped.
    Done(DeploymentState),
    /// The smoke test stopped it (deadline or interrupt); `Err` when StopDeployment failed.
    StoppedHere {
        status: Status,
        why: String,
        stop: Result<(), PortError>,
    },
}

/// Polls GetDeployment until the deployment ends, the deadline passes or `interrupt` resolves.
/// A failed read is retried until the deadline: the deployment goes on without us.
async fn follow<I: Future<Output = ()>>(
    releaser: &Releaser,
    id: &str,
    deadline: Duration,
    timing: &Timing,
    interrupt: &mut std::pin::Pin<&mut I>,
    say: &dyn Fn(String),
) -> Ending {
    let started = Instant::now();
    let until = started + deadline;
    let mut last_phase: Option<String> = None;
    let mut last_line = started;
    loop {
        match codedeploy::state(&releaser.codedeploy, id).await {
            Ok(state) => {
                let phase = match &state.phase {
                    Phase::Running(p) => p.clone(),
                    _ => return Ending::Done(state),
                };
                if last_phase.as_deref() != Some(&phase) || last_line.elapsed() >= timing.report_every {
                    say(format!(
                        "{phase} after {:.0} s of at most {} s",
                        started.elapsed().as_secs_f64(),
                        deadline.as_secs()
                    ));
                    last_phase = Some(phase);
                    last_line = Instant::now();
                }
            }
            Err(e) => say(format!("GetDeployment failed, trying again: {e}")),
        }
        let now = Instant::now();
        if now >= until {
            let why = format!(
                "still {} after the deadline of {} s (the strategy's duration plus {} s)",
                last_phase.as_deref().unwrap_or("unknown"),
                deadline.as_secs(),
                timing.margin.as_secs()
            );
            return stop_here(releaser, id, Status::TimedOut, why).await;
        }
        tokio::select! {
            () = sleep(timing.poll_every.min(until - now)) => {}
            () = interrupt.as_mut() => {
                return stop_here(releaser, id, Status::Interrupted, "interrupted".into()).await;
            }
        }
    }
}

async fn stop_here(releaser: &Releaser, id: &str, status: Status, why: String) -> Ending {
    let stop = codedeploy::stop_and_roll_back(&releaser.codedeploy, id).await;
    Ending::StoppedHere { status, why, stop }
}

fn record_traffic(entry: &mut FunctionRelease, tally: &Tally, new_version: &str) {
    entry.requests = tally.requests;
    entry.failed_requests = tally.failed;
    entry.new_version_share = tally.share_of(new_version);
    entry.served_by = tally.served_by.clone();
}

/// Phase 5: the status, and for a deployment that did not succeed the alarm that stopped it.
async fn explain(releaser: &Releaser, stage: &Stage, entry: &mut FunctionRelease, ending: Ending) {
    let to = entry.to_version.clone().unwrap_or_default();
    let from = entry.from_version.clone().unwrap_or_default();
    let id = entry.deployment_id.clone().unwrap_or_default();
    match ending {
        Ending::Done(state) if state.phase == Phase::Succeeded => {
            entry.status = Status::Succeeded;
            entry.stopped_at = None;
            entry.detail = format!("live serves version {to}");
        }
        Ending::Done(state) => {
            entry.status = if state.phase == Phase::Stopped {
                Status::Stopped
            } else {
                Status::Failed
            };
            entry.stopped_at = state.completed_at;
            let watched = alarms::function_alarms(stage, &entry.function);
            let named = alarms::named_in(&state.explanations(), &watched);
            entry.stopped_by = named.first().cloned();
            if entry.stopped_by.is_none() {
                if let Some((alarm, at)) = alarms::first_in_alarm(&releaser.target, &watched).await {
                    entry.stopped_by = Some(alarm);
                    entry.stopped_at = entry.stopped_at.or(Some(at));
                }
            }
            let cause = match (&entry.stopped_by, &state.error_message) {
                (Some(alarm), _) => format!("alarm {alarm} stopped it"),
                (None, Some(m)) => m.clone(),
                (None, None) => "CodeDeploy gave no reason".to_owned(),
            };
            entry.detail = format!(
                "deployment {id} {}: {cause}{}; rolled back, live serves version {from}",
                if entry.status == Status::Stopped {
                    "stopped"
                } else {
                    "failed"
                },
                state
                    .error_code
                    .as_deref()
                    .map(|c| format!(" ({c})"))
                    .unwrap_or_default()
            );
        }
        Ending::StoppedHere {
            status,
            why,
            stop: Ok(()),
        } => {
            entry.status = status;
            entry.stopped_at = Some(OffsetDateTime::now_utc());
            entry.detail = format!("deployment {id} {why}: stopped with a rollback to version {from}");
        }
        Ending::StoppedHere {
            why, stop: Err(e), ..
        } => {
            entry.status = Status::StopFailed;
            entry.detail = format!(
                "deployment {id} {why}, and stopping it failed: {e}. ACT NOW: `aws deploy stop-deployment --deployment-id {id} --auto-rollback-enabled`, then check that alias live of {} serves version {from} only",
                entry.function_name
            );
        }
    }
}
