//! CodeDeploy for Lambda: the AppSpec of one release, and CreateDeployment, GetDeployment and
//! StopDeployment. The deployment group (made by Terraform from the stage file) holds the
//! traffic-shifting configuration, the alarms and the automatic rollback; a deployment names
//! only which versions the alias moves between.

use aws_sdk_codedeploy::operation::create_deployment::CreateDeploymentError;
use aws_sdk_codedeploy::types::{AppSpecContent, DeploymentStatus, RevisionLocation, RevisionLocationType};
use outage_config::release::LIVE_ALIAS;
use serde_json::json;
use time::OffsetDateTime;

use crate::error::PortError;
use crate::targets::aws::port_error;

/// The AppSpec (JSON, which CodeDeploy accepts as well as YAML) that moves `live` of
/// `function_name` from `current` to `target`.
pub fn appspec(function_name: &str, current: &str, target: &str) -> String {
    let resource = json!({
        "Type": "AWS::Lambda::Function",
        "Properties": {
            "Name": function_name,
            "Alias": LIVE_ALIAS,
            "CurrentVersion": current,
            "TargetVersion": target,
        }
    });
    // The resource's logical name is free; the function's own name reads best in the console.
    let mut resources = serde_json::Map::new();
    resources.insert(function_name.to_owned(), resource);
    json!({ "version": 0.0, "Resources": [resources] }).to_string()
}

/// Where a deployment stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Phase {
    /// Created, Queued, InProgress, Baking, Ready: CodeDeploy is still at it.
    Running(String),
    Succeeded,
    Failed,
    Stopped,
}

/// One GetDeployment answer, reduced to what the release reports.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploymentState {
    pub phase: Phase,
    /// errorInformation's code (`ALARM_ACTIVE`) and message.
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    /// rollbackInfo's message, when CodeDeploy rolled back.
    pub rollback_message: Option<String>,
    pub completed_at: Option<OffsetDateTime>,
}

impl DeploymentState {
    /// Every text CodeDeploy gave about why it ended.
    pub fn explanations(&self) -> Vec<&str> {
        [&self.error_message, &self.rollback_message]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect()
    }
}

/// Starts the deployment; returns its id. `config` overrides the group's traffic-shifting
/// configuration (a CodeDeploy name); `None` keeps the group's.
pub async fn create(
    client: &aws_sdk_codedeploy::Client,
    application: &str,
    group: &str,
    appspec: &str,
    description: &str,
    config: Option<&str>,
) -> Result<String, PortError> {
    let revision = RevisionLocation::builder()
        .revision_type(RevisionLocationType::AppSpecContent)
        .app_spec_content(AppSpecContent::builder().content(appspec).build())
        .build();
    let out = client
        .create_deployment()
        .application_name(application)
        .deployment_group_name(group)
        .revision(revision)
        .description(description)
        .set_deployment_config_name(config.map(str::to_owned))
        .send()
        .await
        .map_err(|e| create_error(application, group, e))?;
    out.deployment_id().map(str::to_owned).ok_or_else(|| {
        PortError::Transport(format!(
            "CreateDeployment {application}/{group}: the answer has no deployment id"
        ))
    })
}

fn create_error<R: std::fmt::Debug>(
    application: &str,
    group: &str,
    e: aws_sdk_codedeploy::error::SdkError<CreateDeploymentError, R>,
) -> PortError {
    let action = format!("CreateDeployment {application}/{group}");
    if let Some(se) = e.as_service_error() {
        if se.is_application_does_not_exist_exception() || se.is_deployment_group_does_not_exist_exception() {
            return PortError::NotFound(format!(
                "{action}: the CodeDeploy application or deployment group does not exist: the stage predates releases; run `terraform apply` for it ({})",
                aws_sdk_codedeploy::error::DisplayErrorContext(&e)
            ));
        }
        if se.is_deployment_limit_exceeded_exception() {
            return PortError::Rejected(format!(
                "{action}: another deployment of this group is still running; wait for it (or stop it) and release again ({})",
                aws_sdk_codedeploy::error::DisplayErrorContext(&e)
            ));
        }
    }
    // Whatever else CodeDeploy answered with an error (a bad AppSpec, no permission,
    // throttling), it started nothing.
    port_error(&action, e, |_| true, |_| false)
}

/// The deployment's state now.
pub async fn state(client: &aws_sdk_codedeploy::Client, id: &str) -> Result<DeploymentState, PortError> {
    let out = client
        .get_deployment()
        .deployment_id(id)
        .send()
        .await
        .map_err(|e| {
            port_error(
                &format!("GetDeployment {id}"),
                e,
                |se| se.is_invalid_deployment_id_exception(),
                |se| se.is_deployment_does_not_exist_exception(),
            )
        })?;
    let info = out.deployment_info().ok_or_else(|| {
        PortError::Transport(format!("GetDeployment {id}: the answer has no deploymentInfo"))
    })?;
    let phase = match info.status() {
        Some(DeploymentStatus::Succeeded) => Phase::Succeeded,
        Some(DeploymentStatus::Failed) => Phase::Failed,
        Some(DeploymentStatus::Stopped) => Phase::Stopped,
        Some(other) => Phase::Running(other.as_str().to_owned()),
        None => Phase::Running("unknown".to_owned()),
    };
    let error = info.error_information();
    Ok(DeploymentState {
        phase,
        error_code: error.and_then(|e| e.code()).map(|c| c.as_str().to_owned()),
        error_message: error.and_then(|e| e.message()).map(str::to_owned),
        rollback_message: info
            .rollback_info()
            .and_then(|r| r.rollback_message())
            .map(str::to_owned),
        completed_at: info
            .complete_time()
            .and_then(|t| OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos()).ok()),
    })
}

/// Stops the deployment and has CodeDeploy move `live` back to the version it served.
pub async fn stop_and_roll_back(client: &aws_sdk_codedeploy::Client, id: &str) -> Result<(), PortError> {
    client
        .stop_deployment()
        .deployment_id(id)
        .auto_rollback_enabled(true)
        .send()
        .await
        .map_err(|e| {
            port_error(
                &format!("StopDeployment {id}"),
                e,
                |se| {
                    se.is_deployment_already_completed_exception() || se.is_invalid_deployment_id_exception()
                },
                |se| se.is_deployment_does_not_exist_exception(),
            )
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_appspec_moves_live_between_the_two_versions() {
        let doc: serde_json::Value = serde_json::from_str(&appspec("dev-auth", "3", "4")).unwrap();
        assert_eq!(doc["version"], 0.0);
        let props = &doc["Resources"][0]["dev-auth"];
        assert_eq!(props["Type"], "AWS::Lambda::Function");
        assert_eq!(
            props["Properties"],
            serde_json::json!({"Name": "dev-auth", "Alias": "live", "CurrentVersion": "3", "TargetVersion": "4"})
        );
    }
}
