//! Draft postmortem prose from the facts of an incident, so that every drill's report reads the
//! same way and no number in the prose can disagree with the measurements. A person can edit
//! the draft before publishing it; the drill uses it as is.

use crate::model::{ActionItem, AlarmPathComparison, Incident, Postmortem};
use crate::text::{hms, hms_millis, seconds};

fn list(items: &[String]) -> String {
    match items {
        [] => "none".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

impl AlarmPathComparison {
    /// The comparison with its explanatory note written from the two periods.
    pub fn new(
        fast_alarm: impl Into<String>,
        fast_period_s: u32,
        standard_alarm: impl Into<String>,
        standard_period_s: u32,
        standard_alarm_at: Option<time::OffsetDateTime>,
    ) -> Self {
        let (fast_alarm, standard_alarm) = (fast_alarm.into(), standard_alarm.into());
        let note = format!(
            "{standard_alarm} evaluates {standard_period_s} s datapoints of AWS/Lambda Errors. \
             CloudWatch evaluates a period only after it has closed, so that path sees a failure up \
             to {standard_period_s} s after the first error (later on AWS, where Lambda publishes \
             its metrics up to a minute late) and returns to OK only after a whole error-free \
             period, at least {standard_period_s} s after the fix: on that path neither detection \
             nor recovery can be faster than a period, and how much slower depends on where in its \
             period the failure starts. {fast_alarm} watches the high-resolution OutageLab Faults \
             metric that the function writes before it returns the error, with {fast_period_s} s \
             periods: detection within one to two periods."
        );
        Self {
            fast_alarm,
            fast_period_s,
            standard_alarm,
            standard_period_s,
            standard_alarm_at,
            note,
        }
    }
}

impl Incident {
    /// Postmortem sections written from the incident's measurements, diagnosis and blast radius.
    pub fn draft_postmortem(&self) -> Postmortem {
        let outcome = self.outcome();
        let f = &self.fault;
        let d = &self.diagnosis;
        let deployed = format!("{}-{}", self.stage, f.function);
        let fault_route = self.blast_radius.iter().find(|r| r.route == f.route);
        let degraded: Vec<String> = self
            .blast_radius
            .iter()
            .filter(|r| r.degraded)
            .map(|r| {
                format!(
                    "{} ({} of {} requests answered 5xx)",
                    r.route, r.errors_5xx, r.requests
                )
            })
            .collect();
        let healthy: Vec<String> = self
            .blast_radius
            .iter()
            .filter(|r| !r.degraded)
            .map(|r| format!("{} ({} requests, {} 5xx)", r.route, r.requests, r.errors_5xx))
            .collect();
        let window = match self.detection.fix_applied_at {
            Some(fix) => seconds(Some((fix - self.detection.fault_injected_at).as_seconds_f64())),
            None => "the rest of the drill".to_string(),
        };
        let detected = match outcome.mttd.seconds {
            Some(s) => format!(
                "{} went to ALARM {} after the fault was injected",
                f.alarm,
                seconds(Some(s))
            ),
            None => format!("{} never went to ALARM", f.alarm),
        };
        let recovered = match outcome.mttr.seconds {
            Some(s) => format!("returned to OK {} after the fix", seconds(Some(s))),
            None => "did not return to OK before the drill ended".to_string(),
        };
        let failing = fault_route.map_or(String::new(), |r| {
            format!(" ({} of {} requests answered 5xx)", r.errors_5xx, r.requests)
        });
        let verdict = |met: bool| if met { "met" } else { "missed" };

        let summary = format!(
            "For {window} requests to {} failed{failing} because {deployed} returned an unhandled \
             error ({}: \"{}\"). {detected} and {recovered}.",
            f.route, d.error_type, d.error_message
        );
        let impact = format!("Degraded: {}. Healthy: {}.", list(&degraded), list(&healthy));
        let first = d.first_failure_at.map_or("\u{2014}".to_string(), hms_millis);
        let ids = if d.failing_request_ids.is_empty() {
            String::new()
        } else {
            format!(" Failing request ids include {}.", list(&d.failing_request_ids))
        };
        let root_cause = format!(
            "FAULT_MODE={} in the environment of {deployed} made its handler fail with {} \
             (\"{}\") on every affected invocation, first at {first} UTC; Lambda counted each as an \
             unhandled error and the gateway answered 500. {} invocations failed.{ids}",
            f.mode, d.error_type, d.error_message, d.failed_requests
        );
        let c = &self.alarm_path_comparison;
        let standard = match c.standard_alarm_at {
            Some(t) => format!(
                "The one-minute {} fired {} after the fault.",
                c.standard_alarm,
                seconds(Some((t - self.detection.fault_injected_at).as_seconds_f64()))
            ),
            None => format!(
                "The one-minute {} had not fired by the time of the fix.",
                c.standard_alarm
            ),
        };
        let detection = format!(
            "{detected} (target \u{2264} {}: {}), and its notification went to the stage's alarm \
             topic. {standard}",
            seconds(Some(outcome.mttd.target_s)),
            verdict(outcome.mttd.met)
        );
        let resolution = match self.detection.fix_applied_at {
            Some(fix) => format!(
                "The prior configuration of {deployed} was restored through the control plane at \
                 {} UTC; new execution environments started without the fault and {} {recovered} \
                 (target \u{2264} {}: {}).",
                hms(fix),
                f.alarm,
                seconds(Some(outcome.mttr.target_s)),
                verdict(outcome.mttr.met)
            ),
            None => "The fault was not removed by the drill.".to_string(),
        };

        let mut action_items = vec![ActionItem {
            text: format!(
                "Keep a {} s fast_errors alarm on every function that serves customer traffic.",
                c.fast_period_s
            ),
            owner: String::new(),
        }];
        if !outcome.mttd.met {
            action_items.push(ActionItem {
                text: format!(
                    "Find out why detection took longer than {}.",
                    seconds(Some(outcome.mttd.target_s))
                ),
                owner: String::new(),
            });
        }
        if !outcome.mttr.met {
            action_items.push(ActionItem {
                text: format!(
                    "Find out why recovery took longer than {}.",
                    seconds(Some(outcome.mttr.target_s))
                ),
                owner: String::new(),
            });
        }
        for r in self
            .blast_radius
            .iter()
            .filter(|r| r.degraded && r.route != f.route)
        {
            action_items.push(ActionItem {
                text: format!(
                    "{} also degraded ({} 5xx) without the injected fault: fix or retire {}.",
                    r.route, r.errors_5xx, r.function
                ),
                owner: String::new(),
            });
        }
        Postmortem {
            summary,
            impact,
            root_cause,
            detection,
            resolution,
            action_items,
        }
    }
}
