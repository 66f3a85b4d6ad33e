//! Diagnosis from what the target recorded: the handler errors in a function's log events (the
//! error message, its type, the failing request ids, the first failure), and the blast radius
//! from what clients saw on each route. Pure functions over the ports' answers (the lab's and
//! CloudWatch's alike), so they are tested on canned answers.

use std::collections::BTreeMap;

use incident_report::{LogLine, Point, RouteImpact, Series};
use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::ports::{LogRecord, Observation};

pub fn to_log_line(event: &LogRecord) -> LogLine {
    LogLine {
        timestamp: event.at,
        log_group: event.log_group.clone(),
        message: event.message.clone(),
    }
}

/// One failed invocation, from its `ERROR` log line.
#[derive(Debug, Clone, PartialEq)]
pub struct HandlerError {
    pub at: OffsetDateTime,
    pub request_id: Option<String>,
    pub error_type: String,
    pub message: String,
}

/// The handler error an `ERROR` line of the functions' JSON logs reports, if it is one:
/// `{"level":"ERROR","fields":{"message":"Injected(\"...\")"},"span":{"requestId":"..."}}`.
pub fn handler_error(event: &LogRecord) -> Option<HandlerError> {
    let line: serde_json::Value = serde_json::from_str(event.message.trim()).ok()?;
    if line.get("level")?.as_str()? != "ERROR" {
        return None;
    }
    let text = line.pointer("/fields/message")?.as_str()?;
    let (error_type, message) = split_error(text);
    Some(HandlerError {
        at: event.at,
        request_id: line
            .pointer("/span/requestId")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        error_type,
        message,
    })
}

/// `Injected("Simulated failure")` -> (`Injected`, `Simulated failure`): the Debug form of a
/// Rust error enum variant holding a message; anything else is the message as it is.
fn split_error(text: &str) -> (String, String) {
    if let Some((name, rest)) = text.split_once('(') {
        let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if let (true, Some(inner)) = (is_name, rest.strip_suffix(')')) {
            let message = serde_json::from_str::<String>(inner).unwrap_or_else(|_| inner.to_owned());
            return (name.to_owned(), message);
        }
    }
    ("Error".to_owned(), text.to_owned())
}

/// What one function's logs say about its failures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunctionDiagnosis {
    /// Function key (`payment-fixed`).
    pub function: String,
    pub log_group: String,
    /// The most frequent error message, and its type.
    pub error_message: String,
    pub error_type: String,
    pub failed_requests: u64,
    /// The first few failing request ids, oldest first.
    pub failing_request_ids: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub first_failure_at: OffsetDateTime,
}

/// How many failing request ids a diagnosis lists.
pub const REQUEST_ID_SAMPLE: usize = 5;

/// The diagnosis of `function` from its log events at or after `from`; `None` when no handler
/// error was logged.
pub fn diagnose(function: &str, events: &[LogRecord], from: OffsetDateTime) -> Option<FunctionDiagnosis> {
    let mut errors: Vec<HandlerError> = events
        .iter()
        .filter_map(handler_error)
        .filter(|e| e.at >= from)
        .collect();
    errors.sort_by_key(|e| e.at);
    let first = errors.first()?;
    let mut counts: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for e in &errors {
        *counts
            .entry((e.error_type.as_str(), e.message.as_str()))
            .or_default() += 1;
    }
    let ((error_type, error_message), _) = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(k, n)| (*k, *n))
        .unwrap_or(((first.error_type.as_str(), first.message.as_str()), 0));
    let log_group = events.first().map(|e| e.log_group.clone()).unwrap_or_default();
    Some(FunctionDiagnosis {
        function: function.to_owned(),
        log_group,
        error_message: error_message.to_owned(),
        error_type: error_type.to_owned(),
        failed_requests: errors.len() as u64,
        failing_request_ids: errors
            .iter()
            .filter_map(|e| e.request_id.clone())
            .take(REQUEST_ID_SAMPLE)
            .collect(),
        first_failure_at: first.at,
    })
}

/// The log lines of one invocation that tell its story (START, the fault, the error, END,
/// REPORT), without the embedded-metric-format records, and without the trailing `spans` list
/// of the JSON lines: it repeats the `span` just before it.
pub fn invocation_excerpt(events: &[LogRecord], request_id: &str) -> Vec<LogLine> {
    events
        .iter()
        .filter(|e| e.message.contains(request_id) && !e.message.contains("\"_aws\""))
        .map(|e| {
            let mut line = to_log_line(e);
            line.message = without_spans(&line.message);
            line
        })
        .collect()
}

fn without_spans(message: &str) -> String {
    match (message.rfind(",\"spans\":["), message.trim_end().ends_with("]}")) {
        (Some(at), true) => format!("{}}}", &message[..at]),
        _ => message.to_owned(),
    }
}

/// A route of the stage file: `GET /pay` served by `payment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Route {
    pub route: String,
    pub path: String,
    pub function: String,
}

/// The routes of a stage, in the stage file's order of keys.
pub fn routes(stage: &outage_config::Stage) -> Vec<Route> {
    stage
        .routes
        .iter()
        .filter_map(|(route, function)| {
            let (_, path) = route.split_once(' ')?;
            Some(Route {
                route: route.clone(),
                path: path.to_owned(),
                function: function.clone(),
            })
        })
        .collect()
}

/// What clients saw on one route in a window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RouteStats {
    pub route: String,
    pub function: String,
    pub requests: u64,
    /// Count per HTTP status.
    pub statuses: BTreeMap<u16, u64>,
    /// Requests that got no answer.
    pub unanswered: u64,
    pub p50_ms: f64,
    pub p99_ms: f64,
}

impl RouteStats {
    pub fn errors_5xx(&self) -> u64 {
        self.statuses
            .iter()
            .filter(|(s, _)| **s >= 500)
            .map(|(_, n)| n)
            .sum()
    }

    /// `200 x41` or `500 x12, 200 x3`.
    pub fn statuses_text(&self) -> String {
        let mut parts: Vec<String> = self.statuses.iter().map(|(s, n)| format!("{s} x{n}")).collect();
        if self.unanswered > 0 {
            parts.push(format!("no answer x{}", self.unanswered));
        }
        if parts.is_empty() {
            "no requests".into()
        } else {
            parts.join(", ")
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Per-route figures of the requests sent in `[from, to)`.
pub fn route_stats(
    routes: &[Route],
    observations: &[Observation],
    from: OffsetDateTime,
    to: OffsetDateTime,
) -> Vec<RouteStats> {
    routes
        .iter()
        .map(|r| {
            let seen: Vec<&Observation> = observations
                .iter()
                .filter(|o| o.path() == r.path && o.at >= from && o.at < to)
                .collect();
            let mut statuses = BTreeMap::new();
            for s in seen.iter().filter_map(|o| o.status) {
                *statuses.entry(s).or_insert(0u64) += 1;
            }
            let mut latencies: Vec<f64> = seen.iter().map(|o| o.latency_ms).collect();
            latencies.sort_by(f64::total_cmp);
            RouteStats {
                route: r.route.clone(),
                function: r.function.clone(),
                requests: seen.len() as u64,
                unanswered: seen.iter().filter(|o| o.status.is_none()).count() as u64,
                statuses,
                p50_ms: percentile(&latencies, 50.0),
                p99_ms: percentile(&latencies, 99.0),
            }
        })
        .collect()
}

/// The blast radius of the break window: a route is degraded when any of its requests got a
/// 5xx or no answer at all.
pub fn blast_radius(stats: &[RouteStats]) -> Vec<RouteImpact> {
    stats
        .iter()
        .map(|s| RouteImpact {
            route: s.route.clone(),
            function: s.function.clone(),
            requests: s.requests,
            errors_5xx: s.errors_5xx() + s.unanswered,
            degraded: s.errors_5xx() + s.unanswered > 0,
        })
        .collect()
}

/// The 5xx answers (and unanswered requests) per route per `period_s`, on the epoch-aligned
/// period grid from `start` to `end`, zeros included: the client-side view of API 5xx.
pub fn route_5xx_series(
    routes: &[Route],
    observations: &[Observation],
    period_s: u32,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Vec<Series> {
    let period = i64::from(period_s.max(1));
    let first = start.unix_timestamp().div_euclid(period) * period;
    let last = end.unix_timestamp();
    routes
        .iter()
        .map(|r| {
            let mut buckets: BTreeMap<i64, f64> = BTreeMap::new();
            let mut t = first;
            while t <= last {
                buckets.insert(t, 0.0);
                t += period;
            }
            for o in observations.iter().filter(|o| o.path() == r.path) {
                if o.failed() {
                    let b = o.at.unix_timestamp().div_euclid(period) * period;
                    if let Some(v) = buckets.get_mut(&b) {
                        *v += 1.0;
                    }
                }
            }
            Series {
                name: r.route.clone(),
                points: buckets
                    .into_iter()
                    .map(|(t, value)| Point {
                        timestamp: OffsetDateTime::UNIX_EPOCH + Duration::seconds(t),
                        value,
                    })
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const T0: OffsetDateTime = datetime!(2026-11-25 14:00:00 UTC);

    /// The shape `GET /logs/payment` answers for one failed invocation (copied from a lab run).
    fn failed_invocation(at: OffsetDateTime, id: &str, message: &str) -> Vec<LogRecord> {
        let ev = |m: String| LogRecord {
            at,
            log_group: "/aws/lambda/dev-payment".into(),
            log_stream: "2026/11/25/[$LATEST]757695c5".into(),
            message: m,
        };
        vec![
            ev(format!("START RequestId: {id} Version: $LATEST")),
            ev(format!(
                r#"{{"level":"WARN","fields":{{"message":"fault injected: {message}","fault_injected":true,"fault_mode":"exception"}},"span":{{"requestId":"{id}"}}}}"#
            )),
            ev(format!(
                r#"{{"Faults":1,"Requests":1,"Service":"dev-payment","_aws":{{"CloudWatchMetrics":[]}},"requestId":"{id}"}}"#
            )),
            ev(format!(
                r#"{{"level":"ERROR","fields":{{"message":"Injected(\"{message}\")"}},"span":{{"requestId":"{id}","name":"Lambda runtime invoke"}},"spans":[{{"requestId":"{id}","name":"Lambda runtime invoke"}}]}}"#
            )),
            ev(format!("END RequestId: {id}")),
            ev(format!(
                "REPORT RequestId: {id}\tDuration: 1.90 ms\tBilled Duration: 9 ms\t"
            )),
        ]
    }

    #[test]
    fn diagnosis_names_the_error_the_requests_and_the_first_failure() {
        let mut events = failed_invocation(T0 - Duration::seconds(30), "old", "Earlier failure");
        for (i, id) in ["a1", "a2", "a3", "a4", "a5", "a6"].iter().enumerate() {
            events.extend(failed_invocation(
                T0 + Duration::seconds(i as i64),
                id,
                "Simulated payment service failure",
            ));
        }
        events.push(LogRecord {
            at: T0,
            log_group: "/aws/lambda/dev-payment".into(),
            log_stream: String::new(),
            message: "not json at all".into(),
        });
        let d = diagnose("payment", &events, T0).expect("errors were logged");
        assert_eq!(d.error_message, "Simulated payment service failure");
        assert_eq!(d.error_type, "Injected");
        assert_eq!(d.failed_requests, 6, "the failure before `from` is not counted");
        assert_eq!(d.failing_request_ids, ["a1", "a2", "a3", "a4", "a5"]);
        assert_eq!(d.first_failure_at, T0);
        assert_eq!(d.log_group, "/aws/lambda/dev-payment");

        let excerpt = invocation_excerpt(&events, "a1");
        assert_eq!(excerpt.len(), 5, "START, WARN, ERROR, END, REPORT; no EMF record");
        assert!(excerpt.iter().all(|l| !l.message.contains("_aws")));
        assert_eq!(
            excerpt[2].message,
            r#"{"level":"ERROR","fields":{"message":"Injected(\"Simulated payment service failure\")"},"span":{"requestId":"a1","name":"Lambda runtime invoke"}}"#,
            "the repeated spans list is dropped, the rest kept as it was"
        );
        assert!(serde_json::from_str::<serde_json::Value>(&excerpt[2].message).is_ok());
    }

    #[test]
    fn healthy_logs_have_no_diagnosis() {
        let info = LogRecord {
            at: T0,
            log_group: "/aws/lambda/dev-auth".into(),
            log_stream: String::new(),
            message: r#"{"level":"INFO","fields":{"message":"request handled"}}"#.into(),
        };
        assert_eq!(diagnose("auth", &[info], T0 - Duration::hours(1)), None);
        assert_eq!(diagnose("auth", &[], T0), None);
    }

    #[test]
    fn error_text_without_a_variant_is_kept_whole() {
        assert_eq!(split_error("Injected(\"x\")"), ("Injected".into(), "x".into()));
        assert_eq!(
            split_error("boom (really)"),
            ("Error".into(), "boom (really)".into())
        );
        assert_eq!(split_error("Timeout(3s)"), ("Timeout".into(), "3s".into()));
    }

    fn obs(path: &str, at_s: i64, status: Option<u16>) -> Observation {
        Observation {
            at: T0 + Duration::seconds(at_s),
            route: format!("GET {path}"),
            status,
            request_id: None,
            version: None,
            latency_ms: at_s as f64,
        }
    }

    fn dev_routes() -> Vec<Route> {
        [
            ("GET /auth", "auth"),
            ("GET /pay", "payment"),
            ("GET /pay-fixed", "payment-fixed"),
        ]
        .iter()
        .map(|(r, f)| Route {
            route: (*r).into(),
            path: r.trim_start_matches("GET ").into(),
            function: (*f).into(),
        })
        .collect()
    }

    #[test]
    fn blast_radius_separates_degraded_from_healthy_routes_in_the_window() {
        let seen = vec![
            obs("/auth", 1, Some(200)),
            obs("/auth", 2, Some(200)),
            obs("/pay", 1, Some(500)),
            obs("/pay", 2, Some(500)),
            obs("/pay-fixed", 0, Some(200)),
            obs("/pay-fixed", 3, Some(500)),
            obs("/pay-fixed", 4, None),
            // Outside the window: a 5xx on /auth long before does not count.
            obs("/auth", -60, Some(502)),
        ];
        let stats = route_stats(&dev_routes(), &seen, T0, T0 + Duration::seconds(10));
        let impact = blast_radius(&stats);
        let by_route: BTreeMap<&str, &RouteImpact> = impact.iter().map(|i| (i.route.as_str(), i)).collect();
        assert!(!by_route["GET /auth"].degraded);
        assert_eq!(by_route["GET /auth"].requests, 2);
        assert!(by_route["GET /pay"].degraded);
        assert_eq!(by_route["GET /pay"].errors_5xx, 2);
        assert!(by_route["GET /pay-fixed"].degraded);
        assert_eq!(
            by_route["GET /pay-fixed"].errors_5xx, 2,
            "a request with no answer counts"
        );
        assert_eq!(stats[2].statuses_text(), "200 x1, 500 x1, no answer x1");
        assert_eq!(stats[0].p99_ms, 2.0);
    }

    #[test]
    fn client_5xx_series_are_on_the_period_grid_with_zeros() {
        let seen = vec![
            obs("/pay", 1, Some(500)),
            obs("/pay", 7, Some(500)),
            obs("/pay", 8, Some(200)),
        ];
        let series = route_5xx_series(&dev_routes(), &seen, 5, T0, T0 + Duration::seconds(14));
        let pay = series.iter().find(|s| s.name == "GET /pay").unwrap();
        let values: Vec<f64> = pay.points.iter().map(|p| p.value).collect();
        assert_eq!(values, [1.0, 1.0, 0.0]);
        assert_eq!(pay.points[1].timestamp, T0 + Duration::seconds(5));
        assert!(series[0].points.iter().all(|p| p.value == 0.0));
    }
}
