//! The one client-load recorder: [`HttpLoad`] sends steady traffic to an API base URL (the
//! lab's gateway or the deployed API) and records every answer as the client saw it. The
//! runner's route health and stop conditions, and the report's blast radius and per-route
//! charts, are all computed from these records.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use time::OffsetDateTime;

use crate::ports::{route_path, Load, LoadHandle, Observation, TrafficDriver};
use crate::traffic::HttpTraffic;

#[derive(Debug, Clone)]
pub struct HttpLoad {
    traffic: HttpTraffic,
    seen: Arc<Mutex<Vec<Observation>>>,
}

impl HttpLoad {
    pub fn new(traffic: HttpTraffic) -> HttpLoad {
        HttpLoad {
            traffic,
            seen: Arc::default(),
        }
    }

    /// One request on `route` (`GET /pay-fixed`), recorded.
    async fn send(&self, route: &str) {
        let at = OffsetDateTime::now_utc();
        let started = Instant::now();
        let answer = self.traffic.get(route_path(route)).await.ok();
        let (status, request_id, version) = match answer {
            Some(o) => (Some(o.status), o.request_id, o.version),
            None => (None, None, None),
        };
        let observation = Observation {
            at,
            route: route.to_owned(),
            status,
            request_id,
            version,
            latency_ms: started.elapsed().as_secs_f64() * 1000.0,
        };
        self.seen.lock().expect("observations poisoned").push(observation);
    }
}

impl Load for HttpLoad {
    fn start(&self, routes: &[String], every: Duration) -> LoadHandle {
        LoadHandle(
            routes
                .iter()
                .map(|route| {
                    let me = self.clone();
                    let route = route.clone();
                    tokio::spawn(async move {
                        // A slow answer must not slow the loop down: each request on its own
                        // task, so the load stays at one request per `every` during an outage.
                        let mut tick = tokio::time::interval(every);
                        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                        loop {
                            tick.tick().await;
                            let me = me.clone();
                            let route = route.clone();
                            tokio::spawn(async move { me.send(&route).await });
                        }
                    })
                })
                .collect(),
        )
    }

    fn observations(&self) -> Vec<Observation> {
        let mut all = self.seen.lock().expect("observations poisoned").clone();
        all.sort_by_key(|o| o.at);
        all
    }
}

#[cfg(test)]
mod tests {
    use crate::ports::route_path;

    #[test]
    fn routes_name_their_path() {
        assert_eq!(route_path("GET /pay-fixed"), "/pay-fixed");
        assert_eq!(route_path("/auth"), "/auth");
    }
}
