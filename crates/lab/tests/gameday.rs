//! Whole game days played through the command line by a scripted responder: the real
//! `outage-lab gameday` process with its lab and the real function binaries, and the
//! responder's commands as separate processes, as a person would type them.

mod common;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

fn outage_lab() -> Command {
    let mut cmd = Command::cargo_bin("outage-lab").unwrap();
    cmd.env_clear();
    cmd
}

/// A game day running as its own process, its stdout read line by line.
struct GameDay {
    child: Option<Child>,
    lines: Receiver<String>,
    seen: Vec<String>,
    root: tempfile::TempDir,
}

impl Drop for GameDay {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl GameDay {
    /// A level-1 game day of `scenario` with a short quiet time and metric data that shows at
    /// once (the pages come sooner; what is judged is the same).
    fn start(scenario: &str, quiet_s: &str) -> GameDay {
        let root = common::stage_root(|_| {});
        let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("outage-lab"))
            .env_clear()
            .args([
                "gameday",
                "--port",
                "0",
                "--admin-port",
                "0",
                "--quiet-s",
                quiet_s,
            ])
            .args(["--emf-delay-s", "0", "--seed", "7", "--scenario", scenario])
            .arg("--root")
            .arg(root.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        GameDay {
            child: Some(child),
            lines: rx,
            seen: Vec::new(),
            root,
        }
    }

    fn root(&self) -> &Path {
        self.root.path()
    }

    /// Reads the pager until a line contains `text`; fails after `within`.
    fn wait_for(&mut self, text: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(text) {
                        return line;
                    }
                }
                Err(_) => break,
            }
        }
        panic!(
            "no line with {text:?} within {within:?}; printed: {:#?}",
            self.seen
        );
    }

    /// Waits for the game-day process to end; its exit code and everything it printed.
    fn finish(&mut self, within: Duration) -> (i32, Vec<String>) {
        let deadline = Instant::now() + within;
        let mut child = self.child.take().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                while let Ok(line) = self.lines.recv_timeout(Duration::from_secs(2)) {
                    self.seen.push(line);
                }
                return (status.code().unwrap_or(-1), self.seen.clone());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "the game day did not end within {within:?}; printed: {:#?}",
                    self.seen
                );
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// A responder command; its exit code, stdout and stderr.
    fn respond(&self, args: &[&str]) -> (i32, String, String) {
        let out = outage_lab()
            .args(args)
            .arg("--root")
            .arg(self.root())
            .env("USER", "responder-1")
            .output()
            .unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn folder(&self) -> PathBuf {
        let dir = self.root().join(".outage-lab/dev/gamedays");
        std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_dir())
            .expect("a game-day folder")
    }

    fn scorecard(&self) -> Value {
        serde_json::from_str(&std::fs::read_to_string(self.folder().join("scorecard.json")).unwrap()).unwrap()
    }
}

const PAGE: Duration = Duration::from_secs(120);
const END: Duration = Duration::from_secs(300);

fn assert_ok(what: &str, (code, out, err): (i32, String, String)) -> String {
    assert_eq!(code, 0, "{what}: stdout {out} stderr {err}");
    out
}

/// The pager says what a pager says: the alarm and its runbook, and nothing naming the
/// injected fault or the scenario (the introduction lists every cause a diagnosis may name).
fn assert_nothing_given_away(lines: &[String], scenario: &str) {
    let pages = lines
        .iter()
        .skip_while(|l| !l.starts_with("PAGE ") && !l.starts_with("update "));
    for l in pages {
        for word in [scenario, "FAULT_", "Scenario", "exception"] {
            assert!(!l.contains(word), "the pager gave {word:?} away: {l}");
        }
    }
}

#[test]
fn right_diagnosis_and_fix_resolve_with_full_marks() {
    let mut g = GameDay::start("payment-exception", "1:2");
    g.wait_for("dashboard: http://127.0.0.1:", Duration::from_secs(60));
    let page = g.wait_for("PAGE ", PAGE);
    assert!(page.contains("dev-payment-fixed-fast-errors is ALARM"), "{page}");
    let runbook = g.wait_for("runbook: ", Duration::from_secs(5));
    assert!(runbook.contains("/runbooks/fast-errors.md"), "{runbook}");
    // The composite alarm's page links the runbooks' index, served by the lab too.
    g.wait_for("dev-service-health is ALARM", Duration::from_secs(30));
    let index = g.wait_for("runbook: ", Duration::from_secs(5));
    assert!(index.ends_with("/runbooks/README.md"), "{index}");
    assert_nothing_given_away(&g.seen, "payment-exception");

    assert!(assert_ok("ack", g.respond(&["ack"])).contains("acknowledged"));
    let changes = assert_ok("changes", g.respond(&["changes", "--since", "10m"]));
    assert!(
        changes.contains("UpdateFunctionConfiguration dev-payment-fixed by deploy-pipeline"),
        "{changes}"
    );
    let said = assert_ok(
        "diagnose",
        g.respond(&["diagnose", "--function", "payment-fixed", "--cause", "exception"]),
    );
    assert!(said.contains("diagnosis 1 recorded"), "{said}");
    assert_ok(
        "configure",
        g.respond(&[
            "configure",
            "payment-fixed",
            "--unset",
            "FAULT_MODE",
            "--unset",
            "FAULT_MESSAGE",
            "--unset",
            "FAULT_EXPIRES_AT",
        ]),
    );
    let (code, lines) = g.finish(END);
    assert_eq!(code, 0, "{lines:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("game day gameday-") && l.contains(": resolved")),
        "{lines:#?}"
    );
    assert!(lines.iter().any(|l| l.starts_with("score 100/100")), "{lines:#?}");

    let card = g.scorecard();
    assert_eq!(card["outcome"], "resolved");
    assert_eq!(card["scenario"], "payment-exception");
    assert_eq!(card["function"], "payment-fixed");
    assert_eq!(card["wrong_diagnoses"], 0);
    assert_eq!(card["collateral_actions"], 0);
    assert_eq!(card["hints_used"], 0);
    assert_eq!(card["actions"][0]["actor"], "responder-1");
    assert!(card["failed_requests"].as_u64().unwrap() > 0);
    for key in [
        "time_to_ack_s",
        "time_to_diagnosis_s",
        "time_to_mitigate_s",
        "time_to_recover_s",
    ] {
        assert!(card[key].as_f64().is_some(), "{key}: {card}");
    }
    let pm = std::fs::read_to_string(g.folder().join("postmortem.md")).unwrap();
    for section in [
        "## Summary",
        "## Impact",
        "## Timeline (UTC)",
        "## Root cause",
        "## Detection",
        "## Resolution",
        "## What went well",
        "## What went badly",
        "## Action items",
    ] {
        assert!(pm.contains(section), "{section} missing:\n{pm}");
    }
    assert!(
        pm.contains("page: `dev-payment-fixed-fast-errors` -> ALARM"),
        "{pm}"
    );
    assert!(pm.contains("responder acknowledged"), "{pm}");

    let history = assert_ok("history", g.respond(&["gameday", "--history"]));
    assert!(
        history.contains("payment-exception") && history.contains("resolved"),
        "{history}"
    );
}

#[test]
fn a_wrong_diagnosis_and_a_change_to_a_healthy_function_cost_score() {
    let mut g = GameDay::start("payment-exception", "1:2");
    g.wait_for("PAGE ", PAGE);
    // Bad input is refused and names the problem; nothing is recorded (the scorecard below
    // counts two diagnoses). A second game day on the same stage is refused too.
    for (args, needle) in [
        (
            &["diagnose", "--function", "billing", "--cause", "exception"][..],
            "unknown function \"billing\"",
        ),
        (
            &["diagnose", "--function", "auth", "--cause", "gremlins"],
            "unknown cause \"gremlins\"",
        ),
        (
            &["gameday", "--port", "0", "--admin-port", "0"],
            "a lab already runs on stage dev",
        ),
    ] {
        let (code, _, err) = g.respond(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }

    assert_ok(
        "wrong diagnosis",
        g.respond(&["diagnose", "--function", "auth", "--cause", "latency"]),
    );
    assert_ok(
        "collateral",
        g.respond(&["configure", "auth", "--set", "LOG_LEVEL=debug"]),
    );
    assert_ok(
        "right diagnosis",
        g.respond(&["diagnose", "--function", "payment-fixed", "--cause", "errors"]),
    );
    assert_ok(
        "fix",
        g.respond(&["configure", "payment-fixed", "--set", "FAULT_MODE=none"]),
    );
    let (code, lines) = g.finish(END);
    assert_eq!(code, 0, "{lines:#?}");
    let card = g.scorecard();
    assert_eq!(card["wrong_diagnoses"], 1);
    assert_eq!(card["collateral_actions"], 1);
    assert_eq!(card["collateral"][0]["function"], "auth");
    assert_eq!(card["diagnoses"].as_array().unwrap().len(), 2, "{card}");
    assert_eq!(card["diagnoses"][1]["correct"], true);
    // Never acknowledged (-5), one wrong diagnosis (-10), one collateral change (-10).
    assert_eq!(card["score"], 75, "{card}");
    let reasons: Vec<&str> = card["deductions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["why"].as_str().unwrap())
        .collect();
    assert!(
        reasons.iter().any(|r| r.contains("never acknowledged")),
        "{reasons:?}"
    );
    assert!(
        reasons.iter().any(|r| r.contains("healthy functions (auth)")),
        "{reasons:?}"
    );
}

#[test]
fn giving_up_reveals_the_answer_and_still_writes_the_record() {
    let mut g = GameDay::start("throttling", "1:2");
    g.wait_for("PAGE ", PAGE);
    let hint = assert_ok("hint", g.respond(&["hint"]));
    assert!(hint.contains("hint 1 of 4"), "{hint}");
    let out = assert_ok("give up", g.respond(&["gameday", "--give-up"]));
    assert!(
        out.contains("the incident was: Throttling in payment-fixed"),
        "{out}"
    );
    assert!(out.contains("throttling in payment-fixed"), "{out}");
    assert!(out.contains("score 0/100"), "{out}");
    let (code, lines) = g.finish(Duration::from_secs(60));
    assert_eq!(code, 1, "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains(": gave-up")), "{lines:#?}");
    let card = g.scorecard();
    assert_eq!(card["outcome"], "gave-up");
    assert_eq!(card["hints_used"], 1);
    // The game day is over and its lab gone: a responder command says so.
    let (code, _, err) = g.respond(&["ack"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no game day runs on stage dev"), "{err}");
    let record = std::fs::read_to_string(g.folder().join("record.jsonl")).unwrap();
    let last: Value = serde_json::from_str(record.lines().last().unwrap()).unwrap();
    assert_eq!(last["event"], "answer");
    assert_eq!(last["cause"], "throttling");
}

#[test]
fn a_killed_game_day_is_recorded_as_abandoned_and_leaves_no_process_behind() {
    let mut g = GameDay::start("payment-exception", "600:600");
    g.wait_for("dashboard: ", Duration::from_secs(60));
    let lab_json: Value = serde_json::from_str(
        &std::fs::read_to_string(g.root().join(".outage-lab/dev/current/lab.json")).unwrap(),
    )
    .unwrap();
    assert!(lab_json["pid"].as_u64().is_some());
    let status = assert_ok("status", g.respond(&["status"]));
    assert!(status.contains("function payment-fixed"), "{status}");
    let game_pid = g.child.as_ref().unwrap().id();
    let children = common::child_pids(game_pid);
    assert!(
        !children.is_empty(),
        "the lab runs its functions as child processes"
    );
    // SIGKILL: nothing of the game day's own runs after it.
    let mut child = g.child.take().unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while children.iter().any(|p| common::alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    for p in &children {
        assert!(
            !common::alive(*p),
            "function process {p} outlived the killed game day"
        );
    }
    // A corrupted history line is reported and skipped; the rest stays.
    let history_file = g.root().join(".outage-lab/dev/gamedays/history.jsonl");
    std::fs::write(&history_file, "not a history line\n").unwrap();
    let (code, out, err) = g.respond(&["gameday", "--history"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("line 1: unreadable"), "{err}");
    assert!(out.contains("abandoned"), "{out}");
    let history = std::fs::read_to_string(&history_file).unwrap();
    assert!(history.starts_with("not a history line\n"), "{history}");
    let record = std::fs::read_to_string(g.folder().join("record.jsonl")).unwrap();
    assert!(record.contains("\"outcome\":\"abandoned\""), "{record}");
}
