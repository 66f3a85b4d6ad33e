//! Input handling: real HTTP API events are accepted, everything else gets a clear 4xx answer.

use aws_lambda_events::http::Method;
use proptest::prelude::*;
use serde_json::json;
use service_kit::request::accept;
use service_kit::testing::{
    arbitrary_http_api_event, arbitrary_json, body_json, fixture, with_method, HTTP_API_GETS, REST_API_V1,
    SQS,
};

#[test]
fn every_http_api_fixture_is_accepted_for_get() {
    for text in HTTP_API_GETS {
        let request = accept(fixture(text), &[Method::GET]).expect("a real GET event is accepted");
        assert_eq!(request.request_context.http.method, Method::GET);
    }
}

#[test]
fn another_method_gets_405_naming_the_allowed_ones() {
    let answer = accept(with_method(fixture(HTTP_API_GETS[1]), "POST"), &[Method::GET])
        .unwrap_err()
        .into_response();
    assert_eq!(answer.status_code, 405);
    assert_eq!(answer.headers["allow"], "GET");
    assert_eq!(
        body_json(&answer),
        json!({"message": "method POST is not allowed here; this function serves GET"})
    );
}

#[test]
fn events_that_are_not_http_api_requests_get_400_saying_why() {
    let cases = [
        (fixture(REST_API_V1), "the event has no \"version\""),
        (
            rest_api_with_version_1(),
            "payload format version \"1.0\" is not supported",
        ),
        (fixture(SQS), "the event has no \"version\""),
        (json!([1, 2]), "the event is not a JSON object"),
        (json!("GET /auth"), "the event is not a JSON object"),
        (
            json!({"version": "2.0"}),
            "the event has no requestContext.http.method",
        ),
        (
            json!({"version": "2.0", "requestContext": {"http": {"method": "GET"}}, "headers": 7}),
            "the event is not a valid API Gateway HTTP API 2.0 request",
        ),
        (json!({"version": 2}), "the event has no \"version\""),
    ];
    for (event, expected) in cases {
        let answer = accept(event.clone(), &[Method::GET]).unwrap_err().into_response();
        assert_eq!(answer.status_code, 400, "{event}");
        let message = body_json(&answer)["message"].as_str().unwrap().to_owned();
        assert!(message.starts_with(expected), "{event}: {message}");
        assert_eq!(answer.headers["content-type"], "application/json");
    }
}

/// HTTP APIs can also send payload format 1.0, which marks itself with `"version": "1.0"`.
fn rest_api_with_version_1() -> serde_json::Value {
    let mut event = fixture(REST_API_V1);
    event["version"] = json!("1.0");
    event
}

#[test]
fn a_missing_http_method_is_a_400_not_a_default_get() {
    let mut event = fixture(HTTP_API_GETS[0]);
    event["requestContext"]["http"]
        .as_object_mut()
        .unwrap()
        .remove("method");
    assert_eq!(accept(event.clone(), &[Method::GET]).unwrap_err().status, 400);
    event["requestContext"]["http"]["method"] = json!("");
    let answer = accept(event, &[Method::GET]).unwrap_err().into_response();
    assert_eq!(
        body_json(&answer),
        json!({"message": "the event has no requestContext.http.method"})
    );
}

proptest! {
    #[test]
    fn arbitrary_http_api_events_get_an_answer(event in arbitrary_http_api_event()) {
        let method = event["requestContext"]["http"]["method"].as_str().unwrap_or_default().to_owned();
        match accept(event, &[Method::GET]) {
            Ok(request) => prop_assert_eq!(request.request_context.http.method.as_str(), method),
            Err(rejection) => {
                let answer = rejection.into_response();
                prop_assert!(answer.status_code == 400 || answer.status_code == 405);
                prop_assert!(body_json(&answer)["message"].is_string());
            }
        }
    }

    #[test]
    fn arbitrary_json_gets_an_answer(event in arbitrary_json()) {
        if let Err(rejection) = accept(event, &[Method::GET]) {
            prop_assert_eq!(rejection.status, 400);
        }
    }
}
