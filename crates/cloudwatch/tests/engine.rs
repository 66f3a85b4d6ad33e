//! The alarm engine on a virtual clock: cadence, the evaluated window, transitions with exactly
//! one StateChange each, history, and the stage's own alarm set.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lab_cloudwatch::{AlarmEngine, AlarmState, Clock, ManualClock, MetricStore, Sample, StateChange};
use outage_config::{AlarmDefinition, AlarmSubject, Stage, Statistic, TreatMissingData};

/// 2026-11-25T14:00:00Z
fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_615_200)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

fn fast_errors() -> AlarmDefinition {
    AlarmDefinition {
        name: "dev-payment-fast-errors".into(),
        kind: outage_config::AlarmKind::FastErrors,
        subject: AlarmSubject::Function("payment".into()),
        namespace: "OutageLab".into(),
        metric_name: "Faults".into(),
        dimensions: BTreeMap::from([("Service".to_owned(), "dev-payment".to_owned())]),
        statistic: Statistic::Sum,
        period_s: 10,
        evaluation_periods: 1,
        datapoints_to_alarm: 1,
        threshold: 1.0,
        comparison_operator: "GreaterThanOrEqualToThreshold".into(),
        treat_missing_data: TreatMissingData::NotBreaching,
        description: String::new(),
        runbook: String::new(),
        topic: "dev-alarms".into(),
        minus: Vec::new(),
    }
}

fn lambda_errors() -> AlarmDefinition {
    AlarmDefinition {
        name: "dev-payment-errors".into(),
        kind: outage_config::AlarmKind::Errors,
        namespace: "AWS/Lambda".into(),
        metric_name: "Errors".into(),
        dimensions: BTreeMap::from([("FunctionName".to_owned(), "dev-payment".to_owned())]),
        period_s: 60,
        ..fast_errors()
    }
}

fn faults(value: f64, at: SystemTime) -> Sample {
    Sample {
        namespace: "OutageLab".into(),
        metric_name: "Faults".into(),
        dimensions: BTreeMap::from([("Service".to_owned(), "dev-payment".to_owned())]),
        unit: "Count".into(),
        value,
        timestamp: at,
        resolution_s: 1,
    }
}

struct Lab {
    clock: Arc<ManualClock>,
    store: Arc<MetricStore>,
    engine: AlarmEngine,
}

fn lab(defs: Vec<AlarmDefinition>, start: SystemTime) -> Lab {
    let clock = Arc::new(ManualClock::new(start));
    let store = Arc::new(MetricStore::new(clock.clone(), Duration::from_secs(3 * 3600)));
    let engine = AlarmEngine::new(defs, store.clone(), clock.clone());
    Lab { clock, store, engine }
}

impl Lab {
    /// Ticks every second for `seconds` seconds, as the lab does, collecting the changes.
    fn run(&self, seconds: u64) -> Vec<StateChange> {
        let mut all = Vec::new();
        for _ in 0..seconds {
            self.clock.advance(secs(1));
            all.extend(self.engine.tick());
        }
        all
    }
}

fn transitions(changes: &[StateChange]) -> Vec<(AlarmState, AlarmState)> {
    changes.iter().map(|c| (c.old_state, c.new_state)).collect()
}

#[test]
fn new_alarms_start_insufficient_data_unchecked() {
    let lab = lab(vec![fast_errors()], t0());
    let a = lab.engine.alarm("dev-payment-fast-errors").unwrap();
    assert_eq!(a.state, AlarmState::InsufficientData);
    assert_eq!(a.reason, "Unchecked: Initial alarm creation");
    assert_eq!(a.definition, fast_errors());
    assert!(lab.engine.history("dev-payment-fast-errors").unwrap().is_empty());
    assert!(lab.engine.alarm("nope").is_none());
    assert!(lab.engine.history("nope").is_none());
}

#[test]
fn insufficient_data_to_alarm_to_ok_with_one_change_each() {
    let lab = lab(vec![fast_errors()], t0() + secs(3));
    let name = "dev-payment-fast-errors";

    // First evaluation: no data, notBreaching -> OK.
    let first = lab.engine.tick();
    assert_eq!(
        transitions(&first),
        [(AlarmState::InsufficientData, AlarmState::Ok)]
    );
    assert_eq!(
        first[0].reason,
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching]."
    );

    // A fault at 14:00:05; the 10 s alarm is next due at 14:00:10, not before.
    lab.store.put(faults(1.0, t0() + secs(5)));
    assert!(lab.run(6).is_empty(), "evaluated before the cadence instant"); // up to 14:00:09
    let changes = lab.run(1); // 14:00:10
    assert_eq!(transitions(&changes), [(AlarmState::Ok, AlarmState::Alarm)]);
    assert_eq!(changes[0].alarm_name, name);
    assert_eq!(changes[0].timestamp, t0() + secs(10));
    assert_eq!(changes[0].reason, "Threshold Crossed: 1 datapoint [1.0 (25/11/26 14:00:00)] was greater than or equal to the threshold (1.0).");

    // More faults keep it in ALARM without another change (actions only on a change).
    lab.store.put(faults(1.0, t0() + secs(12)));
    lab.store.put(faults(0.0, t0() + secs(13)));
    assert!(lab.run(10).is_empty()); // up to 14:00:20

    // Healthy traffic (Faults 0) in the next period: OK at 14:00:30.
    for s in 21..30 {
        lab.store.put(faults(0.0, t0() + secs(s)));
    }
    let changes = lab.run(10);
    assert_eq!(transitions(&changes), [(AlarmState::Alarm, AlarmState::Ok)]);
    assert_eq!(changes[0].timestamp, t0() + secs(30));
    assert_eq!(changes[0].reason, "Threshold Crossed: 1 datapoint [0.0 (25/11/26 14:00:20)] was not greater than or equal to the threshold (1.0).");
    assert!(lab.run(60).is_empty());

    let history = lab.engine.history(name).unwrap();
    let states: Vec<_> = history.iter().map(|h| (h.old_state, h.new_state)).collect();
    assert_eq!(
        states,
        [
            (AlarmState::InsufficientData, AlarmState::Ok),
            (AlarmState::Ok, AlarmState::Alarm),
            (AlarmState::Alarm, AlarmState::Ok)
        ]
    );
    let status = lab.engine.alarm(name).unwrap();
    assert_eq!(
        (status.state, status.updated_at),
        (AlarmState::Ok, t0() + secs(30))
    );
    assert_eq!(status.reason, history[2].reason);
}

#[test]
fn without_new_data_alarm_holds_until_the_breach_leaves_the_evaluation_range() {
    // N = 1: the range is 3 periods, so the newest real datapoint decides until it is 3 periods old.
    let lab = lab(vec![fast_errors()], t0() + secs(9));
    lab.engine.tick();
    lab.store.put(faults(2.0, t0() + secs(5)));
    let changes = lab.run(1); // 14:00:10
    assert_eq!(transitions(&changes), [(AlarmState::Ok, AlarmState::Alarm)]);
    assert!(lab.run(29).is_empty()); // 14:00:20 and 14:00:30 still see the 14:00:00 datapoint
    let changes = lab.run(1); // 14:00:40: range 14:00:10..14:00:40 is empty
    assert_eq!(transitions(&changes), [(AlarmState::Alarm, AlarmState::Ok)]);
    assert!(
        changes[0].reason.contains("no datapoints were received"),
        "{}",
        changes[0].reason
    );
}

#[test]
fn minute_alarms_run_every_minute_on_the_last_complete_minute() {
    let lab = lab(vec![lambda_errors()], t0() + secs(30));
    let name = "dev-payment-errors";
    assert_eq!(
        transitions(&lab.engine.tick()),
        [(AlarmState::InsufficientData, AlarmState::Ok)]
    );
    // An error at 14:00:40 (standard resolution): not evaluated at 14:00:50 or 14:00:59.
    lab.store.put(Sample {
        namespace: "AWS/Lambda".into(),
        metric_name: "Errors".into(),
        dimensions: lambda_errors().dimensions,
        unit: "Count".into(),
        value: 1.0,
        timestamp: t0() + secs(40),
        resolution_s: 60,
    });
    assert!(lab.run(29).is_empty()); // to 14:00:59
    let changes = lab.run(1); // 14:01:00 evaluates 14:00:00..14:01:00
    assert_eq!(transitions(&changes), [(AlarmState::Ok, AlarmState::Alarm)]);
    assert_eq!(changes[0].reason, "Threshold Crossed: 1 datapoint [1.0 (25/11/26 14:00:00)] was greater than or equal to the threshold (1.0).");
    assert_eq!(lab.engine.history(name).unwrap().len(), 2);
}

#[test]
fn a_jump_over_several_instants_evaluates_once() {
    let lab = lab(vec![fast_errors()], t0());
    lab.engine.tick();
    lab.store.put(faults(1.0, t0() + secs(95)));
    lab.clock.set(t0() + secs(105));
    assert_eq!(lab.engine.tick().len(), 1);
    assert!(lab.engine.tick().is_empty());
    // The clock going backwards does not re-evaluate a past instant.
    lab.clock.set(t0() + secs(50));
    assert!(lab.engine.tick().is_empty());
}

#[test]
fn percentile_alarm_with_m_of_n() {
    let def = AlarmDefinition {
        name: "dev-auth-duration-p99".into(),
        kind: outage_config::AlarmKind::DurationP99,
        namespace: "AWS/Lambda".into(),
        metric_name: "Duration".into(),
        dimensions: BTreeMap::from([("FunctionName".to_owned(), "dev-auth".to_owned())]),
        statistic: Statistic::Percentile("p99".into()),
        period_s: 60,
        evaluation_periods: 3,
        datapoints_to_alarm: 2,
        threshold: 1000.0,
        ..fast_errors()
    };
    let lab = lab(vec![def], t0());
    lab.engine.tick();
    // Three minutes: slow, fast, slow (p99 over 100 invocations each: 99th value decides).
    for (minute, slow) in [(0u64, true), (1, false), (2, true)] {
        for i in 0..100u64 {
            let ms = if slow && i >= 90 { 1500.0 } else { 20.0 };
            lab.store.put(Sample {
                namespace: "AWS/Lambda".into(),
                metric_name: "Duration".into(),
                dimensions: BTreeMap::from([("FunctionName".to_owned(), "dev-auth".to_owned())]),
                unit: "Milliseconds".into(),
                value: ms,
                timestamp: t0() + secs(minute * 60 + i % 60),
                resolution_s: 60,
            });
        }
    }
    lab.clock.set(t0() + secs(180));
    let changes = lab.engine.tick();
    assert_eq!(transitions(&changes), [(AlarmState::Ok, AlarmState::Alarm)]);
    assert_eq!(
        changes[0].reason,
        "Threshold Crossed: 2 out of the last 3 datapoints [1500.0 (25/11/26 14:02:00), 1500.0 (25/11/26 14:00:00)] were greater than or equal to the threshold (1000.0) (minimum 2 datapoints for OK -> ALARM transition)."
    );
}

#[test]
fn the_dev_stage_alarms_all_evaluate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let stage = Stage::load_named(&root, "dev").unwrap();
    let defs = stage.alarm_definitions("lab0001");
    let lab = lab(defs.clone(), t0() + secs(1));
    let first = lab.engine.tick();
    // Without data each alarm goes where its TreatMissingData says, in its first evaluation.
    for def in &defs {
        let expected = match def.treat_missing_data {
            TreatMissingData::NotBreaching => Some(AlarmState::Ok),
            TreatMissingData::Breaching => Some(AlarmState::Alarm),
            TreatMissingData::Missing | TreatMissingData::Ignore => None,
        };
        let change = first
            .iter()
            .find(|c| c.alarm_name == def.name)
            .map(|c| c.new_state);
        assert_eq!(change, expected, "{}", def.name);
    }
    assert!(lab.run(120).is_empty());
    assert_eq!(lab.engine.alarms().len(), defs.len());
    assert_eq!(lab.clock.now(), t0() + secs(121));
}

#[test]
fn the_functions_emf_lines_drive_the_fast_alarm() {
    let lab = lab(vec![fast_errors()], t0() + secs(1));
    lab.engine.tick();
    let line = |ms: u64, faults: u32| {
        format!(
            r#"{{"_aws":{{"Timestamp":{ms},"CloudWatchMetrics":[{{"Namespace":"OutageLab","Dimensions":[["Service"]],"Metrics":[{{"Name":"Requests","Unit":"Count","StorageResolution":1}},{{"Name":"Faults","Unit":"Count","StorageResolution":1}}]}}]}},"Service":"dev-payment","requestId":"r","Requests":1,"Faults":{faults}}}"#
        )
    };
    let start_ms = 1_795_615_200_000u64;
    for (offset_ms, faults) in [(2_000, 0), (4_500, 1), (7_250, 1)] {
        let samples = lab_cloudwatch::parse_emf_line(&line(start_ms + offset_ms, faults))
            .unwrap()
            .unwrap();
        lab.store.put_many(samples);
    }
    let changes = lab.run(9); // to 14:00:10
    assert_eq!(transitions(&changes), [(AlarmState::Ok, AlarmState::Alarm)]);
    assert_eq!(
        changes[0].reason,
        "Threshold Crossed: 1 datapoint [2.0 (25/11/26 14:00:00)] was greater than or equal to the threshold (1.0)."
    );
}

#[test]
fn a_missing_data_alarm_goes_insufficient_data_alarm_ok_and_back() {
    let def = AlarmDefinition {
        treat_missing_data: TreatMissingData::Missing,
        ..fast_errors()
    };
    let lab = lab(vec![def], t0());
    // No data: INSUFFICIENT_DATA already, so no change and no notification.
    assert!(lab.run(30).is_empty()); // to 14:00:30
    lab.store.put(faults(1.0, t0() + secs(31)));
    let changes = lab.run(10); // 14:00:40
    assert_eq!(
        transitions(&changes),
        [(AlarmState::InsufficientData, AlarmState::Alarm)]
    );
    lab.store.put(faults(0.0, t0() + secs(45)));
    let changes = lab.run(10); // 14:00:50
    assert_eq!(transitions(&changes), [(AlarmState::Alarm, AlarmState::Ok)]);
    // Silence: OK while the 14:00:40 datapoint is in the range, then INSUFFICIENT_DATA.
    assert!(lab.run(20).is_empty()); // 14:01:00, 14:01:10
    let changes = lab.run(10); // 14:01:20: range 14:00:50..14:01:20 is empty
    assert_eq!(
        transitions(&changes),
        [(AlarmState::Ok, AlarmState::InsufficientData)]
    );
    assert_eq!(changes[0].reason, "Insufficient Data: 1 datapoint was unknown.");
    assert_eq!(lab.engine.history("dev-payment-fast-errors").unwrap().len(), 3);
}
