//! The product service: the catalogue behind `GET /product`.

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use aws_lambda_events::http::Method;
use lambda_runtime::{Error, LambdaEvent};
use serde::Serialize;
use serde_json::Value;
use service_kit::{request, response, ServiceInfo};

pub const SERVICE: ServiceInfo = ServiceInfo {
    name: "product-service",
};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Product {
    pub id: &'static str,
    pub name: &'static str,
    /// Prices in the currency's minor unit, so no rounding ever happens.
    pub price_cents: u32,
    /// ISO 4217 code.
    pub currency: &'static str,
    pub in_stock: bool,
}

/// The mock catalogue: fixed data, so that answers are comparable across runs and stages.
pub const CATALOGUE: [Product; 6] = [
    Product {
        id: "sku-1001",
        name: "Trail running shoes",
        price_cents: 12_999,
        currency: "EUR",
        in_stock: true,
    },
    Product {
        id: "sku-1002",
        name: "Merino wool base layer",
        price_cents: 6_450,
        currency: "EUR",
        in_stock: true,
    },
    Product {
        id: "sku-1003",
        name: "Insulated water bottle 750 ml",
        price_cents: 2_495,
        currency: "EUR",
        in_stock: true,
    },
    Product {
        id: "sku-1004",
        name: "Ultralight rain jacket",
        price_cents: 18_900,
        currency: "EUR",
        in_stock: false,
    },
    Product {
        id: "sku-1005",
        name: "Headlamp 400 lumen",
        price_cents: 3_999,
        currency: "EUR",
        in_stock: true,
    },
    Product {
        id: "sku-1006",
        name: "Trekking poles (pair)",
        price_cents: 8_950,
        currency: "EUR",
        in_stock: false,
    },
];

#[derive(Debug, Serialize)]
struct Catalogue {
    service: &'static str,
    status: &'static str,
    products: &'static [Product],
    timestamp: u64,
}

/// `GET` answers 200 with the catalogue; anything else gets a 4xx from the kit.
pub async fn handler(event: LambdaEvent<Value>) -> Result<ApiGatewayV2httpResponse, Error> {
    if let Err(rejection) = request::accept(event.payload, &[Method::GET]) {
        return Ok(rejection.into_response());
    }
    let catalogue = Catalogue {
        service: SERVICE.name,
        status: "ok",
        products: &CATALOGUE,
        timestamp: response::unix_timestamp(),
    };
    Ok(response::json(200, &catalogue))
}
