//! The drill engine: inject a fault through the control plane, drive traffic, wait for the
//! alarm to fire, restore the exact prior configuration, wait for it to clear.
//!
//! Guardrails, in order of importance:
//! 1. Once the fault may have been applied, every path (success, failure, deadline, interrupt)
//!    goes through the restore step, which writes back the exact prior variables and reads them back.
//! 2. The fault carries `FAULT_EXPIRES_AT`, so even a drill killed with SIGKILL heals itself.
//! 3. The drill refuses to start on a function that already has a fault or an alarm already in
//!    ALARM: MTTD would be meaningless and "the prior configuration" would be a broken one.
//!
//! - this module: what to do ([`DrillSettings`] -> [`DrillPlan`], from the stage file);
//! - [`events`]: what happened, as it happens ([`DrillEvent`]);
//! - [`engine`]: doing it ([`run_drill`] -> [`DrillReport`]).

mod engine;
mod events;

pub use engine::{run_drill, DrillOutcome, DrillReport, TrafficCounts, CALL_TIMEOUT, PROGRESS_EVERY};
pub use events::{collecting_sink, DrillEvent, DrillEventKind, EventSink, Step};

use std::time::Duration;

use outage_config::{AlarmDefinition, FaultMode, Stage};
use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::error::PortError;
use crate::maths::{self, AlarmMaths, Deadlines, TrafficPlan};
use crate::ports::Variables;

/// The alarm the drill waits for: the stage's one alarm-kind vocabulary.
pub use outage_config::AlarmKind;

/// What the caller chooses; everything else comes from the stage file.
#[derive(Debug, Clone)]
pub struct DrillSettings {
    /// The function key in the stage file (`payment-fixed`).
    pub function: String,
    /// The fault: `exception` (default), `panic` or `timeout`.
    pub mode: FaultMode,
    pub alarm: AlarmKind,
    /// How late a datapoint reaches the alarm on this target (see [`maths::deadlines`]).
    pub metric_delay: Duration,
    /// How often the alarm is read.
    pub poll_interval: Duration,
    /// How long a configuration update may take to apply.
    pub update_deadline: Duration,
    /// Failing requests per period, as a multiple of the alarm threshold.
    pub traffic_margin: f64,
}

impl DrillSettings {
    /// Settings for the lab: datapoints are visible within a second or two.
    pub fn lab(function: &str) -> DrillSettings {
        DrillSettings {
            function: function.to_owned(),
            mode: FaultMode::Exception,
            alarm: AlarmKind::FastErrors,
            metric_delay: Duration::from_secs(5),
            poll_interval: Duration::from_millis(500),
            update_deadline: Duration::from_secs(30),
            traffic_margin: 3.0,
        }
    }

    /// Settings for AWS: metrics extracted from logs and AWS/Lambda metrics arrive up to a
    /// minute or more late, and DescribeAlarms is not polled more than every few seconds.
    pub fn aws(function: &str) -> DrillSettings {
        DrillSettings {
            metric_delay: Duration::from_secs(90),
            poll_interval: Duration::from_secs(5),
            update_deadline: Duration::from_secs(120),
            ..DrillSettings::lab(function)
        }
    }
}

/// Everything the drill will do, resolved from the stage file before anything changes.
#[derive(Debug, Clone, Serialize)]
pub struct DrillPlan {
    pub stage: String,
    /// Function key (`payment-fixed`).
    pub function: String,
    /// The path of a GET route served by the function (`/pay-fixed`).
    pub route_path: String,
    pub alarm_kind: AlarmKind,
    pub alarm: AlarmDefinition,
    pub maths: AlarmMaths,
    pub mode: String,
    /// The `FAULT_*` variables added on top of the prior ones (without `FAULT_EXPIRES_AT`).
    pub fault_variables: Variables,
    /// How long the injected fault stays valid if nobody removes it.
    #[serde(serialize_with = "as_seconds")]
    pub fault_ttl: Duration,
    pub deadlines: Deadlines,
    pub traffic: TrafficPlan,
    #[serde(serialize_with = "as_seconds")]
    pub poll_interval: Duration,
    #[serde(serialize_with = "as_seconds")]
    pub update_deadline: Duration,
}

/// A drill that cannot start; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum DrillError {
    #[error("{0}")]
    Plan(String),
    #[error("precondition: {0}")]
    Precondition(String),
    #[error("before injecting: {0}")]
    Port(#[from] PortError),
}

impl DrillPlan {
    /// Resolves the plan from the stage file. The alarm's name and maths come from
    /// [`Stage::alarm_definitions`], never re-derived here.
    pub fn new(stage: &Stage, settings: &DrillSettings) -> Result<DrillPlan, DrillError> {
        let key = &settings.function;
        if !stage.functions.contains_key(key) {
            let known: Vec<&str> = stage.functions.keys().map(String::as_str).collect();
            return Err(DrillError::Plan(format!(
                "function {key:?} is not in stage {} (functions: {})",
                stage.stage,
                known.join(", ")
            )));
        }
        if !settings.alarm.can_see(&settings.mode) {
            return Err(DrillError::Plan(format!(
                "fault mode {} does not move the {} alarm's metric; use {}",
                settings.mode,
                settings.alarm,
                match settings.alarm {
                    AlarmKind::FastErrors => "--mode exception, or --alarm errors for panic and timeout",
                    AlarmKind::Errors => "--mode exception, panic or timeout",
                    _ => "a fault mode this alarm's metric counts",
                }
            )));
        }
        let route_path = stage
            .routes
            .iter()
            .find_map(|(route, target)| {
                let (method, path) = route.split_once(' ')?;
                (target == key && (method == "GET" || method == "ANY")).then(|| path.to_owned())
            })
            .ok_or_else(|| {
                DrillError::Plan(format!(
                    "no GET route of stage {} is served by function {key:?}",
                    stage.stage
                ))
            })?;
        let name = stage.function_alarm_name(key, settings.alarm);
        let alarm = stage
            .alarm_definitions("")
            .into_iter()
            .find(|a| a.name == name)
            .ok_or_else(|| DrillError::Plan(format!("stage {} defines no alarm {name}", stage.stage)))?;
        let maths = AlarmMaths::of(&alarm);
        let deadlines = maths::deadlines(&maths, settings.metric_delay);
        let traffic = maths::traffic_plan(&maths, &deadlines, settings.traffic_margin, 1.0);
        let mut fault_variables = Variables::new();
        fault_variables.insert("FAULT_MODE".into(), settings.mode.name().into());
        fault_variables.insert(
            "FAULT_MESSAGE".into(),
            format!(
                "Drill: injected {} fault in {}",
                settings.mode,
                stage.function_name(key)
            ),
        );
        // The fault outlives the worst case of the drill (update, detection, restore) with a
        // margin, and no more: a drill killed outright heals itself within minutes.
        let fault_ttl = settings.update_deadline * 2 + deadlines.alarm + Duration::from_secs(60);
        Ok(DrillPlan {
            stage: stage.stage.clone(),
            function: key.clone(),
            route_path,
            alarm_kind: settings.alarm,
            alarm,
            maths,
            mode: settings.mode.name().into(),
            fault_variables,
            fault_ttl,
            deadlines,
            traffic,
            poll_interval: settings.poll_interval,
            update_deadline: settings.update_deadline,
        })
    }

    /// The variables the fault writes: the prior ones, plus the fault, plus its expiry.
    pub fn faulty_variables(&self, prior: &Variables, now: OffsetDateTime) -> (Variables, String) {
        let expires = (now + self.fault_ttl)
            .replace_nanosecond(0)
            .unwrap_or(now + self.fault_ttl);
        let expires_at = expires.format(&Rfc3339).unwrap_or_default();
        let mut vars = prior.clone();
        vars.extend(self.fault_variables.clone());
        vars.insert("FAULT_EXPIRES_AT".into(), expires_at.clone());
        (vars, expires_at)
    }
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}
