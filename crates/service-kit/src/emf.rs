//! CloudWatch Embedded Metric Format: one JSON line per invocation on stdout.
//!
//! CloudWatch Logs turns these lines into metrics in the `OutageLab` namespace (the lab parses the
//! same lines). No maintained crate writes EMF without pulling in an async metrics framework, and
//! the format is a few fields, so this is a small writer; the tests validate its output against
//! the EMF specification's rules.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{json, Value};

/// The namespace every metric of the project's functions goes to.
pub const NAMESPACE: &str = "OutageLab";
/// The single dimension of every record: the deployed function name.
pub const DIMENSION: &str = "Service";

/// What one invocation reports.
#[derive(Debug, Clone, PartialEq)]
pub struct InvocationMetrics {
    /// The deployed function name (`AWS_LAMBDA_FUNCTION_NAME`), the `Service` dimension.
    pub service: String,
    /// The Lambda request id, a plain property that ties the record to the invocation's logs.
    pub request_id: String,
    /// 1 when the invocation ends in an unhandled error that the function reports itself.
    pub faults: u32,
    /// 1 when a fault was injected into this invocation (the chaos marker).
    pub faults_injected: u32,
    /// Time spent in the invocation, injected delays included, in milliseconds.
    pub latency_ms: f64,
}

impl InvocationMetrics {
    /// The record as one EMF JSON object, timestamped `timestamp_ms` (epoch milliseconds).
    pub fn to_emf(&self, timestamp_ms: u64) -> Value {
        let metric = |name: &str, unit: &str| json!({ "Name": name, "Unit": unit, "StorageResolution": 1 });
        json!({
            "_aws": {
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": [
                        metric("Requests", "Count"),
                        metric("Faults", "Count"),
                        metric("FaultsInjected", "Count"),
                        metric("Latency", "Milliseconds"),
                    ],
                }],
            },
            DIMENSION: self.service,
            "requestId": self.request_id,
            "Requests": 1,
            "Faults": self.faults,
            "FaultsInjected": self.faults_injected,
            // Three decimals are more than CloudWatch keeps and keep the line short.
            "Latency": (self.latency_ms * 1000.0).round() / 1000.0,
        })
    }
}

/// Where records go. Production writes to stdout; tests keep them in memory.
pub trait MetricSink: Send + Sync {
    fn write_record(&self, record: &Value);
}

/// Writes each record as one line on stdout and flushes it at once, so that a record written
/// just before the process aborts (the `panic` fault) is not lost in a buffer.
#[derive(Debug, Default, Clone, Copy)]
pub struct StdoutSink;

impl MetricSink for StdoutSink {
    fn write_record(&self, record: &Value) {
        let mut line = record.to_string();
        line.push('\n');
        let mut out = std::io::stdout().lock();
        // Nothing useful can be done when stdout is gone; the invocation itself must go on.
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
    }
}

/// Keeps the records, for tests.
#[derive(Debug, Default)]
pub struct MemorySink {
    records: Mutex<Vec<Value>>,
}

impl MemorySink {
    pub fn records(&self) -> Vec<Value> {
        self.records.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

impl MetricSink for MemorySink {
    fn write_record(&self, record: &Value) {
        if let Ok(mut records) = self.records.lock() {
            records.push(record.clone());
        }
    }
}
