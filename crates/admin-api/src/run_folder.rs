//! What `outage-lab up` leaves on disk: below the project root, `.outage-lab/<stage>/` holds one
//! run folder per lab (`run-<UTC time>`), and `current` links to the newest. A run folder holds
//! `lab.json` ([`crate::LabInfo`]), `admin-token` (mode 0600), `notifications.jsonl` and
//! `changes.jsonl`.

use std::path::{Path, PathBuf};

pub const LAB_JSON: &str = "lab.json";
pub const ADMIN_TOKEN: &str = "admin-token";
pub const NOTIFICATIONS: &str = "notifications.jsonl";
pub const CHANGES: &str = "changes.jsonl";
pub const CURRENT: &str = "current";

/// `<root>/.outage-lab/<stage>`: every run folder and drill report of a stage.
pub fn stage_dir(root: &Path, stage: &str) -> PathBuf {
    root.join(".outage-lab").join(stage)
}

/// The `current` symlink: the run folder of the stage's newest lab.
pub fn current(root: &Path, stage: &str) -> PathBuf {
    stage_dir(root, stage).join(CURRENT)
}

pub fn lab_json(run_dir: &Path) -> PathBuf {
    run_dir.join(LAB_JSON)
}

pub fn admin_token(run_dir: &Path) -> PathBuf {
    run_dir.join(ADMIN_TOKEN)
}

pub fn notifications(run_dir: &Path) -> PathBuf {
    run_dir.join(NOTIFICATIONS)
}

pub fn changes(run_dir: &Path) -> PathBuf {
    run_dir.join(CHANGES)
}

/// Appends one JSON line to a record of the run (notifications, changes).
pub fn append_line(path: &Path, value: &impl serde::Serialize) -> std::io::Result<()> {
    use std::io::Write;
    let line = serde_json::to_string(value).map_err(std::io::Error::other)?;
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
    writeln!(f, "{line}")
}

/// Writes a file only its owner may read (the admin token); refuses to replace one.
pub fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(contents.as_bytes())
}
