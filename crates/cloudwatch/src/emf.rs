//! Embedded Metric Format: the JSON lines the functions print, turned into samples, following
//! the EMF specification's rules (the ones CloudWatch Logs enforces when it extracts metrics):
//!
//! - one JSON object per line, at most 256 KB, with an `_aws` metadata object;
//! - `_aws.Timestamp`: epoch milliseconds, a non-negative integer;
//! - `_aws.CloudWatchMetrics`: an array of directives, each with `Namespace` (1-255 characters),
//!   `Dimensions` (an array of dimension sets, each an array of at most 30 member names whose
//!   values are strings of 1-1024 characters) and `Metrics` (at most 100 definitions, each with
//!   `Name` (1-255 characters) naming a member whose value is a number or an array of at most
//!   100 numbers, an optional `Unit` from CloudWatch's list and an optional `StorageResolution`
//!   of 1 or 60; default 60).
//!
//! Each value of each metric yields one sample per dimension set. A line that is not a JSON
//! object with `_aws` is not EMF (an ordinary log line): `Ok(None)`.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::metrics::Sample;

/// The largest EMF event CloudWatch Logs accepts.
pub const MAX_EVENT_BYTES: usize = 256 * 1024;
pub const MAX_METRICS_PER_DIRECTIVE: usize = 100;
pub const MAX_DIMENSIONS_PER_SET: usize = 30;
pub const MAX_VALUES_PER_METRIC: usize = 100;

/// CloudWatch's metric units.
pub const UNITS: [&str; 27] = [
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

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmfError {
    #[error("EMF line is not valid JSON: {0}")]
    Json(String),
    #[error("EMF line is {0} bytes; an EMF event may be at most {MAX_EVENT_BYTES} bytes")]
    TooLarge(usize),
    #[error("EMF `{at}`: {rule}")]
    Rule { at: String, rule: String },
}

fn rule(at: impl Into<String>, rule: impl Into<String>) -> EmfError {
    EmfError::Rule {
        at: at.into(),
        rule: rule.into(),
    }
}

/// `Ok(None)`: not an EMF line; `Err`: looks like EMF but breaks a rule (named in the error).
pub fn parse_emf_line(line: &str) -> Result<Option<Vec<Sample>>, EmfError> {
    let line = line.trim();
    // Cheap filter first: the lab runs this on every log line.
    if !line.starts_with('{') || !line.contains("\"_aws\"") {
        return Ok(None);
    }
    let root: Map<String, Value> = match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(root)) => root,
        Ok(_) => return Ok(None),
        Err(e) => return Err(EmfError::Json(e.to_string())),
    };
    let Some(aws) = root.get("_aws") else {
        // "_aws" was only inside a string or a nested object: an ordinary JSON log line.
        return Ok(None);
    };
    if line.len() > MAX_EVENT_BYTES {
        return Err(EmfError::TooLarge(line.len()));
    }
    let aws = aws.as_object().ok_or_else(|| rule("_aws", "must be an object"))?;
    let timestamp_ms = aws
        .get("Timestamp")
        .ok_or_else(|| rule("_aws.Timestamp", "is required (epoch milliseconds)"))?
        .as_f64()
        .filter(|ms| ms.is_finite() && *ms >= 0.0 && *ms < 1e15)
        .ok_or_else(|| {
            rule(
                "_aws.Timestamp",
                "must be a non-negative number of epoch milliseconds",
            )
        })?;
    // Whole milliseconds (a writer may print 1795615205123.0).
    let timestamp_ms = timestamp_ms.trunc() as u64;
    let timestamp = UNIX_EPOCH + Duration::from_millis(timestamp_ms);
    let directives = aws
        .get("CloudWatchMetrics")
        .ok_or_else(|| rule("_aws.CloudWatchMetrics", "is required"))?
        .as_array()
        .ok_or_else(|| rule("_aws.CloudWatchMetrics", "must be an array of metric directives"))?;

    let mut samples = Vec::new();
    for (d, directive) in directives.iter().enumerate() {
        let at = format!("_aws.CloudWatchMetrics[{d}]");
        let directive = directive
            .as_object()
            .ok_or_else(|| rule(&at, "a metric directive must be an object"))?;
        let namespace = bounded_string(directive.get("Namespace"), &format!("{at}.Namespace"), 255)?;
        let dimension_sets = dimension_sets(&root, directive.get("Dimensions"), &format!("{at}.Dimensions"))?;
        let metrics = directive
            .get("Metrics")
            .ok_or_else(|| rule(format!("{at}.Metrics"), "is required"))?
            .as_array()
            .ok_or_else(|| rule(format!("{at}.Metrics"), "must be an array of metric definitions"))?;
        if metrics.len() > MAX_METRICS_PER_DIRECTIVE {
            return Err(rule(
                format!("{at}.Metrics"),
                format!(
                    "has {} metrics; at most {MAX_METRICS_PER_DIRECTIVE}",
                    metrics.len()
                ),
            ));
        }
        for (m, metric) in metrics.iter().enumerate() {
            let at = format!("{at}.Metrics[{m}]");
            let metric = metric
                .as_object()
                .ok_or_else(|| rule(&at, "a metric definition must be an object"))?;
            let name = bounded_string(metric.get("Name"), &format!("{at}.Name"), 255)?;
            let unit = match metric.get("Unit") {
                None | Some(Value::Null) => "None".to_owned(),
                Some(Value::String(u)) if UNITS.contains(&u.as_str()) => u.clone(),
                Some(u) => {
                    return Err(rule(
                        format!("{at}.Unit"),
                        format!("{u} is not a CloudWatch unit ({})", UNITS.join(", ")),
                    ))
                }
            };
            let resolution_s = match metric.get("StorageResolution") {
                None | Some(Value::Null) => 60,
                Some(v) => match v.as_u64() {
                    Some(1) => 1,
                    Some(60) => 60,
                    _ => {
                        return Err(rule(
                            format!("{at}.StorageResolution"),
                            format!("{v} must be 1 (high resolution) or 60 (standard)"),
                        ))
                    }
                },
            };
            let values = metric_values(&root, &name)?;
            for dimensions in &dimension_sets {
                for &value in &values {
                    samples.push(Sample {
                        namespace: namespace.clone(),
                        metric_name: name.clone(),
                        dimensions: dimensions.clone(),
                        unit: unit.clone(),
                        value,
                        timestamp,
                        resolution_s,
                    });
                }
            }
        }
    }
    Ok(Some(samples))
}

fn bounded_string(v: Option<&Value>, at: &str, max: usize) -> Result<String, EmfError> {
    match v {
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= max => Ok(s.clone()),
        Some(Value::String(_)) => Err(rule(at, format!("must be 1 to {max} characters"))),
        Some(_) => Err(rule(at, "must be a string")),
        None => Err(rule(at, "is required")),
    }
}

/// The dimension sets of a directive, resolved against the root members.
fn dimension_sets(
    root: &Map<String, Value>,
    v: Option<&Value>,
    at: &str,
) -> Result<Vec<BTreeMap<String, String>>, EmfError> {
    let sets = v
        .ok_or_else(|| rule(at, "is required"))?
        .as_array()
        .ok_or_else(|| rule(at, "must be an array of dimension sets"))?;
    if sets.is_empty() {
        // No dimension set: the metric is published without dimensions.
        return Ok(vec![BTreeMap::new()]);
    }
    sets.iter()
        .enumerate()
        .map(|(s, set)| {
            let at = format!("{at}[{s}]");
            let keys = set
                .as_array()
                .ok_or_else(|| rule(&at, "a dimension set must be an array of member names"))?;
            if keys.len() > MAX_DIMENSIONS_PER_SET {
                return Err(rule(
                    &at,
                    format!("has {} dimensions; at most {MAX_DIMENSIONS_PER_SET}", keys.len()),
                ));
            }
            let mut dims = BTreeMap::new();
            for (k, key) in keys.iter().enumerate() {
                let key = key
                    .as_str()
                    .ok_or_else(|| rule(format!("{at}[{k}]"), "a dimension name must be a string"))?;
                let value = match root.get(key) {
                    Some(Value::String(v)) if !v.is_empty() && v.chars().count() <= 1024 => v.clone(),
                    Some(Value::String(_)) => {
                        return Err(rule(key, "a dimension value must be 1 to 1024 characters"))
                    }
                    Some(_) => return Err(rule(key, "a dimension's member must be a string")),
                    None => {
                        return Err(rule(
                            format!("{at}[{k}]"),
                            format!("dimension {key:?} has no member of that name in the record"),
                        ))
                    }
                };
                dims.insert(key.to_owned(), value);
            }
            Ok(dims)
        })
        .collect()
}

/// The value(s) of the member a metric definition names.
fn metric_values(root: &Map<String, Value>, name: &str) -> Result<Vec<f64>, EmfError> {
    let number = |v: &Value| v.as_f64().filter(|f| f.is_finite());
    match root.get(name) {
        None => Err(rule(
            name,
            "the metric names a member that the record does not have",
        )),
        Some(Value::Array(values)) => {
            if values.is_empty() || values.len() > MAX_VALUES_PER_METRIC {
                return Err(rule(
                    name,
                    format!(
                        "a metric's array must hold 1 to {MAX_VALUES_PER_METRIC} numbers, not {}",
                        values.len()
                    ),
                ));
            }
            values
                .iter()
                .map(|v| {
                    number(v).ok_or_else(|| rule(name, format!("{v} in the metric's array is not a number")))
                })
                .collect()
        }
        Some(v) => number(v).map(|f| vec![f]).ok_or_else(|| {
            rule(
                name,
                format!("a metric's value must be a number or an array of numbers, not {v}"),
            )
        }),
    }
}
