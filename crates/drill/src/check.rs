//! Route checks: every route of the stage answers as its configuration says (status, JSON
//! fields and types from ARCHITECTURE.md, content type, `apigw-requestid`, a latency budget),
//! plus one unknown route that must answer API Gateway's 404.

use std::fmt::Write;
use std::time::{Duration, Instant};

use outage_config::{FaultConfig, FaultMode, Stage};
use serde::Serialize;
use serde_json::Value;

use crate::traffic::HttpTraffic;

/// The JSON type a field must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum JsonType {
    String,
    Number,
    Bool,
    Array,
    /// A string or a number (ids).
    Id,
}

impl JsonType {
    fn matches(&self, v: &Value) -> bool {
        match self {
            JsonType::String => v.is_string(),
            JsonType::Number => v.is_number(),
            JsonType::Bool => v.is_boolean(),
            JsonType::Array => v.is_array(),
            JsonType::Id => v.is_string() || v.is_number(),
        }
    }
}

/// What a response body must hold.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "shape", rename_all = "snake_case")]
pub enum BodyShape {
    /// A healthy service answer: fixed `service` and `status` values and typed fields.
    Service {
        service: String,
        fields: Vec<(String, JsonType)>,
        products: bool,
    },
    /// API Gateway's own answer: exactly `{"message": ...}`.
    Message { message: String },
    /// Anything (a fault's own status answer).
    Any,
}

/// One route's expected answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteExpectation {
    /// The stage file's route key (`GET /pay`), or `GET <path> (unknown route)`.
    pub route: String,
    pub method: String,
    pub path: String,
    /// Function key, when a route targets one.
    pub function: Option<String>,
    /// Accepted statuses (two when a fault hits only a share of requests).
    pub statuses: Vec<u16>,
    pub body: BodyShape,
}

/// The path the unknown-route check asks for.
pub const UNKNOWN_PATH: &str = "/smoke-test/no-such-route";

fn healthy_shape(code: &str) -> BodyShape {
    let (service, extra): (&str, &[(&str, JsonType)]) = match code {
        "auth" => ("auth-service", &[("message", JsonType::String)]),
        "product" => ("product-service", &[("products", JsonType::Array)]),
        "payment" => ("payment-service", &[("message", JsonType::String)]),
        _ => return BodyShape::Any,
    };
    let mut fields = vec![
        ("service".to_owned(), JsonType::String),
        ("status".to_owned(), JsonType::String),
    ];
    fields.extend(extra.iter().map(|(n, t)| ((*n).to_owned(), *t)));
    fields.push(("timestamp".to_owned(), JsonType::Number));
    BodyShape::Service {
        service: service.into(),
        fields,
        products: code == "product",
    }
}

fn internal_error() -> BodyShape {
    BodyShape::Message {
        message: "Internal Server Error".into(),
    }
}

/// What every route of the stage should answer, from its function's code and configured fault.
pub fn expectations(stage: &Stage) -> Vec<RouteExpectation> {
    let mut out = Vec::new();
    for (route, key) in &stage.routes {
        let Some((method, path)) = route.split_once(' ') else {
            continue;
        };
        let Some(spec) = stage.functions.get(key) else {
            continue;
        };
        let fault = FaultConfig::from_vars(&stage.fault_vars(key)).ok();
        let healthy = healthy_shape(&spec.code);
        let (statuses, body) = match fault.as_ref().map(|f| (f.mode, f.rate)) {
            None | Some((FaultMode::None | FaultMode::Latency { .. }, _)) => (vec![200], healthy),
            // An unhandled error, a crash and a function timeout all reach the client as 500.
            Some((FaultMode::Exception | FaultMode::Panic | FaultMode::Timeout, rate)) if rate >= 1.0 => {
                (vec![500], internal_error())
            }
            Some((FaultMode::Exception | FaultMode::Panic | FaultMode::Timeout, _)) => {
                (vec![200, 500], BodyShape::Any)
            }
            Some((FaultMode::Status { code }, rate)) if rate >= 1.0 => (vec![code], BodyShape::Any),
            Some((FaultMode::Status { code }, _)) => (vec![200, code], BodyShape::Any),
        };
        let method = if method == "ANY" { "GET" } else { method };
        out.push(RouteExpectation {
            route: route.clone(),
            method: method.to_owned(),
            path: path.to_owned(),
            function: Some(key.clone()),
            statuses,
            body,
        });
    }
    out.push(RouteExpectation {
        route: format!("GET {UNKNOWN_PATH} (unknown route)"),
        method: "GET".into(),
        path: UNKNOWN_PATH.into(),
        function: None,
        statuses: vec![404],
        body: BodyShape::Message {
            message: "Not Found".into(),
        },
    });
    out
}

/// One route's result.
#[derive(Debug, Clone, Serialize)]
pub struct RouteResult {
    pub expectation: RouteExpectation,
    pub url: String,
    pub status: Option<u16>,
    pub latency_ms: f64,
    pub request_id: Option<String>,
    pub content_type: Option<String>,
    /// Everything that did not match; empty when the route passed.
    pub problems: Vec<String>,
    pub passed: bool,
    /// Requests sent before the route answered as expected or the settle time ran out.
    pub attempts: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub stage: String,
    pub target: String,
    pub base_url: String,
    pub latency_budget_ms: u64,
    pub results: Vec<RouteResult>,
    pub passed: bool,
}

/// The first pause between two requests to a route that did not answer as expected, and the
/// longest.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LONGEST_RETRY: Duration = Duration::from_secs(5);

/// Checks every expectation in order. Right after an apply a route can answer 5xx or 404 for a
/// while (a new integration or permission still propagating): a route that does not answer as
/// expected is asked again, pausing 1, 2, 4, then 5 s, until it does or `settle` has passed
/// since the checks started; the last answer is the verdict. With `settle` zero, one request
/// each.
pub async fn run_checks(
    http: &HttpTraffic,
    stage: &Stage,
    target: &str,
    budget: Duration,
    settle: Duration,
) -> CheckReport {
    let deadline = Instant::now() + settle;
    let mut results = Vec::new();
    for expectation in expectations(stage) {
        let mut pause = FIRST_RETRY;
        let mut attempts = 1;
        let mut result = check_route(http, expectation.clone(), budget).await;
        while !result.passed && Instant::now() + pause <= deadline {
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(LONGEST_RETRY);
            attempts += 1;
            result = check_route(http, expectation.clone(), budget).await;
        }
        result.attempts = attempts;
        results.push(result);
    }
    CheckReport {
        stage: stage.stage.clone(),
        target: target.to_owned(),
        base_url: http.base_url().to_owned(),
        latency_budget_ms: budget.as_millis() as u64,
        passed: results.iter().all(|r| r.passed),
        results,
    }
}

async fn check_route(http: &HttpTraffic, expectation: RouteExpectation, budget: Duration) -> RouteResult {
    let url = http.url(&expectation.path);
    let method = reqwest::Method::from_bytes(expectation.method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let started = Instant::now();
    let answer = http.client().request(method, &url).send().await;
    let mut result = RouteResult {
        url,
        status: None,
        latency_ms: 0.0,
        request_id: None,
        content_type: None,
        problems: Vec::new(),
        passed: false,
        attempts: 1,
        expectation,
    };
    let response = match answer {
        Ok(r) => r,
        Err(e) => {
            result.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
            result.problems.push(format!("no answer: {e}"));
            return result;
        }
    };
    let status = response.status().as_u16();
    let header = |name: &str| crate::traffic::header(&response, name);
    result.request_id = header("apigw-requestid").filter(|v| !v.is_empty());
    result.content_type = header("content-type");
    let body = response.text().await;
    result.latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    result.status = Some(status);
    result.problems = problems(&result, status, body.as_deref().ok(), budget);
    result.passed = result.problems.is_empty();
    result
}

/// Every way the answer differs from the expectation.
pub fn problems(result: &RouteResult, status: u16, body: Option<&str>, budget: Duration) -> Vec<String> {
    let e = &result.expectation;
    let mut out = Vec::new();
    if !e.statuses.contains(&status) {
        out.push(format!("status {status}, expected {}", join(&e.statuses)));
    }
    if result.request_id.is_none() {
        out.push("no apigw-requestid header".into());
    }
    let budget_ms = budget.as_secs_f64() * 1000.0;
    if result.latency_ms > budget_ms {
        out.push(format!(
            "latency {:.0} ms over the {:.0} ms budget",
            result.latency_ms, budget_ms
        ));
    }
    if e.body == BodyShape::Any || !e.statuses.contains(&status) {
        return out;
    }
    if !result
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"))
    {
        out.push(format!(
            "content-type {:?}, expected application/json",
            result.content_type.as_deref().unwrap_or("")
        ));
    }
    let json: Value = match body.map(serde_json::from_str) {
        Some(Ok(v)) => v,
        _ => {
            out.push("body is not JSON".into());
            return out;
        }
    };
    match &e.body {
        BodyShape::Any => {}
        BodyShape::Message { message } => {
            if json != serde_json::json!({ "message": message }) {
                out.push(format!("body {json}, expected {{\"message\":\"{message}\"}}"));
            }
        }
        BodyShape::Service {
            service,
            fields,
            products,
        } => {
            for (name, ty) in fields {
                match json.get(name) {
                    None => out.push(format!("field `{name}` missing")),
                    Some(v) if !ty.matches(v) => {
                        out.push(format!("field `{name}` is {v}, expected a {ty:?}").to_lowercase())
                    }
                    Some(_) => {}
                }
            }
            if json
                .get("service")
                .and_then(Value::as_str)
                .is_some_and(|s| s != service)
            {
                out.push(format!("service {}, expected {service:?}", json["service"]));
            }
            if json
                .get("status")
                .and_then(Value::as_str)
                .is_some_and(|s| s != "ok")
            {
                out.push(format!("status field {}, expected \"ok\"", json["status"]));
            }
            if *products {
                out.extend(product_problems(&json));
            }
        }
    }
    out
}

fn product_problems(json: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let Some(items) = json.get("products").and_then(Value::as_array) else {
        return out;
    };
    if items.is_empty() {
        out.push("`products` is empty".into());
    }
    let fields = [
        ("id", JsonType::Id),
        ("name", JsonType::String),
        ("price_cents", JsonType::Number),
        ("currency", JsonType::String),
        ("in_stock", JsonType::Bool),
    ];
    for (i, item) in items.iter().enumerate() {
        for (name, ty) in fields {
            match item.get(name) {
                None => out.push(format!("products[{i}].{name} missing")),
                Some(v) if !ty.matches(v) => {
                    out.push(format!("products[{i}].{name} is {v}, expected a {ty:?}").to_lowercase())
                }
                Some(_) => {}
            }
        }
    }
    out
}

fn join(statuses: &[u16]) -> String {
    statuses
        .iter()
        .map(u16::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

/// A table for people: one line per route.
pub fn render_table(report: &CheckReport) -> String {
    let width = report
        .results
        .iter()
        .map(|r| r.expectation.route.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "smoke-test check: stage {} on {} ({})",
        report.stage, report.target, report.base_url
    );
    let _ = writeln!(
        out,
        "{:<width$}  {:>6}  {:>8}  {:>9}  {:<4}  detail",
        "route", "status", "expected", "latency", "ok"
    );
    for r in &report.results {
        let _ = writeln!(
            out,
            "{:<width$}  {:>6}  {:>8}  {:>6.0} ms  {:<4}  {}",
            r.expectation.route,
            r.status.map(|s| s.to_string()).unwrap_or_else(|| "-".into()),
            join(&r.expectation.statuses),
            r.latency_ms,
            if r.passed { "PASS" } else { "FAIL" },
            if r.passed {
                r.request_id
                    .clone()
                    .map(|id| format!("apigw-requestid {id}"))
                    .unwrap_or_default()
            } else {
                r.problems.join("; ")
            }
        );
    }
    let failed = report.results.iter().filter(|r| !r.passed).count();
    let _ = writeln!(
        out,
        "{}: {} routes, {} passed, {failed} failed (latency budget {} ms)",
        if report.passed { "PASSED" } else { "FAILED" },
        report.results.len(),
        report.results.len() - failed,
        report.latency_budget_ms
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn dev() -> Stage {
        Stage::load_named(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), "dev").unwrap()
    }

    fn result_for(e: RouteExpectation, content_type: &str, latency_ms: f64) -> RouteResult {
        RouteResult {
            expectation: e,
            url: "http://x".into(),
            status: None,
            latency_ms,
            request_id: Some("abc=".into()),
            content_type: Some(content_type.into()),
            problems: vec![],
            passed: false,
            attempts: 1,
        }
    }

    fn expect(route: &str) -> RouteExpectation {
        expectations(&dev())
            .into_iter()
            .find(|e| e.route == route)
            .unwrap()
    }

    #[test]
    fn the_seeded_fault_route_must_fail_like_api_gateway() {
        let pay = expect("GET /pay");
        assert_eq!(pay.statuses, vec![500]);
        assert_eq!(pay.body, internal_error());
        assert_eq!(expect("GET /pay-fixed").statuses, vec![200]);
        assert!(expectations(&dev())
            .iter()
            .any(|e| e.statuses == vec![404] && e.path == UNKNOWN_PATH));
    }

    #[test]
    fn a_healthy_answer_passes_and_a_wrong_one_names_every_problem() {
        let budget = Duration::from_millis(1000);
        let good = r#"{"service":"product-service","status":"ok","products":[{"id":"p1","name":"Lamp","price_cents":1999,"currency":"EUR","in_stock":true}],"timestamp":1764000000}"#;
        let r = result_for(expect("GET /product"), "application/json", 12.0);
        assert_eq!(problems(&r, 200, Some(good), budget), Vec::<String>::new());

        let bad =
            r#"{"service":"auth-service","status":"degraded","products":[{"id":"p1","price_cents":"12"}]}"#;
        let mut r = result_for(expect("GET /product"), "text/plain", 1500.0);
        r.request_id = None;
        let p = problems(&r, 200, Some(bad), budget);
        for needle in [
            "apigw-requestid",
            "latency 1500 ms",
            "content-type",
            "`timestamp` missing",
            "product-service",
            "\"ok\"",
            "products[0].name missing",
            "products[0].price_cents",
        ] {
            assert!(p.iter().any(|x| x.contains(needle)), "{needle} not in {p:?}");
        }
    }

    #[test]
    fn gateway_messages_must_match_exactly() {
        let r = result_for(expect("GET /pay"), "application/json", 5.0);
        assert!(problems(
            &r,
            500,
            Some(r#"{"message":"Internal Server Error"}"#),
            Duration::from_secs(1)
        )
        .is_empty());
        let p = problems(&r, 500, Some(r#"{"message":"boom"}"#), Duration::from_secs(1));
        assert_eq!(p.len(), 1, "{p:?}");
        let p = problems(&r, 200, Some(r#"{}"#), Duration::from_secs(1));
        assert!(p[0].contains("status 200, expected 500"), "{p:?}");
    }
}
