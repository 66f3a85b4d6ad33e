//! `scripts/bench release`: the seed's broken payment build reaching clients as a 10 % canary
//! (the release engine rolls it back on the fast alarm) and updated in place (a hotfix deploy to
//! 100 %, undone by a responder: one acting the instant the page arrives, the lower bound, and one
//! taking RESPONDER_S after it), side by side in one run, each on a lab of its own with the same
//! client traffic on `GET /pay-fixed`. Prints figures and ratios, never pass/fail.
//! Usage: release_bench <project root> <bin dir> [RESPONDER_S, default 60].

use std::path::PathBuf;
use std::time::{Duration, Instant};

use lab_admin_api::{AdminClient, ReleaseRequest, ReleaseStatus};
use outage_config::{AlarmKind, AlarmState, AlarmSubject, MetricDelays, Stage};
use outage_drill::load::HttpLoad;
use outage_drill::maths::{deadlines, AlarmMaths};
use outage_drill::ports::Load;
use outage_drill::traffic::HttpTraffic;
use outage_lab::{Lab, LabConfig};

const FUNCTION: &str = "payment-fixed";
const ROUTE: &str = "GET /pay-fixed";
const STRATEGY: &str = "canary:10%:1m";

#[derive(Clone, Copy, PartialEq)]
enum Way {
    Canary,
    /// Undone by a responder this long after the page.
    InPlace(Duration),
}

struct Figures {
    /// From the change to the page (the fast alarm in ALARM).
    detect: Duration,
    /// From the change to the fast alarm back in OK.
    recover: Duration,
    /// From the change to the last failed request: when clients stopped failing.
    last_failure: Duration,
    requests: usize,
    failed: usize,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(root), Some(bin_dir)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: release_bench <project root> <bin dir>");
    };
    let (root, bin_dir) = (PathBuf::from(root), PathBuf::from(bin_dir));
    let responder = Duration::from_secs(args.next().map_or(Ok(60), |a| a.parse())?);
    let stage = Stage::load_named(&root, "dev")?;
    let fast = stage
        .alarm_definitions("")
        .into_iter()
        .find(|d| d.kind == AlarmKind::FastErrors && d.subject == AlarmSubject::Function(FUNCTION.into()))
        .expect("the dev stage has a fast-errors alarm on payment-fixed");
    let delays = MetricDelays::default();
    let budget = deadlines(&AlarmMaths::of(&fast), delays.alarm_lag(&fast));
    let routing = outage_config::release::TrafficRouting::parse(STRATEGY).map_err(anyhow::Error::msg)?;
    let every = outage_lab::release::follow::bake_every(&stage, FUNCTION, &routing);

    let run = |way| {
        let (root, bin_dir, alarm) = (root.clone(), bin_dir.clone(), fast.name.clone());
        tokio::spawn(async move { measure(way, root, bin_dir, alarm, every, delays).await })
    };
    let runs = [
        (
            "canary 10% for 1 min, rolled back by the alarm".to_owned(),
            run(Way::Canary),
        ),
        (
            "in place, undone at the page".to_owned(),
            run(Way::InPlace(Duration::ZERO)),
        ),
        (
            format!("in place, undone {} s after the page", responder.as_secs()),
            run(Way::InPlace(responder)),
        ),
    ];
    let mut figures = Vec::new();
    for (name, handle) in runs {
        figures.push((name, handle.await??));
    }

    println!(
        "\nthe broken payment build (FAULT_MODE=exception) on {FUNCTION}, client traffic {ROUTE} every {} ms",
        every.as_millis()
    );
    println!(
        "{:<46} {:>7} {:>14} {:>13} {:>9} {:>7} {:>9}",
        "", "page s", "last failure s", "alarm OK s", "requests", "failed", "failed %"
    );
    for (name, f) in &figures {
        println!(
            "{:<46} {:>7.1} {:>14.1} {:>13.1} {:>9} {:>7} {:>8.1}%",
            name,
            f.detect.as_secs_f64(),
            f.last_failure.as_secs_f64(),
            f.recover.as_secs_f64(),
            f.requests,
            f.failed,
            share(f) * 100.0
        );
    }
    let canary = &figures[0].1;
    println!(
        "budgets of {}: page within {} s, OK within {} s of the fix",
        fast.name,
        budget.alarm.as_secs(),
        budget.ok.as_secs()
    );
    println!(
        "canary: failed share {:.1}% (target <= 12%), page {} the budget, alarm OK {} the page + OK budget",
        share(canary) * 100.0,
        if canary.detect <= budget.alarm {
            "within"
        } else {
            "NOT within"
        },
        if canary.recover <= canary.detect + budget.ok {
            "within"
        } else {
            "NOT within"
        },
    );
    for (name, f) in &figures[1..] {
        println!(
            "ratios {name} / canary: failed share {:.1}x, failed requests {:.1}x, clients failing for {:.1}x as long, alarm OK {:.2}x",
            share(f) / share(canary).max(f64::EPSILON),
            f.failed as f64 / (canary.failed as f64).max(1.0),
            f.last_failure.as_secs_f64() / canary.last_failure.as_secs_f64().max(0.001),
            f.recover.as_secs_f64() / canary.recover.as_secs_f64()
        );
    }
    Ok(())
}

fn share(f: &Figures) -> f64 {
    f.failed as f64 / (f.requests as f64).max(1.0)
}

async fn measure(
    way: Way,
    root: PathBuf,
    bin_dir: PathBuf,
    alarm: String,
    every: Duration,
    delays: MetricDelays,
) -> anyhow::Result<Figures> {
    let run_dir = tempfile::tempdir()?;
    let lab = Lab::start(LabConfig {
        root,
        stage: "dev".into(),
        port: 0,
        admin_port: 0,
        bin_dir,
        run_dir: Some(run_dir.path().to_path_buf()),
        console: false,
        metric_delays: delays,
        reserved_concurrency: Default::default(),
    })
    .await?;
    let admin = AdminClient::new(&lab.admin_url, &lab.token)?.with_actor("release-bench");
    let load = HttpLoad::new(HttpTraffic::new(&lab.gateway_url, Duration::from_secs(31))?);
    let traffic = load.start(&[ROUTE.to_owned()], every);
    let state_of = |alarm: &str| {
        let alarm = alarm.to_owned();
        let admin = admin.clone();
        async move { admin.alarm(&alarm).await.map(|a| a.state_value) }
    };
    // Healthy traffic until the alarm has judged a clean period.
    while state_of(&alarm).await? != AlarmState::Ok {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let changed = Instant::now();
    let from = time::OffsetDateTime::now_utc();
    let detect = match way {
        Way::Canary => {
            let request = ReleaseRequest {
                set: [("FAULT_MODE".to_owned(), "exception".to_owned())].into(),
                strategy: Some(STRATEGY.into()),
                skip_check: true,
                ..Default::default()
            };
            let id = admin.start_release(FUNCTION, &request).await?.id;
            loop {
                let r = admin.release(&id).await?;
                if r.status.is_done() {
                    anyhow::ensure!(
                        r.status == ReleaseStatus::Stopped,
                        "the bad canary was not stopped: {r:?}"
                    );
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            changed.elapsed()
        }
        Way::InPlace(responder) => {
            let prior = admin.configuration(FUNCTION).await?.environment.variables;
            let mut broken = prior.clone();
            broken.insert("FAULT_MODE".into(), "exception".into());
            admin.update_configuration(FUNCTION, &broken).await?;
            admin.serve_latest(FUNCTION).await?;
            while state_of(&alarm).await? != AlarmState::Alarm {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            let paged = changed.elapsed();
            tokio::time::sleep(responder).await;
            admin.update_configuration(FUNCTION, &prior).await?;
            admin.serve_latest(FUNCTION).await?;
            paged
        }
    };
    while state_of(&alarm).await? != AlarmState::Ok {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let recover = changed.elapsed();
    traffic.stop();
    let seen: Vec<_> = load.observations().into_iter().filter(|o| o.at >= from).collect();
    let last_failure = seen
        .iter()
        .filter(|o| o.failed())
        .map(|o| (o.at - from).unsigned_abs())
        .max()
        .unwrap_or_default();
    let figures = Figures {
        detect,
        recover,
        last_failure,
        requests: seen.len(),
        failed: seen.iter().filter(|o| o.failed()).count(),
    };
    lab.shutdown().await;
    Ok(figures)
}
