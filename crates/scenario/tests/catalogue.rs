//! The committed catalogue against the committed stages.

use std::path::{Path, PathBuf};
use std::time::Duration;

use outage_config::{AlarmKind, FaultMode, Stage};
use outage_scenario::{catalogue, load_arg, FixAfter, FixPlan, ReleaseOutcome, Scenario, ScenarioError};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn stage(name: &str) -> Stage {
    Stage::load_named(&root(), name).unwrap_or_else(|e| panic!("{e}"))
}

fn by_name<'a>(all: &'a [Scenario], name: &str) -> &'a Scenario {
    all.iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

fn expected(s: &Scenario) -> Vec<&str> {
    s.expected.iter().map(|e| e.name.as_str()).collect()
}

#[test]
fn every_catalogue_file_loads_against_the_stages_it_runs_on() {
    // The lab drills dev, the weekly workflow staging; prod is never drilled.
    for name in ["dev", "staging"] {
        let all =
            catalogue(&root().join("scenarios"), &stage(name)).unwrap_or_else(|e| panic!("{name}:\n{e}"));
        let names: Vec<&str> = all.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "bad-release",
                "broken-payment-latency",
                "broken-payment-surge",
                "crash-loop",
                "forgotten-fault",
                "good-release",
                "handled-5xx",
                "latency-product",
                "latency-regression",
                "partial-failure",
                "payment-exception",
                "release-check",
                "throttling-auth",
                "throttling-product",
                "throttling",
                "timeouts",
            ],
            "sorted by name"
        );
    }
}

/// prod does not deploy the deliberately broken payment: the scenarios that name it (or its
/// route) are refused with a message naming it, the others load.
#[test]
fn against_prod_only_the_broken_payment_scenarios_are_refused() {
    let prod = stage("prod");
    let dir = root().join("scenarios");
    let mut refused = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") {
            continue;
        }
        if let Err(e) = load_arg(path.to_str().unwrap(), &root(), &prod) {
            assert!(e.to_string().contains("payment"), "{e}");
            refused.push(path.file_stem().unwrap().to_str().unwrap().to_owned());
        }
    }
    refused.sort();
    assert_eq!(
        refused,
        [
            "broken-payment-latency",
            "broken-payment-surge",
            "payment-exception"
        ]
    );
}

#[test]
fn every_alarm_kind_is_expected_by_some_scenario() {
    let all = catalogue(&root().join("scenarios"), &stage("dev")).unwrap();
    for kind in AlarmKind::ALL {
        assert!(
            all.iter().any(|s| s.expected.iter().any(|e| e.kind == kind)),
            "no scenario expects {kind}"
        );
    }
}

#[test]
fn the_default_drill_is_todays_drill() {
    let dev = stage("dev");
    let s = load_arg("payment-exception", &root(), &dev).unwrap();
    assert_eq!(s.function, "payment-fixed");
    assert_eq!(s.function_name, "dev-payment-fixed");
    let fault = s.fault.as_ref().unwrap();
    assert_eq!(fault.mode(), FaultMode::Exception);
    assert_eq!(fault.vars["FAULT_MODE"], "exception");
    assert!(!fault.vars.contains_key("FAULT_EXPIRES_AT"));
    assert_eq!(fault.expires_after, None);
    assert_eq!(expected(&s), ["dev-payment-fixed-fast-errors"]);
    // The budgets come from the alarm's maths and the target's metric delay, not the file.
    assert_eq!(s.expected[0].within, None);
    assert_eq!(s.expected[0].recover_within, None);
    assert_eq!(
        s.fix,
        FixPlan::Restore {
            after: FixAfter::FirstAlarm
        }
    );
    // Every route, GET /pay included, as the drill always did.
    assert_eq!(s.traffic.routes.len(), dev.routes.len());
    assert_eq!(s.traffic.interval, Duration::from_millis(250));
    assert_eq!(
        s.ignored,
        [
            "dev-payment-fixed-errors",
            "dev-payment-fast-errors",
            "dev-payment-errors",
            "dev-api-5xx"
        ]
    );
    // Quiet = the 17 alarms of the stage minus 2 expected minus 3 ignored.
    assert_eq!(s.quiet.len(), dev.alarm_definitions("").len() - 5);
    assert!(s.quiet.contains(&"dev-payment-fixed-duration-p99".to_owned()));
    assert!(!s
        .quiet
        .iter()
        .any(|q| expected(&s).contains(&q.as_str()) || s.ignored.contains(q)));
    assert_eq!(s.blast_radius, ["GET /pay-fixed", "GET /pay"]);
    assert_eq!(s.max_duration, Duration::from_secs(300));
}

#[test]
fn scenarios_other_than_the_default_drill_keep_get_pay_quiet_and_judged() {
    let all = catalogue(&root().join("scenarios"), &stage("dev")).unwrap();
    for s in all
        .iter()
        .filter(|s| s.name != "payment-exception" && s.function != "payment")
    {
        assert!(!s.traffic.routes.iter().any(|r| r == "GET /pay"), "{}", s.name);
        assert!(
            s.quiet.contains(&"dev-payment-fast-errors".to_owned()),
            "{}",
            s.name
        );
        assert!(s.ignored.is_empty(), "{}", s.name);
        assert_eq!(s.blast_radius, s.function_routes, "{}", s.name);
    }
}

#[test]
fn each_scenario_expects_what_its_incident_fires() {
    let all = catalogue(&root().join("scenarios"), &stage("dev")).unwrap();
    let cases: [(&str, &[&str]); 16] = [
        (
            "partial-failure",
            &["dev-auth-fast-errors", "dev-auth-errors", "dev-api-5xx"],
        ),
        ("crash-loop", &["dev-product-errors", "dev-api-5xx"]),
        (
            "timeouts",
            &[
                "dev-payment-fixed-errors",
                "dev-api-5xx",
                "dev-payment-fixed-duration-p99",
            ],
        ),
        ("latency-regression", &["dev-auth-duration-p99"]),
        ("latency-product", &["dev-product-duration-p99"]),
        ("handled-5xx", &["dev-api-5xx"]),
        ("throttling", &["dev-payment-fixed-throttles", "dev-api-5xx"]),
        ("throttling-auth", &["dev-auth-throttles", "dev-api-5xx"]),
        ("throttling-product", &["dev-product-throttles", "dev-api-5xx"]),
        (
            "forgotten-fault",
            &["dev-product-fast-errors", "dev-product-errors", "dev-api-5xx"],
        ),
        ("payment-exception", &["dev-payment-fixed-fast-errors"]),
        (
            "broken-payment-surge",
            // Not api-5xx: it leaves out GET /pay, broken on purpose, and must stay quiet.
            &[
                "dev-payment-throttles",
                "dev-payment-fast-errors",
                "dev-payment-errors",
            ],
        ),
        ("broken-payment-latency", &["dev-payment-duration-p99"]),
        (
            "bad-release",
            &[
                "dev-payment-fixed-fast-errors",
                "dev-payment-fixed-errors",
                "dev-api-5xx",
            ],
        ),
        ("good-release", &[]),
        (
            "release-check",
            &["dev-payment-fixed-fast-errors", "dev-payment-fixed-errors"],
        ),
    ];
    // Together they make every alarm of the stage fire.
    let covered: std::collections::BTreeSet<&str> =
        cases.iter().flat_map(|(_, a)| a.iter().copied()).collect();
    for alarm in stage("dev").alarm_definitions("") {
        assert!(
            covered.contains(alarm.name.as_str()),
            "no scenario expects {}",
            alarm.name
        );
    }
    for (name, alarms) in cases {
        assert_eq!(expected(by_name(&all, name)), alarms, "{name}");
    }
    let partial = by_name(&all, "partial-failure").fault.as_ref().unwrap();
    assert_eq!(partial.vars["FAULT_RATE"], "0.2");
    let latency = by_name(&all, "latency-regression").fault.as_ref().unwrap();
    assert_eq!(latency.mode(), FaultMode::Latency { ms: 1500 });
    assert_eq!(latency.vars["FAULT_LATENCY_MS"], "1500");
    let status = by_name(&all, "handled-5xx").fault.as_ref().unwrap();
    assert_eq!(status.vars["FAULT_STATUS"], "503");

    let throttling = by_name(&all, "throttling");
    assert!(throttling.fault.is_none());
    assert_eq!(
        throttling.configuration.as_ref().unwrap().reserved_concurrency,
        Some(1)
    );
    let surge = throttling.surge.as_ref().unwrap();
    assert_eq!(
        (surge.concurrency, surge.interval),
        (8, Duration::from_millis(200))
    );
    assert_eq!(surge.routes, ["GET /pay-fixed"]);

    for (name, outcome, check) in [
        ("bad-release", ReleaseOutcome::RolledBack, false),
        ("good-release", ReleaseOutcome::Promoted, true),
        ("release-check", ReleaseOutcome::Refused, true),
    ] {
        let s = by_name(&all, name);
        let release = s.release.as_ref().unwrap();
        assert_eq!(
            (release.outcome, release.check, s.fix),
            (outcome, check, FixPlan::Release),
            "{name}"
        );
    }
    assert_eq!(
        by_name(&all, "bad-release")
            .release
            .as_ref()
            .unwrap()
            .routing
            .to_string(),
        "canary:10%:5m"
    );

    let forgotten = by_name(&all, "forgotten-fault");
    assert_eq!(forgotten.fix, FixPlan::None);
    assert_eq!(
        forgotten.fault.as_ref().unwrap().expires_after,
        Some(Duration::from_secs(30))
    );
}

#[test]
fn a_name_is_looked_up_in_the_catalogue_and_a_path_is_taken_as_it_is() {
    let dev = stage("dev");
    let by_path = load_arg(
        root().join("scenarios/handled-5xx.toml").to_str().unwrap(),
        &root(),
        &dev,
    )
    .unwrap();
    assert_eq!(by_path.name, "handled-5xx");
    let e = load_arg("payment-exceptoin", &root(), &dev).unwrap_err();
    assert!(matches!(e, ScenarioError::Unknown { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.starts_with("unknown scenario \"payment-exceptoin\": "),
        "{text}"
    );
    assert!(text.ends_with("scenarios has bad-release, broken-payment-latency, broken-payment-surge, crash-loop, forgotten-fault, good-release, handled-5xx, latency-product, latency-regression, partial-failure, payment-exception, release-check, throttling-auth, throttling-product, throttling, timeouts"), "{text}");
    let e = load_arg("no/such/file.toml", &root(), &dev).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot read scenario no/such/file.toml: "),
        "{e}"
    );
}
