//! The drill's [`Deployments`] port on AWS, for release scenarios: the same pieces as
//! `smoke-test release` (PublishVersion, the pre-traffic check, CodeDeploy's CreateDeployment,
//! GetDeployment and StopDeployment), one release at a time and followed by the
//! scenario runner instead of [`super::run`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use outage_config::release::{TrafficRouting, PREDEFINED};
use outage_config::Stage;
use time::OffsetDateTime;

use super::codedeploy::{self, Phase};
use super::{alarms, lambda, pre_traffic_check, route_of, strategy_of, Releaser};
use crate::error::PortError;
use crate::ports::{Deployments, ReleaseState, ReleaseStatus};

/// CodeDeploy releases of one deployed stage.
pub struct AwsDeployments {
    releaser: Releaser,
    stage: Stage,
    /// The deployed API's base URL: the pre-traffic check's event names its domain.
    api_url: String,
    /// What a deployment's GetDeployment answer does not say (its versions and strategy), and
    /// releases that the pre-traffic check refused (they have no deployment).
    started: Mutex<BTreeMap<String, ReleaseState>>,
    /// Deployments this run stopped: no alarm stopped those.
    stopped_here: Mutex<BTreeSet<String>>,
}

impl AwsDeployments {
    pub fn new(releaser: Releaser, stage: Stage, api_url: &str) -> AwsDeployments {
        AwsDeployments {
            releaser,
            stage,
            api_url: api_url.to_owned(),
            started: Mutex::default(),
            stopped_here: Mutex::default(),
        }
    }

    fn remember(&self, state: &ReleaseState) {
        self.started
            .lock()
            .expect("releases poisoned")
            .insert(state.id.clone(), state.clone());
    }

    fn remembered(&self, id: &str) -> Option<ReleaseState> {
        self.started.lock().expect("releases poisoned").get(id).cloned()
    }

    /// Who stopped a deployment: the alarm CodeDeploy names; else this run, if it asked; else
    /// the function's alarm in ALARM now (CloudWatch is asked only then).
    async fn stopped_by(
        &self,
        function: &str,
        id: &str,
        deployment: &codedeploy::DeploymentState,
    ) -> Option<String> {
        let watched = alarms::function_alarms(&self.stage, function);
        if let Some(alarm) = alarms::named_in(&deployment.explanations(), &watched)
            .into_iter()
            .next()
        {
            return Some(alarm);
        }
        if self.stopped_here.lock().expect("releases poisoned").contains(id) {
            return Some(STOPPED_BY_THE_RUN.to_owned());
        }
        alarms::first_in_alarm(&self.releaser.target, &watched)
            .await
            .map(|(alarm, _)| alarm)
    }
}

/// Who a deployment that this run stopped (an interrupt, the time budget) was stopped by.
pub const STOPPED_BY_THE_RUN: &str = "smoke-test drill";

/// The configuration CreateDeployment names: a predefined one by its name; the stage's own
/// (Terraform makes it the group's, custom or not) as `None`. A custom configuration other than
/// the stage's does not exist in the account.
pub fn deployment_config(
    stage: &Stage,
    key: &str,
    strategy: Option<&str>,
) -> Result<(TrafficRouting, Option<String>), PortError> {
    // The group's own: the stage's strategy, or all-at-once for a function broken on purpose.
    let own = strategy_of(stage, key);
    let Some(text) = strategy else {
        return Ok((own, None));
    };
    let routing = TrafficRouting::parse(text).map_err(PortError::Rejected)?;
    if routing == own {
        return Ok((routing, None));
    }
    match PREDEFINED.iter().find(|(_, r)| *r == routing) {
        Some((name, _)) => Ok((routing, Some((*name).to_owned()))),
        None => Err(PortError::Rejected(format!(
            "strategy {routing} exists on AWS only as the stage's own configuration (Terraform creates it from release.strategy, {own}): use that or a CodeDeploy predefined one"
        ))),
    }
}

impl Deployments for AwsDeployments {
    async fn start_release(
        &self,
        function: &str,
        strategy: Option<&str>,
        check: bool,
    ) -> Result<ReleaseState, PortError> {
        let (routing, config) = deployment_config(&self.stage, function, strategy)?;
        let target = &self.releaser.target;
        let name = target.name_of(function)?.to_owned();
        let route = route_of(&self.stage, function);
        if check && route.is_none() {
            return Err(PortError::Rejected(format!(
                "{function} has no route: the pre-traffic check has nothing to call"
            )));
        }
        let live = lambda::live_alias(&target.lambda, &name).await?;
        if !live.weights.is_empty() {
            return Err(PortError::Rejected(format!(
                "`live` of {name} already splits traffic: a release is under way; let it finish (or stop it) first"
            )));
        }
        let to = target.publish_latest(&name).await?;
        if to == live.version {
            return Err(PortError::Rejected(format!(
                "nothing to release: live already serves version {to} with this code and configuration"
            )));
        }
        let mut state = ReleaseState {
            id: String::new(),
            strategy: routing.to_string(),
            from_version: live.version.clone(),
            to_version: to.clone(),
            status: ReleaseStatus::InProgress,
            stopped_by: None,
            ended_at: None,
            traffic: BTreeMap::new(),
            events: Vec::new(),
        };
        if let Some(route) = route.filter(|_| check) {
            match pre_traffic_check(&self.releaser, &self.api_url, &name, route, &to).await {
                Ok(line) => state.events.push(format!("pre-traffic check: {line}")),
                Err(why) => {
                    state.id = format!("check-{name}-{to}");
                    state.status = ReleaseStatus::Failed;
                    state.ended_at = Some(OffsetDateTime::now_utc());
                    state.events.push(format!(
                        "pre-traffic check of version {to} failed: {why}; no deployment started"
                    ));
                    self.remember(&state);
                    return Ok(state);
                }
            }
        }
        let application = self.stage.codedeploy_application();
        let group = self.stage.deployment_group(function);
        let spec = codedeploy::appspec(&name, &live.version, &to);
        let description = format!("release scenario: {name} {} -> {to}", live.version);
        state.id = codedeploy::create(
            &self.releaser.codedeploy,
            &application,
            &group,
            &spec,
            &description,
            config.as_deref(),
        )
        .await?;
        state.events.push(format!(
            "deployment {} in {application}/{group}: {routing}",
            state.id
        ));
        self.remember(&state);
        Ok(state)
    }

    async fn release_state(&self, function: &str, id: &str) -> Result<ReleaseState, PortError> {
        let mut state = self
            .remembered(id)
            .ok_or_else(|| PortError::NotFound(format!("release {id} was not started by this run")))?;
        if state.status.is_done() {
            return Ok(state);
        }
        let deployment = codedeploy::state(&self.releaser.codedeploy, id).await?;
        let (status, ended) = match &deployment.phase {
            Phase::Running(_) => (ReleaseStatus::InProgress, false),
            Phase::Succeeded => (ReleaseStatus::Succeeded, true),
            Phase::Stopped => (ReleaseStatus::Stopped, true),
            // A failed Lambda deployment was rolled back by the group's automatic rollback.
            Phase::Failed => (ReleaseStatus::Stopped, true),
        };
        if let Phase::Running(phase) = &deployment.phase {
            let line = format!("CodeDeploy: {phase}");
            if state.events.last() != Some(&line) {
                state.events.push(line);
            }
        }
        if ended {
            state.status = status;
            state.ended_at = Some(deployment.completed_at.unwrap_or_else(OffsetDateTime::now_utc));
            state.stopped_by = match status {
                ReleaseStatus::Stopped => self.stopped_by(function, id, &deployment).await,
                _ => None,
            };
            state
                .events
                .extend(deployment.explanations().into_iter().map(str::to_owned));
            state.events.push(format!("CodeDeploy: {:?}", deployment.phase));
        }
        self.remember(&state);
        Ok(state)
    }

    async fn stop_release(&self, function: &str, id: &str) -> Result<(), PortError> {
        if self.release_state(function, id).await?.status.is_done() {
            return Ok(());
        }
        codedeploy::stop_and_roll_back(&self.releaser.codedeploy, id).await?;
        self.stopped_here
            .lock()
            .expect("releases poisoned")
            .insert(id.to_owned());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stage() -> Stage {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Stage::load(&root.join("environments/dev/terraform.tfvars.json")).expect("the dev stage loads")
    }

    #[test]
    fn the_stage_strategy_is_the_group_s_own_and_others_must_be_predefined() {
        let dev = stage();
        assert_eq!(
            deployment_config(&dev, "payment-fixed", None).unwrap(),
            (dev.release.strategy, None)
        );
        let own = dev.release.strategy.to_string();
        assert_eq!(
            deployment_config(&dev, "payment-fixed", Some(&own)).unwrap().1,
            None
        );
        assert_eq!(
            deployment_config(&dev, "payment-fixed", Some("LambdaLinear10PercentEvery1Minute"))
                .unwrap()
                .1
                .as_deref(),
            Some("CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
        );
        let err = deployment_config(&dev, "payment-fixed", Some("canary:20%:3m"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("only as the stage's own"), "{err}");
        assert!(deployment_config(&dev, "payment-fixed", Some("sideways")).is_err());
        // payment is deployed broken on purpose: Terraform makes its group all-at-once.
        assert_eq!(
            deployment_config(&dev, "payment", None).unwrap(),
            (TrafficRouting::AllAtOnce, None)
        );
    }
}
