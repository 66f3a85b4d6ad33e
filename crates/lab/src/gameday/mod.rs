//! `outage-lab gameday`: a hidden incident on a lab of its own, a person to find and fix it.
//!
//! The lab starts with steady traffic on the stage's healthy routes; after a random quiet time
//! the game day injects an incident of the catalogue ([`plan`]) through the control plane, as a
//! deploy would, and prints only what a pager would: the paging alarms' notifications with their
//! runbook, and the dashboard's address. The responder works with the ordinary commands
//! (`status`, `logs`, `changes`, `configure`) and the game-day ones behind [`desk`] (`ack`,
//! `diagnose`, `hint`, `gameday --give-up`). The lab decides when the incident is over (the fault
//! gone from the configuration, every paging alarm OK, healthy traffic for a full alarm period
//! after the fix), then writes the scorecard ([`score`]), the postmortem draft ([`postmortem`])
//! and a line of the history ([`history`]) into `.outage-lab/<stage>/gamedays/`.

pub mod desk;
pub mod history;
pub mod plan;
pub mod postmortem;
pub mod record;
pub mod score;

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use lab_admin_api::{AdminClient, ChangeEvent, GameDayOutcome, Notification};
use outage_config::{AlarmState, AlarmSubject, FaultConfig, FaultMode, MetricDelays, Stage};
use outage_drill::load::HttpLoad;
use outage_drill::ports::{Load, LoadHandle, Observation};
use outage_drill::traffic::HttpTraffic;
use time::OffsetDateTime;

use crate::{Lab, LabConfig, LabHandle};
use desk::Desk;
use plan::{Cause, Choice, Plan, DEPLOYER, OWN_ACTORS};
use record::Line;
use score::{Action, Guess, Scorecard};

/// What the person starting a game day chooses.
#[derive(Debug, Clone)]
pub struct GameDayOptions {
    pub root: PathBuf,
    pub stage: String,
    pub bin_dir: PathBuf,
    pub choice: Choice,
    /// The game day ends unresolved after this long from the injection.
    pub max_duration: Duration,
    pub metric_delays: MetricDelays,
    pub port: u16,
    pub admin_port: u16,
}

/// How the command ends, for its exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Resolved,
    /// Gave up or abandoned (time limit, interrupt): the record and the scorecard are written.
    NotResolved,
    /// Bad input or a busy stage: nothing started.
    Usage,
}

/// How often the game day looks at the lab.
const TICK: Duration = Duration::from_millis(500);

/// Runs a game day to its end. `interrupt` (Ctrl-C, SIGTERM) abandons it, recorded as such.
pub async fn run(options: GameDayOptions, interrupt: impl Future<Output = ()>) -> anyhow::Result<Exit> {
    let usage = |e: String| {
        eprintln!("error: {e}");
        Ok(Exit::Usage)
    };
    let stage = match Stage::load_named(&options.root, &options.stage) {
        Ok(s) => s,
        Err(e) => return usage(format!("stage {}: {e}", options.stage)),
    };
    let catalogue =
        match outage_scenario::catalogue(&options.root.join(outage_scenario::CATALOGUE_DIR), &stage) {
            Ok(c) => c,
            Err(e) => return usage(e.to_string()),
        };
    let plan = match plan::plan(&stage, &catalogue, &options.choice) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    let dir = record::gamedays_dir(&options.root, &stage.stage);
    for entry in history::close_abandoned(&dir)? {
        eprintln!(
            "note: game day {} was abandoned (its process stopped before the end); its record and the history say so",
            entry.id
        );
    }
    if let Ok((info, admin)) = AdminClient::discover(&options.root, &stage.stage) {
        if admin.health().await.is_ok() {
            let busy = match admin.gameday().await {
                Ok(g) => format!(
                    "game day {} runs there: end it with `outage-lab gameday --give-up --stage {}`",
                    g.id, stage.stage
                ),
                Err(_) => "stop it first (Ctrl-C where it runs)".into(),
            };
            return usage(format!(
                "a lab already runs on stage {} (admin {}, pid {}): a game day needs the stage to itself; {busy}",
                stage.stage, info.admin_url, info.pid
            ));
        }
    }

    let mut deployed = BTreeMap::new();
    if let Some(n) = plan.deployed_concurrency {
        deployed.insert(plan.scenario.function.clone(), Some(n));
    }
    let lab = Lab::start(LabConfig {
        root: options.root.clone(),
        stage: stage.stage.clone(),
        port: options.port,
        admin_port: options.admin_port,
        bin_dir: options.bin_dir.clone(),
        run_dir: None,
        console: false,
        metric_delays: options.metric_delays,
        reserved_concurrency: deployed,
    })
    .await
    .with_context(|| format!("cannot start the lab for stage {}", stage.stage))?;
    let result = play(&options, &stage, &plan, &lab, &dir, interrupt).await;
    lab.shutdown().await;
    result
}

fn game_day_id(now: OffsetDateTime) -> String {
    format!("gameday-{}", crate::time_fmt::compact_utc(now))
}

/// The running game day's view of the lab.
struct Game<'a> {
    stage: &'a Stage,
    plan: &'a Plan,
    lab: &'a LabHandle,
    desk: Arc<Desk>,
    admin: AdminClient,
    load: HttpLoad,
    delays: MetricDelays,
    injected_at: Option<OffsetDateTime>,
    mitigated_at: Option<OffsetDateTime>,
    seen_notifications: usize,
    seen_changes: usize,
    actions: Vec<Action>,
    decoys_made: Vec<String>,
    /// The incident's own change, in words, for the reveal.
    incident_change: Option<String>,
}

/// Whether change `i` is a person's action of its own: a hotfix deploy (`configure`) is
/// recorded as UpdateFunctionConfiguration, PublishVersion and UpdateAlias, one action; an
/// UpdateAlias on its own (`rollback`) is one too.
fn is_action(all: &[ChangeEvent], i: usize) -> bool {
    let c = &all[i];
    match c.event_name.as_str() {
        "PublishVersion" => false,
        "UpdateAlias" => !i.checked_sub(1).is_some_and(|p| {
            all[p].event_name == "PublishVersion"
                && all[p].actor == c.actor
                && all[p].function_name == c.function_name
        }),
        _ => true,
    }
}

async fn play(
    options: &GameDayOptions,
    stage: &Stage,
    plan: &Plan,
    lab: &LabHandle,
    dir: &std::path::Path,
    interrupt: impl Future<Output = ()>,
) -> anyhow::Result<Exit> {
    let id = game_day_id(OffsetDateTime::now_utc());
    let folder = dir.join(&id);
    let functions: BTreeSet<String> = stage.functions.keys().cloned().collect();
    let desk = Arc::new(
        Desk::open(
            &id,
            &stage.stage,
            plan.level,
            folder.clone(),
            functions,
            plan.hints(),
        )
        .with_context(|| format!("cannot write the game-day record in {}", folder.display()))?,
    );
    let _ = lab.state.gameday.set(desk.clone());
    let (_, admin) = AdminClient::connect(&lab.admin_url, &lab.token_file).await?;
    let load = HttpLoad::new(HttpTraffic::new(&lab.gateway_url, Duration::from_secs(10))?);
    let steady = load.start(&plan.routes, plan.every);

    println!(
        "game day {id} on stage {}, level {}: an incident will strike without warning. You are on call; this terminal is your pager.",
        stage.stage, plan.level
    );
    println!("dashboard: {}/?token={}", lab.admin_url, lab.token);
    println!(
        "respond: outage-lab ack | outage-lab diagnose --function F --cause C | outage-lab hint | outage-lab gameday --give-up"
    );
    println!(
        "investigate and act: outage-lab status | logs F | changes | configure F ...; causes: {}",
        Cause::names().join(", ")
    );
    println!(
        "known and documented: {} is deployed broken on purpose; its alarms page nobody",
        stage
            .functions
            .keys()
            .filter(|k| stage.is_known_broken(k))
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut game = Game {
        stage,
        plan,
        lab,
        desk: desk.clone(),
        admin,
        load,
        delays: options.metric_delays,
        injected_at: None,
        mitigated_at: None,
        seen_notifications: 0,
        seen_changes: 0,
        actions: Vec::new(),
        decoys_made: Vec::new(),
        incident_change: None,
    };
    let started = Instant::now();
    let inject_due = started + plan.quiet;
    let mut surge: Option<LoadHandle> = None;
    let mut recovered_at = None;
    let mut tick = tokio::time::interval(TICK);
    tokio::pin!(interrupt);
    let (outcome, note) = loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = &mut interrupt => break (GameDayOutcome::Abandoned, Some("stopped by a signal (Ctrl-C)".to_owned())),
            _ = desk.gave_up.notified() => break (GameDayOutcome::GaveUp, None),
        }
        if game.injected_at.is_none() && Instant::now() >= inject_due {
            match game.inject().await {
                Ok(s) => surge = s,
                Err(e) => {
                    break (
                        GameDayOutcome::Abandoned,
                        Some(format!("the incident could not be injected: {e:#}")),
                    )
                }
            }
        }
        game.pages();
        game.responder_changes();
        game.idle_hint();
        if let Some(injected) = game.injected_at {
            if let Some(at) = game.recovered().await {
                recovered_at = Some(at);
                break (GameDayOutcome::Resolved, None);
            }
            if (OffsetDateTime::now_utc() - injected).unsigned_abs() >= options.max_duration {
                break (
                    GameDayOutcome::Abandoned,
                    Some(format!(
                        "the time limit passed: not resolved within {} min of the incident",
                        options.max_duration.as_secs() / 60
                    )),
                );
            }
        }
    };
    drop(surge);
    game.pages();
    game.responder_changes();
    drop(steady);
    desk.end(outcome, note.clone());
    let card = game.scorecard(outcome, recovered_at);
    desk.write(&Line::Answer {
        scenario: plan.scenario.name.clone(),
        title: plan.scenario.title.clone(),
        function: plan.scenario.function.clone(),
        cause: plan.cause.as_str().into(),
        seed: plan.seed,
        injected_at: game.injected_at,
        change: game.incident_change.clone(),
        lesson: plan.scenario.lesson.clone(),
        decoys: game.decoys_made.clone(),
    });
    let (lines, _) = record::read(&folder)?;
    std::fs::write(
        folder.join(record::SCORECARD),
        serde_json::to_string_pretty(&card)?,
    )?;
    std::fs::write(
        folder.join(record::POSTMORTEM),
        postmortem::draft(
            &card,
            &lines,
            &crate::admin::runbook_href(&lab.admin_url, &plan.scenario.runbook),
        ),
    )?;
    history::append(dir, &history::Entry::from(&card))?;

    println!();
    println!(
        "game day {id}: {}{}",
        outcome.as_str(),
        note.map_or(String::new(), |n| format!(" ({n})"))
    );
    println!(
        "the incident was: {} (cause {} in {}; scenario {}, seed {})",
        plan.scenario.title,
        plan.cause.as_str(),
        plan.scenario.function,
        plan.scenario.name,
        plan.seed
    );
    if let Some(change) = &game.incident_change {
        println!("the change: {change}");
    }
    if !game.decoys_made.is_empty() {
        println!("harmless changes around it: {}", game.decoys_made.join("; "));
    }
    println!("lesson: {}", plan.scenario.lesson);
    println!(
        "score {}/100: acknowledged {}, right diagnosis {}, mitigated {}, recovered {} after the first page; {} wrong diagnosis(es), {} change(s) to healthy functions, {} hint(s)",
        card.score,
        secs(card.time_to_ack_s),
        secs(card.time_to_diagnosis_s),
        secs(card.time_to_mitigate_s),
        secs(card.time_to_recover_s),
        card.wrong_diagnoses,
        card.collateral.len(),
        card.hints_used
    );
    for d in &card.deductions {
        println!("  -{} {}", d.points, d.why);
    }
    println!("scorecard: {}", folder.join(record::SCORECARD).display());
    println!("postmortem draft: {}", folder.join(record::POSTMORTEM).display());
    println!("history: outage-lab gameday --history --stage {}", stage.stage);
    Ok(if outcome == GameDayOutcome::Resolved {
        Exit::Resolved
    } else {
        Exit::NotResolved
    })
}

fn secs(s: Option<f64>) -> String {
    s.map_or("never".into(), |s| format!("{s:.0} s"))
}

impl Game<'_> {
    fn function(&self) -> &str {
        &self.plan.scenario.function
    }

    /// The incident, as deploys make it: decoys, the faulty change, more decoys, the surge.
    async fn inject(&mut self) -> anyhow::Result<Option<LoadHandle>> {
        let plan = self.plan;
        let function = plan.scenario.function.clone();
        for d in plan.decoys.iter().filter(|d| d.before) {
            self.decoy(d).await?;
        }
        let deployer = self.admin.clone().with_actor(DEPLOYER);
        let mut said = Vec::new();
        if let Some(n) = plan.inject_concurrency {
            deployer.put_concurrency(&function, n).await?;
            said.push(format!("reserved concurrency {n}"));
        }
        if !plan.fault_vars.is_empty() {
            let mut vars = deployer.configuration(&function).await?.environment.variables;
            vars.extend(plan.fault_vars.clone());
            deployer.update_configuration(&function, &vars).await?;
            deployer.serve_latest(&function).await?;
            said.extend(plan.fault_vars.iter().map(|(k, v)| format!("{k}={v}")));
        }
        self.incident_change = Some(match (said.is_empty(), plan.deployed_concurrency) {
            (true, Some(n)) => {
                format!("none: {function} was deployed with reserved concurrency {n} and a surge arrived")
            }
            (true, None) => format!("none: a surge on {function}"),
            (false, _) => format!("{DEPLOYER} set {} on {function}", said.join(", ")),
        });
        for d in plan.decoys.iter().filter(|d| !d.before) {
            self.decoy(d).await?;
        }
        self.injected_at = Some(OffsetDateTime::now_utc());
        self.seen_changes = self.lab.state.changes.all().len();
        Ok(plan.scenario.surge.as_ref().map(|surge| {
            let routes: Vec<String> = (0..surge.concurrency as usize)
                .map(|i| surge.routes[i % surge.routes.len()].clone())
                .collect();
            self.load.start(&routes, surge.interval)
        }))
    }

    async fn decoy(&mut self, d: &plan::Decoy) -> anyhow::Result<()> {
        let client = self.admin.clone().with_actor(d.actor);
        let mut vars = client.configuration(&d.function).await?.environment.variables;
        vars.extend(d.set.clone());
        client.update_configuration(&d.function, &vars).await?;
        client.serve_latest(&d.function).await?;
        let set: Vec<String> = d.set.iter().map(|(k, v)| format!("{k}={v}")).collect();
        self.decoys_made
            .push(format!("{} set {} on {}", d.actor, set.join(" "), d.function));
        Ok(())
    }

    /// Prints and records each new notification of the paging topic, as a pager shows it.
    fn pages(&mut self) {
        let all: Vec<Notification> = self.lab.state.outbox.all();
        let topic = self.stage.alarm_topic_name();
        for n in all.iter().skip(self.seen_notifications) {
            // The start-up INSUFFICIENT_DATA -> OK of every alarm is no news to anyone.
            if n.topic != topic || n.old_state == AlarmState::InsufficientData {
                continue;
            }
            let when = crate::time_fmt::rfc3339(n.timestamp);
            let word = if n.new_state == AlarmState::Alarm {
                "PAGE"
            } else {
                "update"
            };
            println!("{word} {when} {} is {}: {}", n.alarm_name, n.new_state, n.reason);
            if let Some(link) = outage_config::runbook_in(&n.description) {
                println!(
                    "      runbook: {}",
                    crate::admin::runbook_href(&self.lab.admin_url, link)
                );
            }
            self.desk
                .page(n.timestamp, &n.alarm_name, &n.new_state.to_string());
        }
        self.seen_notifications = all.len();
    }

    /// Records the responder's changes (anyone but the game day's own actors).
    fn responder_changes(&mut self) {
        let all = self.lab.state.changes.all();
        for (i, c) in all.iter().enumerate().skip(self.seen_changes) {
            if OWN_ACTORS.contains(&c.actor.as_str()) || !is_action(&all, i) {
                continue;
            }
            let key = self
                .stage
                .functions
                .keys()
                .find(|k| self.stage.function_name(k) == c.function_name)
                .cloned()
                .unwrap_or_else(|| c.function_name.clone());
            self.desk.change(c.event_time, &c.actor, &key, &c.summary);
            self.actions.push(Action {
                at: c.event_time,
                actor: c.actor.clone(),
                function: key,
                summary: c.summary.clone(),
            });
        }
        self.seen_changes = all.len();
    }

    /// Offers the next hint after the level's idle time with no command from the responder.
    fn idle_hint(&mut self) {
        let (Some(idle), Some(_), None) = (self.plan.idle_hint, self.injected_at, self.mitigated_at) else {
            return;
        };
        let s = self.desk.state();
        let Some(paged) = s.first_page_at else {
            return;
        };
        let since = s.last_activity.max(paged);
        if (OffsetDateTime::now_utc() - since).unsigned_abs() >= idle {
            if let Ok(reply) = self.desk.hint(false) {
                println!("idle for {} s: {}", idle.as_secs(), reply.message);
            }
        }
    }

    /// Whether the function still carries the incident: its fault in the configuration, or the
    /// reserved concurrency the surge runs into. Read from the lab this process runs, as the
    /// alarms, notifications and changes are.
    fn fault_present(&self) -> bool {
        let Some(pool) = self.lab.state.pools.get(self.function()) else {
            return false;
        };
        if !self.plan.fault_vars.is_empty() {
            let now = OffsetDateTime::now_utc();
            // What the API's alias serves, every version of it: a fix left on `$LATEST` only
            // has not reached a single client.
            for (version, _) in pool.served_versions() {
                match FaultConfig::from_vars(&version.variables) {
                    Ok(f) if f.mode != FaultMode::None && !f.is_expired(now) => return true,
                    // Unparseable fault variables break the function at start-up: still broken.
                    Err(_) => return true,
                    Ok(_) => {}
                }
            }
        }
        self.plan
            .incident_concurrency()
            .is_some_and(|n| pool.reserved_concurrency().is_some_and(|r| r <= n))
    }

    /// How long healthy traffic must run after the fix: the longest period, plus its metric
    /// lag, of the paging alarms that watch the function or the API. By then every period that
    /// saw failures has closed and been evaluated, so no page for this incident is still to come.
    fn settle(&self) -> Duration {
        let topic = self.stage.alarm_topic_name();
        self.stage
            .alarm_definitions("")
            .iter()
            .filter(|d| d.topic == topic)
            .filter(|d| match &d.subject {
                AlarmSubject::Function(key) => key == self.function(),
                AlarmSubject::Api => true,
            })
            .map(|d| Duration::from_secs(u64::from(d.period_s)) + self.delays.alarm_lag(d))
            .max()
            .unwrap_or(Duration::from_secs(60))
    }

    /// When the incident is over: the fault gone, every paging alarm OK, and a full period of
    /// healthy traffic on the function's routes since the fix.
    async fn recovered(&mut self) -> Option<OffsetDateTime> {
        let now = OffsetDateTime::now_utc();
        if self.fault_present() {
            self.mitigated_at = None;
            return None;
        }
        let mitigated = *self.mitigated_at.get_or_insert_with(|| {
            self.desk.write(&Line::Mitigated { at: now });
            now
        });
        let settle = self.settle();
        if (now - mitigated).unsigned_abs() < settle {
            return None;
        }
        let topic = self.stage.alarm_topic_name();
        let paging_quiet = self
            .lab
            .state
            .alarms
            .alarms()
            .iter()
            .filter(|a| a.definition.topic == topic)
            .all(|a| a.state != AlarmState::Alarm)
            && self
                .lab
                .state
                .alarms
                .composites()
                .iter()
                .all(|c| c.state != AlarmState::Alarm);
        if !paging_quiet {
            return None;
        }
        let from = now - settle;
        let window: Vec<Observation> = self
            .load
            .observations()
            .into_iter()
            .filter(|o| o.at >= from && self.plan.scenario.function_routes.contains(&o.route))
            .collect();
        let healthy = !window.is_empty() && window.iter().all(|o| !o.failed() && o.latency_ms < 1000.0);
        healthy.then_some(now)
    }

    fn scorecard(&self, outcome: GameDayOutcome, recovered_at: Option<OffsetDateTime>) -> Scorecard {
        let s = self.desk.state();
        let plan = self.plan;
        let diagnoses: Vec<Guess> = s
            .diagnoses
            .iter()
            .map(|d| Guess {
                at: d.at,
                function: d.function.clone(),
                cause: d.cause.as_str().into(),
                correct: d.function == plan.scenario.function && d.cause == plan.cause,
            })
            .collect();
        let correct_diagnosis_at = diagnoses.iter().find(|d| d.correct).map(|d| d.at);
        let collateral: Vec<Action> = self
            .actions
            .iter()
            .filter(|a| a.function != plan.scenario.function)
            .cloned()
            .collect();
        let (requests, failed) = match self.injected_at {
            Some(from) => {
                let window: Vec<Observation> = self
                    .load
                    .observations()
                    .into_iter()
                    .filter(|o| o.at >= from && plan.scenario.function_routes.contains(&o.route))
                    .collect();
                (
                    window.len() as u64,
                    window.iter().filter(|o| o.failed()).count() as u64,
                )
            }
            None => (0, 0),
        };
        let mut card = Scorecard {
            id: self.desk.id.clone(),
            stage: self.stage.stage.clone(),
            level: plan.level,
            outcome,
            scenario: plan.scenario.name.clone(),
            title: plan.scenario.title.clone(),
            function: plan.scenario.function.clone(),
            cause: plan.cause.as_str().into(),
            seed: plan.seed,
            started_at: s.started_at,
            injected_at: self.injected_at,
            first_page_at: s.first_page_at,
            acknowledged_at: s.acknowledged_at,
            correct_diagnosis_at,
            mitigated_at: if outcome == GameDayOutcome::Resolved {
                self.mitigated_at
            } else {
                None
            },
            recovered_at,
            ended_at: OffsetDateTime::now_utc(),
            time_to_page_s: None,
            time_to_ack_s: None,
            time_to_diagnosis_s: None,
            time_to_mitigate_s: None,
            time_to_recover_s: None,
            diagnoses,
            wrong_diagnoses: 0,
            collateral_actions: 0,
            collateral,
            actions: self.actions.clone(),
            hints_used: s.hints.len() as u32,
            requests,
            failed_requests: failed,
            score: 0,
            deductions: Vec::new(),
        }
        .with_times();
        let (points, deductions) = score::score(&card);
        card.score = points;
        card.deductions = deductions;
        card
    }
}
