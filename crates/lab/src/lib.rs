//! outage-lab: the real function binaries on one machine, behind an emulated API Gateway HTTP
//! API, with Lambda's Runtime API, CloudWatch-style logs, metrics and alarms, and an admin API.
//!
//! Start a whole lab in-process with [`Lab::start`]; the `outage-lab` binary is a thin command
//! line around it.

pub mod admin;
pub mod alarm_replay;
pub mod changes;
pub mod configure;
pub mod drill;
pub mod gameday;
pub mod gateway;
pub mod http;
pub mod ids;
pub mod lab;
pub mod logs;
pub mod metrics;
pub mod notify;
pub mod release;
pub mod runtime;
pub mod stats;
pub mod time_fmt;

pub use lab::{Lab, LabConfig, LabHandle, LabInfo};

/// Walks up from `start` to the first folder holding `environments/`: the project root.
pub fn find_root(start: &std::path::Path) -> Option<std::path::PathBuf> {
    start
        .ancestors()
        .find(|d| d.join("environments").is_dir())
        .map(std::path::Path::to_path_buf)
}

/// The folder of the running executable: where `cargo build` puts the function binaries too.
pub fn default_bin_dir() -> std::io::Result<std::path::PathBuf> {
    let exe = std::env::current_exe()?;
    Ok(exe.parent().map(std::path::Path::to_path_buf).unwrap_or_default())
}
