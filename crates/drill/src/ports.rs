//! The narrow boundaries the drill and the checks talk through.
//!
//! Function arguments are the function's KEY in the stage file (`payment-fixed`); each adapter
//! maps it to what its API wants (the lab's `/functions/{key}`, Lambda's `<stage>-<key>` or the
//! name from `terraform output`). The traits return `Send` futures so that a drill can run on a
//! spawned task (the lab's `drill` does).

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::PortError;

/// A function's environment variables, as a whole.
pub type Variables = BTreeMap<String, String>;

/// What the control plane says about a function's configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionConfiguration {
    /// The deployed name (`dev-payment-fixed`).
    pub function_name: String,
    pub variables: Variables,
    /// Changes on every update; passed back to guard an update against a concurrent one.
    pub revision_id: Option<String>,
    /// Lambda's `LastUpdateStatus`: `Successful`, `InProgress` or `Failed`.
    pub last_update_status: Option<String>,
    /// Lambda's `LastUpdateStatusReason`, when the update failed.
    pub last_update_status_reason: Option<String>,
}

/// Lambda's configuration API, reduced to what the drill needs.
pub trait ControlPlane: Send + Sync {
    /// The function's current configuration (Lambda `GetFunctionConfiguration`).
    fn configuration(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<FunctionConfiguration, PortError>> + Send;

    /// Replaces the function's environment variables as a whole (Lambda
    /// `UpdateFunctionConfiguration`). With `revision_id`, the update is refused when the
    /// function changed since that revision.
    fn replace_variables(
        &self,
        function: &str,
        variables: &Variables,
        revision_id: Option<&str>,
    ) -> impl Future<Output = Result<FunctionConfiguration, PortError>> + Send;

    /// Waits until the last update is applied (`LastUpdateStatus` = `Successful`), at most
    /// `deadline`. A `Failed` update is an [`PortError::UpdateFailed`].
    fn wait_until_applied(
        &self,
        function: &str,
        deadline: Duration,
    ) -> impl Future<Output = Result<FunctionConfiguration, PortError>> + Send;
}

/// CloudWatch's alarm states: the one definition in `outage-config`.
pub use outage_config::AlarmState;

/// One alarm as `DescribeAlarms` reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmStatus {
    pub name: String,
    pub state: AlarmState,
    pub reason: String,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// CloudWatch's alarm API, reduced to what the drill needs.
pub trait AlarmSource: Send + Sync {
    /// The alarm's current state (CloudWatch `DescribeAlarms` for one name).
    fn alarm(&self, name: &str) -> impl Future<Output = Result<AlarmStatus, PortError>> + Send;
}

/// What one request of drill traffic got back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficOutcome {
    pub status: u16,
    /// The gateway's `apigw-requestid` header, when present.
    pub request_id: Option<String>,
}

/// Sends client traffic to the function under drill (HTTP GET on its route).
pub trait TrafficDriver: Send + Sync {
    /// One request to `path` (`/pay-fixed`).
    fn get(&self, path: &str) -> impl Future<Output = Result<TrafficOutcome, PortError>> + Send;
}
