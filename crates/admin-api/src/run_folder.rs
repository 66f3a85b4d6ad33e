//! What `outage-lab up` leaves on disk: below the project root, `.outage-lab/<stage>/` holds one
//! run folder per lab (`run-<UTC time>`), and `current` links to the newest. A run folder holds
//! `lab.json` ([`crate::LabInfo`]), `admin-token` (mode 0600) and `notifications.jsonl`.

use std::path::{Path, PathBuf};

pub const LAB_JSON: &str = "lab.json";
pub const ADMIN_TOKEN: &str = "admin-token";
pub const NOTIFICATIONS: &str = "notifications.jsonl";
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
