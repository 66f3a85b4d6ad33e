//! One execution environment: a process of the function binary with its own Runtime API
//! endpoint (`AWS_LAMBDA_RUNTIME_API` is a bare host:port, so a private loopback listener per
//! environment is what tells environments apart), its log stream, and a supervisor that notices
//! when the process ends.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use time::OffsetDateTime;
use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{oneshot, Notify};

use super::report::describe_exit;
use super::Outcome;
use crate::ids;
use crate::logs::LogStore;

/// The `PATH` Lambda gives a function on Amazon Linux; the lab's own environment is never passed on.
const LAMBDA_PATH: &str = "/usr/local/bin:/usr/bin:/bin:/opt/bin";

/// The admin API's view of an environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Started, not yet asked for its first event (initialising).
    Cold = 0,
    /// Initialised and waiting for an event.
    Warm = 1,
    /// Handling an event.
    Busy = 2,
}

impl Phase {
    pub fn name(self) -> &'static str {
        match self {
            Phase::Cold => "cold",
            Phase::Warm => "warm",
            Phase::Busy => "busy",
        }
    }

    /// The admin API's name for the phase.
    pub fn state(self) -> lab_admin_api::EnvironmentState {
        match self {
            Phase::Cold => lab_admin_api::EnvironmentState::Cold,
            Phase::Warm => lab_admin_api::EnvironmentState::Warm,
            Phase::Busy => lab_admin_api::EnvironmentState::Busy,
        }
    }
}

/// An event on its way to an environment.
pub struct Invocation {
    pub request_id: Arc<str>,
    pub payload: Bytes,
    /// Told the instant the runtime receives the event, which starts the function's timeout.
    pub delivered: oneshot::Sender<Instant>,
    pub reply: oneshot::Sender<Outcome>,
}

/// The invocation the runtime is working on.
pub(crate) struct Current {
    pub request_id: Arc<str>,
    pub reply: oneshot::Sender<Outcome>,
}

/// Receives a line a function printed, with its epoch milliseconds.
pub type LineSink = Arc<dyn Fn(&str, i64) + Send + Sync>;

/// Static facts every environment of a function shares.
pub struct FunctionIdentity {
    pub key: Arc<str>,
    pub function_name: String,
    pub function_arn: String,
    pub log_group: String,
    pub memory_mb: u32,
    pub timeout: Duration,
    pub region: String,
}

pub struct Env {
    pub id: String,
    pub stream: Arc<str>,
    /// The configuration revision this environment was started with.
    pub revision: u64,
    pub revision_id: String,
    /// The version it runs (`$LATEST`, `3`): START lines name it.
    pub version: Arc<str>,
    pub started_at: OffsetDateTime,
    pub(crate) spawned: Instant,
    pub(crate) identity: Arc<FunctionIdentity>,
    pub(crate) logs: Arc<LogStore>,
    pub pid: Option<u32>,
    phase: AtomicU8,
    pub(crate) invocations: AtomicU64,
    /// The one event waiting for the runtime's next `/next`; the pool gives an environment one
    /// event at a time, so a slot is enough.
    pending: Mutex<Option<Invocation>>,
    pending_ready: Notify,
    pub(crate) current: Mutex<Option<Current>>,
    pub(crate) init_duration: OnceLock<Duration>,
    pub(crate) init_error: Mutex<Option<(String, String)>>,
    alive: AtomicBool,
    /// Set when the pool has stopped counting this environment (retired or dead).
    pub(crate) released: AtomicBool,
    kill: Notify,
    pub(crate) max_memory_mb: AtomicU64,
    memory_read_at_ms: AtomicI64,
}

/// Everything needed to start one environment.
pub struct SpawnSpec<'a> {
    pub binary: &'a Path,
    pub identity: Arc<FunctionIdentity>,
    pub variables: &'a BTreeMap<String, String>,
    pub revision: u64,
    pub revision_id: &'a str,
    /// `$LATEST` or the published version's number.
    pub version: &'a str,
    pub logs: Arc<LogStore>,
    /// Receives every stdout line (for Embedded Metric Format extraction) with its epoch ms.
    pub on_stdout: LineSink,
}

pub fn epoch_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

impl Env {
    /// Starts the process and its Runtime API endpoint. `on_exit` runs once the process has
    /// ended and every waiting invocation has been answered.
    pub fn spawn(
        spec: SpawnSpec<'_>,
        on_exit: impl FnOnce(&Arc<Env>) + Send + 'static,
    ) -> std::io::Result<Arc<Env>> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let api_addr = listener.local_addr()?;
        let listener = tokio::net::TcpListener::from_std(listener)?;

        let now = OffsetDateTime::now_utc();
        let stream: Arc<str> = ids::log_stream_name(now, spec.version).into();
        let id = ids::environment_id();
        let identity = spec.identity;

        let mut cmd = Command::new(spec.binary);
        cmd.env_clear()
            .envs(spec.variables)
            .env("PATH", LAMBDA_PATH)
            .env("TZ", ":UTC")
            .env("LANG", "en_US.UTF-8")
            .env("AWS_REGION", &identity.region)
            .env("AWS_DEFAULT_REGION", &identity.region)
            .env("AWS_LAMBDA_FUNCTION_NAME", &identity.function_name)
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", identity.memory_mb.to_string())
            .env("AWS_LAMBDA_FUNCTION_VERSION", spec.version)
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &identity.log_group)
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &*stream)
            .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
            .env("AWS_LAMBDA_RUNTIME_API", api_addr.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // The lab owns these processes: dropping the handle (lab shutdown, panic) kills them.
            .kill_on_drop(true);
        let spawned = Instant::now();
        let mut child = cmd.spawn()?;

        let env = Arc::new(Env {
            id,
            stream,
            revision: spec.revision,
            revision_id: spec.revision_id.to_owned(),
            version: spec.version.into(),
            started_at: now,
            spawned,
            identity,
            logs: spec.logs,
            pid: child.id(),
            phase: AtomicU8::new(Phase::Cold as u8),
            invocations: AtomicU64::new(0),
            pending: Mutex::new(None),
            pending_ready: Notify::new(),
            current: Mutex::new(None),
            init_duration: OnceLock::new(),
            init_error: Mutex::new(None),
            alive: AtomicBool::new(true),
            released: AtomicBool::new(false),
            kill: Notify::new(),
            max_memory_mb: AtomicU64::new(0),
            memory_read_at_ms: AtomicI64::new(0),
        });

        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        tokio::spawn(pump_lines(stdout, env.clone(), Some(spec.on_stdout)));
        tokio::spawn(pump_lines(stderr, env.clone(), None));
        let server = tokio::spawn(super::api::serve(listener, env.clone()));
        tokio::spawn(supervise(env.clone(), child, server, on_exit));
        Ok(env)
    }

    pub fn key(&self) -> &str {
        &self.identity.key
    }

    pub fn phase(&self) -> Phase {
        match self.phase.load(Ordering::Relaxed) {
            0 => Phase::Cold,
            1 => Phase::Warm,
            _ => Phase::Busy,
        }
    }

    pub(crate) fn set_phase(&self, p: Phase) {
        self.phase.store(p as u8, Ordering::Relaxed);
    }

    pub fn is_alive(&self) -> bool {
        self.alive.load(Ordering::SeqCst)
    }

    pub fn invocations(&self) -> u64 {
        self.invocations.load(Ordering::Relaxed)
    }

    /// Asks the supervisor to kill the process (timeouts, retirement, shutdown).
    pub fn kill(&self) {
        self.kill.notify_one();
    }

    /// Hands the environment its next event. If the process died meanwhile, the event is
    /// answered at once with the exit.
    pub fn submit(&self, inv: Invocation) {
        *self.pending.lock().expect("pending lock") = Some(inv);
        self.pending_ready.notify_one();
        if !self.is_alive() {
            if let Some(inv) = self.pending.lock().expect("pending lock").take() {
                let _ = inv.reply.send(Outcome::ExitError {
                    detail: "environment stopped".into(),
                });
            }
        }
    }

    /// Waits for the next event (the runtime's `/next`).
    pub(crate) async fn next_invocation(&self) -> Invocation {
        loop {
            if let Some(inv) = self.pending.lock().expect("pending lock").take() {
                return inv;
            }
            self.pending_ready.notified().await;
        }
    }

    /// The process's peak resident memory (VmHWM) in MB, remembered once the process is gone.
    pub fn read_max_memory_mb(&self) -> u64 {
        // The peak only grows, and reading /proc costs more than the rest of the bookkeeping:
        // look again at most every 250 ms (and always for the first invocation).
        let now_ms = epoch_ms();
        let last = self.memory_read_at_ms.load(Ordering::Relaxed);
        if last != 0 && now_ms - last < 250 {
            return self.max_memory_mb.load(Ordering::Relaxed);
        }
        self.memory_read_at_ms.store(now_ms, Ordering::Relaxed);
        if let Some(pid) = self.pid.filter(|_| self.is_alive()) {
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                if let Some(kb) = status
                    .lines()
                    .find_map(|l| l.strip_prefix("VmHWM:"))
                    .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                {
                    self.max_memory_mb.store(kb.div_ceil(1024), Ordering::Relaxed);
                }
            }
        }
        self.max_memory_mb.load(Ordering::Relaxed)
    }

    pub(crate) fn log(&self, message: String) {
        self.logs
            .append(&self.identity.key, &self.stream, epoch_ms(), message);
    }
}

/// Copies a pipe into the environment's log stream, line by line.
async fn pump_lines(pipe: impl AsyncRead + Unpin, env: Arc<Env>, on_line: Option<LineSink>) {
    let mut reader = BufReader::new(pipe);
    let mut buf = Vec::with_capacity(512);
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.is_empty() {
            continue;
        }
        let ts = epoch_ms();
        if let Some(f) = &on_line {
            f(line, ts);
        }
        env.logs
            .append(&env.identity.key, &env.stream, ts, line.to_owned());
    }
}

/// Waits for the process to end (by itself or killed), then answers whatever was waiting.
async fn supervise(
    env: Arc<Env>,
    mut child: Child,
    server: tokio::task::JoinHandle<()>,
    on_exit: impl FnOnce(&Arc<Env>),
) {
    let status = tokio::select! {
        s = child.wait() => s,
        _ = env.kill.notified() => {
            let _ = child.start_kill();
            child.wait().await
        }
    };
    env.alive.store(false, Ordering::SeqCst);
    server.abort();
    let detail = status
        .map(describe_exit)
        .unwrap_or_else(|e| format!("wait failed: {e}"));
    let init_error = env.init_error.lock().expect("init error lock").take();
    let initialised = env.init_duration.get().is_some();
    let failure = || match (&init_error, initialised) {
        (Some((kind, message)), _) => Outcome::InitError {
            error_type: kind.clone(),
            detail: message.clone(),
        },
        (None, false) => Outcome::InitError {
            error_type: "Runtime.ExitError".into(),
            detail: detail.clone(),
        },
        (None, true) => Outcome::ExitError {
            detail: detail.clone(),
        },
    };
    if let Some(cur) = env.current.lock().expect("current lock").take() {
        let _ = cur.reply.send(failure());
    }
    if let Some(inv) = env.pending.lock().expect("pending lock").take() {
        let _ = inv.reply.send(failure());
    }
    on_exit(&env);
}
