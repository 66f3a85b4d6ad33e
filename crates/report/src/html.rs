//! `report.html`: one self-contained page (inline CSS, inline SVG, no scripts, nothing fetched)
//! that can be attached to a ticket or opened from a CI artifact offline.
//!
//! Every piece of text that comes from the incident goes through [`escape`]: log lines are
//! data, never markup.

use std::fmt::Write as _;

use crate::charts::RenderedChart;
use crate::model::{Incident, Measure, SplitSource, StepStatus};
use crate::text::{date_time, escape, hms, hms_millis, offset, seconds};

pub(crate) const CSS: &str = r#"
:root{--text:#1f2937;--muted:#6b7280;--line:#e5e7eb;--ok:#16a34a;--bad:#dc2626;--warn:#d97706;--bg:#f8fafc}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
main{max-width:960px;margin:0 auto;padding:24px 20px 48px}
header{background:#fff;border:1px solid var(--line);border-radius:10px;padding:20px 24px;margin-bottom:20px}
h1{font-size:22px;margin:6px 0 4px}
h2{font-size:18px;margin:32px 0 10px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:15px;margin:18px 0 6px}
.meta{color:var(--muted);font-size:13px}
.badge{display:inline-block;padding:2px 10px;border-radius:999px;font-size:12px;font-weight:700;letter-spacing:.04em;color:#fff}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}.badge.warn{background:var(--warn)}.badge.muted{background:#9ca3af}
.cards{display:grid;grid-template-columns:repeat(4,1fr);gap:12px;margin-top:16px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:#fff}
.card .label{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.05em}
.card .value{font-size:26px;font-weight:700;font-variant-numeric:tabular-nums}
.card .target{font-size:12px}
.met{color:var(--ok)}.missed{color:var(--bad)}
table{width:100%;border-collapse:collapse;background:#fff;font-size:14px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;background:#f3f4f6}
td.num{text-align:right;font-variant-numeric:tabular-nums}
td.time{white-space:nowrap;font-variant-numeric:tabular-nums}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px;background:#9ca3af}
.dot.fault{background:#b91c1c}.dot.alarm{background:var(--bad)}.dot.fix{background:#15803d}.dot.recovery{background:var(--ok)}
figure{margin:14px 0;background:#fff;border:1px solid var(--line);border-radius:8px;padding:6px;overflow-x:auto}
figure svg{display:block;max-width:100%;height:auto}
pre{background:#0f172a;color:#e2e8f0;padding:12px 14px;border-radius:8px;overflow-x:auto;font:12.5px/1.5 "DejaVu Sans Mono",Menlo,Consolas,monospace;white-space:pre-wrap;overflow-wrap:anywhere}
code{font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dt{color:var(--muted)}dd{margin:0}
.note{background:#fff;border-left:4px solid #2563eb;padding:10px 14px}
footer{margin-top:40px;color:var(--muted);font-size:12px}
@media print{body{background:#fff}figure,header,.card{break-inside:avoid}}
"#;

fn measure_card(out: &mut String, id: &str, label: &str, m: Measure) {
    let (class, verdict) = if m.met {
        ("met", "met")
    } else {
        ("missed", "missed")
    };
    let _ = write!(
        out,
        "<div class=\"card\" id=\"{id}\" data-met=\"{}\"><div class=\"label\">{}</div>\
         <div class=\"value\">{}</div><div class=\"target {class}\">target \u{2264} {} \u{b7} {verdict}</div></div>",
        m.met,
        escape(label),
        escape(&seconds(m.seconds)),
        escape(&seconds(Some(m.target_s))),
    );
}

fn status_class(status: StepStatus) -> &'static str {
    match status {
        StepStatus::Passed => "ok",
        StepStatus::Failed => "bad",
        StepStatus::Running => "warn",
        StepStatus::Pending => "muted",
    }
}

fn paragraph(out: &mut String, text: &str) {
    for para in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let _ = write!(out, "<p>{}</p>", escape(para.trim()));
    }
}

pub fn render(incident: &Incident, charts: &[RenderedChart]) -> String {
    let outcome = incident.outcome();
    let (badge_class, badge) = match (outcome.steps_passed, outcome.all_met) {
        (true, true) => ("ok", "RESOLVED \u{b7} ALL TARGETS MET"),
        (true, false) => ("warn", "RESOLVED \u{b7} TARGETS MISSED"),
        (false, _) => ("bad", "DRILL FAILED"),
    };
    let mut o = String::with_capacity(64 * 1024);
    let _ = write!(
        o,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <title>Incident report {id} \u{b7} {stage}</title><style>{CSS}</style></head><body><main>",
        id = escape(&incident.drill_id),
        stage = escape(&incident.stage),
    );

    // Summary header.
    let _ = write!(
        o,
        "<header><span class=\"badge {badge_class}\" id=\"status\" data-all-met=\"{}\">{badge}</span>\
         <h1>{}</h1><div class=\"meta\">stage <b>{}</b> \u{b7} drill <code>{}</code> \u{b7} {} \u{2192} {} \
         \u{b7} fault <code>{}</code> in <b>{}</b> ({})</div><div class=\"cards\">",
        outcome.all_met,
        escape(&incident.title),
        escape(&incident.stage),
        escape(&incident.drill_id),
        escape(&date_time(incident.started_at)),
        escape(&hms(incident.finished_at)),
        escape(&incident.fault.label()),
        escape(&incident.fault.function),
        escape(&incident.fault.route),
    );
    measure_card(&mut o, "mttd", "MTTD (fault \u{2192} ALARM)", outcome.mttd);
    measure_card(&mut o, "mttr", "MTTR (fix \u{2192} OK)", outcome.mttr);
    measure_card(&mut o, "drill-duration", "Whole drill", outcome.drill);
    let _ = write!(
        o,
        "<div class=\"card\"><div class=\"label\">Failed requests</div><div class=\"value\">{}</div>\
         <div class=\"target\">first at {}</div></div></div></header>",
        incident.diagnosis.failed_requests,
        escape(
            &incident
                .diagnosis
                .first_failure_at
                .map_or("\u{2014}".into(), hms_millis)
        ),
    );

    if let Some(r) = &incident.release {
        let by = match r.counted_by {
            SplitSource::Target => "as <code>live</code> routed them",
            SplitSource::Clients => {
                "as the answers' <code>x-function-version</code> header named them; failed answers name none"
            }
        };
        let _ = write!(
            o,
            "<h2>Release</h2><section id=\"release\" data-ended=\"{}\" data-expected=\"{}\"><p>{}</p><p>{}</p>\
             <p>Requests by version, {by}:</p><table id=\"release-split\"><thead><tr><th>version</th><th>requests</th><th>failed</th></tr></thead><tbody>",
            escape(r.ended.as_deref().unwrap_or("")),
            escape(&r.expected),
            escape(&r.headline()),
            escape(&r.clients_line()),
        );
        for v in &r.versions {
            let _ = write!(
                o,
                "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                escape(&v.version),
                v.requests,
                v.failed.map_or("\u{2014}".into(), |f| f.to_string())
            );
        }
        o.push_str("</tbody></table></section>");
    }

    // Steps.
    o.push_str("<h2>Drill steps</h2><table id=\"steps\"><thead><tr><th>step</th><th>status</th><th>started</th><th>finished</th><th>took</th><th>detail</th></tr></thead><tbody>");
    for step in &incident.steps {
        let took = match (step.started_at, step.finished_at) {
            (Some(a), Some(b)) => seconds(Some((b - a).as_seconds_f64())),
            _ => "\u{2014}".into(),
        };
        let _ = write!(
            o,
            "<tr data-step=\"{name}\" data-status=\"{s}\"><td><b>{name}</b></td><td><span class=\"badge {c}\">{s}</span></td>\
             <td class=\"time\">{}</td><td class=\"time\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            escape(&step.started_at.map_or("\u{2014}".into(), hms)),
            escape(&step.finished_at.map_or("\u{2014}".into(), hms)),
            escape(&took),
            escape(&step.detail),
            name = escape(&step.name),
            s = step.status.as_str(),
            c = status_class(step.status),
        );
    }
    o.push_str("</tbody></table>");

    // Timeline.
    o.push_str("<h2>Timeline</h2><table id=\"timeline\"><thead><tr><th>time (UTC)</th><th>since start</th><th>event</th></tr></thead><tbody>");
    for event in incident.sorted_events() {
        let _ = write!(
            o,
            "<tr data-kind=\"{k}\"><td class=\"time\">{}</td><td class=\"num\">{}</td><td><span class=\"dot {k}\"></span>{}</td></tr>",
            escape(&hms_millis(event.timestamp)),
            escape(&offset(incident.started_at, event.timestamp)),
            escape(&event.text),
            k = event.kind.as_str(),
        );
    }
    o.push_str("</tbody></table>");

    // Charts.
    o.push_str("<h2>Metrics and alarm state</h2>");
    for chart in charts {
        let _ = write!(
            o,
            "<figure data-chart=\"{}\">{}</figure>",
            escape(&chart.file_name),
            chart.inline
        );
    }

    // Diagnosis.
    let d = &incident.diagnosis;
    o.push_str("<h2>Diagnosis</h2><dl id=\"diagnosis\">");
    let ids = if d.failing_request_ids.is_empty() {
        "\u{2014}".to_string()
    } else {
        d.failing_request_ids.join(", ")
    };
    for (term, value) in [
        ("error type", d.error_type.clone()),
        ("error message", d.error_message.clone()),
        (
            "first failure",
            d.first_failure_at.map_or("\u{2014}".into(), hms_millis),
        ),
        ("failed requests", d.failed_requests.to_string()),
        ("failing request ids", ids),
    ] {
        let _ = write!(
            o,
            "<dt>{}</dt><dd><code>{}</code></dd>",
            escape(term),
            escape(&value)
        );
    }
    o.push_str("</dl><h3>Log excerpt</h3><pre id=\"log-excerpt\">");
    for line in &d.log_excerpt {
        let _ = writeln!(
            o,
            "{} {} {}",
            escape(&hms_millis(line.timestamp)),
            escape(&line.log_group),
            escape(&line.message)
        );
    }
    o.push_str("</pre>");

    // Blast radius.
    o.push_str("<h2>Blast radius</h2><table id=\"blast-radius\"><thead><tr><th>route</th><th>function</th><th>requests</th><th>5xx</th><th>state</th></tr></thead><tbody>");
    for r in &incident.blast_radius {
        let (c, s) = if r.degraded {
            ("bad", "degraded")
        } else {
            ("ok", "healthy")
        };
        let _ = write!(
            o,
            "<tr data-route=\"{route}\" data-degraded=\"{}\"><td><code>{route}</code></td><td>{}</td><td class=\"num\">{}</td>\
             <td class=\"num\">{}</td><td><span class=\"badge {c}\">{s}</span></td></tr>",
            r.degraded,
            escape(&r.function),
            r.requests,
            r.errors_5xx,
            route = escape(&r.route),
        );
    }
    o.push_str("</tbody></table>");

    // Postmortem.
    let p = &incident.postmortem;
    o.push_str("<h2>Postmortem</h2><section id=\"postmortem\">");
    for (title, text) in [
        ("Summary", &p.summary),
        ("Impact", &p.impact),
        ("Root cause", &p.root_cause),
        ("Detection", &p.detection),
        ("Resolution", &p.resolution),
    ] {
        let _ = write!(o, "<h3>{title}</h3>");
        paragraph(&mut o, text);
    }
    o.push_str("<h3>Action items</h3><ol>");
    for item in &p.action_items {
        let owner = if item.owner.is_empty() {
            String::new()
        } else {
            format!(" <span class=\"meta\">({})</span>", escape(&item.owner))
        };
        let _ = write!(o, "<li>{}{owner}</li>", escape(&item.text));
    }
    o.push_str("</ol></section>");

    // Fast alarm against the standard one-minute path.
    let c = &incident.alarm_path_comparison;
    let standard_detected = c
        .standard_alarm_at
        .map(|t| seconds(Some((t - incident.detection.fault_injected_at).as_seconds_f64())))
        .unwrap_or_else(|| "did not fire before the fix".into());
    let _ = write!(
        o,
        "<h2>Fast alarm vs the standard one-minute path</h2><table id=\"alarm-paths\"><thead><tr><th>path</th><th>alarm</th>\
         <th>period</th><th>detected after</th></tr></thead><tbody>\
         <tr><td>fast (OutageLab Faults, high resolution)</td><td><code>{}</code></td><td class=\"num\">{} s</td><td class=\"num\">{}</td></tr>\
         <tr><td>standard (AWS/Lambda Errors)</td><td><code>{}</code></td><td class=\"num\">{} s</td><td class=\"num\">{}</td></tr>\
         </tbody></table><p class=\"note\">{}</p>",
        escape(&c.fast_alarm),
        c.fast_period_s,
        escape(&seconds(outcome.mttd.seconds)),
        escape(&c.standard_alarm),
        c.standard_period_s,
        escape(&standard_detected),
        escape(&c.note),
    );

    o.push_str(
        "<footer>Generated by incident-report from <a href=\"incident.json\">incident.json</a>. \
         Charts are also saved as standalone SVG files next to this page.</footer></main></body></html>\n",
    );
    o
}
