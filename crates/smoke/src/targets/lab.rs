//! The lab target: the lab's admin API (docs/lab-admin-api.md) as control plane and alarm source.
//!
//! Found from the run folder `outage-lab up` writes (`.outage-lab/<stage>/current/lab.json` below
//! the project root), or from an admin URL and a token file.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::error::PortError;
use crate::ports::{AlarmSource, AlarmState, AlarmStatus, ControlPlane, FunctionConfiguration, Variables};

/// `lab.json` in a run folder.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct LabInfo {
    pub stage: String,
    pub gateway_url: String,
    pub admin_url: String,
    pub api_id: String,
    pub token_file: PathBuf,
    #[serde(default)]
    pub pid: Option<u32>,
    #[serde(default)]
    pub run_dir: Option<PathBuf>,
    #[serde(default)]
    pub started_at: Option<String>,
}

/// A running lab, reached over its admin API.
#[derive(Debug, Clone)]
pub struct LabTarget {
    info: LabInfo,
    token: String,
    client: reqwest::Client,
}

/// The run folder `outage-lab up` points `current` at.
pub fn current_run_dir(root: &Path, stage: &str) -> PathBuf {
    root.join(".outage-lab").join(stage).join("current")
}

impl LabTarget {
    /// The lab of `stage` started below the project `root`.
    pub fn discover(root: &Path, stage: &str) -> Result<LabTarget, PortError> {
        let dir = current_run_dir(root, stage);
        if !dir.join("lab.json").exists() {
            return Err(PortError::NotFound(format!(
                "no running lab for stage {stage}: {} does not exist (start one with `outage-lab up --stage {stage}`, or pass --lab-dir or --admin-url)",
                dir.join("lab.json").display()
            )));
        }
        LabTarget::from_lab_dir(&dir)
    }

    /// The lab whose run folder is `dir` (it holds `lab.json`).
    pub fn from_lab_dir(dir: &Path) -> Result<LabTarget, PortError> {
        let path = dir.join("lab.json");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| PortError::NotFound(format!("cannot read {}: {e}", path.display())))?;
        let mut info: LabInfo = serde_json::from_str(&text)
            .map_err(|e| PortError::Transport(format!("{} is not a lab.json: {e}", path.display())))?;
        if info.token_file.is_relative() {
            info.token_file = dir.join(&info.token_file);
        }
        require_loopback(&info.admin_url)?;
        let token = read_token(&info.token_file)?;
        Ok(LabTarget {
            info,
            token,
            client: http_client()?,
        })
    }

    /// The lab at `admin_url`, with the token in `token_file`; asks `GET /status` for the rest.
    pub async fn connect(admin_url: &str, token_file: &Path) -> Result<LabTarget, PortError> {
        require_loopback(admin_url)?;
        let token = read_token(token_file)?;
        let admin_url = admin_url.trim_end_matches('/').to_owned();
        let probe = LabTarget {
            info: LabInfo {
                stage: String::new(),
                gateway_url: String::new(),
                admin_url: admin_url.clone(),
                api_id: String::new(),
                token_file: token_file.to_owned(),
                pid: None,
                run_dir: None,
                started_at: None,
            },
            token,
            client: http_client()?,
        };
        let mut info: LabInfo = probe.request(Method::GET, "/status", None).await?;
        info.admin_url = admin_url;
        info.token_file = token_file.to_owned();
        Ok(LabTarget { info, ..probe })
    }

    pub fn info(&self) -> &LabInfo {
        &self.info
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

    /// Publishes the running drill's timeline (`PUT /drill`, shape in docs/lab-admin-api.md).
    pub async fn publish_drill(&self, timeline: &serde_json::Value) -> Result<(), PortError> {
        let _: serde_json::Value = self.request(Method::PUT, "/drill", Some(timeline)).await?;
        Ok(())
    }

    async fn request<R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<R, PortError> {
        let url = format!("{}{path}", self.info.admin_url.trim_end_matches('/'));
        let mut req = self.client.request(method.clone(), &url).bearer_auth(&self.token);
        if let Some(b) = body {
            req = req.json(b);
        }
        let response = req
            .send()
            .await
            .map_err(|e| PortError::Transport(format!("{method} {url}: {e}")))?;
        let status = response.status();
        tracing::debug!(%method, path, %status, "admin API");
        let text = response
            .text()
            .await
            .map_err(|e| PortError::Transport(format!("{method} {url}: {e}")))?;
        if !status.is_success() {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
                .unwrap_or_else(|| text.chars().take(200).collect());
            let what = format!("{method} {path}: {status}: {message}");
            return Err(match status {
                StatusCode::NOT_FOUND => PortError::NotFound(what),
                StatusCode::UNAUTHORIZED => {
                    PortError::Rejected(format!("{what} (is the token file the running lab's?)"))
                }
                s if s.is_client_error() => PortError::Rejected(what),
                _ => PortError::Transport(what),
            });
        }
        serde_json::from_str(&text)
            .map_err(|e| PortError::Transport(format!("{method} {path}: unreadable answer: {e}")))
    }
}

/// The admin API listens on loopback only; its token is never sent anywhere else.
fn require_loopback(admin_url: &str) -> Result<(), PortError> {
    let url = reqwest::Url::parse(admin_url)
        .map_err(|e| PortError::Rejected(format!("admin URL {admin_url:?} is not a URL: {e}")))?;
    if !crate::traffic::is_loopback(&url) {
        return Err(PortError::Rejected(format!(
            "admin URL {admin_url} is not on this machine: the lab's admin API is loopback-only, and its token is not sent elsewhere"
        )));
    }
    Ok(())
}

fn read_token(path: &Path) -> Result<String, PortError> {
    let token = std::fs::read_to_string(path)
        .map_err(|e| PortError::NotFound(format!("cannot read the admin token {}: {e}", path.display())))?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(PortError::Rejected(format!(
            "the admin token file {} is empty",
            path.display()
        )));
    }
    Ok(token)
}

fn http_client() -> Result<reqwest::Client, PortError> {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        // The admin API is on loopback: never route it through a proxy from the environment.
        .no_proxy()
        .build()
        .map_err(|e| PortError::Transport(format!("building the HTTP client: {e}")))
}

/// Lambda's `FunctionConfiguration` fields, as the admin API answers them.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ConfigurationView {
    function_name: String,
    #[serde(default)]
    environment: Option<EnvironmentView>,
    #[serde(default)]
    revision_id: Option<String>,
    #[serde(default)]
    last_update_status: Option<String>,
    #[serde(default)]
    last_update_status_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct EnvironmentView {
    #[serde(default)]
    variables: Variables,
}

impl From<ConfigurationView> for FunctionConfiguration {
    fn from(v: ConfigurationView) -> Self {
        FunctionConfiguration {
            function_name: v.function_name,
            variables: v.environment.map(|e| e.variables).unwrap_or_default(),
            revision_id: v.revision_id,
            last_update_status: v.last_update_status,
            last_update_status_reason: v.last_update_status_reason,
        }
    }
}

impl ControlPlane for LabTarget {
    async fn configuration(&self, function: &str) -> Result<FunctionConfiguration, PortError> {
        let view: ConfigurationView = self
            .request(Method::GET, &format!("/functions/{function}/configuration"), None)
            .await?;
        Ok(view.into())
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
        let body = json!({ "Variables": variables });
        let view: ConfigurationView = self
            .request(
                Method::PUT,
                &format!("/functions/{function}/configuration"),
                Some(&body),
            )
            .await?;
        Ok(view.into())
    }

    async fn wait_until_applied(
        &self,
        function: &str,
        deadline: Duration,
    ) -> Result<FunctionConfiguration, PortError> {
        let until = tokio::time::Instant::now() + deadline;
        loop {
            let config = self.configuration(function).await?;
            match config.last_update_status.as_deref() {
                None | Some("Successful") => return Ok(config),
                Some("Failed") => {
                    return Err(PortError::UpdateFailed(
                        config
                            .last_update_status_reason
                            .unwrap_or_else(|| "no reason given".into()),
                    ))
                }
                Some(_) if tokio::time::Instant::now() >= until => {
                    return Err(PortError::Timeout(format!(
                        "{function}: update still in progress after {deadline:?}"
                    )))
                }
                Some(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AlarmView {
    alarm_name: String,
    state_value: String,
    #[serde(default)]
    state_reason: String,
    #[serde(with = "time::serde::rfc3339")]
    state_updated_timestamp: OffsetDateTime,
}

impl AlarmSource for LabTarget {
    async fn alarm(&self, name: &str) -> Result<AlarmStatus, PortError> {
        let view: AlarmView = self
            .request(Method::GET, &format!("/alarms/{name}"), None)
            .await?;
        Ok(AlarmStatus {
            name: view.alarm_name,
            state: AlarmState::parse(&view.state_value)?,
            reason: view.state_reason,
            updated_at: view.state_updated_timestamp,
        })
    }
}
