//! `smoke-test`: post-release route checks and the alarm fire/clear drill, against the local lab
//! or a deployed AWS stage.
//!
//! The drill engine ([`drill`]) talks to "a control plane" and "an alarm source" through the
//! narrow traits in [`ports`]; [`targets::lab`] implements them over the lab's admin API (HTTP)
//! and [`targets::aws`] (feature `aws`, on by default) over the AWS SDK. `outage-lab drill`
//! reuses the engine with the lab target and `default-features = false`, so the lab never
//! compiles the AWS SDK.

pub mod check;
pub mod drill;
pub mod error;
pub mod http_load;
pub mod junit;
pub mod maths;
pub mod output;
pub mod ports;
pub mod progress;
#[cfg(feature = "aws")]
pub mod scenario_cli;
pub mod scenario_run;
pub mod targets;
pub mod timeline;
pub mod traffic;
pub mod verdict;

pub use error::PortError;
