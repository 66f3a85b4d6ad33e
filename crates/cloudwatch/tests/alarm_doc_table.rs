//! The AWS documentation's table "How alarm state is evaluated when data is missing", case by
//! case and for every starting state, through `run_alarm_eval` (the `outage-lab alarm-eval`
//! contract). The shared copy of the table is preferred; the copy in tests/data keeps the test
//! running where the shared folder is absent.

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use lab_cloudwatch::run_alarm_eval_at;
use serde_json::Value;

fn table() -> Value {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = manifest.join("../../../shared/aws-semantics/alarm_doc_table.json");
    let local = manifest.join("tests/data/alarm_doc_table.json");
    let path = [shared, local]
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| {
            panic!("alarm_doc_table.json is neither in ../shared/aws-semantics nor in tests/data")
        });
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_row_of_the_documentation_table_is_reproduced_from_every_starting_state() {
    let table = table();
    let cases = table["cases"].as_array().expect("cases array");
    assert_eq!(
        cases.len(),
        40,
        "two tables of five rows, four TreatMissingData options each"
    );
    let now = UNIX_EPOCH + Duration::from_secs(1_795_615_200);
    let mut failures = Vec::new();
    for initial in ["OK", "ALARM", "INSUFFICIENT_DATA"] {
        let with_initial: Vec<Value> = cases
            .iter()
            .map(|c| {
                let mut c = c.clone();
                c["initial_state"] = initial.into();
                c
            })
            .collect();
        let lines =
            run_alarm_eval_at(&Value::Array(with_initial).to_string(), now).expect("table cases are valid");
        assert_eq!(lines.len(), cases.len());
        for (case, line) in cases.iter().zip(&lines) {
            let out: Value = serde_json::from_str(line).unwrap();
            assert_eq!(out["id"], case["id"]);
            let expected = match case["expected_state"].as_str().unwrap() {
                "RETAIN_CURRENT_STATE" => initial,
                other => other,
            };
            if out["state"] != expected {
                failures.push(format!(
                    "{} from {initial}: got {} ({}), want {expected}",
                    case["id"], out["state"], out["reason"]
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn the_table_as_given_evaluates_from_insufficient_data() {
    // `initial_state: null` in the file means a new alarm, which starts in INSUFFICIENT_DATA.
    let table = table();
    let now = UNIX_EPOCH + Duration::from_secs(1_795_615_200);
    let lines = run_alarm_eval_at(&table["cases"].to_string(), now).unwrap();
    let retained: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect();
    for (case, out) in table["cases"].as_array().unwrap().iter().zip(&retained) {
        if case["expected_state"] == "RETAIN_CURRENT_STATE" {
            assert_eq!(out["state"], "INSUFFICIENT_DATA", "{}", case["id"]);
            assert!(
                out["reason"].as_str().unwrap().starts_with("Unchanged: "),
                "{}",
                out["reason"]
            );
        } else {
            assert_eq!(out["state"], case["expected_state"], "{}", case["id"]);
        }
    }
}
