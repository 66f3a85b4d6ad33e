//! `smoke-test`: post-release route checks and drills against the local lab or a deployed AWS
//! stage. The drill itself (scenario runner, engine, ports, checks) is the `outage-drill`
//! library, shared with `outage-lab`; this crate adds the AWS adapters ([`targets::aws`],
//! feature `aws`, on by default), terraform-output reading, JUnit and the CLI.

pub mod junit;
pub mod output;
#[cfg(feature = "aws")]
pub mod preflight;
#[cfg(feature = "aws")]
pub mod release;
#[cfg(feature = "aws")]
pub mod scenario_cli;
pub mod targets;

pub use outage_drill::{
    check, drill, error, incident, load, maths, ports, progress, scenario_run, timeline, traffic, verdict,
    PortError,
};
