//! One release's run: the check of the new version before any traffic moves, then the
//! strategy's schedule of weights, with the rollback alarms read every second throughout.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use lab_admin_api::ReleaseStatus;
use outage_config::release::TrafficRouting;
use outage_config::AlarmState;
use time::OffsetDateTime;
use tokio::sync::Notify;

use super::{traffic_since, RELEASE_ACTOR};
use crate::lab::LabState;
use crate::runtime::pool::Pool;
use crate::runtime::Outcome;

/// How often the rollback alarms are read (CodeDeploy polls them; the lab's alarms themselves
/// are evaluated on CloudWatch's cadence, so reading more often changes nothing).
const WATCH_EVERY: Duration = Duration::from_secs(1);

pub struct Plan {
    pub id: String,
    pub key: String,
    pub routing: TrafficRouting,
    pub from: u32,
    pub to: u32,
    pub alarms: Vec<String>,
    /// Invoke the new version once before any traffic moves.
    pub check: bool,
    pub minute: Duration,
}

enum Stop {
    Alarm(String),
    Person(String),
}

pub async fn run(state: Arc<LabState>, pool: Arc<Pool>, plan: Plan, stop: Arc<Notify>) {
    let releases = &state.releases;
    if plan.check {
        match pre_traffic_check(&state, &pool, &plan).await {
            Ok(status) => releases.event(
                &plan.id,
                format!("pre-traffic check: version {} answered {status}", plan.to),
            ),
            Err(why) => {
                let message = format!(
                    "pre-traffic check of version {} failed: {why}; no traffic moved",
                    plan.to
                );
                finish(&state, &pool, &plan, ReleaseStatus::Failed, None, message);
                return;
            }
        }
    }
    let started = Instant::now();
    for (step, (offset, weight)) in plan.routing.schedule(plan.minute).into_iter().enumerate() {
        if let Some(why) = watch_until(&state, &plan, &stop, started + offset).await {
            let done = if step == 0 {
                "stopped before any traffic moved"
            } else {
                "stopped and rolled back"
            };
            let (by, message) = match why {
                Stop::Alarm(name) => (name.clone(), format!("alarm {name} is in ALARM: {done}")),
                Stop::Person(actor) => (actor.clone(), format!("{done} by {actor}")),
            };
            roll_back(&state, &pool, &plan);
            finish(&state, &pool, &plan, ReleaseStatus::Stopped, Some(by), message);
            return;
        }
        shift(&state, &pool, &plan, weight);
    }
    let message = format!("version {} serves all of live's traffic", plan.to);
    finish(&state, &pool, &plan, ReleaseStatus::Succeeded, None, message);
}

/// Waits until `until`, reading the rollback alarms each second; why the release must stop,
/// if it must. An alarm already in ALARM stops it before any traffic moves, as CodeDeploy does.
async fn watch_until(state: &LabState, plan: &Plan, stop: &Notify, until: Instant) -> Option<Stop> {
    loop {
        if let Some(name) = plan.alarms.iter().find(|n| {
            state
                .alarms
                .alarm(n)
                .is_some_and(|a| a.state == AlarmState::Alarm)
        }) {
            return Some(Stop::Alarm(name.clone()));
        }
        let now = Instant::now();
        if now >= until {
            return None;
        }
        tokio::select! {
            _ = tokio::time::sleep((until - now).min(WATCH_EVERY)) => {}
            _ = stop.notified() => {
                let actor = state
                    .releases
                    .lock()
                    .iter()
                    .find(|r| r.view.id == plan.id)
                    .and_then(|r| r.stop_actor.clone())
                    .unwrap_or_else(|| "a person".into());
                return Some(Stop::Person(actor));
            }
        }
    }
}

fn shift(state: &LabState, pool: &Pool, plan: &Plan, weight: f64) {
    let moved = if weight >= 1.0 {
        pool.update_alias(Some(plan.to), Some(None), None)
    } else {
        pool.update_alias(None, Some(Some((plan.to, weight))), None)
    };
    if let Err(e) = moved {
        tracing::error!(release = %plan.id, "cannot move the alias: {e}");
        return;
    }
    let percent = (weight * 100.0).round();
    state.changes.call(
        RELEASE_ACTOR,
        &state.stage.function_name(&plan.key),
        "UpdateAlias",
        format!("{}: live sends {percent}% to version {}", plan.id, plan.to),
    );
    state.releases.update(&plan.id, |r| r.view.weight = weight);
    state.releases.event(
        &plan.id,
        format!("{percent}% of live's traffic on version {}", plan.to),
    );
}

fn roll_back(state: &LabState, pool: &Pool, plan: &Plan) {
    if let Err(e) = pool.update_alias(Some(plan.from), Some(None), None) {
        tracing::error!(release = %plan.id, "cannot roll the alias back: {e}");
        return;
    }
    state.changes.call(
        RELEASE_ACTOR,
        &state.stage.function_name(&plan.key),
        "UpdateAlias",
        format!("{}: live back on version {}, weights cleared", plan.id, plan.from),
    );
    state.releases.update(&plan.id, |r| r.view.weight = 0.0);
}

fn finish(
    state: &LabState,
    pool: &Pool,
    plan: &Plan,
    status: ReleaseStatus,
    stopped_by: Option<String>,
    message: String,
) {
    let served = pool.served();
    state.releases.update(&plan.id, |r| {
        r.view.traffic = traffic_since(&r.baseline, &served);
        r.view.status = status;
        r.view.stopped_by = stopped_by;
        r.view.ended_at = Some(OffsetDateTime::now_utc());
    });
    state.releases.event(&plan.id, message);
    state.changes.call(
        RELEASE_ACTOR,
        &state.stage.function_name(&plan.key),
        "DeploymentEnded",
        format!("{}: {status:?}", plan.id),
    );
}

/// Invokes the new version directly with a request for the function's first route, as a
/// `BeforeAllowTraffic` hook would: it must answer 2xx.
async fn pre_traffic_check(state: &LabState, pool: &Pool, plan: &Plan) -> Result<u16, String> {
    let route_key = state
        .stage
        .routes
        .iter()
        .find(|(_, k)| **k == plan.key)
        .map(|(r, _)| r.clone())
        .ok_or_else(|| format!("{} has no route to call", plan.key))?;
    let (method, path) = route_key.split_once(' ').unwrap_or(("GET", &route_key));
    let now = OffsetDateTime::now_utc();
    let request_id = crate::ids::apigw_request_id();
    let trace_id = crate::ids::trace_id(now);
    let account_id = state
        .stage
        .allowed_account_ids
        .first()
        .cloned()
        .unwrap_or_default();
    let payload = crate::gateway::event::build(&crate::gateway::event::EventInput {
        method,
        path,
        raw_query: "",
        protocol: "HTTP/1.1",
        headers: &Default::default(),
        body: b"",
        route_key: &route_key,
        path_parameters: &BTreeMap::new(),
        account_id: &account_id,
        api_id: &state.info.api_id,
        request_id: &request_id,
        client: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        local_port: 0,
        trace_id: &trace_id,
        now,
    });
    let result = pool
        .invoke_version(
            plan.to,
            crate::ids::lambda_request_id().into(),
            Bytes::from(payload),
        )
        .await
        .map_err(|e| e.to_string())?;
    match &result.outcome {
        Outcome::Response(out) => {
            let mapped = crate::gateway::response::map(out).map_err(|e| format!("{e:?}"))?;
            if (200..300).contains(&mapped.status) {
                Ok(mapped.status)
            } else {
                Err(format!("{route_key} answered {}", mapped.status))
            }
        }
        failed => Err(format!(
            "{route_key}: {}",
            failed.error_type().unwrap_or("throttled")
        )),
    }
}
