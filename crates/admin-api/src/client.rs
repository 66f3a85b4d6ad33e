//! [`AdminClient`]: the one client of the admin API, with the bearer token, typed calls per
//! endpoint and the lab's errors mapped once.

use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::routes::{self, path};
use crate::run_folder;
use crate::types::*;

/// A failed admin API call. Messages are lower case and say what to check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdminError {
    /// No such function, alarm or route, or no running lab.
    #[error("not found: {0}")]
    NotFound(String),
    /// The lab refused the request (bad input, wrong token) or the client refused to send it.
    #[error("rejected: {0}")]
    Rejected(String),
    /// The lab could not be reached or answered something unreadable.
    #[error("transport: {0}")]
    Transport(String),
}

/// A client of one lab's admin API.
#[derive(Debug, Clone)]
pub struct AdminClient {
    url: String,
    token: String,
    http: reqwest::Client,
    /// Who this client's control-plane calls are recorded as (`X-Outage-Lab-Actor`).
    actor: Option<String>,
}

/// True when the URL names this machine (127.0.0.0/8, ::1 or localhost).
pub fn is_loopback(url: &reqwest::Url) -> bool {
    match url.host_str() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The admin token in `path`, trimmed.
pub fn read_token(path: &Path) -> Result<String, AdminError> {
    let token = std::fs::read_to_string(path)
        .map_err(|e| AdminError::NotFound(format!("cannot read the admin token {}: {e}", path.display())))?;
    let token = token.trim().to_owned();
    if token.is_empty() {
        return Err(AdminError::Rejected(format!(
            "the admin token file {} is empty",
            path.display()
        )));
    }
    Ok(token)
}

impl AdminClient {
    /// A client of the admin API at `admin_url`. Refuses a URL that is not on this machine: the
    /// admin API is loopback-only, and its token is never sent anywhere else.
    pub fn new(admin_url: &str, token: &str) -> Result<AdminClient, AdminError> {
        let url = reqwest::Url::parse(admin_url)
            .map_err(|e| AdminError::Rejected(format!("admin URL {admin_url:?} is not a URL: {e}")))?;
        if !is_loopback(&url) {
            return Err(AdminError::Rejected(format!(
                "admin URL {admin_url} is not on this machine: the lab's admin API is loopback-only, and its token is not sent elsewhere"
            )));
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            // The admin API is on loopback: never route it through a proxy from the environment.
            .no_proxy()
            .build()
            .map_err(|e| AdminError::Transport(format!("building the HTTP client: {e}")))?;
        Ok(AdminClient {
            url: admin_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http,
            actor: None,
        })
    }

    /// The same client, its calls recorded in the lab's change history as made by `actor`.
    pub fn with_actor(mut self, actor: &str) -> AdminClient {
        self.actor = Some(actor.to_owned());
        self
    }

    /// The lab whose run folder is `dir`: its `lab.json` (with `token_file` made absolute) and a
    /// client with its token.
    pub fn from_run_dir(dir: &Path) -> Result<(LabInfo, AdminClient), AdminError> {
        let file = run_folder::lab_json(dir);
        let text = std::fs::read_to_string(&file)
            .map_err(|e| AdminError::NotFound(format!("cannot read {}: {e}", file.display())))?;
        let mut info: LabInfo = serde_json::from_str(&text)
            .map_err(|e| AdminError::Transport(format!("{} is not a lab.json: {e}", file.display())))?;
        if info.token_file.is_relative() {
            info.token_file = dir.join(&info.token_file);
        }
        let client = AdminClient::new(&info.admin_url, &read_token(&info.token_file)?)?;
        Ok((info, client))
    }

    /// The running lab of `stage` below the project `root` (the run folder `current` links to).
    pub fn discover(root: &Path, stage: &str) -> Result<(LabInfo, AdminClient), AdminError> {
        let dir = run_folder::current(root, stage);
        if !run_folder::lab_json(&dir).exists() {
            return Err(AdminError::NotFound(format!(
                "no running lab for stage {stage}: {} does not exist (start one with `outage-lab up --stage {stage}`)",
                run_folder::lab_json(&dir).display()
            )));
        }
        AdminClient::from_run_dir(&dir)
    }

    /// The lab at `admin_url` with the token in `token_file`; `GET /status` tells the rest.
    pub async fn connect(admin_url: &str, token_file: &Path) -> Result<(LabInfo, AdminClient), AdminError> {
        let client = AdminClient::new(admin_url, &read_token(token_file)?)?;
        let mut info = client.status().await?.lab;
        info.admin_url = client.url.clone();
        info.token_file = PathBuf::from(token_file);
        Ok((info, client))
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The dashboard's address, with the token it needs.
    pub fn dashboard_url(&self) -> String {
        format!("{}/?token={}", self.url, self.token)
    }

    async fn call<B: Serialize, R: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
    ) -> Result<R, AdminError> {
        let url = format!("{}{path}", self.url);
        let mut req = self.http.request(method.clone(), &url).bearer_auth(&self.token);
        if let Some(actor) = &self.actor {
            req = req.header(crate::types::ACTOR_HEADER, actor);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let response = req
            .send()
            .await
            .map_err(|e| AdminError::Transport(format!("{method} {url}: {e}")))?;
        let status = response.status();
        tracing::debug!(%method, path, %status, "admin API");
        let text = response
            .text()
            .await
            .map_err(|e| AdminError::Transport(format!("{method} {url}: {e}")))?;
        if !status.is_success() {
            let message = serde_json::from_str::<ErrorMessage>(&text)
                .map(|m| m.message)
                .unwrap_or_else(|_| text.chars().take(200).collect());
            let what = format!("{method} {path}: {status}: {message}");
            return Err(match status {
                StatusCode::NOT_FOUND => AdminError::NotFound(what),
                StatusCode::UNAUTHORIZED => {
                    AdminError::Rejected(format!("{what} (is the token file the running lab's?)"))
                }
                s if s.is_client_error() => AdminError::Rejected(what),
                _ => AdminError::Transport(what),
            });
        }
        // A 204 (DELETE) has no body: read it as `null`, which `()` accepts.
        let text = if text.is_empty() { "null" } else { text.as_str() };
        serde_json::from_str(text)
            .map_err(|e| AdminError::Transport(format!("{method} {path}: unreadable answer: {e}")))
    }

    async fn get<R: DeserializeOwned>(&self, path: &str) -> Result<R, AdminError> {
        self.call::<(), R>(Method::GET, path, None).await
    }

    pub async fn health(&self) -> Result<Health, AdminError> {
        self.get(routes::HEALTHZ).await
    }

    pub async fn status(&self) -> Result<Status, AdminError> {
        self.get(routes::STATUS).await
    }

    pub async fn functions(&self) -> Result<Vec<FunctionView>, AdminError> {
        self.get(routes::FUNCTIONS).await
    }

    pub async fn function(&self, key: &str) -> Result<FunctionView, AdminError> {
        self.get(&path(routes::FUNCTION, key)).await
    }

    pub async fn configuration(&self, key: &str) -> Result<Configuration, AdminError> {
        self.get(&path(routes::CONFIGURATION, key)).await
    }

    /// Replaces the function's variables as a whole (UpdateFunctionConfiguration).
    pub async fn update_configuration(
        &self,
        key: &str,
        variables: &Variables,
    ) -> Result<Configuration, AdminError> {
        let body = ConfigurationUpdate {
            variables: variables.clone(),
        };
        self.call(Method::PUT, &path(routes::CONFIGURATION, key), Some(&body))
            .await
    }

    /// Every version of the function, `$LATEST` first (ListVersionsByFunction).
    pub async fn versions(&self, key: &str) -> Result<Vec<VersionView>, AdminError> {
        self.get(&path(routes::VERSIONS, key)).await
    }

    /// Publishes `$LATEST` as a new version (PublishVersion).
    pub async fn publish_version(
        &self,
        key: &str,
        request: &PublishVersion,
    ) -> Result<VersionView, AdminError> {
        self.call(Method::POST, &path(routes::VERSIONS, key), Some(request))
            .await
    }

    /// The `live` alias (GetAlias).
    pub async fn live_alias(&self, key: &str) -> Result<AliasView, AdminError> {
        self.get(&path(routes::LIVE_ALIAS, key)).await
    }

    /// Moves the `live` alias (UpdateAlias).
    pub async fn update_live_alias(&self, key: &str, update: &AliasUpdate) -> Result<AliasView, AdminError> {
        self.call(Method::PUT, &path(routes::LIVE_ALIAS, key), Some(update))
            .await
    }

    /// PublishVersion, then UpdateAlias(`live` -> it, weights cleared): `$LATEST` serves the
    /// API's traffic at once, a hotfix deploy. Returns the version.
    pub async fn serve_latest(&self, key: &str) -> Result<String, AdminError> {
        let version = self
            .publish_version(key, &PublishVersion::default())
            .await?
            .version;
        let update = AliasUpdate {
            function_version: Some(version.clone()),
            routing_config: Some(AliasRouting::default()),
            revision_id: None,
        };
        self.update_live_alias(key, &update).await?;
        Ok(version)
    }

    /// Starts a release of the function; it runs on in the lab.
    pub async fn start_release(
        &self,
        key: &str,
        request: &ReleaseRequest,
    ) -> Result<ReleaseView, AdminError> {
        self.call(Method::POST, &path(routes::RELEASES_OF, key), Some(request))
            .await
    }

    pub async fn release(&self, id: &str) -> Result<ReleaseView, AdminError> {
        self.get(&path(routes::RELEASE, id)).await
    }

    pub async fn releases(&self) -> Result<Vec<ReleaseView>, AdminError> {
        self.get(routes::RELEASES).await
    }

    /// Stops the running release, or moves `live` back to the version it served before its last
    /// move.
    pub async fn rollback(&self, key: &str) -> Result<RollbackReply, AdminError> {
        self.call::<(), RollbackReply>(Method::POST, &path(routes::ROLLBACK, key), None)
            .await
    }

    /// Reserves `n` concurrent executions for the function (PutFunctionConcurrency).
    pub async fn put_concurrency(&self, key: &str, n: u32) -> Result<Concurrency, AdminError> {
        let body = Concurrency {
            reserved_concurrent_executions: n,
        };
        self.call(Method::PUT, &path(routes::CONCURRENCY, key), Some(&body))
            .await
    }

    /// Removes the function's reserved concurrency (DeleteFunctionConcurrency).
    pub async fn delete_concurrency(&self, key: &str) -> Result<(), AdminError> {
        self.call::<(), ()>(Method::DELETE, &path(routes::CONCURRENCY, key), None)
            .await
    }

    pub async fn metrics(&self, query: &MetricQuery) -> Result<MetricData, AdminError> {
        self.get(&format!("{}{}", routes::METRICS, query.to_query()))
            .await
    }

    pub async fn alarms(&self) -> Result<Vec<AlarmView>, AdminError> {
        self.get(routes::ALARMS).await
    }

    pub async fn composite_alarms(&self) -> Result<Vec<CompositeAlarmView>, AdminError> {
        self.get(routes::COMPOSITE_ALARMS).await
    }

    pub async fn alarm(&self, name: &str) -> Result<AlarmView, AdminError> {
        self.get(&path(routes::ALARM, name)).await
    }

    pub async fn alarm_history(&self, name: &str) -> Result<Vec<AlarmHistoryItem>, AdminError> {
        self.get(&path(routes::ALARM_HISTORY, name)).await
    }

    pub async fn logs(&self, key: &str, query: &LogQuery) -> Result<Vec<LogEvent>, AdminError> {
        self.get(&format!("{}{}", path(routes::LOGS, key), query.to_query()))
            .await
    }

    pub async fn changes(&self) -> Result<Vec<ChangeEvent>, AdminError> {
        self.get(routes::CHANGES).await
    }

    pub async fn notifications(&self) -> Result<Vec<Notification>, AdminError> {
        self.get(routes::NOTIFICATIONS).await
    }

    pub async fn drill(&self) -> Result<DrillDocument, AdminError> {
        self.get(routes::DRILL).await
    }

    /// Publishes the running drill's timeline for the dashboard.
    pub async fn put_drill(&self, doc: &DrillDocument) -> Result<DrillDocument, AdminError> {
        self.call(Method::PUT, routes::DRILL, Some(doc)).await
    }

    /// The running game day (404 when none runs on this lab).
    pub async fn gameday(&self) -> Result<GameDayView, AdminError> {
        self.get(routes::GAMEDAY).await
    }

    pub async fn gameday_ack(&self) -> Result<GameDayReply, AdminError> {
        self.call::<(), _>(Method::POST, routes::GAMEDAY_ACK, None).await
    }

    pub async fn gameday_diagnose(&self, diagnosis: &Diagnosis) -> Result<GameDayReply, AdminError> {
        self.call(Method::POST, routes::GAMEDAY_DIAGNOSIS, Some(diagnosis))
            .await
    }

    pub async fn gameday_hint(&self) -> Result<GameDayReply, AdminError> {
        self.call::<(), _>(Method::POST, routes::GAMEDAY_HINT, None).await
    }

    pub async fn gameday_give_up(&self) -> Result<GameDayReply, AdminError> {
        self.call::<(), _>(Method::POST, routes::GAMEDAY_GIVE_UP, None)
            .await
    }

    pub async fn stats(&self, reset: bool) -> Result<Stats, AdminError> {
        let q = if reset { "?reset=true" } else { "" };
        self.get(&format!("{}{q}", routes::STATS)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_to_loopback_only() {
        for (url, ok) in [
            ("http://127.0.0.1:3001", true),
            ("http://localhost:3001/", true),
            ("http://[::1]:3001", true),
            ("http://10.0.0.1:3001", false),
            ("https://example.com", false),
        ] {
            assert_eq!(AdminClient::new(url, "t").is_ok(), ok, "{url}");
        }
        assert_eq!(
            AdminClient::new("http://127.0.0.1:1/", "t").unwrap().url(),
            "http://127.0.0.1:1"
        );
    }
}
