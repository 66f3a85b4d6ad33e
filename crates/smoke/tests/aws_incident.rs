//! The AWS drill writes the same incident report as the lab's: a finished run of the default
//! scenario written up through the CloudWatch adapters over the SDK's own mocks. The diagnosis
//! comes from FilterLogEvents, the charts from GetMetricData (the functions' high-resolution
//! `OutageLab` metrics), the alarm track from DescribeAlarmHistory's old state and reason; then
//! the game-day report gathers every scenario written so far.
#![cfg(feature = "aws")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatch::operation::describe_alarm_history::DescribeAlarmHistoryOutput;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmHistoryItem, HistoryItemType, MetricAlarm, MetricDataResult, StateValue, StatusCode,
};
use aws_sdk_cloudwatchlogs::operation::filter_log_events::FilterLogEventsOutput;
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use outage_config::{AlarmState, Stage};
use smoke_test::incident::{write_incident, IncidentPorts};
use smoke_test::ports::{AlarmBoard, Observation};
use smoke_test::scenario_cli::write_game_day;
use smoke_test::scenario_run::{RunOutcome, RunReport};
use smoke_test::targets::aws::AwsTarget;
use smoke_test::verdict::{self, Expected, Window};
use time::OffsetDateTime;

const T0: i64 = 1_764_000_000;
const ALARM: &str = "dev-payment-fixed-fast-errors";
const REQUEST: &str = "8f14e45f-ceea-467f-a2c6-1b2f0a3c4d5e";

fn at(secs: f64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos((secs * 1e9) as i128).unwrap()
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// One failed invocation as the function writes it to CloudWatch Logs.
fn failed_invocation(message: &str) -> Vec<FilteredLogEvent> {
    let ev = |ms: i64, text: String| {
        FilteredLogEvent::builder()
            .timestamp(ms)
            .log_stream_name("2025/11/24/[$LATEST]0a1b2c")
            .message(text)
            .build()
    };
    let ms = (T0 + 12) * 1000;
    vec![
        ev(ms, format!("START RequestId: {REQUEST} Version: $LATEST")),
        ev(
            ms + 1,
            format!(
                r#"{{"level":"ERROR","fields":{{"message":"Injected(\"{message}\")"}},"span":{{"requestId":"{REQUEST}"}}}}"#
            ),
        ),
        ev(
            ms + 2,
            format!(r#"{{"Faults":1,"_aws":{{"CloudWatchMetrics":[]}},"requestId":"{REQUEST}"}}"#),
        ),
        ev(ms + 3, format!("END RequestId: {REQUEST}")),
    ]
}

fn history_item(secs: i64, from: &str, to: &str, reason: &str) -> AlarmHistoryItem {
    AlarmHistoryItem::builder()
        .alarm_name(ALARM)
        .history_item_type(HistoryItemType::StateUpdate)
        .timestamp(DateTime::from_secs(secs))
        .history_data(format!(
            r#"{{"version":"1.0","oldState":{{"stateValue":"{from}"}},"newState":{{"stateValue":"{to}","stateReason":"{reason}"}}}}"#
        ))
        .build()
}

#[tokio::test]
async fn the_aws_write_up_reads_logs_metrics_and_alarm_history_from_cloudwatch() {
    let root = root();
    let stage = Stage::load_named(&root, "dev").unwrap();
    let scenario = outage_scenario::load_arg("payment-exception", &root, &stage).unwrap();
    let message = scenario.fault.as_ref().unwrap().vars["FAULT_MESSAGE"].clone();

    // FilterLogEvents: payment-fixed's group holds the failed invocation; the others are quiet.
    let patterns = Arc::new(Mutex::new(Vec::new()));
    let p = Arc::clone(&patterns);
    let story = failed_invocation(&message);
    let logs = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_compute_output(move |r| {
        let group = r.log_group_name().unwrap_or_default().to_owned();
        let pattern = r.filter_pattern().unwrap_or_default().to_owned();
        p.lock().unwrap().push((group.clone(), pattern.clone()));
        let events: Vec<FilteredLogEvent> = if group == "/aws/lambda/dev-payment-fixed" {
            let needle = pattern.trim_matches('"').to_owned();
            story
                .iter()
                .filter(|e| e.message().unwrap_or_default().contains(&needle))
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        FilterLogEventsOutput::builder().set_events(Some(events)).build()
    });

    // GetMetricData: every query answered with one datapoint whose value names the query.
    let queries = Arc::new(Mutex::new(Vec::new()));
    let q = Arc::clone(&queries);
    let metrics = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_compute_output(move |r| {
        let mut out = GetMetricDataOutput::builder();
        for (i, query) in r.metric_data_queries().iter().enumerate() {
            let stat = query.metric_stat().unwrap();
            let metric = stat.metric().unwrap();
            q.lock().unwrap().push((
                metric.namespace().unwrap_or_default().to_owned(),
                metric.metric_name().unwrap_or_default().to_owned(),
                metric.dimensions()[0].value().unwrap_or_default().to_owned(),
                stat.stat().unwrap_or_default().to_owned(),
                stat.period().unwrap_or_default(),
            ));
            out = out.metric_data_results(
                MetricDataResult::builder()
                    .id(query.id().unwrap())
                    .status_code(StatusCode::Complete)
                    .timestamps(DateTime::from_secs(T0 + 10))
                    .values(100.0 + i as f64)
                    .build(),
            );
        }
        out.build()
    });
    let states = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(|| {
        DescribeAlarmsOutput::builder()
            .metric_alarms(
                MetricAlarm::builder()
                    .alarm_name(ALARM)
                    .state_value(StateValue::Ok)
                    .build(),
            )
            .build()
    });
    let history = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history).then_output(|| {
        DescribeAlarmHistoryOutput::builder()
            .alarm_history_items(history_item(
                T0 + 13,
                "OK",
                "ALARM",
                "Threshold Crossed: 1 datapoint [4.0] was greater than the threshold (0.0).",
            ))
            .alarm_history_items(history_item(
                T0 + 40,
                "ALARM",
                "OK",
                "Threshold Crossed: 1 datapoint [0.0]",
            ))
            .build()
    });
    let names: BTreeMap<String, String> = stage
        .functions
        .keys()
        .map(|k| (k.clone(), stage.function_name(k)))
        .collect();
    let aws = AwsTarget::new(
        mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[]),
        mock_client!(
            aws_sdk_cloudwatch,
            RuleMode::MatchAny,
            [&metrics, &states, &history]
        ),
        names,
    )
    .with_stage("dev")
    .with_logs(mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, [&logs]));

    // A finished run as the runner reports it: the fault at +10 s, the fix at +20 s, judged
    // over the history CloudWatch holds.
    let (injected, fixed, end) = (at(T0 as f64 + 10.0), at(T0 as f64 + 20.0), at(T0 as f64 + 60.0));
    let histories = BTreeMap::from([(ALARM.to_owned(), aws.history(ALARM, at(T0 as f64)).await.unwrap())]);
    let judgement = verdict::judge(
        &[ALARM.to_owned()],
        &[Expected {
            alarm: ALARM.to_owned(),
            detect_within: Duration::from_secs(110),
            recover_within: Duration::from_secs(120),
        }],
        &histories,
        Window {
            injected_at: injected,
            fixed_at: Some(fixed),
            end,
        },
    );
    let report = RunReport {
        scenario: scenario.name.clone(),
        outcome: RunOutcome::Passed,
        problems: Vec::new(),
        started_at: at(T0 as f64),
        injected_at: Some(injected),
        fault_expires_at: None,
        fixed_at: Some(fixed),
        finished_at: end,
        not_judged: Vec::new(),
        judged: vec![ALARM.to_owned()],
        judgement,
        mttd_budget_s: Some(110.0),
        mttr_budget_s: Some(120.0),
        alarm_lag_s: None,
        assumed_lag_s: None,
        histories,
        restored_exactly: true,
        release: None,
        events: Vec::new(),
    };
    let observations: Vec<Observation> = (0..40)
        .map(|i| Observation {
            at: at(T0 as f64 + 5.0 + f64::from(i) * 0.5),
            route: "GET /pay-fixed".into(),
            status: Some(if (10..30).contains(&i) { 500 } else { 200 }),
            request_id: None,
            version: None,
            latency_ms: 20.0,
        })
        .collect();

    let dir = tempfile::tempdir().unwrap();
    let written = write_incident(
        &stage,
        &scenario,
        &report,
        IncidentPorts {
            telemetry: &aws,
            alarms: &aws,
        },
        &observations,
        &dir.path().join(&scenario.name),
        "dev-payment-exception",
    )
    .await
    .unwrap();

    // The diagnosis and its log excerpt come from FilterLogEvents, with literal patterns.
    let incident = &written.incident;
    assert_eq!(incident.diagnosis.error_message, message);
    assert_eq!(incident.diagnosis.error_type, "Injected");
    assert_eq!(incident.diagnosis.failing_request_ids, [REQUEST]);
    let excerpt: Vec<&str> = incident
        .diagnosis
        .log_excerpt
        .iter()
        .map(|l| l.message.as_str())
        .collect();
    assert_eq!(
        excerpt.len(),
        3,
        "START, ERROR, END without the EMF record: {excerpt:?}"
    );
    assert!(excerpt[0].starts_with("START RequestId"));
    assert!(written.findings.passed, "{}", written.findings.detail);
    let patterns = patterns.lock().unwrap().clone();
    assert!(patterns.contains(&("/aws/lambda/dev-payment-fixed".into(), "\"ERROR\"".into())));
    assert!(patterns.contains(&("/aws/lambda/dev-payment-fixed".into(), format!("\"{REQUEST}\""))));
    assert!(patterns.contains(&("/aws/lambda/dev-auth".into(), "\"ERROR\"".into())));

    // The charts come from GetMetricData: three OutageLab series per function at 5 s.
    let queries = queries.lock().unwrap().clone();
    assert_eq!(queries.len(), 3 * stage.functions.len(), "{queries:?}");
    assert!(queries.contains(&(
        "OutageLab".into(),
        "Requests".into(),
        "dev-payment-fixed".into(),
        "Sum".into(),
        5
    )));
    assert!(queries.contains(&(
        "OutageLab".into(),
        "Latency".into(),
        "dev-auth".into(),
        "p99".into(),
        5
    )));
    let invocations = incident
        .metrics
        .invocations
        .iter()
        .find(|s| s.name == "payment-fixed")
        .expect("payment-fixed is charted");
    assert!(
        invocations.points.iter().any(|p| p.value >= 100.0),
        "{invocations:?}"
    );
    let api = incident
        .metrics
        .api_5xx
        .iter()
        .find(|s| s.name == "GET /pay-fixed")
        .unwrap();
    assert_eq!(
        api.points.iter().map(|p| p.value).sum::<f64>(),
        20.0,
        "the clients' 500s"
    );

    // The alarm track comes from DescribeAlarmHistory, with the state left and the reason.
    let track = incident
        .alarms
        .iter()
        .find(|t| t.name == ALARM)
        .expect("the expected alarm is charted");
    assert_eq!(track.initial_state, AlarmState::Ok);
    assert_eq!(track.transitions.len(), 2);
    assert!(track.transitions[0].reason.contains("Threshold Crossed"));
    assert_eq!(incident.detection.alarm_at, Some(at(T0 as f64 + 13.0)));

    // The same files as the lab's, and the scenario's row of the game-day report.
    for file in [
        "report.html",
        "report.md",
        "incident.json",
        "run.json",
        "result.json",
    ] {
        assert!(written.files.dir.join(file).is_file(), "{file} missing");
    }
    assert_eq!(written.result.failed_requests, 20);
    assert!(written.result.passed);
    let index = write_game_day(&stage, dir.path()).unwrap();
    let html = std::fs::read_to_string(index).unwrap();
    assert!(
        html.contains("payment-exception"),
        "the game-day report lists the scenario"
    );
    let catalogue: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("catalogue.json")).unwrap()).unwrap();
    assert_eq!(catalogue["target"], "aws");
    assert_eq!(catalogue["scenarios"].as_array().unwrap().len(), 1);
}
