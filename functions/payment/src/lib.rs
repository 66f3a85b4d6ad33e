//! The payment service behind `GET /pay` and `GET /pay-fixed`: one code base deployed twice.
//! The broken `/pay` is this handler with `FAULT_MODE=exception` and the message "Simulated
//! payment service failure": the kit returns the unhandled error before the handler runs.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::http::Method;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use service_kit::{request, response, ServiceInfo};

pub const SERVICE: ServiceInfo = ServiceInfo {
    name: "payment-service",
};

#[derive(Debug, Serialize)]
struct Reachable {
    service: &'static str,
    status: &'static str,
    message: &'static str,
    timestamp: u64,
}

/// `GET` answers 200 "payment service reachable"; anything else gets a 4xx from the kit.
pub async fn handler(event: LambdaEvent<Value>) -> Result<ApiGatewayV2httpResponse, Error> {
    if let Err(rejection) = request::accept(event.payload, &[Method::GET]) {
        return Ok(rejection.into_response());
    }
    let reachable = Reachable {
        service: SERVICE.name,
        status: "ok",
        message: "payment service reachable",
        timestamp: response::unix_timestamp(),
    };
    Ok(response::json(200, &reachable))
}
