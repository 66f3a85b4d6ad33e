//! The scenario runner's [`Load`] over HTTP: one loop per route against an API base URL (the
//! deployed API from `terraform output`), every answer recorded as the client saw it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use crate::ports::TrafficDriver;
use crate::scenario_run::{Load, LoadHandle, Observation};
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
}

/// `GET /pay-fixed` -> `/pay-fixed`; a bare path is taken as a GET.
fn path_of(route: &str) -> &str {
    route.strip_prefix("GET ").unwrap_or(route).trim()
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
                            tokio::spawn(async move {
                                let at = OffsetDateTime::now_utc();
                                let status = me.traffic.get(path_of(&route)).await.ok().map(|o| o.status);
                                me.seen.lock().expect("observations poisoned").push(Observation {
                                    at,
                                    route,
                                    status,
                                });
                            });
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
    use super::*;

    #[test]
    fn routes_name_their_path() {
        assert_eq!(path_of("GET /pay-fixed"), "/pay-fixed");
        assert_eq!(path_of("/auth"), "/auth");
    }
}
