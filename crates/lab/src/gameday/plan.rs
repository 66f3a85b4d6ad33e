//! What a game day will do, decided before it starts and kept from the responder: the incident
//! (a scenario of the catalogue), how the level disguises it, when it strikes, and the answer
//! the scoring judges diagnoses against.

use std::collections::BTreeMap;
use std::time::Duration;

use outage_config::{AlarmSubject, FaultMode, Stage};
use outage_scenario::Scenario;
use rand::rngs::SmallRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// What a responder can name as the cause of an incident: the fault modes (`exception`, `panic`,
/// `latency`, `timeout`, `status`) and `throttling`, with a few plain-word synonyms (`crash`,
/// `slow`, `5xx`, `concurrency`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// The handler fails: unhandled errors.
    Exception,
    /// The process dies (Runtime.ExitError) and is replaced.
    Panic,
    /// Requests are slow but succeed.
    Latency,
    /// Requests run past the function's timeout.
    Timeout,
    /// The function answers 5xx itself (handled errors, no Lambda Errors).
    Status,
    /// Lambda throttles: more requests than the reserved concurrency allows.
    Throttling,
}

impl Cause {
    pub const ALL: [Cause; 6] = [
        Cause::Exception,
        Cause::Panic,
        Cause::Latency,
        Cause::Timeout,
        Cause::Status,
        Cause::Throttling,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Exception => "exception",
            Cause::Panic => "panic",
            Cause::Latency => "latency",
            Cause::Timeout => "timeout",
            Cause::Status => "status",
            Cause::Throttling => "throttling",
        }
    }

    pub fn names() -> Vec<String> {
        Cause::ALL.iter().map(|c| c.as_str().to_owned()).collect()
    }

    /// A responder's word for a cause; a few common synonyms are accepted.
    pub fn parse(text: &str) -> Result<Cause, String> {
        let t = text.trim().to_ascii_lowercase();
        let found = match t.as_str() {
            "exception" | "errors" | "error" => Some(Cause::Exception),
            "panic" | "crash" | "exit" => Some(Cause::Panic),
            "latency" | "slow" => Some(Cause::Latency),
            "timeout" | "timeouts" => Some(Cause::Timeout),
            "status" | "error-status" | "5xx" => Some(Cause::Status),
            "throttling" | "throttles" | "concurrency" => Some(Cause::Throttling),
            _ => None,
        };
        found.ok_or_else(|| {
            format!(
                "unknown cause {text:?}: name one of {}",
                Cause::names().join(", ")
            )
        })
    }

    /// The cause a scenario stages: its fault's mode, or throttling for a surge against a
    /// lowered reserved concurrency.
    pub fn of(scenario: &Scenario) -> Cause {
        match scenario.fault.as_ref().map(|f| f.mode()) {
            Some(FaultMode::Exception) => Cause::Exception,
            Some(FaultMode::Panic) => Cause::Panic,
            Some(FaultMode::Latency { .. }) => Cause::Latency,
            Some(FaultMode::Timeout) => Cause::Timeout,
            Some(FaultMode::Status { .. }) => Cause::Status,
            Some(FaultMode::None) | None => Cause::Throttling,
        }
    }

    /// What an error message in the function's logs says, in place of the scenario's own
    /// (which names the scenario): what a real failure of this kind would log.
    fn log_message(self) -> Option<&'static str> {
        match self {
            Cause::Exception => Some("upstream call failed: invalid response from the inventory service"),
            Cause::Panic => Some("invariant violated: pricing table is empty"),
            Cause::Status => Some("dependency unavailable: inventory service"),
            _ => None,
        }
    }
}

/// Levels make a game day harder the way real incidents are (docs/gameday.md).
pub const LEVELS: std::ops::RangeInclusive<u8> = 1..=3;

/// A harmless change made next to the faulty one (levels 2 and 3): the answer hides among them.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoy {
    pub function: String,
    pub set: BTreeMap<String, String>,
    pub actor: &'static str,
    /// Made before (true) or after the faulty change.
    pub before: bool,
}

/// Who the game day's own changes are recorded as: a pipeline and the tools a team runs, as a
/// change history shows them. Changes by anyone else are the responder's.
pub const DEPLOYER: &str = "deploy-pipeline";
pub const OWN_ACTORS: [&str; 3] = [DEPLOYER, "terraform", "feature-flags"];

/// Everything decided before the game day starts.
#[derive(Debug, Clone)]
pub struct Plan {
    pub scenario: Scenario,
    pub level: u8,
    pub seed: u64,
    pub cause: Cause,
    /// From the start of the steady traffic to the injection.
    pub quiet: Duration,
    /// Variables merged into the function's at the injection (empty when there is no fault).
    pub fault_vars: BTreeMap<String, String>,
    /// Reserved concurrency set at the injection (by the deployer), when the scenario lowers it
    /// and the level shows the change.
    pub inject_concurrency: Option<u32>,
    /// Reserved concurrency the function is deployed with from the start (level 3, a surge
    /// scenario): the incident then has no configuration change at all.
    pub deployed_concurrency: Option<u32>,
    pub decoys: Vec<Decoy>,
    /// The steady load: routes and interval.
    pub routes: Vec<String>,
    pub every: Duration,
    /// Seconds of no responder activity before a hint is offered unasked (`None`: never).
    pub idle_hint: Option<Duration>,
}

impl Plan {
    /// The reserved concurrency the incident runs against, if it is about concurrency.
    pub fn incident_concurrency(&self) -> Option<u32> {
        self.inject_concurrency.or(self.deployed_concurrency)
    }

    /// The hints, in the order they are given: from a nudge to the answer.
    pub fn hints(&self) -> Vec<String> {
        let s = &self.scenario;
        let first = "Start from the page: open the runbook its notification links and do its first three steps (the dashboard links it too).".to_owned();
        let second = if self.inject_concurrency.is_some() || !self.fault_vars.is_empty() {
            "Ask what changed: `outage-lab changes --since 15m` lists every configuration change with who made it and when; line it up with the time of the first page.".to_owned()
        } else {
            "Nothing was deployed: compare the traffic to what the function may run at once (`outage-lab status`, the Throttles graph).".to_owned()
        };
        let routes = s.function_routes.join(", ");
        let third = format!(
            "The function at fault is {} (it serves {routes}); read its logs: `outage-lab logs {} --since 10m`.",
            s.function, s.function
        );
        let fourth = match self.cause {
            Cause::Throttling => format!(
                "The cause is throttling: {} is limited to {} concurrent executions. Raise or remove its reserved concurrency: `outage-lab configure {} --unreserved`.",
                s.function,
                self.incident_concurrency().map_or("few".into(), |n| n.to_string()),
                s.function
            ),
            cause => {
                let keys: Vec<&String> = self.fault_vars.keys().collect();
                let unset: String = keys.iter().map(|k| format!(" --unset {k}")).collect();
                format!(
                    "The cause is {}: the last deploy set {} on {}. Remove them: `outage-lab configure {}{unset}`.",
                    cause.as_str(),
                    keys.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
                    s.function,
                    s.function
                )
            }
        };
        vec![first, second, third, fourth]
    }
}

/// Scenarios a game day can stage: the function is not one deployed broken on purpose (its
/// alarms page nobody, so there would be no page), and some expected alarm watches it or the
/// API.
pub fn eligible<'a>(stage: &Stage, catalogue: &'a [Scenario]) -> Vec<&'a Scenario> {
    catalogue
        .iter()
        .filter(|s| !stage.is_known_broken(&s.function))
        .filter(|s| {
            s.expected.iter().any(|e| match &e.subject {
                AlarmSubject::Function(key) => !stage.is_known_broken(key),
                AlarmSubject::Api => true,
            })
        })
        .collect()
}

/// What the person chose on the command line.
#[derive(Debug, Clone)]
pub struct Choice {
    /// A scenario name; `None` = a random one.
    pub scenario: Option<String>,
    pub level: u8,
    pub seed: u64,
    /// Quiet time range in seconds; default by level.
    pub quiet_s: Option<(u64, u64)>,
}

/// A quiet time in seconds: `N` exactly, or a random one in `MIN:MAX`.
pub fn parse_quiet(text: &str) -> Result<(u64, u64), String> {
    let (a, b) = text.split_once(':').unwrap_or((text, text));
    let n = |v: &str| {
        v.trim()
            .parse::<u64>()
            .map_err(|_| format!("{text:?}: {v:?} is not a whole number of seconds"))
    };
    let (min, max) = (n(a)?, n(b)?);
    if min > max || max > 3600 {
        return Err(format!(
            "{text:?}: MIN must not exceed MAX, and MAX must be at most 3600"
        ));
    }
    Ok((min, max))
}

/// Decides the game day. Errors are bad input: an unknown scenario name, a level out of range,
/// a scenario no game day can stage.
pub fn plan(stage: &Stage, catalogue: &[Scenario], choice: &Choice) -> Result<Plan, String> {
    if !LEVELS.contains(&choice.level) {
        return Err(format!(
            "level {} does not exist: levels are 1, 2 and 3",
            choice.level
        ));
    }
    let pool = eligible(stage, catalogue);
    let mut rng = SmallRng::seed_from_u64(choice.seed);
    let scenario = match &choice.scenario {
        Some(name) => {
            let found = catalogue.iter().find(|s| &s.name == name).ok_or_else(|| {
                format!(
                    "unknown scenario {name:?}: the catalogue has {}",
                    catalogue
                        .iter()
                        .map(|s| s.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
            if !pool.iter().any(|s| s.name == found.name) {
                return Err(format!(
                    "scenario {name:?} breaks {}, which is deployed broken on purpose and pages nobody: a game day needs an incident that pages; choose one of {}",
                    found.function,
                    pool.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
            found.clone()
        }
        None => (*pool
            .choose(&mut rng)
            .ok_or("the catalogue has no scenario a game day can stage")?)
        .clone(),
    };
    let cause = Cause::of(&scenario);
    let level = choice.level;
    let (min, max) = choice.quiet_s.unwrap_or(match level {
        1 => (20, 60),
        2 => (30, 90),
        _ => (30, 120),
    });
    let quiet = Duration::from_secs(rng.random_range(min..=max));

    let mut fault_vars: BTreeMap<String, String> = scenario
        .fault
        .as_ref()
        .map(|f| f.vars.clone())
        .unwrap_or_default();
    fault_vars.remove("FAULT_MESSAGE");
    if let Some(message) = cause.log_message() {
        fault_vars.insert("FAULT_MESSAGE".into(), message.into());
    }
    // Levels 2 and 3: a partial failure, about one or two failures per fast-alarm period, so
    // the fast alarm flaps instead of holding steady.
    if level >= 2 && matches!(cause, Cause::Exception | Cause::Panic | Cause::Status) {
        let per_period = requests_per_period(stage, &scenario);
        if per_period > 0.0 {
            let rate = (1.5 / per_period).clamp(0.01, 1.0);
            fault_vars.insert("FAULT_RATE".into(), format!("{rate:.2}"));
        }
    }
    let lowered = scenario
        .configuration
        .as_ref()
        .and_then(|c| c.reserved_concurrency);
    let (inject_concurrency, deployed_concurrency) = if level >= 3 && scenario.surge.is_some() {
        (None, lowered)
    } else {
        (lowered, None)
    };

    let healthy: Vec<String> = stage
        .functions
        .keys()
        .filter(|k| !stage.is_known_broken(k))
        .cloned()
        .collect();
    let mut decoys = Vec::new();
    if level >= 2 {
        let harmless = [
            ("LOG_LEVEL", "debug"),
            ("FEATURE_NEW_CHECKOUT", "on"),
            ("CACHE_TTL_S", "120"),
            ("RETRY_BUDGET", "3"),
        ];
        let count = if level == 2 { 2 } else { 3 };
        for i in 0..count {
            let function = healthy.choose(&mut rng).cloned().unwrap_or_default();
            let (k, v) = harmless[i % harmless.len()];
            decoys.push(Decoy {
                function,
                set: BTreeMap::from([(k.to_owned(), v.to_owned())]),
                actor: OWN_ACTORS[(i + 1) % OWN_ACTORS.len()],
                before: i % 2 == 0,
            });
        }
    }
    if level >= 3 {
        // A noisy but harmless signal: a healthy service a little slower, well under its
        // latency alarm's threshold.
        let others: Vec<&String> = healthy.iter().filter(|k| **k != scenario.function).collect();
        if let Some(noisy) = others.choose(&mut rng) {
            let threshold = stage.alarms.duration_p99.threshold_ms.unwrap_or(1000.0);
            let ms = (threshold / 4.0).clamp(50.0, 400.0).round();
            decoys.push(Decoy {
                function: (*noisy).clone(),
                set: BTreeMap::from([
                    ("FAULT_MODE".to_owned(), "latency".to_owned()),
                    ("FAULT_LATENCY_MS".to_owned(), format!("{ms}")),
                ]),
                actor: DEPLOYER,
                before: true,
            });
        }
    }

    // Steady load on every healthy route, at the scenario's pace; from level 2 on the routes of
    // functions deployed broken on purpose too, whose alarms then show red on the dashboard
    // (paging nobody): known noise the responder must tell from the incident.
    let mut routes: Vec<String> = stage
        .routes
        .iter()
        .filter(|(_, f)| level >= 2 || !stage.is_known_broken(f))
        .map(|(r, _)| r.clone())
        .collect();
    for r in &scenario.traffic.routes {
        if !routes.contains(r) && !stage.routes.get(r).is_some_and(|f| stage.is_known_broken(f)) {
            routes.push(r.clone());
        }
    }
    let idle_hint = match level {
        1 => Some(Duration::from_secs(90)),
        2 => Some(Duration::from_secs(180)),
        _ => None,
    };
    Ok(Plan {
        every: scenario.traffic.interval,
        scenario,
        level,
        seed: choice.seed,
        cause,
        quiet,
        fault_vars,
        inject_concurrency,
        deployed_concurrency,
        decoys,
        routes,
        idle_hint,
    })
}

/// Requests the steady load sends to the scenario's function in one fast-alarm period.
fn requests_per_period(stage: &Stage, scenario: &Scenario) -> f64 {
    let per_route = f64::from(stage.alarms.fast_errors.period_s) / scenario.traffic.interval.as_secs_f64();
    let routes = stage.routes.values().filter(|f| **f == scenario.function).count();
    per_route * routes as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn setup() -> (Stage, Vec<Scenario>) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let stage = Stage::load_named(&root, "dev").expect("dev stage");
        let catalogue = outage_scenario::catalogue(&root.join("scenarios"), &stage).expect("catalogue");
        (stage, catalogue)
    }

    fn choice(scenario: Option<&str>, level: u8, seed: u64) -> Choice {
        Choice {
            scenario: scenario.map(str::to_owned),
            level,
            seed,
            quiet_s: None,
        }
    }

    #[test]
    fn no_incident_on_a_function_broken_on_purpose() {
        let (stage, catalogue) = setup();
        let pool = eligible(&stage, &catalogue);
        assert!(!pool.is_empty());
        assert!(pool.iter().all(|s| s.function != "payment"));
        let err = plan(&stage, &catalogue, &choice(Some("broken-payment-surge"), 1, 1)).unwrap_err();
        assert!(err.contains("deployed broken on purpose"), "{err}");
    }

    #[test]
    fn the_same_seed_stages_the_same_incident() {
        let (stage, catalogue) = setup();
        for seed in [1, 7, 42] {
            let a = plan(&stage, &catalogue, &choice(None, 2, seed)).unwrap();
            let b = plan(&stage, &catalogue, &choice(None, 2, seed)).unwrap();
            assert_eq!(a.scenario.name, b.scenario.name);
            assert_eq!(a.quiet, b.quiet);
            assert_eq!(a.decoys, b.decoys);
        }
    }

    #[test]
    fn levels_disguise_the_incident() {
        let (stage, catalogue) = setup();
        let one = plan(&stage, &catalogue, &choice(Some("payment-exception"), 1, 3)).unwrap();
        assert!(one.decoys.is_empty());
        assert!(!one.routes.iter().any(|r| r == "GET /pay"), "{:?}", one.routes);
        assert!(!one.fault_vars.contains_key("FAULT_RATE"));
        assert_eq!(one.cause, Cause::Exception);
        // The scenario's own message names the scenario; the game day's does not.
        assert!(!one.fault_vars["FAULT_MESSAGE"].contains("Scenario"));
        let two = plan(&stage, &catalogue, &choice(Some("payment-exception"), 2, 3)).unwrap();
        assert_eq!(two.decoys.len(), 2);
        assert!(
            two.routes.iter().any(|r| r == "GET /pay"),
            "known noise from level 2 on"
        );
        let rate: f64 = two.fault_vars["FAULT_RATE"].parse().unwrap();
        assert!((0.01..0.1).contains(&rate), "{rate}");
        let three = plan(&stage, &catalogue, &choice(Some("throttling"), 3, 3)).unwrap();
        assert_eq!(three.cause, Cause::Throttling);
        assert!(
            three.inject_concurrency.is_none(),
            "level 3: no configuration change"
        );
        assert!(three.deployed_concurrency.is_some());
        assert!(three
            .decoys
            .iter()
            .any(|d| d.set.get("FAULT_MODE").is_some_and(|m| m == "latency")
                && d.function != three.scenario.function));
    }

    #[test]
    fn bad_choices_name_the_problem() {
        let (stage, catalogue) = setup();
        let e = plan(&stage, &catalogue, &choice(Some("nope"), 1, 1)).unwrap_err();
        assert!(e.contains("unknown scenario \"nope\""), "{e}");
        let e = plan(&stage, &catalogue, &choice(None, 4, 1)).unwrap_err();
        assert!(e.contains("level 4"), "{e}");
        assert_eq!(parse_quiet("5").unwrap(), (5, 5));
        assert!(parse_quiet("five").is_err());
        assert!(parse_quiet("9:3").is_err());
        assert_eq!(parse_quiet("1:2").unwrap(), (1, 2));
    }

    #[test]
    fn causes_parse_with_synonyms_and_name_the_choices() {
        assert_eq!(Cause::parse("crash").unwrap(), Cause::Panic);
        assert_eq!(Cause::parse(" Throttles ").unwrap(), Cause::Throttling);
        let e = Cause::parse("gremlins").unwrap_err();
        assert!(e.contains("gremlins") && e.contains("status, throttling"), "{e}");
    }

    #[test]
    fn the_last_hint_gives_the_fix() {
        let (stage, catalogue) = setup();
        let p = plan(&stage, &catalogue, &choice(Some("throttling"), 1, 3)).unwrap();
        let hints = p.hints();
        assert_eq!(hints.len(), 4);
        assert!(hints[3].contains("--unreserved"), "{}", hints[3]);
        let p = plan(&stage, &catalogue, &choice(Some("payment-exception"), 1, 3)).unwrap();
        assert!(p.hints()[3].contains("--unset FAULT_MODE"));
    }
}
