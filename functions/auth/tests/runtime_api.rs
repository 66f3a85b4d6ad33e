//! The real `auth` binary against a minimal local Runtime API: its wiring (tracing, the kit's
//! layer, the runtime loop) answers a real event and writes its EMF record.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};
use service_kit::testing::process::FunctionProcess;
use service_kit::testing::runtime_api::{QueuedEvent, RuntimeApi};
use service_kit::testing::GET_JWT;

const WAIT: Duration = Duration::from_secs(30);

#[test]
fn a_real_event_gets_the_healthy_answer_and_one_emf_record() {
    let api = RuntimeApi::start().unwrap();
    let process = FunctionProcess::start(Path::new(env!("CARGO_BIN_EXE_auth")), "dev-auth", &api, &[]);
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64;
    api.push(QueuedEvent {
        request_id: "req-1".into(),
        deadline_ms: now_ms + 3000,
        body: GET_JWT.into(),
    });
    let response = api
        .wait_for("/invocation/req-1/response", WAIT)
        .expect("a response is posted");
    let response: Value = serde_json::from_str(&response.body).unwrap();
    assert_eq!(response["statusCode"], 200);
    let body: Value = serde_json::from_str(response["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["service"], "auth-service");
    assert!(
        process.wait_for_stdout(WAIT, |l| l.contains(r#""_aws""#)),
        "{:?}",
        process.stdout()
    );
    let records: Vec<Value> = process
        .json_lines()
        .into_iter()
        .filter(|l| l.get("_aws").is_some())
        .collect();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["Service"], "dev-auth");
    assert_eq!(
        (records[0]["Requests"].clone(), records[0]["Faults"].clone()),
        (json!(1), json!(0))
    );
    assert_eq!(records[0]["requestId"], "req-1");
}
