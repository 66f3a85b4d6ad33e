//! Releases as CodeDeploy runs them for Lambda: a new version published from `$LATEST`, the
//! `live` alias shifted to it on the strategy's schedule, the function's alarms watched the
//! whole time, and on ALARM (or a person's `rollback`) the alias back on the old version with
//! its weights cleared. One release per function at a time; every release stays listed.

mod engine;
pub mod follow;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use lab_admin_api::{
    ReleaseEvent, ReleaseRequest, ReleaseStatus, ReleaseView, RollbackReply, VersionTraffic,
};
use outage_config::release::TrafficRouting;
use time::OffsetDateTime;
use tokio::sync::Notify;

use crate::lab::LabState;
use crate::runtime::pool::{ControlError, FunctionConfig, Pool, Served};

/// Who the change history names for a release's own calls, as CloudTrail names CodeDeploy.
pub const RELEASE_ACTOR: &str = "codedeploy";

struct Record {
    view: ReleaseView,
    /// The alias's traffic per version when the release started.
    baseline: BTreeMap<String, Served>,
    /// Told when a person asks for a rollback while the release runs.
    stop: Arc<Notify>,
    stop_actor: Option<String>,
}

/// Every release of this lab, oldest first.
#[derive(Default)]
pub struct Releases {
    records: Mutex<Vec<Record>>,
    /// Held through a release's start, from the check that none runs to its record: two
    /// requests at once must not both start one.
    starting: Mutex<()>,
}

/// How long a minute of a strategy lasts: a real one, as on AWS.
pub const MINUTE: Duration = Duration::from_secs(60);

impl Releases {
    pub fn all(&self, state: &LabState) -> Vec<ReleaseView> {
        let records = self.lock();
        records.iter().map(|r| view_of(r, state)).collect()
    }

    pub fn get(&self, state: &LabState, id: &str) -> Option<ReleaseView> {
        let records = self.lock();
        records
            .iter()
            .find(|r| r.view.id == id)
            .map(|r| view_of(r, state))
    }

    /// The release of `key` in progress, if any.
    pub fn running(&self, key: &str) -> Option<String> {
        self.lock()
            .iter()
            .find(|r| r.view.function == key && r.view.status == ReleaseStatus::InProgress)
            .map(|r| r.view.id.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Record>> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Record)) {
        if let Some(r) = self.lock().iter_mut().find(|r| r.view.id == id) {
            change(r);
        }
    }

    fn event(&self, id: &str, message: String) {
        tracing::info!(release = id, "{message}");
        self.update(id, |r| {
            r.view.events.push(ReleaseEvent {
                at: OffsetDateTime::now_utc(),
                message,
            })
        });
    }
}

fn view_of(r: &Record, state: &LabState) -> ReleaseView {
    let mut view = r.view.clone();
    if view.status == ReleaseStatus::InProgress {
        if let Some(pool) = state.pools.get(&view.function) {
            view.traffic = traffic_since(&r.baseline, &pool.served());
        }
    }
    view
}

fn traffic_since(
    baseline: &BTreeMap<String, Served>,
    now: &BTreeMap<String, Served>,
) -> BTreeMap<String, VersionTraffic> {
    now.iter()
        .map(|(version, served)| {
            let before = baseline.get(version).copied().unwrap_or_default();
            let requests = served.requests - before.requests;
            let failed = served.failed - before.failed;
            (version.clone(), VersionTraffic { requests, failed })
        })
        .filter(|(_, t)| t.requests > 0)
        .collect()
}

/// Refuses a binary that could not start as a function: not a file, or not executable.
fn check_binary(path: &Path) -> Result<(), ControlError> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path)
        .map_err(|e| ControlError::Invalid(format!("binary {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(ControlError::Invalid(format!(
            "binary {}: not a file",
            path.display()
        )));
    }
    if meta.permissions().mode() & 0o111 == 0 {
        return Err(ControlError::Invalid(format!(
            "binary {}: not executable (chmod +x it)",
            path.display()
        )));
    }
    Ok(())
}

/// Starts a release of `key`: checks everything first (nothing changes on a refusal), then
/// updates `$LATEST`, publishes it and hands the shift to a task of its own.
pub fn start(
    state: &Arc<LabState>,
    key: &str,
    request: &ReleaseRequest,
    actor: &str,
) -> Result<ReleaseView, ControlError> {
    let pool = state
        .pools
        .get(key)
        .ok_or_else(|| ControlError::NotFound(format!("unknown function {key:?}")))?
        .clone();
    let _one_start_at_a_time = state.releases.starting.lock().unwrap_or_else(|e| e.into_inner());
    let routing = match &request.strategy {
        Some(text) => TrafficRouting::parse(text).map_err(ControlError::Invalid)?,
        None => state.stage.release.strategy,
    };
    if let Some(id) = state.releases.running(key) {
        return Err(ControlError::Busy(format!(
            "release {id} of {key} is in progress: wait for it or run `outage-lab rollback {key}`"
        )));
    }
    if let Some(binary) = &request.binary {
        check_binary(binary)?;
    }
    let latest = pool.config();
    let mut variables = latest.variables.clone();
    for name in &request.unset {
        if variables.remove(name).is_none() {
            return Err(ControlError::Invalid(format!(
                "--unset {name}: {key} has no variable {name}"
            )));
        }
    }
    variables.extend(request.set.clone());
    crate::admin::check_variables(&variables).map_err(ControlError::Invalid)?;

    let function_name = state.stage.function_name(key);
    let from = pool.alias();
    if from.additional.is_some() {
        return Err(ControlError::Busy(format!(
            "the live alias of {key} already splits traffic: run `outage-lab rollback {key}` first"
        )));
    }
    let new_code = match &request.binary {
        Some(binary) => Some(
            crate::runtime::pool::code_sha256(binary)
                .map_err(|e| ControlError::Invalid(format!("binary {}: {e}", binary.display())))?,
        ),
        None => None,
    };
    let serving = pool
        .version(from.version)
        .expect("the alias names a published version");
    if new_code.as_ref().unwrap_or(&latest.code_sha256) == &serving.code_sha256
        && variables == serving.variables
    {
        return Err(ControlError::Busy(format!(
            "nothing to release: live already serves version {} with this code and configuration",
            from.version
        )));
    }
    if let (Some(binary), Some(sha)) = (&request.binary, new_code) {
        pool.update_code(binary.clone(), sha.clone());
        state.changes.call(
            actor,
            &function_name,
            "UpdateFunctionCode",
            format!("code {} from {}", short(&sha), binary.display()),
        );
    }
    if variables != latest.variables {
        state
            .changes
            .configuration(actor, &function_name, &latest.variables, &variables);
        pool.update_config(variables);
    }
    let published = publish(state, key, &pool, actor, "", None)?;
    let to = published.version.expect("a published version has a number");

    let id = format!("r-{}", crate::ids::release_id());
    let alarms = state.stage.rollback_alarms(key);
    let now = OffsetDateTime::now_utc();
    let mut events = vec![ReleaseEvent {
        at: now,
        message: format!(
            "{actor} released version {to} of {function_name} (live on version {}), strategy {routing}",
            from.version
        ),
    }];
    if alarms.is_empty() {
        events.push(ReleaseEvent {
            at: now,
            message: format!("{key} is deployed broken on purpose: no alarm gate and no pre-traffic check"),
        });
    } else if request.skip_check {
        events.push(ReleaseEvent {
            at: now,
            message: "no pre-traffic check (--skip-check): the alarms alone guard the release".into(),
        });
    }
    let stop = Arc::new(Notify::new());
    let view = ReleaseView {
        id: id.clone(),
        function: key.to_owned(),
        strategy: routing.to_string(),
        from_version: from.version.to_string(),
        to_version: to.to_string(),
        status: ReleaseStatus::InProgress,
        weight: 0.0,
        stopped_by: None,
        alarms: alarms.clone(),
        started_at: now,
        ended_at: None,
        traffic: BTreeMap::new(),
        events,
    };
    state.releases.lock().push(Record {
        view: view.clone(),
        baseline: pool.served(),
        stop: stop.clone(),
        stop_actor: None,
    });
    state.changes.call(
        RELEASE_ACTOR,
        &function_name,
        "CreateDeployment",
        format!("{id}: version {} -> {to}, {routing}", from.version),
    );
    let plan = engine::Plan {
        id,
        key: key.to_owned(),
        routing,
        from: from.version,
        to,
        check: !alarms.is_empty() && !request.skip_check,
        alarms,
        minute: MINUTE,
    };
    tokio::spawn(engine::run(state.clone(), pool, plan, stop));
    Ok(view)
}

/// Lambda's PublishVersion of `key`'s `$LATEST`, recorded in the change history when it made a
/// new version (an unchanged `$LATEST` answers with the newest one, and changes nothing).
pub fn publish(
    state: &LabState,
    key: &str,
    pool: &Pool,
    actor: &str,
    description: &str,
    expected_revision: Option<&str>,
) -> Result<Arc<FunctionConfig>, ControlError> {
    let published = pool.publish(description, expected_revision)?;
    if published.new {
        state.changes.call(
            actor,
            &state.stage.function_name(key),
            "PublishVersion",
            format!("version {}", published.config.version_label()),
        );
    }
    Ok(published.config)
}

/// `outage-lab rollback`: stops the function's release in progress (the alias back on the old
/// version), or, with none running, moves `live` back to the version it served before its last
/// move (a release's or a hotfix deploy's).
pub fn rollback(state: &Arc<LabState>, key: &str, actor: &str) -> Result<RollbackReply, ControlError> {
    let pool: Arc<Pool> = state
        .pools
        .get(key)
        .ok_or_else(|| ControlError::NotFound(format!("unknown function {key:?}")))?
        .clone();
    if let Some(id) = state.releases.running(key) {
        let stop = {
            let mut records = state.releases.lock();
            let r = records
                .iter_mut()
                .find(|r| r.view.id == id)
                .expect("the running release is listed");
            r.stop_actor = Some(actor.to_owned());
            r.stop.clone()
        };
        stop.notify_one();
        return Ok(RollbackReply {
            message: format!("stopping release {id}"),
            release: state.releases.get(state, &id),
        });
    }
    let live = pool.alias();
    let Some(previous) = pool.previous_version() else {
        return Err(ControlError::Busy(format!(
            "nothing to roll back: {key}'s live alias has served version {} since the lab started",
            live.version
        )));
    };
    pool.update_alias(Some(previous), Some(None), None)?;
    let function_name = state.stage.function_name(key);
    state.changes.call(
        actor,
        &function_name,
        "UpdateAlias",
        format!(
            "live -> version {previous} (rollback from version {})",
            live.version
        ),
    );
    // The release that put the alias there, if one did, ends as rolled back.
    let last = state
        .releases
        .lock()
        .iter()
        .rev()
        .find(|r| r.view.function == key && r.view.to_version == live.version.to_string())
        .map(|r| r.view.id.clone());
    let message = format!(
        "rolled back by {actor}: live on version {previous} again (was {})",
        live.version
    );
    let release = last.and_then(|id| {
        state.releases.update(&id, |r| {
            r.view.status = ReleaseStatus::Stopped;
            r.view.stopped_by = Some(actor.to_owned());
        });
        state.releases.event(&id, message.clone());
        state.releases.get(state, &id)
    });
    Ok(RollbackReply { message, release })
}

fn short(sha: &str) -> &str {
    &sha[..sha.len().min(12)]
}
