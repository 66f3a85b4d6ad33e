//! The command line: usage and configuration errors exit 2 with a message that names the
//! problem, before anything is changed.

// The binary needs the `aws` feature (default).
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

fn stderr_of(cmd: &mut Command, code: i32) -> String {
    let out = cmd.assert().code(code).get_output().clone();
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn prod_is_refused_without_allow_prod() {
    let err = stderr_of(
        smoke_test().args(["drill", "--target", "aws", "--stage", "prod"]),
        2,
    );
    assert!(
        err.contains("refusing to drill the prod stage") && err.contains("--allow-prod"),
        "{err}"
    );
}

#[test]
fn a_missing_stage_file_is_named() {
    let err = stderr_of(
        smoke_test()
            .args(["check", "--target", "lab", "--stage", "qa", "--root"])
            .arg(root()),
        2,
    );
    assert!(err.contains("environments/qa/terraform.tfvars.json"), "{err}");
}

#[test]
fn no_running_lab_says_how_to_start_one() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("environments/dev")).unwrap();
    std::fs::copy(
        root().join("environments/dev/terraform.tfvars.json"),
        dir.path().join("environments/dev/terraform.tfvars.json"),
    )
    .unwrap();
    let err = stderr_of(
        smoke_test()
            .args(["drill", "--target", "lab", "--stage", "dev", "--root"])
            .arg(dir.path()),
        2,
    );
    assert!(err.contains("outage-lab up --stage dev"), "{err}");
}

#[test]
fn aws_needs_terraform_outputs_or_an_url() {
    let err = stderr_of(
        smoke_test()
            .args(["check", "--target", "aws", "--stage", "dev", "--root"])
            .arg(root()),
        2,
    );
    assert!(err.contains("--tf-output"), "{err}");
}

#[test]
fn terraform_outputs_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("tf.json");
    std::fs::write(
        &tf,
        r#"{"api_endpoint": {"value": "https://x.execute-api.eu-west-1.amazonaws.com"}}"#,
    )
    .unwrap();
    let err = stderr_of(
        smoke_test()
            .args(["drill", "--target", "aws", "--stage", "dev", "--root"])
            .arg(root())
            .arg("--tf-output")
            .arg(&tf),
        2,
    );
    assert!(err.contains("`function_names` is missing"), "{err}");

    let other_stage = r#"{"api_endpoint": {"value": "https://x.execute-api.eu-west-1.amazonaws.com"},
        "function_names": {"value": {"payment-fixed": "staging-payment-fixed"}}, "alarm_names": {"value": {}},
        "region": {"value": "eu-west-1"}, "stage": {"value": "staging"}}"#;
    std::fs::write(&tf, other_stage).unwrap();
    let err = stderr_of(
        smoke_test()
            .args(["drill", "--target", "aws", "--stage", "dev", "--root"])
            .arg(root())
            .arg("--tf-output")
            .arg(&tf),
        2,
    );
    assert!(err.contains("describes stage \"staging\", not \"dev\""), "{err}");

    let wrong_alarm = r#"{"api_endpoint": {"value": "https://x.execute-api.eu-west-1.amazonaws.com"},
        "function_names": {"value": {"payment-fixed": "dev-payment-fixed"}}, "alarm_names": {"value": {"a": "dev-other"}},
        "region": {"value": "eu-west-1"}, "stage": {"value": "dev"}}"#;
    std::fs::write(&tf, wrong_alarm).unwrap();
    let err = stderr_of(
        smoke_test()
            .args(["drill", "--target", "aws", "--stage", "dev", "--root"])
            .arg(root())
            .arg("--tf-output")
            .arg(&tf),
        2,
    );
    assert!(err.contains("has no dev-payment-fixed-fast-errors"), "{err}");
}

#[test]
fn a_fault_the_alarm_cannot_see_is_refused() {
    let err = stderr_of(
        smoke_test()
            .args([
                "drill", "--target", "lab", "--stage", "dev", "--mode", "timeout", "--root",
            ])
            .arg(root()),
        2,
    );
    assert!(err.contains("does not move the fast-errors alarm"), "{err}");
    let err = stderr_of(
        smoke_test()
            .args([
                "drill",
                "--target",
                "lab",
                "--stage",
                "dev",
                "--function",
                "billing",
                "--root",
            ])
            .arg(root()),
        2,
    );
    assert!(err.contains("function \"billing\" is not in stage dev"), "{err}");
}

#[test]
fn help_documents_the_exit_codes() {
    let out = smoke_test()
        .arg("--help")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8_lossy(&out);
    for needle in [
        "0 passed",
        "1 a check or the drill failed",
        "2 usage",
        "3 the prior configuration could NOT be restored",
    ] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}

#[test]
fn the_admin_token_never_leaves_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "a".repeat(64)).unwrap();
    let err = stderr_of(
        smoke_test()
            .args([
                "check",
                "--target",
                "lab",
                "--stage",
                "dev",
                "--admin-url",
                "http://192.0.2.1:3001",
                "--token-file",
            ])
            .arg(&token)
            .arg("--root")
            .arg(root()),
        2,
    );
    assert!(err.contains("loopback-only"), "{err}");
}

#[test]
fn a_dry_run_prints_the_plan_from_the_stage_file_and_needs_no_target() {
    let out = smoke_test()
        .args([
            "drill",
            "--target",
            "lab",
            "--stage",
            "dev",
            "--dry-run",
            "--root",
        ])
        .arg(root())
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let plan: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(plan["alarm"]["name"], "dev-payment-fixed-fast-errors");
    assert_eq!(plan["route_path"], "/pay-fixed");
    assert_eq!(plan["fault_variables"]["FAULT_MODE"], "exception");
    // dev's fast_errors: 20 s period, 1 of 1, 5 s lab metric delay.
    assert_eq!(plan["deadlines"]["alarm"], 75.0);
    assert_eq!(plan["deadlines"]["ok"], 55.0);
}

#[test]
fn preflight_is_for_aws_and_names_a_missing_stage() {
    let root = root();
    let err = stderr_of(
        smoke_test()
            .args(["preflight", "--target", "lab", "--stage", "dev", "--root"])
            .arg(&root),
        2,
    );
    assert!(err.contains("use --target aws"), "{err}");
    let err = stderr_of(
        smoke_test()
            .args(["preflight", "--target", "aws", "--stage", "qa", "--root"])
            .arg(&root),
        2,
    );
    assert!(err.contains("qa"), "{err}");
}

#[test]
fn release_refuses_bad_input_before_touching_aws() {
    let root = root();
    let release = |args: &[&str]| {
        let mut cmd = smoke_test();
        cmd.arg("release").args(args).arg("--root").arg(&root);
        cmd
    };
    // The lab releases through its own CLI.
    let err = stderr_of(&mut release(&["--target", "lab", "--stage", "dev"]), 2);
    assert!(
        err.contains("in the lab use `outage-lab release <function>`"),
        "{err}"
    );
    // prod needs --allow-prod, before anything else is looked at.
    let err = stderr_of(&mut release(&["--target", "aws", "--stage", "prod", "--json"]), 2);
    assert!(
        err.contains("refusing to release to the prod stage") && err.contains("--allow-prod"),
        "{err}"
    );
    // An unknown stage names its missing file.
    let err = stderr_of(&mut release(&["--target", "aws", "--stage", "qa"]), 2);
    assert!(err.contains("environments/qa/terraform.tfvars.json"), "{err}");
    // No way to reach the API.
    let err = stderr_of(&mut release(&["--target", "aws", "--stage", "dev"]), 2);
    assert!(err.contains("--tf-output"), "{err}");

    // Terraform outputs that disagree with the stage file's CodeDeploy names.
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("tf.json");
    std::fs::write(
        &tf,
        r#"{"api_endpoint": {"value": "https://x.execute-api.eu-west-1.amazonaws.com"},
        "function_names": {"value": {"auth": "dev-auth"}}, "alarm_names": {"value": {}},
        "region": {"value": "eu-west-1"}, "stage": {"value": "dev"},
        "codedeploy_application_name": {"value": "dev-app"}}"#,
    )
    .unwrap();
    let mut cmd = release(&["--target", "aws", "--stage", "dev", "--json"]);
    cmd.arg("--tf-output").arg(&tf);
    let out = cmd.assert().code(2).get_output().clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`codedeploy_application_name` is \"dev-app\"") && err.contains("\"dev-outage-lab\""),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "nothing on stdout for a usage error");
}

#[test]
fn release_is_documented_in_the_help() {
    let out = smoke_test()
        .args(["release", "--help"])
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let help = String::from_utf8_lossy(&out);
    for needle in ["--allow-prod", "--json", "--tf-output", "pre-traffic check"] {
        assert!(help.contains(needle), "{needle} missing from:\n{help}");
    }
}
