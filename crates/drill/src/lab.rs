//! The lab target: the lab's admin API (docs/lab-admin-api.md) as every port of the drill
//! (control plane, alarms, reserved concurrency, logs and metrics), through the one admin
//! client ([`AdminClient`]).
//!
//! Found from the run folder `outage-lab up` writes (`.outage-lab/<stage>/current/lab.json` below
//! the project root), or from an admin URL and a token file.

use std::path::Path;
use std::time::Duration;

use std::collections::BTreeMap;

use lab_admin_api::{
    AdminClient, AdminError, Configuration, DrillDocument, LabInfo, LastUpdateStatus, LogQuery,
    ReleaseRequest, ReleaseView,
};
use outage_config::AlarmState;
use time::OffsetDateTime;

use crate::error::PortError;
use crate::ports::{
    AlarmBoard, AlarmSource, AlarmStatus, Concurrency, ControlPlane, Deployments, FunctionConfiguration,
    LogRecord, MetricPoint, MetricQuery, MetricSeries, ReleaseState, Telemetry, Variables,
};
use crate::verdict::Transition;

/// A running lab, reached over its admin API.
#[derive(Debug, Clone)]
pub struct LabTarget {
    info: LabInfo,
    admin: AdminClient,
}

impl From<AdminError> for PortError {
    fn from(e: AdminError) -> Self {
        match e {
            AdminError::NotFound(m) => PortError::NotFound(m),
            AdminError::Rejected(m) => PortError::Rejected(m),
            AdminError::Transport(m) => PortError::Transport(m),
        }
    }
}

/// Who a drill's control-plane calls are recorded as in the lab's change history.
pub const ACTOR: &str = "outage-drill";

impl LabTarget {
    /// The lab of `stage` started below the project `root`.
    pub fn discover(root: &Path, stage: &str) -> Result<LabTarget, PortError> {
        let (info, admin) = AdminClient::discover(root, stage).map_err(|e| match e {
            AdminError::NotFound(m) => PortError::NotFound(format!("{m}, or pass --lab-dir or --admin-url")),
            other => other.into(),
        })?;
        Ok(LabTarget {
            info,
            admin: admin.with_actor(ACTOR),
        })
    }

    /// The lab whose run folder is `dir` (it holds `lab.json`).
    pub fn from_lab_dir(dir: &Path) -> Result<LabTarget, PortError> {
        let (info, admin) = AdminClient::from_run_dir(dir)?;
        Ok(LabTarget {
            info,
            admin: admin.with_actor(ACTOR),
        })
    }

    /// The lab at `admin_url`, with the token in `token_file`; asks `GET /status` for the rest.
    pub async fn connect(admin_url: &str, token_file: &Path) -> Result<LabTarget, PortError> {
        let (info, admin) = AdminClient::connect(admin_url, token_file).await?;
        Ok(LabTarget {
            info,
            admin: admin.with_actor(ACTOR),
        })
    }

    pub fn info(&self) -> &LabInfo {
        &self.info
    }

    /// The admin client this target speaks through.
    pub fn admin(&self) -> &AdminClient {
        &self.admin
    }

    /// Where client traffic goes (the lab's API Gateway).
    pub fn gateway_url(&self) -> &str {
        &self.info.gateway_url
    }

    pub fn admin_url(&self) -> &str {
        &self.info.admin_url
    }

    /// The lab's API id (fills the `ApiId` alarm dimension).
    pub fn api_id(&self) -> &str {
        &self.info.api_id
    }

    /// Publishes the running drill's timeline (`PUT /drill`).
    pub async fn publish_drill(&self, timeline: &DrillDocument) -> Result<(), PortError> {
        self.admin.put_drill(timeline).await?;
        Ok(())
    }
}

impl From<Configuration> for FunctionConfiguration {
    fn from(c: Configuration) -> Self {
        FunctionConfiguration {
            function_name: c.function_name,
            variables: c.environment.variables,
            revision_id: Some(c.revision_id),
            last_update_status: Some(
                match c.last_update_status {
                    LastUpdateStatus::Successful => "Successful",
                    LastUpdateStatus::InProgress => "InProgress",
                    LastUpdateStatus::Failed => "Failed",
                }
                .to_owned(),
            ),
            last_update_status_reason: c.last_update_status_reason,
        }
    }
}

impl ControlPlane for LabTarget {
    async fn configuration(&self, function: &str) -> Result<FunctionConfiguration, PortError> {
        Ok(self.admin.configuration(function).await?.into())
    }

    async fn replace_variables(
        &self,
        function: &str,
        variables: &Variables,
        revision_id: Option<&str>,
    ) -> Result<FunctionConfiguration, PortError> {
        // The admin API has no revision guard: compare first (the lab has one operator at a time).
        if let Some(expected) = revision_id {
            let now = self.configuration(function).await?;
            if now.revision_id.as_deref().is_some_and(|r| r != expected) {
                return Err(PortError::Rejected(format!(
                    "{function} changed since revision {expected} (now {})",
                    now.revision_id.unwrap_or_default()
                )));
            }
        }
        Ok(self.admin.update_configuration(function, variables).await?.into())
    }

    async fn wait_until_applied(
        &self,
        function: &str,
        deadline: Duration,
    ) -> Result<FunctionConfiguration, PortError> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let config = self.admin.configuration(function).await?;
            match config.last_update_status {
                LastUpdateStatus::Successful => return Ok(config.into()),
                LastUpdateStatus::Failed => {
                    return Err(PortError::UpdateFailed(
                        config
                            .last_update_status_reason
                            .unwrap_or_else(|| "no reason given".into()),
                    ))
                }
                LastUpdateStatus::InProgress if tokio::time::Instant::now() >= until => {
                    return Err(PortError::Timeout(format!(
                        "{function}: update still in progress after {deadline:?}"
                    )))
                }
                LastUpdateStatus::InProgress => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }

    async fn serve_latest(&self, function: &str) -> Result<String, PortError> {
        Ok(self.admin.serve_latest(function).await?)
    }
}

impl From<ReleaseView> for ReleaseState {
    fn from(r: ReleaseView) -> Self {
        ReleaseState {
            id: r.id,
            strategy: r.strategy,
            from_version: r.from_version,
            to_version: r.to_version,
            status: r.status,
            stopped_by: r.stopped_by,
            ended_at: r.ended_at,
            traffic: r.traffic,
            events: r.events.into_iter().map(|e| e.message).collect(),
        }
    }
}

/// The lab's release engine (`POST /functions/{key}/releases`), which follows CodeDeploy's
/// model for Lambda.
impl Deployments for LabTarget {
    async fn start_release(
        &self,
        function: &str,
        strategy: Option<&str>,
        check: bool,
    ) -> Result<ReleaseState, PortError> {
        let request = ReleaseRequest {
            strategy: strategy.map(str::to_owned),
            skip_check: !check,
            ..ReleaseRequest::default()
        };
        Ok(self.admin.start_release(function, &request).await?.into())
    }

    async fn release_state(&self, _function: &str, id: &str) -> Result<ReleaseState, PortError> {
        Ok(self.admin.release(id).await?.into())
    }

    async fn stop_release(&self, function: &str, id: &str) -> Result<(), PortError> {
        if self.admin.release(id).await?.status.is_done() {
            return Ok(());
        }
        // With a release running, the lab's rollback stops that release.
        self.admin.rollback(function).await?;
        Ok(())
    }
}

impl AlarmSource for LabTarget {
    async fn alarm(&self, name: &str) -> Result<AlarmStatus, PortError> {
        let view = self.admin.alarm(name).await?;
        Ok(AlarmStatus {
            name: view.alarm_name,
            state: view.state_value,
            reason: view.state_reason,
            updated_at: view.state_updated_timestamp,
        })
    }
}

impl AlarmBoard for LabTarget {
    async fn states(&self) -> Result<BTreeMap<String, AlarmState>, PortError> {
        let rows = self.admin.alarms().await?;
        Ok(rows.into_iter().map(|r| (r.alarm_name, r.state_value)).collect())
    }

    async fn history(&self, alarm: &str, since: OffsetDateTime) -> Result<Vec<Transition>, PortError> {
        let mut rows = self.admin.alarm_history(alarm).await?;
        rows.sort_by_key(|r| r.timestamp);
        Ok(rows
            .into_iter()
            .filter(|r| r.timestamp >= since)
            .map(|r| Transition {
                at: r.timestamp,
                from: Some(r.old_state),
                state: r.new_state,
                reason: r.reason,
            })
            .collect())
    }
}

impl Concurrency for LabTarget {
    async fn reserved_concurrency(&self, function: &str) -> Result<Option<u32>, PortError> {
        Ok(self
            .admin
            .configuration(function)
            .await?
            .reserved_concurrent_executions)
    }

    async fn set_reserved_concurrency(&self, function: &str, value: Option<u32>) -> Result<(), PortError> {
        match value {
            Some(v) => self.admin.put_concurrency(function, v).await.map(|_| ())?,
            None => self.admin.delete_concurrency(function).await?,
        }
        Ok(())
    }
}

fn epoch_ms_to_time(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

impl Telemetry for LabTarget {
    /// `GET /logs/{key}`: the lab filters on a literal substring and a look-back in whole
    /// seconds, so the window's end (and the start's sub-second part) is cut here.
    async fn log_events(
        &self,
        function: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        text: Option<&str>,
    ) -> Result<Vec<LogRecord>, PortError> {
        let back = (OffsetDateTime::now_utc() - from).whole_seconds() + 1;
        let query = LogQuery {
            filter: text.map(str::to_owned),
            since_s: Some(u64::try_from(back.max(1)).unwrap_or(1)),
            limit: None,
        };
        let mut records: Vec<LogRecord> = self
            .admin
            .logs(function, &query)
            .await?
            .into_iter()
            .map(|e| LogRecord {
                at: epoch_ms_to_time(e.timestamp),
                log_group: e.log_group,
                log_stream: e.log_stream,
                message: e.message,
            })
            .filter(|r| r.at >= from && r.at <= to)
            .collect();
        records.sort_by_key(|r| r.at);
        Ok(records)
    }

    /// `GET /metrics`, one query at a time (the lab answers from memory).
    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<MetricSeries>, PortError> {
        let mut out = Vec::with_capacity(queries.len());
        for q in queries {
            let answer = self
                .admin
                .metrics(&lab_admin_api::MetricQuery {
                    namespace: q.namespace.clone(),
                    metric: q.metric.clone(),
                    dimensions: q.dimensions.iter().cloned().collect(),
                    period: Some(q.period_s),
                    stat: Some(q.stat.clone()),
                    start: Some(from.unix_timestamp()),
                    end: Some(to.unix_timestamp()),
                })
                .await?;
            let mut points: Vec<MetricPoint> = answer
                .datapoints
                .iter()
                .filter_map(|d| {
                    Some(MetricPoint {
                        at: OffsetDateTime::from_unix_timestamp(d.timestamp).ok()?,
                        value: d.value,
                    })
                })
                .collect();
            points.sort_by_key(|p| p.at);
            out.push(MetricSeries {
                query: q.clone(),
                points,
            });
        }
        Ok(out)
    }
}
