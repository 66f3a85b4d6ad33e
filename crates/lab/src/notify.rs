//! The notification outbox: what the stage's SNS topics would deliver, as JSON lines in
//! `<run_dir>/notifications.jsonl`, one console line each, and a list for the admin API. Each
//! alarm notifies its own topic: `<stage>-alarms` (on-call's e-mail) or, for a deliberately
//! broken function, `<stage>-known-broken` (nobody is paged).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lab_admin_api::{run_folder, Notification};
use lab_cloudwatch::StateChange;
use outage_config::{AlarmDefinition, CompositeAlarmDefinition};

pub struct Outbox {
    /// Alarm name to the topic its actions notify and its description.
    alarms: BTreeMap<String, (String, String)>,
    /// The topic of an alarm the map does not name.
    default_topic: String,
    region_name: String,
    path: PathBuf,
    console: bool,
    sent: Mutex<Vec<Notification>>,
}

/// The region names SNS alarm subjects use; other regions print their code.
fn region_name(code: &str) -> String {
    match code {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-2" => "US West (Oregon)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-central-1" => "EU (Frankfurt)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        other => other,
    }
    .to_owned()
}

impl Outbox {
    pub fn new(
        definitions: &[AlarmDefinition],
        composites: &[CompositeAlarmDefinition],
        default_topic: String,
        region: &str,
        run_dir: &Path,
        console: bool,
    ) -> Outbox {
        Outbox {
            alarms: definitions
                .iter()
                .map(|d| (d.name.clone(), (d.topic.clone(), d.description.clone())))
                .chain(
                    composites
                        .iter()
                        .map(|c| (c.name.clone(), (c.topic.clone(), c.description.clone()))),
                )
                .collect(),
            default_topic,
            region_name: region_name(region),
            path: run_folder::notifications(run_dir),
            console,
            sent: Mutex::new(Vec::new()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Delivers one notification per state change (CloudWatch runs actions only on a change).
    pub fn deliver(&self, change: &StateChange) {
        let (topic, description) = self
            .alarms
            .get(&change.alarm_name)
            .cloned()
            .unwrap_or_else(|| (self.default_topic.clone(), String::new()));
        let n = Notification {
            timestamp: change.timestamp.into(),
            topic,
            description,
            subject: format!(
                "{}: \"{}\" in {}",
                change.new_state, change.alarm_name, self.region_name
            ),
            alarm_name: change.alarm_name.clone(),
            old_state: change.old_state,
            new_state: change.new_state,
            reason: change.reason.clone(),
        };
        // The record is the run's memory of what happened: a failed write is logged, not fatal.
        if let Err(e) = run_folder::append_line(&self.path, &n) {
            tracing::error!("cannot append to {}: {e}", self.path.display());
        }
        if self.console {
            println!(
                "notification [{}] {} {} -> {}: {}",
                n.topic, n.alarm_name, n.old_state, n.new_state, n.reason
            );
        }
        self.sent.lock().expect("outbox lock").push(n);
    }

    pub fn all(&self) -> Vec<Notification> {
        self.sent.lock().expect("outbox lock").clone()
    }
}
