//! Running a drill: break, detect, fix, validate, with the restore on every path.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use outage_config::{FaultConfig, FaultMode};
use serde::Serialize;
use time::OffsetDateTime;
use tokio::task::JoinSet;
use tokio::time::{sleep, Instant};

use super::events::{DrillEvent, DrillEventKind, EventSink, Step};
use super::{DrillError, DrillPlan};
use crate::error::PortError;
use crate::maths::TrafficPlan;
use crate::ports::{AlarmSource, AlarmState, AlarmStatus, ControlPlane, TrafficDriver, Variables};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DrillOutcome {
    /// ALARM seen, prior configuration restored, OK seen.
    Passed,
    /// A step failed (no ALARM, no OK, an update failed); the prior configuration was restored.
    Failed,
    /// Interrupted (Ctrl-C); the prior configuration was restored.
    Interrupted,
    /// The prior configuration could NOT be restored: a person must act.
    RestoreFailed,
}

/// Requests sent in one phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct TrafficCounts {
    pub sent: u32,
    /// 2xx answers.
    pub ok: u32,
    /// 5xx answers.
    pub failed: u32,
    /// Other answers (4xx) or no answer at all.
    pub errors: u32,
}

/// What the drill did and measured.
#[derive(Debug, Clone, Serialize)]
pub struct DrillReport {
    pub plan: DrillPlan,
    pub outcome: DrillOutcome,
    /// Why the drill did not pass.
    pub failure: Option<String>,
    pub function_name: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub injected_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub alarm_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub restored_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ok_at: Option<OffsetDateTime>,
    /// Fault injected (update applied) -> ALARM seen.
    pub mttd_s: Option<f64>,
    /// Fix applied (restore applied) -> OK seen.
    pub mttr_s: Option<f64>,
    pub total_s: f64,
    pub fault_expires_at: Option<String>,
    pub break_traffic: TrafficCounts,
    pub recovery_traffic: TrafficCounts,
    /// The variables read back after the restore equal the prior ones exactly.
    pub restored_exactly: bool,
    pub prior_revision_id: Option<String>,
    pub events: Vec<DrillEvent>,
}

impl DrillReport {
    pub fn passed(&self) -> bool {
        self.outcome == DrillOutcome::Passed
    }
}

struct Recorder<'a> {
    started: Instant,
    sink: EventSink<'a>,
    events: Mutex<Vec<DrillEvent>>,
}

impl Recorder<'_> {
    fn emit(&self, kind: DrillEventKind) {
        let event = DrillEvent {
            at: OffsetDateTime::now_utc(),
            elapsed_s: self.started.elapsed().as_secs_f64(),
            kind,
        };
        (self.sink)(&event);
        self.events.lock().expect("event log poisoned").push(event);
    }
}

/// Runs the drill.
///
/// `interrupt` resolves when the drill must stop (the binary passes Ctrl-C); the drill then
/// restores and returns [`DrillOutcome::Interrupted`]. An `Err` means the drill did not start
/// and nothing was changed; once the fault may have been applied the answer is always a report,
/// whose outcome is [`DrillOutcome::RestoreFailed`] if the prior configuration is not back.
pub async fn run_drill<C, A, T>(
    control: &C,
    alarms: &A,
    traffic: &T,
    plan: &DrillPlan,
    interrupt: impl Future<Output = ()> + Send,
    on_event: EventSink<'_>,
) -> Result<DrillReport, DrillError>
where
    C: ControlPlane,
    A: AlarmSource,
    T: TrafficDriver + Clone + 'static,
{
    let rec = Recorder {
        started: Instant::now(),
        sink: on_event,
        events: Mutex::new(Vec::new()),
    };
    let started_at = OffsetDateTime::now_utc();
    tokio::pin!(interrupt);
    let key = plan.function.as_str();
    let alarm_name = plan.alarm.name.as_str();

    // Baseline: read what is there and refuse to drill a function that is already broken.
    rec.emit(DrillEventKind::StepStarted { step: Step::Baseline });
    // Waiting first also covers a function still settling from a deploy: Lambda refuses an
    // update while another is in progress.
    let prior = bounded(
        plan.update_deadline + CALL_TIMEOUT,
        control.wait_until_applied(key, plan.update_deadline),
    )
    .await?;
    rec.emit(DrillEventKind::PriorConfiguration {
        function_name: prior.function_name.clone(),
        revision_id: prior.revision_id.clone(),
        variables: prior.variables.len(),
    });
    match FaultConfig::from_vars(&prior.variables) {
        Ok(f) if f.mode != FaultMode::None && !f.is_expired(OffsetDateTime::now_utc()) => {
            return Err(DrillError::Precondition(format!(
                "{} already has FAULT_MODE={}; the drill only breaks a healthy function",
                prior.function_name, f.mode
            )))
        }
        Ok(_) => {}
        Err(e) => return Err(DrillError::Precondition(format!("{}: {e}", prior.function_name))),
    }
    let before = bounded(CALL_TIMEOUT, alarms.alarm(alarm_name)).await?;
    rec.emit(DrillEventKind::AlarmState {
        alarm: before.name.clone(),
        state: before.state,
        reason: before.reason.clone(),
    });
    if before.state == AlarmState::Alarm {
        return Err(DrillError::Precondition(format!(
            "alarm {alarm_name} is already in ALARM before the drill ({}); wait for it to clear",
            before.reason
        )));
    }
    rec.emit(DrillEventKind::StepFinished {
        step: Step::Baseline,
        passed: true,
        detail: format!("{alarm_name} is {}", before.state),
    });

    let mut report = DrillReport {
        plan: plan.clone(),
        outcome: DrillOutcome::Failed,
        failure: None,
        function_name: prior.function_name.clone(),
        started_at,
        injected_at: None,
        alarm_at: None,
        restored_at: None,
        ok_at: None,
        mttd_s: None,
        mttr_s: None,
        total_s: 0.0,
        fault_expires_at: None,
        break_traffic: TrafficCounts::default(),
        recovery_traffic: TrafficCounts::default(),
        restored_exactly: false,
        prior_revision_id: prior.revision_id.clone(),
        events: Vec::new(),
    };

    // Break, then detect. From the update call on, the fault may be live: whatever happens
    // below ends in `restore`.
    rec.emit(DrillEventKind::StepStarted { step: Step::Break });
    let (faulty, expires_at) = plan.faulty_variables(&prior.variables, OffsetDateTime::now_utc());
    report.fault_expires_at = Some(expires_at.clone());
    let break_counts = Mutex::new(TrafficCounts::default());
    let broken = async {
        match bounded(
            CALL_TIMEOUT,
            control.replace_variables(key, &faulty, prior.revision_id.as_deref()),
        )
        .await
        {
            // A refused update changed nothing; there is nothing to restore.
            Err(e @ (PortError::Rejected(_) | PortError::NotFound(_))) => return BreakResult::NotApplied(e),
            Err(e) => return BreakResult::Failed(format!("injecting the fault: {e}")),
            Ok(_) => {}
        }
        if let Err(e) = bounded(
            plan.update_deadline + CALL_TIMEOUT,
            control.wait_until_applied(key, plan.update_deadline),
        )
        .await
        {
            return BreakResult::Failed(format!("waiting for the fault to apply: {e}"));
        }
        if let Err(e) = bounded(CALL_TIMEOUT, control.serve_latest(key)).await {
            return BreakResult::Failed(format!("serving the fault on the `live` alias: {e}"));
        }
        let injected = Instant::now();
        rec.emit(DrillEventKind::FaultInjected {
            function_name: prior.function_name.clone(),
            mode: plan.mode.clone(),
            expires_at: expires_at.clone(),
        });
        rec.emit(DrillEventKind::StepFinished {
            step: Step::Break,
            passed: true,
            detail: format!("FAULT_MODE={}", plan.mode),
        });
        rec.emit(DrillEventKind::StepStarted { step: Step::Detect });
        let deadline = injected + plan.deadlines.alarm;
        let seen = tokio::select! {
            seen = wait_for_state(alarms, alarm_name, AlarmState::Alarm, deadline, plan.poll_interval, &rec) => seen,
            _ = drive_traffic(traffic, &plan.route_path, &plan.traffic, &break_counts) => unreachable!("traffic never ends by itself"),
        };
        match seen {
            Ok(status) => BreakResult::Detected {
                injected,
                seen: Instant::now(),
                status,
            },
            Err(e) => BreakResult::DetectFailed {
                injected,
                reason: e.to_string(),
            },
        }
    };
    let result = tokio::select! {
        r = broken => r,
        _ = &mut interrupt => BreakResult::Interrupted,
    };
    report.break_traffic = *break_counts.lock().expect("counts poisoned");
    if report.break_traffic.sent > 0 {
        let c = report.break_traffic;
        rec.emit(DrillEventKind::Traffic {
            phase: Step::Break,
            sent: c.sent,
            ok: c.ok,
            failed: c.failed,
            errors: c.errors,
        });
    }

    let mut interrupted = false;
    match result {
        BreakResult::NotApplied(e) => {
            report.failure = Some(format!("the fault was not applied: {e}"));
            rec.emit(DrillEventKind::StepFinished {
                step: Step::Break,
                passed: false,
                detail: e.to_string(),
            });
            return Ok(finish(report, rec));
        }
        BreakResult::Failed(reason) => {
            rec.emit(DrillEventKind::StepFinished {
                step: Step::Break,
                passed: false,
                detail: reason.clone(),
            });
            report.failure = Some(reason);
        }
        BreakResult::Detected {
            injected,
            seen,
            status,
        } => {
            let mttd = seen.duration_since(injected).as_secs_f64();
            report.injected_at = Some(at_instant(started_at, rec.started, injected));
            report.alarm_at = Some(at_instant(started_at, rec.started, seen));
            report.mttd_s = Some(mttd);
            rec.emit(DrillEventKind::AlarmRaised {
                alarm: status.name.clone(),
                mttd_s: mttd,
            });
            rec.emit(DrillEventKind::StepFinished {
                step: Step::Detect,
                passed: true,
                detail: status.reason,
            });
        }
        BreakResult::DetectFailed { injected, reason } => {
            report.injected_at = Some(at_instant(started_at, rec.started, injected));
            let reason = format!("alarm {alarm_name} did not reach ALARM: {reason}");
            rec.emit(DrillEventKind::StepFinished {
                step: Step::Detect,
                passed: false,
                detail: reason.clone(),
            });
            report.failure = Some(reason);
        }
        BreakResult::Interrupted => {
            interrupted = true;
            rec.emit(DrillEventKind::Interrupted);
            report.failure = Some("interrupted".into());
        }
    }

    // Fix: always, and not interruptible.
    rec.emit(DrillEventKind::StepStarted { step: Step::Fix });
    match restore(control, key, &prior.variables, plan.update_deadline, &rec).await {
        Ok(config) => {
            let restored = Instant::now();
            report.restored_at = Some(at_instant(started_at, rec.started, restored));
            report.restored_exactly = true;
            rec.emit(DrillEventKind::Restored {
                function_name: config.function_name.clone(),
                revision_id: config.revision_id,
            });
            rec.emit(DrillEventKind::StepFinished {
                step: Step::Fix,
                passed: true,
                detail: "prior variables restored exactly".into(),
            });
            if report.failure.is_some() {
                report.outcome = if interrupted {
                    DrillOutcome::Interrupted
                } else {
                    DrillOutcome::Failed
                };
                return Ok(finish(report, rec));
            }
            // Validate: healthy traffic while the alarm clears.
            rec.emit(DrillEventKind::StepStarted { step: Step::Validate });
            let recovery_counts = Mutex::new(TrafficCounts::default());
            let deadline = restored + plan.deadlines.ok;
            let cleared = tokio::select! {
                r = wait_for_state(alarms, alarm_name, AlarmState::Ok, deadline, plan.poll_interval, &rec) => Some(r),
                _ = drive_traffic(traffic, &plan.route_path, &plan.traffic, &recovery_counts) => unreachable!("traffic never ends by itself"),
                _ = &mut interrupt => None,
            };
            if matches!(cleared, Some(Ok(_))) {
                // One last request once OK is seen: the route answers healthily now, whatever
                // the alarm's timing let the background traffic complete.
                let last = traffic.get(&plan.route_path).await.map(|o| o.status);
                let mut c = recovery_counts.lock().expect("counts poisoned");
                c.sent += 1;
                match last {
                    Ok(s) if (200..300).contains(&s) => c.ok += 1,
                    Ok(s) if s >= 500 => c.failed += 1,
                    _ => c.errors += 1,
                }
            }
            let c = *recovery_counts.lock().expect("counts poisoned");
            report.recovery_traffic = c;
            rec.emit(DrillEventKind::Traffic {
                phase: Step::Validate,
                sent: c.sent,
                ok: c.ok,
                failed: c.failed,
                errors: c.errors,
            });
            match cleared {
                Some(Ok(status)) => {
                    let now = Instant::now();
                    let mttr = now.duration_since(restored).as_secs_f64();
                    report.ok_at = Some(at_instant(started_at, rec.started, now));
                    report.mttr_s = Some(mttr);
                    rec.emit(DrillEventKind::AlarmCleared {
                        alarm: status.name,
                        mttr_s: mttr,
                    });
                    if c.failed > 0 || c.errors > 0 || c.ok == 0 {
                        let reason = format!(
                            "after the fix {} of {} requests failed and {} went unanswered",
                            c.failed, c.sent, c.errors
                        );
                        rec.emit(DrillEventKind::StepFinished {
                            step: Step::Validate,
                            passed: false,
                            detail: reason.clone(),
                        });
                        report.failure = Some(reason);
                    } else {
                        rec.emit(DrillEventKind::StepFinished {
                            step: Step::Validate,
                            passed: true,
                            detail: format!("OK after {mttr:.1} s, {} healthy requests", c.ok),
                        });
                        report.outcome = DrillOutcome::Passed;
                    }
                }
                Some(Err(e)) => {
                    let reason = format!("alarm {alarm_name} did not return to OK: {e}");
                    rec.emit(DrillEventKind::StepFinished {
                        step: Step::Validate,
                        passed: false,
                        detail: reason.clone(),
                    });
                    report.failure = Some(reason);
                }
                None => {
                    rec.emit(DrillEventKind::Interrupted);
                    report.failure =
                        Some("interrupted while waiting for OK (the fix was already applied)".into());
                    report.outcome = DrillOutcome::Interrupted;
                }
            }
        }
        Err(e) => {
            let reason = format!(
                "RESTORE FAILED: {} may still carry the fault (it expires at {}): {e}",
                prior.function_name,
                report.fault_expires_at.as_deref().unwrap_or("?")
            );
            rec.emit(DrillEventKind::StepFinished {
                step: Step::Fix,
                passed: false,
                detail: reason.clone(),
            });
            report.failure = Some(match report.failure.take() {
                Some(first) => format!("{first}; {reason}"),
                None => reason,
            });
            report.outcome = DrillOutcome::RestoreFailed;
        }
    }
    Ok(finish(report, rec))
}

enum BreakResult {
    NotApplied(PortError),
    Failed(String),
    Detected {
        injected: Instant,
        seen: Instant,
        status: AlarmStatus,
    },
    DetectFailed {
        injected: Instant,
        reason: String,
    },
    Interrupted,
}

fn finish(mut report: DrillReport, rec: Recorder<'_>) -> DrillReport {
    report.total_s = rec.started.elapsed().as_secs_f64();
    report.events = rec.events.into_inner().expect("event log poisoned");
    report
}

/// The wall-clock time of a monotonic instant, anchored at the drill's start.
fn at_instant(started_at: OffsetDateTime, started: Instant, at: Instant) -> OffsetDateTime {
    started_at + at.duration_since(started)
}

/// How often a long wait says it is still waiting (a minutes-long wait on AWS must not look hung).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// The longest one control-plane or alarm call may take before it counts as failed.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// `call`, or a [`PortError::Timeout`] if it has not answered within `limit`.
async fn bounded<T>(
    limit: Duration,
    call: impl Future<Output = Result<T, PortError>>,
) -> Result<T, PortError> {
    tokio::time::timeout(limit, call).await.unwrap_or_else(|_| {
        Err(PortError::Timeout(format!(
            "no answer within {} s",
            limit.as_secs()
        )))
    })
}

/// Consecutive failed alarm reads tolerated before the drill gives up (throttling, a blip).
const ALARM_READ_RETRIES: u32 = 3;

/// Polls the alarm until it is in `wanted`, or the deadline passes.
async fn wait_for_state<A: AlarmSource>(
    alarms: &A,
    name: &str,
    wanted: AlarmState,
    deadline: Instant,
    poll: Duration,
    rec: &Recorder<'_>,
) -> Result<AlarmStatus, PortError> {
    let mut last: Option<AlarmState> = None;
    let mut failures = 0;
    let since = Instant::now();
    let mut next_progress = since + PROGRESS_EVERY;
    loop {
        // A read that hangs must not hold the drill past its deadline.
        let read = bounded(CALL_TIMEOUT, alarms.alarm(name)).await;
        match read {
            Ok(status) => {
                failures = 0;
                if last != Some(status.state) {
                    last = Some(status.state);
                    rec.emit(DrillEventKind::AlarmState {
                        alarm: status.name.clone(),
                        state: status.state,
                        reason: status.reason.clone(),
                    });
                }
                if status.state == wanted {
                    return Ok(status);
                }
            }
            Err(e) => {
                failures += 1;
                rec.emit(DrillEventKind::Warning {
                    message: format!("reading alarm {name}: {e}"),
                });
                if failures >= ALARM_READ_RETRIES {
                    return Err(e);
                }
            }
        }
        let now = Instant::now();
        if now >= next_progress && now < deadline {
            next_progress = now + PROGRESS_EVERY;
            rec.emit(DrillEventKind::Waiting {
                alarm: name.to_owned(),
                wanted,
                state: last,
                waited_s: now.duration_since(since).as_secs_f64(),
                deadline_s: deadline.duration_since(since).as_secs_f64(),
            });
        }
        if now >= deadline {
            return Err(PortError::Timeout(format!(
                "still {} after the deadline",
                last.map(|s| s.as_str()).unwrap_or("unreadable")
            )));
        }
        sleep(poll.min(deadline - now)).await;
    }
}

/// Sends GETs at the plan's rate (without waiting for answers, so a slow fault such as a
/// timeout does not slow the traffic down) until `max_requests`, then waits forever: the caller
/// stops it by dropping it, which also aborts requests still in flight.
async fn drive_traffic<T: TrafficDriver + Clone + 'static>(
    traffic: &T,
    path: &str,
    plan: &TrafficPlan,
    counts: &Mutex<TrafficCounts>,
) {
    let mut in_flight: JoinSet<Result<u16, PortError>> = JoinSet::new();
    let tally = |r: Result<Result<u16, PortError>, tokio::task::JoinError>| {
        let mut c = counts.lock().expect("counts poisoned");
        match r {
            Ok(Ok(s)) if (200..300).contains(&s) => c.ok += 1,
            Ok(Ok(s)) if s >= 500 => c.failed += 1,
            _ => c.errors += 1,
        }
    };
    for _ in 0..plan.max_requests {
        let driver = traffic.clone();
        let path = path.to_owned();
        in_flight.spawn(async move { driver.get(&path).await.map(|o| o.status) });
        counts.lock().expect("counts poisoned").sent += 1;
        let next = sleep(plan.interval);
        tokio::pin!(next);
        loop {
            tokio::select! {
                _ = &mut next => break,
                Some(r) = in_flight.join_next(), if !in_flight.is_empty() => tally(r),
            }
        }
    }
    while let Some(r) = in_flight.join_next().await {
        tally(r);
    }
    std::future::pending::<()>().await
}

/// Attempts at restoring before giving up loudly.
const RESTORE_ATTEMPTS: u32 = 5;

/// Writes the prior variables back (no revision guard: getting the fault out wins over a
/// concurrent change), waits until applied, and reads them back to prove they are exactly the
/// prior ones. Retries with backoff: Lambda refuses an update while another is in progress.
async fn restore<C: ControlPlane>(
    control: &C,
    key: &str,
    prior: &Variables,
    update_deadline: Duration,
    rec: &Recorder<'_>,
) -> Result<crate::ports::FunctionConfiguration, PortError> {
    let mut backoff = Duration::from_secs(1);
    let mut last_error = PortError::Transport("no attempt made".into());
    for attempt in 1..=RESTORE_ATTEMPTS {
        if attempt > 1 {
            rec.emit(DrillEventKind::Warning {
                message: format!("restore attempt {} failed: {last_error}; retrying", attempt - 1),
            });
            sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(16));
            // Let an update still in progress (the fault's, or an earlier attempt's) settle.
            let _ = control.wait_until_applied(key, update_deadline).await;
        }
        let attempt = async {
            control.replace_variables(key, prior, None).await?;
            control.wait_until_applied(key, update_deadline).await?;
            control.serve_latest(key).await?;
            let now = control.configuration(key).await?;
            if &now.variables != prior {
                return Err(PortError::UpdateFailed(format!(
                    "variables read back differ from the prior ones: {}",
                    describe_difference(prior, &now.variables)
                )));
            }
            Ok(now)
        };
        // A call that hangs ends this attempt, not the restore.
        let attempt_result = bounded(update_deadline + CALL_TIMEOUT * 2, attempt).await;
        match attempt_result {
            Ok(config) => return Ok(config),
            Err(e) => last_error = e,
        }
    }
    Err(last_error)
}

fn describe_difference(want: &Variables, got: &Variables) -> String {
    let mut parts = Vec::new();
    for (k, v) in want {
        match got.get(k) {
            None => parts.push(format!("{k} missing")),
            Some(g) if g != v => parts.push(format!("{k}={g:?} instead of {v:?}")),
            _ => {}
        }
    }
    for k in got.keys().filter(|k| !want.contains_key(*k)) {
        parts.push(format!("{k} added"));
    }
    parts.join(", ")
}
