//! The postmortem draft (`postmortem.md`): the sections incident teams write, filled in from
//! the record and the scorecard; what only the team can say (what went badly and why, the
//! action items) is left for them, with the facts that prompt it.

use std::fmt::Write as _;

use lab_admin_api::GameDayOutcome;
use time::OffsetDateTime;

use super::record::Line;
use super::score::Scorecard;
use crate::time_fmt::rfc3339;

fn clock(t: OffsetDateTime) -> String {
    let s = rfc3339(t);
    s.get(11..19).unwrap_or(&s).to_owned()
}

fn dur(s: Option<f64>) -> String {
    s.map_or("n/a".into(), |s| format!("{s:.0} s"))
}

/// The Markdown draft.
pub fn draft(card: &Scorecard, lines: &[Line], runbook: &str) -> String {
    let mut md = String::new();
    let failed_pct = if card.requests > 0 {
        100.0 * card.failed_requests as f64 / card.requests as f64
    } else {
        0.0
    };
    let _ = writeln!(md, "# Postmortem draft: {} ({})\n", card.title, card.id);
    let _ = writeln!(
        md,
        "Game day on stage `{}`, level {}. Outcome: **{}**, score **{}/100**. Blameless: this describes the system and the response, not a person.\n",
        card.stage,
        card.level,
        card.outcome.as_str(),
        card.score
    );

    let _ = writeln!(md, "## Summary\n");
    let _ = writeln!(
        md,
        "`{}` suffered **{}** (scenario `{}`), starting {}. {}\n",
        card.function,
        card.cause,
        card.scenario,
        card.injected_at
            .map_or("at an unrecorded time".into(), |t| format!("at {} UTC", clock(t))),
        match card.outcome {
            GameDayOutcome::Resolved => format!(
                "It was mitigated {} and recovered {} after the first page.",
                dur(card.time_to_mitigate_s),
                dur(card.time_to_recover_s)
            ),
            other => format!(
                "The game day ended {} before the service recovered.",
                other.as_str()
            ),
        }
    );

    let _ = writeln!(md, "## Impact\n");
    let _ = writeln!(
        md,
        "- {} of {} requests to `{}`'s routes failed ({failed_pct:.1} %) between the fault and the end.",
        card.failed_requests, card.requests, card.function
    );
    let _ = writeln!(
        md,
        "- Customer-facing duration: {} (from the fault to recovery).",
        dur(
            match (card.injected_at, card.recovered_at.or(Some(card.ended_at))) {
                (Some(a), Some(b)) => Some((b - a).as_seconds_f64()),
                _ => None,
            }
        )
    );
    let _ = writeln!(md);

    let _ = writeln!(md, "## Timeline (UTC)\n");
    let _ = writeln!(md, "| time | event |\n|---|---|");
    let mut rows: Vec<(OffsetDateTime, String)> = Vec::new();
    if let Some(at) = card.injected_at {
        rows.push((
            at,
            format!(
                "the fault: {} in `{}` (not visible to the responder)",
                card.cause, card.function
            ),
        ));
    }
    for line in lines {
        let row = match line {
            Line::Started { at, .. } => Some((*at, "game day started; steady traffic".to_owned())),
            Line::Page { at, alarm, state } => Some((*at, format!("page: `{alarm}` -> {state}"))),
            Line::Acknowledged { at } => Some((*at, "responder acknowledged".to_owned())),
            Line::Diagnosis { at, function, cause } => {
                let right = function == &card.function && cause == &card.cause;
                Some((
                    *at,
                    format!(
                        "diagnosis: {cause} in `{function}` ({})",
                        if right { "right" } else { "wrong" }
                    ),
                ))
            }
            Line::Hint { at, number, asked } => Some((
                *at,
                format!(
                    "hint {number} ({})",
                    if *asked {
                        "asked"
                    } else {
                        "offered after idle time"
                    }
                ),
            )),
            Line::Change {
                at,
                actor,
                function,
                summary,
            } => Some((*at, format!("change by {actor} to `{function}`: {summary}"))),
            Line::Mitigated { at } => Some((*at, "fault gone from the configuration (mitigated)".to_owned())),
            Line::Ended { at, outcome, .. } => Some((*at, format!("game day ended: {}", outcome.as_str()))),
            Line::Answer { .. } => None,
        };
        rows.extend(row);
    }
    if let Some(at) = card.recovered_at {
        rows.push((
            at,
            "recovered: alarms OK, healthy traffic for a full period".into(),
        ));
    }
    rows.sort_by_key(|(at, _)| *at);
    for (at, text) in rows {
        let _ = writeln!(md, "| {} | {} |", clock(at), text.replace('|', "\\|"));
    }
    let _ = writeln!(md);

    let _ = writeln!(md, "## Root cause\n");
    let _ = writeln!(md, "{}: **{}** in `{}`.\n", card.title, card.cause, card.function);
    for line in lines {
        if let Line::Answer {
            change,
            lesson,
            decoys,
            ..
        } = line
        {
            if let Some(c) = change {
                let _ = writeln!(md, "- The change: {c}.");
            }
            if !decoys.is_empty() {
                let _ = writeln!(md, "- Harmless changes made around it: {}.", decoys.join("; "));
            }
            let _ = writeln!(md, "- Lesson: {lesson}");
            let _ = writeln!(md);
        }
    }

    let _ = writeln!(md, "## Detection\n");
    let first_page = lines.iter().find_map(|l| match l {
        Line::Page { alarm, state, .. } if state == "ALARM" => Some(alarm.clone()),
        _ => None,
    });
    let _ = writeln!(
        md,
        "{} paged {} after the fault. Runbook: {runbook}\n",
        first_page.map_or("No alarm".into(), |a| format!("`{a}`")),
        dur(card.time_to_page_s)
    );

    let _ = writeln!(md, "## Resolution\n");
    if card.actions.is_empty() {
        let _ = writeln!(md, "The responder changed nothing.\n");
    } else {
        for a in &card.actions {
            let _ = writeln!(
                md,
                "- {} {} changed `{}`: {}",
                clock(a.at),
                a.actor,
                a.function,
                a.summary
            );
        }
        let _ = writeln!(md);
    }
    let _ = writeln!(
        md,
        "Acknowledged {}, right diagnosis {}, mitigated {}, recovered {} after the first page.\n",
        dur(card.time_to_ack_s),
        dur(card.time_to_diagnosis_s),
        dur(card.time_to_mitigate_s),
        dur(card.time_to_recover_s)
    );

    let _ = writeln!(md, "## What went well\n");
    let mut well = Vec::new();
    if card.time_to_ack_s.is_some_and(|t| t <= 120.0) {
        well.push("The page was acknowledged within two minutes.".to_owned());
    }
    if card.wrong_diagnoses == 0 && card.correct_diagnosis_at.is_some() {
        well.push("The first diagnosis was the right one.".to_owned());
    }
    if card.collateral.is_empty() && !card.actions.is_empty() {
        well.push("Only the function at fault was changed.".to_owned());
    }
    if card.hints_used == 0 && card.outcome == GameDayOutcome::Resolved {
        well.push("Resolved without hints.".to_owned());
    }
    if well.is_empty() {
        well.push("(for the team to fill in)".into());
    }
    for w in well {
        let _ = writeln!(md, "- {w}");
    }
    let _ = writeln!(md, "\n## What went badly\n");
    if card.deductions.is_empty() {
        let _ = writeln!(md, "- (for the team to fill in)");
    }
    for d in &card.deductions {
        let _ = writeln!(md, "- {} (-{} points)", d.why, d.points);
    }
    let _ = writeln!(md, "\n## Action items\n");
    let _ = writeln!(
        md,
        "Left for the team: each with an owner and a date.\n\n- [ ] \n- [ ] \n- [ ] "
    );
    md
}
