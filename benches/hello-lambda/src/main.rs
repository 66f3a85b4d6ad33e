//! The smallest useful Lambda function built on lambda_runtime (what `cargo lambda new` starts
//! from): the baseline that the functions' zip sizes are compared with.

use lambda_runtime::{service_fn, tracing, Error, LambdaEvent};
use serde_json::{json, Value};

async fn hello(_event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(json!({ "message": "hello" }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    lambda_runtime::run(service_fn(hello)).await
}
