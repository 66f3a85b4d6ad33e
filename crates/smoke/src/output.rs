//! What a run prints and writes for people and CI: the drill summary with MTTD and MTTR, and
//! the JUnit documents of the check and the drill.

use crate::check::CheckReport;
use crate::drill::{DrillEventKind, DrillOutcome, DrillReport, Step};
use crate::junit;

/// One JUnit case per route.
pub fn check_junit(report: &CheckReport) -> junit::Suite {
    junit::Suite {
        name: format!("smoke-test check {} ({})", report.stage, report.target),
        cases: report
            .results
            .iter()
            .map(|r| junit::Case {
                name: r.expectation.route.clone(),
                classname: format!("smoke.check.{}", report.stage),
                time_s: r.latency_ms / 1000.0,
                failure: (!r.passed).then(|| r.problems.join("; ")),
                output: Some(format!(
                    "{} -> {}",
                    r.url,
                    r.status
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "no answer".into())
                )),
            })
            .collect(),
    }
}

fn seconds(v: Option<f64>) -> String {
    v.map(|s| format!("{s:.1} s")).unwrap_or_else(|| "-".into())
}

pub fn drill_summary(report: &DrillReport) -> String {
    let p = &report.plan;
    let mut out = String::new();
    out.push_str(&format!(
        "drill {}: {} ({})\n",
        p.stage, report.function_name, p.route_path
    ));
    out.push_str(&format!("alarm:   {}\n", p.alarm.name));
    out.push_str(&format!(
        "MTTD:    {} (fault injected -> ALARM)\n",
        seconds(report.mttd_s)
    ));
    out.push_str(&format!(
        "MTTR:    {} (fix applied -> OK)\n",
        seconds(report.mttr_s)
    ));
    out.push_str(&format!("total:   {:.1} s\n", report.total_s));
    out.push_str(&format!(
        "traffic: break {} sent / {} 5xx; validate {} sent / {} ok\n",
        report.break_traffic.sent,
        report.break_traffic.failed,
        report.recovery_traffic.sent,
        report.recovery_traffic.ok
    ));
    out.push_str(&format!(
        "restore: {}\n",
        if report.restored_exactly {
            "prior variables restored exactly"
        } else {
            "NOT VERIFIED"
        }
    ));
    let outcome = match report.outcome {
        DrillOutcome::Passed => "PASSED".to_owned(),
        DrillOutcome::Failed => format!("FAILED: {}", report.failure.as_deref().unwrap_or("")),
        DrillOutcome::Interrupted => format!("INTERRUPTED: {}", report.failure.as_deref().unwrap_or("")),
        DrillOutcome::RestoreFailed => format!("RESTORE FAILED: {}", report.failure.as_deref().unwrap_or("")),
    };
    out.push_str(&format!("result:  {outcome}\n"));
    out
}

/// One JUnit case per step that ran, and one for the whole drill.
pub fn drill_junit(report: &DrillReport) -> junit::Suite {
    let classname = format!("smoke.drill.{}", report.plan.stage);
    let mut cases = Vec::new();
    for step in [
        Step::Baseline,
        Step::Break,
        Step::Detect,
        Step::Fix,
        Step::Validate,
    ] {
        let started = report.events.iter().find_map(|e| match &e.kind {
            DrillEventKind::StepStarted { step: s } if *s == step => Some(e.elapsed_s),
            _ => None,
        });
        let Some(started) = started else { continue };
        let finished = report.events.iter().find_map(|e| match &e.kind {
            DrillEventKind::StepFinished {
                step: s,
                passed,
                detail,
            } if *s == step => Some((e.elapsed_s, *passed, detail.clone())),
            _ => None,
        });
        let (time_s, failure, output) = match finished {
            Some((at, true, detail)) => (at - started, None, Some(detail)),
            Some((at, false, detail)) => (at - started, Some(detail), None),
            None => (report.total_s - started, Some("did not finish".to_owned()), None),
        };
        cases.push(junit::Case {
            name: step.as_str().to_owned(),
            classname: classname.clone(),
            time_s,
            failure,
            output,
        });
    }
    cases.push(junit::Case {
        name: format!("{} fires and clears", report.plan.alarm.name),
        classname,
        time_s: report.total_s,
        failure: (!report.passed()).then(|| {
            report
                .failure
                .clone()
                .unwrap_or_else(|| format!("{:?}", report.outcome))
        }),
        output: Some(format!(
            "MTTD {} MTTR {}",
            seconds(report.mttd_s),
            seconds(report.mttr_s)
        )),
    });
    junit::Suite {
        name: format!("smoke-test drill {}", report.plan.stage),
        cases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drill::{DrillEvent, DrillPlan, DrillSettings, TrafficCounts};
    use outage_config::Stage;
    use std::path::Path;
    use time::OffsetDateTime;

    fn failed_detection() -> DrillReport {
        let stage = Stage::load_named(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), "dev").unwrap();
        let plan = DrillPlan::new(&stage, &DrillSettings::lab("payment-fixed")).unwrap();
        let ev = |elapsed_s, kind| DrillEvent {
            at: OffsetDateTime::UNIX_EPOCH,
            elapsed_s,
            kind,
        };
        DrillReport {
            plan,
            outcome: DrillOutcome::Failed,
            failure: Some("alarm dev-payment-fixed-fast-errors did not reach ALARM".into()),
            function_name: "dev-payment-fixed".into(),
            started_at: OffsetDateTime::UNIX_EPOCH,
            injected_at: None,
            alarm_at: None,
            restored_at: None,
            ok_at: None,
            mttd_s: None,
            mttr_s: None,
            total_s: 50.0,
            fault_expires_at: None,
            break_traffic: TrafficCounts::default(),
            recovery_traffic: TrafficCounts::default(),
            restored_exactly: true,
            prior_revision_id: None,
            events: vec![
                ev(0.0, DrillEventKind::StepStarted { step: Step::Baseline }),
                ev(
                    0.1,
                    DrillEventKind::StepFinished {
                        step: Step::Baseline,
                        passed: true,
                        detail: "OK".into(),
                    },
                ),
                ev(0.2, DrillEventKind::StepStarted { step: Step::Detect }),
                ev(
                    45.2,
                    DrillEventKind::StepFinished {
                        step: Step::Detect,
                        passed: false,
                        detail: "no ALARM".into(),
                    },
                ),
            ],
        }
    }

    #[test]
    fn a_failed_step_and_the_whole_drill_fail_in_junit() {
        let xml = drill_junit(&failed_detection()).to_xml();
        let doc = roxmltree::Document::parse(&xml).unwrap();
        let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
        let names: Vec<_> = cases.iter().map(|c| c.attribute("name").unwrap()).collect();
        assert_eq!(
            names,
            [
                "baseline",
                "detect",
                "dev-payment-fixed-fast-errors fires and clears"
            ]
        );
        let failed: Vec<_> = cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .map(|c| c.attribute("name").unwrap())
            .collect();
        assert_eq!(
            failed,
            ["detect", "dev-payment-fixed-fast-errors fires and clears"]
        );
        assert_eq!(cases[1].attribute("time"), Some("45.000"));
    }

    #[test]
    fn the_summary_says_what_was_not_measured() {
        let text = drill_summary(&failed_detection());
        assert!(text.contains("MTTD:    - "), "{text}");
        assert!(
            text.contains("result:  FAILED: alarm dev-payment-fixed-fast-errors did not reach ALARM"),
            "{text}"
        );
    }
}
