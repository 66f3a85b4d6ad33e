//! The lab's admin API (docs/lab-admin-api.md) written down once: every request and response
//! as a serde type, the route table's paths, the run folder's files, and [`AdminClient`], the
//! one client every caller uses (the lab's own commands, the drill library's lab adapters).
//!
//! The server (`outage-lab`, crates/lab/src/admin.rs) routes [`routes`] and answers these types;
//! nothing else builds or reads the admin API's JSON by hand.

#[cfg(feature = "client")]
mod client;
pub mod encode;
pub mod routes;
pub mod run_folder;
mod types;

#[cfg(feature = "client")]
pub use client::{is_loopback, read_token, AdminClient, AdminError};
pub use outage_config::AlarmState;
pub use types::*;
