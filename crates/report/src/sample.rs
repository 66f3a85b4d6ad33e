//! A realistic incident, the shape a dev-stage drill produces, for tests, examples and
//! documentation. It is clearly a fixture: the drill id says `sample`.
//!
//! The story: baseline traffic on every healthy route; at +15 s the break starts traffic on the
//! seed's broken `/pay` and injects `FAULT_MODE=exception` into `payment-fixed`; the 10 s fast
//! alarms fire about 12 s later; the fault is removed at +31 s and the alarm is OK again about
//! 19 s after that; the one-minute `AWS/Lambda Errors` alarm never got there.

use time::{Duration, OffsetDateTime};

use crate::model::*;

const PERIOD_S: u32 = 5;

fn at(start: OffsetDateTime, ms: i64) -> OffsetDateTime {
    start + Duration::milliseconds(ms)
}

/// A series over the drill's 5 s periods, the value a function of the period's start offset.
fn series(name: &str, start: OffsetDateTime, periods: i64, value: impl Fn(i64) -> f64) -> Series {
    Series {
        name: name.to_string(),
        points: (0..periods)
            .map(|i| {
                let offset_s = i * i64::from(PERIOD_S);
                Point {
                    timestamp: start + Duration::seconds(offset_s),
                    value: value(offset_s),
                }
            })
            .collect(),
    }
}

fn request_id(n: u32) -> String {
    format!(
        "{:08x}-4c1e-4b7a-9e2d-{:012x}",
        0x7c1e_0000u32 + n * 0x1111,
        0x5a3f_0000_u64 + u64::from(n)
    )
}

/// The sample incident, starting at `start` (whole second recommended).
pub fn incident(start: OffsetDateTime) -> Incident {
    let injected = at(start, 15_200);
    let pay_alarm = at(start, 26_100);
    let alarm = at(start, 27_400);
    let fix = at(start, 31_200);
    let pay_ok = at(start, 45_300);
    let ok = at(start, 49_800);
    let end = at(start, 58_600);
    let first_failure = at(start, 15_342);
    let periods = 12;
    // Traffic per 5 s period: 5 requests/s on healthy routes, 2/s on /pay while it is driven.
    let broken = |s: i64| (15..31).contains(&s) || (s < 15 && s + 5 > 15) || (s < 31 && s + 5 > 31);
    let faulty_share = |s: i64| -> f64 {
        // Share of the period during which payment-fixed was failing.
        let (from, to) = (s as f64, s as f64 + 5.0);
        let (a, b) = (15.2f64.max(from), 31.2f64.min(to));
        ((b - a) / 5.0).clamp(0.0, 1.0)
    };
    let pay_traffic = |s: i64| {
        if broken(s) {
            (10.0 * faulty_share(s)).round()
        } else {
            0.0
        }
    };
    let failed_fixed = |s: i64| (25.0 * faulty_share(s)).round();

    let failed_ids: Vec<String> = (0..5).map(request_id).collect();
    let log = |ms: i64, message: String| LogLine {
        timestamp: at(start, ms),
        log_group: "/aws/lambda/dev-payment-fixed".into(),
        message,
    };
    let log_excerpt = vec![
        log(15_236, format!("START RequestId: {} Version: $LATEST", failed_ids[0])),
        log(
            15_341,
            format!(
                r#"{{"level":"ERROR","fields":{{"message":"injected fault","fault_injected":true,"fault_mode":"exception"}},"target":"service_kit::fault","span":{{"requestId":"{}"}}}}"#,
                failed_ids[0]
            ),
        ),
        log(
            15_342,
            r#"{"errorType":"payment::PaymentError","errorMessage":"Simulated payment service failure"}"#.into(),
        ),
        log(15_344, format!("END RequestId: {}", failed_ids[0])),
        log(
            15_344,
            format!(
                "REPORT RequestId: {} Duration: 1.84 ms Billed Duration: 2 ms Memory Size: 128 MB Max Memory Used: 18 MB",
                failed_ids[0]
            ),
        ),
        log(
            15_512,
            format!(
                r#"{{"errorType":"payment::PaymentError","errorMessage":"Simulated payment service failure","requestId":"{}"}}"#,
                failed_ids[1]
            ),
        ),
    ];

    let event = |t: OffsetDateTime, kind: EventKind, text: &str| TimelineEvent {
        timestamp: t,
        kind,
        text: text.into(),
    };
    let step = |name: &str, from: OffsetDateTime, to: OffsetDateTime, detail: &str| Step {
        name: name.into(),
        status: StepStatus::Passed,
        started_at: Some(from),
        finished_at: Some(to),
        detail: detail.into(),
    };

    let mut incident = Incident {
        stage: "dev".into(),
        drill_id: "sample-20261125T140205Z".into(),
        title: "payment-fixed failing with an unhandled exception (FAULT_MODE=exception)".into(),
        started_at: start,
        finished_at: end,
        fault: FaultInjection {
            function: "payment-fixed".into(),
            mode: "exception".into(),
            route: "GET /pay-fixed".into(),
            alarm: "dev-payment-fixed-fast-errors".into(),
        },
        detection: Detection {
            fault_injected_at: injected,
            alarm_at: Some(alarm),
            fix_applied_at: Some(fix),
            recovered_at: Some(ok),
        },
        targets: Targets::default(),
        steps: vec![
            step("baseline", start, at(start, 15_000), "450 requests on 3 routes, all 2xx, p99 4.1 ms"),
            step("break", at(start, 15_000), at(start, 15_300), "FAULT_MODE=exception on payment-fixed; traffic on /pay"),
            step("detect", at(start, 15_300), alarm, "dev-payment-fixed-fast-errors in ALARM; SNS notification seen"),
            step("diagnose", alarm, at(start, 31_000), "root cause found in /aws/lambda/dev-payment-fixed"),
            step("fix", at(start, 31_000), fix, "prior configuration restored (RevisionId changed)"),
            step("validate", fix, end, "alarm OK; 300 requests on 4 routes, all 2xx"),
        ],
        events: vec![
            event(start, EventKind::Info, "drill started; baseline traffic on GET /auth, GET /product, GET /pay-fixed"),
            event(at(start, 15_000), EventKind::Info, "break: traffic on GET /pay (the seed's broken route)"),
            event(injected, EventKind::Fault, "FAULT_MODE=exception injected into dev-payment-fixed"),
            event(first_failure, EventKind::Info, "first failed invocation of dev-payment-fixed (500 at the gateway)"),
            event(pay_alarm, EventKind::Alarm, "dev-payment-fast-errors OK \u{2192} ALARM"),
            event(alarm, EventKind::Alarm, "dev-payment-fixed-fast-errors OK \u{2192} ALARM (MTTD 12.2 s)"),
            event(at(start, 27_600), EventKind::Info, "SNS dev-alarms: ALARM: \"dev-payment-fixed-fast-errors\" in EU (Ireland)"),
            event(at(start, 30_900), EventKind::Info, "diagnosis: payment::PaymentError \"Simulated payment service failure\" in 124 invocations"),
            event(fix, EventKind::Fix, "prior configuration of dev-payment-fixed restored; traffic on GET /pay stopped"),
            event(pay_ok, EventKind::Recovery, "dev-payment-fast-errors ALARM \u{2192} OK"),
            event(ok, EventKind::Recovery, "dev-payment-fixed-fast-errors ALARM \u{2192} OK (MTTR 18.6 s)"),
            event(end, EventKind::Info, "validation passed; drill finished"),
        ],
        metrics: Metrics {
            period_s: PERIOD_S,
            invocations: vec![
                series("auth", start, periods, |_| 25.0),
                series("product", start, periods, |s| if s % 15 == 0 { 24.0 } else { 25.0 }),
                series("payment", start, periods, pay_traffic),
                series("payment-fixed", start, periods, |_| 25.0),
            ],
            errors: vec![
                series("auth", start, periods, |_| 0.0),
                series("product", start, periods, |_| 0.0),
                series("payment", start, periods, pay_traffic),
                series("payment-fixed", start, periods, failed_fixed),
            ],
            api_5xx: vec![
                series("GET /auth", start, periods, |_| 0.0),
                series("GET /product", start, periods, |_| 0.0),
                series("GET /pay", start, periods, pay_traffic),
                series("GET /pay-fixed", start, periods, failed_fixed),
            ],
            duration_p99_ms: vec![],
            sources: MetricSources::default(),
        },
        alarms: vec![
            AlarmTrack {
                name: "dev-payment-fixed-fast-errors".into(),
                initial_state: AlarmState::Ok,
                transitions: vec![
                    AlarmTransition { timestamp: alarm, state: AlarmState::Alarm, reason: "Threshold Crossed: 1 out of the last 1 datapoints [25.0] was greater than or equal to the threshold (1.0).".into() },
                    AlarmTransition { timestamp: ok, state: AlarmState::Ok, reason: "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].".into() },
                ],
            },
            AlarmTrack {
                name: "dev-payment-fast-errors".into(),
                initial_state: AlarmState::Ok,
                transitions: vec![
                    AlarmTransition { timestamp: pay_alarm, state: AlarmState::Alarm, reason: String::new() },
                    AlarmTransition { timestamp: pay_ok, state: AlarmState::Ok, reason: String::new() },
                ],
            },
            AlarmTrack { name: "dev-payment-fixed-errors".into(), initial_state: AlarmState::Ok, transitions: vec![] },
            AlarmTrack {
                name: "dev-api-5xx".into(),
                initial_state: AlarmState::InsufficientData,
                transitions: vec![AlarmTransition { timestamp: at(start, 4_000), state: AlarmState::Ok, reason: String::new() }],
            },
        ],
        diagnosis: Diagnosis {
            error_message: "Simulated payment service failure".into(),
            error_type: "payment::PaymentError".into(),
            failing_request_ids: failed_ids,
            failed_requests: 124,
            first_failure_at: Some(first_failure),
            log_excerpt,
        },
        blast_radius: vec![
            RouteImpact { route: "GET /auth".into(), function: "auth".into(), requests: 80, errors_5xx: 0, degraded: false },
            RouteImpact { route: "GET /product".into(), function: "product".into(), requests: 80, errors_5xx: 0, degraded: false },
            RouteImpact { route: "GET /pay".into(), function: "payment".into(), requests: 32, errors_5xx: 32, degraded: true },
            RouteImpact { route: "GET /pay-fixed".into(), function: "payment-fixed".into(), requests: 80, errors_5xx: 80, degraded: true },
        ],
        // Written below from the facts, as a drill does.
        postmortem: Postmortem::default(),
        alarm_path_comparison: AlarmPathComparison::new(
            "dev-payment-fixed-fast-errors",
            10,
            "dev-payment-fixed-errors",
            60,
            None,
        ),
        release: None,
    };
    incident.postmortem = incident.draft_postmortem();
    incident
}
