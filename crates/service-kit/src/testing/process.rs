//! A function binary running as a real process against a [`RuntimeApi`](super::runtime_api::RuntimeApi),
//! with the environment Lambda gives it. The process is killed when this is dropped.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::runtime_api::RuntimeApi;

pub struct FunctionProcess {
    child: Child,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl FunctionProcess {
    /// Starts `binary` as function `function_name` with JSON logs and the extra `vars`; the
    /// environment is otherwise empty, as on Lambda.
    pub fn start(binary: &Path, function_name: &str, api: &RuntimeApi, vars: &[(&str, &str)]) -> Self {
        let mut command = Command::new(binary);
        command
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", api.address())
            .env("AWS_LAMBDA_FUNCTION_NAME", function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_LOG_LEVEL", "INFO")
            .envs(vars.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let stdout = collect_lines(child.stdout.take());
        let stderr = collect_lines(child.stderr.take());
        FunctionProcess {
            child,
            stdout,
            stderr,
        }
    }

    /// The exit status, if the process ends within `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the reader threads drain what the process wrote last.
                thread::sleep(Duration::from_millis(50));
                return Some(status);
            }
            thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Waits up to `limit` until a stdout line satisfies `wanted`: the reader threads may still
    /// be behind what the process has already written.
    pub fn wait_for_stdout(&self, limit: Duration, wanted: impl Fn(&str) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.stdout().iter().any(|l| wanted(l)) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().map(|l| l.clone()).unwrap_or_default()
    }

    pub fn stderr(&self) -> Vec<String> {
        self.stderr.lock().map(|l| l.clone()).unwrap_or_default()
    }

    /// Stdout lines that are JSON objects: log lines and EMF records.
    pub fn json_lines(&self) -> Vec<serde_json::Value> {
        self.stdout()
            .iter()
            .filter_map(|l| serde_json::from_str(l).ok())
            .filter(|v: &serde_json::Value| v.is_object())
            .collect()
    }
}

impl Drop for FunctionProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn collect_lines(stream: Option<impl Read + Send + 'static>) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    if let Some(stream) = stream {
        let sink = lines.clone();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if let Ok(mut lines) = sink.lock() {
                    lines.push(line);
                }
            }
        });
    }
    lines
}

/// A healthy invocation of a real function binary, seen from outside: the answer's body and
/// the one EMF record the invocation wrote.
pub struct Invocation {
    pub body: serde_json::Value,
    pub emf: serde_json::Value,
}

/// Runs `binary` as `function_name` against a fresh Runtime API, sends it `event` as request
/// `request_id` with a 3 s deadline, checks that it answers 200 and writes exactly one EMF
/// record for that request, and returns both. Shared by every function's wiring test.
pub fn invoke_healthy(binary: &Path, function_name: &str, event: &str, request_id: &str) -> Invocation {
    const WAIT: Duration = Duration::from_secs(30);
    let api = RuntimeApi::start().expect("the local Runtime API starts");
    let process = FunctionProcess::start(binary, function_name, &api, &[]);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_millis() as u64;
    api.push(super::runtime_api::QueuedEvent {
        request_id: request_id.to_owned(),
        deadline_ms: now_ms + 3000,
        body: event.to_owned(),
    });
    let response = api
        .wait_for(&format!("/invocation/{request_id}/response"), WAIT)
        .unwrap_or_else(|| panic!("no response posted; stderr: {:?}", process.stderr()));
    let response: serde_json::Value = serde_json::from_str(&response.body).expect("the response is JSON");
    assert_eq!(response["statusCode"], 200, "{response}");
    let body = serde_json::from_str(response["body"].as_str().expect("the body is a string"))
        .expect("the body is JSON");

    let id = format!(r#""requestId":"{request_id}""#);
    process.wait_for_stdout(WAIT, |l| l.contains("\"_aws\"") && l.contains(&id));
    let mut records: Vec<serde_json::Value> = process
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
    Invocation {
        body,
        emf: records.remove(0),
    }
}
