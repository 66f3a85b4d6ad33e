//! The admin API (docs/lab-admin-api.md): the lab's control and observation plane on its own
//! loopback port, behind a bearer token.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use lab_cloudwatch::{AlarmStatus, MetricQuery};
use outage_config::FaultConfig;
use serde_json::{json, Value};

use crate::http::{json_value, message, Body};
use crate::lab::LabState;
use crate::logs::LogQuery;
use crate::runtime::pool::Pool;

/// The live dashboard page (one self-contained file, built into the binary).
const DASHBOARD: &str = include_str!("../../report/assets/dashboard.html");

/// Variables Lambda sets itself and refuses in UpdateFunctionConfiguration.
const RESERVED: [&str; 18] = [
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
];

const MAX_ADMIN_BODY: usize = 1024 * 1024;

fn not_found(what: &str) -> Response<Body> {
    message(StatusCode::NOT_FOUND, what)
}

fn bad(text: impl AsRef<str>) -> Response<Body> {
    message(StatusCode::BAD_REQUEST, text.as_ref())
}

/// Compares without an early exit, so the answer time does not leak how much of a guess was right.
fn same_token(given: &str, expected: &str) -> bool {
    given.len() == expected.len()
        && given
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn authorised(state: &LabState, req: &Request<Incoming>) -> bool {
    req.headers()
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| same_token(t.trim(), &state.token))
}

/// `name=value&...`, percent-decoded.
fn query_params(req: &Request<Incoming>) -> BTreeMap<String, String> {
    req.uri()
        .query()
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (percent_decode(k), percent_decode(&v.replace('+', " ")))
        })
        .collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub async fn handle(state: Arc<LabState>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let method = req.method().clone();

    if segs == ["healthz"] {
        return match method {
            Method::GET => json_value(StatusCode::OK, &json!({ "status": "ok" })),
            _ => message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        };
    }
    // The dashboard page itself is public; the token it needs comes as ?token= and its
    // requests carry it as a bearer token like every other client.
    if segs.is_empty() && method == Method::GET {
        let mut r = Response::new(http_body_util::Full::new(Bytes::from_static(
            DASHBOARD.as_bytes(),
        )));
        r.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        return r;
    }
    if !authorised(&state, &req) {
        return message(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let q = query_params(&req);
    match (method, segs.as_slice()) {
        (Method::GET, ["status"]) => status(&state),
        (Method::GET, ["functions"]) => {
            let views: Vec<Value> = state
                .pools
                .iter()
                .map(|(k, p)| function_view(&state, k, p))
                .collect();
            json_value(StatusCode::OK, &views)
        }
        (Method::GET, ["functions", key]) => match state.pools.get(*key) {
            Some(p) => json_value(StatusCode::OK, &function_view(&state, key, p)),
            None => not_found(&format!("unknown function {key:?}")),
        },
        (Method::GET, ["functions", key, "configuration"]) => match state.pools.get(*key) {
            Some(p) => json_value(StatusCode::OK, &configuration(&state, key, p)),
            None => not_found(&format!("unknown function {key:?}")),
        },
        (Method::PUT, ["functions", key, "configuration"]) => {
            let key = key.to_string();
            put_configuration(&state, &key, req).await
        }
        (Method::GET, ["metrics"]) => metrics(&state, &q),
        (Method::GET, ["alarms"]) => {
            let views: Vec<Value> = state.alarms.alarms().iter().map(alarm_view).collect();
            json_value(StatusCode::OK, &views)
        }
        (Method::GET, ["alarms", name]) => match state.alarms.alarm(name) {
            Some(a) => json_value(StatusCode::OK, &alarm_view(&a)),
            None => not_found(&format!("unknown alarm {name:?}")),
        },
        (Method::GET, ["alarms", name, "history"]) => match state.alarms.history(name) {
            Some(items) => {
                let items: Vec<Value> = items
                    .iter()
                    .map(|h| {
                        json!({
                            "timestamp": crate::time_fmt::rfc3339_system(h.timestamp),
                            "old_state": h.old_state.as_str(),
                            "new_state": h.new_state.as_str(),
                            "reason": h.reason,
                        })
                    })
                    .collect();
                json_value(StatusCode::OK, &items)
            }
            None => not_found(&format!("unknown alarm {name:?}")),
        },
        (Method::GET, ["logs", key]) => logs(&state, key, &q),
        (Method::GET, ["notifications"]) => json_value(StatusCode::OK, &state.outbox.all()),
        (Method::GET, ["drill"]) => json_value(StatusCode::OK, &*state.drill.lock().expect("drill lock")),
        (Method::PUT, ["drill"]) => put_drill(&state, req).await,
        (Method::GET, ["stats"]) => {
            let reset = q.get("reset").is_some_and(|v| v == "true");
            json_value(
                StatusCode::OK,
                &json!({ "overhead": state.overhead.summary(reset), "metric_store": state.metrics.store().stats() }),
            )
        }
        (
            _,
            ["status" | "functions" | "metrics" | "alarms" | "logs" | "notifications" | "drill" | "stats", ..],
        ) => {
            if known_path(&segs) {
                message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
            } else {
                not_found("Not Found")
            }
        }
        _ => not_found("Not Found"),
    }
}

fn known_path(segs: &[&str]) -> bool {
    matches!(
        segs,
        ["status"]
            | ["functions"]
            | ["functions", _]
            | ["functions", _, "configuration"]
            | ["metrics"]
            | ["alarms"]
            | ["alarms", _]
            | ["alarms", _, "history"]
            | ["logs", _]
            | ["notifications"]
            | ["drill"]
            | ["stats"]
    )
}

fn status(state: &LabState) -> Response<Body> {
    let mut counts = BTreeMap::from([("OK", 0), ("ALARM", 0), ("INSUFFICIENT_DATA", 0)]);
    for a in state.alarms.alarms() {
        *counts.entry(a.state.as_str()).or_default() += 1;
    }
    let mut v = serde_json::to_value(&state.info).unwrap_or_default();
    v["functions"] = json!(state.pools.len());
    v["alarms"] = json!(counts);
    json_value(StatusCode::OK, &v)
}

fn configuration(state: &LabState, key: &str, pool: &Pool) -> Value {
    let config = pool.config();
    let spec = &state.stage.functions[key];
    json!({
        "FunctionName": state.stage.function_name(key),
        "Environment": { "Variables": config.variables },
        "MemorySize": spec.memory_mb,
        "Timeout": spec.timeout_s,
        "ReservedConcurrentExecutions": spec.reserved_concurrency,
        "LastUpdateStatus": "Successful",
        "RevisionId": config.revision_id,
    })
}

fn function_view(state: &LabState, key: &str, pool: &Pool) -> Value {
    let mut v = configuration(state, key, pool);
    v["key"] = json!(key);
    v["code"] = json!(pool.code);
    v["log_group"] = json!(state.stage.log_group(key));
    v["environments"] = json!(pool.environments());
    v
}

async fn read_json(req: Request<Incoming>) -> Result<Value, Response<Body>> {
    let body = Limited::new(req.into_body(), MAX_ADMIN_BODY)
        .collect()
        .await
        .map_err(|_| bad("body: larger than 1 MB or unreadable"))?
        .to_bytes();
    serde_json::from_slice(&body).map_err(|e| bad(format!("body: not JSON: {e}")))
}

async fn put_configuration(state: &LabState, key: &str, req: Request<Incoming>) -> Response<Body> {
    let Some(pool) = state.pools.get(key) else {
        return not_found(&format!("unknown function {key:?}"));
    };
    let body = match read_json(req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Some(vars) = body.get("Variables").and_then(Value::as_object) else {
        return bad("Variables: required, an object of variable names to string values");
    };
    let mut variables = BTreeMap::new();
    for (name, value) in vars {
        let Some(value) = value.as_str() else {
            return bad(format!("Variables.{name}: must be a string"));
        };
        if RESERVED.contains(&name.as_str()) {
            return bad(format!("Variables.{name}: reserved by Lambda and cannot be set"));
        }
        if name.is_empty()
            || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            || name.as_bytes()[0].is_ascii_digit()
        {
            return bad(format!(
                "Variables.{name}: names are letters, digits and '_' and start with a letter"
            ));
        }
        variables.insert(name.clone(), value.to_owned());
    }
    if let Err(e) = FaultConfig::from_vars(&variables) {
        return bad(e.to_string());
    }
    pool.update_config(variables);
    tracing::info!(function = %state.stage.function_name(key), "configuration updated");
    json_value(StatusCode::OK, &configuration(state, key, pool))
}

fn epoch(secs: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs.max(0) as u64)
}

fn metrics(state: &LabState, q: &BTreeMap<String, String>) -> Response<Body> {
    let Some(namespace) = q.get("namespace").filter(|v| !v.is_empty()) else {
        return bad("namespace: required");
    };
    let Some(metric) = q.get("metric").filter(|v| !v.is_empty()) else {
        return bad("metric: required");
    };
    let period: u32 = match q.get("period").map(|p| p.parse()) {
        None => 60,
        Some(Ok(p)) => p,
        Some(Err(_)) => return bad("period: expected whole seconds"),
    };
    let stat = q.get("stat").cloned().unwrap_or_else(|| "Sum".into());
    let now = crate::time_fmt::epoch_secs(SystemTime::now());
    let parse_time = |name: &str, default: i64| match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .map_err(|_| format!("{name}: expected epoch seconds")),
    };
    let (end, start) =
        match parse_time("end", now + 1).and_then(|end| Ok((end, parse_time("start", end - 3600)?))) {
            Ok(v) => v,
            Err(e) => return bad(e),
        };
    let dimensions: BTreeMap<String, String> = q
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("dim.").map(|name| (name.to_owned(), v.clone())))
        .collect();
    let query = MetricQuery {
        namespace: namespace.clone(),
        metric_name: metric.clone(),
        dimensions,
        period_s: period,
        statistic: stat.clone(),
        start: epoch(start),
        end: epoch(end),
    };
    match state.metrics.store().query(&query) {
        Ok(points) => {
            let datapoints: Vec<Value> = points
                .iter()
                .map(|p| json!({ "timestamp": crate::time_fmt::epoch_secs(p.timestamp), "value": p.value }))
                .collect();
            json_value(
                StatusCode::OK,
                &json!({ "label": metric, "period": period, "stat": stat, "datapoints": datapoints }),
            )
        }
        Err(e) => bad(e.to_string()),
    }
}

fn alarm_view(a: &AlarmStatus) -> Value {
    let d = &a.definition;
    json!({
        "AlarmName": a.name,
        "StateValue": a.state.as_str(),
        "StateReason": a.reason,
        "StateReasonData": a.reason_data,
        "StateUpdatedTimestamp": crate::time_fmt::rfc3339_system(a.updated_at),
        "Namespace": d.namespace,
        "MetricName": d.metric_name,
        "Dimensions": d.dimensions,
        "Statistic": d.statistic.name(),
        "Period": d.period_s,
        "EvaluationPeriods": d.evaluation_periods,
        "DatapointsToAlarm": d.datapoints_to_alarm,
        "Threshold": d.threshold,
        "ComparisonOperator": d.comparison_operator,
        "TreatMissingData": d.treat_missing_data.as_str(),
    })
}

fn logs(state: &LabState, key: &str, q: &BTreeMap<String, String>) -> Response<Body> {
    let since_ms = match q.get("since").map(|s| s.parse::<u64>()) {
        None => None,
        Some(Ok(secs)) => Some(crate::runtime::env::epoch_ms() - (secs as i64) * 1000),
        Some(Err(_)) => return bad("since: expected whole seconds"),
    };
    let limit = match q.get("limit").map(|s| s.parse::<usize>()) {
        None => None,
        Some(Ok(n)) => Some(n),
        Some(Err(_)) => return bad("limit: expected a whole number"),
    };
    let query = LogQuery {
        filter: q.get("filter").filter(|f| !f.is_empty()).cloned(),
        since_ms,
        limit,
    };
    match state.logs.query(key, &query) {
        Some(events) => json_value(StatusCode::OK, &events),
        None => not_found(&format!("unknown function {key:?}")),
    }
}

async fn put_drill(state: &LabState, req: Request<Incoming>) -> Response<Body> {
    let body = match read_json(req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !body.is_object() {
        return bad("body: expected a JSON object");
    }
    if body.get("running").is_some_and(|r| !r.is_boolean()) {
        return bad("running: expected true or false");
    }
    if body.get("steps").is_some_and(|s| !s.is_array()) {
        return bad("steps: expected a list");
    }
    *state.drill.lock().expect("drill lock") = body.clone();
    json_value(StatusCode::OK, &body)
}
