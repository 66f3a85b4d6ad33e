//! Validation of a [`ScenarioFile`] against a stage, and the resolved [`Scenario`] the runner
//! uses without deriving anything again.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use outage_config::release::TrafficRouting;
use outage_config::{AlarmKind, AlarmSubject, FaultConfig, FaultMode, Stage};
use serde::Serialize;

use crate::error::ScenarioError;
use crate::file::{
    AlarmRef, Fix, FixAfter, ReleaseOutcome, ScenarioFile, DEFAULT_MAX_DURATION_S, DEFAULT_TRAFFIC_EVERY_MS,
};

/// A scenario checked against one stage, every default applied and every name resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    /// The file stem: `payment-exception`.
    pub name: String,
    pub path: PathBuf,
    pub title: String,
    pub lesson: String,
    pub runbook: String,
    /// The function's key in the stage file.
    pub function: String,
    /// The function's deployed name (`dev-payment-fixed`): what the control plane changes.
    pub function_name: String,
    /// The routes that reach the function.
    pub function_routes: Vec<String>,
    pub fault: Option<Fault>,
    pub configuration: Option<Configuration>,
    pub surge: Option<Surge>,
    /// A release of a new version: `fault` and `release.set` build it.
    pub release: Option<Release>,
    pub traffic: Traffic,
    /// The hypothesis, in file order (empty for a release that must not page anyone).
    pub expected: Vec<ExpectedAlarm>,
    /// Names of the alarms that must stay quiet: every alarm of the stage but the expected and
    /// the ignored ones. The runner drops those already in ALARM at baseline.
    pub quiet: Vec<String>,
    /// Names of the alarms that are not judged.
    pub ignored: Vec<String>,
    /// Routes allowed to degrade; any other route degrading aborts the run.
    pub blast_radius: Vec<String>,
    #[serde(serialize_with = "as_seconds")]
    pub max_duration: Duration,
    pub fix: FixPlan,
}

/// How the incident ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum FixPlan {
    /// Write back the exact prior configuration (fault variables, configuration; the surge
    /// stops) `after` the first or all of the expected alarms fired.
    Restore { after: FixAfter },
    /// Apply nothing: the fault heals itself at `FAULT_EXPIRES_AT` = injection +
    /// `Fault::expires_after` (the surge stops then too). The prior configuration is written back
    /// only at the end of the run, after the verdict.
    None,
    /// The release ends the incident on its own: its alarms roll it back, its pre-traffic check
    /// refuses the version, or it is promoted. After the verdict window the prior variables are
    /// published and served on `live` again, so the stage is left as it was found.
    Release,
}

/// A release of a new version of the scenario's function through the `live` alias.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Release {
    pub outcome: ReleaseOutcome,
    /// The strategy as the file writes it; `None` = the stage's own (`routing`).
    pub strategy: Option<String>,
    /// The strategy in effect: the file's, or the stage file's `release.strategy`.
    #[serde(serialize_with = "as_text")]
    pub routing: TrafficRouting,
    /// Invoke the new version before any traffic moves.
    pub check: bool,
    /// Variables the new version sets on top of the function's own.
    pub set: BTreeMap<String, String>,
    pub max_failed_share: Option<f64>,
}

impl Release {
    /// The new version's share of `live`'s traffic at the release's first step: what its
    /// alarms see while the canary bakes.
    pub fn first_weight(&self) -> f64 {
        self.routing
            .schedule(Duration::from_secs(60))
            .first()
            .map_or(1.0, |(_, w)| *w)
    }
}

fn as_text<S: serde::Serializer, T: std::fmt::Display>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}

/// The fault to inject.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fault {
    /// The parsed fault, exactly as the functions will read it.
    #[serde(skip)]
    pub config: FaultConfig,
    /// The `FAULT_*` variables to set, without `FAULT_EXPIRES_AT`: the runner adds it at
    /// injection time, injection + `expires_after`, or injection + the scenario's
    /// `max_duration` as a safety net when there is none, so a killed run heals itself.
    pub vars: BTreeMap<String, String>,
    #[serde(serialize_with = "as_opt_seconds")]
    pub expires_after: Option<Duration>,
}

impl Fault {
    pub fn mode(&self) -> FaultMode {
        self.config.mode
    }
}

/// The configuration change to apply. The fix writes back what the runner read before applying
/// it, not the stage file's value, so a drifted function is left as it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Configuration {
    pub reserved_concurrency: Option<u32>,
}

/// Extra load from the injection until the fix (or the fault's expiry).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Surge {
    pub concurrency: u32,
    /// Each client's gap between two requests (open loop: it does not wait for answers).
    #[serde(serialize_with = "as_seconds")]
    pub interval: Duration,
    /// The function's routes, shared out between the clients.
    pub routes: Vec<String>,
}

/// Steady load: one request per route every `interval`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Traffic {
    pub routes: Vec<String>,
    #[serde(serialize_with = "as_seconds")]
    pub interval: Duration,
}

/// One alarm that must fire.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpectedAlarm {
    pub kind: AlarmKind,
    pub subject: AlarmSubject,
    /// The alarm's name in the stage (`dev-payment-fixed-fast-errors`).
    pub name: String,
    /// MTTD budget from the injection; `None` = derive it from the alarm's maths.
    #[serde(serialize_with = "as_opt_seconds")]
    pub within: Option<Duration>,
    /// MTTR budget from the fix (or the fault's expiry, for a scenario with no fix) to the alarm
    /// back to OK; `None` = derive it from the alarm's maths.
    #[serde(serialize_with = "as_opt_seconds")]
    pub recover_within: Option<Duration>,
}

fn as_seconds<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

fn as_opt_seconds<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_f64(d.as_secs_f64()),
        None => s.serialize_none(),
    }
}

type Check<T> = Result<T, (String, String)>;

fn bad<T>(field: impl Into<String>, message: impl Into<String>) -> Check<T> {
    Err((field.into(), message.into()))
}

/// A scenario name is a file stem: lower-case letters, digits and '-'.
pub fn is_scenario_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Checks `file` against `stage` and resolves it. `path` names the file in errors and gives
/// the scenario its name.
pub fn resolve(
    file: ScenarioFile,
    name: &str,
    path: &Path,
    stage: &Stage,
) -> Result<Scenario, ScenarioError> {
    Resolver { file: &file, stage }
        .run(name, path)
        .map_err(|(field, message)| ScenarioError::Invalid {
            path: path.to_owned(),
            field,
            message,
        })
}

struct Resolver<'a> {
    file: &'a ScenarioFile,
    stage: &'a Stage,
}

impl Resolver<'_> {
    fn run(&self, name: &str, path: &Path) -> Check<Scenario> {
        let f = self.file;
        let stage = self.stage;
        for (field, value) in [
            ("title", &f.title),
            ("lesson", &f.lesson),
            ("runbook", &f.runbook),
        ] {
            if value.trim().is_empty() {
                return bad(field, "must not be empty");
            }
        }
        if f.runbook.contains(char::is_whitespace) {
            return bad(
                "runbook",
                format!("{:?} is not a link: it holds spaces", f.runbook),
            );
        }
        self.function_key("function", &f.function)?;
        if f.fault.is_none() && f.configuration.is_none() && f.surge.is_none() && f.release.is_none() {
            return bad(
                "fault",
                "a scenario stages an incident: give at least one of [fault], [configuration], [surge], [release]",
            );
        }
        let function_routes = self.routes_of(&f.function);

        let fault = self.fault()?;
        let configuration = self.configuration()?;
        let release = self.release(fault.as_ref(), configuration.as_ref())?;
        let traffic = self.traffic()?;
        let surge = f
            .surge
            .as_ref()
            .map(|s| {
                if s.concurrency == 0 {
                    return bad("surge.concurrency", "must be at least 1 client");
                }
                if s.every_ms == 0 {
                    return bad("surge.every_ms", "must be greater than 0");
                }
                if function_routes.is_empty() {
                    return bad(
                        "surge",
                        format!(
                            "{} has no route in the stage: a surge has nowhere to go",
                            f.function
                        ),
                    );
                }
                Ok(Surge {
                    concurrency: s.concurrency,
                    interval: Duration::from_millis(u64::from(s.every_ms)),
                    routes: function_routes.clone(),
                })
            })
            .transpose()?;
        self.within_api_throttle(&traffic, surge.as_ref())?;

        let max_duration_s = f.stop.max_duration_s.unwrap_or(DEFAULT_MAX_DURATION_S);
        if max_duration_s == 0 {
            return bad("stop.max_duration_s", "must be greater than 0 s");
        }
        let blast_radius = match &f.stop.blast_radius {
            None => function_routes.clone(),
            Some(routes) => {
                for (i, route) in routes.iter().enumerate() {
                    self.route(&format!("stop.blast_radius[{i}]"), route)?;
                }
                if let Some(missing) = function_routes.iter().find(|r| !routes.contains(r)) {
                    return bad(
                        "stop.blast_radius",
                        format!(
                            "leaves out {missing:?}, a route of {} where the incident happens: the run would abort at once",
                            f.function
                        ),
                    );
                }
                routes.clone()
            }
        };

        let fix = match f.fix {
            _ if release.is_some() => {
                if f.fix != Fix::Restore || f.fix_after.is_some() {
                    let field = if f.fix_after.is_some() { "fix_after" } else { "fix" };
                    return bad(
                        field,
                        "with [release] the release ends the incident itself (its alarms roll it back, or it is promoted): leave it out",
                    );
                }
                FixPlan::Release
            }
            Fix::Restore => FixPlan::Restore {
                after: f.fix_after.unwrap_or_default(),
            },
            Fix::None => {
                if f.fix_after.is_some() {
                    return bad("fix_after", "with fix = \"none\" no fix is applied: leave it out");
                }
                if fault.as_ref().and_then(|x| x.expires_after).is_none() {
                    return bad(
                        "fix",
                        "\"none\" leaves the incident to heal by itself, which only a fault with `fault.expires_after_s` does",
                    );
                }
                if configuration.is_some() {
                    return bad(
                        "fix",
                        "\"none\" cannot undo [configuration]: a configuration change does not expire",
                    );
                }
                FixPlan::None
            }
        };
        if let Some(expires) = fault.as_ref().and_then(|x| x.expires_after) {
            if expires >= Duration::from_secs(u64::from(max_duration_s)) {
                return bad(
                    "fault.expires_after_s",
                    format!(
                        "{} s is not within stop.max_duration_s ({max_duration_s} s)",
                        expires.as_secs()
                    ),
                );
            }
        }

        // Requests per second that reach the function: what its alarms can count.
        let steady_to_function = traffic
            .routes
            .iter()
            .filter(|r| function_routes.contains(r))
            .count();
        let load = steady_to_function as f64 / traffic.interval.as_secs_f64()
            + surge
                .as_ref()
                .map_or(0.0, |s| f64::from(s.concurrency) / s.interval.as_secs_f64());
        // A promotion is the whole schedule; a rollback or a refusal ends it early.
        if let Some(r) = release.as_ref().filter(|r| r.outcome == ReleaseOutcome::Promoted) {
            let takes = r.routing.duration(Duration::from_secs(60)).as_secs();
            if takes >= u64::from(max_duration_s) {
                return bad(
                    "stop.max_duration_s",
                    format!(
                        "{max_duration_s} s is not enough for the release: {} takes {takes} s to shift all traffic",
                        r.routing
                    ),
                );
            }
        }
        // A release's fault reaches only the canary's share of the traffic at first.
        let reach = release.as_ref().map_or(1.0, Release::first_weight);
        let expected = self.expectations(
            fault.as_ref(),
            configuration.as_ref(),
            surge.as_ref(),
            load * reach,
            release.as_ref().map(|r| r.outcome),
            max_duration_s,
        )?;
        if fix
            == (FixPlan::Restore {
                after: FixAfter::FirstAlarm,
            })
        {
            self.first_alarm_suffices(&expected)?;
        }
        let expected_names: BTreeSet<&str> = expected.iter().map(|e| e.name.as_str()).collect();
        let mut ignored = Vec::new();
        for (i, r) in f.quiet.ignore.iter().enumerate() {
            let field = format!("quiet.ignore[{i}]");
            let (_, alarm) = self.alarm_ref(&field, r)?;
            if expected_names.contains(alarm.as_str()) {
                return bad(
                    field,
                    format!("{alarm} is expected to fire: it cannot also be left unjudged"),
                );
            }
            if !ignored.contains(&alarm) {
                ignored.push(alarm);
            }
        }
        let quiet = stage
            .alarm_definitions("")
            .into_iter()
            .map(|a| a.name)
            .filter(|n| !expected_names.contains(n.as_str()) && !ignored.contains(n))
            .collect();

        Ok(Scenario {
            name: name.to_owned(),
            path: path.to_owned(),
            title: f.title.clone(),
            lesson: f.lesson.clone(),
            runbook: f.runbook.clone(),
            function: f.function.clone(),
            function_name: stage.function_name(&f.function),
            function_routes,
            fault,
            configuration,
            surge,
            release,
            traffic,
            expected,
            quiet,
            ignored,
            blast_radius,
            max_duration: Duration::from_secs(u64::from(max_duration_s)),
            fix,
        })
    }

    fn function_key(&self, field: &str, key: &str) -> Check<()> {
        if self.stage.functions.contains_key(key) {
            return Ok(());
        }
        let known: Vec<&str> = self.stage.functions.keys().map(String::as_str).collect();
        bad(
            field,
            format!(
                "unknown function {key:?}: the stage {} has {}",
                self.stage.stage,
                known.join(", ")
            ),
        )
    }

    fn route(&self, field: &str, route: &str) -> Check<()> {
        if self.stage.routes.contains_key(route) {
            return Ok(());
        }
        let known: Vec<&str> = self.stage.routes.keys().map(String::as_str).collect();
        bad(
            field,
            format!(
                "unknown route {route:?}: the stage {} has {}",
                self.stage.stage,
                known.join(", ")
            ),
        )
    }

    fn routes_of(&self, key: &str) -> Vec<String> {
        self.stage
            .routes
            .iter()
            .filter(|(_, target)| *target == key)
            .map(|(route, _)| route.clone())
            .collect()
    }

    /// The fault, parsed by the same code as the functions' init, so anything they would refuse
    /// is refused here, naming the scenario's field rather than the variable.
    fn fault(&self) -> Check<Option<Fault>> {
        let Some(spec) = &self.file.fault else {
            return Ok(None);
        };
        let mut vars = BTreeMap::new();
        vars.insert("FAULT_MODE".to_owned(), spec.mode.as_str().to_owned());
        let mut put = |name: &str, value: Option<String>| {
            if let Some(v) = value {
                vars.insert(name.to_owned(), v);
            }
        };
        put("FAULT_RATE", spec.rate.map(|r| r.to_string()));
        put("FAULT_LATENCY_MS", spec.latency_ms.map(|v| v.to_string()));
        put("FAULT_STATUS", spec.status.map(|v| v.to_string()));
        put("FAULT_MESSAGE", spec.message.clone());
        put("FAULT_SEED", spec.seed.map(|v| v.to_string()));
        let config = FaultConfig::from_vars(&vars)
            .map_err(|e| (format!("fault.{}", fault_field(e.variable)), e.to_string()))?;
        if config.rate == 0.0 {
            return bad("fault.rate", "0 injects nothing: give a share above 0, at most 1");
        }
        if let Some(message) = &spec.message {
            if message.trim().is_empty() {
                return bad(
                    "fault.message",
                    "must not be empty (leave it out for the default)",
                );
            }
        }
        if spec.expires_after_s == Some(0) {
            return bad("fault.expires_after_s", "must be greater than 0 s");
        }
        Ok(Some(Fault {
            vars: config.to_vars(),
            config,
            expires_after: spec.expires_after_s.map(|s| Duration::from_secs(u64::from(s))),
        }))
    }

    /// The release, checked against what else the file stages.
    fn release(
        &self,
        fault: Option<&Fault>,
        configuration: Option<&Configuration>,
    ) -> Check<Option<Release>> {
        let Some(spec) = &self.file.release else {
            return Ok(None);
        };
        let routing = match &spec.strategy {
            Some(text) => TrafficRouting::parse(text).or_else(|e| bad("release.strategy", e))?,
            None => self.stage.release.strategy,
        };
        if configuration.is_some() {
            return bad(
                "configuration",
                "a release ships code and variables; reserved concurrency belongs to the function, not to a version: leave [configuration] out",
            );
        }
        for (name, value) in &spec.set {
            let field = format!("release.set.{name}");
            if name.starts_with("FAULT_") {
                return bad(field, "a fault goes in [fault], which checks it");
            }
            outage_config::variables::check_name(name).or_else(|why| bad(&field, why))?;
            if value.is_empty() {
                return bad(field, "must not be empty");
            }
        }
        if let Some(share) = spec.max_failed_share {
            if !(0.0..=1.0).contains(&share) {
                return bad(
                    "release.max_failed_share",
                    format!("{share} is not a share: give 0 to 1"),
                );
            }
        }
        let key = &self.file.function;
        if self.stage.is_known_broken(key) {
            return bad(
                "function",
                format!(
                    "{key} is deployed broken on purpose: its releases have no alarm gate; release another function"
                ),
            );
        }
        match (spec.outcome, fault) {
            (ReleaseOutcome::RolledBack, None) => {
                return bad(
                    "release.outcome",
                    "\"rolled-back\" needs a broken new version: give [fault]",
                )
            }
            (ReleaseOutcome::Refused, None) => {
                return bad(
                    "release.outcome",
                    "\"refused\" needs a new version the pre-traffic check refuses: give [fault]",
                )
            }
            (ReleaseOutcome::Refused, Some(_)) if !spec.check => {
                return bad(
                    "release.check",
                    "\"refused\" is the pre-traffic check's verdict: it cannot be false",
                )
            }
            (ReleaseOutcome::Promoted, Some(_)) => {
                return bad(
                    "fault",
                    "a promoted release carries no fault: its alarms must stay quiet (use release.set for the change)",
                )
            }
            (ReleaseOutcome::Promoted, None) if spec.set.is_empty() => {
                return bad(
                    "release.set",
                    "a release needs a change: give at least one variable the new version sets",
                )
            }
            _ => {}
        }
        Ok(Some(Release {
            outcome: spec.outcome,
            strategy: spec.strategy.clone(),
            routing,
            check: spec.check,
            set: spec.set.clone(),
            max_failed_share: spec.max_failed_share,
        }))
    }

    fn configuration(&self) -> Check<Option<Configuration>> {
        let Some(spec) = &self.file.configuration else {
            return Ok(None);
        };
        let Some(reserved) = spec.reserved_concurrency else {
            return bad("configuration", "changes nothing: give `reserved_concurrency`");
        };
        if reserved > 1000 {
            return bad(
                "configuration.reserved_concurrency",
                format!("{reserved} is above the account limit of 1000"),
            );
        }
        let current = self.stage.functions[&self.file.function].reserved_concurrency;
        if Some(reserved) == current {
            return bad(
                "configuration.reserved_concurrency",
                format!(
                    "{reserved} is already {}'s reserved concurrency: nothing changes",
                    self.file.function
                ),
            );
        }
        Ok(Some(Configuration {
            reserved_concurrency: Some(reserved),
        }))
    }

    fn traffic(&self) -> Check<Traffic> {
        let spec = &self.file.traffic;
        let every_ms = spec.every_ms.unwrap_or(DEFAULT_TRAFFIC_EVERY_MS);
        if every_ms == 0 {
            return bad("traffic.every_ms", "must be greater than 0");
        }
        let routes = match &spec.routes {
            None => self.stage.routes.keys().cloned().collect(),
            Some(routes) => {
                if routes.is_empty() {
                    return bad(
                        "traffic.routes",
                        "must name at least one route (leave it out for every route)",
                    );
                }
                for (i, route) in routes.iter().enumerate() {
                    self.route(&format!("traffic.routes[{i}]"), route)?;
                }
                routes.clone()
            }
        };
        Ok(Traffic {
            routes,
            interval: Duration::from_millis(u64::from(every_ms)),
        })
    }

    /// The stage's API throttle answers 429 on every route once the whole API's rate exceeds it:
    /// a scenario that sends more than that stages a different incident than it says.
    fn within_api_throttle(&self, traffic: &Traffic, surge: Option<&Surge>) -> Check<()> {
        let per_s = |interval: Duration| 1.0 / interval.as_secs_f64();
        let steady = traffic.routes.len() as f64 * per_s(traffic.interval);
        let extra = surge.map_or(0.0, |s| f64::from(s.concurrency) * per_s(s.interval));
        let limit = self.stage.api_throttle.rate_limit;
        if steady + extra <= limit {
            return Ok(());
        }
        let field = if surge.is_some() {
            "surge"
        } else {
            "traffic.every_ms"
        };
        bad(
            field,
            format!(
                "sends {:.0} requests/s ({steady:.0} steady + {extra:.0} surge), above the stage's API throttle of {limit} requests/s: API Gateway would answer 429 on every route",
                steady + extra
            ),
        )
    }

    fn alarm_ref(&self, field: &str, r: &AlarmRef) -> Check<(AlarmSubject, String)> {
        let subject = if r.alarm.is_api() {
            if r.function.is_some() {
                return bad(
                    format!("{field}.function"),
                    format!("{} watches the whole API and takes no function", r.alarm),
                );
            }
            AlarmSubject::Api
        } else {
            let key = r.function.as_deref().unwrap_or(&self.file.function);
            self.function_key(&format!("{field}.function"), key)?;
            AlarmSubject::Function(key.to_owned())
        };
        let name = self.stage.alarm_name(&subject, r.alarm);
        // The stage's own list is the authority on which alarms exist.
        if !self.stage.alarm_definitions("").iter().any(|a| a.name == name) {
            return bad(format!("{field}.alarm"), format!("the stage has no alarm {name}"));
        }
        Ok((subject, name))
    }

    fn expectations(
        &self,
        fault: Option<&Fault>,
        configuration: Option<&Configuration>,
        surge: Option<&Surge>,
        load: f64,
        release: Option<ReleaseOutcome>,
        max_duration_s: u32,
    ) -> Check<Vec<ExpectedAlarm>> {
        let f = self.file;
        match release {
            Some(ReleaseOutcome::Promoted) => {
                if !f.expect.is_empty() {
                    return bad(
                        "expect",
                        "a release that must be promoted pages no one: its hypothesis is that every alarm stays quiet; leave [[expect]] out",
                    );
                }
                return Ok(Vec::new());
            }
            // The pre-traffic check's one failure may or may not reach an alarm's threshold.
            Some(ReleaseOutcome::Refused) if f.expect.is_empty() => return Ok(Vec::new()),
            _ if f.expect.is_empty() => {
                return bad(
                    "expect",
                    "the hypothesis is missing: give at least one [[expect]] alarm that must fire",
                );
            }
            _ => {}
        }
        let mut out: Vec<ExpectedAlarm> = Vec::new();
        for (i, e) in f.expect.iter().enumerate() {
            let at = |name: &str| format!("expect[{i}].{name}");
            let r = AlarmRef {
                alarm: e.alarm,
                function: e.function.clone(),
            };
            let (subject, name) = self.alarm_ref(&format!("expect[{i}]"), &r)?;
            if let AlarmSubject::Function(key) = &subject {
                if *key != f.function {
                    return bad(
                        at("function"),
                        format!(
                            "{key} is not where the incident happens ({}): no function of this system calls another, so its alarms cannot see it",
                            f.function
                        ),
                    );
                }
            }
            if out.iter().any(|x| x.name == name) {
                return bad(at("alarm"), format!("{name} is already expected"));
            }
            self.can_see(&at("alarm"), e.alarm, fault, configuration, surge, load)?;
            for (field, value) in [("within_s", e.within_s), ("recover_within_s", e.recover_within_s)] {
                match value {
                    Some(0) => return bad(at(field), "a budget must be greater than 0 s"),
                    Some(s) if s > max_duration_s => {
                        return bad(
                            at(field),
                            format!("{s} s is longer than the whole run may last (stop.max_duration_s = {max_duration_s})"),
                        )
                    }
                    _ => {}
                }
            }
            out.push(ExpectedAlarm {
                kind: e.alarm,
                subject,
                name,
                within: e.within_s.map(|s| Duration::from_secs(u64::from(s))),
                recover_within: e.recover_within_s.map(|s| Duration::from_secs(u64::from(s))),
            });
        }
        Ok(out)
    }

    /// With the fix at the first alarm, the incident may last a single failure: the fastest
    /// expected alarms trigger the fix, and every slower one must fire on one failure (threshold
    /// 1, one datapoint) or it may stay silent by chance.
    fn first_alarm_suffices(&self, expected: &[ExpectedAlarm]) -> Check<()> {
        let definitions = self.stage.alarm_definitions("");
        let of = |e: &ExpectedAlarm| {
            definitions
                .iter()
                .find(|d| d.name == e.name)
                .expect("expected alarms were resolved against the stage")
        };
        let fastest = expected.iter().map(|e| of(e).period_s).min().unwrap_or_default();
        for (i, e) in expected.iter().enumerate() {
            let d = of(e);
            if d.period_s == fastest {
                continue;
            }
            let single = d.datapoints_to_alarm == 1 && d.threshold <= 1.0 && e.kind != AlarmKind::DurationP99;
            if !single {
                return bad(
                    format!("expect[{i}].alarm"),
                    format!(
                        "{} needs more than one failure ({} of {} periods of {} s at threshold {}): with fix_after = \"first-alarm\" the fix may come before it can fire; use fix_after = \"all-alarms\"",
                        d.name, d.datapoints_to_alarm, d.evaluation_periods, d.period_s, d.threshold
                    ),
                );
            }
        }
        Ok(())
    }

    /// Whether the traffic that reaches the function, at the fault's rate, can cross the
    /// alarm's threshold in one period.
    fn enough_failures(&self, field: &str, kind: AlarmKind, rate: f64, load: f64) -> Check<()> {
        let function = &self.file.function;
        if load == 0.0 {
            return bad(
                field,
                format!(
                    "{kind} cannot fire: no request reaches {function}; give traffic.routes one of its routes ({})",
                    self.routes_of(function).join(", ")
                ),
            );
        }
        if kind == AlarmKind::DurationP99 {
            if rate <= 0.01 {
                return bad(
                    field,
                    format!(
                        "duration-p99 cannot fire: fault.rate {rate} slows at most 1% of invocations, and their p99 needs more"
                    ),
                );
            }
            return Ok(());
        }
        let alarms = &self.stage.alarms;
        let math = match kind {
            AlarmKind::FastErrors => &alarms.fast_errors,
            AlarmKind::Errors => &alarms.errors,
            AlarmKind::DurationP99 => &alarms.duration_p99,
            AlarmKind::Throttles => &alarms.throttles,
            AlarmKind::Api5xx => &alarms.api_5xx,
        };
        let threshold = math.threshold.unwrap_or(1.0);
        let per_period = load * rate * f64::from(math.period_s);
        if per_period < threshold {
            return bad(
                field,
                format!(
                    "{kind} cannot fire: {load:.2} requests/s to {function} at fault.rate {rate} make {per_period:.1} failures per {} s period, below its threshold of {threshold}; send more traffic or raise fault.rate",
                    math.period_s
                ),
            );
        }
        Ok(())
    }

    /// Whether an alarm of the scenario's function (or the API) can see what the scenario does:
    /// the fault's mode through [`AlarmKind::can_see`] and the stage's thresholds, or throttling
    /// from the configuration and the surge.
    fn can_see(
        &self,
        field: &str,
        kind: AlarmKind,
        fault: Option<&Fault>,
        configuration: Option<&Configuration>,
        surge: Option<&Surge>,
        load: f64,
    ) -> Check<()> {
        let spec = &self.stage.functions[&self.file.function];
        // Unreserved draws on the account's pool: only a reservation throttles this early.
        let reserved = configuration
            .and_then(|c| c.reserved_concurrency)
            .or(spec.reserved_concurrency);
        let throttled =
            reserved == Some(0) || surge.is_some_and(|s| reserved.is_some_and(|r| s.concurrency > r));
        if throttled && matches!(kind, AlarmKind::Throttles | AlarmKind::Api5xx) {
            // API Gateway answers a Lambda throttle with 500: it counts in the API's 5xx.
            return Ok(());
        }
        let threshold_ms = self.stage.alarms.duration_p99.threshold_ms.unwrap_or_default();
        if let Some(fault) = fault {
            let mode = fault.mode();
            if kind.can_see(&mode) {
                let slow_ms = match mode {
                    FaultMode::Latency { ms } => Some(ms as f64),
                    FaultMode::Timeout => Some(f64::from(spec.timeout_s) * 1000.0),
                    _ => None,
                };
                match slow_ms {
                    Some(ms) if kind == AlarmKind::DurationP99 && ms < threshold_ms => {
                        return bad(
                            field,
                            format!(
                                "duration-p99 cannot see {ms} ms: the stage's threshold is {threshold_ms} ms"
                            ),
                        )
                    }
                    _ => return self.enough_failures(field, kind, fault.config.rate, load),
                }
            }
            if kind != AlarmKind::Throttles {
                let instead: Vec<String> = AlarmKind::ALL
                    .iter()
                    .filter(|k| k.can_see(&mode))
                    .map(|k| format!("`{k}`"))
                    .collect();
                let instead = match instead.len() {
                    0 => String::new(),
                    1 => format!("; expect {} instead", instead[0]),
                    _ => format!("; expect one of {} instead", instead.join(", ")),
                };
                return bad(
                    field,
                    format!(
                        "{kind} cannot see fault mode {} ({}){instead}",
                        describe(&mode),
                        blind_because(kind, &mode)
                    ),
                );
            }
        }
        // No fault of its own: what a surge on the function meets is the stage file's fault
        // (the deliberately broken payment's exception).
        if fault.is_none() && surge.is_some() {
            let configured = spec
                .fault
                .as_ref()
                .and_then(|f| FaultConfig::from_vars(&f.env_vars()).ok());
            if configured.is_some_and(|f| kind.can_see(&f.mode)) {
                return Ok(());
            }
        }
        match kind {
            AlarmKind::Throttles if surge.is_some() || configuration.is_some() => bad(
                field,
                match reserved {
                    Some(r) => format!(
                        "throttles cannot fire: {} client(s) fit in {}'s reserved concurrency of {r}; lower it in [configuration] or raise surge.concurrency above it",
                        surge.map_or(0, |s| s.concurrency),
                        self.file.function
                    ),
                    None => format!(
                        "throttles cannot fire: {} is unreserved (the account's pool); reserve a concurrency below the surge in [configuration]",
                        self.file.function
                    ),
                },
            ),
            AlarmKind::Throttles => bad(
                field,
                "throttles cannot see a fault inside the function (a throttle is Lambda refusing the invocation); add [surge] with more clients than the reserved concurrency, or [configuration] reserved_concurrency = 0",
            ),
            _ => bad(
                field,
                format!("{kind} cannot see this incident: it stages no fault and no throttling"),
            ),
        }
    }
}

/// A fault mode with its parameter, for messages: `status 418`, `latency 500 ms`.
fn describe(mode: &FaultMode) -> String {
    match mode {
        FaultMode::Status { code } => format!("status {code}"),
        FaultMode::Latency { ms } => format!("latency {ms} ms"),
        other => other.to_string(),
    }
}

/// Why an alarm is blind to a fault mode, for the error message.
fn blind_because(kind: AlarmKind, mode: &FaultMode) -> &'static str {
    match (kind, mode) {
        (AlarmKind::FastErrors, FaultMode::Panic) => {
            "a crash ends the invocation before the handler reports a fault"
        }
        (AlarmKind::FastErrors, FaultMode::Timeout) => {
            "a timeout ends the invocation before the handler reports a fault"
        }
        (AlarmKind::FastErrors, _) | (AlarmKind::Errors, _) => "the invocation succeeds: the handler answers",
        (AlarmKind::DurationP99, _) => "the invocation is not slowed down",
        (AlarmKind::Api5xx, FaultMode::Status { .. }) => "only answers of 500 and above count in 5xx",
        (AlarmKind::Api5xx, _) => "clients still get a successful answer",
        (AlarmKind::Throttles, _) => "a throttle is Lambda refusing the invocation",
    }
}

/// The scenario field of a `FAULT_*` variable.
fn fault_field(variable: &str) -> &'static str {
    match variable {
        "FAULT_MODE" => "mode",
        "FAULT_RATE" => "rate",
        "FAULT_MESSAGE" => "message",
        "FAULT_LATENCY_MS" => "latency_ms",
        "FAULT_STATUS" => "status",
        "FAULT_EXPIRES_AT" => "expires_after_s",
        _ => "seed",
    }
}
