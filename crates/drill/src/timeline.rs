//! The drill's timeline in the shape of the lab's `GET/PUT /drill` (docs/lab-admin-api.md), built
//! from [`DrillEvent`]s as they arrive, so the live dashboard can show a running drill.

use lab_admin_api::{DrillDocument, DrillStep, DrillTimelineEvent, StepStatus};
use time::format_description::well_known::Rfc3339;

use crate::drill::{DrillEvent, DrillEventKind, Step};

const STEPS: [Step; 5] = [
    Step::Baseline,
    Step::Break,
    Step::Detect,
    Step::Fix,
    Step::Validate,
];

/// Accumulates events into the `/drill` document.
#[derive(Debug, Clone)]
pub struct Timeline {
    drill_id: String,
    started_at: Option<String>,
    running: bool,
    steps: Vec<DrillStep>,
    events: Vec<DrillTimelineEvent>,
}

/// A step not started yet.
pub fn pending_step(name: &str) -> DrillStep {
    DrillStep {
        name: name.to_owned(),
        status: StepStatus::Pending,
        started_at: None,
        finished_at: None,
        detail: Some(String::new()),
    }
}

fn step_mut(steps: &mut [DrillStep], step: Step) -> Option<&mut DrillStep> {
    steps.iter_mut().find(|s| s.name == step.as_str())
}

impl Timeline {
    pub fn new(drill_id: &str) -> Timeline {
        Timeline {
            drill_id: drill_id.to_owned(),
            started_at: None,
            running: true,
            steps: STEPS.iter().map(|s| pending_step(s.as_str())).collect(),
            events: Vec::new(),
        }
    }

    /// Adds one event; the "diagnose" step of the full lab drill is not the smoke test's, so it
    /// is not listed here.
    pub fn record(&mut self, event: &DrillEvent) {
        let at = event.at.format(&Rfc3339).unwrap_or_default();
        self.started_at.get_or_insert_with(|| at.clone());
        self.events.push(DrillTimelineEvent {
            timestamp: at.clone(),
            kind: None,
            text: event.text(),
        });
        match &event.kind {
            DrillEventKind::StepStarted { step } => {
                if let Some(s) = step_mut(&mut self.steps, *step) {
                    s.status = StepStatus::Running;
                    s.started_at = Some(at);
                }
            }
            DrillEventKind::StepFinished { step, passed, detail } => {
                if let Some(s) = step_mut(&mut self.steps, *step) {
                    s.status = StepStatus::of(*passed);
                    s.finished_at = Some(at);
                    s.detail = Some(detail.clone());
                }
            }
            _ => {}
        }
    }

    /// Marks the drill finished.
    pub fn finish(&mut self) {
        self.running = false;
    }

    pub fn to_document(&self) -> DrillDocument {
        DrillDocument {
            running: self.running,
            drill_id: Some(self.drill_id.clone()),
            started_at: self.started_at.clone(),
            steps: self.steps.clone(),
            events: Some(self.events.clone()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    #[test]
    fn steps_follow_their_events() {
        let mut t = Timeline::new("d1");
        let ev = |kind| DrillEvent {
            at: OffsetDateTime::UNIX_EPOCH,
            elapsed_s: 0.0,
            kind,
        };
        t.record(&ev(DrillEventKind::StepStarted { step: Step::Detect }));
        t.record(&ev(DrillEventKind::StepFinished {
            step: Step::Detect,
            passed: false,
            detail: "no ALARM".into(),
        }));
        t.finish();
        let v = t.to_document();
        assert!(!v.running);
        assert_eq!(v.steps[2].name, "detect");
        assert_eq!(v.steps[2].status, StepStatus::Failed);
        assert_eq!(v.steps[2].detail.as_deref(), Some("no ALARM"));
        assert_eq!(v.steps[0].status, StepStatus::Pending);
        assert_eq!(v.events.unwrap().len(), 2);
    }
}
