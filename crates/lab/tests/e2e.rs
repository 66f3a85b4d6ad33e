//! End-to-end: the lab on the real clock, running the real function binaries.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use bytes::Bytes;
use common::{eventually, messages, start, start_with};
use outage_lab::http::request;
use serde_json::{json, Value};

const INTERNAL: &str = r#"{"message":"Internal Server Error"}"#;

fn now_secs() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dev_route_answers_exactly() {
    let t = start(|_| {}).await;
    let mut ids = HashSet::new();

    let auth = t.get("/auth").await;
    assert_eq!(auth.status, 200, "{}", auth.text());
    assert_eq!(auth.header("content-type"), Some("application/json"));
    let body = auth.json().unwrap();
    // JSON objects are unordered; serde_json's key order even depends on workspace features.
    let mut keys: Vec<&str> = body.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["message", "service", "status", "timestamp"]);
    assert_eq!(
        (body["service"].as_str(), body["status"].as_str()),
        (Some("auth-service"), Some("ok"))
    );
    assert_eq!(body["message"], "auth service healthy");
    assert!((body["timestamp"].as_i64().unwrap() - now_secs()).abs() < 5);
    ids.insert(auth.header("apigw-requestid").unwrap().to_owned());

    let product = t.get("/product").await;
    assert_eq!(product.status, 200);
    let body = product.json().unwrap();
    assert_eq!(body["service"], "product-service");
    let products = body["products"].as_array().unwrap();
    assert!(!products.is_empty());
    for p in products {
        let mut keys: Vec<&str> = p.as_object().unwrap().keys().map(String::as_str).collect();
        keys.sort();
        assert_eq!(keys, ["currency", "id", "in_stock", "name", "price_cents"]);
    }
    ids.insert(product.header("apigw-requestid").unwrap().to_owned());

    let pay = t.get("/pay").await;
    assert_eq!((pay.status, pay.text().as_str()), (500, INTERNAL));
    assert_eq!(pay.header("content-type"), Some("application/json"));
    ids.insert(pay.header("apigw-requestid").unwrap().to_owned());

    let fixed = t.get("/pay-fixed").await;
    assert_eq!(fixed.status, 200);
    let body = fixed.json().unwrap();
    assert_eq!(
        (body["service"].as_str(), body["message"].as_str()),
        (Some("payment-service"), Some("payment service reachable"))
    );
    ids.insert(fixed.header("apigw-requestid").unwrap().to_owned());

    for (method, path) in [("GET", "/nope"), ("POST", "/auth"), ("GET", "/auth/extra")] {
        let r = request(method, &format!("{}{path}", t.lab.gateway_url), &[], Bytes::new())
            .await
            .unwrap();
        assert_eq!(
            (r.status, r.text().as_str()),
            (404, r#"{"message":"Not Found"}"#),
            "{method} {path}"
        );
        ids.insert(
            r.header("apigw-requestid")
                .expect("apigw-requestid on a 404")
                .to_owned(),
        );
    }
    assert_eq!(ids.len(), 7, "every response has its own apigw-requestid");

    // A second call reuses the warm environment: one environment, two invocations, and only
    // the first REPORT carries Init Duration.
    assert_eq!(t.get("/auth").await.status, 200);
    let f = t.admin_json("/functions/auth").await;
    let envs = f["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 1, "{f}");
    assert_eq!(
        (envs[0]["invocations"].as_u64(), envs[0]["state"].as_str()),
        (Some(2), Some("warm"))
    );
    let logs = messages(&t.log_messages("auth").await);
    let reports: Vec<&String> = logs
        .iter()
        .filter(|m| m.starts_with("REPORT RequestId: "))
        .collect();
    assert_eq!(reports.len(), 2, "{logs:#?}");
    assert!(
        reports[0].contains("\tInit Duration: ") && !reports[1].contains("Init Duration"),
        "{reports:#?}"
    );
    for r in &reports {
        assert!(
            r.contains("\tDuration: ")
                && r.contains(" ms\tBilled Duration: ")
                && r.contains("\tMemory Size: 128 MB\tMax Memory Used: "),
            "{r}"
        );
    }
    assert_eq!(
        logs.iter()
            .filter(|m| m.starts_with("START RequestId: ") && m.ends_with(" Version: 1"))
            .count(),
        2
    );
    assert_eq!(
        logs.iter().filter(|m| m.starts_with("END RequestId: ")).count(),
        2
    );
    let stream = f["environments"][0]["log_stream"].as_str().unwrap();
    assert!(
        stream.starts_with(&format!("{}/", time::OffsetDateTime::now_utc().year()))
            && stream.contains("/[1]"),
        "{stream}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_every_request_once() {
    let t = start(|_| {}).await;
    let plan = [
        ("/auth", 200),
        ("/auth", 200),
        ("/pay-fixed", 200),
        ("/pay", 500),
        ("/pay", 500),
        ("/missing", 404),
    ];
    for (path, status) in plan {
        assert_eq!(t.get(path).await.status, status, "{path}");
    }
    let api = t.api_dims();
    let count = t.metric_sum("AWS/ApiGateway", "Count", &api).await;
    let c4 = t.metric_sum("AWS/ApiGateway", "4xx", &api).await;
    let c5 = t.metric_sum("AWS/ApiGateway", "5xx", &api).await;
    let twos = plan.iter().filter(|(_, s)| *s / 100 == 2).count() as f64;
    assert_eq!((count, c4, c5), (6.0, 1.0, 2.0));
    assert_eq!(count, twos + c4 + c5, "Count = 2xx + 4xx + 5xx");
    assert_eq!(
        t.metric("AWS/ApiGateway", "Latency", &api, "SampleCount")
            .await
            .iter()
            .sum::<f64>(),
        6.0
    );
    // The 404 never reached a function: five integrations.
    assert_eq!(
        t.metric("AWS/ApiGateway", "IntegrationLatency", &api, "SampleCount")
            .await
            .iter()
            .sum::<f64>(),
        5.0
    );

    let f = |name: &'static str| [("FunctionName", name)];
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Invocations", &f("dev-auth")).await,
        2.0
    );
    assert_eq!(t.metric_sum("AWS/Lambda", "Errors", &f("dev-auth")).await, 0.0);
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Invocations", &f("dev-payment")).await,
        2.0
    );
    assert_eq!(t.metric_sum("AWS/Lambda", "Errors", &f("dev-payment")).await, 2.0);
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Errors", &f("dev-payment-fixed"))
            .await,
        0.0
    );
    assert!(t.metric_sum("AWS/Lambda", "Throttles", &f("dev-auth")).await == 0.0);
    assert_eq!(
        t.metric("AWS/Lambda", "Duration", &f("dev-auth"), "SampleCount")
            .await
            .iter()
            .sum::<f64>(),
        2.0
    );
    // The functions' own EMF lines reach the store: OutageLab Faults per Service.
    // Those lines travel through the process's stdout pipe, so they may land just after the answer.
    eventually("OutageLab Faults = 2", Duration::from_secs(5), || async {
        let faults = t
            .metric("OutageLab", "Faults", &[("Service", "dev-payment")], "Sum")
            .await;
        (faults.iter().sum::<f64>() == 2.0).then_some(())
    })
    .await;
    t.stop().await;
}

/// AWS's metric delays, as the lab models them by default: AWS/Lambda and AWS/ApiGateway data
/// shows when its minute closes (Lambda sends metrics in one-minute intervals), the functions'
/// EMF metrics 5 s after their log line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metric_data_shows_as_late_as_on_aws() {
    let t = start_with(|_| {}, outage_config::MetricDelays::default()).await;
    let f = [("FunctionName", "dev-payment")];
    let emf = [("Service", "dev-payment")];
    let sent = time::OffsetDateTime::now_utc();
    assert_eq!(t.get("/pay").await.status, 500);
    assert!(t.metric("AWS/Lambda", "Invocations", &f, "Sum").await.is_empty());
    assert!(t.metric("OutageLab", "Faults", &emf, "Sum").await.is_empty());
    let minute_closes =
        sent.replace_second(0).unwrap().replace_nanosecond(0).unwrap() + time::Duration::minutes(1);

    eventually("the EMF metric", Duration::from_secs(15), || async {
        let faults = t.metric("OutageLab", "Faults", &emf, "Sum").await;
        (faults.iter().sum::<f64>() == 1.0).then_some(())
    })
    .await;
    let emf_seen = time::OffsetDateTime::now_utc();
    assert!(
        emf_seen - sent >= time::Duration::seconds(5),
        "EMF data showed after {}",
        emf_seen - sent
    );

    eventually("the AWS/Lambda metric", Duration::from_secs(75), || async {
        let n = t.metric("AWS/Lambda", "Invocations", &f, "Sum").await;
        (n.iter().sum::<f64>() == 1.0).then_some(())
    })
    .await;
    let vended_seen = time::OffsetDateTime::now_utc();
    assert!(
        vended_seen >= minute_closes,
        "AWS/Lambda data showed at {vended_seen}, before its minute closed at {minute_closes}"
    );
    let api = t.api_dims();
    assert_eq!(
        t.metric_sum("AWS/ApiGateway", "5xx", &api).await,
        1.0,
        "the API's data with it"
    );
    t.stop().await;
}

/// "What changed?": every control-plane call that changed a function is in the change history
/// (`GET /changes`, `changes.jsonl`), with who, when and which names, never the values.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_history_records_who_changed_what() {
    let t = start(|_| {}).await;
    assert_eq!(t.admin_json("/changes").await, json!([]));
    let auth = format!("Bearer {}", t.lab.token);
    let body = json!({ "Variables": { "FAULT_MODE": "exception", "FAULT_MESSAGE": "secret-looking value" } });
    let r = request(
        "PUT",
        &format!("{}/functions/product/configuration", t.lab.admin_url),
        &[("authorization", &auth), ("x-outage-lab-actor", "alice")],
        Bytes::from(body.to_string()),
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200, "{}", r.text());
    t.set_variables(
        "product",
        json!({ "FAULT_MODE": "latency", "FAULT_LATENCY_MS": "200" }),
    )
    .await;
    let r = t
        .admin(
            "PUT",
            "/functions/auth/concurrency",
            Some(json!({ "ReservedConcurrentExecutions": 1 })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        t.admin("DELETE", "/functions/auth/concurrency", None)
            .await
            .status,
        204
    );
    // A refused call changes nothing and is not a change.
    let r = t
        .admin(
            "PUT",
            "/functions/auth/configuration",
            Some(json!({ "Variables": { "FAULT_MODE": "nope" } })),
        )
        .await;
    assert_eq!(r.status, 400);

    let changes = t.admin_json("/changes").await;
    let rows: Vec<(String, String, String, String)> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["event_name"].as_str().unwrap().to_owned(),
                c["function_name"].as_str().unwrap().to_owned(),
                c["actor"].as_str().unwrap().to_owned(),
                c["summary"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str| (a.to_owned(), b.to_owned(), c.to_owned(), d.to_owned());
    assert_eq!(
        rows,
        [
            row("UpdateFunctionConfiguration", "dev-product", "alice", "variables added FAULT_MESSAGE, FAULT_MODE"),
            row(
                "UpdateFunctionConfiguration",
                "dev-product",
                "admin-api",
                "variables added FAULT_LATENCY_MS; variables removed FAULT_MESSAGE; variables changed FAULT_MODE"
            ),
            // The test's hotfix deploy: a version of $LATEST, and the alias the API invokes.
            row("PublishVersion", "dev-product", "admin-api", "version 2"),
            row("UpdateAlias", "dev-product", "admin-api", "live -> version 2"),
            row("PutFunctionConcurrency", "dev-auth", "admin-api", "reserved concurrency 10 -> 1"),
            row("DeleteFunctionConcurrency", "dev-auth", "admin-api", "reserved concurrency 1 -> unreserved"),
        ]
    );
    let file = std::fs::read_to_string(t.lab.run_dir.join("changes.jsonl")).unwrap();
    assert_eq!(file.lines().count(), 6);
    assert!(
        !file.contains("secret-looking value") && !file.contains("\"exception\""),
        "{file}"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_status_fault_is_an_api_5xx_but_not_a_lambda_error() {
    let t = start(|_| {}).await;
    t.set_variables(
        "payment-fixed",
        json!({ "FAULT_MODE": "status", "FAULT_STATUS": "503" }),
    )
    .await;
    let r = t.get("/pay-fixed").await;
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.header("apigw-requestid").is_some());
    let dims = [("FunctionName", "dev-payment-fixed")];
    assert_eq!(t.metric_sum("AWS/Lambda", "Invocations", &dims).await, 1.0);
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Errors", &dims).await,
        0.0,
        "a handled 503 is not a Lambda error"
    );
    assert_eq!(t.metric_sum("AWS/ApiGateway", "5xx", &t.api_dims()).await, 1.0);
    t.stop().await;
}

/// Waits until one environment of payment-fixed is busy.
async fn one_busy(t: &common::TestLab) {
    eventually("an environment to be busy", Duration::from_secs(10), || async {
        let f = t.admin_json("/functions/payment-fixed").await;
        (f["environments"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["state"] == "busy"))
        .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_and_delete_function_concurrency_apply_at_once() {
    let t = start(|v| {
        v["functions"]["payment-fixed"]["fault"] = json!({ "mode": "latency", "latency_ms": 1500 });
    })
    .await;
    let admin = lab_admin_api::AdminClient::new(&t.lab.admin_url, &t.lab.token).unwrap();
    let stage_value = admin.configuration("payment-fixed").await.unwrap();
    assert!(stage_value.reserved_concurrent_executions.unwrap() > 1);

    // Two warm environments first: the lowered limit must hold even with an idle one at hand.
    let url = format!("{}/pay-fixed", t.lab.gateway_url);
    let two: Vec<_> = (0..2)
        .map(|_| {
            let url = url.clone();
            tokio::spawn(async move { request("GET", &url, &[], Bytes::new()).await.unwrap() })
        })
        .collect();
    for r in two {
        assert_eq!(r.await.unwrap().status, 200);
    }

    let set = admin.put_concurrency("payment-fixed", 1).await.unwrap();
    assert_eq!(set.reserved_concurrent_executions, 1);
    assert_eq!(
        admin
            .configuration("payment-fixed")
            .await
            .unwrap()
            .reserved_concurrent_executions,
        Some(1)
    );
    let slow = {
        let url = url.clone();
        tokio::spawn(async move { request("GET", &url, &[], Bytes::new()).await.unwrap() })
    };
    one_busy(&t).await;
    let throttled = t.get("/pay-fixed").await;
    // A Lambda throttle is API Gateway's 500, as in throttles_at_the_reserved_concurrency.
    assert_eq!(
        (throttled.status, throttled.text().as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
    assert_eq!(slow.await.unwrap().status, 200);
    let dims = [("FunctionName", "dev-payment-fixed")];
    assert_eq!(t.metric_sum("AWS/Lambda", "Throttles", &dims).await, 1.0);

    // Without a reservation the function is limited by the account only: no more throttles.
    admin.delete_concurrency("payment-fixed").await.unwrap();
    assert_eq!(
        admin
            .configuration("payment-fixed")
            .await
            .unwrap()
            .reserved_concurrent_executions,
        None
    );
    let slow = {
        let url = url.clone();
        tokio::spawn(async move { request("GET", &url, &[], Bytes::new()).await.unwrap() })
    };
    one_busy(&t).await;
    assert_eq!(t.get("/pay-fixed").await.status, 200);
    assert_eq!(slow.await.unwrap().status, 200);
    assert_eq!(t.metric_sum("AWS/Lambda", "Throttles", &dims).await, 1.0);

    // Bad input names the field; unknown functions and methods are the router's 404 and 405.
    for (body, status, named) in [
        (
            json!({ "ReservedConcurrentExecutions": "x" }),
            400,
            "ReservedConcurrentExecutions",
        ),
        (
            json!({ "ReservedConcurrentExecutions": 1001 }),
            400,
            "ReservedConcurrentExecutions",
        ),
        (json!({ "Reserved": 1 }), 400, "Reserved"),
    ] {
        let r = t
            .admin("PUT", "/functions/payment-fixed/concurrency", Some(body.clone()))
            .await;
        assert_eq!(r.status, status, "{body}");
        let msg = r.json().unwrap()["message"].as_str().unwrap().to_owned();
        assert!(msg.contains(named), "{body}: {msg}");
    }
    let r = t
        .admin(
            "PUT",
            "/functions/nope/concurrency",
            Some(json!({ "ReservedConcurrentExecutions": 1 })),
        )
        .await;
    assert_eq!(
        (r.status, r.json().unwrap()["message"].as_str().unwrap()),
        (404, r#"unknown function "nope""#)
    );
    let r = t.admin("GET", "/functions/payment-fixed/concurrency", None).await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (405, r#"{"message":"Method Not Allowed"}"#)
    );
    let r = t.admin("GET", "/functions/payment-fixed/nope", None).await;
    assert_eq!((r.status, r.text().as_str()), (404, r#"{"message":"Not Found"}"#));
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttles_at_the_reserved_concurrency() {
    let t = start(|v| {
        v["functions"]["payment-fixed"]["reserved_concurrency"] = 1.into();
        v["functions"]["payment-fixed"]["fault"] = json!({ "mode": "latency", "latency_ms": 1500 });
    })
    .await;
    let url = format!("{}/pay-fixed", t.lab.gateway_url);
    let slow = tokio::spawn(async move { request("GET", &url, &[], Bytes::new()).await.unwrap() });
    one_busy(&t).await;
    let throttled = t.get("/pay-fixed").await;
    // A Lambda throttle is API Gateway's 500, counted in the API's 5xx; 429 is only the
    // API's own throttle (see the_stage_throttle_answers_429_beyond_the_burst).
    assert_eq!(
        (throttled.status, throttled.text().as_str()),
        (500, r#"{"message":"Internal Server Error"}"#)
    );
    assert!(throttled.header("apigw-requestid").is_some());
    let slow = slow.await.unwrap();
    assert_eq!(slow.status, 200, "{}", slow.text());

    let dims = [("FunctionName", "dev-payment-fixed")];
    assert_eq!(t.metric_sum("AWS/Lambda", "Throttles", &dims).await, 1.0);
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Invocations", &dims).await,
        1.0,
        "a throttle is not an invocation"
    );
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Errors", &dims).await,
        0.0,
        "a throttle is not an error"
    );
    let api = t.api_dims();
    assert_eq!(t.metric_sum("AWS/ApiGateway", "5xx", &api).await, 1.0);
    assert_eq!(t.metric_sum("AWS/ApiGateway", "4xx", &api).await, 0.0);
    assert_eq!(t.metric_sum("AWS/ApiGateway", "Count", &api).await, 2.0);
    // Once the environment is free again, the next request is served by it.
    assert_eq!(t.get("/pay-fixed").await.status, 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_answers_500_logs_sandbox_timedout_and_starts_fresh() {
    let t = start(|v| {
        v["functions"]["payment-fixed"]["timeout_s"] = 1.into();
        v["functions"]["payment-fixed"]["fault"] = json!({ "mode": "timeout" });
    })
    .await;
    // Lambda's 1 s timeout comes long before API Gateway's 30 s one: the function error
    // reaches the gateway, which answers 500 (503 is only for the integration timeout).
    for _ in 0..2 {
        let r = t.get("/pay-fixed").await;
        assert_eq!((r.status, r.text().as_str()), (500, INTERNAL));
    }
    let events = t.log_messages("payment-fixed").await;
    let logs = messages(&events);
    let timeouts: Vec<&String> = logs
        .iter()
        .filter(|m| m.contains("Error: Task timed out after 1.00 seconds"))
        .collect();
    assert_eq!(timeouts.len(), 2, "{logs:#?}");
    let reports: Vec<&Value> = events
        .iter()
        .filter(|e| e["message"].as_str().unwrap().starts_with("REPORT "))
        .collect();
    assert_eq!(reports.len(), 2);
    for r in &reports {
        let m = r["message"].as_str().unwrap();
        assert!(
            m.contains("\tDuration: 1000.00 ms\t")
                && m.contains("Status: timeout\tError Type: Sandbox.Timedout"),
            "{m}"
        );
        // Each invocation ran in a new environment: a cold start on its own stream.
        assert!(m.contains("Init Duration: "), "{m}");
    }
    assert_ne!(
        reports[0]["log_stream"], reports[1]["log_stream"],
        "the timed-out environment is not reused"
    );
    let dims = [("FunctionName", "dev-payment-fixed")];
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Errors", &dims).await,
        2.0,
        "timeouts are Lambda errors"
    );
    // The lab keeps serving: remove the fault and the function answers.
    t.set_variables("payment-fixed", json!({})).await;
    assert_eq!(t.get("/pay-fixed").await.status, 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configuration_update_lets_busy_environments_finish_then_retires_them() {
    let t = start(|v| {
        v["functions"]["payment-fixed"]["fault"] = json!({ "mode": "latency", "latency_ms": 1000 })
    })
    .await;
    assert_eq!(t.get("/auth").await.status, 200);
    let url = format!("{}/pay-fixed", t.lab.gateway_url);
    let slow = tokio::spawn(async move { request("GET", &url, &[], Bytes::new()).await.unwrap() });
    let old = eventually("a busy environment", Duration::from_secs(10), || async {
        let f = t.admin_json("/functions/payment-fixed").await;
        f["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["state"] == "busy")
            .cloned()
    })
    .await;
    let idle_auth = t.admin_json("/functions/auth").await["environments"][0]["id"].clone();
    let updated = t.set_variables("payment-fixed", json!({})).await;
    // A change, so that a new version goes on live and version 1 serves no more.
    t.set_variables("auth", json!({ "GREETING": "hello" })).await;
    // The idle auth environment is retired at once; the busy one finishes its invocation.
    assert!(t.admin_json("/functions/auth").await["environments"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["id"] != idle_auth));
    assert_eq!(
        slow.await.unwrap().status,
        200,
        "a busy environment drains instead of being killed"
    );
    let f = t.admin_json("/functions/payment-fixed").await;
    assert!(
        f["environments"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["id"] != old["id"]),
        "then it is retired: {f}"
    );
    assert_eq!(t.get("/pay-fixed").await.status, 200);
    let f = t.admin_json("/functions/payment-fixed").await;
    let envs = f["environments"].as_array().unwrap();
    assert_eq!(envs.len(), 1);
    assert_eq!(
        envs[0]["revision_id"], updated["RevisionId"],
        "new environments run the new configuration"
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_gives_up_after_30_s_with_503() {
    // The function may run 40 s, longer than API Gateway's 30 s integration timeout.
    let t = start(|v| {
        v["functions"]["payment-fixed"]["timeout_s"] = 40.into();
        v["functions"]["payment-fixed"]["fault"] = json!({ "mode": "timeout" });
    })
    .await;
    let started = std::time::Instant::now();
    let r = t.get("/pay-fixed").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (503, r#"{"message":"Service Unavailable"}"#)
    );
    assert!(r.header("apigw-requestid").is_some());
    assert!(started.elapsed() >= outage_lab::gateway::INTEGRATION_TIMEOUT);
    assert_eq!(t.metric_sum("AWS/ApiGateway", "5xx", &t.api_dims()).await, 1.0);
    // Lambda's side is still running the invocation: the environment is busy.
    let f = t.admin_json("/functions/payment-fixed").await;
    assert_eq!(f["environments"][0]["state"], "busy", "{f}");
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crashing_function_is_replaced_and_the_lab_keeps_serving() {
    let t = start(|_| {}).await;
    assert_eq!(t.get("/pay-fixed").await.status, 200);
    t.set_variables("payment-fixed", json!({ "FAULT_MODE": "panic" }))
        .await;
    for _ in 0..2 {
        let r = t.get("/pay-fixed").await;
        assert_eq!((r.status, r.text().as_str()), (500, INTERNAL));
    }
    assert_eq!(t.get("/auth").await.status, 200, "other functions are unaffected");
    let events = t.log_messages("payment-fixed").await;
    let exits: Vec<&Value> = events
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .unwrap()
                .contains("Error: Runtime exited with error: ")
        })
        .collect();
    assert_eq!(exits.len(), 2, "{:#?}", messages(&events));
    assert!(exits
        .iter()
        .all(|e| e["message"].as_str().unwrap().ends_with("\nRuntime.ExitError")));
    assert_ne!(
        exits[0]["log_stream"], exits[1]["log_stream"],
        "each crash ends its environment; the next starts fresh"
    );
    let reports: Vec<String> = messages(&events)
        .into_iter()
        .filter(|m| m.contains("Error Type: Runtime.ExitError"))
        .collect();
    assert_eq!(reports.len(), 2);
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Errors", &[("FunctionName", "dev-payment-fixed")])
            .await,
        2.0
    );
    // No environment of the crashed revision is left.
    let f = t.admin_json("/functions/payment-fixed").await;
    assert!(f["environments"].as_array().unwrap().is_empty(), "{f}");
    t.set_variables("payment-fixed", json!({})).await;
    assert_eq!(t.get("/pay-fixed").await.status, 200);
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_init_failure_is_reported_and_only_lambda_variables_reach_the_process() {
    // A stand-in `auth` that records its environment and dies during init, as a function
    // with a broken configuration does; the other functions are the real binaries.
    let bins = tempfile::tempdir().unwrap();
    let real = common::bin_dir();
    for code in ["product", "payment"] {
        std::os::unix::fs::symlink(real.join(code), bins.path().join(code)).unwrap();
    }
    let env_file = bins.path().join("env.txt");
    let script = format!(
        "#!/bin/sh\nenv > '{}'\necho 'init failed: no table configured' >&2\nexit 3\n",
        env_file.display()
    );
    let auth = bins.path().join("auth");
    std::fs::write(&auth, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&auth, std::fs::Permissions::from_mode(0o755)).unwrap();

    let root = common::stage_root(|_| {});
    let config = outage_lab::LabConfig {
        root: root.path().to_path_buf(),
        stage: "dev".into(),
        port: 0,
        admin_port: 0,
        bin_dir: bins.path().to_path_buf(),
        run_dir: None,
        console: false,
        metric_delays: outage_config::MetricDelays::default(),
        reserved_concurrency: Default::default(),
    };
    let lab = outage_lab::Lab::start(config).await.unwrap();
    let r = request("GET", &format!("{}/auth", lab.gateway_url), &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!((r.status, r.text().as_str()), (500, INTERNAL));

    let vars: std::collections::BTreeMap<String, String> = std::fs::read_to_string(&env_file)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    assert_eq!(vars["AWS_LAMBDA_FUNCTION_NAME"], "dev-auth");
    assert_eq!(vars["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"], "128");
    // The API invokes the `live` alias, which `terraform apply` leaves on version 1.
    assert_eq!(vars["AWS_LAMBDA_FUNCTION_VERSION"], "1");
    assert_eq!(vars["AWS_LAMBDA_LOG_GROUP_NAME"], "/aws/lambda/dev-auth");
    assert_eq!(vars["AWS_LAMBDA_LOG_FORMAT"], "JSON");
    assert_eq!(vars["AWS_REGION"], "eu-west-1");
    assert!(vars["AWS_LAMBDA_RUNTIME_API"].starts_with("127.0.0.1:"));
    assert!(vars["AWS_LAMBDA_LOG_STREAM_NAME"].contains("/[1]"));
    assert!(
        std::env::var("CARGO_MANIFEST_DIR").is_ok() && !vars.contains_key("CARGO_MANIFEST_DIR"),
        "the lab's own environment leaked: {vars:?}"
    );
    assert!(!vars.contains_key("HOME"), "{vars:?}");

    // The function's stderr arrives through a pipe, possibly just after the answer.
    let logs = eventually(
        "the function's own stderr line",
        Duration::from_secs(5),
        || async {
            let logs = lab.state.logs.query("auth", &Default::default()).unwrap();
            logs.iter()
                .any(|e| e.message == "init failed: no table configured")
                .then_some(logs)
        },
    )
    .await;
    let text: Vec<&str> = logs.iter().map(|e| e.message.as_str()).collect();
    assert!(
        text.iter().any(|m| m.starts_with("INIT_REPORT Init Duration: ")
            && m.contains("Status: error\tError Type: Runtime.ExitError")),
        "{text:#?}"
    );
    assert!(
        text.iter()
            .any(|m| m.contains("Error: Runtime exited with error: exit status 3\nRuntime.ExitError")),
        "{text:#?}"
    );
    let product = request("GET", &format!("{}/product", lab.gateway_url), &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!(product.status, 200, "the other functions keep serving");
    lab.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_api_is_private_and_validates_input() {
    let t = start(|_| {}).await;
    let admin = &t.lab.admin_url;
    assert!(admin.starts_with("http://127.0.0.1:") && t.lab.gateway_url.starts_with("http://127.0.0.1:"));

    // The token file: 0600, the token itself, and lab.json pointing at it.
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(&t.lab.token_file).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read_to_string(&t.lab.token_file).unwrap(), t.lab.token);
    assert_eq!(t.lab.token.len(), 64);
    let current = t.root.path().join(".outage-lab/dev/current/lab.json");
    let info: Value = serde_json::from_str(&std::fs::read_to_string(current).unwrap()).unwrap();
    assert_eq!(info["admin_url"].as_str(), Some(admin.as_str()));
    assert_eq!(info["api_id"].as_str(), Some(t.lab.api_id.as_str()));

    for headers in [
        vec![],
        vec![("authorization", "Bearer wrong")],
        vec![("authorization", "Basic x")],
    ] {
        let r = request("GET", &format!("{admin}/functions"), &headers, Bytes::new())
            .await
            .unwrap();
        assert_eq!(
            (r.status, r.text().as_str()),
            (401, r#"{"message":"Unauthorized"}"#)
        );
    }
    let health = request("GET", &format!("{admin}/healthz"), &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!(
        (health.status, health.text().as_str()),
        (200, r#"{"status":"ok"}"#)
    );
    let page = request("GET", &format!("{admin}/"), &[], Bytes::new())
        .await
        .unwrap();
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(
        page.text().contains("<title>outage-lab dashboard</title>"),
        "the dashboard page is built in"
    );

    // Nothing listens beyond loopback: the machine's other address refuses the ports.
    let probe = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    if probe.connect("10.255.255.255:9").is_ok() {
        let ip = probe.local_addr().unwrap().ip();
        if !ip.is_loopback() && !ip.is_unspecified() {
            for url in [admin, &t.lab.gateway_url] {
                let port: u16 = url.rsplit(':').next().unwrap().parse().unwrap();
                assert!(
                    std::net::TcpStream::connect((ip, port)).is_err(),
                    "{url} answers on {ip}"
                );
            }
        }
    }

    // Configuration updates are validated like Lambda and the functions validate them.
    let cases = [
        (json!({ "Variables": { "FAULT_MODE": "explode" } }), "FAULT_MODE"),
        (
            json!({ "Variables": { "FAULT_MODE": "latency" } }),
            "FAULT_LATENCY_MS",
        ),
        (
            json!({ "Variables": { "FAULT_MODE": "status", "FAULT_STATUS": "200" } }),
            "FAULT_STATUS",
        ),
        (json!({ "Variables": { "FAULT_RATE": "2" } }), "FAULT_RATE"),
        (
            json!({ "Variables": { "AWS_REGION": "us-east-1" } }),
            "AWS_REGION",
        ),
        (json!({ "Variables": { "FAULT_MODE": 1 } }), "FAULT_MODE"),
        (json!({ "Vars": {} }), "Variables"),
    ];
    for (body, named) in cases {
        let r = t
            .admin("PUT", "/functions/payment/configuration", Some(body.clone()))
            .await;
        assert_eq!(r.status, 400, "{body}");
        let msg = r.json().unwrap()["message"].as_str().unwrap().to_owned();
        assert!(msg.contains(named), "{body}: {msg}");
    }
    assert_eq!(
        t.admin(
            "PUT",
            "/functions/nope/configuration",
            Some(json!({ "Variables": {} }))
        )
        .await
        .status,
        404
    );
    assert_eq!(t.admin("GET", "/alarms/nope", None).await.status, 404);
    assert_eq!(t.admin("GET", "/logs/nope", None).await.status, 404);
    assert_eq!(t.admin("DELETE", "/functions", None).await.status, 405);
    assert_eq!(
        t.admin("GET", "/metrics?namespace=AWS/Lambda&metric=Errors&stat=p", None)
            .await
            .status,
        400
    );

    // A good update: Lambda's shape, a new RevisionId, the variables replaced as a whole.
    let before = t.admin_json("/functions/payment/configuration").await;
    assert_eq!(before["FunctionName"], "dev-payment");
    assert_eq!(before["Environment"]["Variables"]["FAULT_MODE"], "exception");
    let after = t.set_variables("payment", json!({ "FAULT_MODE": "none" })).await;
    assert_ne!(before["RevisionId"], after["RevisionId"]);
    assert_eq!(after["Environment"]["Variables"], json!({ "FAULT_MODE": "none" }));
    assert_eq!(
        (
            after["MemorySize"].as_u64(),
            after["Timeout"].as_u64(),
            after["LastUpdateStatus"].as_str()
        ),
        (Some(128), Some(3), Some("Successful"))
    );
    assert_eq!(
        t.get("/pay").await.status,
        200,
        "new environments get the new configuration"
    );

    // Status and the drill document.
    let status = t.admin_json("/status").await;
    assert_eq!(status["functions"], 4);
    assert_eq!(status["stage"], "dev");
    let alarms = &status["alarms"];
    assert_eq!(
        alarms["OK"].as_u64().unwrap()
            + alarms["ALARM"].as_u64().unwrap()
            + alarms["INSUFFICIENT_DATA"].as_u64().unwrap(),
        17
    );
    assert_eq!(
        t.admin_json("/drill").await,
        json!({ "running": false, "steps": [] })
    );
    let drill = json!({ "running": true, "drill_id": "d1", "steps": [{ "name": "baseline", "status": "running" }], "events": [] });
    assert_eq!(t.admin("PUT", "/drill", Some(drill.clone())).await.status, 200);
    assert_eq!(t.admin_json("/drill").await, drill);
    assert_eq!(
        t.admin("PUT", "/drill", Some(json!({ "running": "yes" })))
            .await
            .status,
        400
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_requests_get_a_clear_4xx() {
    let t = start(|_| {}).await;
    let big = "x".repeat(11_000);
    let r = request(
        "GET",
        &format!("{}/auth", t.lab.gateway_url),
        &[("x-big", &big)],
        Bytes::new(),
    )
    .await
    .unwrap();
    assert_eq!(
        (r.status, r.text().as_str()),
        (431, r#"{"message":"Request Header Fields Too Large"}"#)
    );
    assert!(r.header("apigw-requestid").is_some());
    let body = Bytes::from(vec![b'a'; 10 * 1024 * 1024 + 1]);
    let r = request("GET", &format!("{}/auth", t.lab.gateway_url), &[], body)
        .await
        .unwrap();
    assert_eq!(
        (r.status, r.text().as_str()),
        (413, r#"{"message":"Request Entity Too Large"}"#)
    );
    assert!(r.header("apigw-requestid").is_some());
    // Just under the header limit still reaches the function.
    let ok = "x".repeat(9_000);
    assert_eq!(
        request(
            "GET",
            &format!("{}/auth", t.lab.gateway_url),
            &[("x-ok", &ok)],
            Bytes::new()
        )
        .await
        .unwrap()
        .status,
        200
    );
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stage_throttle_answers_429_beyond_the_burst() {
    // A bucket of 2 that refills once a minute: the third quick request is throttled.
    let t = start(|v| v["api_throttle"] = json!({ "rate_limit": 0.0167, "burst_limit": 2 })).await;
    assert_eq!(t.get("/auth").await.status, 200);
    assert_eq!(t.get("/auth").await.status, 200);
    let r = t.get("/auth").await;
    assert_eq!(
        (r.status, r.text().as_str()),
        (429, r#"{"message":"Too Many Requests"}"#)
    );
    assert!(r.header("apigw-requestid").is_some());
    let api = t.api_dims();
    assert_eq!(t.metric_sum("AWS/ApiGateway", "Count", &api).await, 3.0);
    assert_eq!(t.metric_sum("AWS/ApiGateway", "4xx", &api).await, 1.0);
    let dims = [("FunctionName", "dev-auth")];
    assert_eq!(
        t.metric_sum("AWS/Lambda", "Invocations", &dims).await,
        2.0,
        "a gateway throttle never reaches Lambda"
    );
    assert_eq!(t.metric_sum("AWS/Lambda", "Throttles", &dims).await, 0.0);
    t.stop().await;
}

/// The seed's payment is deployed broken on purpose (the stage file sets its fault): its alarms
/// fire like any other, on a topic nobody subscribes to, and never on on-call's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_broken_on_purpose_pages_nobody() {
    let t = start_with(|_| {}, outage_config::MetricDelays::default()).await;
    let broken = "dev-payment-fast-errors";
    let healthy = "dev-payment-fixed-fast-errors";
    let view = t.admin_json(&format!("/alarms/{broken}")).await;
    assert_eq!(view["AlarmActions"], json!(["dev-known-broken"]));
    assert_eq!(
        t.admin_json(&format!("/alarms/{healthy}")).await["AlarmActions"],
        json!(["dev-alarms"])
    );
    assert!(
        view["AlarmDescription"]
            .as_str()
            .unwrap()
            .ends_with("Runbook: docs/runbooks/fast-errors.md"),
        "{view}"
    );
    let fired = || {
        let t = &t;
        move || async move {
            assert!(t.get("/pay").await.status >= 500);
            let a = t.admin_json(&format!("/alarms/{broken}")).await;
            (a["StateValue"] == "ALARM").then_some(a)
        }
    };
    eventually("ALARM", Duration::from_secs(45), fired()).await;
    // Delivered a moment after the state change is readable, as SNS delivers asynchronously.
    let notes = eventually("the ALARM notification", Duration::from_secs(10), || async {
        let notes = t.admin_json("/notifications").await;
        let delivered = notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["alarm_name"] == broken);
        delivered.then_some(notes)
    })
    .await;
    let notes = notes.as_array().unwrap();
    let of = |name: &str| {
        notes
            .iter()
            .filter(move |n| n["alarm_name"] == name)
            .collect::<Vec<_>>()
    };
    let alarm = of(broken)
        .into_iter()
        .find(|n| n["new_state"] == "ALARM")
        .expect("the broken payment's alarm notified its topic");
    assert_eq!(alarm["topic"], "dev-known-broken");
    assert!(
        alarm["description"].as_str().unwrap().contains("Runbook: "),
        "{alarm}"
    );
    assert!(
        notes
            .iter()
            .filter(|n| n["alarm_name"].as_str().unwrap().starts_with("dev-payment-")
                && !n["alarm_name"]
                    .as_str()
                    .unwrap()
                    .starts_with("dev-payment-fixed-"))
            .all(|n| n["topic"] == "dev-known-broken"),
        "nothing of the broken payment reaches dev-alarms: {notes:?}"
    );
    // Nor does it move the composite alarm: its rule leaves the broken payment's alarms out.
    let composites = t.admin_json("/composite-alarms").await;
    let health = &composites.as_array().unwrap()[0];
    assert_eq!(health["AlarmName"], "dev-service-health");
    assert_eq!(health["AlarmActions"], json!(["dev-alarms"]));
    let rule = health["AlarmRule"].as_str().unwrap();
    assert!(
        rule.contains("ALARM(\"dev-payment-fixed-fast-errors\")"),
        "{rule}"
    );
    assert!(!rule.contains(&format!("\"{broken}\"")), "{rule}");
    assert!(
        of("dev-service-health")
            .iter()
            .all(|n| !n["reason"].as_str().unwrap().contains(broken)),
        "{notes:?}"
    );
    // The API's 5xx alarm leaves GET /pay out (metric math on the per-route metrics): once the
    // minutes of those failures have been published and judged, the API had well over its
    // threshold of 5xx a minute, all of them /pay's, and the alarm stayed out of ALARM.
    let api_alarm = t.admin_json("/alarms/dev-api-5xx").await;
    assert!(
        api_alarm["AlarmDescription"]
            .as_str()
            .unwrap()
            .contains(" without GET /pay (broken on purpose) "),
        "{api_alarm}"
    );
    let api = t.api_dims();
    eventually(
        "the failures' minutes published",
        Duration::from_secs(75),
        || async {
            let per_minute = t.metric("AWS/ApiGateway", "5xx", &api, "Sum").await;
            (per_minute.iter().any(|&n| n >= 5.0) && time::OffsetDateTime::now_utc().second() >= 3)
                .then_some(())
        },
    )
    .await;
    let pay = [
        ("ApiId", t.lab.api_id.as_str()),
        ("Method", "GET"),
        ("Resource", "/pay"),
        ("Stage", "$default"),
    ];
    assert_eq!(
        t.metric_sum("AWS/ApiGateway", "5xx", &pay).await,
        t.metric_sum("AWS/ApiGateway", "5xx", &api).await,
        "every 5xx was /pay's"
    );
    let history = t.admin_json("/alarms/dev-api-5xx/history").await;
    assert!(
        history
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["new_state"] != "ALARM"),
        "{history}"
    );
    // The function's own JSON lines carry `timestamp` (RFC 3339) next to `level`: Lambda's
    // log-level filtering treats a JSON line without both as INFO.
    let logs = messages(&t.log_messages("payment").await);
    let own: Vec<Value> = logs
        .iter()
        .filter_map(|m| serde_json::from_str::<Value>(m).ok())
        .filter(|v| v.get("level").is_some())
        .collect();
    assert!(!own.is_empty(), "{logs:#?}");
    for line in &own {
        let at = line["timestamp"].as_str().unwrap_or_default();
        assert!(
            time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).is_ok(),
            "{line}"
        );
    }
    t.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_fires_and_clears_with_one_notification_per_change() {
    // `missing` keeps the alarm in INSUFFICIENT_DATA until the first datapoint arrives.
    let t = start_with(
        |v| v["alarms"]["fast_errors"]["treat_missing_data"] = "missing".into(),
        outage_config::MetricDelays::default(),
    )
    .await;
    let name = "dev-payment-fixed-fast-errors";
    let alarm = t.admin_json(&format!("/alarms/{name}")).await;
    assert_eq!(alarm["StateValue"], "INSUFFICIENT_DATA");
    assert_eq!(alarm["StateReason"], "Unchecked: Initial alarm creation");
    assert_eq!(
        (
            alarm["Namespace"].as_str(),
            alarm["MetricName"].as_str(),
            alarm["Period"].as_u64()
        ),
        (Some("OutageLab"), Some("Faults"), Some(20))
    );

    let before =
        t.admin_json("/functions/payment-fixed/configuration").await["Environment"]["Variables"].clone();
    t.set_variables("payment-fixed", json!({ "FAULT_MODE": "exception" }))
        .await;
    let state = |want: &'static str| {
        let t = &t;
        move || async move {
            assert!(t.get("/pay-fixed").await.status >= 200);
            let a = t.admin_json(&format!("/alarms/{name}")).await;
            (a["StateValue"] == want).then_some(a)
        }
    };
    let fired = eventually("ALARM", Duration::from_secs(45), state("ALARM")).await;
    assert!(
        fired["StateReason"]
            .as_str()
            .unwrap()
            .starts_with("Threshold Crossed: 1 datapoint ["),
        "{fired}"
    );
    t.set_variables("payment-fixed", before).await;
    let cleared = eventually("OK", Duration::from_secs(45), state("OK")).await;
    assert!(
        cleared["StateReason"]
            .as_str()
            .unwrap()
            .contains("was not greater than or equal to the threshold (1.0)"),
        "{cleared}"
    );

    // The alarm's new state is readable a moment before its notification is delivered (SNS
    // delivers asynchronously on AWS too), so wait for the second one rather than race it.
    let notes: Vec<Value> = eventually("the OK notification", Duration::from_secs(10), || async {
        let notes: Vec<Value> = t
            .admin_json("/notifications")
            .await
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["alarm_name"] == name)
            .cloned()
            .collect();
        (notes.len() >= 2).then_some(notes)
    })
    .await;
    let changes: Vec<(&str, &str)> = notes
        .iter()
        .map(|n| (n["old_state"].as_str().unwrap(), n["new_state"].as_str().unwrap()))
        .collect();
    assert_eq!(changes, [("INSUFFICIENT_DATA", "ALARM"), ("ALARM", "OK")]);
    assert_eq!(notes[0]["topic"], "dev-alarms");
    assert_eq!(notes[0]["subject"], format!("ALARM: \"{name}\" in EU (Ireland)"));
    let file = std::fs::read_to_string(t.lab.notifications_file()).unwrap();
    let lines: Vec<Value> = file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .filter(|n: &Value| n["alarm_name"] == name)
        .collect();
    assert_eq!(lines, notes, "the outbox file holds the same notifications");
    let history = t.admin_json(&format!("/alarms/{name}/history")).await;
    let hist: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["new_state"].as_str().unwrap())
        .collect();
    assert_eq!(hist, ["ALARM", "OK"]);
    // The stage's composite alarm paged once for it, naming it, on on-call's topic.
    let health: Vec<Value> = t
        .admin_json("/notifications")
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["alarm_name"] == "dev-service-health" && n["new_state"] == "ALARM")
        .cloned()
        .collect();
    assert_eq!(health.len(), 1, "{health:?}");
    assert_eq!(health[0]["topic"], "dev-alarms");
    assert!(
        health[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{name} transitioned to ALARM at ")),
        "{health:?}"
    );
    assert!(health[0]["description"]
        .as_str()
        .unwrap()
        .contains("all runbooks: docs/runbooks/README.md"));
    let composite_history = t.admin_json("/alarms/dev-service-health/history").await;
    assert!(composite_history
        .as_array()
        .unwrap()
        .iter()
        .any(|h| h["new_state"] == "ALARM"));
    t.stop().await;
}
