//! The drill's timeline in the shape of the lab's `GET/PUT /drill` (docs/lab-admin-api.md), built
//! from [`DrillEvent`]s as they arrive, so the live dashboard can show a running drill.

use serde_json::{json, Value};
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
    steps: Vec<Value>,
    events: Vec<Value>,
}

impl Timeline {
    pub fn new(drill_id: &str) -> Timeline {
        let steps = STEPS
            .iter()
            .map(|s| json!({"name": s.as_str(), "status": "pending", "started_at": null, "finished_at": null, "detail": ""}))
            .collect();
        Timeline {
            drill_id: drill_id.to_owned(),
            started_at: None,
            running: true,
            steps,
            events: Vec::new(),
        }
    }

    /// Adds one event; the "diagnose" step of the full lab drill is not the smoke test's, so it
    /// is not listed here.
    pub fn record(&mut self, event: &DrillEvent) {
        let at = event.at.format(&Rfc3339).unwrap_or_default();
        self.started_at.get_or_insert_with(|| at.clone());
        self.events.push(json!({"timestamp": at, "text": event.text()}));
        let step_mut = |steps: &mut Vec<Value>, step: Step| -> Option<usize> {
            steps.iter().position(|s| s["name"] == step.as_str())
        };
        match &event.kind {
            DrillEventKind::StepStarted { step } => {
                if let Some(i) = step_mut(&mut self.steps, *step) {
                    self.steps[i]["status"] = "running".into();
                    self.steps[i]["started_at"] = at.into();
                }
            }
            DrillEventKind::StepFinished { step, passed, detail } => {
                if let Some(i) = step_mut(&mut self.steps, *step) {
                    self.steps[i]["status"] = if *passed { "passed" } else { "failed" }.into();
                    self.steps[i]["finished_at"] = at.into();
                    self.steps[i]["detail"] = detail.clone().into();
                }
            }
            _ => {}
        }
    }

    /// Marks the drill finished.
    pub fn finish(&mut self) {
        self.running = false;
    }

    pub fn to_json(&self) -> Value {
        json!({
            "running": self.running,
            "drill_id": self.drill_id,
            "started_at": self.started_at,
            "steps": self.steps,
            "events": self.events,
        })
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
        let v = t.to_json();
        assert_eq!(v["running"], false);
        assert_eq!(v["steps"][2]["name"], "detect");
        assert_eq!(v["steps"][2]["status"], "failed");
        assert_eq!(v["steps"][2]["detail"], "no ALARM");
        assert_eq!(v["steps"][0]["status"], "pending");
        assert_eq!(v["events"].as_array().unwrap().len(), 2);
    }
}
