//! Shared by the kit's integration tests: a layer around a counting handler, a fixed clock, an
//! in-memory metric sink, captured logs, and the EMF rules the records must follow.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use aws_lambda_events::apigw::ApiGatewayV2httpResponse;
use lambda_runtime::{service_fn, LambdaEvent};
use outage_config::FaultConfig;
use serde_json::Value;
use service_kit::clock::FixedClock;
use service_kit::emf::MemorySink;
use service_kit::{response, FunctionError, KitLayer, KitService, ServiceInfo};
use time::macros::datetime;
use time::OffsetDateTime;
use tower::{Layer, Service, ServiceExt};

pub const TEST_SERVICE: ServiceInfo = ServiceInfo { name: "test-service" };
pub const FUNCTION_NAME: &str = "dev-test";
pub const NOW: OffsetDateTime = datetime!(2026-11-25 14:00:00 UTC);

pub type Handler = Box<
    dyn FnMut(
            LambdaEvent<Value>,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<ApiGatewayV2httpResponse, String>> + Send>,
        > + Send,
>;

/// A wrapped handler that answers 200 `{"ok":true}` and counts its calls.
pub struct Harness {
    pub service: KitService<tower::util::ServiceFn<Handler>>,
    pub sink: Arc<MemorySink>,
    pub calls: Arc<AtomicUsize>,
}

impl Harness {
    pub fn new(vars: &[(&str, &str)]) -> Self {
        Self::with_handler(vars, |_event| {
            Ok(response::json(200, &serde_json::json!({ "ok": true })))
        })
    }

    pub fn with_handler(
        vars: &[(&str, &str)],
        answer: impl Fn(LambdaEvent<Value>) -> Result<ApiGatewayV2httpResponse, String> + Send + Sync + 'static,
    ) -> Self {
        Self::at(vars, NOW, answer)
    }

    pub fn at(
        vars: &[(&str, &str)],
        now: OffsetDateTime,
        answer: impl Fn(LambdaEvent<Value>) -> Result<ApiGatewayV2httpResponse, String> + Send + Sync + 'static,
    ) -> Self {
        let sink = Arc::new(MemorySink::default());
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = calls.clone();
        let answer = Arc::new(answer);
        let handler: Handler = Box::new(move |event| {
            counted.fetch_add(1, Ordering::SeqCst);
            let answer = answer.clone();
            Box::pin(async move { answer(event) })
        });
        let layer = KitLayer::new(FUNCTION_NAME, &TEST_SERVICE, fault_config(vars))
            .with_sink(sink.clone())
            .with_clock(Arc::new(FixedClock(now)));
        Harness {
            service: layer.layer(service_fn(handler)),
            sink,
            calls,
        }
    }

    /// One invocation through the wrapped handler, as the runtime makes it.
    pub async fn invoke(
        &mut self,
        event: LambdaEvent<Value>,
    ) -> Result<ApiGatewayV2httpResponse, FunctionError> {
        self.service.ready().await?.call(event).await
    }

    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }
}

pub fn fault_config(vars: &[(&str, &str)]) -> FaultConfig {
    let vars: BTreeMap<String, String> = vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    FaultConfig::from_vars(&vars).expect("test fault configurations are valid")
}

/// Log lines written while `f` runs, in the JSON format Lambda uses with AWS_LAMBDA_LOG_FORMAT=JSON.
pub fn capture_json_logs<T>(f: impl FnOnce() -> T) -> (T, Vec<Value>) {
    let buffer = Arc::new(Mutex::new(Vec::<u8>::new()));
    let writer = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::INFO)
        .with_writer(move || SharedWriter(writer.clone()))
        .finish();
    let result = tracing::subscriber::with_default(subscriber, f);
    let text = String::from_utf8(buffer.lock().unwrap().clone()).unwrap();
    let lines = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each log line is JSON"))
        .collect();
    (result, lines)
}

struct SharedWriter(Arc<Mutex<Vec<u8>>>);

impl Write for SharedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A current-thread runtime with a paused clock: sleeps complete at once in virtual time, and
/// `tokio::time::Instant` measures exactly the time the code under test slept.
pub fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap()
}

/// The EMF specification's rules (CloudWatch User Guide, "Embedded metric format specification"),
/// checked independently of the writer: returns every rule the record breaks.
pub fn emf_violations(record: &Value) -> Vec<String> {
    const UNITS: [&str; 27] = [
        "Seconds",
        "Microseconds",
        "Milliseconds",
        "Bytes",
        "Kilobytes",
        "Megabytes",
        "Gigabytes",
        "Terabytes",
        "Bits",
        "Kilobits",
        "Megabits",
        "Gigabits",
        "Terabits",
        "Percent",
        "Count",
        "Bytes/Second",
        "Kilobytes/Second",
        "Megabytes/Second",
        "Gigabytes/Second",
        "Terabytes/Second",
        "Bits/Second",
        "Kilobits/Second",
        "Megabits/Second",
        "Gigabits/Second",
        "Terabits/Second",
        "Count/Second",
        "None",
    ];
    let mut bad = Vec::new();
    let Some(root) = record.as_object() else {
        return vec!["the record is not a JSON object".into()];
    };
    if record.to_string().len() > 256 * 1024 {
        bad.push("the record is larger than 256 KB".into());
    }
    let Some(aws) = root.get("_aws").and_then(Value::as_object) else {
        return vec!["no _aws object".into()];
    };
    if !aws.get("Timestamp").is_some_and(|t| t.is_u64()) {
        bad.push("_aws.Timestamp is not a whole number of epoch milliseconds".into());
    }
    let Some(directives) = aws.get("CloudWatchMetrics").and_then(Value::as_array) else {
        return vec!["_aws.CloudWatchMetrics is not an array".into()];
    };
    for directive in directives {
        if !directive["Namespace"]
            .as_str()
            .is_some_and(|n| !n.is_empty() && n.len() <= 255)
        {
            bad.push("Namespace is not a non-empty string of at most 255 characters".into());
        }
        match directive["Dimensions"].as_array() {
            None => bad.push("Dimensions is not an array".into()),
            Some(sets) => {
                for set in sets {
                    let Some(keys) = set.as_array() else {
                        bad.push("a dimension set is not an array".into());
                        continue;
                    };
                    if keys.len() > 30 {
                        bad.push("a dimension set has more than 30 keys".into());
                    }
                    for key in keys {
                        match key.as_str() {
                            Some(k) if root.get(k).is_some_and(Value::is_string) => {}
                            _ => bad.push(format!("dimension {key} has no string value at the root")),
                        }
                    }
                }
            }
        }
        match directive["Metrics"].as_array() {
            None => bad.push("Metrics is not an array".into()),
            Some(metrics) => {
                if metrics.len() > 100 {
                    bad.push("more than 100 metrics in one directive".into());
                }
                for metric in metrics {
                    let Some(name) = metric["Name"]
                        .as_str()
                        .filter(|n| !n.is_empty() && n.len() <= 255)
                    else {
                        bad.push(format!("metric {metric} has no valid Name"));
                        continue;
                    };
                    if let Some(unit) = metric.get("Unit") {
                        if !unit.as_str().is_some_and(|u| UNITS.contains(&u)) {
                            bad.push(format!("metric {name} has unknown Unit {unit}"));
                        }
                    }
                    if let Some(resolution) = metric.get("StorageResolution") {
                        if resolution != 1 && resolution != 60 {
                            bad.push(format!(
                                "metric {name} has StorageResolution {resolution}, not 1 or 60"
                            ));
                        }
                    }
                    match root.get(name) {
                        Some(Value::Number(_)) => {}
                        Some(Value::Array(values))
                            if values.len() <= 100 && values.iter().all(Value::is_number) => {}
                        _ => bad.push(format!("metric {name} has no numeric value at the root")),
                    }
                }
            }
        }
    }
    bad
}
