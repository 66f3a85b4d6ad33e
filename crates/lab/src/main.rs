//! `outage-lab`: run a stage of outage-lab on this machine and look into a running lab.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use lab_admin_api::{AdminClient, EnvironmentState, LogQuery};
use outage_lab::{Lab, LabConfig, LabInfo};

/// Local lab for outage-lab: the real Lambda function binaries behind an emulated API Gateway
/// HTTP API, with Lambda's runtime behaviour, CloudWatch logs, metrics and alarms, and an
/// admin API.
#[derive(Parser)]
#[command(
    name = "outage-lab",
    version,
    after_help = "Exit codes: 0 success; 1 failure (bad stage file, port in use, no running lab, admin API error); 2 bad command line, bad alarm-eval input or a bad incident.json for alarm-replay."
)]
struct Cli {
    /// More output on stderr: -v info, -vv debug, -vvv trace (RUST_LOG overrides).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone)]
struct Where {
    /// Stage to use: environments/<stage>/terraform.tfvars.json.
    #[arg(long, default_value = "dev")]
    stage: String,
    /// Project root (the folder holding environments/); found by walking up from the current folder when omitted.
    #[arg(long)]
    root: Option<PathBuf>,
}

/// How late the lab shows metric data, as AWS does (docs/lab.md, "Metric delays").
#[derive(clap::Args, Clone, Copy)]
struct Delays {
    /// Seconds from a function's log line to the metrics extracted from it (Embedded Metric
    /// Format); AWS publishes no figure, its EMF alarm guidance works with 5 s.
    #[arg(long, value_name = "SECONDS", default_value_t = outage_config::delay::DEFAULT_EMF_DELAY.as_secs_f64(), value_parser = seconds)]
    emf_delay_s: f64,
    /// Seconds after their minute closes until AWS/Lambda and AWS/ApiGateway data shows (they
    /// are sent in one-minute intervals).
    #[arg(long, value_name = "SECONDS", default_value_t = outage_config::delay::DEFAULT_VENDED_DELAY.as_secs_f64(), value_parser = seconds)]
    vended_delay_s: f64,
}

/// A delay in seconds: 0 to one hour.
fn seconds(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("{s:?} is not a number of seconds"))?;
    if !(0.0..=3600.0).contains(&v) {
        return Err(format!("{s} is outside 0 to 3600 seconds"));
    }
    Ok(v)
}

impl Delays {
    fn model(self) -> outage_config::MetricDelays {
        outage_config::MetricDelays {
            emf: std::time::Duration::from_secs_f64(self.emf_delay_s),
            vended: std::time::Duration::from_secs_f64(self.vended_delay_s),
            ..outage_config::MetricDelays::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve a stage on 127.0.0.1 until Ctrl-C. Prints `gateway: <url>` and `admin: <url>` once ready.
    Up {
        #[command(flatten)]
        at: Where,
        /// Gateway port (0 = any free port).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Admin API port (0 = any free port).
        #[arg(long, default_value_t = 3001)]
        admin_port: u16,
        /// Folder with the function binaries (auth, product, payment); default: this executable's folder.
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        #[command(flatten)]
        delays: Delays,
    },
    /// Evaluate CloudWatch alarm cases read as JSON from stdin; prints one JSON line per case.
    AlarmEval,
    /// What-if for alarms: replay a drill's recorded failures (its incident.json) through other
    /// alarm settings and metric delays; prints when each would have fired and cleared, and any
    /// false alarm or missed incident.
    AlarmReplay {
        /// A drill's incident.json (in its report folder).
        incident: PathBuf,
        /// The function whose failures are replayed; default: the one the drill broke.
        #[arg(long)]
        function: Option<String>,
        /// An alarm setting: PERIODs:MofN:THRESHOLD[:MISSING], e.g. 10s:1of1:1 (10 s periods,
        /// 1 of 1, ALARM at >= 1); repeatable (default: 10s:1of1:1, 20s:1of1:1, 30s:1of1:1,
        /// 10s:2of3:1, 60s:1of1:1).
        #[arg(long = "setting", value_name = "SPEC")]
        settings: Vec<lab_cloudwatch::replay::Setting>,
        /// A metric delay in seconds; repeatable (default: 0, 5, 15, 30, 60).
        #[arg(long = "delay-s", value_name = "SECONDS", value_parser = seconds)]
        delays: Vec<f64>,
        /// One JSON document on stdout instead of the table.
        #[arg(long)]
        json: bool,
    },
    /// Print a function's log events from the running lab, oldest first.
    Logs {
        /// Function key from the stage file, e.g. payment.
        function: String,
        /// Only events whose message contains this text.
        #[arg(long)]
        filter: Option<String>,
        /// Only events from this far back: 30s, 5m, 2h, 1d.
        #[arg(long)]
        since: Option<String>,
        #[command(flatten)]
        at: Where,
    },
    /// Drills as code: runs scenario files (scenarios/<name>.toml), each on a lab of its own,
    /// concurrently: baseline, break, detect, diagnose, fix, validate, then every alarm of the
    /// stage judged against the scenario's hypothesis. Writes one incident report per scenario
    /// and the game-day report with the coverage matrix. With no scenario: the default drill
    /// (scenarios/payment-exception.toml). Exit 0 every scenario passed, 1 one failed
    /// (everything restored), 2 bad scenario (nothing injected), 3 a restore failed.
    Drill {
        #[command(flatten)]
        at: Where,
        /// A scenario to run: a name in scenarios/ or a path to a .toml file; repeatable.
        #[arg(long = "scenario", value_name = "NAME|PATH")]
        scenarios: Vec<String>,
        /// Every scenario of the catalogue (scenarios/*.toml).
        #[arg(long, conflicts_with = "scenarios")]
        all: bool,
        /// Scenarios running at once, each on a lab of its own (default: all of them).
        #[arg(long)]
        jobs: Option<usize>,
        /// Folder with the function binaries (auth, product, payment); default: this executable's folder.
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        /// Where the report goes; default .outage-lab/<stage>/drills/<drill-id>/ under the project root.
        #[arg(long)]
        report_dir: Option<PathBuf>,
        /// Print the result as one JSON document on stdout (progress stays on stderr).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        delays: Delays,
    },
    /// Change a function of the running lab through its control plane, as `aws lambda
    /// update-function-configuration` and `put-function-concurrency` do: set or remove
    /// variables (merged into the current ones), reserve or free concurrency. Prints the result;
    /// the change is recorded in the change history under --actor. Exit 2 when the change is
    /// refused (nothing changed).
    Configure {
        /// Function key from the stage file, e.g. payment-fixed.
        function: String,
        /// A variable to set: KEY=VALUE; repeatable.
        #[arg(long, value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A variable to remove; repeatable.
        #[arg(long, value_name = "KEY")]
        unset: Vec<String>,
        /// Reserve this many concurrent executions.
        #[arg(long, value_name = "N", conflicts_with = "unreserved")]
        reserved_concurrency: Option<u32>,
        /// Remove the function's reserved concurrency.
        #[arg(long)]
        unreserved: bool,
        /// Who makes the change, for the change history (default: $USER, else responder).
        #[arg(long)]
        actor: Option<String>,
        #[command(flatten)]
        at: Where,
    },
    /// Release a new version of a function of the running lab as CodeDeploy does: `$LATEST`
    /// with the changes is published, checked with one direct invocation before any traffic
    /// moves, then the `live` alias the API invokes shifts to it on the strategy's schedule
    /// while the function's alarms are watched; an alarm in ALARM rolls it back. Drives bake
    /// traffic at the function's route meanwhile and prints each step. Exit 0 succeeded, 1
    /// rolled back or failed its check, 2 refused (nothing changed).
    Release {
        /// Function key from the stage file, e.g. payment-fixed.
        function: String,
        /// A new binary for the function (default: the same code).
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
        /// A variable to set: KEY=VALUE; repeatable.
        #[arg(long, value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// A variable to remove; repeatable.
        #[arg(long, value_name = "KEY")]
        unset: Vec<String>,
        /// all-at-once, canary:PERCENT%:MINUTESm, linear:PERCENT%:MINUTESm or a CodeDeploy
        /// predefined name (default: the stage file's release.strategy).
        #[arg(long, value_name = "NAME")]
        strategy: Option<String>,
        /// Send no bake traffic (the lab's other clients must then give the canary requests).
        #[arg(long)]
        no_traffic: bool,
        /// No direct invocation of the new version before traffic moves: the alarms alone
        /// guard the release.
        #[arg(long)]
        skip_check: bool,
        /// Who releases, for the change history (default: $USER, else responder).
        #[arg(long)]
        actor: Option<String>,
        /// The release at its end as one JSON document on stdout (progress on stderr).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: Where,
    },
    /// Stop the function's release in progress and roll it back, or, with none running, move
    /// the `live` alias back to the version it served before its last move (a release or a
    /// hotfix deploy such as `configure`). Exit 0 done, 2 nothing to roll back.
    Rollback {
        /// Function key from the stage file, e.g. payment-fixed.
        function: String,
        /// Who rolls back, for the change history (default: $USER, else responder).
        #[arg(long)]
        actor: Option<String>,
        #[command(flatten)]
        at: Where,
    },
    /// The stage's change history, as CloudTrail shows management events: who changed which
    /// function's configuration or reserved concurrency, and when (variable values are not shown).
    Changes {
        /// Only changes from this far back: 30s, 5m, 2h, 1d.
        #[arg(long)]
        since: Option<String>,
        /// One JSON array on stdout (GET /changes' entries) instead of lines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        at: Where,
    },
    /// A game day: a lab with steady traffic, then, after a random quiet time, a hidden incident
    /// from the catalogue. This terminal is the pager; respond with `ack`, `diagnose`, `hint`,
    /// the ordinary commands (`status`, `logs`, `changes`, `configure`), or `gameday --give-up`.
    /// The lab judges when the incident is over and writes the scorecard, a postmortem draft
    /// and a line of the history. Exit 0 resolved, 1 not resolved (gave up, timed out,
    /// interrupted), 2 bad input or the stage is busy.
    Gameday {
        #[command(flatten)]
        at: Where,
        /// The incident: a scenario name of the catalogue (default: a random one).
        #[arg(long, conflicts_with = "random")]
        scenario: Option<String>,
        /// A random incident (the default; says so explicitly).
        #[arg(long)]
        random: bool,
        /// Seed of the random choices (scenario, quiet time, decoys); default: from the clock.
        #[arg(long)]
        seed: Option<u64>,
        /// 1: the faulty change alone; 2: a partial failure hidden among harmless changes;
        /// 3: also a noisy but harmless signal, and surges with no configuration change.
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=3))]
        level: u8,
        /// Quiet time before the incident: N seconds, or a random one in MIN:MAX (default by
        /// level: 20:60, 30:90, 30:120).
        #[arg(long, value_name = "N|MIN:MAX", value_parser = outage_lab::gameday::plan::parse_quiet)]
        quiet_s: Option<(u64, u64)>,
        /// The game day ends unresolved this many minutes after the incident.
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=240))]
        max_minutes: u64,
        /// Folder with the function binaries; default: this executable's folder.
        #[arg(long)]
        bin_dir: Option<PathBuf>,
        /// Gateway port (0 = any free port).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// Admin API port (0 = any free port).
        #[arg(long, default_value_t = 3001)]
        admin_port: u16,
        #[command(flatten)]
        delays: Delays,
        /// End the running game day now: it restores, reveals the answer, writes the record.
        #[arg(long, conflicts_with_all = ["scenario", "random", "seed", "history"])]
        give_up: bool,
        /// Print the stage's game-day history and the trend.
        #[arg(long, conflicts_with_all = ["scenario", "random", "seed"])]
        history: bool,
    },
    /// Acknowledge the running game day's page: you own the incident.
    Ack {
        #[command(flatten)]
        at: Where,
    },
    /// State a diagnosis in the running game day (recorded; wrong ones cost score).
    Diagnose {
        /// The function at fault: a key of the stage file.
        #[arg(long)]
        function: String,
        /// exception, panic, latency, timeout, status or throttling.
        #[arg(long)]
        cause: String,
        #[command(flatten)]
        at: Where,
    },
    /// The next hint of the running game day (each costs score).
    Hint {
        #[command(flatten)]
        at: Where,
    },
    /// Show the running lab: URLs, functions with their environments, reserved concurrency and
    /// variables (as get-function-configuration shows them), alarm states.
    Status {
        #[command(flatten)]
        at: Where,
    },
}

fn init_tracing(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn root_of(at: &Where) -> anyhow::Result<PathBuf> {
    match &at.root {
        Some(r) => Ok(r.clone()),
        None => {
            let cwd = std::env::current_dir().context("cannot read the current folder")?;
            outage_lab::find_root(&cwd).with_context(|| {
                format!(
                    "no environments/ folder in {} or above: run inside the project or pass --root",
                    cwd.display()
                )
            })
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Up {
            at,
            port,
            admin_port,
            bin_dir,
            delays,
        } => up(at, port, admin_port, bin_dir, delays.model()).await,
        Command::AlarmEval => return alarm_eval(),
        Command::AlarmReplay {
            incident,
            function,
            settings,
            delays,
            json,
        } => {
            // Everything that can fail here is the input: exit 2, as alarm-eval.
            return match alarm_replay(&incident, function.as_deref(), settings, delays, json) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            };
        }
        Command::Logs {
            function,
            filter,
            since,
            at,
        } => logs(at, &function, filter, since).await,
        Command::Status { at } => status(at).await,
        Command::Gameday {
            at,
            scenario,
            random: _,
            seed,
            level,
            quiet_s,
            max_minutes,
            bin_dir,
            port,
            admin_port,
            delays,
            give_up,
            history,
        } => {
            if give_up {
                return gameday_give_up(at).await;
            }
            if history {
                return gameday_history(at);
            }
            let choice = outage_lab::gameday::plan::Choice {
                scenario,
                level,
                seed: seed.unwrap_or_else(|| {
                    std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_nanos() as u64)
                }),
                quiet_s,
            };
            return gameday(at, choice, max_minutes, bin_dir, port, admin_port, delays.model()).await;
        }
        Command::Ack { at } => return responder(at, Respond::Ack).await,
        Command::Hint { at } => return responder(at, Respond::Hint).await,
        Command::Diagnose { function, cause, at } => {
            return responder(
                at,
                Respond::Diagnose(lab_admin_api::Diagnosis { function, cause }),
            )
            .await
        }
        Command::Changes { since, json, at } => changes(at, since, json).await,
        Command::Release {
            function,
            binary,
            set,
            unset,
            strategy,
            no_traffic,
            skip_check,
            actor,
            json,
            at,
        } => {
            let change = match outage_lab::configure::Change::new(&set, &unset, None, false) {
                Ok(c) => c,
                Err(outage_lab::configure::ChangeError::Nothing) => Default::default(),
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let request = lab_admin_api::ReleaseRequest {
                binary: binary.map(|b| std::path::absolute(&b).unwrap_or(b)),
                set: change.set,
                unset: change.unset,
                strategy,
                skip_check,
            };
            return release(at, &function, &request, !no_traffic, actor, json).await;
        }
        Command::Rollback { function, actor, at } => return rollback(at, &function, actor).await,
        Command::Configure {
            function,
            set,
            unset,
            reserved_concurrency,
            unreserved,
            actor,
            at,
        } => {
            let change =
                match outage_lab::configure::Change::new(&set, &unset, reserved_concurrency, unreserved) {
                    Ok(c) => c,
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(2);
                    }
                };
            return configure(at, &function, &change, actor).await;
        }
        Command::Drill {
            at,
            scenarios,
            all,
            jobs,
            bin_dir,
            report_dir,
            json,
            delays,
        } => {
            return drill(
                at,
                Selection { scenarios, all, jobs },
                bin_dir,
                report_dir,
                json,
                delays.model(),
            )
            .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// Which scenarios a drill runs, and how many at once.
struct Selection {
    scenarios: Vec<String>,
    all: bool,
    jobs: Option<usize>,
}

async fn drill(
    at: Where,
    Selection { scenarios, all, jobs }: Selection,
    bin_dir: Option<PathBuf>,
    report_dir: Option<PathBuf>,
    json: bool,
    metric_delays: outage_config::MetricDelays,
) -> ExitCode {
    use outage_lab::drill::scenarios::{run, CatalogueOptions, Exit};
    let options = match (
        root_of(&at),
        bin_dir.map_or_else(
            || outage_lab::default_bin_dir().context("cannot find this executable's folder"),
            Ok,
        ),
    ) {
        (Ok(root), Ok(bin_dir)) => CatalogueOptions {
            root,
            stage: at.stage,
            bin_dir,
            report_dir,
            jobs: jobs.unwrap_or(usize::MAX),
            scenarios,
            all,
            metric_delays,
        },
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    match run(options).await {
        Ok((exit, result, text)) => {
            if exit != Exit::Usage {
                if json {
                    match serde_json::to_string_pretty(&result) {
                        Ok(doc) => println!("{doc}"),
                        Err(e) => eprintln!("error: {e}"),
                    }
                } else {
                    print!("{text}");
                }
            }
            ExitCode::from(match exit {
                Exit::Passed => 0,
                Exit::Failed => 1,
                Exit::Usage => 2,
                Exit::RestoreFailed => 3,
            })
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

async fn up(
    at: Where,
    port: u16,
    admin_port: u16,
    bin_dir: Option<PathBuf>,
    metric_delays: outage_config::MetricDelays,
) -> anyhow::Result<()> {
    let root = root_of(&at)?;
    let bin_dir = match bin_dir {
        Some(d) => d,
        None => outage_lab::default_bin_dir().context("cannot find this executable's folder")?,
    };
    let config = LabConfig {
        root,
        stage: at.stage.clone(),
        port,
        admin_port,
        bin_dir,
        run_dir: None,
        console: true,
        metric_delays,
        reserved_concurrency: Default::default(),
    };
    let lab = Lab::start(config)
        .await
        .with_context(|| format!("cannot start the lab for stage {}", at.stage))?;
    let s = &lab.state;
    println!("gateway: {}", lab.gateway_url);
    println!("admin: {}", lab.admin_url);
    println!("run folder: {}", lab.run_dir.display());
    println!("admin token: {}", lab.token_file.display());
    println!("logs: {}", lab.logs_dir().display());
    println!("notifications: {}", lab.notifications_file().display());
    println!(
        "metric delays: EMF {:.0} s after the log line, AWS/Lambda and AWS/ApiGateway {:.0} s after their minute closes",
        metric_delays.emf.as_secs_f64(),
        metric_delays.vended.as_secs_f64()
    );
    let broken: Vec<&str> = s
        .stage
        .functions
        .keys()
        .filter(|k| s.stage.is_known_broken(k))
        .map(String::as_str)
        .collect();
    let topics = if broken.is_empty() {
        format!("topic {}", s.stage.alarm_topic_name())
    } else {
        format!(
            "topic {}; {} deployed broken on purpose, its alarms go to {} and page nobody",
            s.stage.alarm_topic_name(),
            broken.join(", "),
            s.stage.known_broken_topic_name()
        )
    };
    println!(
        "stage {}: {} functions, {} routes, {} alarms and composite {} ({topics}); Ctrl-C stops",
        s.stage.stage,
        s.pools.len(),
        s.stage.routes.len(),
        s.alarms.alarms().len(),
        s.alarms
            .composites()
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    );
    wait_for_stop().await;
    eprintln!("stopping: shutting down function processes");
    lab.shutdown().await;
    Ok(())
}

async fn wait_for_stop() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}

fn alarm_replay(
    incident: &Path,
    function: Option<&str>,
    mut settings: Vec<lab_cloudwatch::replay::Setting>,
    delays: Vec<f64>,
    json: bool,
) -> anyhow::Result<()> {
    use outage_lab::alarm_replay::{run, DEFAULT_DELAYS_S, DEFAULT_SETTINGS};
    if settings.is_empty() {
        settings = DEFAULT_SETTINGS
            .iter()
            .map(|s| s.parse().map_err(anyhow::Error::msg))
            .collect::<anyhow::Result<_>>()?;
    }
    let delays: Vec<std::time::Duration> = if delays.is_empty() {
        DEFAULT_DELAYS_S.to_vec()
    } else {
        delays
    }
    .into_iter()
    .map(std::time::Duration::from_secs_f64)
    .collect();
    let replayed = run(incident, function, &settings, &delays)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&replayed.json())?);
    } else {
        print!("{}", replayed.table());
    }
    Ok(())
}

fn alarm_eval() -> ExitCode {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("error: cannot read stdin: {e}");
        return ExitCode::from(1);
    }
    match lab_cloudwatch::run_alarm_eval(&input) {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The running lab of a stage (the run folder `.outage-lab/<stage>/current` links to).
fn running_lab(at: &Where) -> anyhow::Result<(LabInfo, AdminClient)> {
    let root = root_of(at)?;
    AdminClient::discover(&root, &at.stage).map_err(anyhow::Error::msg)
}

async fn logs(
    at: Where,
    function: &str,
    filter: Option<String>,
    since: Option<String>,
) -> anyhow::Result<()> {
    let since_s = match &since {
        Some(s) => Some(
            outage_lab::time_fmt::parse_duration(s)
                .map_err(anyhow::Error::msg)
                .context("--since")?
                .as_secs(),
        ),
        None => None,
    };
    let (info, admin) = running_lab(&at)?;
    let query = LogQuery {
        filter,
        since_s,
        limit: None,
    };
    let events = admin
        .logs(function, &query)
        .await
        .with_context(|| format!("the lab at {}", info.admin_url))?;
    for e in events {
        let when = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(e.timestamp) * 1_000_000)
            .map(outage_lab::time_fmt::rfc3339)
            .unwrap_or_default();
        println!("{when} {} {}", e.log_stream, e.message);
    }
    Ok(())
}

async fn configure(
    at: Where,
    function: &str,
    change: &outage_lab::configure::Change,
    actor: Option<String>,
) -> ExitCode {
    let (info, admin) = match acting_lab(&at, actor) {
        Ok(found) => found,
        Err(code) => return code,
    };
    match outage_lab::configure::configure(&admin, function, change).await {
        Ok(lines) => {
            for line in lines {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        // The lab refused the change (an unknown function, a bad FAULT_* value): bad input.
        Err(e) => admin_failure(&info, &e),
    }
}

/// The running lab, its client acting as `actor` (default `$USER`, else `responder`) for the
/// change history; no running lab is exit 1.
fn acting_lab(at: &Where, actor: Option<String>) -> Result<(LabInfo, AdminClient), ExitCode> {
    let (info, admin) = running_lab(at).map_err(|e| {
        eprintln!("error: {e:#}");
        ExitCode::from(1)
    })?;
    let actor = actor
        .or_else(|| std::env::var("USER").ok())
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "responder".to_owned());
    Ok((info, admin.with_actor(&actor)))
}

/// Refused by the lab (unknown function, bad strategy, a release already running, nothing to
/// do): exit 2, nothing changed. Anything else: exit 1.
fn admin_failure(info: &LabInfo, e: &lab_admin_api::AdminError) -> ExitCode {
    match e {
        lab_admin_api::AdminError::Rejected(_) | lab_admin_api::AdminError::NotFound(_) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
        _ => {
            eprintln!("error: the lab at {}: {e}", info.admin_url);
            ExitCode::from(1)
        }
    }
}

async fn release(
    at: Where,
    function: &str,
    request: &lab_admin_api::ReleaseRequest,
    bake_traffic: bool,
    actor: Option<String>,
    json: bool,
) -> ExitCode {
    let stage = match root_of(&at).and_then(|root| Ok(outage_config::Stage::load_named(&root, &at.stage)?)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let (info, admin) = match acting_lab(&at, actor) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let say = |line: String| {
        if json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    };
    let follow = outage_lab::release::follow::follow(
        &admin,
        &info.gateway_url,
        &stage,
        function,
        request,
        bake_traffic,
        &say,
    );
    match follow.await {
        Ok(done) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&done).unwrap_or_default());
            }
            if done.status == lab_admin_api::ReleaseStatus::Succeeded {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => admin_failure(&info, &e),
    }
}

async fn rollback(at: Where, function: &str, actor: Option<String>) -> ExitCode {
    let (info, admin) = match acting_lab(&at, actor) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let asked = match admin.rollback(function).await {
        Ok(r) => r,
        Err(e) => return admin_failure(&info, &e),
    };
    let Some(mut done) = asked.release else {
        println!("{function}: {}", asked.message);
        return ExitCode::SUCCESS;
    };
    // A running release stops on the lab's side within a second: wait for its end.
    for _ in 0..50 {
        if done.status.is_done() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        match admin.release(&done.id).await {
            Ok(r) => done = r,
            Err(e) => return admin_failure(&info, &e),
        }
    }
    if let Some(e) = done.events.last() {
        println!("release {}: {}", done.id, e.message);
    }
    for line in outage_lab::release::follow::summary(&done) {
        println!("{line}");
    }
    ExitCode::SUCCESS
}

async fn changes(at: Where, since: Option<String>, json: bool) -> anyhow::Result<()> {
    let since = match &since {
        Some(s) => Some(
            outage_lab::time_fmt::parse_duration(s)
                .map_err(anyhow::Error::msg)
                .context("--since")?,
        ),
        None => None,
    };
    let (info, admin) = running_lab(&at)?;
    let events = admin
        .changes()
        .await
        .with_context(|| format!("the lab at {}", info.admin_url))?;
    let from = since.map(|d| time::OffsetDateTime::now_utc() - d);
    let shown: Vec<_> = events
        .iter()
        .filter(|e| from.is_none_or(|f| e.event_time >= f))
        .collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    if shown.is_empty() {
        println!("no changes{}", if since.is_some() { " in that time" } else { "" });
    }
    for e in shown {
        println!(
            "{} {} {} by {}: {}",
            outage_lab::time_fmt::rfc3339(e.event_time),
            e.event_name,
            e.function_name,
            e.actor,
            e.summary
        );
    }
    Ok(())
}

async fn status(at: Where) -> anyhow::Result<()> {
    let (info, admin) = running_lab(&at)?;
    let answer = |e| anyhow::anyhow!("the lab at {}: {e}", info.admin_url);
    let status = admin.status().await.map_err(answer)?;
    let functions = admin.functions().await.map_err(answer)?;
    let alarms = admin.alarms().await.map_err(answer)?;
    let composites = admin.composite_alarms().await.map_err(answer)?;
    println!(
        "stage {} (pid {}), started {}",
        info.stage, info.pid, info.started_at
    );
    println!("gateway: {}", info.gateway_url);
    println!("admin: {}", info.admin_url);
    println!("run folder: {}", Path::new(&info.run_dir).display());
    println!("alarms: {}", serde_json::to_string(&status.alarms)?);
    for f in functions {
        let states: Vec<&str> = f
            .environments
            .iter()
            .map(|e| match e.state {
                EnvironmentState::Cold => "cold",
                EnvironmentState::Warm => "warm",
                EnvironmentState::Busy => "busy",
            })
            .collect();
        println!(
            "function {} ({}): {} environments {:?}, reserved concurrency {}, $LATEST variables {}",
            f.key,
            f.configuration.function_name,
            f.environments.len(),
            states,
            f.configuration
                .reserved_concurrent_executions
                .map_or("none (unreserved)".to_owned(), |n| n.to_string()),
            serde_json::to_string(&f.configuration.environment.variables)?
        );
        // What clients get: the versions on the `live` alias, which may differ from $LATEST.
        if let Some(live) = &f.live {
            let served: Vec<String> = live
                .versions
                .iter()
                .map(|v| {
                    Ok(format!(
                        "version {} ({:.0}%, variables {})",
                        v.version,
                        v.weight * 100.0,
                        serde_json::to_string(&v.variables)?
                    ))
                })
                .collect::<anyhow::Result<_>>()?;
            println!("  live: {}", served.join(" + "));
        }
    }
    for a in alarms {
        println!("alarm {} {}: {}", a.alarm_name, a.state_value, a.state_reason);
    }
    for c in composites {
        println!(
            "composite alarm {} {}: {}",
            c.alarm_name, c.state_value, c.state_reason
        );
    }
    Ok(())
}

async fn gameday(
    at: Where,
    choice: outage_lab::gameday::plan::Choice,
    max_minutes: u64,
    bin_dir: Option<PathBuf>,
    port: u16,
    admin_port: u16,
    metric_delays: outage_config::MetricDelays,
) -> ExitCode {
    use outage_lab::gameday::{run, Exit, GameDayOptions};
    let (root, bin_dir) = match (
        root_of(&at),
        bin_dir.map_or_else(
            || outage_lab::default_bin_dir().context("cannot find this executable's folder"),
            Ok,
        ),
    ) {
        (Ok(r), Ok(b)) => (r, b),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let options = GameDayOptions {
        root,
        stage: at.stage,
        bin_dir,
        choice,
        max_duration: std::time::Duration::from_secs(max_minutes * 60),
        metric_delays,
        port,
        admin_port,
    };
    match run(options, wait_for_stop()).await {
        Ok(Exit::Resolved) => ExitCode::SUCCESS,
        Ok(Exit::NotResolved) => ExitCode::from(1),
        Ok(Exit::Usage) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// What the responder tells the running game day.
enum Respond {
    Ack,
    Hint,
    Diagnose(lab_admin_api::Diagnosis),
}

/// One responder command against the stage's running game day: prints what was recorded.
/// Exit 2 when the game day refused it (an unknown function or cause, the game day over), 1
/// when no game day runs.
async fn responder(at: Where, what: Respond) -> ExitCode {
    let (_, admin) = match running_lab(&at) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: {e:#}; no game day runs on stage {}", at.stage);
            return ExitCode::from(1);
        }
    };
    let answer = match &what {
        Respond::Ack => admin.gameday_ack().await,
        Respond::Hint => admin.gameday_hint().await,
        Respond::Diagnose(d) => admin.gameday_diagnose(d).await,
    };
    match answer {
        Ok(reply) => {
            println!("{}", reply.message);
            ExitCode::SUCCESS
        }
        Err(lab_admin_api::AdminError::Rejected(m)) => {
            eprintln!("error: {m}");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!(
                "error: {e}; no game day runs on stage {} (has it ended?)",
                at.stage
            );
            ExitCode::from(1)
        }
    }
}

async fn gameday_give_up(at: Where) -> ExitCode {
    let (_, admin) = match running_lab(&at) {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: {e:#}; no game day runs on stage {}", at.stage);
            return ExitCode::from(1);
        }
    };
    let view = match admin.gameday().await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(1);
        }
    };
    match admin.gameday_give_up().await {
        Ok(reply) => println!("{}", reply.message),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    // The game-day process writes the scorecard as it ends.
    let card = Path::new(&view.folder).join(outage_lab::gameday::record::SCORECARD);
    for _ in 0..120 {
        if let Ok(text) = std::fs::read_to_string(&card) {
            if let Ok(c) = serde_json::from_str::<outage_lab::gameday::score::Scorecard>(&text) {
                println!(
                    "the incident was: {} (cause {} in {}; scenario {}); score {}/100",
                    c.title, c.cause, c.function, c.scenario, c.score
                );
                println!("scorecard: {}", card.display());
                println!(
                    "postmortem draft: {}",
                    Path::new(&view.folder)
                        .join(outage_lab::gameday::record::POSTMORTEM)
                        .display()
                );
                return ExitCode::SUCCESS;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    eprintln!("error: the game day did not write {} within 30 s", card.display());
    ExitCode::from(1)
}

fn gameday_history(at: Where) -> ExitCode {
    use outage_lab::gameday::{history, record};
    let root = match root_of(&at) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    let dir = record::gamedays_dir(&root, &at.stage);
    if let Err(e) = history::close_abandoned(&dir) {
        eprintln!("error: {}: {e}", dir.display());
        return ExitCode::from(1);
    }
    match history::read(&dir) {
        Ok((entries, bad)) => {
            for b in bad {
                eprintln!("warning: {b}");
            }
            print!("{}", history::table(&entries));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {}: {e}", dir.join(record::HISTORY).display());
            ExitCode::from(1)
        }
    }
}
