//! What happened during a drill, as it happens: progress lines, the lab's `/drill` timeline and
//! the incident report are all built from these events.

use std::sync::{Arc, Mutex};

use serde::Serialize;
use time::OffsetDateTime;

use crate::ports::AlarmState;

/// The phases, named as the lab's `/drill` timeline names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Step {
    Baseline,
    Break,
    Detect,
    Fix,
    Validate,
}

impl Step {
    pub fn as_str(&self) -> &'static str {
        match self {
            Step::Baseline => "baseline",
            Step::Break => "break",
            Step::Detect => "detect",
            Step::Fix => "fix",
            Step::Validate => "validate",
        }
    }
}

/// One thing that happened, for progress lines and the incident timeline.
#[derive(Debug, Clone, Serialize)]
pub struct DrillEvent {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// Seconds since the drill started.
    pub elapsed_s: f64,
    #[serde(flatten)]
    pub kind: DrillEventKind,
}

#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum DrillEventKind {
    StepStarted {
        step: Step,
    },
    StepFinished {
        step: Step,
        passed: bool,
        detail: String,
    },
    PriorConfiguration {
        function_name: String,
        revision_id: Option<String>,
        variables: usize,
    },
    FaultInjected {
        function_name: String,
        mode: String,
        expires_at: String,
    },
    AlarmState {
        alarm: String,
        state: AlarmState,
        reason: String,
    },
    Traffic {
        phase: Step,
        sent: u32,
        ok: u32,
        failed: u32,
        errors: u32,
    },
    AlarmRaised {
        alarm: String,
        mttd_s: f64,
    },
    Restored {
        function_name: String,
        revision_id: Option<String>,
    },
    AlarmCleared {
        alarm: String,
        mttr_s: f64,
    },
    /// Still waiting: emitted every [`PROGRESS_EVERY`] while the alarm is not yet in `wanted`.
    Waiting {
        alarm: String,
        wanted: AlarmState,
        state: Option<AlarmState>,
        waited_s: f64,
        deadline_s: f64,
    },
    Warning {
        message: String,
    },
    Interrupted,
}

impl DrillEvent {
    /// One plain line for people.
    pub fn text(&self) -> String {
        match &self.kind {
            DrillEventKind::StepStarted { step } => format!("{}: started", step.as_str()),
            DrillEventKind::StepFinished { step, passed, detail } => {
                format!(
                    "{}: {} ({detail})",
                    step.as_str(),
                    if *passed { "passed" } else { "FAILED" }
                )
            }
            DrillEventKind::PriorConfiguration {
                function_name,
                revision_id,
                variables,
            } => format!(
                "prior configuration of {function_name}: {variables} variables, revision {}",
                revision_id.as_deref().unwrap_or("-")
            ),
            DrillEventKind::FaultInjected {
                function_name,
                mode,
                expires_at,
            } => {
                format!("fault injected into {function_name}: FAULT_MODE={mode}, expires {expires_at}")
            }
            DrillEventKind::AlarmState { alarm, state, reason } => {
                format!("alarm {alarm} is {state}: {reason}")
            }
            DrillEventKind::Traffic {
                phase,
                sent,
                ok,
                failed,
                errors,
            } => {
                format!(
                    "{} traffic: {sent} sent, {ok} ok, {failed} 5xx, {errors} unanswered",
                    phase.as_str()
                )
            }
            DrillEventKind::AlarmRaised { alarm, mttd_s } => {
                format!("alarm {alarm} in ALARM: MTTD {mttd_s:.1} s")
            }
            DrillEventKind::Restored { function_name, .. } => {
                format!("prior configuration of {function_name} restored")
            }
            DrillEventKind::AlarmCleared { alarm, mttr_s } => {
                format!("alarm {alarm} back to OK: MTTR {mttr_s:.1} s")
            }
            DrillEventKind::Waiting {
                alarm,
                wanted,
                state,
                waited_s,
                deadline_s,
            } => format!(
                "waiting for {alarm} to be {wanted}: {} after {waited_s:.0} s of at most {deadline_s:.0} s",
                state.map(|s| s.as_str()).unwrap_or("unreadable")
            ),
            DrillEventKind::Warning { message } => format!("warning: {message}"),
            DrillEventKind::Interrupted => "interrupted: restoring the prior configuration".into(),
        }
    }
}

/// The callback that sees every event as it happens.
pub type EventSink<'a> = &'a (dyn Fn(&DrillEvent) + Send + Sync);

/// Shared, thread-safe event log for callers that want to keep events themselves.
pub fn collecting_sink() -> (Arc<Mutex<Vec<DrillEvent>>>, impl Fn(&DrillEvent) + Send + Sync) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink_log = Arc::clone(&log);
    (log, move |e: &DrillEvent| {
        sink_log.lock().expect("event log poisoned").push(e.clone())
    })
}
