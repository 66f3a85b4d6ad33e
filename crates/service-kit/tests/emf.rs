//! The EMF records, parsed back and checked against the specification's rules and the contract
//! of ARCHITECTURE.md (namespace, metric names, units, resolution, dimension set).

mod common;

use common::{emf_violations, paused_runtime, Harness, NOW};
use serde_json::{json, Value};
use service_kit::clock::epoch_ms;
use service_kit::emf::InvocationMetrics;
use service_kit::testing::{fixture, invocation, GET_NO_AUTHORIZER};

fn record_for(vars: &[(&str, &str)]) -> Value {
    let mut h = Harness::new(vars);
    let _ = paused_runtime().block_on(h.invoke(invocation(fixture(GET_NO_AUTHORIZER))));
    let records = h.sink.records();
    assert_eq!(records.len(), 1);
    // Through text and back, exactly as CloudWatch Logs (or the lab) reads the line.
    let line = records[0].to_string();
    assert!(!line.contains('\n'), "one record is one line");
    serde_json::from_str(&line).unwrap()
}

#[test]
fn every_record_follows_the_emf_rules() {
    for vars in [
        vec![],
        vec![("FAULT_MODE", "exception")],
        vec![("FAULT_MODE", "status"), ("FAULT_STATUS", "503")],
        vec![("FAULT_MODE", "latency"), ("FAULT_LATENCY_MS", "20")],
    ] {
        let record = record_for(&vars);
        assert_eq!(
            emf_violations(&record),
            Vec::<String>::new(),
            "{vars:?}: {record}"
        );
    }
}

#[test]
fn records_carry_the_contracted_metrics_in_the_outage_lab_namespace() {
    let record = record_for(&[("FAULT_MODE", "exception")]);
    let directive = &record["_aws"]["CloudWatchMetrics"][0];
    assert_eq!(directive["Namespace"], "OutageLab");
    assert_eq!(directive["Dimensions"], json!([["Service"]]));
    let metrics: Vec<(String, String, i64)> = directive["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["Name"].as_str().unwrap().into(),
                m["Unit"].as_str().unwrap().into(),
                m["StorageResolution"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        metrics,
        [
            ("Requests".into(), "Count".into(), 1),
            ("Faults".into(), "Count".into(), 1),
            ("FaultsInjected".into(), "Count".into(), 1),
            ("Latency".into(), "Milliseconds".into(), 1),
        ]
    );
    assert_eq!(record["Service"], "dev-test");
    assert_eq!(record["_aws"]["Timestamp"], json!(epoch_ms(NOW)));
    assert_eq!(
        (record["Requests"].clone(), record["Faults"].clone()),
        (json!(1), json!(1))
    );
}

#[test]
fn the_validator_rejects_broken_records() {
    let good = InvocationMetrics {
        service: "dev-auth".into(),
        request_id: "r".into(),
        faults: 0,
        faults_injected: 0,
        latency_ms: 1.5,
    }
    .to_emf(1);
    assert!(emf_violations(&good).is_empty());
    let mut no_value = good.clone();
    no_value.as_object_mut().unwrap().remove("Faults");
    assert!(!emf_violations(&no_value).is_empty(), "a metric without a value");
    let mut no_dimension = good.clone();
    no_dimension.as_object_mut().unwrap().remove("Service");
    assert!(
        !emf_violations(&no_dimension).is_empty(),
        "a dimension without a value"
    );
    let mut bad_resolution = good.clone();
    bad_resolution["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["StorageResolution"] = json!(5);
    assert!(!emf_violations(&bad_resolution).is_empty());
    let mut bad_unit = good.clone();
    bad_unit["_aws"]["CloudWatchMetrics"][0]["Metrics"][3]["Unit"] = json!("ms");
    assert!(!emf_violations(&bad_unit).is_empty());
    let mut bad_time = good;
    bad_time["_aws"]["Timestamp"] = json!("now");
    assert!(!emf_violations(&bad_time).is_empty());
}

#[test]
fn the_labs_parser_extracts_the_contracted_samples() {
    let record = record_for(&[("FAULT_MODE", "status"), ("FAULT_STATUS", "503")]);
    let samples = lab_cloudwatch::emf::parse_emf_line(&record.to_string())
        .expect("the lab accepts the record")
        .expect("the lab sees an EMF record");
    let got: Vec<(String, String, f64, u32)> = samples
        .iter()
        .map(|s| {
            (
                s.namespace.clone(),
                s.metric_name.clone(),
                s.value,
                s.resolution_s,
            )
        })
        .filter(|(_, name, _, _)| name != "Latency")
        .collect();
    let expected = [("Requests", 1.0), ("Faults", 0.0), ("FaultsInjected", 1.0)]
        .map(|(name, value)| ("OutageLab".to_owned(), name.to_owned(), value, 1));
    assert_eq!(got, expected);
    assert!(samples
        .iter()
        .any(|s| s.metric_name == "Latency" && s.unit == "Milliseconds"));
    assert!(samples
        .iter()
        .all(|s| s.dimensions.get("Service").map(String::as_str) == Some("dev-test")));
}
