//! The stage's change history, as CloudTrail keeps management events: every control-plane call
//! that changed a function (its variables, its reserved concurrency) with who, when and what, in
//! memory and appended to `<run_dir>/changes.jsonl`. "What changed?" is the first question of any
//! incident; a game day's responder asks it here (`outage-lab changes`, `GET /changes`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use lab_admin_api::{run_folder, ChangeEvent};
use time::OffsetDateTime;

/// Events kept in memory (the file keeps every one).
pub const MAX_CHANGES: usize = 10_000;

pub struct ChangeLog {
    path: PathBuf,
    events: Mutex<Vec<ChangeEvent>>,
}

/// Names added, removed and changed from `before` to `after`, each sorted.
pub fn variable_diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
) -> (Vec<String>, Vec<String>, Vec<String>) {
    let added = after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .cloned()
        .collect();
    let removed = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    let changed = after
        .iter()
        .filter(|(k, v)| before.get(*k).is_some_and(|b| b != *v))
        .map(|(k, _)| k.clone())
        .collect();
    (added, removed, changed)
}

impl ChangeLog {
    pub fn new(run_dir: &Path) -> ChangeLog {
        ChangeLog {
            path: run_folder::changes(run_dir),
            events: Mutex::new(Vec::new()),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A configuration update: recorded even when nothing changed (CloudTrail records the call).
    pub fn configuration(
        &self,
        actor: &str,
        function_name: &str,
        before: &BTreeMap<String, String>,
        after: &BTreeMap<String, String>,
    ) {
        let (added, removed, changed) = variable_diff(before, after);
        let mut parts = Vec::new();
        for (what, names) in [("added", &added), ("removed", &removed), ("changed", &changed)] {
            if !names.is_empty() {
                parts.push(format!("variables {what} {}", names.join(", ")));
            }
        }
        let summary = if parts.is_empty() {
            "no variable changed".to_owned()
        } else {
            parts.join("; ")
        };
        self.record(ChangeEvent {
            event_time: OffsetDateTime::now_utc(),
            event_name: "UpdateFunctionConfiguration".into(),
            actor: actor.to_owned(),
            function_name: function_name.to_owned(),
            summary,
            added,
            removed,
            changed,
        });
    }

    /// A change of reserved concurrency (`None` = unreserved).
    pub fn concurrency(&self, actor: &str, function_name: &str, before: Option<u32>, after: Option<u32>) {
        let text = |v: Option<u32>| v.map_or_else(|| "unreserved".to_owned(), |n| n.to_string());
        self.record(ChangeEvent {
            event_time: OffsetDateTime::now_utc(),
            event_name: if after.is_some() {
                "PutFunctionConcurrency"
            } else {
                "DeleteFunctionConcurrency"
            }
            .into(),
            actor: actor.to_owned(),
            function_name: function_name.to_owned(),
            summary: format!("reserved concurrency {} -> {}", text(before), text(after)),
            added: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
        });
    }

    /// Any other call (PublishVersion, UpdateAlias, UpdateFunctionCode, a release's start and
    /// end), described in words.
    pub fn call(&self, actor: &str, function_name: &str, event_name: &str, summary: String) {
        self.record(ChangeEvent {
            event_time: OffsetDateTime::now_utc(),
            event_name: event_name.to_owned(),
            actor: actor.to_owned(),
            function_name: function_name.to_owned(),
            summary,
            added: Vec::new(),
            removed: Vec::new(),
            changed: Vec::new(),
        });
    }

    fn record(&self, event: ChangeEvent) {
        if let Err(e) = run_folder::append_line(&self.path, &event) {
            tracing::error!("cannot append to {}: {e}", self.path.display());
        }
        let mut events = self.events.lock().unwrap_or_else(|e| e.into_inner());
        if events.len() == MAX_CHANGES {
            events.remove(0);
        }
        events.push(event);
    }

    /// Oldest first.
    pub fn all(&self) -> Vec<ChangeEvent> {
        self.events.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_names_added_removed_and_changed_variables() {
        let before = BTreeMap::from([("A".to_owned(), "1".to_owned()), ("B".to_owned(), "2".to_owned())]);
        let after = BTreeMap::from([("B".to_owned(), "3".to_owned()), ("C".to_owned(), "4".to_owned())]);
        assert_eq!(
            variable_diff(&before, &after),
            (vec!["C".to_owned()], vec!["A".to_owned()], vec!["B".to_owned()])
        );
    }
}
