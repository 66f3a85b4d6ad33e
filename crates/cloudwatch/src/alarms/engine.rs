//! Runs every alarm of a stage on CloudWatch's cadence.
//!
//! Cadence: alarms with a period under 60 s are evaluated every 10 s, others every minute, at
//! instants aligned to the cadence (multiples of 10 s or 60 s since the epoch). The lab calls
//! [`AlarmEngine::tick`] about every second; an alarm is evaluated on the first tick at or after
//! each aligned instant, once (ticks that skip several instants evaluate once, at the latest).
//!
//! Window: the newest period evaluated is the last complete period before the cadence instant
//! (periods aligned to multiples of the period since the epoch), and the evaluation range reaches
//! back [`EvalSpec::evaluation_range`] periods from it. CloudWatch waits briefly for late data
//! before it evaluates a period; in the lab, samples are stored as the invocation ends (AWS/Lambda,
//! AWS/ApiGateway) or as the function's log line is read (EMF), within milliseconds, and the tick
//! runs up to a second after the instant, so evaluating the period that ended at the instant is
//! both complete and what gives the 10 s alarm its detection in seconds.
//!
//! An alarm with `minus` series evaluates the metric math `m0 - FILL(m1, 0) - ...` (Sum): a
//! period without data of the main series stays missing.
//!
//! Percentile alarms evaluate whatever the sample count (EvaluateLowSampleCountPercentile
//! `evaluate`, CloudWatch's default; the stage file has no setting for it).
//!
//! State changes only on a different state: each is recorded in the history and returned once
//! by `tick` (one notification each); a kept state never repeats an action.
//!
//! Composite alarms ([`AlarmEngine::with_composites`]) are evaluated on the tick that changed an
//! alarm their rule names, after the metric alarms, in the order given (a composite may name the
//! ones before it), and change state the same way.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use outage_config::{AlarmDefinition, CompositeAlarmDefinition};
use serde::{Deserialize, Serialize};

use super::{evaluate, period_starts, AlarmState, EvalSpec, EvalSpecError};
use crate::clock::Clock;
use crate::composite::{Rule, RuleError};
use crate::metrics::{from_epoch_secs, MetricQuery, MetricStore};

/// State changes kept per alarm (CloudWatch keeps 14 days; the lab keeps the newest ones).
pub const MAX_HISTORY: usize = 1_000;
/// The reason of a new alarm, as AWS writes it.
pub const INITIAL_REASON: &str = "Unchecked: Initial alarm creation";

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

/// A composite alarm as DescribeAlarms shows it (`CompositeAlarms`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeStatus {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
    pub updated_at: SystemTime,
    pub definition: CompositeAlarmDefinition,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompositeError {
    #[error("composite alarm {alarm}: AlarmRule {rule:?}: {error}")]
    Rule {
        alarm: String,
        rule: String,
        error: RuleError,
    },
    #[error("composite alarm {alarm}: its rule names {missing:?}, which is not an alarm defined before it")]
    UnknownAlarm { alarm: String, missing: String },
    #[error("composite alarm {0}: the name is taken by another alarm")]
    Duplicate(String),
}

/// Appends to an alarm's history, dropping the oldest entry beyond [`MAX_HISTORY`].
fn remember(history: &mut VecDeque<HistoryItem>, item: HistoryItem) {
    if history.len() == MAX_HISTORY {
        history.pop_front();
    }
    history.push_back(item);
}

struct Slot {
    status: AlarmStatus,
    spec: EvalSpec,
    history: VecDeque<HistoryItem>,
    /// The cadence instant (epoch s) last evaluated.
    last_tick: Option<i64>,
}

struct CompositeSlot {
    status: CompositeStatus,
    rule: Rule,
    history: VecDeque<HistoryItem>,
}

#[derive(Default)]
struct Board {
    metric: Vec<Slot>,
    composite: Vec<CompositeSlot>,
}

impl Board {
    fn state_of(&self, name: &str) -> Option<AlarmState> {
        self.metric
            .iter()
            .find(|s| s.status.name == name)
            .map(|s| s.status.state)
            .or_else(|| {
                self.composite
                    .iter()
                    .find(|s| s.status.name == name)
                    .map(|s| s.status.state)
            })
    }

    /// Evaluates the composites whose rules name an alarm in `changed` (all of them on the first
    /// tick), appending their own changes to `changes` so later composites see them.
    fn evaluate_composites(&mut self, changes: &mut Vec<StateChange>, first: bool, now: SystemTime) {
        for i in 0..self.composite.len() {
            let named = self.composite[i].rule.alarms();
            let triggers: Vec<&StateChange> = changes
                .iter()
                .filter(|c| named.contains(c.alarm_name.as_str()))
                .collect();
            if triggers.is_empty() && !first {
                continue;
            }
            let holds = self.composite[i].rule.holds(&|name: &str| self.state_of(name));
            let new_state = if holds { AlarmState::Alarm } else { AlarmState::Ok };
            let slot = &self.composite[i];
            if slot.status.state == new_state {
                continue;
            }
            // AWS names the alarm whose change triggered the evaluation, with its new state.
            let reason = if triggers.is_empty() {
                format!("The rule evaluated to {}", if holds { "TRUE" } else { "FALSE" })
            } else {
                triggers
                    .iter()
                    .map(|c| {
                        format!(
                            "{} transitioned to {} at {}",
                            c.alarm_name,
                            c.new_state,
                            crate::reason::long_utc(c.timestamp)
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            let slot = &mut self.composite[i];
            let old_state = slot.status.state;
            slot.status.state = new_state;
            slot.status.reason = reason.clone();
            slot.status.updated_at = now;
            remember(
                &mut slot.history,
                HistoryItem {
                    timestamp: now,
                    old_state,
                    new_state,
                    reason: reason.clone(),
                },
            );
            changes.push(StateChange {
                alarm_name: slot.status.name.clone(),
                old_state,
                new_state,
                reason,
                timestamp: now,
            });
        }
    }
}

/// The alarms of one stage, evaluated against one metric store.
pub struct AlarmEngine {
    store: Arc<MetricStore>,
    clock: Arc<dyn Clock>,
    slots: Mutex<Board>,
    /// Whether the composites have been evaluated once.
    composites_evaluated: std::sync::atomic::AtomicBool,
}

impl std::fmt::Debug for AlarmEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlarmEngine")
            .field("alarms", &self.alarms().len())
            .finish()
    }
}

fn epoch_secs(t: SystemTime) -> i64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

impl AlarmEngine {
    /// Every alarm starts in INSUFFICIENT_DATA with the reason "Unchecked: Initial alarm creation".
    ///
    /// # Panics
    /// When a definition's settings are not valid CloudWatch alarm settings; the stage file's
    /// validation guarantees they are. Use [`AlarmEngine::try_new`] for unchecked definitions.
    pub fn new(defs: Vec<AlarmDefinition>, store: Arc<MetricStore>, clock: Arc<dyn Clock>) -> Self {
        AlarmEngine::try_new(defs, store, clock).unwrap_or_else(|e| panic!("{e}"))
    }

    /// As [`AlarmEngine::new`], refusing the first invalid definition with an error naming the
    /// alarm and the field.
    pub fn try_new(
        defs: Vec<AlarmDefinition>,
        store: Arc<MetricStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, EvalSpecError> {
        let now = clock.now();
        let slots = defs
            .into_iter()
            .map(|definition| {
                Ok(Slot {
                    spec: EvalSpec::from_definition(&definition)?,
                    status: AlarmStatus {
                        name: definition.name.clone(),
                        state: AlarmState::InsufficientData,
                        reason: INITIAL_REASON.into(),
                        reason_data: None,
                        updated_at: now,
                        definition,
                    },
                    history: VecDeque::new(),
                    last_tick: None,
                })
            })
            .collect::<Result<Vec<_>, EvalSpecError>>()?;
        Ok(AlarmEngine {
            store,
            clock,
            slots: Mutex::new(Board {
                metric: slots,
                composite: Vec::new(),
            }),
            composites_evaluated: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Adds composite alarms, each starting in INSUFFICIENT_DATA. A rule that does not parse, or
    /// names an alarm that is neither a metric alarm nor a composite given before it, is refused.
    pub fn with_composites(self, defs: Vec<CompositeAlarmDefinition>) -> Result<Self, CompositeError> {
        let now = self.clock.now();
        {
            let mut board = self.lock();
            for definition in defs {
                let name = definition.name.clone();
                if board.state_of(&name).is_some() {
                    return Err(CompositeError::Duplicate(name));
                }
                let rule = Rule::parse(&definition.rule).map_err(|error| CompositeError::Rule {
                    alarm: name.clone(),
                    rule: definition.rule.clone(),
                    error,
                })?;
                if let Some(missing) = rule.alarms().into_iter().find(|a| board.state_of(a).is_none()) {
                    return Err(CompositeError::UnknownAlarm {
                        alarm: name,
                        missing: missing.to_owned(),
                    });
                }
                board.composite.push(CompositeSlot {
                    status: CompositeStatus {
                        name,
                        state: AlarmState::InsufficientData,
                        reason: INITIAL_REASON.into(),
                        updated_at: now,
                        definition,
                    },
                    rule,
                    history: VecDeque::new(),
                });
            }
        }
        Ok(self)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Board> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Evaluates the alarms that are due at `clock.now()` and returns the state changes, one per
    /// alarm whose state changed.
    pub fn tick(&self) -> Vec<StateChange> {
        let now = self.clock.now();
        let now_s = epoch_secs(now);
        let mut changes = Vec::new();
        let mut board = self.lock();
        for slot in board.metric.iter_mut() {
            let cadence: i64 = if slot.spec.period_s < 60 { 10 } else { 60 };
            let instant = now_s.div_euclid(cadence) * cadence;
            if slot.last_tick.is_some_and(|last| last >= instant) {
                continue;
            }
            slot.last_tick = Some(instant);
            if let Some(change) = Self::evaluate_slot(&self.store, slot, instant, now) {
                changes.push(change);
            }
        }
        let first = !self
            .composites_evaluated
            .swap(true, std::sync::atomic::Ordering::Relaxed);
        board.evaluate_composites(&mut changes, first, now);
        changes
    }

    /// Evaluates one alarm for the cadence instant `instant` (epoch s).
    fn evaluate_slot(
        store: &MetricStore,
        slot: &mut Slot,
        instant: i64,
        now: SystemTime,
    ) -> Option<StateChange> {
        let spec = &slot.spec;
        let period = i64::from(spec.period_s);
        let range = usize::try_from(spec.evaluation_range()).unwrap_or(usize::MAX);
        let period_end = instant.div_euclid(period) * period;
        let newest_start = from_epoch_secs(period_end - period);
        let starts = period_starts(newest_start, spec.period_s, range);
        let def = &slot.status.definition;
        let query = MetricQuery {
            namespace: def.namespace.clone(),
            metric_name: def.metric_name.clone(),
            dimensions: def.dimensions.clone(),
            period_s: spec.period_s,
            statistic: def.statistic.name().to_owned(),
            start: starts.first().copied().unwrap_or(newest_start),
            end: from_epoch_secs(period_end),
        };
        // The definition's statistic is Sum or pNN (outage-config), which the store accepts.
        let found = store.query(&query).ok()?;
        // Metric math `m0 - FILL(m1, 0) - ...`: a subtracted series without data counts 0.
        let mut subtracted: Vec<crate::metrics::Datapoint> = Vec::new();
        for dimensions in &def.minus {
            let q = MetricQuery {
                dimensions: dimensions.clone(),
                ..query.clone()
            };
            subtracted.extend(store.query(&q).ok()?);
        }
        let datapoints: Vec<Option<f64>> = starts
            .iter()
            .map(|s| {
                let value = found.iter().find(|d| d.timestamp == *s)?.value;
                let minus: f64 = subtracted
                    .iter()
                    .filter(|d| d.timestamp == *s)
                    .map(|d| d.value)
                    .sum();
                Some(value - minus)
            })
            .collect();
        let eval = evaluate(spec, &datapoints, &starts, slot.status.state);
        if eval.retained || eval.state == slot.status.state {
            return None;
        }
        let old_state = slot.status.state;
        slot.status.state = eval.state;
        slot.status.reason = eval.reason.clone();
        slot.status.reason_data = eval.reason_data;
        slot.status.updated_at = now;
        remember(
            &mut slot.history,
            HistoryItem {
                timestamp: now,
                old_state,
                new_state: eval.state,
                reason: eval.reason.clone(),
            },
        );
        Some(StateChange {
            alarm_name: slot.status.name.clone(),
            old_state,
            new_state: eval.state,
            reason: eval.reason,
            timestamp: now,
        })
    }

    /// The metric alarms.
    pub fn alarms(&self) -> Vec<AlarmStatus> {
        self.lock().metric.iter().map(|s| s.status.clone()).collect()
    }

    pub fn alarm(&self, name: &str) -> Option<AlarmStatus> {
        self.lock()
            .metric
            .iter()
            .find(|s| s.status.name == name)
            .map(|s| s.status.clone())
    }

    pub fn composites(&self) -> Vec<CompositeStatus> {
        self.lock().composite.iter().map(|s| s.status.clone()).collect()
    }

    pub fn composite(&self, name: &str) -> Option<CompositeStatus> {
        self.lock()
            .composite
            .iter()
            .find(|s| s.status.name == name)
            .map(|s| s.status.clone())
    }

    /// The alarm's state changes, oldest first (a metric or a composite alarm).
    pub fn history(&self, name: &str) -> Option<Vec<HistoryItem>> {
        let board = self.lock();
        board
            .metric
            .iter()
            .find(|s| s.status.name == name)
            .map(|s| s.history.iter().cloned().collect())
            .or_else(|| {
                board
                    .composite
                    .iter()
                    .find(|s| s.status.name == name)
                    .map(|s| s.history.iter().cloned().collect())
            })
    }
}
