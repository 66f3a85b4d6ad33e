//! Start-up: logging, then the configuration read once from the environment.

use std::time::Duration;

use outage_config::FaultConfig;

use crate::error::InitError;
use crate::{KitLayer, ServiceInfo};

/// Logs to stdout as Lambda expects, honouring `AWS_LAMBDA_LOG_FORMAT` (`JSON`, otherwise text)
/// and `AWS_LAMBDA_LOG_LEVEL` (then `RUST_LOG`, then INFO), as lambda_runtime's default
/// subscriber does, but never with terminal colour codes: CloudWatch Logs would keep them as
/// garbage in text lines. The runtime opens a span carrying `requestId` around every
/// invocation, so each line logged while handling it names the request. JSON lines carry an
/// RFC 3339 `timestamp` next to `level`: Lambda's log-level filtering reads a JSON line's level
/// only when it has both, and treats a line without them as INFO (Lambda developer guide,
/// "Configuring advanced logging controls"). Text lines have none: CloudWatch timestamps them.
pub fn init_tracing() {
    // The runtime's own re-export: the same tracing-subscriber build and features the runtime
    // uses, so logging adds nothing to the binary.
    use lambda_runtime::tracing::subscriber::{self, filter::EnvFilter, filter::LevelFilter};

    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|level| level.parse::<LevelFilter>().ok())
        .unwrap_or(LevelFilter::INFO);
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let filter = || {
        EnvFilter::builder()
            .with_default_directive(level.into())
            .from_env_lossy()
    };
    let builder = subscriber::fmt().with_target(false).with_ansi(false);
    if json {
        builder.with_env_filter(filter()).json().init();
    } else {
        builder.without_time().with_env_filter(filter()).init();
    }
}

/// The layer configured from the process environment: `AWS_LAMBDA_FUNCTION_NAME` and `FAULT_*`.
pub fn layer_from_env(service: &ServiceInfo) -> Result<KitLayer, InitError> {
    let function_name = std::env::var("AWS_LAMBDA_FUNCTION_NAME")
        .ok()
        .filter(|name| !name.is_empty())
        .ok_or(InitError::MissingFunctionName)?;
    let fault = FaultConfig::from_env()?;
    if fault.mode != outage_config::FaultMode::None {
        tracing::info!(fault_mode = %fault.mode, fault_rate = fault.rate, "fault injection configured");
    }
    Ok(KitLayer::new(function_name, service, fault))
}

/// [`layer_from_env`], or the end of the process: the error is printed on stderr, logged,
/// reported to the Runtime API as an init error (so Lambda shows it to the caller), and the
/// process exits with status 1. A bad `FAULT_*` value never falls back to a default.
pub async fn layer_from_env_or_exit(service: &ServiceInfo) -> KitLayer {
    match layer_from_env(service) {
        Ok(layer) => layer,
        Err(error) => {
            let text = format!("{} cannot start: {error}", service.name);
            eprintln!("{text}");
            tracing::error!(error = %error, "{text}");
            report_init_error(&text).await;
            std::process::exit(1)
        }
    }
}

/// POSTs `/runtime/init/error` when a Runtime API is there. Best effort: the process exits
/// non-zero either way, which Lambda reports as an init failure too.
async fn report_init_error(text: &str) {
    // Lambda always sets it; without it (or with a value that is not host:port) there is no one to tell.
    let Some(endpoint) = std::env::var("AWS_LAMBDA_RUNTIME_API")
        .ok()
        .and_then(|api| aws_lambda_events::http::Uri::try_from(api).ok())
    else {
        return;
    };
    let body = serde_json::json!({ "errorMessage": text, "errorType": "Runtime.InitError" }).to_string();
    let request = lambda_runtime_api_client::build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", "Runtime.InitError")
        .header("content-type", "application/json")
        .body(lambda_runtime_api_client::body::Body::from(body));
    let (Ok(request), Ok(client)) = (
        request,
        lambda_runtime_api_client::Client::builder()
            .with_endpoint(endpoint)
            .build(),
    ) else {
        return;
    };
    match tokio::time::timeout(Duration::from_secs(2), client.call(request)).await {
        Ok(Ok(_)) => {}
        Ok(Err(error)) => eprintln!("could not report the init error to the Runtime API: {error}"),
        Err(_) => eprintln!("could not report the init error to the Runtime API: no answer within 2 s"),
    }
}
