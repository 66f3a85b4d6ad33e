//! The committed JSON Schema is the one the Rust types generate.

use std::path::Path;

#[test]
fn committed_schema_matches_the_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios/scenario.schema.json");
    let generated = outage_scenario::schema_json();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "scenarios/scenario.schema.json is not what the types in crates/scenario generate; \
         regenerate it with `UPDATE_SCHEMA=1 cargo test -p outage-scenario --test schema` and commit it"
    );
}

#[test]
fn schema_refuses_unknown_fields_and_lists_the_enumerations() {
    let schema = serde_json::to_value(outage_scenario::schema()).unwrap();
    assert_eq!(schema["additionalProperties"], false);
    let required: Vec<&str> = schema["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(required, ["title", "lesson", "runbook", "function"]);
    let text = schema.to_string();
    // TOML has no null: an optional key is one left out.
    assert!(!text.contains("null"), "{text}");
    for word in [
        "fast-errors",
        "duration-p99",
        "api-5xx",
        "exception",
        "timeout",
        "first-alarm",
    ] {
        assert!(
            text.contains(&format!("\"{word}\"")),
            "{word} missing from the schema"
        );
    }
}
