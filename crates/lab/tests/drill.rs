//! `outage-lab drill` end to end: a lab of its own on a temporary copy of the dev stage, the
//! real function binaries, a real fault, the real alarm, the report on disk.

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
fn drill_breaks_detects_diagnoses_fixes_and_validates() {
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
    for f in [
        "report.md",
        "report.html",
        "incident.json",
        "drill.json",
        "errors.svg",
        "alarm-state.svg",
    ] {
        assert!(report.join(f).is_file(), "{f} missing in {}", report.display());
    }

    let incident: Value =
        serde_json::from_str(&std::fs::read_to_string(report.join("incident.json")).unwrap()).unwrap();
    let outcome = &incident["outcome"];
    assert!(outcome["mttd"]["seconds"].as_f64().unwrap() > 0.0, "{outcome}");
    assert!(outcome["mttr"]["seconds"].as_f64().unwrap() > 0.0, "{outcome}");
    assert_eq!(outcome["steps_passed"], true, "{}", incident["steps"]);
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

    // The drilled alarm went to ALARM after the injection, then back to OK after the fix.
    let track = incident["alarms"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "dev-payment-fixed-fast-errors")
        .expect("the drilled alarm is charted");
    let states: Vec<&str> = track["transitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["state"].as_str().unwrap())
        .collect();
    let alarm = states.iter().position(|s| *s == "ALARM").expect("went to ALARM");
    assert!(
        states[alarm..].contains(&"OK"),
        "back to OK after ALARM: {states:?}"
    );

    // The diagnosis: the injected fault's message is the root cause of the drilled route, and
    // the original scenario's message is found in /pay's logs.
    let diagnosis = &incident["diagnosis"];
    assert_eq!(
        diagnosis["error_message"],
        "Drill: injected exception fault in dev-payment-fixed"
    );
    assert!(!diagnosis["failing_request_ids"].as_array().unwrap().is_empty());
    assert!(diagnosis["first_failure_at"].is_string());
    let excerpt = diagnosis["log_excerpt"].to_string();
    assert!(excerpt.contains("Simulated payment service failure"), "{excerpt}");
    assert!(excerpt.contains("/aws/lambda/dev-payment-fixed"), "{excerpt}");

    let radius = &incident["blast_radius"];
    for healthy in ["GET /auth", "GET /product"] {
        let r = route(radius, healthy);
        assert_eq!(r["degraded"], false, "{r}");
        assert!(r["requests"].as_u64().unwrap() > 0, "{r}");
    }
    for degraded in ["GET /pay", "GET /pay-fixed"] {
        assert_eq!(route(radius, degraded)["degraded"], true);
    }

    // After the drill: no fault left, both notifications seen, the summary agrees.
    let summary: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("stdout is not the JSON summary ({e}):\n{stdout}"));
    assert_eq!(summary["passed"], true);
    assert_eq!(summary["fault_left"], Value::Null);
    assert!(summary["alarm_notified_at"].is_string(), "{summary}");
    assert!(summary["ok_notified_at"].is_string(), "{summary}");
    let diagnosed: Vec<&str> = summary["diagnoses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["error_message"].as_str().unwrap())
        .collect();
    assert!(
        diagnosed.contains(&"Simulated payment service failure"),
        "{diagnosed:?}"
    );
    let events = incident["events"].to_string();
    assert!(
        events.contains("prior configuration of dev-payment-fixed restored"),
        "{events}"
    );
}

#[test]
fn drill_of_an_unknown_function_is_refused_before_anything_starts() {
    let root = common::stage_root(|_| {});
    let out = outage_lab()
        .args(["drill", "--stage", "dev", "--function", "nope", "--root"])
        .arg(root.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("\"nope\" is not in stage dev"), "{stderr}");
    assert!(!root.path().join(".outage-lab").exists(), "nothing was created");
}
