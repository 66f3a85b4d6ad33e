//! Starting and stopping a whole lab in-process: `Lab::start(config)` gives a [`LabHandle`]
//! with the URLs and the token; `shutdown()` stops the servers and every function process.
//! `outage-lab up`, the drill and the tests all go through here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{bail, Context};
use lab_admin_api::{run_folder, DrillDocument};
use lab_cloudwatch::{AlarmEngine, MetricStore, SystemClock};
use outage_config::Stage;
use time::OffsetDateTime;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::gateway::{routes::Router, Gateway, TokenBucket};
use crate::logs::LogStore;
use crate::metrics::LabMetrics;
use crate::notify::Outbox;
use crate::runtime::env::FunctionIdentity;
use crate::runtime::pool::Pool;
use crate::stats::LatencyStats;

/// How long the metric store keeps data (CloudWatch keeps more; a lab run is hours at most).
pub const METRIC_RETENTION: Duration = Duration::from_secs(6 * 3600);
/// How often the alarm engine is asked for due evaluations (it keeps CloudWatch's cadence).
pub const ALARM_TICK: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct LabConfig {
    /// The project root: the folder holding `environments/`.
    pub root: PathBuf,
    pub stage: String,
    /// Gateway port on 127.0.0.1; 0 = any free port.
    pub port: u16,
    /// Admin API port on 127.0.0.1; 0 = any free port.
    pub admin_port: u16,
    /// Where the function binaries (`auth`, `product`, `payment`) are.
    pub bin_dir: PathBuf,
    /// The run folder; default `<root>/.outage-lab/<stage>/run-<UTC time>`.
    pub run_dir: Option<PathBuf>,
    /// Print one console line per notification.
    pub console: bool,
    /// How late metric data becomes visible, as on AWS.
    pub metric_delays: outage_config::MetricDelays,
    /// Reserved concurrency the functions are deployed with where it differs from the stage
    /// file (`None` = unreserved): a game day's incident that is no configuration change.
    pub reserved_concurrency: BTreeMap<String, Option<u32>>,
}

pub use lab_admin_api::LabInfo;

/// Everything the admin API reads and changes.
pub struct LabState {
    pub info: LabInfo,
    pub stage: Stage,
    pub token: String,
    pub pools: BTreeMap<String, Arc<Pool>>,
    pub logs: Arc<LogStore>,
    pub metrics: Arc<LabMetrics>,
    pub alarms: Arc<AlarmEngine>,
    pub outbox: Arc<Outbox>,
    /// The control plane's change history (CloudTrail's management events).
    pub changes: crate::changes::ChangeLog,
    pub overhead: Arc<LatencyStats>,
    pub drill: Mutex<DrillDocument>,
    /// Every release of this lab (`/releases`).
    pub releases: crate::release::Releases,
    /// The game day running on this lab, if any (`/gameday` routes).
    pub gameday: std::sync::OnceLock<Arc<crate::gameday::desk::Desk>>,
}

pub struct LabHandle {
    pub gateway_url: String,
    pub admin_url: String,
    pub token: String,
    pub token_file: PathBuf,
    pub run_dir: PathBuf,
    pub api_id: String,
    pub state: Arc<LabState>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

pub struct Lab;

/// The function binary of a code base.
pub fn binary_path(bin_dir: &Path, code: &str) -> PathBuf {
    bin_dir.join(code)
}

impl Lab {
    pub async fn start(config: LabConfig) -> anyhow::Result<LabHandle> {
        let mut stage = Stage::load_named(&config.root, &config.stage)?;
        for (key, reserved) in &config.reserved_concurrency {
            let f = stage
                .functions
                .get_mut(key)
                .with_context(|| format!("reserved concurrency for {key}: no such function in the stage"))?;
            f.reserved_concurrency = *reserved;
        }
        for (key, f) in &stage.functions {
            let bin = binary_path(&config.bin_dir, &f.code);
            if !bin.is_file() {
                bail!(
                    "function {key}: binary {} not found (build the functions with `cargo build --workspace --bins`, or pass --bin-dir)",
                    bin.display()
                );
            }
        }

        let now = OffsetDateTime::now_utc();
        let stage_dir = run_folder::stage_dir(&config.root, &stage.stage);
        let run_dir = match &config.run_dir {
            Some(d) => d.clone(),
            None => stage_dir.join(crate::time_fmt::run_folder_name(now)),
        };
        let mut run_dir_final = run_dir.clone();
        let mut n = 1;
        while run_dir_final.exists() && config.run_dir.is_none() {
            n += 1;
            run_dir_final = PathBuf::from(format!("{}-{n}", run_dir.display()));
        }
        let run_dir = run_dir_final;
        std::fs::create_dir_all(&run_dir)
            .with_context(|| format!("cannot create run folder {}", run_dir.display()))?;
        let run_dir = run_dir.canonicalize()?;

        let token = crate::ids::admin_token();
        let token_file = run_folder::admin_token(&run_dir);
        run_folder::write_private(&token_file, &token)
            .with_context(|| format!("cannot write {}", token_file.display()))?;

        let api_id = crate::ids::api_id();
        let account_id = stage
            .allowed_account_ids
            .first()
            .cloned()
            .unwrap_or_else(|| "123456789012".into());
        let clock = Arc::new(SystemClock);
        let store = Arc::new(MetricStore::new(clock.clone(), METRIC_RETENTION));
        let metrics = Arc::new(LabMetrics::new(store.clone(), &api_id, config.metric_delays));
        let logs = LogStore::new(
            &run_dir.join("logs"),
            stage.functions.keys().map(|k| (k.clone(), stage.log_group(k))),
        )
        .context("cannot create the log files")?;

        let mut pools = BTreeMap::new();
        for (key, f) in &stage.functions {
            let function_name = stage.function_name(key);
            let identity = FunctionIdentity {
                key: key.as_str().into(),
                function_arn: format!(
                    "arn:aws:lambda:{}:{account_id}:function:{function_name}",
                    stage.aws_region
                ),
                function_name,
                log_group: stage.log_group(key),
                memory_mb: f.memory_mb,
                timeout: Duration::from_secs(u64::from(f.timeout_s)),
                region: stage.aws_region.clone(),
            };
            let pool = Pool::new(
                identity,
                f.code.clone(),
                f.reserved_concurrency,
                binary_path(&config.bin_dir, &f.code),
                stage.fault_vars(key),
                logs.clone(),
                metrics.clone(),
            )
            .with_context(|| format!("function {key}: cannot read its binary"))?;
            pools.insert(key.clone(), pool);
        }

        let gateway_listener = crate::http::bind_loopback(config.port)
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{} for the gateway", config.port))?;
        let admin_listener = crate::http::bind_loopback(config.admin_port)
            .await
            .with_context(|| {
                format!(
                    "cannot listen on 127.0.0.1:{} for the admin API",
                    config.admin_port
                )
            })?;
        let gateway_port = gateway_listener.local_addr()?.port();
        let gateway_url = format!("http://127.0.0.1:{gateway_port}");
        let admin_url = format!("http://127.0.0.1:{}", admin_listener.local_addr()?.port());

        let overhead = Arc::new(LatencyStats::default());
        let router = Router::new(
            stage
                .routes
                .iter()
                .map(|(route, key)| (route.clone(), pools[key].clone())),
        );
        let gateway = Arc::new(Gateway {
            api_id: api_id.clone(),
            account_id,
            router,
            throttle: TokenBucket::new(stage.api_throttle.rate_limit, stage.api_throttle.burst_limit),
            metrics: metrics.clone(),
            overhead: overhead.clone(),
            local_port: gateway_port,
        });

        let definitions = stage.alarm_definitions(&api_id);
        let composite = stage.composite_alarm(&definitions);
        let outbox = Arc::new(Outbox::new(
            &definitions,
            std::slice::from_ref(&composite),
            stage.alarm_topic_name(),
            &stage.aws_region,
            &run_dir,
            config.console,
        ));
        let alarms = Arc::new(
            AlarmEngine::new(definitions, store, clock)
                .with_composites(vec![composite])
                .context("the stage's composite alarm")?,
        );
        let info = LabInfo {
            stage: stage.stage.clone(),
            pid: std::process::id(),
            gateway_url: gateway_url.clone(),
            admin_url: admin_url.clone(),
            api_id: api_id.clone(),
            token_file: token_file.clone(),
            run_dir: run_dir.clone(),
            started_at: crate::time_fmt::rfc3339(now),
        };
        std::fs::write(
            run_folder::lab_json(&run_dir),
            serde_json::to_string_pretty(&info)?,
        )?;
        if config.run_dir.is_none() {
            let current = run_folder::current(&config.root, &stage.stage);
            let _ = std::fs::remove_file(&current);
            let target = run_dir
                .file_name()
                .map(PathBuf::from)
                .unwrap_or_else(|| run_dir.clone());
            std::os::unix::fs::symlink(target, &current)
                .with_context(|| format!("cannot link {}", current.display()))?;
        }

        let state = Arc::new(LabState {
            info,
            stage,
            token: token.clone(),
            pools,
            logs,
            metrics,
            alarms: alarms.clone(),
            outbox: outbox.clone(),
            changes: crate::changes::ChangeLog::new(&run_dir),
            overhead,
            drill: Mutex::new(DrillDocument::default()),
            releases: crate::release::Releases::default(),
            gameday: std::sync::OnceLock::new(),
        });

        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = Vec::new();
        let mut gw_builder = hyper::server::conn::http1::Builder::new();
        // Room for heads beyond API Gateway's 10,240-byte limit, so the gateway itself can
        // answer them with a JSON 431 instead of hyper's bare one.
        gw_builder.max_buf_size(256 * 1024).max_headers(1024);
        tasks.push(tokio::spawn(crate::http::serve(
            gateway_listener,
            gw_builder,
            stop_rx.clone(),
            move |req, peer| gateway.clone().handle(req, peer),
        )));
        let admin = crate::admin::router(state.clone());
        let mut admin_stop = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            let stopped = async move {
                let _ = admin_stop.changed().await;
            };
            if let Err(e) = axum::serve(admin_listener, admin)
                .with_graceful_shutdown(stopped)
                .await
            {
                tracing::error!("the admin API stopped: {e}");
            }
        }));
        let mut alarm_stop = stop_rx;
        tasks.push(tokio::spawn(async move {
            let mut every = tokio::time::interval(ALARM_TICK);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = alarm_stop.changed() => return,
                }
                for change in alarms.tick() {
                    outbox.deliver(&change);
                }
            }
        }));

        Ok(LabHandle {
            gateway_url,
            admin_url,
            token,
            token_file,
            run_dir,
            api_id,
            state,
            stop,
            tasks,
        })
    }
}

impl LabHandle {
    pub fn info(&self) -> &LabInfo {
        &self.state.info
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.state.logs.dir().to_owned()
    }

    pub fn notifications_file(&self) -> PathBuf {
        self.state.outbox.path().to_owned()
    }

    /// Stops accepting requests, then kills every function process and waits for them.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
        }
        for pool in self.state.pools.values() {
            pool.shutdown().await;
        }
    }
}
