//! The AWS adapters of the scenario runner (AlarmBoard, Concurrency) and the incident report's
//! reads (FilterLogEvents, GetMetricData), through the SDK's own mocks: every page followed, the
//! requests as AWS wants them, history JSON read into states and times, errors mapped.
#![cfg(feature = "aws")]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatch::operation::describe_alarm_history::{
    DescribeAlarmHistoryError, DescribeAlarmHistoryOutput,
};
use aws_sdk_cloudwatch::operation::describe_alarms::{DescribeAlarmsError, DescribeAlarmsOutput};
use aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataOutput;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmHistoryItem, AlarmType, HistoryItemType, MetricAlarm, MetricDataResult, ScanBy, StateValue,
    StatusCode,
};
use aws_sdk_cloudwatchlogs::operation::filter_log_events::{FilterLogEventsError, FilterLogEventsOutput};
use aws_sdk_cloudwatchlogs::types::FilteredLogEvent;
use aws_sdk_lambda::operation::delete_function_concurrency::DeleteFunctionConcurrencyOutput;
use aws_sdk_lambda::operation::get_function_concurrency::{
    GetFunctionConcurrencyError, GetFunctionConcurrencyOutput,
};
use aws_sdk_lambda::operation::put_function_concurrency::{
    PutFunctionConcurrencyError, PutFunctionConcurrencyOutput,
};
use aws_sdk_lambda::types::error::{ResourceConflictException, ResourceNotFoundException};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use outage_config::AlarmState;
use smoke_test::ports::{AlarmBoard, Concurrency, MetricQuery, Telemetry};
use smoke_test::targets::aws::AwsTarget;
use smoke_test::targets::aws_reads::MAX_METRIC_QUERIES;
use smoke_test::verdict::Transition;
use smoke_test::PortError;
use time::OffsetDateTime;

const FUNCTION: &str = "dev-payment-fixed";
const ALARM: &str = "dev-payment-fixed-fast-errors";
const T0: i64 = 1_764_000_000;

fn at(secs: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(secs).unwrap()
}

fn target(lambda: &[&Rule], cloudwatch: &[&Rule], logs: &[&Rule]) -> AwsTarget {
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, lambda);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, cloudwatch);
    let logs = mock_client!(aws_sdk_cloudwatchlogs, RuleMode::MatchAny, logs);
    let names = BTreeMap::from([("payment-fixed".to_owned(), FUNCTION.to_owned())]);
    AwsTarget::new(lambda, cloudwatch, names)
        .with_stage("dev")
        .with_logs(logs)
}

fn metric_alarm(name: &str, state: StateValue) -> MetricAlarm {
    MetricAlarm::builder().alarm_name(name).state_value(state).build()
}

fn history_item(secs: i64, data: &str) -> AlarmHistoryItem {
    AlarmHistoryItem::builder()
        .alarm_name(ALARM)
        .history_item_type(HistoryItemType::StateUpdate)
        .timestamp(DateTime::from_secs(secs))
        .history_data(data)
        .build()
}

fn state_update(from: &str, to: &str) -> String {
    format!(
        r#"{{"version":"1.0","oldState":{{"stateValue":"{from}","stateReason":"x"}},"newState":{{"stateValue":"{to}","stateReason":"Threshold Crossed"}}}}"#
    )
}

fn cw_error(code: &str) -> aws_sdk_cloudwatch::error::ErrorMetadata {
    aws_sdk_cloudwatch::error::ErrorMetadata::builder()
        .code(code)
        .message("simulated")
        .build()
}

#[tokio::test]
async fn states_lists_every_page_of_the_stages_metric_alarms_without_the_composite() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let page1 = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|r| r.next_token().is_none())
        .then_compute_output(move |r| {
            s.lock()
                .unwrap()
                .push((r.alarm_name_prefix().map(str::to_owned), r.alarm_types().to_vec()));
            DescribeAlarmsOutput::builder()
                .metric_alarms(metric_alarm(ALARM, StateValue::Alarm))
                .metric_alarms(metric_alarm("dev-auth-errors", StateValue::Ok))
                .next_token("page-2")
                .build()
        });
    let page2 = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .match_requests(|r| r.next_token() == Some("page-2"))
        .then_output(|| {
            DescribeAlarmsOutput::builder()
                .metric_alarms(metric_alarm("dev-api-5xx", StateValue::InsufficientData))
                .metric_alarms(metric_alarm("dev-service-health", StateValue::Alarm))
                .build()
        });
    let aws = target(&[], &[&page1, &page2], &[]);
    let states = aws.states().await.unwrap();
    assert_eq!(
        states,
        BTreeMap::from([
            ("dev-api-5xx".to_owned(), AlarmState::InsufficientData),
            ("dev-auth-errors".to_owned(), AlarmState::Ok),
            (ALARM.to_owned(), AlarmState::Alarm),
        ])
    );
    assert_eq!(page2.num_calls(), 1, "the second page was read");
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [(Some("dev-".to_owned()), vec![AlarmType::MetricAlarm])]
    );
}

#[tokio::test]
async fn states_needs_the_stage() {
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, &[]);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[]);
    let aws = AwsTarget::new(lambda, cloudwatch, BTreeMap::new());
    assert!(matches!(aws.states().await, Err(PortError::Rejected(m)) if m.contains("with_stage")));
}

#[tokio::test(start_paused = true)]
async fn describe_alarms_errors_are_mapped() {
    let throttled = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .then_error(|| DescribeAlarmsError::generic(cw_error("Throttling")));
    let aws = target(&[], &[&throttled], &[]);
    assert!(matches!(aws.states().await, Err(PortError::Rejected(m)) if m.contains("DescribeAlarms dev-*")));

    let broken = mock!(aws_sdk_cloudwatch::Client::describe_alarms)
        .then_error(|| DescribeAlarmsError::generic(cw_error("InternalFailure")));
    let aws = target(&[], &[&broken], &[]);
    assert!(matches!(aws.states().await, Err(PortError::Transport(_))));
}

#[tokio::test]
async fn history_follows_every_page_and_reads_the_new_state_at_the_item_time() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let page1 = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history)
        .match_requests(|r| r.next_token().is_none())
        .then_compute_output(move |r| {
            s.lock().unwrap().push((
                r.alarm_name().map(str::to_owned),
                r.history_item_type().cloned(),
                r.scan_by().cloned(),
                r.start_date().map(|d| d.secs()),
            ));
            DescribeAlarmHistoryOutput::builder()
                .alarm_history_items(history_item(T0, &state_update("INSUFFICIENT_DATA", "OK")))
                .alarm_history_items(history_item(T0 + 40, &state_update("OK", "ALARM")))
                .next_token("more")
                .build()
        });
    let page2 = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history)
        .match_requests(|r| r.next_token() == Some("more"))
        .then_output(|| {
            DescribeAlarmHistoryOutput::builder()
                .alarm_history_items(history_item(T0 + 70, &state_update("ALARM", "OK")))
                .build()
        });
    let aws = target(&[], &[&page1, &page2], &[]);
    let history = aws.history(ALARM, at(T0 - 5)).await.unwrap();
    let transition = |secs: i64, from: AlarmState, state: AlarmState| Transition {
        at: at(secs),
        from: Some(from),
        state,
        reason: "Threshold Crossed".into(),
    };
    assert_eq!(
        history,
        vec![
            transition(T0, AlarmState::InsufficientData, AlarmState::Ok),
            transition(T0 + 40, AlarmState::Ok, AlarmState::Alarm),
            transition(T0 + 70, AlarmState::Alarm, AlarmState::Ok),
        ]
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [(
            Some(ALARM.to_owned()),
            Some(HistoryItemType::StateUpdate),
            Some(ScanBy::TimestampAscending),
            Some(T0 - 5),
        )]
    );
}

#[tokio::test]
async fn history_newest_first_is_returned_oldest_first() {
    let page = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history).then_output(|| {
        DescribeAlarmHistoryOutput::builder()
            .alarm_history_items(history_item(T0 + 30, &state_update("ALARM", "OK")))
            .alarm_history_items(history_item(T0, &state_update("OK", "ALARM")))
            .build()
    });
    let aws = target(&[], &[&page], &[]);
    let states: Vec<_> = aws
        .history(ALARM, at(T0))
        .await
        .unwrap()
        .iter()
        .map(|t| t.state)
        .collect();
    assert_eq!(states, [AlarmState::Alarm, AlarmState::Ok]);
}

#[tokio::test]
async fn a_malformed_history_item_is_an_error_naming_the_alarm() {
    for (data, why) in [
        ("not json", "not JSON"),
        (r#"{"oldState":{"stateValue":"OK"}}"#, "newState.stateValue"),
        (r#"{"newState":{"stateValue":"BROKEN"}}"#, "\"BROKEN\""),
    ] {
        let page = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history).then_output(move || {
            DescribeAlarmHistoryOutput::builder()
                .alarm_history_items(history_item(T0, &state_update("OK", "ALARM")))
                .alarm_history_items(history_item(T0 + 10, data))
                .build()
        });
        let aws = target(&[], &[&page], &[]);
        match aws.history(ALARM, at(T0)).await {
            Err(PortError::Transport(m)) => {
                assert!(m.contains(ALARM) && m.contains(why), "{data}: {m}")
            }
            other => panic!("{data}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn history_errors_are_mapped() {
    let denied = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history)
        .then_error(|| DescribeAlarmHistoryError::generic(cw_error("AccessDenied")));
    let aws = target(&[], &[&denied], &[]);
    assert!(matches!(aws.history(ALARM, at(T0)).await, Err(PortError::Rejected(m)) if m.contains(ALARM)));
}

#[tokio::test]
async fn reserved_concurrency_is_read_for_the_deployed_name() {
    let reserved = mock!(aws_sdk_lambda::Client::get_function_concurrency)
        .match_requests(|r| r.function_name() == Some(FUNCTION))
        .then_output(|| {
            GetFunctionConcurrencyOutput::builder()
                .reserved_concurrent_executions(5)
                .build()
        });
    let aws = target(&[&reserved], &[], &[]);
    assert_eq!(aws.reserved_concurrency("payment-fixed").await.unwrap(), Some(5));

    let unreserved = mock!(aws_sdk_lambda::Client::get_function_concurrency)
        .then_output(|| GetFunctionConcurrencyOutput::builder().build());
    let aws = target(&[&unreserved], &[], &[]);
    assert_eq!(aws.reserved_concurrency("payment-fixed").await.unwrap(), None);

    let missing = mock!(aws_sdk_lambda::Client::get_function_concurrency).then_error(|| {
        GetFunctionConcurrencyError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message("no such function")
                .build(),
        )
    });
    let aws = target(&[&missing], &[], &[]);
    assert!(matches!(
        aws.reserved_concurrency("payment-fixed").await,
        Err(PortError::NotFound(_))
    ));
    assert!(matches!(
        aws.reserved_concurrency("nope").await,
        Err(PortError::NotFound(_))
    ));
}

#[tokio::test]
async fn some_puts_the_reservation_and_none_deletes_it() {
    let put_value = Arc::new(Mutex::new(None));
    let p = Arc::clone(&put_value);
    let put = mock!(aws_sdk_lambda::Client::put_function_concurrency).then_compute_output(move |r| {
        *p.lock().unwrap() = Some((
            r.function_name().map(str::to_owned),
            r.reserved_concurrent_executions(),
        ));
        PutFunctionConcurrencyOutput::builder()
            .reserved_concurrent_executions(0)
            .build()
    });
    let delete = mock!(aws_sdk_lambda::Client::delete_function_concurrency)
        .match_requests(|r| r.function_name() == Some(FUNCTION))
        .then_output(|| DeleteFunctionConcurrencyOutput::builder().build());
    let aws = target(&[&put, &delete], &[], &[]);
    aws.set_reserved_concurrency("payment-fixed", Some(0))
        .await
        .unwrap();
    assert_eq!(
        *put_value.lock().unwrap(),
        Some((Some(FUNCTION.to_owned()), Some(0)))
    );
    assert_eq!(delete.num_calls(), 0);
    aws.set_reserved_concurrency("payment-fixed", None).await.unwrap();
    assert_eq!(delete.num_calls(), 1, "None is DeleteFunctionConcurrency");
    assert_eq!(put.num_calls(), 1, "and not a put");
}

#[tokio::test]
async fn a_conflicting_put_is_refused() {
    let put = mock!(aws_sdk_lambda::Client::put_function_concurrency).then_error(|| {
        PutFunctionConcurrencyError::ResourceConflictException(
            ResourceConflictException::builder()
                .message("update in progress")
                .build(),
        )
    });
    let aws = target(&[&put], &[], &[]);
    match aws.set_reserved_concurrency("payment-fixed", Some(1)).await {
        Err(PortError::Rejected(m)) => assert!(m.contains("PutFunctionConcurrency dev-payment-fixed"), "{m}"),
        other => panic!("{other:?}"),
    }
}

fn log_event(ms: i64, stream: &str, message: &str) -> FilteredLogEvent {
    FilteredLogEvent::builder()
        .timestamp(ms)
        .log_stream_name(stream)
        .message(message)
        .build()
}

#[tokio::test]
async fn log_events_reads_every_page_of_the_functions_group_in_the_window() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let page1 = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .match_requests(|r| r.next_token().is_none())
        .then_compute_output(move |r| {
            s.lock().unwrap().push((
                r.log_group_name().map(str::to_owned),
                r.start_time(),
                r.end_time(),
                r.filter_pattern().map(str::to_owned),
            ));
            FilterLogEventsOutput::builder()
                .events(log_event(T0 * 1000 + 500, "stream-b", "second"))
                .next_token("next")
                .build()
        });
    // An empty page with a token is normal for FilterLogEvents: it must not end the read.
    let page2 = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .match_requests(|r| r.next_token() == Some("next"))
        .then_output(|| FilterLogEventsOutput::builder().next_token("last").build());
    let page3 = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events)
        .match_requests(|r| r.next_token() == Some("last"))
        .then_output(|| {
            FilterLogEventsOutput::builder()
                .events(log_event(T0 * 1000 + 100, "stream-a", "first"))
                .build()
        });
    let aws = target(&[], &[], &[&page1, &page2, &page3]);
    let lines = aws
        .log_events("payment-fixed", at(T0), at(T0 + 60), Some("ERROR"))
        .await
        .unwrap();
    let got: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                (l.at - at(T0)).whole_milliseconds(),
                l.log_stream.as_str(),
                l.message.as_str(),
            )
        })
        .collect();
    assert_eq!(got, [(100, "stream-a", "first"), (500, "stream-b", "second")]);
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [(
            Some(format!("/aws/lambda/{FUNCTION}")),
            Some(T0 * 1000),
            Some((T0 + 60) * 1000),
            Some("\"ERROR\"".to_owned())
        )]
    );
    assert_eq!(page3.num_calls(), 1);
}

#[tokio::test]
async fn a_missing_log_group_is_not_found() {
    let missing = mock!(aws_sdk_cloudwatchlogs::Client::filter_log_events).then_error(|| {
        FilterLogEventsError::ResourceNotFoundException(
            aws_sdk_cloudwatchlogs::types::error::ResourceNotFoundException::builder()
                .message("The specified log group does not exist.")
                .build(),
        )
    });
    let aws = target(&[], &[], &[&missing]);
    match aws.log_events("payment-fixed", at(T0), at(T0 + 1), None).await {
        Err(PortError::NotFound(m)) => assert!(m.contains("/aws/lambda/dev-payment-fixed"), "{m}"),
        other => panic!("{other:?}"),
    }
}

fn query(metric: &str, stat: &str) -> MetricQuery {
    MetricQuery {
        namespace: "AWS/Lambda".into(),
        metric: metric.into(),
        dimensions: vec![("FunctionName".into(), FUNCTION.into())],
        stat: stat.into(),
        period_s: 60,
    }
}

fn result(id: &str, points: &[(i64, f64)], status: StatusCode) -> MetricDataResult {
    let mut b = MetricDataResult::builder().id(id).status_code(status);
    for (t, v) in points {
        b = b.timestamps(DateTime::from_secs(*t)).values(*v);
    }
    b.build()
}

#[tokio::test]
async fn metric_data_joins_the_pages_of_each_query_oldest_first() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let page1 = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|r| r.next_token().is_none())
        .then_compute_output(move |r| {
            let q = &r.metric_data_queries()[1];
            let stat = q.metric_stat().unwrap();
            let metric = stat.metric().unwrap();
            s.lock().unwrap().push((
                r.metric_data_queries().len(),
                q.id().map(str::to_owned),
                metric.namespace().map(str::to_owned),
                metric.metric_name().map(str::to_owned),
                metric
                    .dimensions()
                    .iter()
                    .map(|d| (d.name().unwrap().to_owned(), d.value().unwrap().to_owned()))
                    .collect::<Vec<_>>(),
                stat.stat().map(str::to_owned),
                stat.period(),
                r.start_time().map(|t| t.secs()),
                r.end_time().map(|t| t.secs()),
            ));
            GetMetricDataOutput::builder()
                .metric_data_results(result(
                    "q0",
                    &[(T0 + 60, 2.0), (T0, 1.0)],
                    StatusCode::PartialData,
                ))
                .metric_data_results(result("q1", &[], StatusCode::Complete))
                .next_token("p2")
                .build()
        });
    let page2 = mock!(aws_sdk_cloudwatch::Client::get_metric_data)
        .match_requests(|r| r.next_token() == Some("p2"))
        .then_output(|| {
            GetMetricDataOutput::builder()
                .metric_data_results(result("q0", &[(T0 + 120, 3.0)], StatusCode::Complete))
                .build()
        });
    let aws = target(&[], &[&page1, &page2], &[]);
    let series = aws
        .metric_data(
            &[query("Errors", "Sum"), query("Duration", "p99")],
            at(T0),
            at(T0 + 180),
        )
        .await
        .unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].query, query("Errors", "Sum"));
    let errors: Vec<_> = series[0]
        .points
        .iter()
        .map(|p| ((p.at - at(T0)).whole_seconds(), p.value))
        .collect();
    assert_eq!(errors, [(0, 1.0), (60, 2.0), (120, 3.0)]);
    assert!(series[1].points.is_empty(), "no data is an empty series");
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [(
            2,
            Some("q1".to_owned()),
            Some("AWS/Lambda".to_owned()),
            Some("Duration".to_owned()),
            vec![("FunctionName".to_owned(), FUNCTION.to_owned())],
            Some("p99".to_owned()),
            Some(60),
            Some(T0),
            Some(T0 + 180)
        )]
    );
}

// The SDK retries throttling with backoff; tokio's paused clock skips the waits.
#[tokio::test(start_paused = true)]
async fn metric_data_errors_and_limits() {
    let failing = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_output(|| {
        GetMetricDataOutput::builder()
            .metric_data_results(result("q0", &[], StatusCode::InternalError))
            .build()
    });
    let aws = target(&[], &[&failing], &[]);
    assert!(matches!(
        aws.metric_data(&[query("Errors", "Sum")], at(T0), at(T0 + 60)).await,
        Err(PortError::Transport(m)) if m.contains("AWS/Lambda/Errors")
    ));

    let throttled = mock!(aws_sdk_cloudwatch::Client::get_metric_data).then_error(|| {
        aws_sdk_cloudwatch::operation::get_metric_data::GetMetricDataError::generic(cw_error("Throttling"))
    });
    let aws = target(&[], &[&throttled], &[]);
    assert!(matches!(
        aws.metric_data(&[query("Errors", "Sum")], at(T0), at(T0 + 60))
            .await,
        Err(PortError::Rejected(_))
    ));

    let calls = throttled.num_calls();
    let too_many = vec![query("Errors", "Sum"); MAX_METRIC_QUERIES + 1];
    assert!(matches!(
        aws.metric_data(&too_many, at(T0), at(T0 + 60)).await,
        Err(PortError::Rejected(_))
    ));
    assert_eq!(
        throttled.num_calls(),
        calls,
        "too many queries are refused before any call"
    );
}

#[tokio::test]
async fn failed_alarm_actions_are_the_stages_failed_notifications_since_the_run_started() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s = Arc::clone(&seen);
    let page = mock!(aws_sdk_cloudwatch::Client::describe_alarm_history).then_compute_output(move |r| {
        s.lock()
            .unwrap()
            .push((r.history_item_type().cloned(), r.start_date().map(|d| d.secs())));
        let item = |name: &str, summary: &str| {
            AlarmHistoryItem::builder()
                .alarm_name(name)
                .history_item_type(HistoryItemType::Action)
                .timestamp(DateTime::from_secs(T0 + 30))
                .history_summary(summary)
                .build()
        };
        DescribeAlarmHistoryOutput::builder()
            .alarm_history_items(item(
                ALARM,
                "Successfully executed action arn:aws:sns:eu-west-1:1:dev-alarms",
            ))
            .alarm_history_items(item(
                ALARM,
                "Failed to execute action arn:aws:sns:eu-west-1:1:dev-alarms",
            ))
            .alarm_history_items(item(
                "prod-auth-errors",
                "Failed to execute action arn:aws:sns:eu-west-1:1:prod-alarms",
            ))
            .build()
    });
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&page]);
    let failures = smoke_test::targets::aws_reads::failed_alarm_actions(&cloudwatch, "dev-", Some(at(T0)))
        .await
        .unwrap();
    assert_eq!(
        failures,
        [format!(
            "{ALARM}: Failed to execute action arn:aws:sns:eu-west-1:1:dev-alarms"
        )],
        "only this stage's failures"
    );
    assert_eq!(
        seen.lock().unwrap().as_slice(),
        [(Some(HistoryItemType::Action), Some(T0))]
    );
}
