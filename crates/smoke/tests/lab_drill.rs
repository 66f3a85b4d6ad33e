//! `smoke-test check` and `smoke-test drill` against a real lab: `outage-lab up` runs the real
//! function binaries behind its gateway, with its metrics and alarm engine on the real clock.
//!
//! Needs the workspace binaries (`cargo build --workspace --bins`, which scripts/checks does
//! before the tests): target/debug/outage-lab and the function binaries next to it.

// The binary needs the `aws` feature (default).
#![cfg(feature = "aws")]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A lab on ports chosen at run time, stopped when dropped (pass or fail).
struct Lab {
    child: Child,
    root: tempfile::TempDir,
    admin_url: String,
    token: String,
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin_dir() -> PathBuf {
    // target/debug/deps/lab_drill-<hash> -> target/debug
    let exe = std::env::current_exe().unwrap();
    exe.parent().and_then(Path::parent).unwrap().to_owned()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A project root holding only the stage files (the lab writes its run folder below it).
fn stage_files_into(root: &Path) {
    for stage in ["dev", "staging", "prod"] {
        let from = repo_root()
            .join("environments")
            .join(stage)
            .join("terraform.tfvars.json");
        let to = root.join("environments").join(stage);
        std::fs::create_dir_all(&to).unwrap();
        std::fs::copy(from, to.join("terraform.tfvars.json")).unwrap();
    }
}

impl Lab {
    fn start() -> Lab {
        let lab_bin = bin_dir().join("outage-lab");
        assert!(
            lab_bin.exists(),
            "{} is missing: build it with `cargo build --workspace --bins`",
            lab_bin.display()
        );
        let root = tempfile::tempdir().unwrap();
        stage_files_into(root.path());
        let mut child = Command::new(&lab_bin)
            .args([
                "up",
                "--stage",
                "dev",
                "--port",
                "0",
                "--admin-port",
                "0",
                "--root",
            ])
            .arg(root.path())
            .arg("--bin-dir")
            .arg(bin_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Keep reading so the lab never blocks on a full pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let mut lab = Lab {
            child,
            root,
            admin_url: String::new(),
            token: String::new(),
        };
        let mut gateway = false;
        let deadline = Instant::now() + Duration::from_secs(60);
        while lab.admin_url.is_empty() || !gateway {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("outage-lab up printed its gateway: and admin: lines");
            if let Some(url) = line.strip_prefix("admin: ") {
                lab.admin_url = url.trim().to_owned();
            }
            gateway |= line.starts_with("gateway: ");
        }
        let lab_json: Value = serde_json::from_str(
            &std::fs::read_to_string(lab.root.path().join(".outage-lab/dev/current/lab.json")).unwrap(),
        )
        .unwrap();
        lab.token = std::fs::read_to_string(lab_json["token_file"].as_str().unwrap())
            .unwrap()
            .trim()
            .to_owned();
        lab
    }

    fn admin_get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.admin_url);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let response = reqwest::Client::new()
                .get(&url)
                .bearer_auth(&self.token)
                .send()
                .await
                .unwrap();
            assert!(response.status().is_success(), "GET {url}: {}", response.status());
            response.json::<Value>().await.unwrap()
        })
    }

    /// `smoke-test <args> --root <the lab's root>`, with a cleared environment.
    fn smoke_test(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_smoke-test"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default());
        cmd.args(args).arg("--root").arg(self.root.path());
        cmd
    }
}

/// The variables of payment-fixed carry no FAULT_* once the drill is over.
fn assert_no_fault(lab: &Lab) {
    let config = lab.admin_get("/functions/payment-fixed/configuration");
    let vars = config["Environment"]["Variables"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(
        vars.keys().all(|k| !k.starts_with("FAULT_")),
        "fault left behind: {vars:?}"
    );
}

#[test]
fn check_and_drill_against_a_real_lab() {
    let lab = Lab::start();

    let out = lab
        .smoke_test(&["check", "--target", "lab", "--stage", "dev", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "check failed: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["passed"], true);
    let routes: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["expectation"]["route"].as_str().unwrap())
        .collect();
    assert!(
        routes.contains(&"GET /pay") && routes.contains(&"GET /pay-fixed"),
        "{routes:?}"
    );

    // A wrong token is refused with a message that says what to check.
    let dir = tempfile::tempdir().unwrap();
    let wrong_token = dir.path().join("token");
    std::fs::write(&wrong_token, "0".repeat(64)).unwrap();
    let token_arg = wrong_token.to_str().unwrap();
    let args = [
        "check",
        "--target",
        "lab",
        "--stage",
        "dev",
        "--admin-url",
        &lab.admin_url,
        "--token-file",
        token_arg,
    ];
    let out = lab.smoke_test(&args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("401") && stderr.contains("token"), "{stderr}");

    let (json_out, junit_out) = (dir.path().join("drill.json"), dir.path().join("junit.xml"));
    let out = lab
        .smoke_test(&[
            "drill",
            "--target",
            "lab",
            "--stage",
            "dev",
            "--function",
            "payment-fixed",
        ])
        .arg("--json-out")
        .arg(&json_out)
        .arg("--junit-out")
        .arg(&junit_out)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "drill failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("MTTD:") && stdout.contains("MTTR:") && stdout.contains("PASSED"),
        "{stdout}"
    );

    let report: Value = serde_json::from_str(&std::fs::read_to_string(&json_out).unwrap()).unwrap();
    assert_eq!(report["outcome"], "passed");
    assert!(report["mttd_s"].as_f64().unwrap() > 0.0);
    assert!(report["mttr_s"].as_f64().unwrap() > 0.0);
    assert_eq!(report["restored_exactly"], true);
    assert!(
        report["break_traffic"]["failed"].as_u64().unwrap() > 0,
        "the fault made requests fail"
    );

    // The lab's own alarm history saw the alarm fire and clear.
    let history = lab.admin_get("/alarms/dev-payment-fixed-fast-errors/history");
    let states: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["new_state"].as_str().unwrap())
        .collect();
    let fired = states
        .iter()
        .position(|s| *s == "ALARM")
        .expect("ALARM in the alarm history");
    assert!(states[fired..].contains(&"OK"), "OK after ALARM: {states:?}");
    assert_no_fault(&lab);

    let xml = std::fs::read_to_string(&junit_out).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let cases: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("testcase")).collect();
    assert_eq!(cases.len(), 6, "five steps and the whole drill");
    assert!(doc.descendants().all(|n| !n.has_tag_name("failure")));
}

#[test]
fn an_interrupted_drill_restores_the_function() {
    let lab = Lab::start();
    let mut child = lab
        .smoke_test(&["drill", "--target", "lab", "--stage", "dev"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines().map_while(Result::ok);
    let mut log = String::new();
    for line in lines.by_ref() {
        log.push_str(&line);
        log.push('\n');
        if line.contains("fault injected") {
            break;
        }
    }
    assert!(log.contains("fault injected"), "{log}");
    // The fault is live now.
    let config = lab.admin_get("/functions/payment-fixed/configuration");
    assert_eq!(config["Environment"]["Variables"]["FAULT_MODE"], "exception");
    assert!(config["Environment"]["Variables"]["FAULT_EXPIRES_AT"].is_string());

    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    log.extend(lines.map(|l| l + "\n"));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1), "interrupted drill exits 1:\n{log}");
    assert!(log.contains("interrupted"), "{log}");
    assert_no_fault(&lab);
}
