//! The admin API's paths, in the route syntax of the server's router (`{name}` captures one
//! segment). The client fills them with [`path`].

pub const DASHBOARD: &str = "/";
pub const HEALTHZ: &str = "/healthz";
/// A runbook of docs/runbooks (`/runbooks/fast-errors.md`), public like the dashboard page.
pub const RUNBOOK: &str = "/runbooks/{file}";
pub const STATUS: &str = "/status";
pub const FUNCTIONS: &str = "/functions";
pub const FUNCTION: &str = "/functions/{key}";
pub const CONFIGURATION: &str = "/functions/{key}/configuration";
pub const CONCURRENCY: &str = "/functions/{key}/concurrency";
/// GET: every version, `$LATEST` first (ListVersionsByFunction); POST: PublishVersion.
pub const VERSIONS: &str = "/functions/{key}/versions";
/// The one alias the lab keeps, the one the API invokes: GET (GetAlias), PUT (UpdateAlias).
pub const LIVE_ALIAS: &str = "/functions/{key}/aliases/live";
/// POST: start a release of the function ([`crate::ReleaseRequest`]).
pub const RELEASES_OF: &str = "/functions/{key}/releases";
/// POST: stop the function's running release, or move `live` back to the version before the
/// last release: the alias to one version, weights cleared.
pub const ROLLBACK: &str = "/functions/{key}/rollback";
/// GET: every release of this lab, oldest first.
pub const RELEASES: &str = "/releases";
pub const RELEASE: &str = "/releases/{id}";
pub const METRICS: &str = "/metrics";
pub const ALARMS: &str = "/alarms";
pub const ALARM: &str = "/alarms/{name}";
pub const ALARM_HISTORY: &str = "/alarms/{name}/history";
/// The composite alarms (DescribeAlarms' `CompositeAlarms`); their history is at `ALARM_HISTORY`.
pub const COMPOSITE_ALARMS: &str = "/composite-alarms";
pub const LOGS: &str = "/logs/{key}";
pub const NOTIFICATIONS: &str = "/notifications";
/// The control plane's change history (CloudTrail's management events), oldest first.
pub const CHANGES: &str = "/changes";
pub const DRILL: &str = "/drill";
/// The running game day, as the responder may see it (never the answer).
pub const GAMEDAY: &str = "/gameday";
/// POST: the responder acknowledges the page.
pub const GAMEDAY_ACK: &str = "/gameday/ack";
/// POST: the responder states a diagnosis ([`crate::Diagnosis`]); recorded, judged at the end.
pub const GAMEDAY_DIAGNOSIS: &str = "/gameday/diagnosis";
/// POST: the next hint, at a cost.
pub const GAMEDAY_HINT: &str = "/gameday/hint";
/// POST: end the game day now; the answer is revealed in its record.
pub const GAMEDAY_GIVE_UP: &str = "/gameday/give-up";
pub const STATS: &str = "/stats";

/// `route` with its one `{...}` capture replaced by `value`, percent-encoded.
pub fn path(route: &str, value: &str) -> String {
    match (route.find('{'), route.find('}')) {
        (Some(open), Some(close)) if open < close => format!(
            "{}{}{}",
            &route[..open],
            crate::encode::encode(value),
            &route[close + 1..]
        ),
        _ => route.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captures_are_filled_and_encoded() {
        assert_eq!(
            path(CONFIGURATION, "payment-fixed"),
            "/functions/payment-fixed/configuration"
        );
        assert_eq!(path(ALARM_HISTORY, "a b/c"), "/alarms/a%20b%2Fc/history");
        assert_eq!(path(STATUS, "x"), "/status");
    }
}
