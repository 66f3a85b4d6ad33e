//! The payment handler on real API Gateway HTTP API events.

use proptest::prelude::*;
use serde_json::json;
use service_kit::testing::{
    arbitrary_http_api_event, arbitrary_json, body_json, fixture, invocation, with_method, HTTP_API_GETS,
    REST_API_V1, SQS,
};

fn run(payload: serde_json::Value) -> aws_lambda_events::apigw::ApiGatewayV2httpResponse {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(payment::handler(invocation(payload)))
        .unwrap()
}

#[test]
fn get_answers_that_the_payment_service_is_reachable() {
    for event in HTTP_API_GETS {
        let answer = run(fixture(event));
        assert_eq!(answer.status_code, 200);
        assert_eq!(answer.headers["content-type"], "application/json");
        let body = body_json(&answer);
        let timestamp = body["timestamp"].as_u64().expect("a unix timestamp in seconds");
        assert!((service_kit::response::unix_timestamp() - timestamp) < 60);
        assert_eq!(
            body,
            json!({"service": "payment-service", "status": "ok", "message": "payment service reachable", "timestamp": timestamp})
        );
    }
}

#[test]
fn other_methods_get_405() {
    let answer = run(with_method(fixture(HTTP_API_GETS[0]), "POST"));
    assert_eq!(answer.status_code, 405);
    assert_eq!(answer.headers["allow"], "GET");
}

#[test]
fn events_that_are_not_http_api_requests_get_400() {
    for event in [fixture(REST_API_V1), fixture(SQS), json!(null), json!({})] {
        let answer = run(event);
        assert_eq!(answer.status_code, 400);
        assert!(body_json(&answer)["message"].is_string());
    }
}

#[test]
fn the_default_fault_message_is_the_seed_scenario_text() {
    assert_eq!(
        payment::SERVICE.default_fault_message(),
        "Simulated payment service failure"
    );
}

proptest! {
    #[test]
    fn arbitrary_requests_never_panic(event in arbitrary_http_api_event()) {
        let answer = run(event);
        prop_assert!([200, 400, 405].contains(&answer.status_code));
    }

    #[test]
    fn arbitrary_json_never_panics(event in arbitrary_json()) {
        prop_assert_eq!(run(event).status_code, 400);
    }
}
