//! `outage-lab drill` end to end: the default scenario on a lab of its own (a temporary copy of
//! the dev stage and the catalogue), the real function binaries, a real fault, the real alarms,
//! the reports on disk; and bad scenarios refused before anything starts.

mod common;

use std::process::Command;

use serde_json::Value;

fn outage_lab() -> Command {
    Command::new(env!("CARGO_BIN_EXE_outage-lab"))
}

fn route<'a>(radius: &'a Value, route: &str) -> &'a Value {
    radius
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["route"] == route)
        .unwrap_or_else(|| panic!("{route} is not in the blast radius: {radius}"))
}

#[test]
fn the_default_drill_runs_the_default_scenario_and_writes_both_reports() {
    let root = common::stage_root(|_| {});
    let report = root.path().join("report");
    let out = outage_lab()
        .args(["drill", "--stage", "dev", "--json", "--root"])
        .arg(root.path())
        .arg("--bin-dir")
        .arg(common::bin_dir())
        .arg("--report-dir")
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "drill failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stderr.contains("dashboard: http://127.0.0.1:"), "{stderr}");

    // stdout is the contract's JSON document and nothing else.
    let result: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"));
    assert_eq!(result["passed"], true);
    let scenario = &result["scenarios"][0];
    assert_eq!(scenario["name"], "payment-exception");
    assert_eq!(
        scenario["cells"]["dev-payment-fixed-fast-errors"], "fired",
        "{scenario}"
    );
    assert!(
        scenario["cells"].get("dev-payment-fixed-errors").is_none(),
        "the one-minute backstop is not judged by the default drill: {scenario}"
    );
    assert_eq!(scenario["cells"]["dev-auth-fast-errors"], "quiet", "{scenario}");
    assert!(
        scenario["cells"].get("dev-api-5xx").is_none(),
        "ignored: /pay fails on purpose"
    );
    let mttd = scenario["mttd_s"].as_f64().unwrap();
    let mttr = scenario["mttr_s"].as_f64().unwrap();
    assert!(
        mttd > 0.0 && mttd <= scenario["mttd_budget_s"].as_f64().unwrap(),
        "{scenario}"
    );
    assert!(
        mttr > 0.0 && mttr <= scenario["mttr_budget_s"].as_f64().unwrap(),
        "{scenario}"
    );
    assert!(scenario["failed_requests"].as_u64().unwrap() > 0);

    for f in ["index.html", "index.md", "catalogue.json"] {
        assert!(report.join(f).is_file(), "{f} missing in {}", report.display());
    }
    let dir = report.join("payment-exception");
    for f in [
        "report.md",
        "report.html",
        "incident.json",
        "run.json",
        "errors.svg",
        "alarm-state.svg",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing in {}", dir.display());
    }
    let run: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["outcome"], "passed");
    assert_eq!(
        run["restored_exactly"], true,
        "the exact prior configuration is back"
    );

    let incident: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("incident.json")).unwrap()).unwrap();
    let steps: Vec<&str> = incident["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        ["baseline", "break", "detect", "diagnose", "fix", "validate"]
    );
    let diagnosis = &incident["diagnosis"];
    assert_eq!(
        diagnosis["error_message"],
        "Drill: injected exception fault in payment-fixed"
    );
    assert!(!diagnosis["failing_request_ids"].as_array().unwrap().is_empty());
    let excerpt = diagnosis["log_excerpt"].to_string();
    assert!(excerpt.contains("/aws/lambda/dev-payment-fixed"), "{excerpt}");
    let radius = &incident["blast_radius"];
    for healthy in ["GET /auth", "GET /product"] {
        assert_eq!(route(radius, healthy)["degraded"], false);
    }
    assert_eq!(route(radius, "GET /pay-fixed")["degraded"], true);
    // The lesson of the scenario is in the write-up.
    assert!(
        incident["postmortem"]["summary"]
            .as_str()
            .unwrap()
            .contains("What to learn"),
        "{}",
        incident["postmortem"]
    );
}

#[test]
fn a_scenario_whose_alarm_cannot_see_the_fault_is_refused_with_exit_2() {
    let root = common::stage_root(|_| {});
    let bad = root.path().join("scenarios/bad.toml");
    let text = std::fs::read_to_string(root.path().join("scenarios/payment-exception.toml"))
        .unwrap()
        .replace("mode = \"exception\"", "mode = \"panic\"");
    std::fs::write(&bad, text).unwrap();
    let out = outage_lab()
        .args(["drill", "--stage", "dev", "--scenario"])
        .arg(&bad)
        .arg("--root")
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("expect[0].alarm"),
        "{stderr}"
    );
    assert!(!root.path().join(".outage-lab").exists(), "nothing was started");
    assert!(out.stdout.is_empty());
}

#[test]
fn an_unknown_scenario_is_refused_with_exit_2_naming_the_known_ones() {
    let root = common::stage_root(|_| {});
    let out = outage_lab()
        .args(["drill", "--stage", "dev", "--scenario", "nope", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("nope") && stderr.contains("payment-exception"),
        "{stderr}"
    );
    assert!(!root.path().join(".outage-lab").exists());
}
