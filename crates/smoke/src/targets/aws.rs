//! The AWS target: Lambda's configuration API as control plane, CloudWatch `DescribeAlarms` as
//! alarm source. The clients are built by the caller ([`AwsTarget::from_environment`] in the
//! binary, the SDK's mocks in tests).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationError;
use aws_sdk_lambda::operation::publish_version::PublishVersionError;
use aws_sdk_lambda::operation::update_alias::UpdateAliasError;
use aws_sdk_lambda::operation::update_function_configuration::UpdateFunctionConfigurationError;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, Environment, LastUpdateStatus};
use outage_config::release::LIVE_ALIAS;
use time::OffsetDateTime;
use tokio::time::{sleep, Instant};

use crate::error::PortError;
use crate::ports::{AlarmSource, AlarmState, AlarmStatus, ControlPlane, FunctionConfiguration, Variables};

/// First and longest pause between two `GetFunctionConfiguration` calls while an update applies.
const FIRST_POLL: Duration = Duration::from_millis(500);
const LONGEST_POLL: Duration = Duration::from_secs(5);

#[derive(Debug, Clone)]
pub struct AwsTarget {
    pub(crate) lambda: aws_sdk_lambda::Client,
    pub(crate) cloudwatch: aws_sdk_cloudwatch::Client,
    /// Function key -> deployed name (from `terraform output`, or `<stage>-<key>`).
    function_names: BTreeMap<String, String>,
    /// The stage name, which prefixes every alarm of the stage (see `aws_reads`).
    pub(crate) stage: Option<String>,
    /// CloudWatch Logs, for the incident report's log reads (see `aws_reads`).
    pub(crate) logs: Option<aws_sdk_cloudwatchlogs::Client>,
}

/// The SDK configuration every AWS client of this crate is built from: the standard credential
/// chain, `region`, and the rustls HTTPS client (the SDK's default one is not compiled in).
pub async fn sdk_config(region: &str) -> aws_config::SdkConfig {
    use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(Provider::Rustls(CryptoMode::Ring))
        .build_https();
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region.to_owned()))
        .http_client(http)
        .load()
        .await
}

impl AwsTarget {
    pub fn new(
        lambda: aws_sdk_lambda::Client,
        cloudwatch: aws_sdk_cloudwatch::Client,
        function_names: BTreeMap<String, String>,
    ) -> AwsTarget {
        AwsTarget {
            lambda,
            cloudwatch,
            function_names,
            stage: None,
            logs: None,
        }
    }

    /// Clients from the standard credential chain (environment, profile, web identity for
    /// GitHub OIDC, instance role) in `region`, over rustls with ring.
    pub async fn from_environment(region: &str, function_names: BTreeMap<String, String>) -> AwsTarget {
        let config = sdk_config(region).await;
        AwsTarget::new(
            aws_sdk_lambda::Client::new(&config),
            aws_sdk_cloudwatch::Client::new(&config),
            function_names,
        )
        .with_logs(aws_sdk_cloudwatchlogs::Client::new(&config))
    }

    pub(crate) fn name_of(&self, key: &str) -> Result<&str, PortError> {
        self.function_names.get(key).map(String::as_str).ok_or_else(|| {
            PortError::NotFound(format!(
                "function {key:?} has no deployed name (terraform output `function_names`)"
            ))
        })
    }
}

/// Maps an SDK error onto the port's error kinds. `Rejected` means Lambda refused the call and
/// changed nothing (stale revision, an update already in progress, bad input, no permission,
/// throttled); anything else may or may not have been applied.
pub(crate) fn port_error<E, R>(
    action: &str,
    e: SdkError<E, R>,
    refused: impl Fn(&E) -> bool,
    not_found: impl Fn(&E) -> bool,
) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let text = format!("{action}: {}", DisplayErrorContext(&e));
    match e.as_service_error() {
        Some(se) if not_found(se) => PortError::NotFound(text),
        Some(se) if refused(se) || matches!(se.code(), Some("AccessDeniedException" | "AccessDenied")) => {
            PortError::Rejected(text)
        }
        _ => PortError::Transport(text),
    }
}

fn get_error<R: std::fmt::Debug>(name: &str, e: SdkError<GetFunctionConfigurationError, R>) -> PortError {
    port_error(
        &format!("GetFunctionConfiguration {name}"),
        e,
        |se| se.is_too_many_requests_exception() || se.is_invalid_parameter_value_exception(),
        |se| se.is_resource_not_found_exception(),
    )
}

fn update_error<R: std::fmt::Debug>(
    name: &str,
    e: SdkError<UpdateFunctionConfigurationError, R>,
) -> PortError {
    port_error(
        &format!("UpdateFunctionConfiguration {name}"),
        e,
        |se| {
            se.is_precondition_failed_exception()
                || se.is_resource_conflict_exception()
                || se.is_invalid_parameter_value_exception()
                || se.is_too_many_requests_exception()
        },
        |se| se.is_resource_not_found_exception(),
    )
}

fn publish_error<R: std::fmt::Debug>(name: &str, e: SdkError<PublishVersionError, R>) -> PortError {
    port_error(
        &format!("PublishVersion {name}"),
        e,
        |se| {
            // An update still applying, a stale revision, or the account's code storage full:
            // nothing was published.
            se.is_resource_conflict_exception()
                || se.is_precondition_failed_exception()
                || se.is_code_storage_exceeded_exception()
                || se.is_invalid_parameter_value_exception()
                || se.is_too_many_requests_exception()
        },
        |se| se.is_resource_not_found_exception(),
    )
}

fn alias_error<R: std::fmt::Debug>(name: &str, version: &str, e: SdkError<UpdateAliasError, R>) -> PortError {
    let action = format!("UpdateAlias {name}:{LIVE_ALIAS} -> version {version}");
    // PublishVersion just found the function, so a missing resource here is the alias: the
    // stage was deployed before releases went through `live`.
    if e.as_service_error()
        .is_some_and(|se| se.is_resource_not_found_exception())
    {
        return PortError::NotFound(format!(
            "{action}: {name} has no alias `{LIVE_ALIAS}`: the stage predates releases; run `terraform apply` for it ({})",
            DisplayErrorContext(&e)
        ));
    }
    port_error(
        &action,
        e,
        |se| {
            se.is_resource_conflict_exception()
                || se.is_precondition_failed_exception()
                || se.is_invalid_parameter_value_exception()
                || se.is_too_many_requests_exception()
        },
        |_| false,
    )
}

fn from_lambda(
    name: Option<&str>,
    env: Option<&aws_sdk_lambda::types::EnvironmentResponse>,
    revision: Option<&str>,
    status: Option<&LastUpdateStatus>,
    reason: Option<&str>,
) -> FunctionConfiguration {
    FunctionConfiguration {
        function_name: name.unwrap_or_default().to_owned(),
        variables: env
            .and_then(|e| e.variables())
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        revision_id: revision.map(str::to_owned),
        last_update_status: status.map(|s| s.as_str().to_owned()),
        last_update_status_reason: reason.map(str::to_owned),
    }
}

impl ControlPlane for AwsTarget {
    async fn configuration(&self, function: &str) -> Result<FunctionConfiguration, PortError> {
        let name = self.name_of(function)?;
        tracing::debug!(function = name, "GetFunctionConfiguration");
        let out = self
            .lambda
            .get_function_configuration()
            .function_name(name)
            .send()
            .await
            .map_err(|e| get_error(name, e))?;
        Ok(from_lambda(
            out.function_name().or(Some(name)),
            out.environment(),
            out.revision_id(),
            out.last_update_status(),
            out.last_update_status_reason(),
        ))
    }

    async fn replace_variables(
        &self,
        function: &str,
        variables: &Variables,
        revision_id: Option<&str>,
    ) -> Result<FunctionConfiguration, PortError> {
        let name = self.name_of(function)?;
        let map: HashMap<String, String> = variables.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        tracing::debug!(function = name, "UpdateFunctionConfiguration");
        let out = self
            .lambda
            .update_function_configuration()
            .function_name(name)
            .environment(Environment::builder().set_variables(Some(map)).build())
            .set_revision_id(revision_id.map(str::to_owned))
            .send()
            .await
            .map_err(|e| update_error(name, e))?;
        Ok(from_lambda(
            out.function_name().or(Some(name)),
            out.environment(),
            out.revision_id(),
            out.last_update_status(),
            out.last_update_status_reason(),
        ))
    }

    async fn wait_until_applied(
        &self,
        function: &str,
        deadline: Duration,
    ) -> Result<FunctionConfiguration, PortError> {
        let until = Instant::now() + deadline;
        let mut pause = FIRST_POLL;
        loop {
            let config = self.configuration(function).await?;
            match config.last_update_status.as_deref() {
                None | Some("Successful") => return Ok(config),
                Some("Failed") => {
                    return Err(PortError::UpdateFailed(format!(
                        "{}: {}",
                        config.function_name,
                        config
                            .last_update_status_reason
                            .as_deref()
                            .unwrap_or("no reason given")
                    )))
                }
                Some(status) => {
                    let now = Instant::now();
                    if now >= until {
                        return Err(PortError::Timeout(format!(
                            "{}: LastUpdateStatus still {status} after {} s",
                            config.function_name,
                            deadline.as_secs()
                        )));
                    }
                    sleep(pause.min(until - now)).await;
                    pause = (pause * 2).min(LONGEST_POLL);
                }
            }
        }
    }

    async fn serve_latest(&self, function: &str) -> Result<String, PortError> {
        let name = self.name_of(function)?;
        let version = self.publish_latest(name).await?;
        self.point_live(name, &version).await?;
        Ok(version)
    }
}

impl AwsTarget {
    /// PublishVersion of `$LATEST`; Lambda answers with the newest version when nothing
    /// changed since it was published.
    pub(crate) async fn publish_latest(&self, name: &str) -> Result<String, PortError> {
        tracing::debug!(function = name, "PublishVersion");
        let published = self
            .lambda
            .publish_version()
            .function_name(name)
            .send()
            .await
            .map_err(|e| publish_error(name, e))?;
        Ok(published
            .version()
            .ok_or_else(|| {
                PortError::Transport(format!("PublishVersion {name}: the answer names no version"))
            })?
            .to_owned())
    }

    /// UpdateAlias: `live` of the function `name` on `version` for all traffic.
    pub(crate) async fn point_live(&self, name: &str, version: &str) -> Result<(), PortError> {
        tracing::debug!(function = name, version, "UpdateAlias {LIVE_ALIAS}");
        // An empty map, not an absent RoutingConfig: Lambda leaves the weights as they are when
        // the field is absent, so a canary's leftover split would go on sending traffic to an
        // older version.
        let all_traffic = AliasRoutingConfiguration::builder()
            .set_additional_version_weights(Some(HashMap::new()))
            .build();
        self.lambda
            .update_alias()
            .function_name(name)
            .name(LIVE_ALIAS)
            .function_version(version)
            .routing_config(all_traffic)
            .send()
            .await
            .map_err(|e| alias_error(name, version, e))?;
        Ok(())
    }
}

impl AlarmSource for AwsTarget {
    async fn alarm(&self, name: &str) -> Result<AlarmStatus, PortError> {
        tracing::debug!(alarm = name, "DescribeAlarms");
        let out = self
            .cloudwatch
            .describe_alarms()
            .alarm_names(name)
            .alarm_types(AlarmType::MetricAlarm)
            .send()
            .await
            .map_err(|e| {
                let code = e.code().unwrap_or_default().to_owned();
                let text = format!(
                    "DescribeAlarms {name}: {}",
                    aws_sdk_cloudwatch::error::DisplayErrorContext(&e)
                );
                if code == "Throttling" || code == "AccessDenied" {
                    PortError::Rejected(text)
                } else {
                    PortError::Transport(text)
                }
            })?;
        let alarm = out
            .metric_alarms()
            .iter()
            .find(|a| a.alarm_name() == Some(name))
            .ok_or_else(|| {
                PortError::NotFound(format!("alarm {name} does not exist (DescribeAlarms found none)"))
            })?;
        let value = alarm.state_value().map(|s| s.as_str()).unwrap_or_default();
        let state = AlarmState::parse(value)
            .ok_or_else(|| PortError::Transport(format!("unknown alarm state {value:?}")))?;
        let updated_at = alarm
            .state_updated_timestamp()
            .and_then(|t| OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos()).ok())
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        Ok(AlarmStatus {
            name: name.to_owned(),
            state,
            reason: alarm.state_reason().unwrap_or_default().to_owned(),
            updated_at,
        })
    }
}
