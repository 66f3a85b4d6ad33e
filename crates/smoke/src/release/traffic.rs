//! Synthetic client traffic during a bake: GETs of the function's route through the API, so the
//! canary gets its share of real requests and a faulty new version trips the alarms that stop
//! the release. Each answer is counted by the version that served it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::ports::{LoadHandle, TrafficDriver};
use crate::traffic::HttpTraffic;
pub use crate::traffic::Tally;

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
        let (http, path) = (http.clone(), path.to_owned());
        let counts = Arc::clone(&tally);
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let (http, path, counts) = (http.clone(), path.clone(), Arc::clone(&counts));
                tokio::spawn(async move {
                    let (status, version) = match http.get(&path).await {
                        Ok(answer) => (Some(answer.status), answer.version),
                        Err(e) => {
                            tracing::debug!("bake GET {path}: {e}");
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
