//! A game day's record: `<stage>/gamedays/<id>/record.jsonl`, one JSON line per event, appended
//! as it happens, so that a game day stopped half-way still has one. Nothing in it gives the
//! answer away before the end: the answer is the last line written.

use std::path::{Path, PathBuf};

use lab_admin_api::{run_folder, GameDayOutcome};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

pub const RECORD: &str = "record.jsonl";
pub const SCORECARD: &str = "scorecard.json";
pub const POSTMORTEM: &str = "postmortem.md";
pub const HISTORY: &str = "history.jsonl";

/// `<root>/.outage-lab/<stage>/gamedays`: one folder per game day, and the history.
pub fn gamedays_dir(root: &Path, stage: &str) -> PathBuf {
    run_folder::stage_dir(root, stage).join("gamedays")
}

/// One line of the record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum Line {
    Started {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        id: String,
        stage: String,
        level: u8,
        /// The game-day process, to tell a running game day from an abandoned one.
        pid: u32,
    },
    /// A notification on the paging topic.
    Page {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        alarm: String,
        state: String,
    },
    Acknowledged {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Diagnosis {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        function: String,
        cause: String,
    },
    Hint {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        number: u32,
        asked: bool,
    },
    /// A configuration change the responder made (from the change history).
    Change {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        actor: String,
        function: String,
        summary: String,
    },
    /// The fault is gone from the function's configuration.
    Mitigated {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
    },
    Ended {
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        outcome: GameDayOutcome,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<String>,
    },
    /// What happened, revealed at the end.
    Answer {
        scenario: String,
        title: String,
        function: String,
        cause: String,
        seed: u64,
        #[serde(with = "time::serde::rfc3339::option")]
        injected_at: Option<OffsetDateTime>,
        /// The incident's own change, in words (values included: the game day is over).
        change: Option<String>,
        lesson: String,
        decoys: Vec<String>,
    },
}

pub fn append(folder: &Path, line: &Line) -> std::io::Result<()> {
    run_folder::append_line(&folder.join(RECORD), line)
}

/// The readable lines of a record, and a message for each line that is not (skipped).
pub fn read(folder: &Path) -> std::io::Result<(Vec<Line>, Vec<String>)> {
    read_lines(&folder.join(RECORD))
}

/// Reads a JSON-lines file of `T`: every readable line, and one message per bad line, which
/// is skipped and left where it is (the file is append-only and never rewritten).
pub fn read_lines<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<(Vec<T>, Vec<String>)> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), Vec::new())),
        Err(e) => return Err(e),
    };
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(v) => good.push(v),
            Err(e) => bad.push(format!(
                "{} line {}: unreadable ({e}): skipped",
                path.display(),
                n + 1
            )),
        }
    }
    Ok((good, bad))
}

/// Whether the process that wrote `Started` still runs as an outage-lab.
fn alive(pid: u32) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|c| String::from_utf8_lossy(&c).contains("outage-lab"))
        .unwrap_or(false)
}

/// Game days whose record has no end and whose process is gone (killed half-way): each gets an
/// `abandoned` end in its record, and the folders are returned for the history.
pub fn close_abandoned(dir: &Path) -> std::io::Result<Vec<(PathBuf, Vec<Line>)>> {
    let mut closed = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(closed),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let folder = entry?.path();
        if !folder.join(RECORD).is_file() {
            continue;
        }
        let (mut lines, _) = read(&folder)?;
        let ended = lines.iter().any(|l| matches!(l, Line::Ended { .. }));
        let pid = lines.iter().find_map(|l| match l {
            Line::Started { pid, .. } => Some(*pid),
            _ => None,
        });
        if ended || pid.is_some_and(alive) {
            continue;
        }
        let end = Line::Ended {
            at: OffsetDateTime::now_utc(),
            outcome: GameDayOutcome::Abandoned,
            note: Some(
                "the game-day process stopped without ending the game day (killed?); the lab and its fault went with it".into(),
            ),
        };
        append(&folder, &end)?;
        lines.push(end);
        closed.push((folder, lines));
    }
    closed.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(closed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_reported_and_skipped_never_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
        append(dir.path(), &Line::Acknowledged { at: now }).unwrap();
        let path = dir.path().join(RECORD);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("{not json\n");
        std::fs::write(&path, &text).unwrap();
        append(dir.path(), &Line::Mitigated { at: now }).unwrap();
        let (lines, bad) = read(dir.path()).unwrap();
        assert_eq!(
            lines,
            vec![Line::Acknowledged { at: now }, Line::Mitigated { at: now }]
        );
        assert_eq!(bad.len(), 1);
        assert!(bad[0].contains("line 2"), "{}", bad[0]);
        assert!(std::fs::read_to_string(&path).unwrap().contains("{not json"));
    }

    #[test]
    fn a_record_without_an_end_and_without_its_process_is_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("gameday-1");
        std::fs::create_dir_all(&folder).unwrap();
        let now = OffsetDateTime::now_utc();
        // No process has pid u32::MAX.
        append(
            &folder,
            &Line::Started {
                at: now,
                id: "gameday-1".into(),
                stage: "dev".into(),
                level: 1,
                pid: u32::MAX,
            },
        )
        .unwrap();
        let closed = close_abandoned(dir.path()).unwrap();
        assert_eq!(closed.len(), 1);
        let (lines, _) = read(&folder).unwrap();
        assert!(matches!(
            lines.last(),
            Some(Line::Ended {
                outcome: GameDayOutcome::Abandoned,
                ..
            })
        ));
        // Closed once only.
        assert!(close_abandoned(dir.path()).unwrap().is_empty());
    }
}
