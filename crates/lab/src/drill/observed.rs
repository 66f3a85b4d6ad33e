//! Client traffic the drill can account for afterwards: every request (the drill's own load
//! on every route, and the smoke engine's traffic on the function under drill) is recorded with
//! its time, route, status and request id. The blast radius and the per-route charts are
//! computed from these records, i.e. from what clients saw.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use outage_drill::ports::{TrafficDriver, TrafficOutcome};
use outage_drill::traffic::HttpTraffic;
use outage_drill::PortError;
use time::OffsetDateTime;
use tokio::task::JoinHandle;

/// One request as the client saw it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Observation {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub path: String,
    /// `None` when no answer came (connection refused, client timeout).
    pub status: Option<u16>,
    pub request_id: Option<String>,
    pub latency_ms: f64,
}

/// HTTP traffic to the gateway that keeps a record of every request.
#[derive(Debug, Clone)]
pub struct ObservedTraffic {
    http: HttpTraffic,
    log: Arc<Mutex<Vec<Observation>>>,
}

impl ObservedTraffic {
    pub fn new(http: HttpTraffic) -> ObservedTraffic {
        ObservedTraffic {
            http,
            log: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// Every request so far, in the order they finished.
    pub fn observations(&self) -> Vec<Observation> {
        self.log.lock().expect("traffic log poisoned").clone()
    }

    /// Sends `GET path` to every path every `every`, until the returned task is aborted.
    /// Each route has its own loop, so a slow route never slows the others down.
    pub fn steady_load(&self, paths: &[String], every: Duration) -> Vec<JoinHandle<()>> {
        paths
            .iter()
            .map(|path| {
                let me = self.clone();
                let path = path.clone();
                tokio::spawn(async move {
                    let mut tick = tokio::time::interval(every);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    loop {
                        tick.tick().await;
                        let _ = me.get(&path).await;
                    }
                })
            })
            .collect()
    }
}

impl TrafficDriver for ObservedTraffic {
    async fn get(&self, path: &str) -> Result<TrafficOutcome, PortError> {
        let at = OffsetDateTime::now_utc();
        let started = Instant::now();
        let result = self.http.get(path).await;
        let observation = Observation {
            at,
            path: path.to_owned(),
            status: result.as_ref().ok().map(|o| o.status),
            request_id: result.as_ref().ok().and_then(|o| o.request_id.clone()),
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        self.log.lock().expect("traffic log poisoned").push(observation);
        result
    }
}
