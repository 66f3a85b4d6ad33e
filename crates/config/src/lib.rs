//! The configuration contracts that several parts of outage-lab share.
//!
//! - [`stage`]: the stage file `environments/<stage>/terraform.tfvars.json`, the single source of
//!   truth that Terraform, the lab and the smoke test all read, and every name derived from it.
//! - [`fault`]: the `FAULT_*` environment variables, parsed the same way by the functions at
//!   init, by the lab's control plane before it accepts an injection, and by the stage file's
//!   validation.
//! - [`release`]: how a release shifts traffic to a new version (CodeDeploy's traffic routing).

pub mod alarm;
pub mod delay;
pub mod fault;
pub mod release;
pub mod stage;
pub mod variables;

pub use alarm::{runbook_in, AlarmKind, AlarmState, RUNBOOKS_DIR, RUNBOOK_INDEX};
pub use delay::MetricDelays;
pub use fault::{FaultConfig, FaultConfigError, FaultMode};
pub use stage::{
    AlarmDefinition, AlarmSubject, CompositeAlarmDefinition, Stage, StageError, Statistic, TreatMissingData,
    KNOWN_CODES,
};
