//! The product handler on real API Gateway HTTP API events.

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
        .block_on(product::handler(invocation(payload)))
        .unwrap()
}

#[test]
fn get_answers_with_the_whole_catalogue() {
    for event in HTTP_API_GETS {
        let answer = run(fixture(event));
        assert_eq!(answer.status_code, 200);
        assert_eq!(answer.headers["content-type"], "application/json");
        let body = body_json(&answer);
        assert_eq!(
            (body["service"].as_str(), body["status"].as_str()),
            (Some("product-service"), Some("ok"))
        );
        assert!(body["timestamp"].is_u64());
        assert_eq!(
            body.as_object().unwrap().len(),
            4,
            "service, status, products, timestamp: {body}"
        );
        let products = body["products"].as_array().unwrap();
        assert_eq!(products.len(), product::CATALOGUE.len());
        assert!(products.len() >= 5);
        for item in products {
            // JSON objects are unordered; compare the field names sorted.
            let mut fields: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
            fields.sort_unstable();
            assert_eq!(
                fields,
                ["currency", "id", "in_stock", "name", "price_cents"],
                "{item}"
            );
            assert!(item["price_cents"].as_u64().unwrap() > 0);
            assert_eq!(item["currency"].as_str().unwrap().len(), 3, "ISO 4217 code");
        }
    }
}

#[test]
fn catalogue_ids_are_unique_and_some_items_are_out_of_stock() {
    let mut ids: Vec<_> = product::CATALOGUE.iter().map(|p| p.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), product::CATALOGUE.len());
    assert!(product::CATALOGUE.iter().any(|p| !p.in_stock) && product::CATALOGUE.iter().any(|p| p.in_stock));
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
