//! The baseline's verdict: every route answered as its configuration says, the routes the
//! stage file breaks on purpose included (they are known broken, not a drill failure).

use outage_config::{FaultConfig, FaultMode, Stage};
use outage_drill::check::{self, CheckReport};

use super::diagnosis::RouteStats;

pub struct Verdict {
    /// One line per route for the timeline.
    pub lines: Vec<String>,
    /// Empty when the baseline passed.
    pub problems: Vec<String>,
}

/// The fault a function has in the stage file itself (`FAULT_MODE=exception`), if any.
pub fn known_fault(stage: &Stage, key: &str) -> Option<String> {
    match FaultConfig::from_vars(&stage.fault_vars(key)) {
        Ok(f) if f.mode != FaultMode::None => Some(format!("FAULT_MODE={}", f.mode)),
        _ => None,
    }
}

/// Judges the baseline traffic per route against the statuses the stage file implies (the
/// smoke test's expectations), and the route checks.
pub fn judge(stage: &Stage, stats: &[RouteStats], checks: &CheckReport) -> Verdict {
    let expected = check::expectations(stage);
    let mut verdict = Verdict {
        lines: Vec::new(),
        problems: Vec::new(),
    };
    for s in stats {
        let allowed = expected
            .iter()
            .find(|e| e.route == s.route)
            .map(|e| e.statuses.clone())
            .unwrap_or_default();
        let unexpected = s.statuses.keys().any(|c| !allowed.contains(c));
        if unexpected || s.unanswered > 0 || s.requests == 0 {
            verdict
                .problems
                .push(format!("{} answered {}", s.route, s.statuses_text()));
        }
        verdict.lines.push(format!(
            "baseline {}: {}, p50 {:.0} ms, p99 {:.0} ms{}",
            s.route,
            s.statuses_text(),
            s.p50_ms,
            s.p99_ms,
            known_fault(stage, &s.function)
                .map(|m| format!(" (known broken: the stage file sets {m})"))
                .unwrap_or_default()
        ));
    }
    if !checks.passed {
        let failed: Vec<&str> = checks
            .results
            .iter()
            .filter(|r| !r.passed)
            .map(|r| r.expectation.route.as_str())
            .collect();
        verdict
            .problems
            .push(format!("route checks failed: {}", failed.join(", ")));
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn dev_stage() -> Stage {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Stage::load_named(&root, "dev").expect("the committed dev stage loads")
    }

    fn stats(route: &str, function: &str, statuses: &[(u16, u64)], unanswered: u64) -> RouteStats {
        let statuses: BTreeMap<u16, u64> = statuses.iter().copied().collect();
        RouteStats {
            route: route.into(),
            function: function.into(),
            requests: statuses.values().sum::<u64>() + unanswered,
            statuses,
            unanswered,
            p50_ms: 1.0,
            p99_ms: 2.0,
        }
    }

    fn passed_checks() -> CheckReport {
        CheckReport {
            stage: "dev".into(),
            target: "lab".into(),
            base_url: "http://127.0.0.1:1".into(),
            latency_budget_ms: 3000,
            results: Vec::new(),
            passed: true,
        }
    }

    #[test]
    fn the_seeded_broken_route_is_known_broken_and_a_failing_healthy_route_is_a_problem() {
        let stage = dev_stage();
        let seen = [
            stats("GET /auth", "auth", &[(200, 20)], 0),
            stats("GET /pay", "payment", &[(500, 20)], 0),
            stats("GET /pay-fixed", "payment-fixed", &[(200, 19), (502, 1)], 0),
            stats("GET /product", "product", &[(200, 18)], 2),
        ];
        let v = judge(&stage, &seen, &passed_checks());
        assert_eq!(
            v.problems,
            [
                "GET /pay-fixed answered 200 x19, 502 x1",
                "GET /product answered 200 x18, no answer x2"
            ]
        );
        assert!(
            v.lines[1].ends_with("(known broken: the stage file sets FAULT_MODE=exception)"),
            "{}",
            v.lines[1]
        );
        assert!(!v.lines[0].contains("known broken"));
    }

    #[test]
    fn a_route_without_traffic_or_a_failed_check_fails_the_baseline() {
        let stage = dev_stage();
        let v = judge(&stage, &[stats("GET /auth", "auth", &[], 0)], &passed_checks());
        assert_eq!(v.problems, ["GET /auth answered no requests"]);
        let mut checks = passed_checks();
        checks.passed = false;
        let v = judge(&stage, &[stats("GET /auth", "auth", &[(200, 3)], 0)], &checks);
        assert_eq!(v.problems, ["route checks failed: "]);
    }
}
