//! The alarm topic's deliveries, as `GET /notifications` lists them.

use std::time::{Duration, Instant};

use lab_admin_api::{AdminClient, AlarmState, Notification};
use time::OffsetDateTime;

/// How long a notification may lag behind the alarm state change.
pub const NOTIFICATION_WAIT: Duration = Duration::from_secs(5);

/// The first notification of `alarm` going to `state` at or after `since`, waiting a little
/// for it: the outbox delivers right after the state change.
pub async fn notification(
    admin: &AdminClient,
    alarm: &str,
    state: AlarmState,
    since: OffsetDateTime,
) -> anyhow::Result<Option<Notification>> {
    let until = Instant::now() + NOTIFICATION_WAIT;
    loop {
        let all = admin.notifications().await?;
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
