//! SVG time-series charts in the style of a CloudWatch graph: UTC time on x, the statistic on
//! y, vertical markers for the fault and the fix, and the alarm's state as a coloured band.
//!
//! The output is plain SVG 1.1 with presentation attributes only (no CSS classes, no ids, no
//! scripts), so the same markup works as a standalone `.svg` file and inlined several times in
//! one HTML page.

use std::fmt::Write as _;

use time::{Duration, OffsetDateTime};

use crate::model::{AlarmState, AlarmTrack, Series};
use crate::text::{escape, hms, hms_millis};

const WIDTH: f64 = 900.0;
const PLOT_LEFT: f64 = 70.0;
const PLOT_RIGHT: f64 = WIDTH - 24.0;
const FONT: &str =
    "system-ui, -apple-system, &quot;Segoe UI&quot;, Roboto, &quot;DejaVu Sans&quot;, Arial, sans-serif";
const TEXT: &str = "#1f2937";
const MUTED: &str = "#6b7280";
const GRID: &str = "#e5e7eb";

/// Line colours for series; red and green are kept for alarm states.
pub const PALETTE: [&str; 8] = [
    "#2563eb", "#ea580c", "#7c3aed", "#0891b2", "#db2777", "#92400e", "#475569", "#ca8a04",
];

pub fn state_colour(state: AlarmState) -> &'static str {
    match state {
        AlarmState::Ok => "#16a34a",
        AlarmState::Alarm => "#dc2626",
        AlarmState::InsufficientData => "#9ca3af",
    }
}

/// A vertical line at an instant, e.g. "fault injected".
#[derive(Debug, Clone)]
pub struct Marker {
    pub kind: &'static str,
    pub at: OffsetDateTime,
    pub label: String,
    pub colour: &'static str,
}

/// The time window and the markers that every chart of one report shares.
#[derive(Debug, Clone)]
pub struct TimeFrame {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
    pub markers: Vec<Marker>,
}

impl TimeFrame {
    fn span_s(&self) -> f64 {
        (self.end - self.start).as_seconds_f64().max(1.0)
    }

    fn x(&self, t: OffsetDateTime) -> f64 {
        let s = (t - self.start).as_seconds_f64().clamp(0.0, self.span_s());
        PLOT_LEFT + s / self.span_s() * (PLOT_RIGHT - PLOT_LEFT)
    }

    fn contains(&self, t: OffsetDateTime) -> bool {
        t >= self.start && t <= self.end
    }

    /// Tick instants on whole multiples of a readable step, about six to eight of them.
    fn ticks(&self) -> Vec<OffsetDateTime> {
        const STEPS: [i64; 14] = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1800, 3600];
        let span = self.span_s();
        let step = STEPS
            .iter()
            .copied()
            .find(|s| span / *s as f64 <= 8.0)
            .unwrap_or(3600);
        let first = self.start.unix_timestamp().div_euclid(step) * step;
        let mut t = OffsetDateTime::from_unix_timestamp(first).unwrap_or(self.start);
        let mut out = Vec::new();
        while t <= self.end {
            if t >= self.start {
                out.push(t);
            }
            t += Duration::seconds(step);
        }
        out
    }
}

/// One series with its colour.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub series: &'a Series,
    pub colour: &'static str,
}

/// A metric chart.
#[derive(Debug, Clone)]
pub struct MetricChart<'a> {
    pub title: String,
    /// Where the numbers come from, e.g. "AWS/Lambda Invocations · Sum per 10 s".
    pub subtitle: String,
    /// Y-axis label with the unit, e.g. "invocations / 10 s".
    pub y_label: String,
    pub period_s: u32,
    pub lines: Vec<Line<'a>>,
    /// The alarm whose state is drawn as a band under the plot and shaded behind it.
    pub alarm: Option<&'a AlarmTrack>,
}

const METRIC_HEIGHT: f64 = 380.0;
const PLOT_TOP: f64 = 64.0;
const PLOT_BOTTOM: f64 = 268.0;
const BAND_TOP: f64 = 276.0;
const BAND_HEIGHT: f64 = 10.0;

fn open_svg(out: &mut String, height: f64, title: &str, standalone: bool) {
    let ns = if standalone {
        " xmlns=\"http://www.w3.org/2000/svg\""
    } else {
        ""
    };
    let _ = write!(
        out,
        "<svg{ns} width=\"{WIDTH}\" height=\"{height}\" viewBox=\"0 0 {WIDTH} {height}\" \
         font-family=\"{FONT}\" role=\"img\" aria-label=\"{t}\">\
         <title>{t}</title>\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height}\" fill=\"#ffffff\"/>",
        t = escape(title)
    );
}

fn heading(out: &mut String, title: &str, subtitle: &str) {
    let _ = write!(
        out,
        "<text x=\"16\" y=\"26\" font-size=\"17\" font-weight=\"600\" fill=\"{TEXT}\">{}</text>\
         <text x=\"16\" y=\"45\" font-size=\"12\" fill=\"{MUTED}\">{}</text>",
        escape(title),
        escape(subtitle)
    );
}

/// A readable y-axis: 0 to a round maximum in 1-2-5 steps, about four intervals.
fn y_scale(max_value: f64) -> (f64, f64) {
    let max_value = if max_value.is_finite() && max_value > 0.0 {
        max_value
    } else {
        1.0
    };
    let raw = max_value * 1.1 / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let step = if max_value >= 1.0 { step.max(1.0) } else { step };
    let top = (max_value * 1.1 / step).ceil() * step;
    (step, top)
}

fn number(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round() as i64)
    } else if v.abs() >= 10.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn x_axis(out: &mut String, frame: &TimeFrame, top: f64, bottom: f64, label_y: f64) {
    for t in frame.ticks() {
        let x = frame.x(t);
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\
             <line x1=\"{x:.1}\" y1=\"{bottom}\" x2=\"{x:.1}\" y2=\"{b5}\" stroke=\"{MUTED}\" stroke-width=\"1\"/>\
             <text x=\"{x:.1}\" y=\"{label_y}\" font-size=\"11\" fill=\"{MUTED}\" text-anchor=\"middle\" data-tick=\"x\">{}</text>",
            hms(t),
            b5 = bottom + 4.0,
        );
    }
    let _ = write!(
        out,
        "<text x=\"{PLOT_RIGHT}\" y=\"{}\" font-size=\"11\" fill=\"{MUTED}\" text-anchor=\"end\">time (UTC)</text>",
        label_y + 15.0
    );
}

fn markers(out: &mut String, frame: &TimeFrame, top: f64, bottom: f64, label_y: f64) {
    let mut previous_label_end = f64::MIN;
    let mut row = 0.0;
    for m in frame.markers.iter().filter(|m| frame.contains(m.at)) {
        let x = frame.x(m.at);
        let text = format!("{} {}", m.label, hms(m.at));
        // Labels are drawn to the right of their line; a second label that would overlap the
        // first drops one row.
        row = if x < previous_label_end { row + 14.0 } else { 0.0 };
        let estimated_width = text.chars().count() as f64 * 6.2;
        let (anchor, tx) = if x + estimated_width > PLOT_RIGHT {
            ("end", x - 4.0)
        } else {
            ("start", x + 4.0)
        };
        previous_label_end = x + estimated_width + 8.0;
        let _ = write!(
            out,
            "<g data-marker=\"{kind}\" data-at=\"{at}\">\
             <line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{bottom}\" stroke=\"{c}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\
             <text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"11\" font-weight=\"600\" fill=\"{c}\" text-anchor=\"{anchor}\" \
             stroke=\"#ffffff\" stroke-width=\"3\" paint-order=\"stroke\">{label}</text></g>",
            kind = m.kind,
            at = escape(&hms_millis(m.at)),
            c = m.colour,
            ty = label_y + row,
            label = escape(&text),
        );
    }
}

fn legend(out: &mut String, y: f64, items: &[(String, &'static str, bool)]) {
    let mut x = PLOT_LEFT;
    for (name, colour, is_band) in items {
        let swatch = if *is_band {
            format!(
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"14\" height=\"8\" fill=\"{colour}\"/>",
                y - 8.0
            )
        } else {
            format!(
                "<line x1=\"{x:.1}\" y1=\"{}\" x2=\"{:.1}\" y2=\"{}\" stroke=\"{colour}\" stroke-width=\"2.5\"/>",
                y - 4.0,
                x + 14.0,
                y - 4.0
            )
        };
        let _ = write!(
            out,
            "{swatch}<text x=\"{:.1}\" y=\"{y}\" font-size=\"12\" fill=\"{TEXT}\">{}</text>",
            x + 19.0,
            escape(name)
        );
        x += 19.0 + name.chars().count() as f64 * 6.6 + 20.0;
    }
}

fn state_band(
    out: &mut String,
    frame: &TimeFrame,
    alarm: &AlarmTrack,
    y: f64,
    height: f64,
    label_inside: bool,
) {
    for (from, to, state) in alarm.intervals(frame.start, frame.end) {
        let (x1, x2) = (frame.x(from), frame.x(to));
        let _ = write!(
            out,
            "<rect x=\"{x1:.1}\" y=\"{y}\" width=\"{w:.1}\" height=\"{height}\" fill=\"{c}\" \
             data-alarm-state=\"{s}\" data-from=\"{f}\" data-to=\"{t}\"><title>{name}: {s} {f}\u{2013}{t} UTC</title></rect>",
            w = (x2 - x1).max(0.5),
            c = state_colour(state),
            s = state.as_str(),
            f = hms(from),
            t = hms(to),
            name = escape(&alarm.name),
        );
        let label = state.as_str();
        if label_inside && x2 - x1 > label.len() as f64 * 7.0 + 8.0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" font-weight=\"600\" fill=\"#ffffff\">{label}</text>",
                x1 + 5.0,
                y + height / 2.0 + 4.0
            );
        }
    }
}

impl MetricChart<'_> {
    pub fn render(&self, frame: &TimeFrame, standalone: bool) -> String {
        let mut out = String::new();
        open_svg(&mut out, METRIC_HEIGHT, &self.title, standalone);
        heading(&mut out, &self.title, &self.subtitle);

        // ALARM periods shaded behind the data, as CloudWatch does on an alarm graph.
        if let Some(alarm) = self.alarm {
            for (from, to, state) in alarm.intervals(frame.start, frame.end) {
                if state == AlarmState::Alarm {
                    let (x1, x2) = (frame.x(from), frame.x(to));
                    let _ = write!(
                        out,
                        "<rect x=\"{x1:.1}\" y=\"{PLOT_TOP}\" width=\"{:.1}\" height=\"{}\" fill=\"#dc2626\" fill-opacity=\"0.08\"/>",
                        (x2 - x1).max(0.5),
                        PLOT_BOTTOM - PLOT_TOP
                    );
                }
            }
        }

        // Y axis: grid lines and labels.
        let max_value = self
            .lines
            .iter()
            .flat_map(|l| l.series.points.iter())
            .filter(|p| frame.contains(p.timestamp))
            .map(|p| p.value)
            .fold(0.0, f64::max);
        let (step, top) = y_scale(max_value);
        let y = |v: f64| PLOT_BOTTOM - v / top * (PLOT_BOTTOM - PLOT_TOP);
        let mut v = 0.0;
        while v <= top + step / 2.0 {
            let _ = write!(
                out,
                "<line x1=\"{PLOT_LEFT}\" y1=\"{yy:.1}\" x2=\"{PLOT_RIGHT}\" y2=\"{yy:.1}\" stroke=\"{GRID}\" stroke-width=\"1\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"{MUTED}\" text-anchor=\"end\" data-tick=\"y\">{}</text>",
                PLOT_LEFT - 8.0,
                y(v) + 4.0,
                number(v),
                yy = y(v),
            );
            v += step;
        }
        let mid = (PLOT_TOP + PLOT_BOTTOM) / 2.0;
        let _ = write!(
            out,
            "<text x=\"18\" y=\"{mid}\" font-size=\"11\" fill=\"{MUTED}\" text-anchor=\"middle\" transform=\"rotate(-90 18 {mid})\">{}</text>",
            escape(&self.y_label)
        );

        let axis_bottom = if self.alarm.is_some() {
            BAND_TOP + BAND_HEIGHT
        } else {
            PLOT_BOTTOM
        };
        x_axis(&mut out, frame, PLOT_TOP, PLOT_BOTTOM, axis_bottom + 16.0);
        let _ = write!(
            out,
            "<line x1=\"{PLOT_LEFT}\" y1=\"{PLOT_BOTTOM}\" x2=\"{PLOT_RIGHT}\" y2=\"{PLOT_BOTTOM}\" stroke=\"{MUTED}\" stroke-width=\"1\"/>"
        );
        if let Some(alarm) = self.alarm {
            state_band(&mut out, frame, alarm, BAND_TOP, BAND_HEIGHT, false);
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"10\" fill=\"{MUTED}\" text-anchor=\"end\">alarm</text>",
                PLOT_LEFT - 8.0,
                BAND_TOP + BAND_HEIGHT - 1.0
            );
        }

        markers(&mut out, frame, PLOT_TOP, axis_bottom, PLOT_TOP + 12.0);

        // The data: a line per series through the middle of each period, a dot per datapoint.
        let half_period = Duration::milliseconds(i64::from(self.period_s) * 500);
        let gap = Duration::milliseconds(i64::from(self.period_s) * 1500);
        for line in &self.lines {
            let points: Vec<_> = line
                .series
                .points
                .iter()
                .map(|p| (p.timestamp + half_period, p.value, p.timestamp))
                .filter(|(t, _, _)| frame.contains(*t))
                .collect();
            let _ = write!(out, "<g data-series=\"{}\">", escape(&line.series.name));
            // Missing datapoints break the line rather than being drawn as zero.
            let mut segment: Vec<String> = Vec::new();
            let mut last: Option<OffsetDateTime> = None;
            let flush = |out: &mut String, segment: &mut Vec<String>| {
                if segment.len() > 1 {
                    let _ = write!(
                        out,
                        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2.25\" stroke-linejoin=\"round\"/>",
                        segment.join(" "),
                        line.colour
                    );
                }
                segment.clear();
            };
            for (t, value, _) in &points {
                if last.is_some_and(|l| *t - l > gap) {
                    flush(&mut out, &mut segment);
                }
                segment.push(format!("{:.1},{:.1}", frame.x(*t), y(*value)));
                last = Some(*t);
            }
            flush(&mut out, &mut segment);
            for (t, value, period_start) in &points {
                let _ = write!(
                    out,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{c}\" stroke=\"#ffffff\" stroke-width=\"1\" data-value=\"{v}\">\
                     <title>{name} {ps}: {v}</title></circle>",
                    frame.x(*t),
                    y(*value),
                    c = line.colour,
                    v = number(*value),
                    ps = hms(*period_start),
                    name = escape(&line.series.name),
                );
            }
            out.push_str("</g>");
        }

        let mut items: Vec<(String, &'static str, bool)> = self
            .lines
            .iter()
            .map(|l| (l.series.name.clone(), l.colour, false))
            .collect();
        if let Some(alarm) = self.alarm {
            let mut states = vec![AlarmState::Ok, AlarmState::Alarm];
            let intervals = alarm.intervals(frame.start, frame.end);
            if intervals
                .iter()
                .any(|(_, _, s)| *s == AlarmState::InsufficientData)
            {
                states.push(AlarmState::InsufficientData);
            }
            for state in states {
                items.push((format!("alarm {}", state.as_str()), state_colour(state), true));
            }
        }
        legend(&mut out, METRIC_HEIGHT - 22.0, &items);
        if self.lines.iter().all(|l| l.series.points.is_empty()) {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{mid}\" font-size=\"13\" fill=\"{MUTED}\" text-anchor=\"middle\">no datapoints in this window</text>",
                (PLOT_LEFT + PLOT_RIGHT) / 2.0
            );
        }
        out.push_str("</svg>");
        out
    }
}

/// Alarm states over time, one swim lane per alarm.
#[derive(Debug, Clone)]
pub struct AlarmChart<'a> {
    pub title: String,
    pub subtitle: String,
    pub alarms: Vec<&'a AlarmTrack>,
}

const LANE: f64 = 40.0;
const LANE_BAND: f64 = 18.0;

impl AlarmChart<'_> {
    pub fn render(&self, frame: &TimeFrame, standalone: bool) -> String {
        let top = 82.0;
        let bottom = top + LANE * self.alarms.len().max(1) as f64;
        let height = bottom + 70.0;
        let mut out = String::new();
        open_svg(&mut out, height, &self.title, standalone);
        heading(&mut out, &self.title, &self.subtitle);
        x_axis(&mut out, frame, top, bottom, bottom + 16.0);
        for (i, alarm) in self.alarms.iter().enumerate() {
            let lane_top = top + LANE * i as f64;
            let _ = write!(
                out,
                "<g data-alarm=\"{name}\"><text x=\"{PLOT_LEFT}\" y=\"{:.1}\" font-size=\"12\" fill=\"{TEXT}\">{name}</text>",
                lane_top + 13.0,
                name = escape(&alarm.name)
            );
            state_band(&mut out, frame, alarm, lane_top + 18.0, LANE_BAND, true);
            out.push_str("</g>");
        }
        markers(&mut out, frame, top - 18.0, bottom, top - 6.0);
        let items = [
            ("OK".to_string(), state_colour(AlarmState::Ok), true),
            ("ALARM".to_string(), state_colour(AlarmState::Alarm), true),
            (
                "INSUFFICIENT_DATA".to_string(),
                state_colour(AlarmState::InsufficientData),
                true,
            ),
        ];
        legend(&mut out, height - 22.0, &items);
        out.push_str("</svg>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn y_scale_uses_round_steps_and_leaves_headroom() {
        assert_eq!(y_scale(0.0), (1.0, 2.0));
        assert_eq!(y_scale(9.0), (5.0, 10.0));
        assert_eq!(y_scale(37.0), (20.0, 60.0));
        let (step, top) = y_scale(0.35);
        assert!(step < 1.0 && top >= 0.35);
    }

    #[test]
    fn ticks_fall_on_round_seconds_within_the_frame() {
        let start = OffsetDateTime::from_unix_timestamp(1_764_000_003).unwrap();
        let frame = TimeFrame {
            start,
            end: start + Duration::seconds(75),
            markers: vec![],
        };
        let ticks = frame.ticks();
        assert!(ticks.len() >= 5 && ticks.len() <= 9, "{ticks:?}");
        assert!(ticks.iter().all(|t| t.unix_timestamp() % 10 == 0));
        assert!(ticks.iter().all(|t| frame.contains(*t)));
    }
}
