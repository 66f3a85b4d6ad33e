//! `run_alarm_eval`: the `outage-lab alarm-eval` contract (one case or an array, one JSON line
//! per case, errors naming the case and the field).

use std::time::{Duration, UNIX_EPOCH};

use lab_cloudwatch::{run_alarm_eval, run_alarm_eval_at, AlarmEvalError};
use serde_json::{json, Value};

fn case() -> Value {
    json!({
        "id": "fast",
        "period": 10,
        "evaluation_periods": 1,
        "datapoints_to_alarm": 1,
        "threshold": 1,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "treat_missing_data": "notBreaching",
        "datapoints": [null, null, 3],
        "newest_period_start": "2026-11-25T14:00:10Z"
    })
}

fn lines(input: &Value) -> Vec<Value> {
    run_alarm_eval(&input.to_string())
        .unwrap()
        .iter()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn one_case_gives_one_line_with_id_state_and_reason() {
    let out = run_alarm_eval(&case().to_string()).unwrap();
    assert_eq!(out.len(), 1);
    assert!(!out[0].contains('\n'));
    let v: Value = serde_json::from_str(&out[0]).unwrap();
    assert_eq!(
        v,
        json!({
            "id": "fast",
            "state": "ALARM",
            "reason": "Threshold Crossed: 1 datapoint [3.0 (25/11/26 14:00:10)] was greater than or equal to the threshold (1.0)."
        })
    );
}

#[test]
fn an_array_gives_one_line_per_case_in_order_and_keeps_the_state_when_told() {
    let mut second = case();
    second["id"] = json!(2);
    second["treat_missing_data"] = json!("ignore");
    second["datapoints"] = json!([null, null, null]);
    second["initial_state"] = json!("ALARM");
    let mut third = case();
    third.as_object_mut().unwrap().remove("id");
    third["datapoints"] = json!([0.5]);
    let out = lines(&json!([case(), second, third]));
    assert_eq!(out.len(), 3);
    assert_eq!(
        (out[0]["id"].clone(), out[0]["state"].clone()),
        (json!("fast"), json!("ALARM"))
    );
    assert_eq!(
        (out[1]["id"].clone(), out[1]["state"].clone()),
        (json!(2), json!("ALARM"))
    );
    assert_eq!(
        (out[2]["id"].clone(), out[2]["state"].clone()),
        (Value::Null, json!("OK"))
    );
}

#[test]
fn without_a_date_the_newest_period_is_the_last_complete_one_before_now() {
    let mut c = case();
    c.as_object_mut().unwrap().remove("newest_period_start");
    c["period"] = json!(60);
    // now = 14:01:30 -> the newest complete minute starts at 14:00:00.
    let now = UNIX_EPOCH + Duration::from_secs(1_795_615_200 + 90);
    let out = run_alarm_eval_at(&c.to_string(), now).unwrap();
    assert!(out[0].contains("(25/11/26 14:00:00)"), "{}", out[0]);
}

fn error_of(input: &Value) -> (String, String, String) {
    match run_alarm_eval(&input.to_string()) {
        Err(AlarmEvalError::Case { case, field, message }) => (case, field, message),
        other => panic!("expected a case error, got {other:?}"),
    }
}

#[test]
fn bad_cases_are_refused_naming_the_case_and_the_field() {
    let edits: Vec<(&str, Value, &str)> = vec![
        ("period", json!(45), "period"),
        ("period", json!("60"), "period"),
        ("evaluation_periods", json!(0), "evaluation_periods"),
        ("datapoints_to_alarm", json!(2), "datapoints_to_alarm"),
        ("threshold", json!("high"), "threshold"),
        ("comparison_operator", json!("Above"), "comparison_operator"),
        ("treat_missing_data", json!("sometimes"), "treat_missing_data"),
        ("datapoints", json!([]), "datapoints"),
        ("datapoints", json!("1,2"), "datapoints"),
        ("datapoints", json!([1, "x"]), "datapoints[1]"),
        ("initial_state", json!("PENDING"), "initial_state"),
        ("newest_period_start", json!("yesterday"), "newest_period_start"),
        ("id", json!({"a": 1}), "id"),
    ];
    for (field, value, named) in edits {
        let mut c = case();
        c[field] = value.clone();
        let (case_label, got_field, message) = error_of(&c);
        assert_eq!(got_field, named, "{field} = {value}: {message}");
        if field != "id" {
            assert_eq!(case_label, "\"fast\"");
        }
        assert!(!message.is_empty());
    }
    // A missing required field, in the second case of an array without ids: named by position.
    let mut c = case();
    c.as_object_mut().unwrap().remove("id");
    c.as_object_mut().unwrap().remove("threshold");
    let (label, field, message) = error_of(&json!([case(), c]));
    assert_eq!(
        (label.as_str(), field.as_str(), message.as_str()),
        ("#2", "threshold", "is required")
    );
    let msg = run_alarm_eval(&json!([case(), {"period": 60}]).to_string())
        .unwrap_err()
        .to_string();
    assert!(msg.starts_with("case #2: field `evaluation_periods`"), "{msg}");
}

#[test]
fn input_that_is_not_cases_is_refused() {
    assert!(matches!(run_alarm_eval("{"), Err(AlarmEvalError::Json(_))));
    assert!(matches!(
        run_alarm_eval("42"),
        Err(AlarmEvalError::Shape("a number"))
    ));
    let (label, field, _) = error_of(&json!([7]));
    assert_eq!((label.as_str(), field.as_str()), ("#1", "(case)"));
    assert_eq!(run_alarm_eval("[]").unwrap(), Vec::<String>::new());
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    fn any_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| serde_json::Number::from_f64(f)
                .map(Value::Number)
                .unwrap_or(Value::Null)),
            "[a-zA-Z_]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::btree_map("[a-z_]{1,8}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// Each field either valid or arbitrary JSON.
    fn field(valid: Value) -> impl Strategy<Value = Value> {
        prop_oneof![3 => Just(valid), 1 => any_json()]
    }

    fn case_strategy() -> impl Strategy<Value = Value> {
        (
            field(json!(60)),
            field(json!(3)),
            field(json!(2)),
            field(json!(1.0)),
            field(json!("GreaterThanThreshold")),
            field(json!("missing")),
            prop_oneof![
                prop::collection::vec(prop::option::of(-10.0f64..10.0), 0..12).prop_map(|v| json!(v)),
                any_json()
            ],
            field(json!("OK")),
        )
            .prop_map(|(p, n, m, t, op, tmd, dps, init)| {
                json!({"period": p, "evaluation_periods": n, "datapoints_to_alarm": m, "threshold": t,
                       "comparison_operator": op, "treat_missing_data": tmd, "datapoints": dps, "initial_state": init})
            })
    }

    proptest! {
        #[test]
        fn any_text_gives_lines_or_an_error_never_a_panic(text in ".{0,200}") {
            let _ = run_alarm_eval(&text);
        }

        #[test]
        fn any_case_gives_one_line_or_a_case_error(cases in prop::collection::vec(case_strategy(), 1..4)) {
            match run_alarm_eval(&Value::Array(cases.clone()).to_string()) {
                Ok(lines) => {
                    prop_assert_eq!(lines.len(), cases.len());
                    for line in lines {
                        let v: Value = serde_json::from_str(&line).unwrap();
                        prop_assert!(["OK", "ALARM", "INSUFFICIENT_DATA"].contains(&v["state"].as_str().unwrap()));
                        prop_assert!(!v["reason"].as_str().unwrap().is_empty());
                    }
                }
                Err(AlarmEvalError::Case { case, field, message }) => {
                    prop_assert!(case.starts_with('#'));
                    prop_assert!(!field.is_empty() && !message.is_empty());
                }
                Err(other) => prop_assert!(false, "unexpected {other}"),
            }
        }
    }
}
