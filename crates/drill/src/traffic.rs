//! Client traffic over HTTP: the drill's [`TrafficDriver`] and the checks' requests.

use std::time::Duration;

use crate::error::PortError;
use crate::ports::{TrafficDriver, TrafficOutcome};

/// GETs against an API base URL (the lab's gateway or the deployed API endpoint).
#[derive(Debug, Clone)]
pub struct HttpTraffic {
    base_url: String,
    client: reqwest::Client,
}

impl HttpTraffic {
    /// `timeout` bounds each request: longer than API Gateway's 30 s integration timeout makes
    /// no sense, shorter hides a slow function.
    pub fn new(base_url: &str, timeout: Duration) -> Result<HttpTraffic, PortError> {
        let url = reqwest::Url::parse(base_url)
            .map_err(|e| PortError::Rejected(format!("{base_url:?} is not a URL: {e}")))?;
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("smoke-test/", env!("CARGO_PKG_VERSION")));
        // The lab is on this machine: a proxy from the environment must not see its traffic.
        // A deployed API goes through the proxy the environment names, as any client would.
        if is_loopback(&url) {
            builder = builder.no_proxy();
        }
        let client = builder
            .build()
            .map_err(|e| PortError::Transport(format!("building the HTTP client: {e}")))?;
        Ok(HttpTraffic {
            base_url: base_url.trim_end_matches('/').to_owned(),
            client,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }
}

/// True when the URL names this machine (127.0.0.0/8, ::1 or localhost).
pub use lab_admin_api::is_loopback;

impl TrafficDriver for HttpTraffic {
    async fn get(&self, path: &str) -> Result<TrafficOutcome, PortError> {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .map_err(|e| PortError::Transport(format!("GET {}: {e}", self.url(path))))?;
        let request_id = response
            .headers()
            .get("apigw-requestid")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let status = response.status().as_u16();
        // Read the body so the connection can be reused.
        let _ = response.bytes().await;
        Ok(TrafficOutcome { status, request_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_this_machine_only() {
        for (url, local) in [
            ("http://127.0.0.1:3000", true),
            ("http://127.8.0.1", true),
            ("http://[::1]:80", true),
            ("http://localhost:1", true),
            ("http://10.0.0.1", false),
            ("https://abc.execute-api.eu-west-1.amazonaws.com", false),
        ] {
            assert_eq!(is_loopback(&reqwest::Url::parse(url).unwrap()), local, "{url}");
        }
        assert!(HttpTraffic::new("not a url", Duration::from_secs(1)).is_err());
    }
}
