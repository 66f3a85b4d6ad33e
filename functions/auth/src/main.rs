//! Wiring only: logging, configuration read once (a bad FAULT_* value stops the start), the
//! service kit around the handler, then the Lambda runtime loop.

use lambda_runtime::{service_fn, tower::Layer, Error};

#[tokio::main]
async fn main() -> Result<(), Error> {
    service_kit::init_tracing();
    let kit = service_kit::layer_from_env_or_exit(&auth::SERVICE).await;
    lambda_runtime::run(kit.layer(service_fn(auth::handler))).await
}
