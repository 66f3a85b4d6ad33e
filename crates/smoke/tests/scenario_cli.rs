//! `smoke-test drill --scenario`: what it refuses before touching anything (exit 2). The run
//! itself is the scenario runner's (tests/scenario_run.rs) over the AWS adapters
//! (tests/aws_reads.rs, tests/aws_drill.rs).
#![cfg(feature = "aws")]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn smoke_test() -> Command {
    let mut cmd = Command::cargo_bin("smoke-test").unwrap();
    cmd.env_clear();
    cmd
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn run(args: &[&str], code: i32) -> (String, String) {
    let root = root();
    let out = smoke_test()
        .args(["drill", "--root", root.to_str().unwrap()])
        .args(args)
        .assert()
        .code(code)
        .get_output()
        .clone();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn an_unknown_scenario_exits_2_with_its_message() {
    let (_, err) = run(
        &[
            "--target",
            "aws",
            "--stage",
            "dev",
            "--scenario",
            "no-such-scenario",
            "--api-url",
            "http://127.0.0.1:9",
        ],
        2,
    );
    assert!(err.contains("no-such-scenario"), "{err}");
}

#[test]
fn prod_is_refused_without_allow_prod() {
    let (_, err) = run(
        &[
            "--target",
            "aws",
            "--stage",
            "prod",
            "--scenario",
            "payment-exception",
        ],
        2,
    );
    assert!(err.contains("--allow-prod"), "{err}");
}

#[test]
fn the_lab_is_pointed_at_outage_lab() {
    let (_, err) = run(
        &[
            "--target",
            "lab",
            "--stage",
            "dev",
            "--scenario",
            "payment-exception",
        ],
        2,
    );
    assert!(err.contains("outage-lab drill --scenario"), "{err}");
}

#[test]
fn a_dry_run_validates_the_scenario_against_the_stage_and_changes_nothing() {
    let (out, _) = run(
        &[
            "--target",
            "aws",
            "--stage",
            "dev",
            "--scenario",
            "payment-exception",
            "--dry-run",
        ],
        0,
    );
    assert!(
        out.contains("payment-exception") && out.contains("nothing changed"),
        "{out}"
    );
}

#[test]
fn scenario_excludes_the_single_drill_flags() {
    let (_, err) = run(
        &[
            "--target",
            "aws",
            "--stage",
            "dev",
            "--scenario",
            "payment-exception",
            "--mode",
            "panic",
        ],
        2,
    );
    assert!(err.contains("--mode"), "{err}");
}

#[test]
fn a_report_folder_needs_a_scenario() {
    let (_, err) = run(
        &["--target", "aws", "--stage", "dev", "--report-dir", "reports"],
        2,
    );
    assert!(err.contains("--scenario"), "{err}");
}
