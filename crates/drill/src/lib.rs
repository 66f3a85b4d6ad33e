//! The drill library, shared by `outage-lab` (the lab) and `smoke-test` (AWS): nothing here
//! knows which one it runs against.
//!
//! - [`scenario_run`]: a scenario file's experiment as named phases (baseline, break, detect,
//!   fix, validate) over ports, and [`verdict`]: every alarm judged against the hypothesis, with
//!   MTTD and MTTR budgets derived from the alarm maths;
//! - [`drill`]: the single-alarm fire/clear engine behind `smoke-test drill --alarm`;
//! - [`ports`]: the narrow boundaries (control plane, alarm source, traffic) and [`lab`], their
//!   implementation over the lab's admin API; smoke-test implements them over the AWS SDK;
//! - [`check`]: post-release route checks; [`maths`]: traffic and deadlines from alarm maths;
//!   [`traffic`]: HTTP client traffic; [`timeline`] and [`progress`]: what a person sees.

pub mod check;
pub mod drill;
pub mod error;
pub mod incident;
pub mod lab;
pub mod load;
pub mod maths;
pub mod ports;
pub mod progress;
pub mod scenario_run;
pub mod timeline;
pub mod traffic;
pub mod verdict;

pub use error::PortError;
