//! The scorecard: how fast the responder acknowledged, diagnosed, mitigated and recovered, and
//! what cost them (wrong diagnoses, changes to healthy functions, hints). The rules are in
//! docs/gameday.md and in [`score`]; every deduction is listed with its reason.

use lab_admin_api::GameDayOutcome;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A change the responder made, as the scorecard lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub actor: String,
    pub function: String,
    pub summary: String,
}

/// A diagnosis as the scorecard lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Guess {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub function: String,
    pub cause: String,
    pub correct: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Deduction {
    pub points: u32,
    pub why: String,
}

/// `scorecard.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub id: String,
    pub stage: String,
    pub level: u8,
    pub outcome: GameDayOutcome,
    /// The answer.
    pub scenario: String,
    pub title: String,
    pub function: String,
    pub cause: String,
    pub seed: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub injected_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub first_page_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub acknowledged_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub correct_diagnosis_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub mitigated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub recovered_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub ended_at: OffsetDateTime,
    /// From the injection to the first page.
    pub time_to_page_s: Option<f64>,
    /// From the first page (the responder's clock starts there).
    pub time_to_ack_s: Option<f64>,
    pub time_to_diagnosis_s: Option<f64>,
    pub time_to_mitigate_s: Option<f64>,
    pub time_to_recover_s: Option<f64>,
    pub diagnoses: Vec<Guess>,
    pub wrong_diagnoses: u32,
    /// Changes to functions other than the one at fault: how many, and which.
    pub collateral_actions: u32,
    pub collateral: Vec<Action>,
    /// Every change the responder made.
    pub actions: Vec<Action>,
    pub hints_used: u32,
    /// Requests the steady load sent to the function's routes from the injection to the end,
    /// and how many failed (5xx or no answer).
    pub requests: u64,
    pub failed_requests: u64,
    pub score: u32,
    pub deductions: Vec<Deduction>,
}

/// Seconds from the first page within which recovery costs nothing, by level.
pub fn par_s(level: u8) -> f64 {
    match level {
        1 => 300.0,
        2 => 480.0,
        _ => 600.0,
    }
}

fn secs(from: Option<OffsetDateTime>, to: Option<OffsetDateTime>) -> Option<f64> {
    Some(((to? - from?).as_seconds_f64()).max(0.0))
}

impl Scorecard {
    /// Fills in the durations from the instants.
    pub fn with_times(mut self) -> Scorecard {
        let clock = self.first_page_at.or(self.injected_at);
        self.time_to_page_s = secs(self.injected_at, self.first_page_at);
        self.time_to_ack_s = secs(clock, self.acknowledged_at);
        self.time_to_diagnosis_s = secs(clock, self.correct_diagnosis_at);
        self.time_to_mitigate_s = secs(clock, self.mitigated_at);
        self.time_to_recover_s = secs(clock, self.recovered_at);
        self.wrong_diagnoses = self.diagnoses.iter().filter(|d| !d.correct).count() as u32;
        self.collateral_actions = self.collateral.len() as u32;
        self
    }
}

/// The score out of 100, and each deduction with its reason.
pub fn score(card: &Scorecard) -> (u32, Vec<Deduction>) {
    let mut deductions = Vec::new();
    if card.outcome != GameDayOutcome::Resolved {
        deductions.push(Deduction {
            points: 100,
            why: format!("not resolved: {}", card.outcome.as_str()),
        });
        return (0, deductions);
    }
    let mut take = |points: u32, why: String| {
        if points > 0 {
            deductions.push(Deduction { points, why });
        }
    };
    if let Some(t) = card.time_to_recover_s {
        let par = par_s(card.level);
        if t > par {
            let over = ((t - par) / 15.0).ceil() as u32;
            take(
                over.min(30),
                format!("recovered {t:.0} s after the first page, par is {par:.0} s (1 point per 15 s over, at most 30)"),
            );
        }
    }
    match (card.acknowledged_at, card.mitigated_at) {
        (None, _) => take(5, "never acknowledged the page".into()),
        (Some(a), Some(m)) if a > m => take(5, "acknowledged only after mitigating".into()),
        _ => {}
    }
    if card.wrong_diagnoses > 0 {
        take(
            (10 * card.wrong_diagnoses).min(30),
            format!(
                "{} wrong diagnosis(es), 10 points each (at most 30)",
                card.wrong_diagnoses
            ),
        );
    }
    if card.correct_diagnosis_at.is_none() {
        take(15, "never stated the right diagnosis".into());
    }
    if !card.collateral.is_empty() {
        take(
            (10 * card.collateral.len() as u32).min(30),
            format!(
                "{} change(s) to healthy functions ({}), 10 points each (at most 30)",
                card.collateral.len(),
                card.collateral
                    .iter()
                    .map(|a| a.function.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        );
    }
    if card.hints_used > 0 {
        take(
            10 * card.hints_used,
            format!("{} hint(s), 10 points each", card.hints_used),
        );
    }
    let lost: u32 = deductions.iter().map(|d| d.points).sum();
    (100u32.saturating_sub(lost), deductions)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::Duration;

    fn card(outcome: GameDayOutcome) -> Scorecard {
        let t0 = OffsetDateTime::now_utc();
        Scorecard {
            id: "g".into(),
            stage: "dev".into(),
            level: 1,
            outcome,
            scenario: "payment-exception".into(),
            title: "t".into(),
            function: "payment-fixed".into(),
            cause: "exception".into(),
            seed: 1,
            started_at: t0,
            injected_at: Some(t0 + Duration::seconds(30)),
            first_page_at: Some(t0 + Duration::seconds(40)),
            acknowledged_at: Some(t0 + Duration::seconds(50)),
            correct_diagnosis_at: Some(t0 + Duration::seconds(80)),
            mitigated_at: Some(t0 + Duration::seconds(90)),
            recovered_at: Some(t0 + Duration::seconds(140)),
            ended_at: t0 + Duration::seconds(140),
            time_to_page_s: None,
            time_to_ack_s: None,
            time_to_diagnosis_s: None,
            time_to_mitigate_s: None,
            time_to_recover_s: None,
            diagnoses: vec![],
            wrong_diagnoses: 0,
            collateral_actions: 0,
            collateral: vec![],
            actions: vec![],
            hints_used: 0,
            requests: 0,
            failed_requests: 0,
            score: 0,
            deductions: vec![],
        }
        .with_times()
    }

    #[test]
    fn a_clean_resolution_scores_full_marks_and_times_run_from_the_page() {
        let c = card(GameDayOutcome::Resolved);
        assert_eq!(c.time_to_page_s, Some(10.0));
        assert_eq!(c.time_to_ack_s, Some(10.0));
        assert_eq!(c.time_to_recover_s, Some(100.0));
        assert_eq!(score(&c), (100, vec![]));
    }

    #[test]
    fn every_cost_is_itemised() {
        let mut c = card(GameDayOutcome::Resolved);
        c.diagnoses.push(Guess {
            at: c.started_at,
            function: "auth".into(),
            cause: "latency".into(),
            correct: false,
        });
        c.collateral.push(Action {
            at: c.started_at,
            actor: "me".into(),
            function: "auth".into(),
            summary: "x".into(),
        });
        c.hints_used = 2;
        c.recovered_at = Some(c.first_page_at.unwrap() + Duration::seconds(330));
        let c = c.with_times();
        let (points, deductions) = score(&c);
        assert_eq!(points, 100 - 2 - 10 - 10 - 20);
        assert_eq!(deductions.len(), 4);
        assert!(deductions[0].why.contains("par is 300 s"));
    }

    #[test]
    fn giving_up_scores_nothing() {
        let (points, d) = score(&card(GameDayOutcome::GaveUp));
        assert_eq!(points, 0);
        assert!(d[0].why.contains("gave-up"));
    }
}
