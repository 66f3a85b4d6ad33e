//! The Lambda Runtime API (`/2018-06-01/runtime/...`) served to one execution environment.

use std::convert::Infallible;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use time::OffsetDateTime;

use super::env::{epoch_ms, Current, Env, Phase};
use super::report::start_line;
use super::Outcome;

const PREFIX: &str = "/2018-06-01/runtime/";
/// Lambda's synchronous response payload limit.
pub const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// Accepts the runtime's connections until the environment ends (the task is then aborted).
pub async fn serve(listener: tokio::net::TcpListener, env: Arc<Env>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let env = env.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| handle(env.clone(), req));
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}

fn json(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

const ACCEPTED: &str = r#"{"status":"OK"}"#;
const NOT_FOUND: &str = r#"{"errorMessage":"unknown Runtime API path","errorType":"InvalidRequest"}"#;
const BAD_ID: &str = r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#;
const TOO_LARGE: &str = r#"{"errorMessage":"Response payload size exceeded maximum allowed payload size (6291556 bytes).","errorType":"RequestEntityTooLarge"}"#;

async fn handle(env: Arc<Env>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return Ok(json(StatusCode::NOT_FOUND, NOT_FOUND));
    };
    let method = req.method().clone();
    Ok(match (method, rest) {
        (Method::GET, "invocation/next") => next(&env).await,
        (Method::POST, "init/error") => init_error(&env, req).await,
        (Method::POST, r) => match r.strip_prefix("invocation/") {
            Some(r) => {
                if let Some(id) = r.strip_suffix("/response") {
                    let id = id.to_owned();
                    respond(&env, &id, req).await
                } else if let Some(id) = r.strip_suffix("/error") {
                    let id = id.to_owned();
                    fail(&env, &id, req).await
                } else {
                    json(StatusCode::NOT_FOUND, NOT_FOUND)
                }
            }
            None => json(StatusCode::NOT_FOUND, NOT_FOUND),
        },
        _ => json(StatusCode::NOT_FOUND, NOT_FOUND),
    })
}

/// `GET /runtime/invocation/next`: blocks until the pool hands this environment an event.
async fn next(env: &Arc<Env>) -> Response<Full<Bytes>> {
    let inv = env.next_invocation().await;
    let now = std::time::Instant::now();
    let _ = env.init_duration.get_or_init(|| now - env.spawned);
    env.set_phase(Phase::Busy);
    env.log(start_line(&inv.request_id, &env.version));
    let deadline_ms = epoch_ms() + env.identity.timeout.as_millis() as i64;
    let mut r = Response::new(Full::new(inv.payload));
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Ok(v) = HeaderValue::from_str(&inv.request_id) {
        h.insert("lambda-runtime-aws-request-id", v);
    }
    h.insert("lambda-runtime-deadline-ms", HeaderValue::from(deadline_ms));
    if let Ok(v) = HeaderValue::from_str(&env.identity.function_arn) {
        h.insert("lambda-runtime-invoked-function-arn", v);
    }
    if let Ok(v) = HeaderValue::from_str(&crate::ids::trace_id(OffsetDateTime::now_utc())) {
        h.insert("lambda-runtime-trace-id", v);
    }
    *env.current.lock().expect("current lock") = Some(Current {
        request_id: inv.request_id,
        reply: inv.reply,
    });
    let _ = inv.delivered.send(now);
    r
}

async fn read_body(req: Request<Incoming>) -> Result<Bytes, ()> {
    Limited::new(req.into_body(), MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .map_err(|_| ())
}

fn take_current(env: &Env, id: &str) -> Option<Current> {
    env.current
        .lock()
        .expect("current lock")
        .take_if(|c| &*c.request_id == id)
}

/// `POST /runtime/invocation/{id}/response`.
async fn respond(env: &Arc<Env>, id: &str, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = read_body(req).await;
    let Some(cur) = take_current(env, id) else {
        return json(StatusCode::BAD_REQUEST, BAD_ID);
    };
    match body {
        Ok(body) => {
            let _ = cur.reply.send(Outcome::Response(body));
            json(StatusCode::ACCEPTED, ACCEPTED)
        }
        Err(()) => {
            let body = Bytes::from_static(TOO_LARGE.as_bytes());
            let _ = cur.reply.send(Outcome::FunctionError {
                error_type: "Function.ResponseSizeTooLarge".into(),
                body,
            });
            json(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE)
        }
    }
}

/// `POST /runtime/invocation/{id}/error`: an unhandled function error.
async fn fail(env: &Arc<Env>, id: &str, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let header_type = req.headers().get("lambda-runtime-function-error-type").cloned();
    let body = read_body(req).await.unwrap_or_default();
    let Some(cur) = take_current(env, id) else {
        return json(StatusCode::BAD_REQUEST, BAD_ID);
    };
    let error_type = header_type
        .and_then(|v| v.to_str().ok().map(str::to_owned))
        .unwrap_or_else(|| body_error_type(&body).unwrap_or_else(|| "Unhandled".into()));
    let _ = cur.reply.send(Outcome::FunctionError { error_type, body });
    json(StatusCode::ACCEPTED, ACCEPTED)
}

fn body_error_type(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("errorType")?
        .as_str()
        .map(str::to_owned)
}

/// `POST /runtime/init/error`: the function could not initialise. Lambda records the error and
/// resets the environment; the waiting invocation fails with it.
async fn init_error(env: &Arc<Env>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let (parts, body) = req.into_parts();
    let body = Limited::new(body, MAX_RESPONSE_BYTES)
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let req = Request::from_parts(parts, ());
    let kind = req
        .headers()
        .get("lambda-runtime-function-error-type")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| body_error_type(&body))
        .unwrap_or_else(|| "Runtime.InitError".into());
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("errorMessage").and_then(|m| m.as_str()).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
    *env.init_error.lock().expect("init error lock") = Some((kind, message));
    env.kill();
    json(StatusCode::ACCEPTED, ACCEPTED)
}
