//! The alarm vocabulary every part shares: the five alarm kinds of a stage and CloudWatch's three
//! alarm states. One definition each, so that the lab, the drill, the reports and smoke-test
//! never compare strings such as `"fast_errors"` or `"ALARM"` by hand.

use serde::{Deserialize, Serialize};

use crate::fault::FaultMode;

/// The folder of the runbooks, relative to the repository root: one `<kind>.md` per alarm kind
/// and the index [`RUNBOOK_INDEX`]. A stage's `runbook_base_url` points at this folder.
pub const RUNBOOKS_DIR: &str = "docs/runbooks";

/// The runbooks' index in [`RUNBOOKS_DIR`].
pub const RUNBOOK_INDEX: &str = "README.md";

/// The runbook link an alarm description ends with, as the stage writes descriptions: a metric
/// alarm's `... Runbook: <link>`, the composite alarm's `... all runbooks: <link>`.
pub fn runbook_in(description: &str) -> Option<&str> {
    ["Runbook: ", "all runbooks: "].iter().find_map(|marker| {
        let (_, link) = description.rsplit_once(marker)?;
        (!link.is_empty() && !link.contains(char::is_whitespace)).then_some(link)
    })
}

/// The alarm kinds of a stage: four per function and one for the API.
///
/// Written in files and on the command line with hyphens (`fast-errors`, `api-5xx`); the stage
/// file's `alarms` keys use underscores (`fast_errors`, `api_5xx`), and both are accepted when
/// parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum AlarmKind {
    /// `OutageLab Faults`, high resolution: detection within seconds.
    #[serde(rename = "fast-errors", alias = "fast_errors")]
    FastErrors,
    /// `AWS/Lambda Errors`: the backstop for crashes and timeouts a function cannot report.
    #[serde(rename = "errors")]
    Errors,
    /// `AWS/Lambda Duration` p99 against the stage's `threshold_ms`.
    #[serde(rename = "duration-p99", alias = "duration_p99")]
    DurationP99,
    /// `AWS/Lambda Throttles`.
    #[serde(rename = "throttles")]
    Throttles,
    /// `AWS/ApiGateway 5xx` for the whole API.
    #[serde(rename = "api-5xx", alias = "api_5xx")]
    Api5xx,
}

impl AlarmKind {
    /// Every kind, in the stage file's order.
    pub const ALL: [AlarmKind; 5] = [
        AlarmKind::FastErrors,
        AlarmKind::Errors,
        AlarmKind::DurationP99,
        AlarmKind::Throttles,
        AlarmKind::Api5xx,
    ];

    /// The name in files and on the command line: `fast-errors`, `api-5xx`.
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmKind::FastErrors => "fast-errors",
            AlarmKind::Errors => "errors",
            AlarmKind::DurationP99 => "duration-p99",
            AlarmKind::Throttles => "throttles",
            AlarmKind::Api5xx => "api-5xx",
        }
    }

    /// The key in the stage file's `alarms`: `fast_errors`, `api_5xx`.
    pub fn stage_key(self) -> &'static str {
        match self {
            AlarmKind::FastErrors => "fast_errors",
            AlarmKind::Errors => "errors",
            AlarmKind::DurationP99 => "duration_p99",
            AlarmKind::Throttles => "throttles",
            AlarmKind::Api5xx => "api_5xx",
        }
    }

    /// What follows the subject in the alarm's name: `<stage>-<function>-fast-errors`,
    /// `<stage>-api-5xx`.
    pub fn name_suffix(self) -> &'static str {
        match self {
            AlarmKind::Api5xx => "5xx",
            other => other.as_str(),
        }
    }

    /// The runbook's file name in [`RUNBOOKS_DIR`]: `fast-errors.md`, `api-5xx.md`.
    pub fn runbook_file(self) -> String {
        format!("{}.md", self.as_str())
    }

    /// The runbook of this kind, relative to the repository root: `docs/runbooks/fast-errors.md`.
    /// What an alarm links when its stage has no `runbook_base_url`.
    pub fn runbook_path(self) -> String {
        format!("{RUNBOOKS_DIR}/{}", self.runbook_file())
    }

    /// Whether the alarm watches the whole API rather than one function.
    pub fn is_api(self) -> bool {
        self == AlarmKind::Api5xx
    }

    /// Whether this alarm's metric can see the fault mode at all (given enough traffic, and for
    /// `duration-p99` a delay above its threshold). A scenario that expects an alarm to catch a
    /// mode it cannot see is refused before anything is injected.
    pub fn can_see(self, mode: &FaultMode) -> bool {
        match self {
            // `Faults` is written by the handler before it returns its error: only an exception
            // reaches it; a crash or a timeout ends the invocation first.
            AlarmKind::FastErrors => matches!(mode, FaultMode::Exception),
            AlarmKind::Errors => matches!(mode, FaultMode::Exception | FaultMode::Panic | FaultMode::Timeout),
            AlarmKind::DurationP99 => matches!(mode, FaultMode::Latency { .. } | FaultMode::Timeout),
            // A throttle is Lambda refusing the invocation: no fault inside a function causes it.
            AlarmKind::Throttles => false,
            AlarmKind::Api5xx => match mode {
                FaultMode::Exception | FaultMode::Panic | FaultMode::Timeout => true,
                FaultMode::Status { code } => *code >= 500,
                FaultMode::None | FaultMode::Latency { .. } => false,
            },
        }
    }
}

impl std::fmt::Display for AlarmKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for AlarmKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AlarmKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s || k.stage_key() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = AlarmKind::ALL.iter().map(|k| k.as_str()).collect();
                format!("unknown alarm kind {s:?} (known: {})", known.join(", "))
            })
    }
}

/// CloudWatch's alarm states, serialised as CloudWatch writes them (`StateValue`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AlarmState {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
    #[serde(rename = "INSUFFICIENT_DATA")]
    InsufficientData,
}

impl AlarmState {
    pub const ALL: [AlarmState; 3] = [AlarmState::Ok, AlarmState::Alarm, AlarmState::InsufficientData];

    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
            AlarmState::InsufficientData => "INSUFFICIENT_DATA",
        }
    }

    /// Parses CloudWatch's `StateValue`.
    pub fn parse(value: &str) -> Option<AlarmState> {
        AlarmState::ALL.into_iter().find(|s| s.as_str() == value)
    }
}

impl std::fmt::Display for AlarmState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn the_runbook_link_is_the_last_word_of_a_description() {
        let metric = "OutageLab Faults Sum >= 1 for function dev-auth (1 of 1 x 20 s). Runbook: docs/runbooks/fast-errors.md";
        assert_eq!(runbook_in(metric), Some("docs/runbooks/fast-errors.md"));
        let composite = "In ALARM while any alarm of stage dev that pages is. The alarm in ALARM names its runbook; all runbooks: https://example.org/r/README.md";
        assert_eq!(runbook_in(composite), Some("https://example.org/r/README.md"));
        assert_eq!(runbook_in("no link here"), None);
        assert_eq!(runbook_in("Runbook: "), None);
    }

    use super::*;

    #[test]
    fn kinds_parse_in_both_spellings_and_print_with_hyphens() {
        for kind in AlarmKind::ALL {
            assert_eq!(kind.as_str().parse::<AlarmKind>(), Ok(kind));
            assert_eq!(kind.stage_key().parse::<AlarmKind>(), Ok(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(serde_json::from_str::<AlarmKind>(&json).unwrap(), kind);
        }
        let err = "fast".parse::<AlarmKind>().unwrap_err();
        assert!(err.contains("\"fast\"") && err.contains("fast-errors"), "{err}");
    }

    #[test]
    fn which_alarm_sees_which_fault() {
        use FaultMode::*;
        assert!(AlarmKind::FastErrors.can_see(&Exception));
        assert!(!AlarmKind::FastErrors.can_see(&Panic));
        assert!(!AlarmKind::FastErrors.can_see(&Timeout));
        assert!(AlarmKind::Errors.can_see(&Panic) && AlarmKind::Errors.can_see(&Timeout));
        assert!(!AlarmKind::Errors.can_see(&Status { code: 503 }));
        assert!(AlarmKind::Api5xx.can_see(&Status { code: 503 }));
        assert!(!AlarmKind::Api5xx.can_see(&Status { code: 418 }));
        assert!(AlarmKind::DurationP99.can_see(&Latency { ms: 1500 }));
        assert!(!AlarmKind::DurationP99.can_see(&Exception));
        assert!(!AlarmKind::Throttles.can_see(&Exception));
    }

    #[test]
    fn every_kind_has_its_runbook_in_the_repository() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let index = std::fs::read_to_string(root.join(RUNBOOKS_DIR).join(RUNBOOK_INDEX)).unwrap();
        for kind in AlarmKind::ALL {
            let path = kind.runbook_path();
            assert_eq!(path, format!("docs/runbooks/{kind}.md"));
            let text = std::fs::read_to_string(root.join(&path)).unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(text.starts_with("# "), "{path} has no title");
            assert!(
                index.contains(&format!("({})", kind.runbook_file())),
                "the index does not link {path}"
            );
        }
        assert_eq!(AlarmKind::Api5xx.runbook_path(), "docs/runbooks/api-5xx.md");
    }

    #[test]
    fn states_round_trip() {
        for s in AlarmState::ALL {
            assert_eq!(AlarmState::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{s}\""));
        }
        assert_eq!(AlarmState::parse("alarm"), None);
    }
}
