//! The execution environments of one function: reuse a warm one, start a new one while under
//! the reserved concurrency, throttle otherwise. The lock is held only to pick or register an
//! environment; events travel to environments through their own slots.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use lab_admin_api::EnvironmentView;
use time::OffsetDateTime;
use tokio::sync::oneshot;

use super::env::{Env, FunctionIdentity, Invocation, Phase, SpawnSpec};
use super::report::{end_line, exit_line, timeout_line, Report, ReportStatus};
use super::{InvokeResult, Outcome};
use crate::logs::LogStore;
use crate::metrics::{Invoked, LabMetrics};

/// Lambda's limit for the init phase of an on-demand environment.
pub const INIT_LIMIT: Duration = Duration::from_secs(10);

/// A function's code and configuration at one revision: `$LATEST`, which updates replace, or a
/// published version, which never changes (Lambda's versions snapshot both, environment
/// variables included). An environment runs exactly one of these.
#[derive(Debug, Clone)]
pub struct FunctionConfig {
    /// `None` = `$LATEST`.
    pub version: Option<u32>,
    pub variables: BTreeMap<String, String>,
    pub binary: PathBuf,
    /// The binary's SHA-256, base64 (Lambda's `CodeSha256`).
    pub code_sha256: String,
    pub description: String,
    /// Unique within the function: what tells environments of different snapshots apart.
    pub revision: u64,
    /// `$LATEST`'s revision id; a version keeps the one of the `$LATEST` it was published from.
    pub revision_id: String,
    pub last_modified: OffsetDateTime,
}

impl FunctionConfig {
    /// `$LATEST` or the version's number, as Lambda writes a qualifier.
    pub fn version_label(&self) -> String {
        self.version.map_or_else(|| LATEST.to_owned(), |n| n.to_string())
    }

    /// The same code and configuration (what decides whether PublishVersion makes a new one).
    fn same_content(&self, other: &FunctionConfig) -> bool {
        self.code_sha256 == other.code_sha256 && self.variables == other.variables
    }
}

pub const LATEST: &str = "$LATEST";

/// Lambda's `CodeSha256`: the SHA-256 of the deployment package, base64. Remembered per file
/// (path, size, modification time) for the life of the process: the drill starts a dozen labs
/// at once on the same three binaries, and hashing runs on the caller's thread.
pub fn code_sha256(binary: &Path) -> std::io::Result<String> {
    use base64::Engine;
    use sha2::Digest;
    type Key = (PathBuf, u64, Option<std::time::SystemTime>);
    static KNOWN: std::sync::OnceLock<Mutex<BTreeMap<Key, String>>> = std::sync::OnceLock::new();
    let meta = std::fs::metadata(binary)?;
    let key = (binary.to_path_buf(), meta.len(), meta.modified().ok());
    let known = KNOWN.get_or_init(Mutex::default);
    if let Some(sha) = known.lock().expect("hash cache lock").get(&key) {
        return Ok(sha.clone());
    }
    let bytes = std::fs::read(binary)?;
    let sha = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&bytes));
    known.lock().expect("hash cache lock").insert(key, sha.clone());
    Ok(sha)
}

/// Which version an invocation asks for (Lambda's `Qualifier`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Qualifier {
    Latest,
    Version(u32),
    /// The `live` alias: its version, or by weight the additional one.
    Live,
}

/// The `live` alias: a main version and at most one more with a share of the invocations.
#[derive(Debug, Clone, PartialEq)]
pub struct Alias {
    pub version: u32,
    pub additional: Option<(u32, f64)>,
    pub revision_id: String,
}

impl Alias {
    /// Whether invocations through the alias may run `version` (`3`, `$LATEST`).
    pub fn serves(&self, version: &str) -> bool {
        let number = version.parse::<u32>().ok();
        number == Some(self.version) || self.additional.is_some_and(|(n, _)| number == Some(n))
    }
}

/// What PublishVersion answered: the version, and whether this call made it (`false`: nothing
/// had changed since the newest version, which is the answer).
#[derive(Debug, Clone)]
pub struct Published {
    pub config: Arc<FunctionConfig>,
    pub new: bool,
}

/// Why a control-plane request (a version, the alias, a release) was refused, in words;
/// nothing was changed. The kinds are Lambda's and CodeDeploy's exceptions.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// `ResourceNotFoundException`.
    #[error("{0}")]
    NotFound(String),
    /// `InvalidParameterValueException`.
    #[error("{0}")]
    Invalid(String),
    /// `PreconditionFailedException`: the revision changed.
    #[error("{0}")]
    Stale(String),
    /// Another release runs, or there is nothing to release or roll back.
    #[error("{0}")]
    Busy(String),
}

/// Invocations through the alias, per version that ran, since the lab started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Served {
    pub requests: u64,
    pub failed: u64,
}

struct PoolState {
    /// Warm environments waiting for an event, most recently used last.
    idle: Vec<Arc<Env>>,
    /// Every environment the pool counts against the reserved concurrency.
    envs: Vec<Arc<Env>>,
    /// `$LATEST`.
    config: Arc<FunctionConfig>,
    /// Published versions by number.
    versions: BTreeMap<u32, Arc<FunctionConfig>>,
    alias: Alias,
    /// The alias's main version before its last move: where a rollback goes.
    previous: Option<u32>,
    /// Per version label.
    served: BTreeMap<String, Served>,
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
    /// A function as `terraform apply` leaves it: `$LATEST` from the stage file, published as
    /// version 1, and the `live` alias on version 1.
    pub fn new(
        identity: FunctionIdentity,
        code: String,
        reserved: Option<u32>,
        binary: PathBuf,
        variables: BTreeMap<String, String>,
        logs: Arc<LogStore>,
        metrics: Arc<LabMetrics>,
    ) -> std::io::Result<Arc<Pool>> {
        let code_sha256 = code_sha256(&binary)?;
        let now = OffsetDateTime::now_utc();
        let config = Arc::new(FunctionConfig {
            version: None,
            variables,
            binary,
            code_sha256,
            description: String::new(),
            revision: 1,
            revision_id: revision_id(),
            last_modified: now,
        });
        let first = Arc::new(FunctionConfig {
            version: Some(1),
            revision: 2,
            ..(*config).clone()
        });
        Ok(Arc::new_cyclic(|me| Pool {
            identity: Arc::new(identity),
            code,
            logs,
            metrics,
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                envs: Vec::new(),
                config,
                versions: BTreeMap::from([(1, first)]),
                alias: Alias {
                    version: 1,
                    additional: None,
                    revision_id: revision_id(),
                },
                served: BTreeMap::new(),
                previous: None,
                reserved,
            }),
            busy: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            revisions: AtomicU64::new(2),
            me: me.clone(),
        }))
    }

    /// `$LATEST`.
    pub fn config(&self) -> Arc<FunctionConfig> {
        self.state.lock().expect("pool lock").config.clone()
    }

    /// Replaces `$LATEST`'s variables (Lambda's UpdateFunctionConfiguration).
    pub fn update_config(&self, variables: BTreeMap<String, String>) -> Arc<FunctionConfig> {
        self.update_latest(|c| c.variables = variables)
    }

    /// Replaces `$LATEST`'s code (Lambda's UpdateFunctionCode).
    pub fn update_code(&self, binary: PathBuf, code_sha256: String) -> Arc<FunctionConfig> {
        self.update_latest(|c| {
            c.binary = binary;
            c.code_sha256 = code_sha256;
        })
    }

    /// A new revision of `$LATEST`: its idle environments are retired now, busy ones after their
    /// invocation, new ones start with the new revision. Published versions are untouched.
    fn update_latest(&self, change: impl FnOnce(&mut FunctionConfig)) -> Arc<FunctionConfig> {
        let revision = self.revisions.fetch_add(1, Ordering::Relaxed) + 1;
        let (config, stale) = {
            let mut st = self.state.lock().expect("pool lock");
            let mut next = (*st.config).clone();
            change(&mut next);
            next.revision = revision;
            next.revision_id = revision_id();
            next.last_modified = OffsetDateTime::now_utc();
            let old = st.config.revision;
            st.config = Arc::new(next);
            let (stale, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut st.idle)
                .into_iter()
                .partition(|e| e.revision == old);
            st.idle = keep;
            (st.config.clone(), stale)
        };
        for env in stale {
            self.retire(&env);
        }
        config
    }

    /// Lambda's PublishVersion: `$LATEST` as a new, immutable version. When neither the code nor
    /// the configuration changed since the newest version, that version is returned, as Lambda
    /// does. With `revision_id`, refused when `$LATEST` has moved on since.
    pub fn publish(
        &self,
        description: &str,
        expected_revision: Option<&str>,
    ) -> Result<Published, ControlError> {
        let mut st = self.state.lock().expect("pool lock");
        if let Some(expected) = expected_revision.filter(|r| *r != st.config.revision_id) {
            return Err(ControlError::Stale(format!(
                "$LATEST of {} is at revision {}, not {expected}",
                self.identity.function_name, st.config.revision_id
            )));
        }
        if let Some(newest) = st.versions.values().next_back() {
            if newest.same_content(&st.config) {
                return Ok(Published {
                    config: newest.clone(),
                    new: false,
                });
            }
        }
        let number = st.versions.keys().next_back().map_or(1, |n| n + 1);
        let version = Arc::new(FunctionConfig {
            version: Some(number),
            description: description.to_owned(),
            revision: self.revisions.fetch_add(1, Ordering::Relaxed) + 1,
            last_modified: OffsetDateTime::now_utc(),
            ..(*st.config).clone()
        });
        st.versions.insert(number, version.clone());
        Ok(Published {
            config: version,
            new: true,
        })
    }

    /// `$LATEST` first, then every published version (ListVersionsByFunction).
    pub fn versions(&self) -> Vec<Arc<FunctionConfig>> {
        let st = self.state.lock().expect("pool lock");
        std::iter::once(st.config.clone())
            .chain(st.versions.values().cloned())
            .collect()
    }

    pub fn version(&self, number: u32) -> Option<Arc<FunctionConfig>> {
        self.state
            .lock()
            .expect("pool lock")
            .versions
            .get(&number)
            .cloned()
    }

    pub fn alias(&self) -> Alias {
        self.state.lock().expect("pool lock").alias.clone()
    }

    /// Lambda's UpdateAlias: `version` moves the main version (`None` keeps it); `additional`
    /// replaces the weighted routing (`Some(None)` clears it, `None` keeps it). Lambda's rules:
    /// published versions only, one additional version, a weight from 0 to 1, and the
    /// additional version differs from the main one.
    pub fn update_alias(
        &self,
        version: Option<u32>,
        additional: Option<Option<(u32, f64)>>,
        expected_revision: Option<&str>,
    ) -> Result<Alias, ControlError> {
        let mut st = self.state.lock().expect("pool lock");
        if let Some(expected) = expected_revision.filter(|r| *r != st.alias.revision_id) {
            return Err(ControlError::Stale(format!(
                "alias live of {} is at revision {}, not {expected}",
                self.identity.function_name, st.alias.revision_id
            )));
        }
        let main = version.unwrap_or(st.alias.version);
        let extra = additional.unwrap_or(st.alias.additional);
        let missing = |n: u32| {
            ControlError::NotFound(format!(
                "{} has no version {n} (published: {})",
                self.identity.function_name,
                st.versions
                    .keys()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        };
        if !st.versions.contains_key(&main) {
            return Err(missing(main));
        }
        if let Some((n, weight)) = extra {
            if !st.versions.contains_key(&n) {
                return Err(missing(n));
            }
            if n == main {
                return Err(ControlError::Invalid(format!(
                    "the additional version {n} is the alias's main version"
                )));
            }
            if !(0.0..=1.0).contains(&weight) || !weight.is_finite() {
                return Err(ControlError::Invalid(format!(
                    "the weight of version {n} must be from 0.0 to 1.0, not {weight}"
                )));
            }
        }
        if main != st.alias.version {
            st.previous = Some(st.alias.version);
        }
        st.alias = Alias {
            version: main,
            additional: extra,
            revision_id: revision_id(),
        };
        let alias = st.alias.clone();
        // Environments of a version the alias no longer serves get no more events: the idle
        // ones are retired now, busy ones after their invocation. (Lambda reaps idle
        // environments after some minutes; the lab does not keep processes nothing will use.)
        let (stale, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut st.idle)
            .into_iter()
            .partition(|e| !alias.serves(&e.version));
        st.idle = keep;
        drop(st);
        for env in stale {
            self.retire(&env);
        }
        Ok(alias)
    }

    /// The alias's main version before its last move, if it moved.
    pub fn previous_version(&self) -> Option<u32> {
        self.state.lock().expect("pool lock").previous
    }

    /// What the alias serves: each version with its share of the invocations.
    pub fn served_versions(&self) -> Vec<(Arc<FunctionConfig>, f64)> {
        let st = self.state.lock().expect("pool lock");
        let main = st.versions[&st.alias.version].clone();
        match st.alias.additional {
            Some((n, w)) if w > 0.0 => vec![(main, 1.0 - w), (st.versions[&n].clone(), w)],
            _ => vec![(main, 1.0)],
        }
    }

    /// Invocations through the alias per version that ran.
    pub fn served(&self) -> BTreeMap<String, Served> {
        self.state.lock().expect("pool lock").served.clone()
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

    /// A warm environment of `snapshot`, or a new one if the reserved concurrency allows;
    /// `None` = throttle.
    fn acquire(&self, snapshot: &Arc<FunctionConfig>) -> std::io::Result<Option<(Arc<Env>, bool)>> {
        let mut st = self.state.lock().expect("pool lock");
        // Lambda counts concurrent executions, not environments: an idle one beyond a lowered
        // limit is no licence to run.
        if st.envs.len() - st.idle.len() >= st.limit() {
            return Ok(None);
        }
        // The most recently used warm environment of this snapshot; during a canary, both
        // versions keep their own warm environments.
        while let Some(i) = st.idle.iter().rposition(|e| e.revision == snapshot.revision) {
            let env = st.idle.remove(i);
            if env.is_alive() {
                return Ok(Some((env, false)));
            }
            drop(st);
            self.retire(&env);
            st = self.state.lock().expect("pool lock");
        }
        if self.closed.load(Ordering::SeqCst) {
            return Ok(None);
        }
        // At the limit, the oldest idle environment of another version makes room.
        while st.envs.len() >= st.limit() && !st.idle.is_empty() {
            let old = st.idle.remove(0);
            drop(st);
            self.retire(&old);
            st = self.state.lock().expect("pool lock");
        }
        if st.envs.len() >= st.limit() {
            return Ok(None);
        }
        let pool = self.me.clone();
        let metrics = self.metrics.clone();
        let version = snapshot.version_label();
        let spec = SpawnSpec {
            binary: &snapshot.binary,
            identity: self.identity.clone(),
            variables: &snapshot.variables,
            revision: snapshot.revision,
            revision_id: &snapshot.revision_id,
            version: &version,
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

    /// One invocation through the `live` alias (what the API's integration calls): the main
    /// version, or the additional one with its weight's probability, as Lambda routes.
    pub async fn invoke_live(&self, request_id: Arc<str>, payload: Bytes) -> InvokeResult {
        let snapshot = {
            let st = self.state.lock().expect("pool lock");
            let version = match st.alias.additional {
                Some((n, w)) if rand::random::<f64>() < w => n,
                _ => st.alias.version,
            };
            st.versions[&version].clone()
        };
        let label = snapshot.version_label();
        let invoked = Invoked {
            function_name: self.identity.function_name.clone(),
            qualifier: Some(outage_config::release::LIVE_ALIAS.to_owned()),
            executed_version: Some(label.clone()),
        };
        let result = self.run(&snapshot, &invoked, request_id, payload).await;
        let mut st = self.state.lock().expect("pool lock");
        let served = st.served.entry(label).or_default();
        served.requests += 1;
        if result.outcome.is_error() || matches!(result.outcome, Outcome::Throttled) {
            served.failed += 1;
        }
        result
    }

    /// One invocation of a published version by number (Invoke with `Qualifier=N`): a release's
    /// check of the new version before any traffic moves.
    pub async fn invoke_version(
        &self,
        number: u32,
        request_id: Arc<str>,
        payload: Bytes,
    ) -> Result<InvokeResult, ControlError> {
        let snapshot = self.version(number).ok_or_else(|| {
            ControlError::NotFound(format!("{} has no version {number}", self.identity.function_name))
        })?;
        let invoked = Invoked {
            function_name: self.identity.function_name.clone(),
            qualifier: Some(number.to_string()),
            executed_version: None,
        };
        Ok(self.run(&snapshot, &invoked, request_id, payload).await)
    }

    /// Runs one invocation of `snapshot` to its end and records it (logs, AWS/Lambda metrics).
    async fn run(
        &self,
        snapshot: &Arc<FunctionConfig>,
        invoked: &Invoked,
        request_id: Arc<str>,
        payload: Bytes,
    ) -> InvokeResult {
        let (env, cold) = match self.acquire(snapshot) {
            Ok(Some(got)) => got,
            Ok(None) => {
                self.metrics.lambda_throttle(invoked);
                return InvokeResult {
                    outcome: Outcome::Throttled,
                    function_duration: None,
                };
            }
            Err(e) => {
                tracing::error!(function = %self.identity.function_name, binary = %snapshot.binary.display(), "cannot start the function: {e}");
                let outcome = Outcome::InitError {
                    error_type: "Runtime.InvalidEntrypoint".into(),
                    detail: e.to_string(),
                };
                self.metrics
                    .lambda_invocation(invoked, 0.0, true, self.busy.load(Ordering::Relaxed));
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
        self.record(&env, cold, &request_id, &outcome, function_duration);
        let ms = function_duration.unwrap_or_default().as_secs_f64() * 1000.0;
        self.metrics
            .lambda_invocation(invoked, ms, outcome.is_error(), concurrent);
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

    /// The platform's log lines of one invocation.
    fn record(&self, env: &Env, cold: bool, request_id: &str, outcome: &Outcome, duration: Option<Duration>) {
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
            env.log(super::report::start_line(request_id, &env.version));
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
    }

    /// Back to the warm set, unless the environment is gone, runs a replaced `$LATEST`, or runs
    /// a version the alias no longer serves.
    fn release(&self, env: Arc<Env>, outcome: &Outcome) {
        let reusable = matches!(outcome, Outcome::Response(_) | Outcome::FunctionError { .. });
        if reusable && env.is_alive() && !self.closed.load(Ordering::SeqCst) {
            let mut st = self.state.lock().expect("pool lock");
            let current = if &*env.version == LATEST {
                env.revision == st.config.revision
            } else {
                st.alias.serves(&env.version)
            };
            if current && !env.released.load(Ordering::SeqCst) {
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
