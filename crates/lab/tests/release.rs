//! Versions, the `live` alias and releases, through the admin API and the `release` and
//! `rollback` commands, on a lab running the real function binaries.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{eventually, start, start_with, TestLab};
use serde_json::{json, Value};

/// `outage-lab <args> --root <the lab's root>` as a separate process: (exit code, stdout, stderr).
async fn outage_lab(t: &TestLab, args: &[&str]) -> (i32, String, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_outage-lab"));
    cmd.args(args).arg("--root").arg(t.root.path());
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

async fn status_of(t: &TestLab, method: &str, path: &str, body: Value) -> (u16, String) {
    let r = t.admin(method, path, Some(body)).await;
    (r.status, r.text())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_invokes_the_live_alias_and_only_a_published_version_reaches_it() {
    let t = start(|_| {}).await;
    // As `terraform apply` leaves a function: version 1 published, live on it.
    let versions = t.admin_json("/functions/payment-fixed/versions").await;
    let labels: Vec<&str> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["Version"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["$LATEST", "1"]);
    assert_eq!(versions[0]["CodeSha256"], versions[1]["CodeSha256"]);
    assert_eq!(
        versions[0]["CodeSha256"].as_str().unwrap().len(),
        44,
        "base64 SHA-256"
    );
    let live = t.admin_json("/functions/payment-fixed/aliases/live").await;
    assert_eq!(live["FunctionVersion"], "1");
    assert!(live["AliasArn"]
        .as_str()
        .unwrap()
        .ends_with(":function:dev-payment-fixed:live"));
    let r = t.get("/pay-fixed").await;
    assert_eq!((r.status, r.header("x-function-version")), (200, Some("1")));

    // UpdateFunctionConfiguration changes $LATEST alone: clients still get version 1.
    let r = t
        .admin(
            "PUT",
            "/functions/payment-fixed/configuration",
            Some(json!({ "Variables": { "FAULT_MODE": "exception" } })),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        t.get("/pay-fixed").await.status,
        200,
        "$LATEST is not what the API invokes"
    );
    // Publishing it and moving the alias is what reaches them.
    assert_eq!(t.serve_latest("payment-fixed").await, "2");
    assert_eq!(t.get("/pay-fixed").await.status, 500);
    // PublishVersion with nothing changed since the newest version returns that version.
    let again = t
        .admin("POST", "/functions/payment-fixed/versions", Some(json!({})))
        .await;
    assert_eq!(again.json().unwrap()["Version"], "2");

    // Weighted routing: both versions answer, each environment runs one version.
    let r = t
        .admin(
            "PUT",
            "/functions/payment-fixed/aliases/live",
            Some(json!({ "FunctionVersion": "1", "RoutingConfig": { "AdditionalVersionWeights": { "2": 0.5 } } })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let mut statuses = BTreeSet::new();
    for _ in 0..40 {
        statuses.insert(t.get("/pay-fixed").await.status);
    }
    assert_eq!(statuses, BTreeSet::from([200, 500]), "both versions served");
    let f = t.admin_json("/functions/payment-fixed").await;
    let weights: Vec<(String, f64)> = f["live"]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            (
                v["version"].as_str().unwrap().to_owned(),
                v["weight"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(weights, [("1".to_owned(), 0.5), ("2".to_owned(), 0.5)]);
    let streams: BTreeSet<String> = f["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            e["log_stream"]
                .as_str()
                .unwrap()
                .split(']')
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert!(
        streams.iter().all(|s| s.ends_with("[1") || s.ends_with("[2")),
        "{streams:?}"
    );

    // START lines name the version that ran; AWS/Lambda carries Resource and ExecutedVersion.
    let logs = t.admin_json("/logs/payment-fixed?filter=START").await;
    let versions_started: BTreeSet<&str> = logs
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str()?.split("Version: ").nth(1))
        .map(str::trim)
        .collect();
    assert_eq!(versions_started, BTreeSet::from(["1", "2"]));
    let on = |v: &'static str| {
        [
            ("FunctionName", "dev-payment-fixed"),
            ("Resource", "dev-payment-fixed:live"),
            ("ExecutedVersion", v),
        ]
    };
    assert!(t.metric_sum("AWS/Lambda", "Errors", &on("2")).await > 0.0);
    assert_eq!(t.metric_sum("AWS/Lambda", "Errors", &on("1")).await, 0.0);
    let all = t
        .metric_sum(
            "AWS/Lambda",
            "Invocations",
            &[("FunctionName", "dev-payment-fixed")],
        )
        .await;
    let by_version = t.metric_sum("AWS/Lambda", "Invocations", &on("1")).await
        + t.metric_sum("AWS/Lambda", "Invocations", &on("2")).await;
    assert_eq!(all, by_version, "FunctionName alone counts every version");

    // Lambda's refusals, each naming the problem; the alias is unchanged after them.
    let alias = "/functions/payment-fixed/aliases/live";
    for (body, status, says) in [
        (json!({ "FunctionVersion": "9" }), 404, "has no version 9"),
        (
            json!({ "FunctionVersion": "$LATEST" }),
            400,
            "not a published version number",
        ),
        (
            json!({ "RoutingConfig": { "AdditionalVersionWeights": { "2": 1.5 } } }),
            400,
            "from 0.0 to 1.0, not 1.5",
        ),
        (
            json!({ "FunctionVersion": "2", "RoutingConfig": { "AdditionalVersionWeights": { "2": 0.1 } } }),
            400,
            "is the alias's main version",
        ),
        (
            json!({ "RoutingConfig": { "AdditionalVersionWeights": { "1": 0.1, "2": 0.1 } } }),
            400,
            "at most one additional version",
        ),
        (json!({ "Function": "1" }), 400, "unknown field"),
    ] {
        let (got, text) = status_of(&t, "PUT", alias, body.clone()).await;
        assert!(got == status && text.contains(says), "{body}: {got} {text}");
    }
    assert_eq!(
        t.admin_json(alias).await["RoutingConfig"]["AdditionalVersionWeights"]["2"],
        0.5
    );

    // A rollback after a hotfix deploy puts live back where it was; with no move, nothing to do.
    let (got, text) = status_of(&t, "POST", "/functions/auth/rollback", json!(null)).await;
    assert!(
        got == 409 && text.contains("nothing to roll back"),
        "{got} {text}"
    );
    t.set_variables("auth", json!({ "FAULT_MODE": "exception" }))
        .await;
    assert_eq!(t.get("/auth").await.status, 500);
    let (got, text) = status_of(&t, "POST", "/functions/auth/rollback", json!(null)).await;
    assert!(
        got == 200 && text.contains("live on version 1 again (was 2)"),
        "{got} {text}"
    );
    assert_eq!(t.get("/auth").await.status, 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_canary_is_rolled_back_by_its_alarm_and_the_refusals_change_nothing() {
    let t = start_with(|_| {}, outage_config::MetricDelays::default()).await;
    // Refused before anything changes: exit 2, $LATEST and the alias as they were.
    let before = t.admin_json("/functions/payment-fixed/versions").await;
    let not_executable = t.root.path().join("payment");
    std::fs::write(&not_executable, "not a program").unwrap();
    for (args, says) in [
        (
            vec!["--strategy", "canary:0%:1m"],
            "the percentage must be 1 to 99, not 0",
        ),
        (
            vec!["--strategy", "blue-green"],
            "unknown release strategy \"blue-green\"",
        ),
        (
            vec!["--set", "FAULT_MODE=bogus"],
            "FAULT_MODE=\"bogus\" is invalid",
        ),
        (vec!["--unset", "NOPE"], "payment-fixed has no variable NOPE"),
        (
            vec!["--binary", not_executable.to_str().unwrap()],
            "not executable",
        ),
        (vec![], "nothing to release: live already serves version 1"),
    ] {
        let mut all = vec!["release", "payment-fixed"];
        all.extend(args.iter().copied());
        let (code, _, err) = outage_lab(&t, &all).await;
        assert!(code == 2 && err.contains(says), "{all:?}: {code} {err}");
    }
    let (code, _, err) = outage_lab(&t, &["release", "nope", "--set", "A=b"]).await;
    assert!(code == 2 && err.contains("unknown function \"nope\""), "{err}");
    let (code, _, err) = outage_lab(&t, &["rollback", "payment-fixed"]).await;
    assert!(code == 2 && err.contains("nothing to roll back"), "{err}");
    assert_eq!(t.admin_json("/functions/payment-fixed/versions").await, before);

    // The seed's broken payment released as a 10 % canary with no check before traffic: the
    // fast alarm stops it and the alias goes back, with no one acting.
    let (code, out, err) = outage_lab(
        &t,
        &[
            "release",
            "payment-fixed",
            "--set",
            "FAULT_MODE=exception",
            "--strategy",
            "canary:10%:5m",
            "--skip-check",
            "--json",
        ],
    )
    .await;
    assert_eq!(code, 1, "{out}\n{err}");
    let done: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(done["status"], "Stopped", "{done}");
    assert_eq!(done["stopped_by"], "dev-payment-fixed-fast-errors");
    assert_eq!(
        (done["from_version"].as_str(), done["to_version"].as_str()),
        (Some("1"), Some("2"))
    );
    let on_new = done["traffic"]["2"]["requests"].as_u64().unwrap();
    let on_old = done["traffic"]["1"]["requests"].as_u64().unwrap();
    assert!(on_new > 0 && on_old > on_new, "the canary saw a share: {done}");
    assert_eq!(done["traffic"]["1"]["failed"], 0);
    assert!(err.contains("10% of live's traffic on version 2"), "{err}");
    assert!(err.contains("stopped and rolled back"), "{err}");
    let live = t.admin_json("/functions/payment-fixed/aliases/live").await;
    assert_eq!(live["FunctionVersion"], "1");
    assert!(live.get("RoutingConfig").is_none(), "weights cleared: {live}");
    let changes = t.admin_json("/changes").await;
    let names: Vec<(&str, &str)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["event_name"].as_str().unwrap(), c["actor"].as_str().unwrap()))
        .collect();
    for want in [
        ("UpdateFunctionConfiguration", "root"),
        ("PublishVersion", "root"),
        ("CreateDeployment", "codedeploy"),
        ("UpdateAlias", "codedeploy"),
        ("DeploymentEnded", "codedeploy"),
    ] {
        assert!(names.iter().any(|(n, _)| *n == want.0), "{want:?} in {names:?}");
    }

    // The same broken build, checked before traffic: it fails at once and no traffic moves.
    let (code, out, _) = outage_lab(&t, &["release", "payment-fixed", "--no-traffic", "--json"]).await;
    assert_eq!(code, 1);
    let failed: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(failed["status"], "Failed");
    assert!(
        failed["events"]
            .to_string()
            .contains("pre-traffic check of version 2 failed"),
        "{failed}"
    );
    assert_eq!(failed["traffic"], json!({}));
    assert_eq!(
        t.admin_json("/functions/payment-fixed/aliases/live").await["FunctionVersion"],
        "1"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_good_canary_is_promoted_and_a_person_can_roll_it_back() {
    let t = start_with(|_| {}, outage_config::MetricDelays::default()).await;
    // A second release while one runs is refused; the first goes on.
    let running = t
        .admin(
            "POST",
            "/functions/product/releases",
            Some(json!({ "set": { "GREETING": "hello" }, "strategy": "canary:10%:1m" })),
        )
        .await;
    assert_eq!(running.status, 200, "{}", running.text());
    let id = running.json().unwrap()["id"].as_str().unwrap().to_owned();
    let (code, _, err) = outage_lab(&t, &["release", "product", "--set", "X=1"]).await;
    assert!(
        code == 2 && err.contains(&format!("release {id} of product is in progress")),
        "{err}"
    );
    let (got, text) = status_of(
        &t,
        "PUT",
        "/functions/product/aliases/live",
        json!({ "FunctionVersion": "1" }),
    )
    .await;
    assert!(
        got == 409 && text.contains("is moving this alias"),
        "{got} {text}"
    );

    // A person stops it: the alias goes back at once.
    let (code, out, _) = outage_lab(&t, &["rollback", "product", "--actor", "alice"]).await;
    assert_eq!(code, 0);
    assert!(
        out.contains("stopped and rolled back by alice")
            || out.contains("stopped before any traffic moved by alice"),
        "{out}"
    );
    let r = t.admin_json(&format!("/releases/{id}")).await;
    assert_eq!(
        (r["status"].as_str(), r["stopped_by"].as_str()),
        (Some("Stopped"), Some("alice"))
    );
    assert_eq!(
        t.admin_json("/functions/product/aliases/live").await["FunctionVersion"],
        "1"
    );

    // A healthy build goes to 100 % after the canary's minute; traffic reached both versions.
    let (code, out, err) = outage_lab(&t, &["release", "auth", "--set", "GREETING=hello", "--json"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let done: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(done["status"], "Succeeded");
    assert_eq!(done["strategy"], "canary:10%:1m", "the stage file's strategy");
    assert!(err.contains("pre-traffic check: version 2 answered 200"), "{err}");
    assert!(done["traffic"]["2"]["requests"].as_u64().unwrap() > 0, "{done}");
    let r = t.get("/auth").await;
    assert_eq!((r.status, r.header("x-function-version")), (200, Some("2")));

    // Rolled back after it succeeded: live on the version it replaced.
    let (code, out, _) = outage_lab(&t, &["rollback", "auth"]).await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("live on version 1 again"), "{out}");
    eventually("version 1 answering", Duration::from_secs(5), || async {
        (t.get("/auth").await.header("x-function-version") == Some("1")).then_some(())
    })
    .await;
    t.stop().await;
}
