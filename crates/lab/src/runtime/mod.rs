//! The Lambda side of the lab: execution environments that run the real function binaries and
//! talk to them over the Runtime API, pooled per function up to its reserved concurrency.

pub mod api;
pub mod env;
pub mod pool;
pub mod report;

use bytes::Bytes;

/// How one invocation ended, as the caller (the gateway) sees it.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The runtime posted a response (`/response`).
    Response(Bytes),
    /// The runtime posted an error (`/error`): an unhandled function error.
    FunctionError { error_type: String, body: Bytes },
    /// The invocation ran past the function's timeout; the environment was stopped.
    Timeout,
    /// The runtime process died during the invocation (`Runtime.ExitError`).
    ExitError { detail: String },
    /// The environment never got ready: `/init/error`, an exit before the first `/next`, or
    /// init running past Lambda's 10 s init limit.
    InitError { error_type: String, detail: String },
    /// Every environment was busy at the reserved concurrency (`TooManyRequestsException`).
    Throttled,
}

impl Outcome {
    /// The error type Lambda reports, when the invocation failed.
    pub fn error_type(&self) -> Option<&str> {
        match self {
            Outcome::Response(_) | Outcome::Throttled => None,
            Outcome::FunctionError { error_type, .. } => Some(error_type),
            Outcome::Timeout => Some("Sandbox.Timedout"),
            Outcome::ExitError { .. } => Some("Runtime.ExitError"),
            Outcome::InitError { error_type, .. } => Some(error_type),
        }
    }

    /// True for the failures Lambda counts in `Errors`.
    pub fn is_error(&self) -> bool {
        !matches!(self, Outcome::Response(_) | Outcome::Throttled)
    }
}

/// An outcome plus the timings the gateway needs for its own metrics and the benchmark.
#[derive(Debug, Clone)]
pub struct InvokeResult {
    pub outcome: Outcome,
    /// From event delivery (`/next` answered) to the runtime's answer: Lambda's Duration.
    pub function_duration: Option<std::time::Duration>,
}
