//! The `outage-lab` command line, run as a process with a cleared environment.

mod common;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::json;

fn outage_lab() -> Command {
    let mut cmd = Command::cargo_bin("outage-lab").unwrap();
    cmd.env_clear();
    cmd
}

/// What a command against the lab of the project at `root` prints, which must succeed.
fn stdout_of(root: &std::path::Path, args: &[&str]) -> String {
    let out = outage_lab()
        .args(args)
        .arg("--root")
        .arg(root)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    String::from_utf8(out).unwrap()
}

#[test]
fn alarm_eval_prints_one_line_per_case() {
    let cases = json!([
        { "id": "breach", "period": 60, "evaluation_periods": 1, "datapoints_to_alarm": 1, "threshold": 1.0,
          "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "missing", "datapoints": [null, null, 3.0] },
        { "id": "quiet", "period": 60, "evaluation_periods": 1, "datapoints_to_alarm": 1, "threshold": 1.0,
          "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "missing", "datapoints": [null, null, null] }
    ]);
    let out = outage_lab()
        .arg("alarm-eval")
        .write_stdin(cases.to_string())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(
        (lines[0]["id"].as_str(), lines[0]["state"].as_str()),
        (Some("breach"), Some("ALARM"))
    );
    assert!(lines[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("Threshold Crossed: 1 datapoint [3.0 ("));
    assert_eq!(
        (lines[1]["id"].as_str(), lines[1]["state"].as_str()),
        (Some("quiet"), Some("INSUFFICIENT_DATA"))
    );
}

/// The committed example report's drill, replayed: the stage's 10 s window fires within a
/// period, misses data 40 s late (beyond its 30 s evaluation range), a 30 s window does not.
#[test]
fn alarm_replay_prints_what_each_setting_would_have_done() {
    let incident = common::repo_root().join("docs/report-example/incident.json");
    let out = outage_lab()
        .args([
            "alarm-replay",
            "--json",
            "--setting",
            "10s:1of1:1",
            "--setting",
            "30s:1of1:1",
        ])
        .args(["--delay-s", "0", "--delay-s", "40"])
        .arg(&incident)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(doc["function"], "payment-fixed");
    let rows: Vec<(String, f64, Option<f64>)> = doc["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["setting"].as_str().unwrap().to_owned(),
                o["delay_s"].as_f64().unwrap(),
                o["fired_after_s"].as_f64(),
            )
        })
        .collect();
    assert_eq!(rows.len(), 4);
    assert!(rows[0].2.is_some_and(|s| s <= 10.0), "{rows:?}");
    assert_eq!(
        rows[1].2, None,
        "data 40 s late never reaches the 10 s alarm: {rows:?}"
    );
    assert!(rows[3].2.is_some(), "the 30 s window sees it: {rows:?}");
    let text = outage_lab()
        .args(["alarm-replay", "--setting", "10s:1of1:1", "--delay-s", "40"])
        .arg(&incident)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("MISSED"), "{text}");
}

#[test]
fn alarm_replay_refuses_bad_input_with_exit_code_2() {
    let incident = common::repo_root().join("docs/report-example/incident.json");
    let err = |args: &[&str]| {
        let out = outage_lab()
            .arg("alarm-replay")
            .args(args)
            .assert()
            .code(2)
            .get_output()
            .stderr
            .clone();
        String::from_utf8(out).unwrap()
    };
    let readme = common::repo_root().join("README.md");
    assert!(err(&[readme.to_str().unwrap()]).contains("is not a drill's incident.json"));
    assert!(err(&["/nonexistent/incident.json"]).contains("cannot read /nonexistent/incident.json"));
    let at = incident.to_str().unwrap();
    assert!(err(&[at, "--function", "nope"]).contains("records no failures of \"nope\""));
    assert!(err(&[at, "--setting", "15s:1of1:1"]).contains("period"));
    assert!(err(&[at, "--delay-s", "4000"]).contains("outside 0 to 3600 seconds"));
    assert!(err(&[at, "--delay-s", "soon"]).contains("\"soon\" is not a number of seconds"));
}

#[test]
fn alarm_eval_refuses_bad_input_with_exit_code_2() {
    let out = outage_lab()
        .arg("alarm-eval")
        .write_stdin("{not json")
        .assert()
        .code(2)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(out).unwrap().starts_with("error: "));
}

#[test]
fn a_malformed_stage_file_is_refused_naming_the_field() {
    let root = common::stage_root(|v| v["functions"]["auth"]["timeout_s"] = "three".into());
    let out = outage_lab()
        .args(["up", "--port", "0", "--admin-port", "0", "--root"])
        .arg(root.path())
        .arg("--bin-dir")
        .arg(common::bin_dir())
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(err.contains("field `functions.auth.timeout_s`"), "{err}");

    let root = common::stage_root(|v| v["routes"]["GET /x"] = "billing".into());
    let out = outage_lab()
        .args(["up", "--port", "0", "--admin-port", "0", "--root"])
        .arg(root.path())
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(out).unwrap().contains("field `routes.GET /x`"));
}

#[test]
fn commands_that_need_a_running_lab_say_so() {
    let root = common::stage_root(|_| {});
    let out = outage_lab()
        .args(["logs", "auth", "--root"])
        .arg(root.path())
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    let err = String::from_utf8(out).unwrap();
    assert!(
        err.contains("no running lab for stage dev") && err.contains("outage-lab up --stage dev"),
        "{err}"
    );
    outage_lab()
        .args(["logs", "auth", "--since", "5 weeks", "--root"])
        .arg(root.path())
        .assert()
        .code(1);
    let out = outage_lab()
        .args(["changes", "--root"])
        .arg(root.path())
        .assert()
        .code(1)
        .get_output()
        .stderr
        .clone();
    assert!(String::from_utf8(out)
        .unwrap()
        .contains("no running lab for stage dev"));
}

/// Kills the lab if a test fails before stopping it, so no process outlives the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `up` prints where everything is, `status` and `logs` read the running lab, and stopping it
/// (SIGTERM, as Ctrl-C or a supervisor would) leaves no function process behind.
#[test]
fn up_serves_until_stopped_and_leaves_no_process_behind() {
    let root = common::stage_root(|_| {});
    let bin = assert_cmd::cargo::cargo_bin("outage-lab");
    let mut child = std::process::Command::new(&bin)
        .env_clear()
        .args(["up", "--port", "0", "--admin-port", "0", "--root"])
        .arg(root.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut child = KillOnDrop(child);
    let mut printed = Vec::new();
    while printed.len() < 7 {
        printed.push(lines.next().expect("up prints its addresses").unwrap());
    }
    assert!(
        printed[0].starts_with("gateway: http://127.0.0.1:"),
        "{printed:?}"
    );
    assert!(printed[1].starts_with("admin: http://127.0.0.1:"), "{printed:?}");
    for (i, label) in ["run folder: ", "admin token: ", "logs: ", "notifications: "]
        .iter()
        .enumerate()
    {
        assert!(printed[i + 2].starts_with(label), "{printed:?}");
    }
    let gateway = printed[0].trim_start_matches("gateway: ").to_owned();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let auth = rt
        .block_on(outage_lab::http::request(
            "GET",
            &format!("{gateway}/auth"),
            &[],
            bytes::Bytes::new(),
        ))
        .unwrap();
    assert_eq!(auth.status, 200);
    assert_eq!(
        rt.block_on(outage_lab::http::request(
            "GET",
            &format!("{gateway}/pay"),
            &[],
            bytes::Bytes::new()
        ))
        .unwrap()
        .status,
        500
    );

    let status = stdout_of(root.path(), &["status"]);
    assert!(status.contains(&format!("gateway: {gateway}")), "{status}");
    assert!(
        status.contains("function auth (dev-auth): 1 environments [\"warm\"]"),
        "{status}"
    );
    assert!(status.contains("alarm dev-api-5xx "), "{status}");
    assert!(status.contains("composite alarm dev-service-health "), "{status}");

    // Nothing has changed yet; the change history says so.
    let changes = stdout_of(root.path(), &["changes", "--since", "5m"]);
    assert_eq!(changes, "no changes in that time\n");

    // A responder breaks and mends a function through the control plane, by name.
    let configure = |args: &[&str]| {
        let mut cmd = outage_lab();
        cmd.arg("configure").args(args).arg("--root").arg(root.path());
        cmd
    };
    let configured = |args: &[&str]| {
        let out = configure(args).assert().success().get_output().stdout.clone();
        String::from_utf8(out).unwrap()
    };
    let out = configured(&[
        "payment-fixed",
        "--set",
        "FAULT_MODE=exception",
        "--actor",
        "alice",
    ]);
    assert!(
        out.contains("dev-payment-fixed: variables FAULT_MODE=exception"),
        "{out}"
    );
    let pay_fixed = || {
        rt.block_on(outage_lab::http::request(
            "GET",
            &format!("{gateway}/pay-fixed"),
            &[],
            bytes::Bytes::new(),
        ))
        .unwrap()
        .status
    };
    assert_eq!(pay_fixed(), 500);
    let out = configured(&[
        "payment-fixed",
        "--unset",
        "FAULT_MODE",
        "--reserved-concurrency",
        "3",
        "--actor",
        "alice",
    ]);
    assert!(out.contains("dev-payment-fixed: reserved concurrency 3"), "{out}");
    assert_eq!(pay_fixed(), 200);
    let refused = |args: &[&str], needle: &str| {
        let err = configure(args).assert().code(2).get_output().stderr.clone();
        let err = String::from_utf8(err).unwrap();
        assert!(err.contains(needle), "{args:?}: {err}");
    };
    refused(&["payment-fixed", "--set", "FAULT_MODE=sometimes"], "FAULT_MODE");
    refused(&["billing", "--set", "A=1"], "billing");
    refused(&["payment-fixed"], "nothing to change");
    refused(&["payment-fixed", "--set", "NOEQUALS"], "expected KEY=VALUE");
    let changes = stdout_of(root.path(), &["changes"]);
    let lines: Vec<&str> = changes.lines().collect();
    // Each variable change is a hotfix deploy: $LATEST, a version of it, the alias moved.
    assert_eq!(lines.len(), 7, "{changes}");
    assert!(
        lines[0]
            .contains("UpdateFunctionConfiguration dev-payment-fixed by alice: variables added FAULT_MODE"),
        "{changes}"
    );
    assert!(
        lines[1].contains("PublishVersion dev-payment-fixed by alice: version 2"),
        "{changes}"
    );
    assert!(
        lines[2].contains("UpdateAlias dev-payment-fixed by alice: live -> version 2"),
        "{changes}"
    );
    assert!(
        lines[3].contains("by alice: variables removed FAULT_MODE"),
        "{changes}"
    );
    assert!(lines[5].contains("live -> version 3"), "{changes}");
    assert!(
        lines[6].contains("PutFunctionConcurrency dev-payment-fixed by alice: reserved concurrency 10 -> 3"),
        "{changes}"
    );
    // The same, for a script.
    let doc = stdout_of(root.path(), &["changes", "--json"]);
    let doc: serde_json::Value = serde_json::from_str(&doc).unwrap();
    let names: Vec<&str> = doc
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["event_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "UpdateFunctionConfiguration",
            "PublishVersion",
            "UpdateAlias",
            "UpdateFunctionConfiguration",
            "PublishVersion",
            "UpdateAlias",
            "PutFunctionConcurrency"
        ]
    );
    assert_eq!(doc[0]["added"], json!(["FAULT_MODE"]));

    let logs = stdout_of(
        root.path(),
        &["logs", "payment", "--filter", "REPORT", "--since", "5m"],
    );
    assert_eq!(logs.lines().count(), 1, "{logs}");
    assert!(
        logs.contains("/[1]") && logs.contains("REPORT RequestId: "),
        "{logs}"
    );

    // The function processes the lab started, from its lab.json and admin API.
    let info: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root.path().join(".outage-lab/dev/current/lab.json")).unwrap(),
    )
    .unwrap();
    let token = std::fs::read_to_string(info["token_file"].as_str().unwrap()).unwrap();
    let functions = rt
        .block_on(outage_lab::http::request(
            "GET",
            &format!("{}/functions", info["admin_url"].as_str().unwrap()),
            &[("authorization", &format!("Bearer {token}"))],
            bytes::Bytes::new(),
        ))
        .unwrap()
        .json()
        .unwrap();
    let pids: Vec<u64> = functions
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| {
            f["environments"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["pid"].as_u64())
        })
        .collect();
    // auth and payment (called above), payment-fixed (the responder's checks).
    assert_eq!(pids.len(), 3, "{functions}");
    assert!(pids.iter().all(|p| common::alive(*p)));

    std::process::Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    let code = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "outage-lab did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(code.success(), "{code:?}");
    assert!(
        pids.iter().all(|p| !common::alive(*p)),
        "function processes outlived the lab: {pids:?}"
    );
}

/// If the lab itself is killed outright (no chance to clean up), its function processes lose
/// their Runtime API and end on their own.
#[test]
fn function_processes_end_when_the_lab_is_killed() {
    let root = common::stage_root(|_| {});
    let bin = assert_cmd::cargo::cargo_bin("outage-lab");
    let mut child = std::process::Command::new(&bin)
        .env_clear()
        .args(["up", "--port", "0", "--admin-port", "0", "--root"])
        .arg(root.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut child = KillOnDrop(child);
    let gateway = lines
        .next()
        .unwrap()
        .unwrap()
        .trim_start_matches("gateway: ")
        .to_owned();
    let rt = tokio::runtime::Runtime::new().unwrap();
    for path in ["/auth", "/product"] {
        assert_eq!(
            rt.block_on(outage_lab::http::request(
                "GET",
                &format!("{gateway}{path}"),
                &[],
                bytes::Bytes::new()
            ))
            .unwrap()
            .status,
            200
        );
    }
    // Children are listed per thread that spawned them: look at every thread of the lab.
    let children = common::child_pids(child.0.id());
    assert_eq!(children.len(), 2, "one environment per function called");
    child.0.kill().unwrap();
    child.0.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while children.iter().any(|p| common::alive(*p)) {
        assert!(
            Instant::now() < deadline,
            "function processes outlived a killed lab: {children:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
