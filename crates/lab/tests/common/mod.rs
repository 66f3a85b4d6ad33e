//! Shared by the end-to-end tests: a lab on a temporary copy of the dev stage, running the real
//! function binaries from the build folder, and small HTTP helpers.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use outage_lab::http::{request, ClientResponse};
use outage_lab::{Lab, LabConfig, LabHandle};
use serde_json::Value;

/// The folder cargo built `outage-lab` into; `cargo build --workspace --bins` puts the
/// function binaries beside it.
pub fn bin_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_BIN_EXE_outage-lab"))
        .parent()
        .unwrap()
        .to_path_buf();
    for code in outage_config::KNOWN_CODES {
        assert!(
            dir.join(code).is_file(),
            "function binary {} is missing: run `cargo build --workspace --bins` before these tests",
            dir.join(code).display()
        );
    }
    dir
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A project root in a temporary folder holding `environments/dev/terraform.tfvars.json`,
/// the committed dev stage after `edit`.
pub fn stage_root(edit: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let text = std::fs::read_to_string(repo_root().join("environments/dev/terraform.tfvars.json")).unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    edit(&mut v);
    let dir = tempfile::tempdir().unwrap();
    let stage_dir = dir.path().join("environments/dev");
    std::fs::create_dir_all(&stage_dir).unwrap();
    std::fs::write(
        stage_dir.join("terraform.tfvars.json"),
        serde_json::to_string_pretty(&v).unwrap(),
    )
    .unwrap();
    // The scenario catalogue, as `outage-lab drill` finds it under the project root.
    let scenarios = dir.path().join("scenarios");
    std::fs::create_dir_all(&scenarios).unwrap();
    for entry in std::fs::read_dir(repo_root().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, scenarios.join(path.file_name().unwrap())).unwrap();
        }
    }
    dir
}

pub struct TestLab {
    pub lab: LabHandle,
    pub root: tempfile::TempDir,
}

/// A lab whose metric data shows at once: for tests of what is counted and answered. Tests of
/// alarms and of timing use [`start_with`] and the delays `outage-lab up` runs with.
pub async fn start(edit: impl FnOnce(&mut Value)) -> TestLab {
    start_with(edit, outage_config::MetricDelays::NONE).await
}

pub async fn start_with(
    edit: impl FnOnce(&mut Value),
    metric_delays: outage_config::MetricDelays,
) -> TestLab {
    let root = stage_root(edit);
    let config = LabConfig {
        root: root.path().to_path_buf(),
        stage: "dev".into(),
        port: 0,
        admin_port: 0,
        bin_dir: bin_dir(),
        run_dir: None,
        console: false,
        metric_delays,
        reserved_concurrency: Default::default(),
    };
    let lab = Lab::start(config).await.expect("the lab starts");
    TestLab { lab, root }
}

impl TestLab {
    pub async fn get(&self, path: &str) -> ClientResponse {
        request(
            "GET",
            &format!("{}{path}", self.lab.gateway_url),
            &[],
            Bytes::new(),
        )
        .await
        .unwrap()
    }

    pub async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> ClientResponse {
        let auth = format!("Bearer {}", self.lab.token);
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        request(
            method,
            &format!("{}{path}", self.lab.admin_url),
            &[("authorization", &auth)],
            body,
        )
        .await
        .unwrap()
    }

    pub async fn admin_json(&self, path: &str) -> Value {
        let r = self.admin("GET", path, None).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.json().unwrap()
    }

    /// Replaces a function's variables through the admin API, as UpdateFunctionConfiguration would.
    pub async fn set_variables(&self, key: &str, vars: Value) -> Value {
        let r = self
            .admin(
                "PUT",
                &format!("/functions/{key}/configuration"),
                Some(serde_json::json!({ "Variables": vars })),
            )
            .await;
        assert_eq!(r.status, 200, "PUT configuration: {}", r.text());
        let config = r.json().unwrap();
        self.serve_latest(key).await;
        config
    }

    /// Publishes `$LATEST` and points `live` at it: the API invokes the alias, so a change
    /// reaches clients only this way. Returns the version.
    pub async fn serve_latest(&self, key: &str) -> String {
        let r = self
            .admin(
                "POST",
                &format!("/functions/{key}/versions"),
                Some(serde_json::json!({})),
            )
            .await;
        assert_eq!(r.status, 200, "POST versions: {}", r.text());
        let version = r.json().unwrap()["Version"].as_str().unwrap().to_owned();
        let r = self
            .admin(
                "PUT",
                &format!("/functions/{key}/aliases/live"),
                Some(serde_json::json!({ "FunctionVersion": version, "RoutingConfig": { "AdditionalVersionWeights": {} } })),
            )
            .await;
        assert_eq!(r.status, 200, "PUT alias: {}", r.text());
        version
    }

    /// The Sum of a metric over the last hour (every datapoint added up).
    pub async fn metric_sum(&self, namespace: &str, metric: &str, dims: &[(&str, &str)]) -> f64 {
        self.metric(namespace, metric, dims, "Sum").await.iter().sum()
    }

    pub async fn metric(&self, namespace: &str, metric: &str, dims: &[(&str, &str)], stat: &str) -> Vec<f64> {
        let mut path = format!(
            "/metrics?namespace={}&metric={metric}&period=60&stat={stat}",
            namespace.replace('/', "%2F")
        );
        for (k, v) in dims {
            path.push_str(&format!("&dim.{k}={}", v.replace('$', "%24")));
        }
        let v = self.admin_json(&path).await;
        v["datapoints"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["value"].as_f64().unwrap())
            .collect()
    }

    pub fn api_dims(&self) -> [(&str, &str); 2] {
        [("ApiId", self.lab.api_id.as_str()), ("Stage", "$default")]
    }

    /// A function's log messages (the admin API's `/logs/{key}`).
    pub async fn log_messages(&self, key: &str) -> Vec<Value> {
        self.admin_json(&format!("/logs/{key}"))
            .await
            .as_array()
            .unwrap()
            .clone()
    }

    pub async fn stop(self) {
        self.lab.shutdown().await;
    }
}

pub fn messages(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls `check` every 200 ms until it returns `Some`, or fails after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Whether a process runs: a reaped process has no /proc entry, and a zombie (not yet reaped by
/// anyone) counts as gone.
pub fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| !s.contains(") Z "))
}

/// The process ids of `pid`'s children (every thread's `children` list).
pub fn child_pids(pid: u32) -> Vec<u64> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flat_map(|t| {
            std::fs::read_to_string(t.unwrap().path().join("children"))
                .unwrap_or_default()
                .split_whitespace()
                .map(|p| p.parse().unwrap())
                .collect::<Vec<u64>>()
        })
        .collect()
}
