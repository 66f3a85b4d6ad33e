//! `outage-lab release` from the terminal: starts the release, drives bake traffic at the
//! function's route so that even a quiet lab gives the canary requests to fail, prints each
//! event as the lab records it, and ends with what happened.

use std::time::Duration;

use lab_admin_api::{AdminClient, AdminError, ReleaseRequest, ReleaseStatus, ReleaseView};
use outage_config::release::TrafficRouting;
use outage_config::{AlarmKind, AlarmSubject, Stage};
use outage_drill::load::HttpLoad;
use outage_drill::maths::{bake_interval, AlarmMaths};
use outage_drill::ports::Load;
use outage_drill::traffic::HttpTraffic;

/// How sure the bake traffic makes the canary sees a request in every alarm period.
pub const BAKE_CONFIDENCE: f64 = 0.99;

/// The gap between bake requests to `key` for `routing`: sized from the function's fast-errors
/// alarm and the canary's first share.
pub fn bake_every(stage: &Stage, key: &str, routing: &TrafficRouting) -> Duration {
    let share = routing
        .schedule(Duration::from_secs(60))
        .first()
        .map_or(1.0, |s| s.1);
    let fast = stage
        .alarm_definitions("")
        .into_iter()
        .find(|d| d.kind == AlarmKind::FastErrors && d.subject == AlarmSubject::Function(key.to_owned()));
    match fast {
        Some(d) => bake_interval(&AlarmMaths::of(&d), share, BAKE_CONFIDENCE),
        None => Duration::from_secs(1),
    }
}

/// Starts the release and follows it to its end; `say` prints each line.
pub async fn follow(
    admin: &AdminClient,
    gateway_url: &str,
    stage: &Stage,
    key: &str,
    request: &ReleaseRequest,
    bake_traffic: bool,
    say: &dyn Fn(String),
) -> Result<ReleaseView, AdminError> {
    let started = admin.start_release(key, request).await?;
    say(format!(
        "release {}: {key} version {} -> {}, {}",
        started.id, started.from_version, started.to_version, started.strategy
    ));
    let _load = if bake_traffic {
        let routing = TrafficRouting::parse(&started.strategy).unwrap_or(TrafficRouting::AllAtOnce);
        let every = bake_every(stage, key, &routing);
        let routes: Vec<String> = stage
            .routes
            .iter()
            .filter(|(_, k)| *k == key)
            .map(|(r, _)| r.clone())
            .collect();
        say(format!(
            "bake traffic: {} every {} ms",
            routes.join(", "),
            every.as_millis()
        ));
        let traffic = HttpTraffic::new(gateway_url, Duration::from_secs(31))
            .map_err(|e| AdminError::Transport(e.to_string()))?;
        Some(HttpLoad::new(traffic).start(&routes, every))
    } else {
        None
    };
    let mut printed = 0;
    loop {
        let now = admin.release(&started.id).await?;
        for e in &now.events[printed.min(now.events.len())..] {
            say(format!("  {} {}", crate::time_fmt::compact_utc(e.at), e.message));
        }
        printed = now.events.len();
        if now.status.is_done() {
            for line in summary(&now) {
                say(line);
            }
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The end of a release in words: status, who stopped it, and the traffic by version.
pub fn summary(r: &ReleaseView) -> Vec<String> {
    let mut lines = vec![match (r.status, &r.stopped_by) {
        (ReleaseStatus::Succeeded, _) => format!("result: Succeeded: live serves version {}", r.to_version),
        (ReleaseStatus::Stopped, Some(by)) => format!(
            "result: Stopped by {by}: rolled back, live serves version {}",
            r.from_version
        ),
        (status, _) => format!("result: {status:?}: live serves version {}", r.from_version),
    }];
    let total: u64 = r.traffic.values().map(|t| t.requests).sum();
    let failed: u64 = r.traffic.values().map(|t| t.failed).sum();
    if total > 0 {
        let on_new = r.traffic.get(&r.to_version).map_or(0, |t| t.requests);
        let per_version: Vec<String> = r
            .traffic
            .iter()
            .map(|(v, t)| format!("version {v}: {} ({} failed)", t.requests, t.failed))
            .collect();
        lines.push(format!(
            "traffic: {total} requests through live, {:.1}% on version {}, {:.1}% failed; {}",
            100.0 * on_new as f64 / total as f64,
            r.to_version,
            100.0 * failed as f64 / total as f64,
            per_version.join(", ")
        ));
    }
    lines
}
