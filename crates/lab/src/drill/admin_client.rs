//! The drill reads the lab the way an operator would: over the admin API
//! (docs/lab-admin-api.md), with the lab's bearer token.

use anyhow::{bail, Context};
use serde::de::DeserializeOwned;

/// A client of one lab's admin API.
#[derive(Debug, Clone)]
pub struct AdminClient {
    url: String,
    token: String,
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

impl AdminClient {
    pub fn new(admin_url: &str, token: &str) -> AdminClient {
        AdminClient {
            url: admin_url.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// `GET path`, the answer read as `T`; a non-200 answer is an error naming the path.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> anyhow::Result<T> {
        let auth = format!("Bearer {}", self.token);
        let url = format!("{}{path}", self.url);
        let resp = crate::http::request("GET", &url, &[("authorization", &auth)], bytes::Bytes::new())
            .await
            .with_context(|| format!("admin API GET {path}"))?;
        if resp.status != 200 {
            bail!("admin API GET {path}: {} {}", resp.status, resp.text());
        }
        serde_json::from_slice(&resp.body).with_context(|| format!("admin API GET {path}: unexpected answer"))
    }

    /// `method path` with a JSON body (none when `body` is null); any 2xx answer is success.
    pub async fn send(&self, method: &str, path: &str, body: &serde_json::Value) -> anyhow::Result<()> {
        let auth = format!("Bearer {}", self.token);
        let url = format!("{}{path}", self.url);
        let payload = if body.is_null() {
            bytes::Bytes::new()
        } else {
            bytes::Bytes::from(serde_json::to_vec(body)?)
        };
        let resp = crate::http::request(
            method,
            &url,
            &[("authorization", &auth), ("content-type", "application/json")],
            payload,
        )
        .await
        .with_context(|| format!("admin API {method} {path}"))?;
        if !(200..300).contains(&resp.status) {
            bail!("admin API {method} {path}: {} {}", resp.status, resp.text());
        }
        Ok(())
    }
}
