//! The AWS side of the scenario runner and of the incident report: every alarm of the stage and
//! their state histories (CloudWatch), reserved concurrency (Lambda), log events (CloudWatch
//! Logs) and metric series (CloudWatch `GetMetricData`).
//!
//! Every list call follows `NextToken` to the end: a drill judged on the first page of a history
//! would call a fired alarm silent.

use std::collections::BTreeMap;

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{
    AlarmType, Dimension, HistoryItemType, Metric, MetricDataQuery, MetricStat, ScanBy, StatusCode,
};
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use outage_config::AlarmState;
use time::OffsetDateTime;

use crate::error::PortError;
use crate::ports::{AlarmBoard, Concurrency, LogRecord, MetricPoint, MetricQuery, MetricSeries, Telemetry};
use crate::targets::aws::{port_error, AwsTarget};
use crate::verdict::Transition;

/// The stage's composite alarm: it summarises the judged alarms, so judging it too would count
/// every incident twice.
pub const COMPOSITE_SUFFIX: &str = "service-health";

/// A runaway pagination (a service that keeps answering a token) stops here instead of looping.
const MAX_PAGES: usize = 1000;

/// `GetMetricData` takes at most this many queries in one request.
pub const MAX_METRIC_QUERIES: usize = 500;

fn to_aws(t: OffsetDateTime) -> DateTime {
    DateTime::from_secs_and_nanos(t.unix_timestamp(), t.nanosecond())
}

fn from_aws(t: &DateTime) -> Result<OffsetDateTime, PortError> {
    OffsetDateTime::from_unix_timestamp_nanos(t.as_nanos())
        .map_err(|e| PortError::Transport(format!("timestamp {t} out of range: {e}")))
}

fn from_millis(ms: i64) -> Result<OffsetDateTime, PortError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|e| PortError::Transport(format!("timestamp {ms} ms out of range: {e}")))
}

/// CloudWatch answers throttling and bad input with these codes (it has no modelled errors for
/// them); none of them changed anything.
fn cloudwatch_refused(code: Option<&str>) -> bool {
    matches!(
        code,
        Some(
            "Throttling"
                | "ThrottlingException"
                | "InvalidParameterValue"
                | "InvalidParameterCombination"
                | "MissingParameter"
                | "InvalidNextToken"
        )
    )
}

fn cloudwatch_error<E, R>(action: &str, e: SdkError<E, R>) -> PortError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    port_error(
        action,
        e,
        |se| cloudwatch_refused(se.code()),
        |se| se.code() == Some("ResourceNotFound"),
    )
}

fn next_page(token: Option<&str>, pages: &mut usize, action: &str) -> Result<Option<String>, PortError> {
    *pages += 1;
    match token.filter(|t| !t.is_empty()) {
        Some(_) if *pages >= MAX_PAGES => Err(PortError::Transport(format!(
            "{action}: still paginating after {MAX_PAGES} pages"
        ))),
        t => Ok(t.map(str::to_owned)),
    }
}

/// Reads one `DescribeAlarmHistory` item of type StateUpdate: its `HistoryData` is a JSON
/// document whose `newState.stateValue` is the state entered (`newState.stateReason` why,
/// `oldState.stateValue` the state left); the item's timestamp is when.
pub fn parse_history_item(
    alarm: &str,
    at: Option<&DateTime>,
    data: Option<&str>,
) -> Result<Transition, PortError> {
    let bad = |why: String| {
        PortError::Transport(format!(
            "DescribeAlarmHistory {alarm}: item at {}: {why}",
            at.map(ToString::to_string).unwrap_or_else(|| "?".into())
        ))
    };
    let at = from_aws(at.ok_or_else(|| bad("no Timestamp".into()))?).map_err(|e| bad(e.to_string()))?;
    let data = data.ok_or_else(|| bad("no HistoryData".into()))?;
    let doc: serde_json::Value =
        serde_json::from_str(data).map_err(|e| bad(format!("HistoryData is not JSON: {e}")))?;
    let value = doc
        .pointer("/newState/stateValue")
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| bad("HistoryData has no newState.stateValue".into()))?;
    let state = AlarmState::parse(value).ok_or_else(|| {
        bad(format!(
            "HistoryData newState.stateValue {value:?} is no alarm state"
        ))
    })?;
    let from = doc
        .pointer("/oldState/stateValue")
        .and_then(serde_json::Value::as_str)
        .and_then(AlarmState::parse);
    let reason = doc
        .pointer("/newState/stateReason")
        .and_then(serde_json::Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok(Transition {
        at,
        from,
        state,
        reason,
    })
}

impl AwsTarget {
    /// The stage whose alarms [`AlarmBoard::states`] lists (`<stage>-` prefix).
    pub fn with_stage(mut self, stage: &str) -> AwsTarget {
        self.stage = Some(stage.to_owned());
        self
    }

    /// The CloudWatch Logs client for [`AwsTarget::log_events`].
    pub fn with_logs(mut self, logs: aws_sdk_cloudwatchlogs::Client) -> AwsTarget {
        self.logs = Some(logs);
        self
    }
}

/// Every metric alarm whose name starts with `prefix`, every page followed.
pub async fn stage_metric_alarms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    prefix: &str,
) -> Result<Vec<aws_sdk_cloudwatch::types::MetricAlarm>, PortError> {
    let mut alarms = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        tracing::debug!(prefix, page = pages, "DescribeAlarms");
        let out = cloudwatch
            .describe_alarms()
            .alarm_name_prefix(prefix)
            .alarm_types(AlarmType::MetricAlarm)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| cloudwatch_error(&format!("DescribeAlarms {prefix}*"), e))?;
        alarms.extend(
            out.metric_alarms()
                .iter()
                .filter(|a| a.alarm_name().is_some_and(|n| n.starts_with(prefix)))
                .cloned(),
        );
        match next_page(out.next_token(), &mut pages, "DescribeAlarms")? {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    Ok(alarms)
}

/// The failed actions (a notification that did not go out) in the history of the alarms named
/// `<prefix>*`, at or after `since`: `<alarm>: <summary>` each, oldest first.
pub async fn failed_alarm_actions(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    prefix: &str,
    since: Option<OffsetDateTime>,
) -> Result<Vec<String>, PortError> {
    let mut failures = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let out = cloudwatch
            .describe_alarm_history()
            .history_item_type(HistoryItemType::Action)
            .set_start_date(since.map(to_aws))
            .scan_by(ScanBy::TimestampAscending)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| cloudwatch_error("DescribeAlarmHistory (actions)", e))?;
        for item in out.alarm_history_items() {
            let name = item.alarm_name().unwrap_or_default();
            let summary = item.history_summary().unwrap_or_default();
            if name.starts_with(prefix) && summary.to_ascii_lowercase().contains("failed") {
                failures.push(format!("{name}: {summary}"));
            }
        }
        match next_page(out.next_token(), &mut pages, "DescribeAlarmHistory (actions)")? {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    Ok(failures)
}

/// A literal text as a CloudWatch Logs filter pattern: one quoted term, so that a request id's
/// hyphens and an error's punctuation are not read as pattern syntax.
pub fn literal_pattern(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Telemetry for AwsTarget {
    /// Log events of the function's log group `/aws/lambda/<deployed name>` from `from` to `to`
    /// (inclusive, millisecond precision) containing `text`, oldest first.
    async fn log_events(
        &self,
        function: &str,
        from: OffsetDateTime,
        to: OffsetDateTime,
        text: Option<&str>,
    ) -> Result<Vec<LogRecord>, PortError> {
        let pattern = text.map(literal_pattern);
        let logs = self.logs.as_ref().ok_or_else(|| {
            PortError::Rejected("no CloudWatch Logs client (AwsTarget::with_logs was not called)".into())
        })?;
        let group = format!("/aws/lambda/{}", self.name_of(function)?);
        let action = format!("FilterLogEvents {group}");
        let start = i64::try_from(from.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| PortError::Rejected(format!("{action}: start {from} out of range")))?;
        let end = i64::try_from(to.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| PortError::Rejected(format!("{action}: end {to} out of range")))?;
        let mut lines = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            tracing::debug!(group, page = pages, "FilterLogEvents");
            let out = logs
                .filter_log_events()
                .log_group_name(&group)
                .start_time(start)
                .end_time(end)
                .set_filter_pattern(pattern.clone())
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| {
                    port_error(
                        &action,
                        e,
                        |se| {
                            se.is_invalid_parameter_exception()
                                || matches!(se.code(), Some("ThrottlingException" | "LimitExceededException"))
                        },
                        |se| se.is_resource_not_found_exception(),
                    )
                })?;
            for event in out.events() {
                lines.push(LogRecord {
                    at: from_millis(event.timestamp().unwrap_or_default())?,
                    log_group: group.clone(),
                    log_stream: event.log_stream_name().unwrap_or_default().to_owned(),
                    message: event.message().unwrap_or_default().to_owned(),
                });
            }
            match next_page(out.next_token(), &mut pages, &action)? {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        // Events come in order within a stream, interleaved across streams.
        lines.sort_by_key(|l| l.at);
        Ok(lines)
    }

    /// Each query's series from `from` to `to`, in the order of `queries`, oldest point first.
    /// A series with no data is empty.
    async fn metric_data(
        &self,
        queries: &[MetricQuery],
        from: OffsetDateTime,
        to: OffsetDateTime,
    ) -> Result<Vec<MetricSeries>, PortError> {
        if queries.is_empty() {
            return Ok(Vec::new());
        }
        if queries.len() > MAX_METRIC_QUERIES {
            return Err(PortError::Rejected(format!(
                "GetMetricData takes at most {MAX_METRIC_QUERIES} queries, not {}",
                queries.len()
            )));
        }
        let built: Vec<MetricDataQuery> = queries
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let metric = Metric::builder()
                    .namespace(&q.namespace)
                    .metric_name(&q.metric)
                    .set_dimensions(Some(
                        q.dimensions
                            .iter()
                            .map(|(n, v)| Dimension::builder().name(n).value(v).build())
                            .collect(),
                    ))
                    .build();
                MetricDataQuery::builder()
                    .id(format!("q{i}"))
                    .metric_stat(
                        MetricStat::builder()
                            .metric(metric)
                            .period(i32::try_from(q.period_s).unwrap_or(i32::MAX))
                            .stat(&q.stat)
                            .build(),
                    )
                    .return_data(true)
                    .build()
            })
            .collect();
        let mut points: Vec<Vec<MetricPoint>> = vec![Vec::new(); queries.len()];
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            tracing::debug!(queries = queries.len(), page = pages, "GetMetricData");
            let out = self
                .cloudwatch
                .get_metric_data()
                .set_metric_data_queries(Some(built.clone()))
                .start_time(to_aws(from))
                .end_time(to_aws(to))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloudwatch_error("GetMetricData", e))?;
            for result in out.metric_data_results() {
                let id = result.id().unwrap_or_default();
                let index = id
                    .strip_prefix('q')
                    .and_then(|n| n.parse::<usize>().ok())
                    .filter(|&n| n < queries.len())
                    .ok_or_else(|| {
                        PortError::Transport(format!("GetMetricData answered unknown query id {id:?}"))
                    })?;
                let q = &queries[index];
                match result.status_code() {
                    Some(StatusCode::InternalError) => {
                        return Err(PortError::Transport(format!(
                            "GetMetricData {}/{}: status InternalError",
                            q.namespace, q.metric
                        )))
                    }
                    Some(StatusCode::Forbidden) => {
                        return Err(PortError::Rejected(format!(
                            "GetMetricData {}/{}: status Forbidden",
                            q.namespace, q.metric
                        )))
                    }
                    _ => {}
                }
                if result.timestamps().len() != result.values().len() {
                    return Err(PortError::Transport(format!(
                        "GetMetricData {}/{}: {} timestamps for {} values",
                        q.namespace,
                        q.metric,
                        result.timestamps().len(),
                        result.values().len()
                    )));
                }
                for (t, v) in result.timestamps().iter().zip(result.values()) {
                    points[index].push(MetricPoint {
                        at: from_aws(t)?,
                        value: *v,
                    });
                }
            }
            match next_page(out.next_token(), &mut pages, "GetMetricData")? {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        Ok(queries
            .iter()
            .cloned()
            .zip(points)
            .map(|(query, mut points)| {
                points.sort_by_key(|p| p.at);
                MetricSeries { query, points }
            })
            .collect())
    }
}

impl AlarmBoard for AwsTarget {
    /// Every metric alarm named `<stage>-…`; the composite `<stage>-service-health` is not one.
    async fn states(&self) -> Result<BTreeMap<String, AlarmState>, PortError> {
        let stage = self.stage.as_deref().ok_or_else(|| {
            PortError::Rejected("no stage to list alarms of (AwsTarget::with_stage was not called)".into())
        })?;
        let composite = format!("{stage}-{COMPOSITE_SUFFIX}");
        let mut states = BTreeMap::new();
        for alarm in stage_metric_alarms(&self.cloudwatch, &format!("{stage}-")).await? {
            let Some(name) = alarm.alarm_name() else { continue };
            if name == composite {
                continue;
            }
            let value = alarm.state_value().map(|s| s.as_str()).unwrap_or_default();
            let state = AlarmState::parse(value).ok_or_else(|| {
                PortError::Transport(format!("DescribeAlarms {name}: unknown StateValue {value:?}"))
            })?;
            states.insert(name.to_owned(), state);
        }
        Ok(states)
    }

    /// The state changes of `alarm` since `since` (CloudWatch keeps 30 days), oldest first.
    async fn history(&self, alarm: &str, since: OffsetDateTime) -> Result<Vec<Transition>, PortError> {
        let action = format!("DescribeAlarmHistory {alarm}");
        let mut transitions = Vec::new();
        let mut token: Option<String> = None;
        let mut pages = 0;
        loop {
            tracing::debug!(alarm, page = pages, "DescribeAlarmHistory");
            let out = self
                .cloudwatch
                .describe_alarm_history()
                .alarm_name(alarm)
                .history_item_type(HistoryItemType::StateUpdate)
                .start_date(to_aws(since))
                .scan_by(ScanBy::TimestampAscending)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| cloudwatch_error(&action, e))?;
            for item in out.alarm_history_items() {
                // Only StateUpdate items were asked for; anything else has no newState.
                if item
                    .history_item_type()
                    .is_some_and(|t| *t != HistoryItemType::StateUpdate)
                {
                    continue;
                }
                transitions.push(parse_history_item(alarm, item.timestamp(), item.history_data())?);
            }
            match next_page(out.next_token(), &mut pages, &action)? {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        transitions.sort_by_key(|t| t.at);
        Ok(transitions)
    }
}

impl Concurrency for AwsTarget {
    async fn reserved_concurrency(&self, function: &str) -> Result<Option<u32>, PortError> {
        let name = self.name_of(function)?;
        let action = format!("GetFunctionConcurrency {name}");
        tracing::debug!(function = name, "GetFunctionConcurrency");
        let out = self
            .lambda
            .get_function_concurrency()
            .function_name(name)
            .send()
            .await
            .map_err(|e| {
                port_error(
                    &action,
                    e,
                    |se| se.is_too_many_requests_exception() || se.is_invalid_parameter_value_exception(),
                    |se| se.is_resource_not_found_exception(),
                )
            })?;
        out.reserved_concurrent_executions()
            .map(|n| {
                u32::try_from(n)
                    .map_err(|_| PortError::Transport(format!("{action}: negative reservation {n}")))
            })
            .transpose()
    }

    async fn set_reserved_concurrency(&self, function: &str, value: Option<u32>) -> Result<(), PortError> {
        let name = self.name_of(function)?;
        match value {
            Some(n) => {
                let action = format!("PutFunctionConcurrency {name} {n}");
                let n = i32::try_from(n)
                    .map_err(|_| PortError::Rejected(format!("{action}: over Lambda's limit")))?;
                tracing::debug!(function = name, n, "PutFunctionConcurrency");
                self.lambda
                    .put_function_concurrency()
                    .function_name(name)
                    .reserved_concurrent_executions(n)
                    .send()
                    .await
                    .map_err(|e| {
                        port_error(
                            &action,
                            e,
                            |se| {
                                se.is_too_many_requests_exception()
                                    || se.is_invalid_parameter_value_exception()
                                    || se.is_resource_conflict_exception()
                            },
                            |se| se.is_resource_not_found_exception(),
                        )
                    })?;
            }
            None => {
                let action = format!("DeleteFunctionConcurrency {name}");
                tracing::debug!(function = name, "DeleteFunctionConcurrency");
                self.lambda
                    .delete_function_concurrency()
                    .function_name(name)
                    .send()
                    .await
                    .map_err(|e| {
                        port_error(
                            &action,
                            e,
                            |se| {
                                se.is_too_many_requests_exception()
                                    || se.is_invalid_parameter_value_exception()
                                    || se.is_resource_conflict_exception()
                            },
                            |se| se.is_resource_not_found_exception(),
                        )
                    })?;
            }
        }
        Ok(())
    }
}
