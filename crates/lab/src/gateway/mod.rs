//! The HTTP API: routes from the stage file, the account throttle, payload 2.0 events to the
//! functions, and API Gateway's answers for everything that goes wrong.

pub mod event;
pub mod response;
pub mod routes;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Request, Response, StatusCode};
use time::OffsetDateTime;

use crate::http::{json_bytes, Body};
use crate::metrics::LabMetrics;
use crate::runtime::pool::Pool;
use crate::runtime::Outcome;
use crate::stats::LatencyStats;
use routes::Router;

/// API Gateway's maximum integration timeout.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(30);
/// HTTP API payload limit.
pub const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;
/// HTTP API limit on the request line plus headers.
pub const MAX_HEAD_BYTES: usize = 10_240;

pub const INTERNAL_ERROR: &str = r#"{"message":"Internal Server Error"}"#;
pub const NOT_FOUND: &str = r#"{"message":"Not Found"}"#;
pub const TOO_MANY_REQUESTS: &str = r#"{"message":"Too Many Requests"}"#;
pub const SERVICE_UNAVAILABLE: &str = r#"{"message":"Service Unavailable"}"#;
pub const TOO_LARGE: &str = r#"{"message":"Request Entity Too Large"}"#;
pub const HEADERS_TOO_LARGE: &str = r#"{"message":"Request Header Fields Too Large"}"#;

/// API Gateway's stage throttle: a token bucket of `burst` tokens refilled at `rate` per second.
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    state: Mutex<(f64, Instant)>,
}

impl TokenBucket {
    pub fn new(rate: f64, burst: u32) -> TokenBucket {
        TokenBucket {
            rate,
            burst: f64::from(burst),
            state: Mutex::new((f64::from(burst), Instant::now())),
        }
    }

    pub fn try_take(&self) -> bool {
        let mut st = self.state.lock().expect("bucket lock");
        let now = Instant::now();
        st.0 = (st.0 + (now - st.1).as_secs_f64() * self.rate).min(self.burst);
        st.1 = now;
        if st.0 >= 1.0 {
            st.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

pub struct Gateway {
    pub api_id: String,
    pub account_id: String,
    pub router: Router<Arc<Pool>>,
    pub throttle: TokenBucket,
    pub metrics: Arc<LabMetrics>,
    pub overhead: Arc<LatencyStats>,
    pub local_port: u16,
}

/// Bytes of the request line and headers as they travelled (`METHOD SP URI SP VERSION CRLF`,
/// `name: value CRLF` each, the closing CRLF).
fn head_size(req: &Request<Incoming>) -> usize {
    let target = req.uri().path_and_query().map_or(1, |p| p.as_str().len());
    let line = req.method().as_str().len() + 1 + target + 1 + 8 + 2;
    let headers: usize = req
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + 2 + v.len() + 2)
        .sum();
    line + headers + 2
}

fn canned(status: StatusCode, body: &'static str) -> Response<Body> {
    json_bytes(status, Bytes::from_static(body.as_bytes()))
}

impl Gateway {
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>, peer: SocketAddr) -> Response<Body> {
        let started = Instant::now();
        let request_id = crate::ids::apigw_request_id();
        // The matched route, for the per-route (detailed) metrics.
        let route = self
            .router
            .find(req.method().as_str(), req.uri().path())
            .map(|m| m.route.key.clone());
        let (mut resp, integration) = self.answer(req, peer, &request_id, started).await;
        let status = resp.status().as_u16();
        let h = resp.headers_mut();
        if let Ok(v) = HeaderValue::from_str(&request_id) {
            h.insert(HeaderName::from_static("apigw-requestid"), v);
        }
        let latency = started.elapsed();
        self.metrics.api_request(
            route.as_deref(),
            status,
            latency.as_secs_f64() * 1000.0,
            integration.map(|d| d.as_secs_f64() * 1000.0),
        );
        resp
    }

    /// The answer and, when a function was called, the integration latency.
    async fn answer(
        &self,
        req: Request<Incoming>,
        peer: SocketAddr,
        request_id: &str,
        started: Instant,
    ) -> (Response<Body>, Option<Duration>) {
        if head_size(&req) > MAX_HEAD_BYTES {
            return (
                canned(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE, HEADERS_TOO_LARGE),
                None,
            );
        }
        let declared = req
            .headers()
            .get(CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES) {
            // Read and discard what the client is still sending (within a bound) before
            // answering: a client writing its body would otherwise see a reset connection
            // instead of the 413.
            let _ = Limited::new(req.into_body(), 2 * MAX_BODY_BYTES).collect().await;
            return (canned(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE), None);
        }
        if !self.throttle.try_take() {
            return (canned(StatusCode::TOO_MANY_REQUESTS, TOO_MANY_REQUESTS), None);
        }
        let method = req.method().as_str().to_owned();
        let path = req.uri().path().to_owned();
        let Some(matched) = self.router.find(&method, &path) else {
            return (canned(StatusCode::NOT_FOUND, NOT_FOUND), None);
        };
        let route_key = matched.route.key.clone();
        let pool = matched.route.target.clone();
        let path_parameters = matched.path_parameters;
        let raw_query = req.uri().query().unwrap_or("").to_owned();
        let protocol = match req.version() {
            hyper::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        };
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return (canned(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE), None),
        };
        let now = OffsetDateTime::now_utc();
        let trace_id = crate::ids::trace_id(now);
        let payload = event::build(&event::EventInput {
            method: &method,
            path: &path,
            raw_query: &raw_query,
            protocol,
            headers: &parts.headers,
            body: &body,
            route_key: &route_key,
            path_parameters: &path_parameters,
            account_id: &self.account_id,
            api_id: &self.api_id,
            request_id,
            client: peer,
            local_port: self.local_port,
            trace_id: &trace_id,
            now,
        });

        // The invocation runs on its own task: when API Gateway gives up after 30 s, Lambda's
        // side still finishes (timeout, logs, metrics) exactly as it would on AWS.
        let integration_start = Instant::now();
        let lambda_request_id: Arc<str> = crate::ids::lambda_request_id().into();
        let task =
            tokio::spawn(async move { pool.invoke_live(lambda_request_id, Bytes::from(payload)).await });
        let result = match tokio::time::timeout(INTEGRATION_TIMEOUT, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => {
                return (
                    canned(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR),
                    Some(integration_start.elapsed()),
                )
            }
            Err(_) => {
                return (
                    canned(StatusCode::SERVICE_UNAVAILABLE, SERVICE_UNAVAILABLE),
                    Some(integration_start.elapsed()),
                )
            }
        };
        let integration = integration_start.elapsed();
        let resp = match &result.outcome {
            Outcome::Response(out) => match response::map(out) {
                Ok(mapped) => build_response(mapped),
                Err(response::Malformed(why)) => {
                    tracing::warn!(route = %route_key, "malformed Lambda proxy response: {why}");
                    canned(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR)
                }
            },
            // A function error, timeout, crash or throttle. Lambda refusing the invocation (TooManyRequestsException) reaches the client as
            // API Gateway's own 500, not as a 429: the 429 belongs to the API's throttle alone.
            // Source: Lambda developer guide, "Handling Lambda errors with an API Gateway API".
            _ => canned(StatusCode::INTERNAL_SERVER_ERROR, INTERNAL_ERROR),
        };
        if let Some(function) = result.function_duration {
            // What the lab adds on top of the function's own time: gateway, event, Runtime API.
            self.overhead.record(started.elapsed().saturating_sub(function));
        }
        (resp, Some(integration))
    }
}

fn build_response(mapped: response::Mapped) -> Response<Body> {
    let mut resp = Response::new(http_body_util::Full::new(mapped.body));
    *resp.status_mut() = StatusCode::from_u16(mapped.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    for (name, value) in mapped.headers {
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            if n == CONTENT_LENGTH {
                continue;
            }
            h.append(n, v);
        }
    }
    if !h.contains_key(CONTENT_TYPE) && mapped.status != 204 {
        h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_bucket_allows_the_burst_then_refills() {
        let b = TokenBucket::new(1000.0, 3);
        assert!(b.try_take() && b.try_take() && b.try_take());
        assert!(!b.try_take());
        std::thread::sleep(Duration::from_millis(5));
        assert!(b.try_take());
    }
}
