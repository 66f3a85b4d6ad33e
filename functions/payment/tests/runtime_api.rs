//! The real `payment` binary against a minimal local Runtime API: a normal invocation, the
//! injected exception, the injected panic (the process aborts), the injected timeout, and a bad
//! FAULT_* value (init fails, naming the variable). The binary is the debug build, whose panic
//! strategy is `unwind`: the abort must not depend on the release profile.

use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use service_kit::testing::process::{invoke_healthy, FunctionProcess};
use service_kit::testing::runtime_api::{QueuedEvent, RuntimeApi};
use service_kit::testing::{GET_IAM, HTTP_API_GETS};

const WAIT: Duration = Duration::from_secs(30);

fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_payment"))
}

fn epoch_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn queue(api: &RuntimeApi, request_id: &str, budget: Duration) {
    api.push(QueuedEvent {
        request_id: request_id.to_owned(),
        deadline_ms: epoch_ms() + budget.as_millis() as u64,
        body: GET_IAM.to_owned(),
    });
}

fn emf_record(process: &FunctionProcess, request_id: &str) -> Value {
    let id = format!(r#""requestId":"{request_id}""#);
    process.wait_for_stdout(WAIT, |l| l.contains("\"_aws\"") && l.contains(&id));
    let records: Vec<Value> = process
        .json_lines()
        .into_iter()
        .filter(|l| l.get("_aws").is_some() && l["requestId"] == request_id)
        .collect();
    assert_eq!(
        records.len(),
        1,
        "one EMF record for {request_id} in {:?}",
        process.stdout()
    );
    records.into_iter().next().unwrap()
}

#[test]
fn a_healthy_invocation_answers_200_and_writes_its_emf_record() {
    let seen = invoke_healthy(binary(), "dev-payment-fixed", GET_IAM, "req-ok");
    assert_eq!(seen.body["message"], "payment service reachable");
    assert_eq!(
        (seen.emf["Service"].clone(), seen.emf["Faults"].clone()),
        (json!("dev-payment-fixed"), json!(0))
    );
}

#[test]
fn the_broken_pay_route_fails_unhandled_with_the_simulated_failure() {
    let api = RuntimeApi::start().unwrap();
    let process = FunctionProcess::start(binary(), "dev-payment", &api, &[("FAULT_MODE", "exception")]);
    queue(&api, "req-err", Duration::from_secs(3));
    let error = api
        .wait_for("/invocation/req-err/error", WAIT)
        .expect("an error is posted");
    let body: Value = serde_json::from_str(&error.body).unwrap();
    assert_eq!(body["errorMessage"], "Simulated payment service failure");
    assert_eq!(body["errorType"], "InjectedFault");
    // The record is flushed before the error goes back to the runtime.
    let record = emf_record(&process, "req-err");
    assert_eq!(
        (record["Faults"].clone(), record["FaultsInjected"].clone()),
        (json!(1), json!(1))
    );
    process.wait_for_stdout(WAIT, |l| l.contains(r#""fault_injected":true"#));
    let marked: Vec<Value> = process
        .json_lines()
        .into_iter()
        .filter(|l| l["fields"]["fault_injected"] == json!(true))
        .collect();
    assert_eq!(marked.len(), 1, "{:?}", process.stdout());
    assert_eq!(
        marked[0]["span"]["requestId"], "req-err",
        "log lines carry the request id: {}",
        marked[0]
    );
}

#[test]
fn every_log_line_of_an_invocation_names_its_request() {
    let api = RuntimeApi::start().unwrap();
    let process = FunctionProcess::start(
        binary(),
        "dev-payment",
        &api,
        &[
            ("FAULT_MODE", "latency"),
            ("FAULT_LATENCY_MS", "1"),
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
        ],
    );
    for (i, event) in HTTP_API_GETS.iter().enumerate() {
        let id = format!("req-{i}");
        api.push(QueuedEvent {
            request_id: id.clone(),
            deadline_ms: epoch_ms() + 3000,
            body: event.to_string(),
        });
        api.wait_for(&format!("/invocation/{id}/response"), WAIT)
            .expect("a response is posted");
    }
    let last = format!("req-{}", HTTP_API_GETS.len() - 1);
    process.wait_for_stdout(WAIT, |l| l.contains(r#""_aws""#) && l.contains(&last));
    let marked: Vec<String> = process
        .json_lines()
        .iter()
        .filter(|l| l["fields"]["fault_injected"] == json!(true))
        .map(|l| l["span"]["requestId"].as_str().unwrap_or("<none>").to_owned())
        .collect();
    let expected: Vec<String> = (0..HTTP_API_GETS.len()).map(|i| format!("req-{i}")).collect();
    assert_eq!(
        marked, expected,
        "each invocation's fault line names that invocation"
    );
    // Lines without a span are the runtime's own, between invocations (polling for the next one).
    let in_invocation: Vec<Value> = process
        .json_lines()
        .into_iter()
        .filter(|l| l.get("_aws").is_none() && l.get("span").is_some())
        .collect();
    assert!(
        in_invocation.len() >= HTTP_API_GETS.len(),
        "{:?}",
        process.stdout()
    );
    for line in in_invocation {
        let id = line["span"]["requestId"].as_str().unwrap_or_default();
        assert!(id.starts_with("req-"), "{line}");
    }
}

#[test]
fn text_logs_name_the_request_and_carry_no_colour_codes() {
    let api = RuntimeApi::start().unwrap();
    let process = FunctionProcess::start(
        binary(),
        "dev-payment",
        &api,
        &[
            ("AWS_LAMBDA_LOG_FORMAT", "Text"),
            ("FAULT_MODE", "status"),
            ("FAULT_STATUS", "503"),
        ],
    );
    queue(&api, "req-text", Duration::from_secs(3));
    api.wait_for("/invocation/req-text/response", WAIT)
        .expect("a response is posted");
    assert!(
        process.wait_for_stdout(WAIT, |l| l.contains("fault_injected=true")),
        "{:?}",
        process.stdout()
    );
    let line = process
        .stdout()
        .into_iter()
        .find(|l| l.contains("fault_injected=true"))
        .unwrap();
    assert!(line.contains(r#"requestId="req-text""#), "{line}");
    assert!(
        process.stdout().iter().all(|l| !l.contains('\u{1b}')),
        "{:?}",
        process.stdout()
    );
}

#[test]
fn panic_mode_aborts_the_process_whatever_the_build_profile() {
    use std::os::unix::process::ExitStatusExt;
    let api = RuntimeApi::start().unwrap();
    let mut process = FunctionProcess::start(binary(), "dev-payment", &api, &[("FAULT_MODE", "panic")]);
    queue(&api, "req-crash", Duration::from_secs(3));
    let status = process.wait_exit(WAIT).expect("the process ends");
    assert_eq!(status.signal(), Some(6), "killed by SIGABRT, got {status:?}");
    let answers: Vec<_> = api
        .received()
        .into_iter()
        .filter(|r| r.path.contains("req-crash"))
        .collect();
    assert!(
        answers.is_empty(),
        "a crashed invocation answers nothing: {answers:?}"
    );
    assert_eq!(emf_record(&process, "req-crash")["FaultsInjected"], json!(1));
}

#[test]
fn timeout_mode_answers_nothing_before_the_deadline() {
    let api = RuntimeApi::start().unwrap();
    let _process = FunctionProcess::start(binary(), "dev-payment", &api, &[("FAULT_MODE", "timeout")]);
    let budget = Duration::from_millis(300);
    let queued = Instant::now();
    queue(&api, "req-slow", budget);
    // The local API does not stop the process at the deadline as Lambda does, so the function
    // eventually reports the timeout itself; what matters is that it is after the deadline.
    let error = api
        .wait_for("/invocation/req-slow/error", WAIT)
        .expect("an error after the deadline");
    assert!(
        error.at.duration_since(queued) > budget,
        "answered {:?} after queueing",
        error.at.duration_since(queued)
    );
    let body: Value = serde_json::from_str(&error.body).unwrap();
    assert_eq!(body["errorType"], "InjectedTimeout");
    assert!(api
        .received()
        .iter()
        .all(|r| !r.path.ends_with("/invocation/req-slow/response")));
}

#[test]
fn a_bad_fault_variable_fails_init_naming_the_variable_and_value() {
    let api = RuntimeApi::start().unwrap();
    let mut process = FunctionProcess::start(binary(), "dev-payment", &api, &[("FAULT_MODE", "explode")]);
    let status = process.wait_exit(WAIT).expect("the process ends");
    assert_eq!(status.code(), Some(1), "{status:?}");
    let init_error = api
        .wait_for("/runtime/init/error", WAIT)
        .expect("the init error is reported");
    let body: Value = serde_json::from_str(&init_error.body).unwrap();
    let message = body["errorMessage"].as_str().unwrap();
    assert!(
        message.contains(r#"FAULT_MODE="explode" is invalid"#),
        "{message}"
    );
    assert_eq!(
        init_error.header("lambda-runtime-function-error-type"),
        Some("Runtime.InitError")
    );
    assert!(
        process
            .stderr()
            .iter()
            .any(|l| l.contains(r#"FAULT_MODE="explode" is invalid"#)),
        "{:?}",
        process.stderr()
    );
    assert!(
        api.received().iter().all(|r| !r.path.contains("/invocation/")),
        "no invocation after a failed init"
    );
}

#[test]
fn init_fails_without_a_function_name_saying_so() {
    let api = RuntimeApi::start().unwrap();
    let mut process =
        FunctionProcess::start(binary(), "dev-payment", &api, &[("AWS_LAMBDA_FUNCTION_NAME", "")]);
    assert_eq!(process.wait_exit(WAIT).and_then(|s| s.code()), Some(1));
    let init_error = api
        .wait_for("/runtime/init/error", WAIT)
        .expect("the init error is reported");
    assert!(
        init_error.body.contains("AWS_LAMBDA_FUNCTION_NAME is not set"),
        "{}",
        init_error.body
    );
}

#[test]
fn a_bad_fault_variable_still_stops_the_process_when_the_runtime_api_is_unreachable() {
    let api = RuntimeApi::start().unwrap();
    // Port 1 on loopback: nothing listens there, so the init error report is refused.
    let mut process = FunctionProcess::start(
        binary(),
        "dev-payment",
        &api,
        &[("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:1"), ("FAULT_RATE", "2")],
    );
    assert_eq!(process.wait_exit(WAIT).and_then(|s| s.code()), Some(1));
    let stderr = process.stderr().join("\n");
    assert!(stderr.contains(r#"FAULT_RATE="2" is invalid"#), "{stderr}");
    assert!(stderr.contains("could not report the init error"), "{stderr}");
}
