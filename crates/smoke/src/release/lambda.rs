//! What a release reads from and asks of Lambda: the published versions
//! (ListVersionsByFunction), what the `live` alias serves (GetAlias), one invocation of a
//! version (Invoke with a qualifier) for the pre-traffic check, and the deletion of a version
//! nothing needs any more (DeleteFunction with a qualifier).

use std::collections::BTreeMap;

use aws_sdk_lambda::primitives::Blob;
use outage_config::release::LIVE_ALIAS;

use crate::error::PortError;
use crate::targets::aws::port_error;

/// The `live` alias as GetAlias reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct LiveAlias {
    pub version: String,
    /// Versions other than `version` that also get traffic, with their weights: not empty
    /// while a release shifts traffic.
    pub weights: BTreeMap<String, f64>,
}

/// What one invocation answered.
#[derive(Debug, Clone, PartialEq)]
pub struct Invocation {
    /// `Unhandled` when the function returned an error or crashed.
    pub function_error: Option<String>,
    pub payload: Vec<u8>,
    /// The version that ran.
    pub executed_version: Option<String>,
}

/// The highest published version of `name` (`$LATEST` does not count), or `None` when none
/// was ever published.
pub async fn latest_version(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
) -> Result<Option<String>, PortError> {
    Ok(published_versions(lambda, name)
        .await?
        .into_iter()
        .max()
        .map(|n| n.to_string()))
}

/// Every published version of `name` (`$LATEST` does not count). ListVersionsByFunction lists
/// oldest first, up to 50 a page.
pub async fn published_versions(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<Vec<u64>, PortError> {
    let mut versions = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let page = lambda
            .list_versions_by_function()
            .function_name(name)
            .set_marker(marker.take())
            .send()
            .await
            .map_err(|e| {
                port_error(
                    &format!("ListVersionsByFunction {name}"),
                    e,
                    |se| se.is_too_many_requests_exception() || se.is_invalid_parameter_value_exception(),
                    |se| se.is_resource_not_found_exception(),
                )
            })?;
        versions.extend(
            page.versions()
                .iter()
                .filter_map(|v| v.version().and_then(|v| v.parse::<u64>().ok())),
        );
        match page.next_marker() {
            Some(m) if !m.is_empty() => marker = Some(m.to_owned()),
            _ => return Ok(versions),
        }
    }
}

/// Deletes one published version of `name` (DeleteFunction with its number as the qualifier).
/// Lambda refuses a version an alias routes to (ResourceConflictException).
pub async fn delete_version(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    version: u64,
) -> Result<(), PortError> {
    lambda
        .delete_function()
        .function_name(name)
        .qualifier(version.to_string())
        .send()
        .await
        .map_err(|e| {
            port_error(
                &format!("DeleteFunction {name}:{version}"),
                e,
                |se| se.is_too_many_requests_exception() || se.is_resource_conflict_exception(),
                |se| se.is_resource_not_found_exception(),
            )
        })?;
    Ok(())
}

/// The `live` alias of `name`. A missing alias means the stage was deployed before releases
/// went through `live`.
pub async fn live_alias(lambda: &aws_sdk_lambda::Client, name: &str) -> Result<LiveAlias, PortError> {
    let out = lambda
        .get_alias()
        .function_name(name)
        .name(LIVE_ALIAS)
        .send()
        .await
        .map_err(|e| {
            if e.as_service_error().is_some_and(|se| se.is_resource_not_found_exception()) {
                return PortError::NotFound(format!(
                    "GetAlias {name}:{LIVE_ALIAS}: the function or its alias `{LIVE_ALIAS}` does not exist: the stage predates releases; run `terraform apply` for it"
                ));
            }
            port_error(
                &format!("GetAlias {name}:{LIVE_ALIAS}"),
                e,
                |se| se.is_too_many_requests_exception() || se.is_invalid_parameter_value_exception(),
                |_| false,
            )
        })?;
    let version = out
        .function_version()
        .ok_or_else(|| {
            PortError::Transport(format!(
                "GetAlias {name}:{LIVE_ALIAS}: the answer names no version"
            ))
        })?
        .to_owned();
    let weights = out
        .routing_config()
        .and_then(|r| r.additional_version_weights())
        .map(|w| w.iter().map(|(k, v)| (k.clone(), *v)).collect())
        .unwrap_or_default();
    Ok(LiveAlias { version, weights })
}

/// Invokes `version` of `name` synchronously with `payload`, bypassing the alias: no client
/// traffic reaches it this way.
pub async fn invoke_version(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    version: &str,
    payload: &serde_json::Value,
) -> Result<Invocation, PortError> {
    let out = lambda
        .invoke()
        .function_name(name)
        .qualifier(version)
        .payload(Blob::new(payload.to_string()))
        .send()
        .await
        .map_err(|e| {
            port_error(
                &format!("Invoke {name}:{version}"),
                e,
                |se| se.is_too_many_requests_exception() || se.is_invalid_parameter_value_exception(),
                |se| se.is_resource_not_found_exception(),
            )
        })?;
    Ok(Invocation {
        function_error: out.function_error().map(str::to_owned),
        payload: out.payload().map(|b| b.as_ref().to_vec()).unwrap_or_default(),
        executed_version: out.executed_version().map(str::to_owned),
    })
}
