//! Errors of the ports: what a control plane, an alarm source or a traffic driver can answer.

/// A failed call through one of the ports. Messages are lower case and say what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// The function, alarm or route does not exist on the target.
    #[error("not found: {0}")]
    NotFound(String),
    /// The target refused the request (bad input, missing permission, stale revision).
    #[error("rejected: {0}")]
    Rejected(String),
    /// The target applied a configuration update and reported it as failed.
    #[error("update failed: {0}")]
    UpdateFailed(String),
    /// Waiting for something ran past its deadline.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The target could not be reached or answered something unreadable.
    #[error("transport: {0}")]
    Transport(String),
}
