//! The auth service: a health answer behind `GET /auth`.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::http::Method;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use service_kit::{request, response, ServiceInfo};

pub const SERVICE: ServiceInfo = ServiceInfo { name: "auth-service" };

#[derive(Debug, Serialize)]
struct Health {
    service: &'static str,
    status: &'static str,
    message: &'static str,
    timestamp: u64,
}

/// `GET` answers 200 with the service's health; anything else gets a 4xx from the kit.
pub async fn handler(event: LambdaEvent<Value>) -> Result<ApiGatewayV2httpResponse, Error> {
    if let Err(rejection) = request::accept(event.payload, &[Method::GET]) {
        return Ok(rejection.into_response());
    }
    let health = Health {
        service: SERVICE.name,
        status: "ok",
        message: "auth service healthy",
        timestamp: response::unix_timestamp(),
    };
    Ok(response::json(200, &health))
}
