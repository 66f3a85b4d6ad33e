//! The pre-traffic check's request and verdict: the API Gateway HTTP API event (payload format
//! 2.0) the API would send for the function's route, and what the new version must answer
//! before any client is sent to it.

use serde_json::{json, Value};
use time::OffsetDateTime;

use crate::ports::route_path;

/// The event API Gateway sends for one GET of `route` (`GET /pay-fixed`), with the fields
/// `service_kit::request` reads filled as API Gateway fills them. `domain` is the API's host.
pub fn http_api_event(route: &str, domain: &str, now: OffsetDateTime) -> Value {
    let (method, path) = route.split_once(' ').unwrap_or(("GET", route));
    let path = route_path(path);
    let user_agent = concat!("smoke-test/", env!("CARGO_PKG_VERSION"), " (pre-traffic check)");
    let request_id = format!("smoke-test-pre-traffic-{}", now.unix_timestamp_nanos());
    let clf_time = now
        .format(time::macros::format_description!(
            "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
        ))
        .unwrap_or_default();
    json!({
        "version": "2.0",
        "routeKey": route,
        "rawPath": path,
        "rawQueryString": "",
        "headers": {
            "accept": "application/json",
            "host": domain,
            "user-agent": user_agent,
            "x-forwarded-proto": "https",
        },
        "requestContext": {
            "accountId": "anonymous",
            "apiId": domain.split('.').next().unwrap_or(domain),
            "domainName": domain,
            "domainPrefix": domain.split('.').next().unwrap_or(domain),
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": route,
            "stage": outage_config::stage::API_STAGE_NAME,
            "time": clf_time,
            "timeEpoch": now.unix_timestamp() * 1000 + i64::from(now.millisecond()),
        },
        "isBase64Encoded": false,
    })
}

/// The verdict on the new version's answer to that event: `Ok(status)` for no `FunctionError`
/// and a 2xx `statusCode`, else why not.
pub fn judge_answer(function_error: Option<&str>, payload: &[u8]) -> Result<u16, String> {
    let text = String::from_utf8_lossy(payload);
    let excerpt: String = text.chars().take(300).collect();
    if let Some(kind) = function_error {
        return Err(format!("the function failed ({kind}): {excerpt}"));
    }
    let answer: Value =
        serde_json::from_slice(payload).map_err(|e| format!("the answer is not JSON ({e}): {excerpt}"))?;
    let status = answer
        .get("statusCode")
        .and_then(Value::as_u64)
        .ok_or_else(|| format!("the answer has no statusCode: {excerpt}"))?;
    let status = u16::try_from(status).map_err(|_| format!("statusCode {status} is not an HTTP status"))?;
    if (200..300).contains(&status) {
        Ok(status)
    } else {
        Err(format!("statusCode {status}: {excerpt}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_is_an_http_api_2_0_get_of_the_route() {
        let now = OffsetDateTime::from_unix_timestamp(1_764_648_000).unwrap();
        let e = http_api_event(
            "GET /pay-fixed",
            "abc123.execute-api.eu-west-1.amazonaws.com",
            now,
        );
        assert_eq!(e["version"], "2.0");
        assert_eq!(e["routeKey"], "GET /pay-fixed");
        assert_eq!(e["rawPath"], "/pay-fixed");
        assert_eq!(e["requestContext"]["http"]["method"], "GET");
        assert_eq!(e["requestContext"]["http"]["path"], "/pay-fixed");
        assert_eq!(e["requestContext"]["apiId"], "abc123");
        assert_eq!(e["requestContext"]["stage"], "$default");
        assert_eq!(e["requestContext"]["time"], "02/Dec/2025:04:00:00 +0000");
        assert_eq!(e["requestContext"]["timeEpoch"], 1_764_648_000_000_i64);
    }

    #[test]
    fn only_a_2xx_without_a_function_error_passes() {
        assert_eq!(judge_answer(None, br#"{"statusCode":200,"body":"{}"}"#), Ok(200));
        let e = judge_answer(None, br#"{"statusCode":500,"body":"boom"}"#).unwrap_err();
        assert!(e.starts_with("statusCode 500"), "{e}");
        let e = judge_answer(
            Some("Unhandled"),
            br#"{"errorType":"&alloc::boxed::Box<dyn core::error::Error>","errorMessage":"Simulated payment failure"}"#,
        )
        .unwrap_err();
        assert!(
            e.contains("failed (Unhandled)") && e.contains("Simulated payment failure"),
            "{e}"
        );
        assert!(judge_answer(None, b"not json").unwrap_err().contains("not JSON"));
        assert!(judge_answer(None, b"{}").unwrap_err().contains("no statusCode"));
    }
}
