//! CloudWatch, as the local lab needs it: a metric store with CloudWatch's statistics and storage
//! resolutions, the Embedded Metric Format parser for the functions' metric lines, the metric
//! alarm evaluator (M of N, evaluation range, TreatMissingData, AWS's state reasons) and the alarm
//! engine that runs it on CloudWatch's cadence.
//!
//! Everything that evaluates over time takes a [`Clock`], so tests run on a [`ManualClock`].

pub mod alarm_eval;
pub mod alarms;
pub mod clock;
pub mod emf;
pub mod metrics;
mod reason;
mod sketch;

pub use alarm_eval::{run_alarm_eval, run_alarm_eval_at, AlarmEvalError};
pub use alarms::{
    evaluate, AlarmEngine, AlarmState, AlarmStatus, ComparisonOperator, EvalSpec, EvalSpecError, Evaluation,
    HistoryItem, StateChange,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use emf::{parse_emf_line, EmfError};
pub use metrics::{Datapoint, MetricId, MetricQuery, MetricStore, QueryError, Sample, Statistic, StoreStats};
