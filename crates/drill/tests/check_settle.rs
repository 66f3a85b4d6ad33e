//! Route checks right after an apply: a route that answers 503 for a while (an integration
//! still propagating) is asked again until it answers as expected or the settle time runs out,
//! against a real HTTP server on loopback.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use outage_config::Stage;
use outage_drill::check::run_checks;
use outage_drill::traffic::HttpTraffic;

/// The dev stage reduced to its auth route.
fn auth_only() -> Stage {
    let mut stage = Stage::load_named(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), "dev").unwrap();
    stage.routes = BTreeMap::from([("GET /auth".to_owned(), "auth".to_owned())]);
    stage
}

/// Serves `/auth` as API Gateway would: 503 for the first `failures` requests, then the auth
/// service's answer; 404 elsewhere.
async fn serve(failures: u32) -> (String, Arc<AtomicU32>) {
    let seen = Arc::new(AtomicU32::new(0));
    let auth = |State((seen, failures)): State<(Arc<AtomicU32>, u32)>| async move {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        let (status, body) = if n < failures {
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"message":"Service Unavailable"}"#,
            )
        } else {
            (
                StatusCode::OK,
                r#"{"service":"auth-service","status":"ok","message":"auth service healthy","timestamp":1764000000}"#,
            )
        };
        (
            status,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::HeaderName::from_static("apigw-requestid"), "abc="),
            ],
            body,
        )
            .into_response()
    };
    let app = Router::new()
        .route("/auth", get(auth))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::HeaderName::from_static("apigw-requestid"), "abc="),
                ],
                r#"{"message":"Not Found"}"#,
            )
        })
        .with_state((seen.clone(), failures));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

#[tokio::test]
async fn a_route_that_settles_within_the_settle_time_passes_after_retries() {
    let (url, seen) = serve(2).await;
    let http = HttpTraffic::new(&url, Duration::from_secs(5)).unwrap();
    let report = run_checks(
        &http,
        &auth_only(),
        "aws",
        Duration::from_secs(3),
        Duration::from_secs(20),
    )
    .await;
    assert!(report.passed, "{report:#?}");
    let auth = report
        .results
        .iter()
        .find(|r| r.expectation.route == "GET /auth")
        .unwrap();
    assert_eq!(auth.attempts, 3, "two 503s, then the answer");
    assert_eq!(seen.load(Ordering::SeqCst), 3);
    let unknown = report
        .results
        .iter()
        .find(|r| r.expectation.function.is_none())
        .unwrap();
    assert_eq!(
        unknown.attempts, 1,
        "a route that answers as expected is asked once"
    );
}

#[tokio::test]
async fn without_a_settle_time_one_answer_is_the_verdict() {
    let (url, seen) = serve(1).await;
    let http = HttpTraffic::new(&url, Duration::from_secs(5)).unwrap();
    let report = run_checks(&http, &auth_only(), "lab", Duration::from_secs(3), Duration::ZERO).await;
    assert!(!report.passed);
    let auth = report
        .results
        .iter()
        .find(|r| r.expectation.route == "GET /auth")
        .unwrap();
    assert_eq!((auth.attempts, auth.status), (1, Some(503)));
    assert!(
        auth.problems
            .iter()
            .any(|p| p.contains("status 503, expected 200")),
        "{:?}",
        auth.problems
    );
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_route_that_never_settles_fails_when_the_settle_time_runs_out() {
    let (url, seen) = serve(u32::MAX).await;
    let http = HttpTraffic::new(&url, Duration::from_secs(5)).unwrap();
    let report = run_checks(
        &http,
        &auth_only(),
        "aws",
        Duration::from_secs(3),
        Duration::from_secs(4),
    )
    .await;
    assert!(!report.passed);
    let auth = report
        .results
        .iter()
        .find(|r| r.expectation.route == "GET /auth")
        .unwrap();
    // Pauses of 1 and 2 s fit in 4 s; the next (4 s) would not.
    assert_eq!(auth.attempts, 3);
    assert_eq!(seen.load(Ordering::SeqCst), 3, "no request after the settle time");
}
