//! The team's game-day history: `<stage>/gamedays/history.jsonl`, one line per game day that
//! ended (abandoned ones included), append-only. `outage-lab gameday --history` prints it with
//! the trend; a bad line is reported and skipped, never removed.

use std::fmt::Write as _;
use std::path::Path;

use lab_admin_api::GameDayOutcome;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::record::{self, Line, HISTORY};
use super::score::Scorecard;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    pub level: u8,
    /// `None` when the game day was abandoned before its answer was written.
    pub scenario: Option<String>,
    pub outcome: GameDayOutcome,
    pub score: u32,
    pub time_to_ack_s: Option<f64>,
    pub time_to_mitigate_s: Option<f64>,
    pub time_to_recover_s: Option<f64>,
    pub wrong_diagnoses: u32,
    pub collateral: u32,
    pub hints_used: u32,
}

impl From<&Scorecard> for Entry {
    fn from(c: &Scorecard) -> Entry {
        Entry {
            id: c.id.clone(),
            ended_at: c.ended_at,
            level: c.level,
            scenario: Some(c.scenario.clone()),
            outcome: c.outcome,
            score: c.score,
            time_to_ack_s: c.time_to_ack_s,
            time_to_mitigate_s: c.time_to_mitigate_s,
            time_to_recover_s: c.time_to_recover_s,
            wrong_diagnoses: c.wrong_diagnoses,
            collateral: c.collateral.len() as u32,
            hints_used: c.hints_used,
        }
    }
}

/// The entry of a game day abandoned by a killed process, from what its record holds.
pub fn abandoned_entry(folder: &Path, lines: &[Line]) -> Entry {
    let (mut level, mut ended_at) = (0, OffsetDateTime::now_utc());
    let mut id = folder
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    for l in lines {
        match l {
            Line::Started { level: lv, id: i, .. } => {
                level = *lv;
                id = i.clone();
            }
            Line::Ended { at, .. } => ended_at = *at,
            _ => {}
        }
    }
    Entry {
        id,
        ended_at,
        level,
        scenario: None,
        outcome: GameDayOutcome::Abandoned,
        score: 0,
        time_to_ack_s: None,
        time_to_mitigate_s: None,
        time_to_recover_s: None,
        // Unjudged: the answer was never written, so no diagnosis can be called wrong.
        wrong_diagnoses: 0,
        collateral: 0,
        hints_used: lines.iter().filter(|l| matches!(l, Line::Hint { .. })).count() as u32,
    }
}

pub fn append(dir: &Path, entry: &Entry) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    lab_admin_api::run_folder::append_line(&dir.join(HISTORY), entry)
}

/// Closes game days abandoned by a killed process (their record and the history say so).
pub fn close_abandoned(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (folder, lines) in record::close_abandoned(dir)? {
        let entry = abandoned_entry(&folder, &lines);
        append(dir, &entry)?;
        entries.push(entry);
    }
    Ok(entries)
}

/// Every readable entry, and one warning per bad line.
pub fn read(dir: &Path) -> std::io::Result<(Vec<Entry>, Vec<String>)> {
    record::read_lines(&dir.join(HISTORY))
}

fn opt(s: Option<f64>) -> String {
    s.map_or("-".into(), |s| format!("{s:.0}"))
}

/// The table and the trend, as `gameday --history` prints them.
pub fn table(entries: &[Entry]) -> String {
    let mut out = String::new();
    if entries.is_empty() {
        return "no game days yet: start one with `outage-lab gameday`\n".into();
    }
    let _ = writeln!(
        out,
        "{:<20} {:>5} {:<22} {:<10} {:>5} {:>6} {:>8} {:>8} {:>5} {:>10} {:>5}",
        "ended (UTC)",
        "level",
        "scenario",
        "outcome",
        "score",
        "ack s",
        "mitig. s",
        "recov. s",
        "wrong",
        "collateral",
        "hints"
    );
    for e in entries {
        let ended = crate::time_fmt::rfc3339(e.ended_at);
        let _ = writeln!(
            out,
            "{:<20} {:>5} {:<22} {:<10} {:>5} {:>6} {:>8} {:>8} {:>5} {:>10} {:>5}",
            ended.get(..19).unwrap_or(&ended),
            e.level,
            e.scenario.as_deref().unwrap_or("(not recorded)"),
            e.outcome.as_str(),
            e.score,
            opt(e.time_to_ack_s),
            opt(e.time_to_mitigate_s),
            opt(e.time_to_recover_s),
            e.wrong_diagnoses,
            e.collateral,
            e.hints_used
        );
    }
    let _ = writeln!(out, "{}", trend(entries));
    out
}

/// The mean score of the last five game days against the five before them.
pub fn trend(entries: &[Entry]) -> String {
    let mean = |es: &[Entry]| es.iter().map(|e| f64::from(e.score)).sum::<f64>() / es.len() as f64;
    let n = entries.len();
    let last = &entries[n.saturating_sub(5)..];
    let before = &entries[n.saturating_sub(10)..n.saturating_sub(5)];
    let resolved = entries
        .iter()
        .filter(|e| e.outcome == GameDayOutcome::Resolved)
        .count();
    if before.is_empty() {
        format!(
            "trend: {n} game day(s), {resolved} resolved, mean score {:.0}; the trend needs 6 or more",
            mean(last)
        )
    } else {
        let (a, b) = (mean(before), mean(last));
        format!(
            "trend: mean score {b:.0} over the last {} against {a:.0} over the {} before ({}{:.0}); {resolved} of {n} resolved",
            last.len(),
            before.len(),
            if b >= a { "+" } else { "" },
            b - a
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(score: u32) -> Entry {
        Entry {
            id: format!("g{score}"),
            ended_at: OffsetDateTime::now_utc(),
            level: 1,
            scenario: Some("payment-exception".into()),
            outcome: GameDayOutcome::Resolved,
            score,
            time_to_ack_s: Some(12.0),
            time_to_mitigate_s: Some(60.0),
            time_to_recover_s: Some(100.0),
            wrong_diagnoses: 0,
            collateral: 0,
            hints_used: 0,
        }
    }

    #[test]
    fn the_trend_compares_the_last_five_with_the_five_before() {
        let es: Vec<Entry> = [50, 50, 50, 50, 50, 70, 70, 70, 70, 70]
            .into_iter()
            .map(entry)
            .collect();
        let t = trend(&es);
        assert!(t.contains("mean score 70 over the last 5 against 50"), "{t}");
        assert!(t.contains("+20"), "{t}");
        assert!(trend(&es[..3]).contains("needs 6 or more"));
    }

    #[test]
    fn a_corrupted_history_keeps_every_good_line() {
        let dir = tempfile::tempdir().unwrap();
        append(dir.path(), &entry(80)).unwrap();
        let path = dir.path().join(HISTORY);
        let mut text = std::fs::read_to_string(&path).unwrap();
        text.push_str("garbage\n");
        std::fs::write(&path, text).unwrap();
        append(dir.path(), &entry(90)).unwrap();
        let (es, bad) = read(dir.path()).unwrap();
        assert_eq!(es.iter().map(|e| e.score).collect::<Vec<_>>(), vec![80, 90]);
        assert_eq!(bad.len(), 1);
        assert!(
            bad[0].contains("line 2") && bad[0].contains("skipped"),
            "{}",
            bad[0]
        );
        assert!(table(&es).contains("payment-exception"));
    }
}
