//! The real `auth` binary against a minimal local Runtime API: its wiring (tracing, the kit's
//! layer, the runtime loop) answers a real event and writes its EMF record.

use std::path::Path;

use serde_json::json;
use service_kit::testing::process::invoke_healthy;
use service_kit::testing::GET_JWT;

#[test]
fn a_real_event_gets_the_healthy_answer_and_one_emf_record() {
    let seen = invoke_healthy(
        Path::new(env!("CARGO_BIN_EXE_auth")),
        "dev-auth",
        GET_JWT,
        "req-1",
    );
    assert_eq!(seen.body["service"], "auth-service");
    assert_eq!(seen.emf["Service"], "dev-auth");
    assert_eq!(
        (seen.emf["Requests"].clone(), seen.emf["Faults"].clone()),
        (json!(1), json!(0))
    );
}
