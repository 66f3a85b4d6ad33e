//! CloudWatch, as the local lab needs it: a metric store with CloudWatch's statistics and storage
//! resolutions, the Embedded Metric Format parser for the functions' metric lines, the metric
//! alarm evaluator (M of N, evaluation range, TreatMissingData, AWS's state reasons) and the alarm
//! engine that runs it on CloudWatch's cadence, composite alarms included.
//!
//! Everything that evaluates over time takes a [`Clock`], so tests run on a [`ManualClock`].
//!
//! Where AWS documents a behaviour only loosely, this crate makes one choice and says so next to
//! the code:
//!
//! - evaluation range: N + 2 periods (the documentation's table uses 5 for N = 3), see
//!   [`EvalSpec::evaluation_range`];
//! - early ALARM under `missing`: every real datapoint in the range breaches and the oldest is at
//!   least M periods old (this reproduces every row of the documentation's table), see
//!   [`alarms::evaluate`];
//! - reasons: `K datapoints [...]` when M = N, `K out of the last N datapoints [...] ... (minimum
//!   ...)` when M < N (see `reason.rs` for the real reasons they follow);
//! - cadence and window: evaluation every 10 s (period < 60 s) or every minute, of the periods up
//!   to the last one complete at the cadence instant, see [`AlarmEngine`];
//! - statistics: percentiles are nearest-rank, exact up to 512 samples in a period and
//!   within 1 % in rank beyond; periods aligned to the epoch; standard-resolution data stays one
//!   aggregate per minute whatever the query period, see [`metrics`].

pub mod alarm_eval;
pub mod alarms;
pub mod clock;
pub mod composite;
pub mod emf;
pub mod metrics;
mod reason;
pub mod replay;
mod sketch;

pub use alarm_eval::{run_alarm_eval, run_alarm_eval_at, AlarmEvalError};
pub use alarms::{
    evaluate, AlarmEngine, AlarmState, AlarmStatus, ComparisonOperator, CompositeError, CompositeStatus,
    EvalSpec, EvalSpecError, Evaluation, HistoryItem, StateChange,
};
pub use clock::{Clock, ManualClock, SystemClock};
pub use emf::{parse_emf_line, EmfError};
pub use metrics::{Datapoint, MetricId, MetricQuery, MetricStore, QueryError, Sample, Statistic, StoreStats};
