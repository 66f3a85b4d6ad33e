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
use crate::verdict::Transition;

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

    /// Publishes `$LATEST` as a version and points the function's `live` alias at it for all
    /// traffic (Lambda `PublishVersion`, then `UpdateAlias` with no additional weights); returns
    /// the version. The API invokes `live`, not `$LATEST`, so an applied update reaches clients
    /// only through this: a drill's injection and its restore are each such a hotfix deploy.
    fn serve_latest(&self, function: &str) -> impl Future<Output = Result<String, PortError>> + Send;
}

/// A release's status and per-version traffic: the lab's admin API types, which already name
/// CodeDeploy's deployment statuses, so that a release reads the same on either target.
pub use lab_admin_api::{ReleaseStatus, VersionTraffic};

/// One release (a CodeDeploy deployment of a Lambda function) as the drill follows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseState {
    /// The deployment's id (`d-...` on AWS, `r-...` in the lab).
    pub id: String,
    /// The traffic-routing configuration it runs (`canary:10%:1m`, a CodeDeploy name).
    pub strategy: String,
    /// The version `live` served when it started, and the one it shifts to.
    pub from_version: String,
    pub to_version: String,
    pub status: ReleaseStatus,
    /// The alarm (or person) that stopped it, when one did.
    pub stopped_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub ended_at: Option<OffsetDateTime>,
    /// Requests `live` sent to each version during the release, as the target counted them
    /// (failures included); empty where the target does not count them (CodeDeploy does not).
    pub traffic: BTreeMap<String, VersionTraffic>,
    /// What the target said happened, oldest first.
    pub events: Vec<String>,
}

/// CodeDeploy's Lambda deployments, reduced to what a release scenario needs.
pub trait Deployments: Send + Sync {
    /// Publishes `$LATEST` as a new version and starts shifting the `live` alias to it with
    /// `strategy` (`None` = the stage's `release.strategy`), the function's alarms as rollback
    /// triggers; with `check`, the new version is invoked directly first and must answer 2xx
    /// before any traffic moves.
    fn start_release(
        &self,
        function: &str,
        strategy: Option<&str>,
        check: bool,
    ) -> impl Future<Output = Result<ReleaseState, PortError>> + Send;
    /// The release's state now (CodeDeploy `GetDeployment`).
    fn release_state(
        &self,
        function: &str,
        id: &str,
    ) -> impl Future<Output = Result<ReleaseState, PortError>> + Send;
    /// Stops a release in progress and rolls the alias back (CodeDeploy `StopDeployment` with
    /// `autoRollbackEnabled`); a release that already ended is left as it is.
    fn stop_release(&self, function: &str, id: &str) -> impl Future<Output = Result<(), PortError>> + Send;
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
    /// The Lambda version that answered ([`FUNCTION_VERSION_HEADER`]), when the function wrote
    /// one: a function that failed writes none.
    pub version: Option<String>,
}

/// The header every function's answer carries with the Lambda version that produced it:
/// `service_kit::response::FUNCTION_VERSION_HEADER`. Written out, not imported: service-kit
/// brings the Lambda runtime with it, which a client has no use for (a test compares the two).
pub const FUNCTION_VERSION_HEADER: &str = "x-function-version";

/// Sends client traffic to the function under drill (HTTP GET on its route).
pub trait TrafficDriver: Send + Sync {
    /// One request to `path` (`/pay-fixed`).
    fn get(&self, path: &str) -> impl Future<Output = Result<TrafficOutcome, PortError>> + Send;
}

/// Every alarm of the stage at once, and their histories (DescribeAlarms and
/// DescribeAlarmHistory).
pub trait AlarmBoard: Send + Sync {
    /// Every metric alarm of the stage and its state; the composite alarm is not one.
    fn states(&self) -> impl Future<Output = Result<BTreeMap<String, AlarmState>, PortError>> + Send;
    /// The alarm's state changes at or after `since`, oldest first.
    fn history(
        &self,
        alarm: &str,
        since: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<Transition>, PortError>> + Send;
}

/// Lambda's PutFunctionConcurrency and DeleteFunctionConcurrency (`None` = unreserved).
pub trait Concurrency: Send + Sync {
    fn reserved_concurrency(
        &self,
        function: &str,
    ) -> impl Future<Output = Result<Option<u32>, PortError>> + Send;
    fn set_reserved_concurrency(
        &self,
        function: &str,
        value: Option<u32>,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// One request as the client saw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Observation {
    /// When it was sent.
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    /// `GET /pay-fixed`.
    pub route: String,
    /// `None` when no answer came (connection refused, client timeout).
    pub status: Option<u16>,
    /// The gateway's request id, when an answer came with one.
    pub request_id: Option<String>,
    /// The Lambda version that answered, when the function said ([`TrafficOutcome::version`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    pub latency_ms: f64,
}

impl Observation {
    /// `GET /pay-fixed` -> `/pay-fixed`; a bare path is its own route.
    pub fn path(&self) -> &str {
        route_path(&self.route)
    }

    /// A 5xx answer, or none at all: what a client counts as a failure.
    pub fn failed(&self) -> bool {
        is_failure(self.status)
    }
}

/// A 5xx answer, or none at all (`None`): what a client counts as a failure.
pub fn is_failure(status: Option<u16>) -> bool {
    status.is_none_or(|s| s >= 500)
}

/// `GET /pay-fixed` -> `/pay-fixed`; a bare path is taken as a GET.
pub fn route_path(route: &str) -> &str {
    route.split_once(' ').map_or(route, |(_, path)| path).trim()
}

/// Client load the run starts and stops, and what clients saw.
pub trait Load: Send + Sync {
    /// Starts one request to each route every `every` (each route on its own loop) until
    /// the returned handle is dropped or stopped.
    fn start(&self, routes: &[String], every: Duration) -> LoadHandle;
    /// Every request so far, oldest first.
    fn observations(&self) -> Vec<Observation>;
}

/// Stops its load when dropped.
pub struct LoadHandle(pub Vec<tokio::task::JoinHandle<()>>);

impl LoadHandle {
    pub fn stop(self) {}
}

impl Drop for LoadHandle {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}

/// One log event of a function's log group (FilterLogEvents).
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    pub at: OffsetDateTime,
    pub log_group: String,
    pub log_stream: String,
    pub message: String,
}

/// One metric series to read: what `GetMetricData`'s `MetricStat` names.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricQuery {
    /// `OutageLab`, `AWS/Lambda`.
    pub namespace: String,
    /// `Requests`, `Errors`.
    pub metric: String,
    /// (name, value): `("Service", "dev-payment-fixed")`; must equal the series' set exactly.
    pub dimensions: Vec<(String, String)>,
    /// `Sum`, `Average`, `p99`.
    pub stat: String,
    pub period_s: u32,
}

/// One datapoint of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricPoint {
    pub at: OffsetDateTime,
    pub value: f64,
}

/// The answer to one [`MetricQuery`], oldest point first.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSeries {
    pub query: MetricQuery,
    pub points: Vec<MetricPoint>,
}

/// What the incident report reads after a run: the functions' logs (CloudWatch Logs
/// `FilterLogEvents`) and metric series (CloudWatch `GetMetricData`).
pub trait Telemetry: Send + Sync {
    /// Events of the function's log group from `from` to `to` (inclusive) whose message
    /// contains `text` (every event when `None`), oldest first. Each adapter turns the literal
    /// text into its own filter syntax.
    fn log_events(
        &self,
        function: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        text: Option<&str>,
    ) -> impl Future<Output = Result<Vec<LogRecord>, PortError>> + Send;

    /// Each query's series from `from` (inclusive) to `to` (exclusive), in the order of
    /// `queries`; a series with no data is empty.
    fn metric_data(
        &self,
        queries: &[MetricQuery],
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<MetricSeries>, PortError>> + Send;
}

#[cfg(test)]
mod tests {
    use super::FUNCTION_VERSION_HEADER;

    #[test]
    fn the_version_header_is_the_one_the_functions_write() {
        // service-kit is not a dependency (see FUNCTION_VERSION_HEADER): read its source.
        let kit = include_str!("../../service-kit/src/response.rs");
        assert!(
            kit.contains(&format!(
                "pub const FUNCTION_VERSION_HEADER: &str = \"{FUNCTION_VERSION_HEADER}\";"
            )),
            "service_kit::response::FUNCTION_VERSION_HEADER is no longer {FUNCTION_VERSION_HEADER:?}"
        );
    }
}
