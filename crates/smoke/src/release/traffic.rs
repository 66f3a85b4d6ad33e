//! Synthetic client traffic during a bake: GETs of the function's route through the API, so the
//! canary gets its share of real requests and a faulty new version trips the alarms that stop
//! the release. Each answer is counted by the version that served it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Serialize;

use crate::ports::LoadHandle;
use crate::traffic::HttpTraffic;

/// The header every function's answer carries with the Lambda version that produced it:
/// `service_kit::response::FUNCTION_VERSION_HEADER`. Written out, not imported: service-kit
/// brings the Lambda runtime with it, which a client has no use for (a test compares the two).
pub const FUNCTION_VERSION_HEADER: &str = "x-function-version";

/// What the bake's requests got back.
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

    fn record(&mut self, status: Option<u16>, version: Option<String>) {
        self.requests += 1;
        match (status, version) {
            (None, _) => self.failed += 1,
            (Some(s), _) if s >= 500 => self.failed += 1,
            (Some(_), Some(v)) => *self.served_by.entry(v).or_default() += 1,
            (Some(_), None) => self.unattributed += 1,
        }
    }
}

/// Bake traffic under way; stops when [`BakeLoad::stop`] is called or it is dropped.
pub struct BakeLoad {
    _loop: LoadHandle,
    tally: Arc<Mutex<Tally>>,
}

impl BakeLoad {
    /// One GET of `path` every `every`, each on its own task so a slow answer does not slow the
    /// rate down (as the drill's load does). The requests go through the drill's HTTP client
    /// ([`HttpTraffic`]): its timeout, user agent and proxy rules.
    pub fn start(http: &HttpTraffic, path: &str, every: Duration) -> BakeLoad {
        let tally = Arc::new(Mutex::new(Tally::default()));
        let (client, url) = (http.client().clone(), http.url(path));
        let counts = Arc::clone(&tally);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let (client, url, counts) = (client.clone(), url.clone(), Arc::clone(&counts));
                tokio::spawn(async move {
                    let (status, version) = match client.get(&url).send().await {
                        Ok(answer) => {
                            let version = answer
                                .headers()
                                .get(FUNCTION_VERSION_HEADER)
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned);
                            let status = answer.status().as_u16();
                            // Read the body so the connection can be reused.
                            let _ = answer.bytes().await;
                            (Some(status), version)
                        }
                        Err(e) => {
                            tracing::debug!("bake GET {url}: {e}");
                            (None, None)
                        }
                    };
                    counts.lock().expect("tally poisoned").record(status, version);
                });
            }
        });
        BakeLoad {
            _loop: LoadHandle(vec![task]),
            tally,
        }
    }

    /// The counts so far.
    pub fn tally(&self) -> Tally {
        self.tally.lock().expect("tally poisoned").clone()
    }

    /// Stops sending and returns the counts (requests still in flight are left out).
    pub fn stop(self) -> Tally {
        self.tally()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn the_header_is_the_one_the_functions_write() {
        // service-kit is not a dependency (see FUNCTION_VERSION_HEADER): read its source.
        let kit = include_str!("../../../service-kit/src/response.rs");
        assert!(
            kit.contains(&format!(
                "pub const FUNCTION_VERSION_HEADER: &str = \"{FUNCTION_VERSION_HEADER}\";"
            )),
            "service_kit::response::FUNCTION_VERSION_HEADER is no longer {FUNCTION_VERSION_HEADER:?}"
        );
    }
}
