//! The report's charts, built from an [`Incident`]: which series go on which chart, with which
//! colours, markers and alarm band.

use std::collections::BTreeMap;

use crate::model::{AlarmTrack, Incident, Series};
use crate::svg::{AlarmChart, Line, Marker, MetricChart, TimeFrame, PALETTE};

/// One rendered chart.
#[derive(Debug, Clone)]
pub struct RenderedChart {
    /// File name next to the report, e.g. `invocations.svg`.
    pub file_name: String,
    pub title: String,
    /// Standalone SVG document (with its XML namespace).
    pub standalone: String,
    /// The same chart for inlining in HTML.
    pub inline: String,
}

/// The shared window: the whole drill, with the fault and the fix as markers.
pub fn time_frame(incident: &Incident) -> TimeFrame {
    let mut markers = vec![Marker {
        kind: "fault",
        at: incident.detection.fault_injected_at,
        label: "fault injected".into(),
        colour: "#b91c1c",
    }];
    if let Some(at) = incident.detection.fix_applied_at {
        markers.push(Marker {
            kind: "fix",
            at,
            label: "fix applied".into(),
            colour: "#15803d",
        });
    }
    TimeFrame {
        start: incident.started_at,
        end: incident.finished_at,
        markers,
    }
}

/// The same function gets the same colour on every chart; a route takes its function's colour.
struct Colours {
    by_function: BTreeMap<String, &'static str>,
    route_to_function: BTreeMap<String, String>,
}

impl Colours {
    fn new(incident: &Incident) -> Self {
        let mut by_function = BTreeMap::new();
        let metrics = &incident.metrics;
        let functions = metrics
            .invocations
            .iter()
            .chain(&metrics.errors)
            .chain(&metrics.duration_p99_ms)
            .map(|s| s.name.clone())
            .chain(incident.blast_radius.iter().map(|r| r.function.clone()));
        for name in functions {
            let next = PALETTE[by_function.len() % PALETTE.len()];
            by_function.entry(name).or_insert(next);
        }
        let route_to_function = incident
            .blast_radius
            .iter()
            .map(|r| (r.route.clone(), r.function.clone()))
            .collect();
        Self {
            by_function,
            route_to_function,
        }
    }

    fn of(&self, name: &str) -> &'static str {
        let function = self.route_to_function.get(name).map_or(name, String::as_str);
        self.by_function
            .get(function)
            .copied()
            .unwrap_or(PALETTE[PALETTE.len() - 1])
    }

    fn lines<'a>(&self, series: &'a [Series]) -> Vec<Line<'a>> {
        series
            .iter()
            .map(|s| Line {
                series: s,
                colour: self.of(&s.name),
            })
            .collect()
    }
}

fn primary_alarm(incident: &Incident) -> Option<&AlarmTrack> {
    incident
        .alarms
        .iter()
        .find(|a| a.name == incident.fault.alarm)
        .or(incident.alarms.first())
}

/// Every chart the report shows, in reading order. Metric charts without any series are left
/// out; the alarm chart is there whenever an alarm was tracked.
pub fn render_charts(incident: &Incident) -> Vec<RenderedChart> {
    let frame = time_frame(incident);
    let colours = Colours::new(incident);
    let period = incident.metrics.period_s;
    let alarm = primary_alarm(incident);
    let metric = |file: &str, title: &str, source: &String, stat: &str, y_label: String, series| {
        let chart = MetricChart {
            title: title.to_string(),
            subtitle: format!("{source} \u{b7} {stat} per {period} s \u{b7} band: {}", {
                alarm.map_or("no alarm tracked".to_string(), |a| a.name.clone())
            }),
            y_label,
            period_s: period,
            lines: colours.lines(series),
            alarm,
        };
        RenderedChart {
            file_name: file.to_string(),
            title: title.to_string(),
            standalone: chart.render(&frame, true),
            inline: chart.render(&frame, false),
        }
    };

    let m = &incident.metrics;
    let mut charts = Vec::new();
    if !m.invocations.is_empty() {
        charts.push(metric(
            "invocations.svg",
            "Invocations per function",
            &m.sources.invocations,
            "Sum",
            format!("invocations / {period} s"),
            &m.invocations,
        ));
    }
    if !m.errors.is_empty() {
        charts.push(metric(
            "errors.svg",
            "Errors per function",
            &m.sources.errors,
            "Sum",
            format!("errors / {period} s"),
            &m.errors,
        ));
    }
    if !m.api_5xx.is_empty() {
        charts.push(metric(
            "api-5xx.svg",
            "API Gateway 5xx responses per route",
            &m.sources.api_5xx,
            "Sum",
            format!("5xx responses / {period} s"),
            &m.api_5xx,
        ));
    }
    if !m.duration_p99_ms.is_empty() {
        charts.push(metric(
            "duration-p99.svg",
            "Duration p99 per function",
            &m.sources.duration_p99_ms,
            "p99",
            "milliseconds".to_string(),
            &m.duration_p99_ms,
        ));
    }
    if !incident.alarms.is_empty() {
        let chart = AlarmChart {
            title: "Alarm state".to_string(),
            subtitle: format!(
                "CloudWatch alarm state over the drill \u{b7} stage {}",
                incident.stage
            ),
            alarms: incident.alarms.iter().collect(),
        };
        charts.push(RenderedChart {
            file_name: "alarm-state.svg".to_string(),
            title: chart.title.clone(),
            standalone: chart.render(&frame, true),
            inline: chart.render(&frame, false),
        });
    }
    charts
}
