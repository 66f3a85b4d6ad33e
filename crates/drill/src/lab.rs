//! The lab target: the lab's admin API (docs/lab-admin-api.md) as control plane and alarm source,
//! through the one admin client ([`AdminClient`]).
//!
//! Found from the run folder `outage-lab up` writes (`.outage-lab/<stage>/current/lab.json` below
//! the project root), or from an admin URL and a token file.

use std::path::Path;
use std::time::Duration;

use lab_admin_api::{AdminClient, AdminError, Configuration, DrillDocument, LabInfo, LastUpdateStatus};

use crate::error::PortError;
use crate::ports::{AlarmSource, AlarmStatus, ControlPlane, FunctionConfiguration, Variables};

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

impl LabTarget {
    /// The lab of `stage` started below the project `root`.
    pub fn discover(root: &Path, stage: &str) -> Result<LabTarget, PortError> {
        let (info, admin) = AdminClient::discover(root, stage).map_err(|e| match e {
            AdminError::NotFound(m) => PortError::NotFound(format!("{m}, or pass --lab-dir or --admin-url")),
            other => other.into(),
        })?;
        Ok(LabTarget { info, admin })
    }

    /// The lab whose run folder is `dir` (it holds `lab.json`).
    pub fn from_lab_dir(dir: &Path) -> Result<LabTarget, PortError> {
        let (info, admin) = AdminClient::from_run_dir(dir)?;
        Ok(LabTarget { info, admin })
    }

    /// The lab at `admin_url`, with the token in `token_file`; asks `GET /status` for the rest.
    pub async fn connect(admin_url: &str, token_file: &Path) -> Result<LabTarget, PortError> {
        let (info, admin) = AdminClient::connect(admin_url, token_file).await?;
        Ok(LabTarget { info, admin })
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
