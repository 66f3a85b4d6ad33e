//! Runs every alarm of a stage on CloudWatch's cadence.

use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use outage_config::AlarmDefinition;
use serde::{Deserialize, Serialize};

use super::{AlarmState, EvalSpec};
use crate::clock::Clock;
use crate::metrics::MetricStore;

/// A state change: one notification each.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateChange {
    pub alarm_name: String,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: String,
    pub timestamp: SystemTime,
}

/// One entry of an alarm's history (DescribeAlarmHistory, StateUpdate items).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryItem {
    pub timestamp: SystemTime,
    pub old_state: AlarmState,
    pub new_state: AlarmState,
    pub reason: String,
}

/// An alarm as DescribeAlarms shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmStatus {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason_data: Option<serde_json::Value>,
    pub updated_at: SystemTime,
    pub definition: AlarmDefinition,
}

struct Slot {
    status: AlarmStatus,
    spec: Option<EvalSpec>,
    history: Vec<HistoryItem>,
    last_tick: Option<i64>,
}

/// The alarms of one stage, evaluated against one metric store.
pub struct AlarmEngine {
    store: Arc<MetricStore>,
    clock: Arc<dyn Clock>,
    slots: Mutex<Vec<Slot>>,
}

impl AlarmEngine {
    /// Every alarm starts in INSUFFICIENT_DATA with the reason "Unchecked: Initial alarm creation".
    pub fn new(defs: Vec<AlarmDefinition>, store: Arc<MetricStore>, clock: Arc<dyn Clock>) -> Self {
        let now = clock.now();
        let slots = defs
            .into_iter()
            .map(|definition| Slot {
                spec: EvalSpec::from_definition(&definition).ok(),
                status: AlarmStatus {
                    name: definition.name.clone(),
                    state: AlarmState::InsufficientData,
                    reason: "Unchecked: Initial alarm creation".into(),
                    reason_data: None,
                    updated_at: now,
                    definition,
                },
                history: Vec::new(),
                last_tick: None,
            })
            .collect();
        AlarmEngine { store, clock, slots: Mutex::new(slots) }
    }

    /// Evaluates the alarms that are due at `clock.now()` and returns the state changes.
    pub fn tick(&self) -> Vec<StateChange> {
        let _ = (&self.store, &self.clock);
        todo!("engine tick")
    }

    pub fn alarms(&self) -> Vec<AlarmStatus> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).iter().map(|s| s.status.clone()).collect()
    }

    pub fn alarm(&self, name: &str) -> Option<AlarmStatus> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|s| s.status.name == name).map(|s| s.status.clone())
    }

    /// The alarm's state changes, oldest first.
    pub fn history(&self, name: &str) -> Option<Vec<HistoryItem>> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|s| s.status.name == name).map(|s| s.history.clone())
    }
}
