//! EMF parsing: the functions' record, ordinary log lines, and each rule broken.

use std::time::{Duration, UNIX_EPOCH};

use lab_cloudwatch::{parse_emf_line, EmfError};
use serde_json::{json, Value};

/// A record exactly as the functions print it (service-kit's EMF writer).
fn function_record() -> Value {
    json!({
        "_aws": {
            "Timestamp": 1_795_615_205_123u64,
            "CloudWatchMetrics": [{
                "Namespace": "OutageLab",
                "Dimensions": [["Service"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count", "StorageResolution": 1},
                    {"Name": "Faults", "Unit": "Count", "StorageResolution": 1},
                    {"Name": "FaultsInjected", "Unit": "Count", "StorageResolution": 1},
                    {"Name": "Latency", "Unit": "Milliseconds", "StorageResolution": 1}
                ]
            }]
        },
        "Service": "dev-payment",
        "requestId": "8f5e2c1a-0000-4000-8000-000000000001",
        "Requests": 1,
        "Faults": 1,
        "FaultsInjected": 1,
        "Latency": 3.25
    })
}

fn parse(v: &Value) -> Result<Option<Vec<lab_cloudwatch::Sample>>, EmfError> {
    parse_emf_line(&v.to_string())
}

/// The rule's location in the error.
fn broken_at(v: &Value) -> String {
    match parse(v) {
        Err(EmfError::Rule { at, rule }) => {
            assert!(!rule.is_empty());
            at
        }
        other => panic!("expected a rule error, got {other:?}"),
    }
}

#[test]
fn the_functions_record_gives_four_high_resolution_samples() {
    let samples = parse(&function_record()).unwrap().unwrap();
    let got: Vec<(&str, f64, &str)> = samples
        .iter()
        .map(|s| (s.metric_name.as_str(), s.value, s.unit.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Requests", 1.0, "Count"),
            ("Faults", 1.0, "Count"),
            ("FaultsInjected", 1.0, "Count"),
            ("Latency", 3.25, "Milliseconds")
        ]
    );
    for s in &samples {
        assert_eq!(s.namespace, "OutageLab");
        assert_eq!(s.dimensions.len(), 1);
        assert_eq!(s.dimensions["Service"], "dev-payment");
        assert_eq!(s.resolution_s, 1);
        assert_eq!(s.timestamp, UNIX_EPOCH + Duration::from_millis(1_795_615_205_123));
    }
    // Surrounding whitespace (a line as read, with its newline) is fine.
    assert_eq!(
        parse_emf_line(&format!("{}\n", function_record()))
            .unwrap()
            .unwrap()
            .len(),
        4
    );
    // A timestamp printed as a float is the same instant.
    let mut r = function_record();
    r["_aws"]["Timestamp"] = json!(1_795_615_205_123.0);
    assert_eq!(parse(&r).unwrap().unwrap()[0].timestamp, samples[0].timestamp);
}

#[test]
fn arrays_several_dimension_sets_and_defaults() {
    let mut r = function_record();
    r["_aws"]["CloudWatchMetrics"] = json!([{
        "Namespace": "OutageLab",
        "Dimensions": [["Service"], ["Service", "Route"], []],
        "Metrics": [{"Name": "Latency"}]
    }]);
    r["Route"] = json!("GET /pay");
    r["Latency"] = json!([1.0, 2.0]);
    let samples = parse(&r).unwrap().unwrap();
    assert_eq!(samples.len(), 6, "two values for each of three dimension sets");
    assert!(samples.iter().all(|s| s.unit == "None" && s.resolution_s == 60));
    assert_eq!(samples.iter().filter(|s| s.dimensions.is_empty()).count(), 2);
    assert_eq!(
        samples
            .iter()
            .filter(|s| s.dimensions.get("Route").is_some_and(|r| r == "GET /pay"))
            .count(),
        2
    );
}

#[test]
fn ordinary_log_lines_are_not_emf() {
    for line in [
        "",
        "START RequestId: 8f5e2c1a Version: $LATEST",
        "REPORT RequestId: 8f5e2c1a\tDuration: 26.73 ms\tBilled Duration: 27 ms\tMemory Size: 128 MB\tMax Memory Used: 75 MB\t",
        r#"{"timestamp":"2026-11-25T14:00:00Z","level":"INFO","message":"payment ok"}"#,
        r#"{"level":"INFO","message":"the \"_aws\" key is mentioned in text"}"#,
        r#"{"nested":{"_aws":{"Timestamp":1}}}"#,
        "[1, 2, 3]",
        "not json {\"_aws\"",
    ] {
        assert_eq!(parse_emf_line(line), Ok(None), "{line}");
    }
}

#[test]
fn broken_json_that_claims_to_be_emf_is_an_error() {
    let line = r#"{"_aws": {"Timestamp": 1, "CloudWatchMetrics": [}"#;
    assert!(matches!(parse_emf_line(line), Err(EmfError::Json(_))));
}

#[test]
fn each_rule_broken_is_named() {
    let with = |edit: &dyn Fn(&mut Value)| {
        let mut r = function_record();
        edit(&mut r);
        r
    };
    let directive = "_aws.CloudWatchMetrics[0]";
    let cases: Vec<(Value, String)> = vec![
        (with(&|r| r["_aws"] = json!("x")), "_aws".into()),
        (
            with(&|r| {
                r["_aws"].as_object_mut().unwrap().remove("Timestamp");
            }),
            "_aws.Timestamp".into(),
        ),
        (
            with(&|r| r["_aws"]["Timestamp"] = json!(-5)),
            "_aws.Timestamp".into(),
        ),
        (
            with(&|r| r["_aws"]["Timestamp"] = json!("2026-11-25")),
            "_aws.Timestamp".into(),
        ),
        (
            with(&|r| {
                r["_aws"].as_object_mut().unwrap().remove("CloudWatchMetrics");
            }),
            "_aws.CloudWatchMetrics".into(),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"] = json!({})),
            "_aws.CloudWatchMetrics".into(),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"][0] = json!(3)),
            directive.into(),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("")),
            format!("{directive}.Namespace"),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"][0]["Namespace"] = json!("n".repeat(256))),
            format!("{directive}.Namespace"),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!("Service")),
            format!("{directive}.Dimensions"),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] = json!([["Missing"]])),
            format!("{directive}.Dimensions[0][0]"),
        ),
        (with(&|r| r["Service"] = json!(7)), "Service".into()),
        (
            with(&|r| {
                r["_aws"]["CloudWatchMetrics"][0]["Dimensions"] =
                    json!([(0..31).map(|i| format!("d{i}")).collect::<Vec<_>>()])
            }),
            format!("{directive}.Dimensions[0]"),
        ),
        (
            with(&|r| {
                r["_aws"]["CloudWatchMetrics"][0]
                    .as_object_mut()
                    .unwrap()
                    .remove("Metrics");
            }),
            format!("{directive}.Metrics"),
        ),
        (
            with(&|r| {
                r["_aws"]["CloudWatchMetrics"][0]["Metrics"] = json!((0..101)
                    .map(|i| json!({"Name": format!("m{i}")}))
                    .collect::<Vec<_>>())
            }),
            format!("{directive}.Metrics"),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0] = json!({"Unit": "Count"})),
            format!("{directive}.Metrics[0].Name"),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"] = json!("Requests")),
            format!("{directive}.Metrics[0].Unit"),
        ),
        (
            with(&|r| r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["StorageResolution"] = json!(5)),
            format!("{directive}.Metrics[0].StorageResolution"),
        ),
        (
            with(&|r| {
                r.as_object_mut().unwrap().remove("Faults");
            }),
            "Faults".into(),
        ),
        (with(&|r| r["Faults"] = json!("1")), "Faults".into()),
        (with(&|r| r["Latency"] = json!([])), "Latency".into()),
        (with(&|r| r["Latency"] = json!(vec![1.0; 101])), "Latency".into()),
        (with(&|r| r["Latency"] = json!([1.0, "x"])), "Latency".into()),
    ];
    for (record, at) in cases {
        assert_eq!(broken_at(&record), at, "{record}");
    }
}

#[test]
fn an_event_over_256_kb_is_refused() {
    let mut r = function_record();
    r["padding"] = json!("x".repeat(256 * 1024));
    assert!(matches!(parse(&r), Err(EmfError::TooLarge(n)) if n > 256 * 1024));
}

#[test]
fn error_messages_name_the_rule() {
    let mut r = function_record();
    r["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["StorageResolution"] = json!(5);
    let msg = parse(&r).unwrap_err().to_string();
    assert_eq!(msg, "EMF `_aws.CloudWatchMetrics[0].Metrics[0].StorageResolution`: 5 must be 1 (high resolution) or 60 (standard)");
}
