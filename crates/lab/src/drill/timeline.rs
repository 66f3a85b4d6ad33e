//! The full drill's timeline: the smoke engine's five steps and events (smoke's
//! [`Timeline`]), plus the lab drill's own: the route checks of the baseline, the diagnose
//! step, the notifications. One document for `PUT /drill` (the dashboard) and one list of
//! events for the incident report.

use incident_report::{EventKind, TimelineEvent};
use lab_admin_api::{DrillDocument, DrillStep, DrillTimelineEvent, StepStatus};
use outage_drill::drill::{DrillEvent, DrillEventKind, Step};
use outage_drill::timeline::{pending_step, Timeline};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub struct LabTimeline {
    engine: Timeline,
    baseline_started: bool,
    last_alarm_state: Option<(String, String)>,
    diagnose: DrillStep,
    /// Every event of the drill, for the report, in the order they happened.
    events: Vec<TimelineEvent>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339).unwrap_or_default()
}

/// The report's marker colour for an engine event.
fn kind_of(event: &DrillEventKind) -> EventKind {
    match event {
        DrillEventKind::FaultInjected { .. } => EventKind::Fault,
        DrillEventKind::AlarmRaised { .. } => EventKind::Alarm,
        DrillEventKind::Restored { .. } => EventKind::Fix,
        DrillEventKind::AlarmCleared { .. } => EventKind::Recovery,
        _ => EventKind::Info,
    }
}

impl LabTimeline {
    pub fn new(drill_id: &str) -> LabTimeline {
        LabTimeline {
            engine: Timeline::new(drill_id),
            baseline_started: false,
            last_alarm_state: None,
            diagnose: pending_step("diagnose"),
            events: Vec::new(),
        }
    }

    /// A smoke engine event, or one of the same kind made by the lab drill.
    pub fn record(&mut self, event: &DrillEvent) {
        // The baseline starts with the lab drill's route checks; the engine's own baseline
        // (reading the prior configuration) continues it rather than restarting it.
        if matches!(event.kind, DrillEventKind::StepStarted { step: Step::Baseline }) {
            if self.baseline_started {
                return;
            }
            self.baseline_started = true;
        }
        self.engine.record(event);
        if Self::worth_listing(event, &mut self.last_alarm_state) {
            self.events.push(TimelineEvent {
                timestamp: event.at,
                kind: kind_of(&event.kind),
                text: event.text(),
            });
        }
    }

    /// The event list is for what happened; the steps table already says when each step
    /// started and passed, waiting lines are for the terminal, and an alarm read again in the
    /// state it was already in is no news.
    fn worth_listing(event: &DrillEvent, last_alarm_state: &mut Option<(String, String)>) -> bool {
        match &event.kind {
            DrillEventKind::Waiting { .. } | DrillEventKind::StepStarted { .. } => false,
            DrillEventKind::StepFinished { passed, .. } => !passed,
            DrillEventKind::AlarmState { alarm, state, .. } => {
                let now = Some((alarm.clone(), state.as_str().to_owned()));
                let news = *last_alarm_state != now;
                *last_alarm_state = now;
                news
            }
            _ => true,
        }
    }

    /// A finding of the lab drill itself (a route check, the diagnosis), as of now.
    pub fn note(&mut self, kind: EventKind, text: impl Into<String>) {
        self.note_at(OffsetDateTime::now_utc(), kind, text);
    }

    /// Something that happened at `at`, found out later (a notification, an alarm change):
    /// listed at its own time.
    pub fn note_at(&mut self, at: OffsetDateTime, kind: EventKind, text: impl Into<String>) {
        self.events.push(TimelineEvent {
            timestamp: at,
            kind,
            text: text.into(),
        });
    }

    pub fn diagnose_started(&mut self) {
        self.diagnose.status = StepStatus::Running;
        self.diagnose.started_at = Some(rfc3339(OffsetDateTime::now_utc()));
    }

    pub fn diagnose_finished(&mut self, passed: bool, detail: &str) {
        if self.diagnose.started_at.is_none() {
            self.diagnose_started();
        }
        self.diagnose.status = StepStatus::of(passed);
        self.diagnose.finished_at = Some(rfc3339(OffsetDateTime::now_utc()));
        self.diagnose.detail = Some(detail.to_owned());
    }

    pub fn finish(&mut self) {
        self.engine.finish();
    }

    /// The steps as the incident report lists them.
    pub fn report_steps(&self) -> Vec<incident_report::Step> {
        let parse = |t: &Option<String>| t.as_deref().and_then(|t| OffsetDateTime::parse(t, &Rfc3339).ok());
        self.to_document()
            .steps
            .into_iter()
            .map(|s| incident_report::Step {
                started_at: parse(&s.started_at),
                finished_at: parse(&s.finished_at),
                name: s.name,
                status: s.status,
                detail: s.detail.unwrap_or_default(),
            })
            .collect()
    }

    pub fn events(&self) -> &[TimelineEvent] {
        &self.events
    }

    /// The `GET/PUT /drill` document: the six steps in drill order, and every event.
    pub fn to_document(&self) -> DrillDocument {
        let mut doc = self.engine.to_document();
        let at = doc
            .steps
            .iter()
            .position(|s| s.name == Step::Fix.as_str())
            .unwrap_or(doc.steps.len());
        doc.steps.insert(at, self.diagnose.clone());
        let mut events: Vec<&TimelineEvent> = self.events.iter().collect();
        events.sort_by_key(|e| e.timestamp);
        doc.events = Some(
            events
                .iter()
                .map(|e| DrillTimelineEvent {
                    timestamp: rfc3339(e.timestamp),
                    kind: Some(e.kind.as_str().to_owned()),
                    text: e.text.clone(),
                })
                .collect(),
        );
        doc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: DrillEventKind) -> DrillEvent {
        DrillEvent {
            at: OffsetDateTime::now_utc(),
            elapsed_s: 0.0,
            kind,
        }
    }

    #[test]
    fn diagnose_sits_between_detect_and_fix_and_baseline_starts_once() {
        let mut t = LabTimeline::new("d1");
        t.record(&ev(DrillEventKind::StepStarted { step: Step::Baseline }));
        let first_start = t.to_document().steps[0].started_at.clone();
        std::thread::sleep(std::time::Duration::from_millis(5));
        t.record(&ev(DrillEventKind::StepStarted { step: Step::Baseline }));
        t.diagnose_finished(true, "root cause found");
        t.note(EventKind::Alarm, "notification");
        // Listed: a state change and a failed step; not: the same state read again.
        let alarm = |state| {
            ev(DrillEventKind::AlarmState {
                alarm: "a".into(),
                state,
                reason: String::new(),
            })
        };
        t.record(&alarm(outage_drill::ports::AlarmState::Ok));
        t.record(&alarm(outage_drill::ports::AlarmState::Ok));
        t.record(&alarm(outage_drill::ports::AlarmState::Alarm));
        t.record(&ev(DrillEventKind::StepFinished {
            step: Step::Validate,
            passed: false,
            detail: "no OK".into(),
        }));
        let doc = t.to_document();
        let names: Vec<&str> = doc.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            ["baseline", "break", "detect", "diagnose", "fix", "validate"]
        );
        assert_eq!(doc.steps[0].started_at, first_start);
        assert_eq!(doc.steps[3].status, StepStatus::Passed);
        let events = doc.events.unwrap();
        let texts: Vec<&str> = events.iter().map(|e| e.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "notification",
                "alarm a is OK: ",
                "alarm a is ALARM: ",
                "validate: FAILED (no OK)"
            ]
        );
        assert_eq!(events[0].kind.as_deref(), Some("alarm"));
    }
}
