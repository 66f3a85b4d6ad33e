//! The fault-injection variables of ARCHITECTURE.md, parsed once and strictly.
//!
//! Every consumer goes through [`FaultConfig::from_lookup`], so a value the functions would refuse
//! at init is also refused by the lab's control plane and by stage-file validation.

use std::collections::BTreeMap;
use std::fmt;

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// Names of every variable this module reads, in the order they are documented.
pub const FAULT_VARIABLES: [&str; 7] = [
    "FAULT_MODE",
    "FAULT_RATE",
    "FAULT_MESSAGE",
    "FAULT_LATENCY_MS",
    "FAULT_STATUS",
    "FAULT_EXPIRES_AT",
    "FAULT_SEED",
];

/// What an affected invocation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultMode {
    /// No fault: the handler runs untouched.
    None,
    /// The handler returns an error: an unhandled failure, Lambda `Errors` + 1.
    Exception,
    /// The process aborts: Lambda reports `Runtime.ExitError`.
    Panic,
    /// The handler runs after an added delay.
    Latency { ms: u64 },
    /// The handler sleeps past its deadline: Lambda reports `Sandbox.Timedout`.
    Timeout,
    /// A handled response with this status: API 5xx, but not Lambda `Errors`.
    Status { code: u16 },
}

impl FaultMode {
    /// The value of `FAULT_MODE` that selects this mode.
    pub fn name(&self) -> &'static str {
        match self {
            FaultMode::None => "none",
            FaultMode::Exception => "exception",
            FaultMode::Panic => "panic",
            FaultMode::Latency { .. } => "latency",
            FaultMode::Timeout => "timeout",
            FaultMode::Status { .. } => "status",
        }
    }

    pub const NAMES: [&'static str; 6] = ["none", "exception", "panic", "latency", "timeout", "status"];
}

impl fmt::Display for FaultMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A bad `FAULT_*` value. The message names the variable and the value, so an init error in
/// the logs says exactly what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{variable}={value:?} is invalid: {reason}")]
pub struct FaultConfigError {
    pub variable: &'static str,
    pub value: String,
    pub reason: String,
}

fn invalid(variable: &'static str, value: &str, reason: impl Into<String>) -> FaultConfigError {
    FaultConfigError {
        variable,
        value: value.to_owned(),
        reason: reason.into(),
    }
}

/// The parsed fault configuration of one function.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    pub mode: FaultMode,
    /// Share of invocations affected, 0.0..=1.0.
    pub rate: f64,
    /// Error text; `None` means "Simulated <service> failure".
    pub message: Option<String>,
    /// After this instant the fault is ignored, so a forgotten fault heals itself.
    pub expires_at: Option<OffsetDateTime>,
    /// Seed that makes `rate` sampling reproducible.
    pub seed: Option<u64>,
}

impl Default for FaultConfig {
    fn default() -> Self {
        FaultConfig {
            mode: FaultMode::None,
            rate: 1.0,
            message: None,
            expires_at: None,
            seed: None,
        }
    }
}

impl FaultConfig {
    /// Reads the variables from the process environment.
    pub fn from_env() -> Result<Self, FaultConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables from a map, as the lab's control plane and the stage file hold them.
    pub fn from_vars(vars: &BTreeMap<String, String>) -> Result<Self, FaultConfigError> {
        Self::from_lookup(|name| vars.get(name).cloned())
    }

    /// Parses the variables through `lookup`. An empty value counts as unset, as Lambda's
    /// console leaves empty values behind when a variable is cleared.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, FaultConfigError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());

        let latency_ms = get("FAULT_LATENCY_MS")
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| invalid("FAULT_LATENCY_MS", &v, "expected a whole number of milliseconds"))
            })
            .transpose()?;
        let status = get("FAULT_STATUS")
            .map(|v| match v.trim().parse::<u16>() {
                Ok(code) if (400..=599).contains(&code) => Ok(code),
                _ => Err(invalid(
                    "FAULT_STATUS",
                    &v,
                    "expected an HTTP error status from 400 to 599",
                )),
            })
            .transpose()?;

        let mode_value = get("FAULT_MODE").unwrap_or_else(|| "none".to_owned());
        let mode = match mode_value.trim().to_ascii_lowercase().as_str() {
            "none" => FaultMode::None,
            "exception" => FaultMode::Exception,
            "panic" => FaultMode::Panic,
            "timeout" => FaultMode::Timeout,
            "latency" => FaultMode::Latency {
                ms: latency_ms.ok_or_else(|| {
                    invalid(
                        "FAULT_LATENCY_MS",
                        "",
                        "FAULT_MODE=latency needs FAULT_LATENCY_MS (milliseconds to add)",
                    )
                })?,
            },
            "status" => FaultMode::Status {
                code: status.ok_or_else(|| {
                    invalid(
                        "FAULT_STATUS",
                        "",
                        "FAULT_MODE=status needs FAULT_STATUS (for example 503)",
                    )
                })?,
            },
            _ => {
                return Err(invalid(
                    "FAULT_MODE",
                    &mode_value,
                    format!("expected one of {}", FaultMode::NAMES.join(", ")),
                ))
            }
        };
        // A parameter for another mode is almost always a half-edited configuration; saying so
        // beats injecting something other than what the operator meant.
        if latency_ms.is_some() && !matches!(mode, FaultMode::Latency { .. }) {
            return Err(invalid(
                "FAULT_LATENCY_MS",
                &get("FAULT_LATENCY_MS").unwrap_or_default(),
                format!("only used with FAULT_MODE=latency, but FAULT_MODE is {mode}"),
            ));
        }
        if status.is_some() && !matches!(mode, FaultMode::Status { .. }) {
            return Err(invalid(
                "FAULT_STATUS",
                &get("FAULT_STATUS").unwrap_or_default(),
                format!("only used with FAULT_MODE=status, but FAULT_MODE is {mode}"),
            ));
        }

        let rate = match get("FAULT_RATE") {
            None => 1.0,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(r) if (0.0..=1.0).contains(&r) => r,
                _ => return Err(invalid("FAULT_RATE", &v, "expected a number from 0.0 to 1.0")),
            },
        };
        let expires_at = get("FAULT_EXPIRES_AT")
            .map(|v| {
                OffsetDateTime::parse(v.trim(), &Rfc3339).map_err(|_| {
                    invalid(
                        "FAULT_EXPIRES_AT",
                        &v,
                        "expected an RFC 3339 instant such as 2026-11-25T14:00:00Z",
                    )
                })
            })
            .transpose()?;
        let seed = get("FAULT_SEED")
            .map(|v| {
                v.trim()
                    .parse::<u64>()
                    .map_err(|_| invalid("FAULT_SEED", &v, "expected a whole number"))
            })
            .transpose()?;
        let message = lookup("FAULT_MESSAGE").filter(|m| !m.is_empty());

        Ok(FaultConfig {
            mode,
            rate,
            message,
            expires_at,
            seed,
        })
    }

    /// The variables that reproduce this configuration (only the ones that differ from the
    /// defaults), so that `from_vars(&c.to_vars()) == c`.
    pub fn to_vars(&self) -> BTreeMap<String, String> {
        let mut vars = BTreeMap::new();
        vars.insert("FAULT_MODE".to_owned(), self.mode.name().to_owned());
        match self.mode {
            FaultMode::Latency { ms } => {
                vars.insert("FAULT_LATENCY_MS".to_owned(), ms.to_string());
            }
            FaultMode::Status { code } => {
                vars.insert("FAULT_STATUS".to_owned(), code.to_string());
            }
            _ => {}
        }
        if self.rate != 1.0 {
            vars.insert("FAULT_RATE".to_owned(), self.rate.to_string());
        }
        if let Some(message) = &self.message {
            vars.insert("FAULT_MESSAGE".to_owned(), message.clone());
        }
        if let Some(at) = self.expires_at {
            vars.insert(
                "FAULT_EXPIRES_AT".to_owned(),
                at.format(&Rfc3339)
                    .expect("an OffsetDateTime formats as RFC 3339"),
            );
        }
        if let Some(seed) = self.seed {
            vars.insert("FAULT_SEED".to_owned(), seed.to_string());
        }
        vars
    }

    /// True when the fault has an expiry that `now` has passed.
    pub fn is_expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|at| now >= at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<FaultConfig, FaultConfigError> {
        let vars = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        FaultConfig::from_vars(&vars)
    }

    #[test]
    fn unset_means_no_fault_at_full_rate() {
        assert_eq!(parse(&[]).unwrap(), FaultConfig::default());
        assert_eq!(parse(&[("FAULT_MODE", "")]).unwrap().mode, FaultMode::None);
    }

    #[test]
    fn every_mode_parses_with_its_parameters() {
        assert_eq!(
            parse(&[("FAULT_MODE", "exception")]).unwrap().mode,
            FaultMode::Exception
        );
        assert_eq!(parse(&[("FAULT_MODE", "PANIC")]).unwrap().mode, FaultMode::Panic);
        assert_eq!(
            parse(&[("FAULT_MODE", "timeout")]).unwrap().mode,
            FaultMode::Timeout
        );
        assert_eq!(
            parse(&[("FAULT_MODE", "latency"), ("FAULT_LATENCY_MS", "250")])
                .unwrap()
                .mode,
            FaultMode::Latency { ms: 250 }
        );
        assert_eq!(
            parse(&[("FAULT_MODE", "status"), ("FAULT_STATUS", "503")])
                .unwrap()
                .mode,
            FaultMode::Status { code: 503 }
        );
    }

    #[test]
    fn errors_name_the_variable_and_the_value() {
        let e = parse(&[("FAULT_MODE", "explode")]).unwrap_err();
        assert_eq!(e.variable, "FAULT_MODE");
        assert_eq!(
            e.to_string(),
            "FAULT_MODE=\"explode\" is invalid: expected one of none, exception, panic, latency, timeout, status"
        );
        assert_eq!(
            parse(&[("FAULT_RATE", "1.5")]).unwrap_err().variable,
            "FAULT_RATE"
        );
        assert_eq!(
            parse(&[("FAULT_RATE", "abc")]).unwrap_err().variable,
            "FAULT_RATE"
        );
        assert_eq!(
            parse(&[("FAULT_MODE", "latency")]).unwrap_err().variable,
            "FAULT_LATENCY_MS"
        );
        assert_eq!(
            parse(&[("FAULT_MODE", "status"), ("FAULT_STATUS", "200")])
                .unwrap_err()
                .variable,
            "FAULT_STATUS"
        );
        assert_eq!(
            parse(&[("FAULT_EXPIRES_AT", "tomorrow")]).unwrap_err().variable,
            "FAULT_EXPIRES_AT"
        );
        assert_eq!(parse(&[("FAULT_SEED", "-1")]).unwrap_err().variable, "FAULT_SEED");
        let stray = parse(&[("FAULT_MODE", "exception"), ("FAULT_STATUS", "503")]).unwrap_err();
        assert_eq!(stray.variable, "FAULT_STATUS");
        assert!(stray.reason.contains("FAULT_MODE is exception"), "{stray}");
    }

    #[test]
    fn expiry_is_compared_with_now() {
        let c = parse(&[
            ("FAULT_MODE", "exception"),
            ("FAULT_EXPIRES_AT", "2026-11-25T14:00:00Z"),
        ])
        .unwrap();
        let before = OffsetDateTime::parse("2026-11-25T13:59:59Z", &Rfc3339).unwrap();
        let after = OffsetDateTime::parse("2026-11-25T14:00:00Z", &Rfc3339).unwrap();
        assert!(!c.is_expired(before));
        assert!(c.is_expired(after));
        assert!(!FaultConfig::default().is_expired(after));
    }

    #[test]
    fn to_vars_round_trips() {
        let c = parse(&[
            ("FAULT_MODE", "status"),
            ("FAULT_STATUS", "503"),
            ("FAULT_RATE", "0.25"),
            ("FAULT_MESSAGE", "boom"),
            ("FAULT_EXPIRES_AT", "2026-11-25T14:00:00Z"),
            ("FAULT_SEED", "7"),
        ])
        .unwrap();
        assert_eq!(FaultConfig::from_vars(&c.to_vars()).unwrap(), c);
    }
}
