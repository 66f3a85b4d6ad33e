//! Turning a raw Lambda payload into an API Gateway HTTP API request, or a clear 4xx answer.
//!
//! Functions take the payload as `serde_json::Value` and convert it here, so a malformed event
//! becomes a handled 400 with a message, never a runtime deserialisation error or a panic.

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::http::header::{HeaderValue, ALLOW};
use aws_lambda_events::http::Method;
use serde_json::Value;

use crate::response;

/// Why an event was refused, and the 4xx answer that says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    pub message: String,
    /// For a 405: the methods the function serves (the `allow` header).
    pub allow: Option<String>,
}

impl Rejection {
    fn bad_request(message: impl Into<String>) -> Self {
        Rejection {
            status: 400,
            message: message.into(),
            allow: None,
        }
    }

    /// `{"message": "..."}` with the status, and `allow` for a 405.
    pub fn into_response(self) -> ApiGatewayV2httpResponse {
        let mut answer = response::message(self.status, &self.message);
        if let Some(value) = self.allow.and_then(|allow| HeaderValue::from_str(&allow).ok()) {
            answer.headers.insert(ALLOW, value);
        }
        answer
    }
}

/// Accepts `payload` when it is an API Gateway HTTP API request (payload format 2.0) whose
/// method is one of `allowed`; otherwise refuses it with 400 (not such a request) or 405.
pub fn accept(payload: Value, allowed: &[Method]) -> Result<ApiGatewayV2httpRequest, Rejection> {
    let request = parse_http_api_request(payload)?;
    let method = &request.request_context.http.method;
    if allowed.contains(method) {
        return Ok(request);
    }
    let allow = allowed.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    Err(Rejection {
        status: 405,
        message: format!("method {method} is not allowed here; this function serves {allow}"),
        allow: Some(allow),
    })
}

/// Checks the payload format version and the method, then deserialises the event.
pub fn parse_http_api_request(payload: Value) -> Result<ApiGatewayV2httpRequest, Rejection> {
    let Value::Object(ref fields) = payload else {
        return Err(Rejection::bad_request("the event is not a JSON object"));
    };
    match fields.get("version").and_then(Value::as_str) {
        Some("2.0") => {}
        Some(other) => {
            return Err(Rejection::bad_request(format!(
                "payload format version {other:?} is not supported; expected an API Gateway HTTP API event with version \"2.0\""
            )))
        }
        None => {
            return Err(Rejection::bad_request(
                "the event has no \"version\"; expected an API Gateway HTTP API event with version \"2.0\"",
            ))
        }
    }
    // The event types read an empty method as GET; an event without a real method is malformed.
    let method = payload
        .pointer("/requestContext/http/method")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if method.trim().is_empty() {
        return Err(Rejection::bad_request(
            "the event has no requestContext.http.method",
        ));
    }
    serde_json::from_value(payload).map_err(|error| {
        Rejection::bad_request(format!(
            "the event is not a valid API Gateway HTTP API 2.0 request: {error}"
        ))
    })
}
