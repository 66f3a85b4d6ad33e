//! The metrics AWS publishes for the lab's emulated services, written into the shared
//! [`MetricStore`]: `AWS/Lambda` per function and `AWS/ApiGateway` per API and stage (standard
//! resolution, 60 s), plus the functions' own Embedded Metric Format lines, each made visible
//! with the delay AWS shows ([`MetricDelays`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::SystemTime;

use lab_cloudwatch::{parse_emf_line, MetricStore, Sample};
use outage_config::MetricDelays;

/// Standard resolution: what AWS/Lambda and AWS/ApiGateway publish.
const STANDARD: u32 = 60;

pub struct LabMetrics {
    store: Arc<MetricStore>,
    api_dimensions: BTreeMap<String, String>,
    emf_rejected: AtomicU64,
    delays: MetricDelays,
}

fn sample(
    namespace: &str,
    metric: &str,
    dims: &BTreeMap<String, String>,
    unit: &str,
    value: f64,
    at: SystemTime,
) -> Sample {
    Sample {
        namespace: namespace.to_owned(),
        metric_name: metric.to_owned(),
        dimensions: dims.clone(),
        unit: unit.to_owned(),
        value,
        timestamp: at,
        resolution_s: STANDARD,
    }
}

/// How a function was invoked, for the AWS/Lambda dimension sets Lambda publishes: every
/// invocation under `FunctionName` (all versions together, what the stage's alarms watch); one
/// through a qualifier also under `FunctionName` + `Resource` (`<name>:<alias or version>`);
/// one through an alias also under `FunctionName` + `Resource` + `ExecutedVersion` (the version
/// that ran). Lambda developer guide, "Types of metrics for Lambda functions", dimensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoked {
    pub function_name: String,
    /// The alias or version named in the call; `None` for `$LATEST` unqualified.
    pub qualifier: Option<String>,
    /// The version that ran, for an alias invocation.
    pub executed_version: Option<String>,
}

impl Invoked {
    fn dimension_sets(&self) -> Vec<BTreeMap<String, String>> {
        let name = BTreeMap::from([("FunctionName".to_owned(), self.function_name.clone())]);
        let mut sets = vec![name.clone()];
        if let Some(q) = &self.qualifier {
            let mut resource = name;
            resource.insert("Resource".into(), format!("{}:{q}", self.function_name));
            if let Some(v) = &self.executed_version {
                let mut executed = resource.clone();
                executed.insert("ExecutedVersion".into(), v.clone());
                sets.push(executed);
            }
            sets.push(resource);
        }
        sets
    }
}

impl LabMetrics {
    pub fn new(store: Arc<MetricStore>, api_id: &str, delays: MetricDelays) -> LabMetrics {
        let api_dimensions = BTreeMap::from([
            ("ApiId".to_owned(), api_id.to_owned()),
            (
                "Stage".to_owned(),
                outage_config::stage::API_STAGE_NAME.to_owned(),
            ),
        ]);
        LabMetrics {
            store,
            api_dimensions,
            emf_rejected: AtomicU64::new(0),
            delays,
        }
    }

    pub fn delays(&self) -> MetricDelays {
        self.delays
    }

    /// Publishes samples of one namespace observed now, visible when AWS would show them.
    fn publish(&self, namespace: &str, samples: Vec<Sample>) {
        let visible_at = self.delays.visible_at(namespace, SystemTime::now());
        self.store.put_arriving(samples, visible_at);
    }

    pub fn store(&self) -> &Arc<MetricStore> {
        &self.store
    }

    /// One invocation that reached an environment. `Errors` and `Throttles` are published as 0 or
    /// 1 so that a healthy function shows zeros rather than missing data: Lambda's invocation
    /// metrics are "binary indicators of the outcome of an invocation" (Lambda developer guide,
    /// "Types of metrics for Lambda functions"). It matters for alarms: with only missing data
    /// after the last throttle, CloudWatch would keep judging that throttled minute for the
    /// whole evaluation range (N + 2 periods) before the throttles alarm could clear.
    pub fn lambda_invocation(&self, invoked: &Invoked, duration_ms: f64, error: bool, concurrent: usize) {
        let now = SystemTime::now();
        let samples = invoked
            .dimension_sets()
            .into_iter()
            .flat_map(|dims| {
                [
                    sample("AWS/Lambda", "Invocations", &dims, "Count", 1.0, now),
                    sample(
                        "AWS/Lambda",
                        "Errors",
                        &dims,
                        "Count",
                        if error { 1.0 } else { 0.0 },
                        now,
                    ),
                    sample("AWS/Lambda", "Throttles", &dims, "Count", 0.0, now),
                    sample("AWS/Lambda", "Duration", &dims, "Milliseconds", duration_ms, now),
                    sample(
                        "AWS/Lambda",
                        "ConcurrentExecutions",
                        &dims,
                        "Count",
                        concurrent as f64,
                        now,
                    ),
                ]
            })
            .collect();
        self.publish("AWS/Lambda", samples);
    }

    pub fn lambda_throttle(&self, invoked: &Invoked) {
        let now = SystemTime::now();
        let samples = invoked
            .dimension_sets()
            .into_iter()
            .map(|dims| sample("AWS/Lambda", "Throttles", &dims, "Count", 1.0, now))
            .collect();
        self.publish("AWS/Lambda", samples);
    }

    /// One request the gateway answered, whatever the answer: Count = 2xx + 4xx + 5xx, per
    /// API stage and, for a request that matched a route, per route as well (the HTTP API's
    /// detailed metrics: `ApiId`, `Stage`, `Method`, `Resource`, which the stage turns on so the
    /// API's 5xx alarm can leave out a route broken on purpose).
    pub fn api_request(
        &self,
        route: Option<&str>,
        status: u16,
        latency_ms: f64,
        integration_ms: Option<f64>,
    ) {
        let now = SystemTime::now();
        let class = |c: u16| if status / 100 == c { 1.0 } else { 0.0 };
        let of = |d: &BTreeMap<String, String>| {
            let mut samples = vec![
                sample("AWS/ApiGateway", "Count", d, "Count", 1.0, now),
                sample("AWS/ApiGateway", "4xx", d, "Count", class(4), now),
                sample("AWS/ApiGateway", "5xx", d, "Count", class(5), now),
                sample("AWS/ApiGateway", "Latency", d, "Milliseconds", latency_ms, now),
            ];
            if let Some(ms) = integration_ms {
                samples.push(sample(
                    "AWS/ApiGateway",
                    "IntegrationLatency",
                    d,
                    "Milliseconds",
                    ms,
                    now,
                ));
            }
            samples
        };
        let mut samples = of(&self.api_dimensions);
        if let Some((method, path)) = route.and_then(|r| r.split_once(' ')) {
            let mut d = self.api_dimensions.clone();
            d.insert("Method".to_owned(), method.to_owned());
            d.insert("Resource".to_owned(), path.to_owned());
            samples.extend(of(&d));
        }
        self.publish("AWS/ApiGateway", samples);
    }

    /// A line a function printed: Embedded Metric Format records become samples, other lines are
    /// left alone, broken records are counted (and logged at debug level) as CloudWatch drops them.
    pub fn emf_line(&self, line: &str, _epoch_ms: i64) {
        if !line.starts_with('{') || !line.contains("\"_aws\"") {
            return;
        }
        match parse_emf_line(line) {
            Ok(Some(samples)) => {
                // CloudWatch Logs extracts the metrics after the line arrives, whatever time
                // the record carries.
                let visible_at = self.delays.visible_at("OutageLab", SystemTime::now());
                self.store.put_arriving(samples, visible_at);
            }
            Ok(None) => {}
            Err(e) => {
                self.emf_rejected.fetch_add(1, Ordering::Relaxed);
                tracing::debug!("dropped an EMF record: {e}");
            }
        }
    }

    pub fn emf_rejected(&self) -> u64 {
        self.emf_rejected.load(Ordering::Relaxed)
    }
}
