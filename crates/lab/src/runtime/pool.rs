//! The execution environments of one function: reuse a warm one, start a new one while under
//! the reserved concurrency, throttle otherwise. The lock is held only to pick or register an
//! environment; events travel to environments through their own slots.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lab_admin_api::EnvironmentView;
use tokio::sync::oneshot;

use super::env::{Env, FunctionIdentity, Invocation, Phase, SpawnSpec};
use super::report::{end_line, exit_line, timeout_line, Report, ReportStatus};
use super::{InvokeResult, Outcome};
use crate::logs::LogStore;
use crate::metrics::LabMetrics;

/// Lambda's limit for the init phase of an on-demand environment.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// A function's variables at one revision (Lambda's `Environment.Variables` + `RevisionId`).
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    pub variables: BTreeMap<String, String>,
    pub revision: u64,
    pub revision_id: String,
}

struct PoolState {
    /// Warm environments waiting for an event, most recently used last.
    idle: Vec<Arc<Env>>,
    /// Every environment the pool counts against the reserved concurrency.
    envs: Vec<Arc<Env>>,
    config: Arc<FunctionConfig>,
    /// Lambda's reserved concurrency; `None` = unreserved (the account's limit applies).
    reserved: Option<u32>,
}

/// The concurrency a function without a reservation may use (Lambda's default account limit).
pub const UNRESERVED_LIMIT: usize = 1000;

impl PoolState {
    fn limit(&self) -> usize {
        self.reserved.map_or(UNRESERVED_LIMIT, |n| n as usize)
    }
}

pub struct Pool {
    pub identity: Arc<FunctionIdentity>,
    pub code: String,
    binary: PathBuf,
    logs: Arc<LogStore>,
    metrics: Arc<LabMetrics>,
    state: Mutex<PoolState>,
    busy: AtomicUsize,
    closed: AtomicBool,
    revisions: AtomicU64,
    me: Weak<Pool>,
}

fn revision_id() -> String {
    crate::ids::lambda_request_id()
}

impl Pool {
    pub fn new(
        identity: FunctionIdentity,
        code: String,
        reserved: Option<u32>,
        binary: PathBuf,
        variables: BTreeMap<String, String>,
        logs: Arc<LogStore>,
        metrics: Arc<LabMetrics>,
    ) -> Arc<Pool> {
        let config = Arc::new(FunctionConfig {
            variables,
            revision: 1,
            revision_id: revision_id(),
        });
        Arc::new_cyclic(|me| Pool {
            identity: Arc::new(identity),
            code,
            binary,
            logs,
            metrics,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                envs: Vec::new(),
                config,
                reserved,
            }),
            busy: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            revisions: AtomicU64::new(1),
            me: me.clone(),
        })
    }

    pub fn config(&self) -> Arc<FunctionConfig> {
        self.state.lock().expect("pool lock").config.clone()
    }

    /// Replaces the variables (Lambda's UpdateFunctionConfiguration): idle environments are
    /// retired now, busy ones after their invocation, new ones start with the new variables.
    pub fn update_config(&self, variables: BTreeMap<String, String>) -> Arc<FunctionConfig> {
        let revision = self.revisions.fetch_add(1, Ordering::Relaxed) + 1;
        let config = Arc::new(FunctionConfig {
            variables,
            revision,
            revision_id: revision_id(),
        });
        let idle = {
            let mut st = self.state.lock().expect("pool lock");
            st.config = config.clone();
            std::mem::take(&mut st.idle)
        };
        for env in idle {
            self.retire(&env);
        }
        config
    }

    /// The reserved concurrency (Lambda's `ReservedConcurrentExecutions`), if any.
    pub fn reserved_concurrency(&self) -> Option<u32> {
        self.state.lock().expect("pool lock").reserved
    }

    /// Lambda's PutFunctionConcurrency (`Some`) and DeleteFunctionConcurrency (`None`): the next
    /// invocation already counts against the new limit. Idle environments beyond it are retired;
    /// busy ones finish their invocation.
    pub fn set_reserved_concurrency(&self, reserved: Option<u32>) {
        let excess = {
            let mut st = self.state.lock().expect("pool lock");
            st.reserved = reserved;
            let keep = st.limit();
            let excess = st.idle.len().saturating_sub(keep);
            st.idle.drain(..excess).collect::<Vec<_>>()
        };
        for env in excess {
            self.retire(&env);
        }
    }

    pub fn environments(&self) -> Vec<EnvironmentView> {
        let st = self.state.lock().expect("pool lock");
        st.envs
            .iter()
            .map(|e| EnvironmentView {
                id: e.id.clone(),
                state: e.phase().state(),
                invocations: e.invocations(),
                started_at: crate::time_fmt::rfc3339(e.started_at),
                revision_id: e.revision_id.clone(),
                log_stream: e.stream.to_string(),
                pid: e.pid,
            })
            .collect()
    }

    /// Environments currently counted (starting, warm or busy).
    pub fn live(&self) -> usize {
        self.state.lock().expect("pool lock").envs.len()
    }

    /// Stops counting an environment (it died, timed out or was retired). Idempotent.
    fn forget(&self, env: &Arc<Env>) {
        if env.released.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut st = self.state.lock().expect("pool lock");
        st.envs.retain(|e| !Arc::ptr_eq(e, env));
        st.idle.retain(|e| !Arc::ptr_eq(e, env));
    }

    fn retire(&self, env: &Arc<Env>) {
        self.forget(env);
        env.kill();
    }

    /// A warm environment, or a new one if the reserved concurrency allows; `None` = throttle.
    fn acquire(&self) -> std::io::Result<Option<(Arc<Env>, bool)>> {
        let mut st = self.state.lock().expect("pool lock");
        // Lambda counts concurrent executions, not environments: an idle one beyond a lowered
        // limit is no licence to run.
        if st.envs.len() - st.idle.len() >= st.limit() {
            return Ok(None);
        }
        while let Some(env) = st.idle.pop() {
            if env.is_alive() && env.revision == st.config.revision {
                return Ok(Some((env, false)));
            }
            drop(st);
            self.retire(&env);
            st = self.state.lock().expect("pool lock");
        }
        if self.closed.load(Ordering::SeqCst) || st.envs.len() >= st.limit() {
            return Ok(None);
        }
        let config = st.config.clone();
        let pool = self.me.clone();
        let metrics = self.metrics.clone();
        let spec = SpawnSpec {
            binary: &self.binary,
            identity: self.identity.clone(),
            variables: &config.variables,
            revision: config.revision,
            revision_id: &config.revision_id,
            logs: self.logs.clone(),
            on_stdout: Arc::new(move |line, ts| metrics.emf_line(line, ts)),
        };
        // Spawning under the lock keeps the count exact; it happens once per environment.
        let env = Env::spawn(spec, move |env| {
            if let Some(p) = pool.upgrade() {
                p.forget(env);
            }
        })?;
        st.envs.push(env.clone());
        Ok(Some((env, true)))
    }

    /// Runs one invocation to its end and records it (logs, AWS/Lambda metrics).
    pub async fn invoke(&self, request_id: Arc<str>, payload: Bytes) -> InvokeResult {
        let (env, cold) = match self.acquire() {
            Ok(Some(got)) => got,
            Ok(None) => {
                self.metrics.lambda_throttle(&self.identity.function_name);
                return InvokeResult {
                    outcome: Outcome::Throttled,
                    function_duration: None,
                };
            }
            Err(e) => {
                tracing::error!(function = %self.identity.function_name, binary = %self.binary.display(), "cannot start the function: {e}");
                let outcome = Outcome::InitError {
                    error_type: "Runtime.InvalidEntrypoint".into(),
                    detail: e.to_string(),
                };
                self.metrics.lambda_invocation(
                    &self.identity.function_name,
                    0.0,
                    true,
                    self.busy.load(Ordering::Relaxed),
                );
                return InvokeResult {
                    outcome,
                    function_duration: None,
                };
            }
        };
        let concurrent = self.busy.fetch_add(1, Ordering::Relaxed) + 1;
        env.invocations.fetch_add(1, Ordering::Relaxed);
        let (delivered_tx, delivered_rx) = oneshot::channel();
        let (reply_tx, reply_rx) = oneshot::channel();
        env.submit(Invocation {
            request_id: request_id.clone(),
            payload,
            delivered: delivered_tx,
            reply: reply_tx,
        });

        let (outcome, delivered_at) = self.await_outcome(&env, delivered_rx, reply_rx).await;
        let finished = Instant::now();
        let function_duration = delivered_at.map(|d| match outcome {
            Outcome::Timeout => self.identity.timeout,
            _ => finished - d,
        });
        self.record(&env, cold, &request_id, &outcome, function_duration, concurrent);
        self.busy.fetch_sub(1, Ordering::Relaxed);
        self.release(env, &outcome);
        InvokeResult {
            outcome,
            function_duration,
        }
    }

    async fn await_outcome(
        &self,
        env: &Arc<Env>,
        delivered: oneshot::Receiver<Instant>,
        reply: oneshot::Receiver<Outcome>,
    ) -> (Outcome, Option<Instant>) {
        let stopped = || Outcome::ExitError {
            detail: "environment stopped".into(),
        };
        let at = match tokio::time::timeout(INIT_LIMIT, delivered).await {
            Ok(Ok(at)) => at,
            // The environment ended before taking the event; the reply says why.
            Ok(Err(_)) => return (reply.await.unwrap_or_else(|_| stopped()), None),
            Err(_) => {
                self.retire(env);
                let detail = format!("init did not finish within {} s", INIT_LIMIT.as_secs());
                return (
                    Outcome::InitError {
                        error_type: "Sandbox.Timedout".into(),
                        detail,
                    },
                    None,
                );
            }
        };
        match tokio::time::timeout_at((at + self.identity.timeout).into(), reply).await {
            Ok(Ok(outcome)) => (outcome, Some(at)),
            Ok(Err(_)) => (stopped(), Some(at)),
            Err(_) => {
                env.current.lock().expect("current lock").take();
                self.retire(env);
                (Outcome::Timeout, Some(at))
            }
        }
    }

    /// The platform's log lines and the AWS/Lambda metrics of one invocation.
    fn record(
        &self,
        env: &Env,
        cold: bool,
        request_id: &str,
        outcome: &Outcome,
        duration: Option<Duration>,
        concurrent: usize,
    ) {
        let status = match outcome {
            Outcome::Timeout => ReportStatus::Timeout,
            Outcome::ExitError { .. } | Outcome::InitError { .. } => {
                ReportStatus::Error(outcome.error_type().unwrap_or("Unknown"))
            }
            _ => ReportStatus::Success,
        };
        let init_duration = if cold {
            env.init_duration.get().copied()
        } else {
            None
        };
        if let Outcome::InitError { error_type, detail } = outcome {
            let init = init_duration.unwrap_or_else(|| env.spawned.elapsed());
            env.log(format!(
                "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {error_type}\t",
                init.as_secs_f64() * 1000.0
            ));
            env.log(super::report::start_line(request_id));
            if error_type == "Runtime.ExitError" {
                env.log(exit_line(request_id, detail));
            } else {
                env.log(format!("RequestId: {request_id} Error: {detail}\n{error_type}"));
            }
        }
        match outcome {
            Outcome::Timeout => env.log(timeout_line(request_id, self.identity.timeout)),
            Outcome::ExitError { detail } => env.log(exit_line(request_id, detail)),
            _ => {}
        }
        let duration = duration.unwrap_or_default();
        env.log(end_line(request_id));
        let report = Report {
            request_id,
            duration,
            memory_size_mb: self.identity.memory_mb,
            max_memory_used_mb: env.read_max_memory_mb(),
            init_duration: if matches!(outcome, Outcome::InitError { .. }) {
                None
            } else {
                init_duration
            },
            status,
        };
        env.log(report.line());
        let ms = duration.as_secs_f64() * 1000.0;
        self.metrics
            .lambda_invocation(&self.identity.function_name, ms, outcome.is_error(), concurrent);
    }

    /// Back to the warm set, unless the environment is gone or runs an old configuration.
    fn release(&self, env: Arc<Env>, outcome: &Outcome) {
        let reusable = matches!(outcome, Outcome::Response(_) | Outcome::FunctionError { .. });
        if reusable && env.is_alive() && !self.closed.load(Ordering::SeqCst) {
            let mut st = self.state.lock().expect("pool lock");
            if env.revision == st.config.revision && !env.released.load(Ordering::SeqCst) {
                env.set_phase(Phase::Warm);
                st.idle.push(env);
                return;
            }
        }
        self.retire(&env);
    }

    /// Kills every environment and waits (bounded) until their processes are reaped.
    pub async fn shutdown(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let envs: Vec<Arc<Env>> = self.state.lock().expect("pool lock").envs.clone();
        for env in &envs {
            env.kill();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while envs.iter().any(|e| e.is_alive()) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
