//! Real API Gateway HTTP API events and helpers for handler tests (feature `testing`).
//!
//! The fixtures are the example events that the `aws_lambda_events` crate ships, copied into
//! `tests/fixtures`: the exact shapes API Gateway sends.

pub mod process;
pub mod runtime_api;

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::encodings::Body;
use lambda_runtime::{Context, LambdaEvent};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// `GET /` with no authorizer, the simplest HTTP API event.
pub const GET_NO_AUTHORIZER: &str =
    include_str!("../../tests/fixtures/example-apigw-v2-request-no-authorizer.json");
/// `GET /my/path` with query parameters, cookies and an IAM authorizer.
pub const GET_IAM: &str = include_str!("../../tests/fixtures/example-apigw-v2-request-iam.json");
/// `GET /my/path` with a JWT authorizer.
pub const GET_JWT: &str = include_str!("../../tests/fixtures/example-apigw-v2-request-jwt-authorizer.json");
/// `GET /my/path` with a Lambda authorizer.
pub const GET_LAMBDA_AUTHORIZER: &str =
    include_str!("../../tests/fixtures/example-apigw-v2-request-lambda-authorizer.json");
/// `GET /my/path` with repeated query parameters.
pub const GET_MULTI_VALUE: &str =
    include_str!("../../tests/fixtures/example-apigw-v2-request-multi-value-parameters.json");
/// `GET /dump` as SAM local sends it.
pub const GET_SAM: &str = include_str!("../../tests/fixtures/example-apigw-sam-http-request.json");
/// Every HTTP API 2.0 `GET` fixture.
pub const HTTP_API_GETS: [&str; 6] = [
    GET_NO_AUTHORIZER,
    GET_IAM,
    GET_JWT,
    GET_LAMBDA_AUTHORIZER,
    GET_MULTI_VALUE,
    GET_SAM,
];

/// A REST API (payload format 1.0) event: not what these functions are wired to.
pub const REST_API_V1: &str = include_str!("../../tests/fixtures/example-apigw-request.json");
/// An SQS event: not an HTTP request at all.
pub const SQS: &str = include_str!("../../tests/fixtures/example-sqs-event.json");

/// The Lambda request id that [`invocation`] puts in the context.
pub const REQUEST_ID: &str = "8476a536-e9f4-11e8-9739-2dfe598c3fcd";

/// Parses a fixture; they are checked in, so a failure is a broken checkout.
pub fn fixture(text: &str) -> Value {
    serde_json::from_str(text).expect("fixture events are valid JSON")
}

/// The same event with another HTTP method, as API Gateway would send it for that method.
pub fn with_method(mut event: Value, method: &str) -> Value {
    event["requestContext"]["http"]["method"] = json!(method);
    if let Some(route) = event["routeKey"]
        .as_str()
        .and_then(|r| r.split_once(' '))
        .map(|(_, path)| path.to_owned())
    {
        event["routeKey"] = json!(format!("{method} {route}"));
    }
    event
}

/// A Lambda invocation of `payload`, as the runtime hands it to a handler.
pub fn invocation(payload: Value) -> LambdaEvent<Value> {
    let mut context = Context::default();
    context.request_id = REQUEST_ID.to_owned();
    context.invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:dev-test".to_owned();
    LambdaEvent::new(payload, context)
}

/// The response body parsed as JSON.
pub fn body_json(response: &ApiGatewayV2httpResponse) -> Value {
    match &response.body {
        Some(Body::Text(text)) => serde_json::from_str(text).expect("the body is JSON"),
        other => panic!("expected a text body, got {other:?}"),
    }
}

/// HTTP API events with arbitrary paths, query strings, headers, bodies and methods, built on a
/// real fixture so that everything else stays realistic.
pub fn arbitrary_http_api_event() -> impl Strategy<Value = Value> {
    let method = prop_oneof![
        Just("GET".to_owned()),
        Just("POST".to_owned()),
        Just("DELETE".to_owned()),
        "[A-Z]{1,10}",
        ".{0,12}",
    ];
    let headers = proptest::collection::btree_map("[a-z0-9-]{1,20}", ".{0,40}", 0..8);
    let query = proptest::collection::btree_map(".{0,10}", ".{0,10}", 0..4);
    (
        prop::sample::select(HTTP_API_GETS.to_vec()),
        method,
        ".{0,80}",
        ".{0,80}",
        headers,
        query,
        proptest::option::of(".{0,200}"),
        any::<bool>(),
    )
        .prop_map(|(base, method, path, raw_query, headers, query, body, base64)| {
            let mut event = with_method(fixture(base), &method);
            event["rawPath"] = json!(path);
            event["requestContext"]["http"]["path"] = json!(path);
            event["rawQueryString"] = json!(raw_query);
            event["headers"] = Value::Object(
                headers
                    .into_iter()
                    .map(|(k, v)| (k, json!(v)))
                    .collect::<Map<_, _>>(),
            );
            event["queryStringParameters"] = Value::Object(
                query
                    .into_iter()
                    .map(|(k, v)| (k, json!(v)))
                    .collect::<Map<_, _>>(),
            );
            event["body"] = body.map_or(Value::Null, Value::String);
            event["isBase64Encoded"] = json!(base64);
            event
        })
}

/// Any JSON value at all, as a misconfigured trigger could send.
pub fn arbitrary_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,20}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("version".to_owned()),
                    Just("requestContext".to_owned()),
                    ".{0,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
