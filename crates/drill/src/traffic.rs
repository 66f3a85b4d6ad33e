//! Client traffic over HTTP: the drill's [`TrafficDriver`] and the checks' requests.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use time::OffsetDateTime;

use crate::error::PortError;
use crate::ports::{Observation, TrafficDriver, TrafficOutcome, FUNCTION_VERSION_HEADER};

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

/// A header of an answer as text; `None` when absent or not text.
pub fn header(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
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
        let request_id = header(&response, "apigw-requestid");
        let version = header(&response, FUNCTION_VERSION_HEADER);
        let status = response.status().as_u16();
        // Read the body so the connection can be reused.
        let _ = response.bytes().await;
        Ok(TrafficOutcome {
            status,
            request_id,
            version,
        })
    }
}

/// What a stretch of client requests got back, by the version that answered: a release's
/// bake (`smoke-test release`) or a release scenario's window.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tally {
    pub requests: u32,
    /// Answers by the version in their header.
    pub served_by: BTreeMap<String, u32>,
    /// 5xx answers or none at all (a function that failed writes no header).
    pub failed: u32,
    /// Other answers without a version header (a 429 from the API's throttle, say).
    pub unattributed: u32,
}

impl Tally {
    /// The share of all requests that `version` answered; `None` before any request.
    pub fn share_of(&self, version: &str) -> Option<f64> {
        (self.requests > 0)
            .then(|| f64::from(self.served_by.get(version).copied().unwrap_or(0)) / f64::from(self.requests))
    }

    pub fn record(&mut self, status: Option<u16>, version: Option<String>) {
        self.requests += 1;
        match (status, version) {
            _ if crate::ports::is_failure(status) => self.failed += 1,
            (_, Some(v)) => *self.served_by.entry(v).or_default() += 1,
            (_, None) => self.unattributed += 1,
        }
    }

    /// The requests of `observations` sent from `from` (inclusive) to `to` (exclusive).
    pub fn of(observations: &[Observation], from: OffsetDateTime, to: OffsetDateTime) -> Tally {
        let mut tally = Tally::default();
        for o in observations.iter().filter(|o| o.at >= from && o.at < to) {
            tally.record(o.status, o.version.clone());
        }
        tally
    }

    /// The share of all requests that failed; `None` before any request.
    pub fn failed_share(&self) -> Option<f64> {
        (self.requests > 0).then(|| f64::from(self.failed) / f64::from(self.requests))
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

    #[test]
    fn answers_are_counted_by_version_and_failures_apart() {
        let mut t = Tally::default();
        assert_eq!(t.share_of("7"), None);
        t.record(Some(200), Some("6".into()));
        t.record(Some(200), Some("7".into()));
        t.record(Some(200), Some("6".into()));
        t.record(Some(502), None);
        t.record(None, None);
        t.record(Some(429), None);
        assert_eq!(t.requests, 6);
        assert_eq!(t.served_by, BTreeMap::from([("6".into(), 2), ("7".into(), 1)]));
        assert_eq!((t.failed, t.unattributed), (2, 1));
        assert_eq!(t.share_of("7"), Some(1.0 / 6.0));
    }
}
