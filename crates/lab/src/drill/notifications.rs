//! The alarm topic's deliveries, as `GET /notifications` lists them.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::admin_client::AdminClient;

/// How long a notification may lag behind the alarm state change.
pub const NOTIFICATION_WAIT: Duration = Duration::from_secs(5);

/// One entry of `GET /notifications`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Notification {
    #[serde(with = "time::serde::rfc3339")]
    pub timestamp: OffsetDateTime,
    pub topic: String,
    pub subject: String,
    pub alarm_name: String,
    pub new_state: String,
}

/// The first notification of `alarm` going to `state` at or after `since`, waiting a little
/// for it: the outbox delivers right after the state change.
pub async fn notification(
    admin: &AdminClient,
    alarm: &str,
    state: &str,
    since: OffsetDateTime,
) -> anyhow::Result<Option<Notification>> {
    let until = Instant::now() + NOTIFICATION_WAIT;
    loop {
        let all: Vec<Notification> = admin.get("/notifications").await?;
        if let Some(n) = all
            .into_iter()
            .find(|n| n.alarm_name == alarm && n.new_state == state && n.timestamp >= since)
        {
            return Ok(Some(n));
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}
