//! Prints what a stage file resolves to (function names, routes, log groups, alarms) as JSON,
//! for the checks that compare Terraform with the lab. Usage: `resolve <stage-file> [api-id]`.

use std::path::Path;

use outage_config::Stage;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: resolve <stage-file> [api-id]");
        std::process::exit(2);
    };
    let api_id = args.next().unwrap_or_else(|| "API_ID".to_owned());
    let stage = Stage::load(Path::new(&path)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1);
    });
    let functions: serde_json::Map<String, serde_json::Value> = stage
        .functions
        .iter()
        .map(|(key, f)| {
            let resolved = serde_json::json!({
                "function_name": stage.function_name(key),
                "log_group": stage.log_group(key),
                "code": f.code,
                "memory_mb": f.memory_mb,
                "timeout_s": f.timeout_s,
                "reserved_concurrency": f.reserved_concurrency,
                "fault_vars": stage.fault_vars(key),
            });
            (key.clone(), resolved)
        })
        .collect();
    let out = serde_json::json!({
        "stage": stage.stage,
        "api_name": stage.api_name(),
        "alarm_topic_name": stage.alarm_topic_name(),
        "known_broken_topic_name": stage.known_broken_topic_name(),
        "functions": functions,
        "routes": stage.routes,
        "alarms": stage.alarm_definitions(&api_id),
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&out).expect("JSON values serialise")
    );
}
