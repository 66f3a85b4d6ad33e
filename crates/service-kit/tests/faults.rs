//! Each fault mode, checked by what it does: these tests fail if a mode does nothing.

mod common;

use std::time::Duration;

use common::{capture_json_logs, paused_runtime, Harness, NOW};
use lambda_runtime::LambdaEvent;
use serde_json::{json, Value};
use service_kit::clock::epoch_ms;
use service_kit::layer::TIMEOUT_OVERSHOOT;
use service_kit::testing::{body_json, fixture, invocation, GET_NO_AUTHORIZER};
use service_kit::FunctionError;
use time::macros::datetime;
use tokio::time::Instant;

fn event() -> LambdaEvent<Value> {
    invocation(fixture(GET_NO_AUTHORIZER))
}

fn only_record(harness: &Harness) -> Value {
    let records = harness.sink.records();
    assert_eq!(records.len(), 1, "one EMF record per invocation: {records:?}");
    records.into_iter().next().unwrap()
}

#[test]
fn without_a_fault_the_handler_answers_and_nothing_is_counted_as_a_fault() {
    let mut h = Harness::new(&[]);
    let answer = paused_runtime().block_on(h.invoke(event())).unwrap();
    assert_eq!(answer.status_code, 200);
    assert_eq!(h.calls(), 1);
    let record = only_record(&h);
    assert_eq!(
        (
            record["Requests"].clone(),
            record["Faults"].clone(),
            record["FaultsInjected"].clone()
        ),
        (json!(1), json!(0), json!(0))
    );
    assert_eq!(record["Service"], "dev-test");
    assert_eq!(record["requestId"], service_kit::testing::REQUEST_ID);
}

#[test]
fn exception_returns_an_unhandled_error_with_the_default_message_after_counting_the_fault() {
    let mut h = Harness::new(&[("FAULT_MODE", "exception")]);
    let (result, logs) = capture_json_logs(|| paused_runtime().block_on(h.invoke(event())));
    match result {
        Err(FunctionError::Injected(message)) => assert_eq!(message, "Simulated test service failure"),
        other => panic!("expected the injected error, got {other:?}"),
    }
    assert_eq!(h.calls(), 0, "the failing invocation never reaches the handler");
    let record = only_record(&h);
    assert_eq!(
        (record["Faults"].clone(), record["FaultsInjected"].clone()),
        (json!(1), json!(1))
    );
    let marked: Vec<_> = logs
        .iter()
        .filter(|l| l["fields"]["fault_injected"] == json!(true))
        .collect();
    assert_eq!(marked.len(), 1, "one fault_injected line: {logs:?}");
    assert!(marked[0].to_string().contains(r#""fault_injected":true"#));
    assert_eq!(marked[0]["fields"]["fault_mode"], "exception");
}

#[test]
fn exception_uses_fault_message_and_reports_its_error_type() {
    let mut h = Harness::new(&[
        ("FAULT_MODE", "exception"),
        ("FAULT_MESSAGE", "card processor unreachable"),
    ]);
    let error = paused_runtime().block_on(h.invoke(event())).unwrap_err();
    let diagnostic = lambda_runtime::Diagnostic::from(error);
    assert_eq!(diagnostic.error_message, "card processor unreachable");
    assert_eq!(diagnostic.error_type, "InjectedFault");
}

#[test]
fn status_answers_the_configured_status_as_a_handled_response() {
    let mut h = Harness::new(&[("FAULT_MODE", "status"), ("FAULT_STATUS", "503")]);
    let answer = paused_runtime()
        .block_on(h.invoke(event()))
        .expect("handled, not an error");
    assert_eq!(answer.status_code, 503);
    assert_eq!(
        body_json(&answer),
        json!({ "message": "Simulated test service failure" })
    );
    assert_eq!(h.calls(), 0);
    let record = only_record(&h);
    assert_eq!(
        (record["Faults"].clone(), record["FaultsInjected"].clone()),
        (json!(0), json!(1))
    );
}

#[test]
fn latency_delays_the_answer_by_the_configured_time() {
    let rt = paused_runtime();
    let mut slow = Harness::new(&[("FAULT_MODE", "latency"), ("FAULT_LATENCY_MS", "1500")]);
    let mut fast = Harness::new(&[]);
    let (slow_elapsed, fast_elapsed) = rt.block_on(async {
        let start = Instant::now();
        let answer = slow.invoke(event()).await.unwrap();
        assert_eq!(answer.status_code, 200, "the handler still answers");
        let slow_elapsed = start.elapsed();
        let start = Instant::now();
        fast.invoke(event()).await.unwrap();
        (slow_elapsed, start.elapsed())
    });
    assert_eq!(slow_elapsed, Duration::from_millis(1500));
    assert_eq!(fast_elapsed, Duration::ZERO);
    assert_eq!(slow.calls(), 1);
    let record = only_record(&slow);
    assert_eq!(record["Latency"], json!(1500.0));
    assert_eq!(
        (record["Faults"].clone(), record["FaultsInjected"].clone()),
        (json!(0), json!(1))
    );
}

#[test]
fn timeout_is_still_running_at_the_deadline_and_ends_past_it() {
    let rt = paused_runtime();
    let mut h = Harness::new(&[("FAULT_MODE", "timeout")]);
    let mut ev = event();
    let budget = Duration::from_secs(3);
    ev.context.deadline = epoch_ms(NOW) + budget.as_millis() as u64;
    let (at_deadline, elapsed, result) = rt.block_on(async {
        let start = Instant::now();
        let mut call = Box::pin(h.invoke(ev));
        let at_deadline = tokio::time::timeout(budget, &mut call).await.is_err();
        let result = call.await;
        (at_deadline, start.elapsed(), result)
    });
    assert!(
        at_deadline,
        "the invocation must still be running when the deadline passes"
    );
    assert_eq!(elapsed, budget + TIMEOUT_OVERSHOOT);
    assert!(matches!(result, Err(FunctionError::TimedOut)), "{result:?}");
    assert_eq!(h.calls(), 0);
    assert_eq!(only_record(&h)["FaultsInjected"], json!(1));
}

#[test]
fn timeout_without_a_deadline_outlasts_any_lambda_timeout() {
    let rt = paused_runtime();
    let mut h = Harness::new(&[("FAULT_MODE", "timeout")]);
    let elapsed = rt.block_on(async {
        let start = Instant::now();
        let _ = h.invoke(event()).await;
        start.elapsed()
    });
    assert!(elapsed > Duration::from_secs(900), "{elapsed:?}");
}

#[test]
fn a_failing_handler_is_counted_as_a_fault_but_not_as_injected() {
    let mut h = Harness::with_handler(&[], |_| Err("database unreachable".to_owned()));
    let result = paused_runtime().block_on(h.invoke(event()));
    assert!(
        matches!(&result, Err(FunctionError::Handler(m)) if m == "database unreachable"),
        "{result:?}"
    );
    let record = only_record(&h);
    assert_eq!(
        (record["Faults"].clone(), record["FaultsInjected"].clone()),
        (json!(1), json!(0))
    );
}

/// Which of `n` invocations fail under `vars`.
fn affected(vars: &[(&str, &str)], n: usize) -> Vec<bool> {
    let rt = paused_runtime();
    let mut h = Harness::new(vars);
    let outcomes = (0..n)
        .map(|_| rt.block_on(h.invoke(event())).is_err())
        .collect::<Vec<_>>();
    let injected = h
        .sink
        .records()
        .iter()
        .filter(|r| r["FaultsInjected"] == json!(1))
        .count();
    assert_eq!(
        injected,
        outcomes.iter().filter(|&&a| a).count(),
        "every affected invocation is counted"
    );
    outcomes
}

#[test]
fn rate_with_a_seed_affects_a_reproducible_share() {
    let vars = [
        ("FAULT_MODE", "exception"),
        ("FAULT_RATE", "0.3"),
        ("FAULT_SEED", "42"),
    ];
    let first = affected(&vars, 2000);
    let share = first.iter().filter(|&&a| a).count() as f64 / first.len() as f64;
    // 2000 draws at p = 0.3: the standard deviation of the share is about 0.01.
    assert!((0.25..=0.35).contains(&share), "share {share}");
    assert_eq!(
        affected(&vars, 2000),
        first,
        "the same seed gives the same invocations"
    );
    let other = affected(
        &[
            ("FAULT_MODE", "exception"),
            ("FAULT_RATE", "0.3"),
            ("FAULT_SEED", "43"),
        ],
        2000,
    );
    assert_ne!(other, first, "another seed gives another sequence");
}

#[test]
fn rate_zero_affects_nothing_and_rate_one_everything() {
    assert!(affected(&[("FAULT_MODE", "exception"), ("FAULT_RATE", "0")], 200)
        .iter()
        .all(|&a| !a));
    assert!(
        affected(&[("FAULT_MODE", "exception"), ("FAULT_RATE", "1.0")], 200)
            .iter()
            .all(|&a| a)
    );
}

#[test]
fn an_expired_fault_is_ignored_with_a_single_warning() {
    let vars = [
        ("FAULT_MODE", "exception"),
        ("FAULT_EXPIRES_AT", "2026-11-25T13:59:59Z"),
    ];
    let ok = |_: LambdaEvent<Value>| Ok(service_kit::response::json(200, &json!({})));
    let mut h = Harness::at(&vars, NOW, ok);
    let (results, logs) = capture_json_logs(|| {
        let rt = paused_runtime();
        (0..3)
            .map(|_| rt.block_on(h.invoke(event())).is_ok())
            .collect::<Vec<_>>()
    });
    assert_eq!(results, [true, true, true]);
    assert_eq!(h.calls(), 3);
    let warnings: Vec<_> = logs
        .iter()
        .filter(|l| {
            l["fields"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("FAULT_EXPIRES_AT"))
        })
        .collect();
    assert_eq!(warnings.len(), 1, "{logs:?}");
    assert_eq!(warnings[0]["level"], "WARN");
    assert!(h.sink.records().iter().all(|r| r["FaultsInjected"] == json!(0)));
}

#[test]
fn a_fault_before_its_expiry_still_applies() {
    let vars = [
        ("FAULT_MODE", "exception"),
        ("FAULT_EXPIRES_AT", "2026-11-25T14:00:01Z"),
    ];
    let mut h = Harness::at(&vars, datetime!(2026-11-25 14:00:00 UTC), |_| {
        unreachable!("the fault applies")
    });
    assert!(paused_runtime().block_on(h.invoke(event())).is_err());
}
