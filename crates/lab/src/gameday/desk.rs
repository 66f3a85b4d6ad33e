//! The responder's side of a running game day, behind the admin API's `/gameday` routes:
//! acknowledge, diagnose, ask for a hint, give up. Each is recorded as it happens; nothing
//! answers whether a diagnosis is right (the service itself says so by recovering).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Mutex;

use lab_admin_api::{Diagnosis, GameDayOutcome, GameDayReply, GameDayView};
use time::OffsetDateTime;
use tokio::sync::Notify;

use super::plan::Cause;
use super::record::{self, Line};

/// Why the desk refused.
#[derive(Debug, thiserror::Error)]
pub enum DeskError {
    /// Bad input: an unknown function or cause.
    #[error("{0}")]
    Invalid(String),
    /// The game day is over.
    #[error("the game day has ended ({0}): nothing more is recorded")]
    Ended(&'static str),
}

/// A diagnosis as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct Stated {
    pub at: OffsetDateTime,
    pub function: String,
    pub cause: Cause,
}

/// What the desk knows; the game-day loop reads it to score.
#[derive(Debug, Clone)]
pub struct DeskState {
    pub outcome: GameDayOutcome,
    pub started_at: OffsetDateTime,
    pub first_page_at: Option<OffsetDateTime>,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub diagnoses: Vec<Stated>,
    /// When each hint was given, and whether it was asked for.
    pub hints: Vec<(OffsetDateTime, bool)>,
    /// The responder's last command (ack, diagnose, hint, a change): idle hints count from it.
    pub last_activity: OffsetDateTime,
}

pub struct Desk {
    pub id: String,
    pub stage: String,
    pub level: u8,
    pub folder: PathBuf,
    functions: BTreeSet<String>,
    hints: Vec<String>,
    state: Mutex<DeskState>,
    /// Woken when the responder gives up.
    pub gave_up: Notify,
}

impl Desk {
    /// A desk for a game day that starts now; writes the record's first line.
    pub fn open(
        id: &str,
        stage: &str,
        level: u8,
        folder: PathBuf,
        functions: BTreeSet<String>,
        hints: Vec<String>,
    ) -> std::io::Result<Desk> {
        let now = OffsetDateTime::now_utc();
        std::fs::create_dir_all(&folder)?;
        record::append(
            &folder,
            &Line::Started {
                at: now,
                id: id.to_owned(),
                stage: stage.to_owned(),
                level,
                pid: std::process::id(),
            },
        )?;
        Ok(Desk {
            id: id.to_owned(),
            stage: stage.to_owned(),
            level,
            folder,
            functions,
            hints,
            state: Mutex::new(DeskState {
                outcome: GameDayOutcome::Running,
                started_at: now,
                first_page_at: None,
                acknowledged_at: None,
                diagnoses: Vec::new(),
                hints: Vec::new(),
                last_activity: now,
            }),
            gave_up: Notify::new(),
        })
    }

    pub fn state(&self) -> DeskState {
        self.state.lock().expect("desk poisoned").clone()
    }

    /// Appends to the record; a failed write is reported, never fatal to the game day.
    pub fn write(&self, line: &Line) {
        if let Err(e) = record::append(&self.folder, line) {
            tracing::warn!(error = %e, folder = %self.folder.display(), "cannot append to the game-day record");
        }
    }

    fn running(&self) -> Result<std::sync::MutexGuard<'_, DeskState>, DeskError> {
        let state = self.state.lock().expect("desk poisoned");
        if state.outcome != GameDayOutcome::Running {
            return Err(DeskError::Ended(state.outcome.as_str()));
        }
        Ok(state)
    }

    pub fn view(&self) -> GameDayView {
        let s = self.state();
        GameDayView {
            id: self.id.clone(),
            stage: self.stage.clone(),
            level: self.level,
            outcome: s.outcome,
            started_at: s.started_at,
            first_page_at: s.first_page_at,
            acknowledged_at: s.acknowledged_at,
            diagnoses: s.diagnoses.len() as u32,
            hints_used: s.hints.len() as u32,
            folder: self.folder.display().to_string(),
            causes: Cause::names(),
        }
    }

    pub fn acknowledge(&self) -> Result<GameDayReply, DeskError> {
        let now = OffsetDateTime::now_utc();
        let mut s = self.running()?;
        s.last_activity = now;
        if let Some(at) = s.acknowledged_at {
            return Ok(GameDayReply {
                at,
                message: "already acknowledged".into(),
            });
        }
        s.acknowledged_at = Some(now);
        drop(s);
        self.write(&Line::Acknowledged { at: now });
        Ok(GameDayReply {
            at: now,
            message: "acknowledged: you own the incident".into(),
        })
    }

    pub fn diagnose(&self, d: &Diagnosis) -> Result<GameDayReply, DeskError> {
        if !self.functions.contains(&d.function) {
            return Err(DeskError::Invalid(format!(
                "unknown function {:?}: the stage's functions are {}",
                d.function,
                self.functions.iter().cloned().collect::<Vec<_>>().join(", ")
            )));
        }
        let cause = Cause::parse(&d.cause).map_err(DeskError::Invalid)?;
        let now = OffsetDateTime::now_utc();
        let mut s = self.running()?;
        s.last_activity = now;
        s.diagnoses.push(Stated {
            at: now,
            function: d.function.clone(),
            cause,
        });
        let n = s.diagnoses.len();
        drop(s);
        self.write(&Line::Diagnosis {
            at: now,
            function: d.function.clone(),
            cause: cause.as_str().into(),
        });
        Ok(GameDayReply {
            at: now,
            message: format!(
                "diagnosis {n} recorded: {} in {}; the scorecard judges it at the end",
                cause.as_str(),
                d.function
            ),
        })
    }

    /// The next hint (`asked`: the responder asked; else it was offered after idle time).
    pub fn hint(&self, asked: bool) -> Result<GameDayReply, DeskError> {
        let now = OffsetDateTime::now_utc();
        let mut s = self.running()?;
        let n = s.hints.len();
        let Some(text) = self.hints.get(n) else {
            return Ok(GameDayReply {
                at: now,
                message: "no more hints: the last one gave the fix".into(),
            });
        };
        s.hints.push((now, asked));
        s.last_activity = now;
        drop(s);
        self.write(&Line::Hint {
            at: now,
            number: n as u32 + 1,
            asked,
        });
        Ok(GameDayReply {
            at: now,
            message: format!("hint {} of {} (costs score): {text}", n + 1, self.hints.len()),
        })
    }

    pub fn give_up(&self) -> Result<GameDayReply, DeskError> {
        let now = OffsetDateTime::now_utc();
        drop(self.running()?);
        // Notify keeps the wake-up for the game-day loop if it is busy elsewhere right now.
        self.gave_up.notify_one();
        Ok(GameDayReply {
            at: now,
            message: format!(
                "giving up: the game day ends and its lab stops, every change with it (the next lab starts from the stage file); the answer and the scorecard go to {}",
                self.folder.display()
            ),
        })
    }

    /// A page arrived (the loop calls this for each paging notification).
    pub fn page(&self, at: OffsetDateTime, alarm: &str, state: &str) {
        {
            let mut s = self.state.lock().expect("desk poisoned");
            if state == "ALARM" && s.first_page_at.is_none() {
                s.first_page_at = Some(at);
            }
        }
        self.write(&Line::Page {
            at,
            alarm: alarm.to_owned(),
            state: state.to_owned(),
        });
    }

    /// A change the responder made.
    pub fn change(&self, at: OffsetDateTime, actor: &str, function: &str, summary: &str) {
        {
            let mut s = self.state.lock().expect("desk poisoned");
            s.last_activity = s.last_activity.max(at);
        }
        self.write(&Line::Change {
            at,
            actor: actor.to_owned(),
            function: function.to_owned(),
            summary: summary.to_owned(),
        });
    }

    /// Ends the game day: later commands are refused.
    pub fn end(&self, outcome: GameDayOutcome, note: Option<String>) {
        let now = OffsetDateTime::now_utc();
        self.state.lock().expect("desk poisoned").outcome = outcome;
        self.write(&Line::Ended {
            at: now,
            outcome,
            note,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desk(dir: &std::path::Path) -> Desk {
        Desk::open(
            "gameday-t",
            "dev",
            1,
            dir.join("gameday-t"),
            ["auth".to_owned(), "product".to_owned()].into(),
            vec!["one".into(), "two".into()],
        )
        .unwrap()
    }

    #[test]
    fn a_diagnosis_naming_an_unknown_function_or_cause_is_refused_and_not_recorded() {
        let dir = tempfile::tempdir().unwrap();
        let d = desk(dir.path());
        let e = d
            .diagnose(&Diagnosis {
                function: "billing".into(),
                cause: "exception".into(),
            })
            .unwrap_err();
        assert!(e.to_string().contains("unknown function \"billing\""), "{e}");
        let e = d
            .diagnose(&Diagnosis {
                function: "auth".into(),
                cause: "gremlins".into(),
            })
            .unwrap_err();
        assert!(e.to_string().contains("unknown cause"), "{e}");
        assert!(d.state().diagnoses.is_empty());
        d.diagnose(&Diagnosis {
            function: "auth".into(),
            cause: "panic".into(),
        })
        .unwrap();
        assert_eq!(d.state().diagnoses[0].cause, Cause::Panic);
    }

    #[test]
    fn hints_run_out_and_nothing_is_taken_after_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let d = desk(dir.path());
        assert!(d.hint(true).unwrap().message.contains("hint 1 of 2"));
        assert!(d.hint(false).unwrap().message.contains("two"));
        assert!(d.hint(true).unwrap().message.contains("no more hints"));
        assert_eq!(d.state().hints.len(), 2);
        d.end(GameDayOutcome::Resolved, None);
        assert!(matches!(d.acknowledge(), Err(DeskError::Ended("resolved"))));
        let (lines, bad) = record::read(&d.folder).unwrap();
        assert!(bad.is_empty());
        assert!(matches!(lines.first(), Some(Line::Started { .. })));
        assert!(matches!(lines.last(), Some(Line::Ended { .. })));
    }
}
