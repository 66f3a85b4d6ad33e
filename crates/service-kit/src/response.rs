//! Building API Gateway HTTP API (payload format 2.0) responses.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use aws_lambda_events::http::header::{HeaderValue, CONTENT_TYPE};
use serde::Serialize;
use std::time::{SystemTime, UNIX_EPOCH};

/// A response whose body is `body` serialised as JSON, with `content-type: application/json`.
pub fn json(status: u16, body: &impl Serialize) -> ApiGatewayV2httpResponse {
    // Serialising plain data structs cannot fail; fall back to a valid body rather than panic.
    let text =
        serde_json::to_string(body).unwrap_or_else(|_| r#"{"message":"Internal Server Error"}"#.to_owned());
    let mut response = ApiGatewayV2httpResponse::default();
    response.status_code = i64::from(status);
    response
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(version) = function_version() {
        response.headers.insert(FUNCTION_VERSION_HEADER, version.clone());
    }
    response.body = Some(Body::Text(text));
    response
}

/// The version that answered (`AWS_LAMBDA_FUNCTION_VERSION`: `$LATEST`, `7`): a client counts
/// what share of a canary's requests the new version served.
pub const FUNCTION_VERSION_HEADER: &str = "x-function-version";

fn function_version() -> Option<&'static HeaderValue> {
    static VERSION: std::sync::OnceLock<Option<HeaderValue>> = std::sync::OnceLock::new();
    VERSION
        .get_or_init(|| {
            std::env::var("AWS_LAMBDA_FUNCTION_VERSION")
                .ok()
                .and_then(|v| HeaderValue::from_str(&v).ok())
        })
        .as_ref()
}

/// A response of the shape API Gateway itself uses for errors: `{"message": "..."}`.
pub fn message(status: u16, text: &str) -> ApiGatewayV2httpResponse {
    json(status, &serde_json::json!({ "message": text }))
}

/// Seconds since the Unix epoch, for the `timestamp` field of every healthy answer.
pub fn unix_timestamp() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
