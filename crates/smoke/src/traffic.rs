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
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("smoke-test/", env!("CARGO_PKG_VERSION")))
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
