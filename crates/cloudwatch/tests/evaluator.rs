//! The evaluator: every TreatMissingData value, the four operators, M of N, the evaluation
//! range, AWS's reason wording, and properties over arbitrary inputs.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lab_cloudwatch::alarms::period_starts;
use lab_cloudwatch::{evaluate, AlarmState, EvalSpec, Evaluation};
use outage_config::TreatMissingData;
use proptest::prelude::*;

const X: Option<f64> = Some(5.0);
const O: Option<f64> = Some(0.0);
const GAP: Option<f64> = None;

/// 2026-11-25T14:00:00Z
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_615_200)
}

fn spec(period: u32, n: u32, m: u32, op: &str, tmd: TreatMissingData) -> EvalSpec {
    EvalSpec::new("test", period, n, m, 1.0, op, tmd).unwrap()
}

/// Evaluates `points` with the newest period starting at `newest`.
fn eval_at(spec: &EvalSpec, points: &[Option<f64>], newest: SystemTime, current: AlarmState) -> Evaluation {
    let starts = period_starts(newest, spec.period_s, points.len());
    evaluate(spec, points, &starts, current)
}

fn ge(n: u32, m: u32, tmd: TreatMissingData) -> EvalSpec {
    spec(60, n, m, "GreaterThanOrEqualToThreshold", tmd)
}

#[test]
fn one_breaching_datapoint_reason_is_aws_wording() {
    let e = eval_at(
        &ge(1, 1, TreatMissingData::NotBreaching),
        &[GAP, GAP, X],
        t0(),
        AlarmState::InsufficientData,
    );
    assert_eq!(e.state, AlarmState::Alarm);
    assert_eq!(e.reason, "Threshold Crossed: 1 datapoint [5.0 (25/11/26 14:00:00)] was greater than or equal to the threshold (1.0).");
    let data = e.reason_data.unwrap();
    assert_eq!(data["recentDatapoints"], serde_json::json!([5.0]));
    assert_eq!(
        data["evaluatedDatapoints"][0]["timestamp"],
        "2026-11-25T14:00:00.000+0000"
    );
}

#[test]
fn back_to_ok_reason_says_not() {
    let e = eval_at(
        &ge(1, 1, TreatMissingData::NotBreaching),
        &[X, GAP, O],
        t0(),
        AlarmState::Alarm,
    );
    assert_eq!(e.state, AlarmState::Ok);
    assert_eq!(e.reason, "Threshold Crossed: 1 datapoint [0.0 (25/11/26 14:00:00)] was not greater than or equal to the threshold (1.0).");
}

#[test]
fn no_data_not_breaching_reason() {
    let e = eval_at(
        &ge(1, 1, TreatMissingData::NotBreaching),
        &[GAP, GAP, GAP],
        t0(),
        AlarmState::Alarm,
    );
    assert_eq!(e.state, AlarmState::Ok);
    assert_eq!(
        e.reason,
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
    );
}

#[test]
fn no_data_breaching_reason_is_plural() {
    let e = eval_at(
        &ge(2, 2, TreatMissingData::Breaching),
        &[GAP; 4],
        t0(),
        AlarmState::Ok,
    );
    assert_eq!(e.state, AlarmState::Alarm);
    assert_eq!(e.reason, "Threshold Crossed: no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching].");
}

#[test]
fn m_out_of_n_lists_breaching_datapoints_newest_first() {
    // Five periods, the newest starting at 14:02; 2 of 3.
    let newest = t0() + Duration::from_secs(120);
    let e = eval_at(
        &ge(3, 2, TreatMissingData::Missing),
        &[O, O, O, X, X],
        newest,
        AlarmState::Ok,
    );
    assert_eq!(e.state, AlarmState::Alarm);
    assert_eq!(
        e.reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [5.0 (25/11/26 14:02:00), 5.0 (25/11/26 14:01:00)] were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
    // Not consecutive: X 0 X is still 2 of 3.
    let e = eval_at(
        &ge(3, 2, TreatMissingData::Missing),
        &[O, O, X, O, X],
        newest,
        AlarmState::Ok,
    );
    assert_eq!(e.state, AlarmState::Alarm);
}

#[test]
fn m_out_of_n_ok_counts_the_good_datapoints_and_the_ok_minimum() {
    let newest = t0() + Duration::from_secs(120);
    let e = eval_at(
        &ge(3, 2, TreatMissingData::Missing),
        &[X, X, X, O, O],
        newest,
        AlarmState::Alarm,
    );
    assert_eq!(e.state, AlarmState::Ok);
    assert_eq!(
        e.reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [0.0 (25/11/26 14:02:00), 0.0 (25/11/26 14:01:00)] were not greater than or equal to the threshold (1.0) (minimum 2 datapoints for ALARM -> OK transition)."
    );
}

#[test]
fn n_of_n_uses_the_short_form() {
    let newest = t0() + Duration::from_secs(120);
    let e = eval_at(
        &ge(3, 3, TreatMissingData::Missing),
        &[O, O, X, X, X],
        newest,
        AlarmState::Ok,
    );
    assert_eq!(e.state, AlarmState::Alarm);
    assert_eq!(
        e.reason,
        "Threshold Crossed: 3 datapoints [5.0 (25/11/26 14:02:00), 5.0 (25/11/26 14:01:00), 5.0 (25/11/26 14:00:00)] were greater than or equal to the threshold (1.0)."
    );
}

#[test]
fn fills_are_named_after_the_listed_datapoints() {
    let newest = t0() + Duration::from_secs(120);
    // 3 of 3, breaching: one good real point and two breaching fills -> not enough -> OK.
    let e = eval_at(
        &ge(3, 3, TreatMissingData::Breaching),
        &[GAP, GAP, O, GAP, GAP],
        newest,
        AlarmState::Alarm,
    );
    assert_eq!(e.state, AlarmState::Ok);
    assert_eq!(
        e.reason,
        "Threshold Crossed: 1 datapoint [0.0 (25/11/26 14:00:00)] was not greater than or equal to the threshold (1.0) and 2 missing datapoints were treated as [Breaching]."
    );
    // 2 of 3, breaching: the real point is good, the fills alone alarm.
    let e = eval_at(
        &ge(3, 2, TreatMissingData::Breaching),
        &[GAP, GAP, GAP, GAP, O],
        newest,
        AlarmState::Ok,
    );
    assert_eq!(e.state, AlarmState::Alarm);
    assert_eq!(e.reason, "Threshold Crossed: 1 datapoint was received for 3 periods and 2 missing datapoints were treated as [Breaching].");
}

#[test]
fn missing_with_no_data_is_insufficient_data() {
    let e = eval_at(
        &ge(1, 1, TreatMissingData::Missing),
        &[GAP; 3],
        t0(),
        AlarmState::Alarm,
    );
    assert_eq!(e.state, AlarmState::InsufficientData);
    assert_eq!(e.reason, "Insufficient Data: 1 datapoint was unknown.");
    let e = eval_at(
        &ge(3, 2, TreatMissingData::Missing),
        &[GAP; 5],
        t0(),
        AlarmState::Ok,
    );
    assert_eq!(e.reason, "Insufficient Data: 3 datapoints were unknown.");
}

#[test]
fn ignore_with_no_data_keeps_every_state() {
    for current in [AlarmState::Ok, AlarmState::Alarm, AlarmState::InsufficientData] {
        let e = eval_at(&ge(1, 1, TreatMissingData::Ignore), &[GAP; 3], t0(), current);
        assert_eq!(e.state, current);
        assert!(e.retained);
    }
}

#[test]
fn breaching_and_not_breaching_fill_gaps_the_other_options_do_not() {
    let points = [GAP, GAP, GAP, X, GAP]; // 2 of 3: one real breaching point, two gaps
    let state = |tmd| eval_at(&ge(3, 2, tmd), &points, t0(), AlarmState::InsufficientData).state;
    assert_eq!(state(TreatMissingData::Breaching), AlarmState::Alarm);
    assert_eq!(state(TreatMissingData::NotBreaching), AlarmState::Ok);
    assert_eq!(state(TreatMissingData::Missing), AlarmState::Alarm); // early ALARM: X is 2 periods old
    assert_eq!(state(TreatMissingData::Ignore), AlarmState::InsufficientData); // kept
}

#[test]
fn early_alarm_needs_the_breaching_point_to_be_m_periods_old() {
    let s = ge(3, 2, TreatMissingData::Missing);
    assert_eq!(
        eval_at(&s, &[GAP, GAP, GAP, GAP, X], t0(), AlarmState::Ok).state,
        AlarmState::Ok
    );
    assert_eq!(
        eval_at(&s, &[GAP, GAP, GAP, X, GAP], t0(), AlarmState::Ok).state,
        AlarmState::Alarm
    );
    assert_eq!(
        eval_at(&s, &[GAP, GAP, GAP, X, X], t0(), AlarmState::Ok).state,
        AlarmState::Alarm
    ); // 2 real breaching
       // An older good datapoint in the range prevents it (the documentation's "0 - X - -" row).
    assert_eq!(
        eval_at(&s, &[O, GAP, X, GAP, GAP], t0(), AlarmState::Alarm).state,
        AlarmState::Ok
    );
}

#[test]
fn with_n_real_points_in_the_range_missing_data_does_not_matter() {
    let points = [X, GAP, X, GAP, O]; // newest 3 real: X X 0
    for tmd in [
        TreatMissingData::Missing,
        TreatMissingData::NotBreaching,
        TreatMissingData::Breaching,
        TreatMissingData::Ignore,
    ] {
        let e = eval_at(&ge(3, 2, tmd), &points, t0(), AlarmState::Ok);
        assert_eq!(e.state, AlarmState::Alarm, "{tmd:?}");
        assert!(!e.reason.contains("missing"), "{}", e.reason);
    }
}

#[test]
fn the_four_operators() {
    let at = |op: &str, value: f64| {
        let s = spec(60, 1, 1, op, TreatMissingData::Missing);
        let e = eval_at(&s, &[Some(value)], t0(), AlarmState::InsufficientData);
        (e.state == AlarmState::Alarm, e.reason)
    };
    assert!(at("GreaterThanOrEqualToThreshold", 1.0).0);
    assert!(!at("GreaterThanOrEqualToThreshold", 0.5).0);
    assert!(!at("GreaterThanThreshold", 1.0).0);
    assert!(at("GreaterThanThreshold", 1.5).0);
    assert!(at("LessThanThreshold", 0.5).0);
    assert!(!at("LessThanThreshold", 1.0).0);
    assert!(at("LessThanOrEqualToThreshold", 1.0).0);
    assert!(!at("LessThanOrEqualToThreshold", 1.5).0);
    assert_eq!(
        at("LessThanThreshold", 2.0).1,
        "Threshold Crossed: 1 datapoint [2.0 (25/11/26 14:00:00)] was not less than the threshold (1.0)."
    );
    assert_eq!(at("LessThanOrEqualToThreshold", 0.25).1, "Threshold Crossed: 1 datapoint [0.25 (25/11/26 14:00:00)] was less than or equal to the threshold (1.0).");
}

#[test]
fn invalid_settings_are_refused_by_field() {
    let e = EvalSpec::new(
        "a",
        45,
        1,
        1,
        1.0,
        "GreaterThanThreshold",
        TreatMissingData::Missing,
    )
    .unwrap_err();
    assert_eq!(e.field, "period");
    let e = EvalSpec::new(
        "a",
        60,
        2,
        3,
        1.0,
        "GreaterThanThreshold",
        TreatMissingData::Missing,
    )
    .unwrap_err();
    assert_eq!(e.field, "datapoints_to_alarm");
    let e = EvalSpec::new(
        "a",
        60,
        0,
        0,
        1.0,
        "GreaterThanThreshold",
        TreatMissingData::Missing,
    )
    .unwrap_err();
    assert_eq!(e.field, "evaluation_periods");
    let e = EvalSpec::new(
        "a",
        60,
        1,
        1,
        f64::NAN,
        "GreaterThanThreshold",
        TreatMissingData::Missing,
    )
    .unwrap_err();
    assert_eq!(e.field, "threshold");
    let e = EvalSpec::new("a", 60, 1, 1, 1.0, "Above", TreatMissingData::Missing).unwrap_err();
    assert_eq!(e.field, "comparison_operator");
    assert!(e.to_string().contains("GreaterThanOrEqualToThreshold"), "{e}");
}

fn tmd_strategy() -> impl Strategy<Value = TreatMissingData> {
    prop_oneof![
        Just(TreatMissingData::Missing),
        Just(TreatMissingData::NotBreaching),
        Just(TreatMissingData::Breaching),
        Just(TreatMissingData::Ignore),
    ]
}

fn state_strategy() -> impl Strategy<Value = AlarmState> {
    prop_oneof![
        Just(AlarmState::Ok),
        Just(AlarmState::Alarm),
        Just(AlarmState::InsufficientData)
    ]
}

fn op_strategy() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("GreaterThanOrEqualToThreshold"),
        Just("GreaterThanThreshold"),
        Just("LessThanThreshold"),
        Just("LessThanOrEqualToThreshold"),
    ]
}

proptest! {
    /// Any settings (even ones PutMetricAlarm refuses), any values (NaN and infinities
    /// included), any range length and any number of period starts: no panic, and a reason.
    #[test]
    fn never_panics(
        n in 0u32..12, m in 0u32..14, threshold in prop::num::f64::ANY,
        tmd in tmd_strategy(), current in state_strategy(), op in op_strategy(),
        points in prop::collection::vec(prop::option::of(prop::num::f64::ANY), 0..20),
        starts in 0usize..25,
    ) {
        let spec = EvalSpec {
            period_s: 60, evaluation_periods: n, datapoints_to_alarm: m, threshold,
            comparison_operator: lab_cloudwatch::ComparisonOperator::parse(op).unwrap(), treat_missing_data: tmd,
        };
        let starts = period_starts(t0(), 60, starts);
        let e = evaluate(&spec, &points, &starts, current);
        prop_assert!(!e.reason.is_empty());
    }

    /// With no missing data the state is exactly "at least M of the newest N breach".
    #[test]
    fn without_gaps_the_state_is_m_of_the_newest_n(
        n in 1u32..8, m_seed in 0u32..8, extra in 0usize..4,
        tmd in tmd_strategy(), current in state_strategy(), op in op_strategy(),
        values in prop::collection::vec(-3.0f64..3.0, 12),
        threshold in -2.0f64..2.0,
    ) {
        let m = 1 + m_seed % n;
        let spec = EvalSpec::new("p", 60, n, m, threshold, op, tmd).unwrap();
        let len = n as usize + extra;
        let points: Vec<Option<f64>> = values[..len].iter().copied().map(Some).collect();
        let e = eval_at(&spec, &points, t0(), current);
        let breaching = values[len - n as usize..len].iter().filter(|v| spec.comparison_operator.breaches(**v, threshold)).count();
        let expected = if breaching >= m as usize { AlarmState::Alarm } else { AlarmState::Ok };
        prop_assert_eq!(e.state, expected);
        prop_assert!(!e.retained);
        prop_assert!(e.reason.starts_with("Threshold Crossed: "), "{}", e.reason);
    }
}
