//! Progress for people while a drill runs.

use std::time::Duration;

use crate::drill::{DrillEvent, DrillEventKind, Step};

/// Progress for people: on a terminal, a spinner line with the running step above which the
/// events scroll; otherwise (CI logs, pipes) plain lines only.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    /// What the spinner says: the running step, and the alarm's last state.
    status: std::sync::Mutex<(String, String)>,
}

impl Progress {
    pub fn new() -> Progress {
        use std::io::IsTerminal;
        let status = std::sync::Mutex::new((String::new(), String::new()));
        if !std::io::stderr().is_terminal() {
            return Progress { bar: None, status };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} [{elapsed}] {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar: Some(bar),
            status,
        }
    }

    pub fn event(&self, e: &DrillEvent) {
        use DrillEventKind as K;
        let line = format!("[{:>6.1} s] {}", e.elapsed_s, e.text());
        let Some(bar) = &self.bar else {
            eprintln!("{line}");
            return;
        };
        {
            let mut status = self.status.lock().expect("progress poisoned");
            match &e.kind {
                K::StepStarted { step: Step::Detect } => {
                    status.0 = "detect: failing traffic, waiting for ALARM".into()
                }
                K::StepStarted { step: Step::Validate } => {
                    status.0 = "validate: healthy traffic, waiting for OK".into()
                }
                K::StepStarted { step } => status.0 = format!("{}: running", step.as_str()),
                K::AlarmState { alarm, state, .. } => status.1 = format!("{alarm} is {state}"),
                _ => {}
            }
            let message = if status.1.is_empty() {
                status.0.clone()
            } else {
                format!("{} ({})", status.0, status.1)
            };
            bar.set_message(message);
        }
        // The spinner already shows that a wait goes on.
        if !matches!(e.kind, K::Waiting { .. }) {
            bar.println(line);
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Default for Progress {
    fn default() -> Self {
        Progress::new()
    }
}
