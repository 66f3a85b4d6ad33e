//! The incident report of a drill: the metrics around the spike and the alarm histories read
//! through the ports (the lab's admin API or CloudWatch), the diagnosis, the blast radius, and
//! the postmortem drafted from them.

use incident_report::{
    AlarmPathComparison, AlarmState, AlarmTrack, AlarmTransition, Detection, FaultInjection, Incident,
    LogLine, MetricSources, Metrics, Point, Postmortem, RouteImpact, Series, Step, Targets, TimelineEvent,
};
use outage_config::{AlarmKind, Stage};
use time::{Duration, OffsetDateTime};

use super::diagnosis::{self, FunctionDiagnosis, Route};
use crate::error::PortError;
use crate::ports::{MetricQuery, MetricSeries, Observation, Telemetry};
use crate::verdict::Transition;

/// The period of every chart: the drill lasts about a minute, so one-minute AWS metrics would
/// be one or two points; the high-resolution `OutageLab` metrics are stored per second.
pub const CHART_PERIOD_S: u32 = 5;

/// The charts' time range: whole periods from one before the drill to the one holding its end,
/// so that every series (the lab's and the clients') sits on the same epoch-aligned grid.
pub fn chart_window(
    started_at: OffsetDateTime,
    finished_at: OffsetDateTime,
) -> (OffsetDateTime, OffsetDateTime) {
    let period = i64::from(CHART_PERIOD_S);
    let floor = |t: OffsetDateTime| {
        OffsetDateTime::from_unix_timestamp(t.unix_timestamp().div_euclid(period) * period).unwrap_or(t)
    };
    (floor(started_at) - Duration::seconds(period), floor(finished_at))
}

/// The `OutageLab` metric (the functions' own EMF metrics, high resolution on AWS and in the
/// lab alike) of one function.
fn outage_lab_query(stage: &Stage, key: &str, metric: &str, stat: &str) -> MetricQuery {
    MetricQuery {
        namespace: "OutageLab".into(),
        metric: metric.into(),
        dimensions: vec![("Service".to_owned(), stage.function_name(key))],
        stat: stat.into(),
        period_s: CHART_PERIOD_S,
    }
}

fn to_series(name: &str, series: &MetricSeries) -> Series {
    Series {
        name: name.to_owned(),
        points: series
            .points
            .iter()
            .map(|p| Point {
                timestamp: p.at,
                value: p.value,
            })
            .collect(),
    }
}

/// The charted metrics of every function over the drill, in one `GetMetricData`-like read.
pub async fn metrics(
    telemetry: &impl Telemetry,
    stage: &Stage,
    routes: &[Route],
    observations: &[Observation],
    window: (OffsetDateTime, OffsetDateTime),
) -> Result<Metrics, PortError> {
    let (start, end) = window;
    let keys: Vec<&String> = stage.functions.keys().collect();
    let queries: Vec<MetricQuery> = keys
        .iter()
        .flat_map(|key| {
            [
                outage_lab_query(stage, key, "Requests", "Sum"),
                outage_lab_query(stage, key, "Faults", "Sum"),
                outage_lab_query(stage, key, "Latency", "p99"),
            ]
        })
        .collect();
    let answers = telemetry
        .metric_data(&queries, start, end + Duration::seconds(1))
        .await?;
    let mut out = Metrics {
        period_s: CHART_PERIOD_S,
        invocations: Vec::new(),
        errors: Vec::new(),
        api_5xx: diagnosis::route_5xx_series(routes, observations, CHART_PERIOD_S, start, end),
        duration_p99_ms: Vec::new(),
        sources: MetricSources {
            invocations: format!(
                "OutageLab Requests per Service, Sum per {CHART_PERIOD_S} s (high resolution)"
            ),
            errors: format!("OutageLab Faults per Service, Sum per {CHART_PERIOD_S} s (high resolution)"),
            api_5xx: format!("5xx answers per route seen by the drill's clients, per {CHART_PERIOD_S} s"),
            duration_p99_ms: format!("OutageLab Latency per Service, p99 per {CHART_PERIOD_S} s"),
        },
    };
    for (key, three) in keys.iter().zip(answers.chunks(3)) {
        let [requests, faults, latency] = three else {
            return Err(PortError::Transport(format!(
                "metric data for {key}: {} series for 3 queries",
                three.len()
            )));
        };
        let mut invocations = to_series(key, requests);
        invocations.fill_missing_with_zero(CHART_PERIOD_S, start, end);
        let mut errors = to_series(key, faults);
        errors.fill_missing_with_zero(CHART_PERIOD_S, start, end);
        out.invocations.push(invocations);
        out.errors.push(errors);
        out.duration_p99_ms.push(to_series(key, latency));
    }
    if out.invocations.len() != keys.len() {
        return Err(PortError::Transport(format!(
            "metric data: {} series for {} queries",
            answers.len(),
            queries.len()
        )));
    }
    Ok(out)
}

/// The track of one alarm from its transitions, oldest first. With none, the alarm has been in
/// `current` all along; otherwise it started where its first transition left from.
pub fn track(name: &str, history: &[Transition], current: AlarmState) -> AlarmTrack {
    let mut history: Vec<&Transition> = history.iter().collect();
    history.sort_by_key(|t| t.at);
    let initial_state = match history.first() {
        None => current,
        Some(t) => t.from.unwrap_or(match t.state {
            AlarmState::Ok => AlarmState::Alarm,
            _ => AlarmState::Ok,
        }),
    };
    AlarmTrack {
        name: name.to_owned(),
        initial_state,
        transitions: history
            .iter()
            .map(|t| AlarmTransition {
                timestamp: t.at,
                state: t.state,
                reason: t.reason.clone(),
            })
            .collect(),
    }
}

/// When an alarm first went to ALARM at or after `from`.
pub fn first_alarm_at(track: &AlarmTrack, from: OffsetDateTime) -> Option<OffsetDateTime> {
    track
        .transitions
        .iter()
        .filter(|t| t.state == AlarmState::Alarm && t.timestamp >= from)
        .map(|t| t.timestamp)
        .min()
}

/// Everything the incident is made of.
pub struct Facts {
    pub stage: Stage,
    pub drill_id: String,
    pub function: String,
    pub mode: String,
    pub route: String,
    pub alarm: String,
    pub alarm_period_s: u32,
    pub started_at: OffsetDateTime,
    pub finished_at: OffsetDateTime,
    pub detection: Detection,
    pub steps: Vec<Step>,
    pub events: Vec<TimelineEvent>,
    pub metrics: Metrics,
    pub alarms: Vec<AlarmTrack>,
    /// The drilled function's diagnosis first, then the others that failed.
    pub diagnoses: Vec<FunctionDiagnosis>,
    pub log_excerpt: Vec<LogLine>,
    pub blast_radius: Vec<RouteImpact>,
}

pub fn build(facts: Facts) -> Incident {
    let Facts {
        stage,
        drill_id,
        function,
        mode,
        route,
        alarm,
        alarm_period_s,
        started_at,
        finished_at,
        detection,
        steps,
        events,
        metrics,
        alarms,
        diagnoses,
        log_excerpt,
        blast_radius,
    } = facts;
    let standard_alarm = stage.function_alarm_name(&function, AlarmKind::Errors);
    let standard_period_s = stage.alarms.errors.period_s;
    // The standard path counts only if it fired while the fault was live.
    let until = detection.fix_applied_at.unwrap_or(finished_at);
    let standard_alarm_at = alarms
        .iter()
        .find(|t| t.name == standard_alarm)
        .and_then(|t| first_alarm_at(t, detection.fault_injected_at))
        .filter(|t| *t <= until + Duration::seconds(1));
    let comparison = AlarmPathComparison::new(
        alarm.clone(),
        alarm_period_s,
        standard_alarm,
        standard_period_s,
        standard_alarm_at,
    );
    let main = diagnoses.iter().find(|d| d.function == function);
    let diagnosis = incident_report::Diagnosis {
        error_message: main.map(|d| d.error_message.clone()).unwrap_or_default(),
        error_type: main.map(|d| d.error_type.clone()).unwrap_or_default(),
        failing_request_ids: main.map(|d| d.failing_request_ids.clone()).unwrap_or_default(),
        failed_requests: main.map_or(0, |d| d.failed_requests),
        first_failure_at: main.map(|d| d.first_failure_at),
        log_excerpt,
    };
    let mut incident = Incident {
        title: format!(
            "{} failing with an injected {mode} while {} stays broken",
            stage.function_name(&function),
            diagnoses
                .iter()
                .filter(|d| d.function != function)
                .map(|d| stage.function_name(&d.function))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        stage: stage.stage.clone(),
        drill_id,
        started_at,
        finished_at,
        fault: FaultInjection {
            function: function.clone(),
            mode,
            route,
            alarm,
        },
        detection,
        targets: Targets::default(),
        steps,
        events,
        metrics,
        alarms,
        diagnosis,
        blast_radius,
        postmortem: Postmortem::default(),
        alarm_path_comparison: comparison,
        release: None,
    };
    if diagnoses.iter().all(|d| d.function == function) {
        incident.title = format!(
            "{} failing with an injected {}",
            stage.function_name(&function),
            incident.fault.mode
        );
    }
    let mut postmortem = incident.draft_postmortem();
    // The other failures are part of the root cause: the original scenario's broken function.
    for d in diagnoses.iter().filter(|d| d.function != function) {
        postmortem.root_cause.push_str(&format!(
            " Independently of the drill, {} failed {} times with {} (\"{}\"), first at {} UTC: its stage file sets a fault.",
            stage.function_name(&d.function),
            d.failed_requests,
            d.error_type,
            d.error_message,
            incident_report::hms_millis(d.first_failure_at)
        ));
    }
    incident.postmortem = postmortem;
    incident
}
