//! Composite alarms: the AlarmRule language (PutCompositeAlarm) and the engine evaluating a
//! composite on the tick its children change, with one notification per change of its own.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lab_cloudwatch::composite::{Rule, RuleError};
use lab_cloudwatch::{AlarmEngine, AlarmState, CompositeError, ManualClock, MetricStore, Sample};
use outage_config::{AlarmDefinition, AlarmSubject, CompositeAlarmDefinition, Statistic, TreatMissingData};

use AlarmState::{Alarm, InsufficientData, Ok};

fn states(pairs: &[(&str, AlarmState)]) -> impl Fn(&str) -> Option<AlarmState> {
    let map: BTreeMap<String, AlarmState> = pairs.iter().map(|(n, s)| ((*n).to_owned(), *s)).collect();
    move |name: &str| map.get(name).copied()
}

#[test]
fn the_rule_functions_constants_and_operators() {
    let s = states(&[("a", Alarm), ("b", Ok), ("c", InsufficientData)]);
    let holds = |rule: &str| {
        Rule::parse(rule)
            .unwrap_or_else(|e| panic!("{rule}: {e}"))
            .holds(&s)
    };
    assert!(holds("ALARM(\"a\")"));
    assert!(holds("ALARM(a)"), "bare names are allowed");
    assert!(!holds("ALARM(b)"));
    assert!(holds("OK(b) AND INSUFFICIENT_DATA(c)"));
    assert!(holds("TRUE") && !holds("FALSE"));
    assert!(holds("NOT ALARM(b)"));
    assert!(
        !holds("ALARM(missing)"),
        "no state function is true of an alarm that does not exist"
    );
    assert!(!holds("OK(missing) OR INSUFFICIENT_DATA(missing)"));
    // NOT binds tighter than AND, AND tighter than OR.
    assert!(holds("ALARM(b) AND ALARM(b) OR ALARM(a)"));
    assert!(!holds("ALARM(b) AND (ALARM(b) OR ALARM(a))"));
    assert!(!holds("NOT ALARM(a) AND ALARM(a)"));
    assert!(holds("NOT (ALARM(b) AND ALARM(a))"));
    assert!(holds("ALARM(\"name with (parens) and spaces\") OR ALARM(a)"));
    let rule = Rule::parse("ALARM(a) OR (OK(\"b\") AND NOT INSUFFICIENT_DATA(c))").unwrap();
    assert_eq!(rule.alarms().into_iter().collect::<Vec<_>>(), ["a", "b", "c"]);
}

#[test]
fn a_malformed_rule_is_refused_with_where_and_what() {
    let err = |rule: &str| Rule::parse(rule).unwrap_err().to_string();
    assert_eq!(Rule::parse("  ").unwrap_err(), RuleError::Empty);
    assert!(
        err("ALARM(a) OR").contains("at character 11"),
        "{}",
        err("ALARM(a) OR")
    );
    assert!(err("ALARM(a) OR").contains("expected ALARM(...)"));
    assert!(err("ALARM(\"a) OR OK(b)").contains("not closed"));
    assert!(err("ALARM()").contains("expected an alarm name"));
    assert!(err("ALARM a").contains("expected ( after ALARM"));
    assert!(err("(ALARM(a)").contains("expected ) to close the group"));
    assert!(err("ALARM(a) ALARM(b)").contains("expected AND, OR or the end"));
    assert!(err("ALARMS(a)").contains("\"ALARMS\""));
    assert!(
        err("alarm(a)").contains("\"alarm\""),
        "the functions are upper case"
    );
    let long = vec!["ALARM(a)"; 1200].join(" OR ");
    assert!(matches!(Rule::parse(&long), Err(RuleError::TooLong(n)) if n > 10_240));
}

fn t0() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_795_615_200)
}

fn fast_errors(service: &str) -> AlarmDefinition {
    AlarmDefinition {
        name: format!("dev-{service}-fast-errors"),
        kind: outage_config::AlarmKind::FastErrors,
        subject: AlarmSubject::Function(service.into()),
        namespace: "OutageLab".into(),
        metric_name: "Faults".into(),
        dimensions: BTreeMap::from([("Service".to_owned(), format!("dev-{service}"))]),
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

fn faults(service: &str, value: f64, at: SystemTime) -> Sample {
    Sample {
        namespace: "OutageLab".into(),
        metric_name: "Faults".into(),
        dimensions: BTreeMap::from([("Service".to_owned(), format!("dev-{service}"))]),
        unit: "Count".into(),
        value,
        timestamp: at,
        resolution_s: 1,
    }
}

fn composite(name: &str, rule: &str) -> CompositeAlarmDefinition {
    CompositeAlarmDefinition {
        name: name.into(),
        rule: rule.into(),
        description: String::new(),
        topic: "dev-alarms".into(),
    }
}

fn engine(
    composites: Vec<CompositeAlarmDefinition>,
) -> Result<(Arc<ManualClock>, Arc<MetricStore>, AlarmEngine), CompositeError> {
    let clock = Arc::new(ManualClock::new(t0() + Duration::from_secs(3)));
    let store = Arc::new(MetricStore::new(clock.clone(), Duration::from_secs(3600)));
    let engine = AlarmEngine::new(
        vec![fast_errors("auth"), fast_errors("product")],
        store.clone(),
        clock.clone(),
    )
    .with_composites(composites)?;
    Result::Ok((clock, store, engine))
}

#[test]
fn the_composite_follows_its_children_and_notifies_once_per_change() {
    let rule = "ALARM(\"dev-auth-fast-errors\") OR ALARM(\"dev-product-fast-errors\")";
    let (clock, store, engine) = engine(vec![composite("dev-service-health", rule)]).unwrap();
    assert_eq!(
        engine.composite("dev-service-health").unwrap().state,
        InsufficientData
    );
    let mut changes = Vec::new();
    let mut run = |seconds: u64, faulty: &[&str]| {
        for _ in 0..seconds {
            clock.advance(Duration::from_secs(1));
            let now = clock_now(&clock);
            for s in ["auth", "product"] {
                store.put(faults(s, if faulty.contains(&s) { 1.0 } else { 0.0 }, now));
            }
            changes.extend(
                engine
                    .tick()
                    .into_iter()
                    .filter(|c| c.alarm_name == "dev-service-health"),
            );
        }
    };
    run(20, &[]);
    assert_eq!(engine.composite("dev-service-health").unwrap().state, Ok);
    // One child fails, then the other as well: the composite pages once.
    run(20, &["auth"]);
    run(20, &["auth", "product"]);
    let status = engine.composite("dev-service-health").unwrap();
    assert_eq!(status.state, Alarm);
    assert!(
        status
            .reason
            .starts_with("dev-auth-fast-errors transitioned to ALARM at "),
        "{}",
        status.reason
    );
    assert!(status.reason.ends_with(" UTC"), "{}", status.reason);
    // The first child recovers: the other still holds the composite in ALARM.
    run(20, &["product"]);
    assert_eq!(engine.composite("dev-service-health").unwrap().state, Alarm);
    run(20, &[]);
    let status = engine.composite("dev-service-health").unwrap();
    assert_eq!(status.state, Ok);
    assert!(
        status
            .reason
            .starts_with("dev-product-fast-errors transitioned to OK"),
        "{}",
        status.reason
    );
    let track: Vec<_> = changes.iter().map(|c| (c.old_state, c.new_state)).collect();
    assert_eq!(track, [(InsufficientData, Ok), (Ok, Alarm), (Alarm, Ok)]);
    let history = engine.history("dev-service-health").unwrap();
    assert_eq!(history.len(), 3);
    assert!(
        engine.alarms().iter().all(|a| a.name != "dev-service-health"),
        "metric alarms only"
    );
}

fn clock_now(clock: &ManualClock) -> SystemTime {
    lab_cloudwatch::Clock::now(clock)
}

#[test]
fn composites_may_name_earlier_composites_and_nothing_unknown() {
    let (clock, _store, engine) = engine(vec![
        composite("inner", "ALARM(dev-auth-fast-errors)"),
        composite("outer", "NOT ALARM(inner) AND TRUE"),
    ])
    .unwrap();
    clock.advance(Duration::from_secs(10));
    engine.tick();
    assert_eq!(engine.composite("inner").unwrap().state, Ok);
    assert_eq!(engine.composite("outer").unwrap().state, Alarm);

    let err = engine_err(vec![
        composite("outer", "ALARM(inner)"),
        composite("inner", "TRUE"),
    ]);
    assert_eq!(
        err,
        "composite alarm outer: its rule names \"inner\", which is not an alarm defined before it"
    );
    let err = engine_err(vec![composite("x", "ALARM(dev-auth-fast-errors) OR")]);
    assert!(
        err.starts_with("composite alarm x: AlarmRule \"ALARM(dev-auth-fast-errors) OR\": at character"),
        "{err}"
    );
    let err = engine_err(vec![composite("dev-auth-fast-errors", "TRUE")]);
    assert!(err.contains("the name is taken"), "{err}");
}

fn engine_err(composites: Vec<CompositeAlarmDefinition>) -> String {
    match engine(composites) {
        Err(e) => e.to_string(),
        Result::Ok(_) => panic!("accepted"),
    }
}
