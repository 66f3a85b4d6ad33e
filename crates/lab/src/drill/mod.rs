//! `outage-lab drill`: drills as code. Each scenario file (scenarios/<name>.toml) runs on a lab
//! started for the occasion, through the drill library's scenario runner (baseline, break,
//! detect, fix, validate, every alarm judged against the hypothesis), then is diagnosed from the
//! logs and written up as an incident report; a run of several scenarios also writes the
//! game-day report with the coverage matrix ([`scenarios`]).

pub mod scenarios;

/// Resolves on Ctrl-C or SIGTERM: the runner then restores the prior configuration.
async fn interrupted() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
    }
}
