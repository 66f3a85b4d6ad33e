//! Bad scenario files: each refused with the file and the field named, before anything runs.

use std::path::{Path, PathBuf};

use outage_config::Stage;
use outage_scenario::{catalogue, Scenario, ScenarioError};

const GOOD: &str = r#"#:schema ./scenario.schema.json
title = "Exception in payment-fixed"
lesson = "One. Two."
runbook = "docs/runbooks/fast-errors.md"
function = "payment-fixed"

[fault]
mode = "exception"

[traffic]
routes = ["GET /auth", "GET /pay-fixed"]

[[expect]]
alarm = "fast-errors"
within_s = 20
"#;

fn dev() -> Stage {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    Stage::load_named(&root, "dev").unwrap()
}

fn parse(text: &str) -> Result<Scenario, ScenarioError> {
    Scenario::parse(text, Path::new("scenarios/x.toml"), &dev())
}

/// `GOOD` with `from` replaced by `to` (which must occur).
fn edit(from: &str, to: &str) -> String {
    assert!(GOOD.contains(from), "{from:?} not in the good file");
    GOOD.replacen(from, to, 1)
}

#[test]
fn the_good_file_loads() {
    let s = parse(GOOD).unwrap();
    assert_eq!(s.name, "x");
    assert_eq!(s.quiet.len(), 16);
}

#[test]
fn bad_files_name_the_file_and_the_field() {
    let panic_fault = edit("mode = \"exception\"", "mode = \"panic\"");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "unknown field",
            edit("mode = \"exception\"", "mode = \"exception\"\nrat = 0.2"),
            "fault.rat",
        ),
        (
            "unknown top-level field",
            edit("function =", "owner = \"me\"\nfunction ="),
            "owner",
        ),
        ("missing lesson", edit("lesson = \"One. Two.\"\n", ""), "lesson"),
        (
            "missing expect alarm",
            edit("alarm = \"fast-errors\"\n", ""),
            "expect[0].alarm",
        ),
        (
            "unknown function",
            edit("function = \"payment-fixed\"", "function = \"billing\""),
            "function",
        ),
        (
            "unknown alarm",
            edit("alarm = \"fast-errors\"", "alarm = \"slow\""),
            "expect[0].alarm",
        ),
        (
            "zero budget",
            edit("within_s = 20", "within_s = 0"),
            "expect[0].within_s",
        ),
        (
            "zero run budget",
            format!("{GOOD}\n[stop]\nmax_duration_s = 0\n"),
            "stop.max_duration_s",
        ),
        ("panic with fast-errors", panic_fault.clone(), "expect[0].alarm"),
        (
            "throttles with only a fault",
            edit("alarm = \"fast-errors\"", "alarm = \"throttles\""),
            "expect[0].alarm",
        ),
        (
            "fix none without expiry",
            edit(
                "function = \"payment-fixed\"",
                "function = \"payment-fixed\"\nfix = \"none\"",
            ),
            "fix",
        ),
        (
            "latency without latency_ms",
            edit("mode = \"exception\"", "mode = \"latency\""),
            "fault.latency_ms",
        ),
        (
            "status for another mode",
            edit("mode = \"exception\"", "mode = \"exception\"\nstatus = 503"),
            "fault.status",
        ),
        (
            "rate 1.5",
            edit("mode = \"exception\"", "mode = \"exception\"\nrate = 1.5"),
            "fault.rate",
        ),
        (
            "rate 0",
            edit("mode = \"exception\"", "mode = \"exception\"\nrate = 0.0"),
            "fault.rate",
        ),
        (
            "unknown route",
            edit("\"GET /auth\"", "\"GET /login\""),
            "traffic.routes[0]",
        ),
        (
            "no incident",
            edit("[fault]\nmode = \"exception\"\n", ""),
            "fault",
        ),
        (
            "no hypothesis",
            edit("[[expect]]\nalarm = \"fast-errors\"\nwithin_s = 20\n", ""),
            "expect",
        ),
        (
            "api-5xx with a function",
            edit(
                "within_s = 20",
                "within_s = 20\n\n[[expect]]\nalarm = \"api-5xx\"\nfunction = \"auth\"",
            ),
            "expect[1].function",
        ),
        (
            "an alarm of a function the incident does not touch",
            edit(
                "within_s = 20",
                "within_s = 20\n\n[[expect]]\nalarm = \"errors\"\nfunction = \"auth\"",
            ),
            "expect[1].function",
        ),
        (
            "api-5xx with a 4xx status",
            edit("mode = \"exception\"", "mode = \"status\"\nstatus = 418").replace("fast-errors", "api-5xx"),
            "expect[0].alarm",
        ),
        (
            "duration-p99 below the threshold",
            edit("mode = \"exception\"", "mode = \"latency\"\nlatency_ms = 500")
                .replace("fast-errors", "duration-p99"),
            "expect[0].alarm",
        ),
        (
            "ignore an unknown function",
            format!("{GOOD}\n[quiet]\nignore = [{{ alarm = \"errors\", function = \"billing\" }}]\n"),
            "quiet.ignore[0].function",
        ),
        (
            "ignore an expected alarm",
            format!("{GOOD}\n[quiet]\nignore = [{{ alarm = \"fast-errors\" }}]\n"),
            "quiet.ignore[0]",
        ),
        (
            "blast radius without the function's route",
            format!("{GOOD}\n[stop]\nblast_radius = [\"GET /auth\"]\n"),
            "stop.blast_radius",
        ),
        (
            "surge above the API throttle",
            format!("{GOOD}\n[surge]\nconcurrency = 16\nevery_ms = 100\n"),
            "surge",
        ),
        (
            "throttles with a surge that fits",
            edit("alarm = \"fast-errors\"", "alarm = \"throttles\"")
                + "\n[surge]\nconcurrency = 4\nevery_ms = 200\n",
            "expect[0].alarm",
        ),
        (
            "first-alarm with a slow threshold-5 alarm",
            edit(
                "function = \"payment-fixed\"",
                "function = \"payment-fixed\"\nfix_after = \"first-alarm\"",
            ) + "\n[[expect]]\nalarm = \"api-5xx\"\n",
            "expect[1].alarm",
        ),
        (
            "no traffic to the function",
            edit(
                "routes = [\"GET /auth\", \"GET /pay-fixed\"]",
                "routes = [\"GET /auth\"]",
            ),
            "expect[0].alarm",
        ),
        (
            "too few failures for api-5xx",
            edit("mode = \"exception\"", "mode = \"exception\"\nrate = 0.01")
                .replace("fast-errors", "api-5xx"),
            "expect[0].alarm",
        ),
        (
            "configuration that changes nothing",
            format!("{GOOD}\n[configuration]\nreserved_concurrency = 10\n"),
            "configuration.reserved_concurrency",
        ),
    ];
    let mut failures = Vec::new();
    for (what, text, field) in &cases {
        match parse(text) {
            Ok(_) => failures.push(format!("{what}: accepted")),
            Err(e) => {
                let shown = e.to_string();
                if e.field() != Some(*field)
                    || !shown.starts_with(&format!("scenario scenarios/x.toml: field `{field}`: "))
                {
                    failures.push(format!("{what}: expected field `{field}`, got: {shown}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn messages_say_what_to_do() {
    let panic_fault = edit("mode = \"exception\"", "mode = \"panic\"");
    assert_eq!(
        parse(&panic_fault).unwrap_err().to_string(),
        "scenario scenarios/x.toml: field `expect[0].alarm`: fast-errors cannot see fault mode panic \
         (a crash ends the invocation before the handler reports a fault); expect one of `errors`, `api-5xx` instead"
    );
    assert_eq!(
        parse(&edit("mode = \"exception\"", "mode = \"exception\"\nrate = 1.5")).unwrap_err().to_string(),
        "scenario scenarios/x.toml: field `fault.rate`: FAULT_RATE=\"1.5\" is invalid: expected a number from 0.0 to 1.0"
    );
    let throttles = parse(&edit("alarm = \"fast-errors\"", "alarm = \"throttles\""))
        .unwrap_err()
        .to_string();
    assert!(throttles.contains("add [surge]"), "{throttles}");
    let unknown = parse(&edit("function = \"payment-fixed\"", "function = \"billing\""))
        .unwrap_err()
        .to_string();
    assert_eq!(
        unknown,
        "scenario scenarios/x.toml: field `function`: unknown function \"billing\": the stage dev has auth, payment, payment-fixed, product"
    );
    let status =
        edit("mode = \"exception\"", "mode = \"status\"\nstatus = 418").replace("fast-errors", "api-5xx");
    let status = parse(&status).unwrap_err().to_string();
    assert!(
        status.ends_with(
            "api-5xx cannot see fault mode status 418 (only answers of 500 and above count in 5xx)"
        ),
        "{status}"
    );
    assert!(parse(&edit("lesson = \"One. Two.\"\n", ""))
        .unwrap_err()
        .to_string()
        .ends_with("field `lesson`: is required"));
    let alarm = parse(&edit("alarm = \"fast-errors\"", "alarm = \"slow\""))
        .unwrap_err()
        .to_string();
    assert!(
        alarm.contains("unknown variant `slow`") && alarm.contains("fast-errors"),
        "{alarm}"
    );
    let field = parse(&edit("mode = \"exception\"", "mode = \"exception\"\nrat = 0.2"))
        .unwrap_err()
        .to_string();
    assert!(
        field.contains("unknown field `rat`") && field.contains("`rate`"),
        "{field}"
    );
}

#[test]
fn malformed_toml_names_the_file_and_the_place() {
    let e = parse(&edit(
        "title = \"Exception in payment-fixed\"",
        "title = \"Exception",
    ))
    .unwrap_err();
    match &e {
        ScenarioError::Syntax { path, line, .. } => {
            assert_eq!(path, &PathBuf::from("scenarios/x.toml"));
            assert_eq!(*line, 2, "{e}");
        }
        other => panic!("expected a syntax error, got {other}"),
    }
    assert!(
        e.to_string()
            .starts_with("scenario scenarios/x.toml: line 2, column "),
        "{e}"
    );
}

#[test]
fn a_file_name_that_is_not_a_scenario_name_is_refused() {
    let e = Scenario::parse(GOOD, Path::new("scenarios/My Scenario.toml"), &dev()).unwrap_err();
    assert_eq!(e.field(), Some("(file name)"), "{e}");
}

#[test]
fn a_catalogue_reports_every_bad_file_and_loads_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a-good.toml"), GOOD).unwrap();
    std::fs::write(
        dir.path().join("b-bad.toml"),
        edit("function = \"payment-fixed\"", "function = \"billing\""),
    )
    .unwrap();
    std::fs::write(dir.path().join("c-bad.toml"), "title = ").unwrap();
    std::fs::write(dir.path().join("notes.md"), "not a scenario").unwrap();
    let e = catalogue(dir.path(), &dev()).unwrap_err();
    assert_eq!(e.errors.len(), 2, "{e}");
    let text = e.to_string();
    assert!(text.contains("b-bad.toml: field `function`"), "{text}");
    assert!(text.contains("c-bad.toml: line 1"), "{text}");
    std::fs::remove_file(dir.path().join("b-bad.toml")).unwrap();
    std::fs::remove_file(dir.path().join("c-bad.toml")).unwrap();
    let good = catalogue(dir.path(), &dev()).unwrap();
    assert_eq!(good.len(), 1);
    assert_eq!(good[0].name, "a-good");
}

/// `GOOD` as a canary release of the broken build.
fn release(section: &str) -> String {
    GOOD.replacen("[traffic]", &format!("[release]\n{section}\n\n[traffic]"), 1)
}

#[test]
fn a_release_loads_with_the_stage_strategy_by_default() {
    let s = parse(&release("outcome = \"rolled-back\"\ncheck = false")).unwrap();
    let r = s.release.as_ref().unwrap();
    assert_eq!(r.routing, dev().release.strategy);
    assert!((r.first_weight() - 0.1).abs() < 1e-9);
    assert_eq!(s.fix, outage_scenario::FixPlan::Release);
    let promoted = parse(
        &GOOD
            .replacen("[fault]\nmode = \"exception\"\n", "", 1)
            .replacen("[[expect]]\nalarm = \"fast-errors\"\nwithin_s = 20\n", "", 1)
            .replacen(
                "[traffic]",
                "[release]\noutcome = \"promoted\"\nset = { NOTE = \"v2\" }\n\n[traffic]",
                1,
            ),
    )
    .unwrap();
    assert!(promoted.expected.is_empty());
    assert_eq!(
        promoted.quiet.len(),
        17,
        "every alarm of the stage is judged quiet"
    );
}

#[test]
fn bad_releases_name_the_field() {
    let no_fault = |section: &str| {
        GOOD.replacen("[fault]\nmode = \"exception\"\n", "", 1)
            .replacen("[[expect]]\nalarm = \"fast-errors\"\nwithin_s = 20\n", "", 1)
            .replacen("[traffic]", &format!("[release]\n{section}\n\n[traffic]"), 1)
    };
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "unknown strategy",
            release("outcome = \"rolled-back\"\nstrategy = \"sideways\""),
            "release.strategy",
            "unknown release strategy",
        ),
        (
            "canary of 100 %",
            release("outcome = \"rolled-back\"\nstrategy = \"canary:100%:1m\""),
            "release.strategy",
            "1 to 99",
        ),
        ("missing outcome", release("check = false"), "release.outcome", "is required"),
        (
            "unknown outcome",
            release("outcome = \"sideways\""),
            "release.outcome",
            "unknown variant",
        ),
        (
            "share above 1",
            release("outcome = \"rolled-back\"\nmax_failed_share = 1.5"),
            "release.max_failed_share",
            "give 0 to 1",
        ),
        (
            "a fault variable in set",
            release("outcome = \"rolled-back\"\nset = { FAULT_MODE = \"panic\" }"),
            "release.set.FAULT_MODE",
            "[fault]",
        ),
        (
            "a bad variable name",
            release("outcome = \"rolled-back\"\nset = { \"9LIVES\" = \"x\" }"),
            "release.set.9LIVES",
            "start with a letter",
        ),
        (
            "fix_after with a release",
            release("outcome = \"rolled-back\"").replacen("function =", "fix_after = \"first-alarm\"\nfunction =", 1),
            "fix_after",
            "the release ends the incident itself",
        ),
        (
            "configuration with a release",
            release("outcome = \"rolled-back\"").replacen("[traffic]", "[configuration]\nreserved_concurrency = 2\n\n[traffic]", 1),
            "configuration",
            "belongs to the function",
        ),
        (
            "rolled back without a fault",
            no_fault("outcome = \"rolled-back\"").replacen("[traffic]", "[[expect]]\nalarm = \"fast-errors\"\n\n[traffic]", 1),
            "release.outcome",
            "give [fault]",
        ),
        (
            "promoted with a fault",
            release("outcome = \"promoted\"").replacen("[[expect]]\nalarm = \"fast-errors\"\nwithin_s = 20\n", "", 1),
            "fault",
            "carries no fault",
        ),
        (
            "promoted with an expectation",
            no_fault("outcome = \"promoted\"\nset = { NOTE = \"v2\" }").replacen("[traffic]", "[[expect]]\nalarm = \"fast-errors\"\n\n[traffic]", 1),
            "expect",
            "pages no one",
        ),
        ("promoted with no change", no_fault("outcome = \"promoted\""), "release.set", "needs a change"),
        (
            "refused without the check",
            release("outcome = \"refused\"\ncheck = false").replacen("[[expect]]\nalarm = \"fast-errors\"\nwithin_s = 20\n", "", 1),
            "release.check",
            "cannot be false",
        ),
        (
            "rolled back with no expectation",
            release("outcome = \"rolled-back\"").replacen("[[expect]]\nalarm = \"fast-errors\"\nwithin_s = 20\n", "", 1),
            "expect",
            "the hypothesis is missing",
        ),
        (
            "a promotion longer than the run",
            no_fault("outcome = \"promoted\"\nset = { NOTE = \"v2\" }\nstrategy = \"CodeDeployDefault.LambdaCanary10Percent5Minutes\""),
            "stop.max_duration_s",
            "takes 300 s",
        ),
        (
            "a release of the function broken on purpose",
            release("outcome = \"rolled-back\"")
                .replacen("function = \"payment-fixed\"", "function = \"payment\"", 1)
                .replacen("routes = [\"GET /auth\", \"GET /pay-fixed\"]", "routes = [\"GET /auth\", \"GET /pay\"]", 1),
            "function",
            "no alarm gate",
        ),
    ];
    let mut failures = Vec::new();
    for (what, text, field, words) in &cases {
        match parse(text) {
            Ok(_) => failures.push(format!("{what}: loaded")),
            Err(e) => {
                let shown = e.to_string();
                if !shown.contains(&format!("field `{field}`")) || !shown.contains(words) {
                    failures.push(format!(
                        "{what}: expected field `{field}` and {words:?}, got: {shown}"
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
