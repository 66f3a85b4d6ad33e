//! `report.md`: the same report for a pull request, a wiki or a terminal. Charts are linked as
//! the SVG files written next to it.

use std::fmt::Write as _;

use crate::charts::RenderedChart;
use crate::model::{Incident, Measure, SplitSource};
use crate::text::{
    code_fence, code_span, date_time, hms, hms_millis, markdown_cell, markdown_text, offset, seconds,
    without_controls,
};

fn verdict(m: Measure) -> &'static str {
    if m.met {
        "met"
    } else {
        "**missed**"
    }
}

fn measure_row(o: &mut String, name: &str, m: Measure) {
    let _ = writeln!(
        o,
        "| {name} | {} | \u{2264} {} | {} |",
        seconds(m.seconds),
        seconds(Some(m.target_s)),
        verdict(m)
    );
}

/// Prose sections: HTML-escaped so that text from the drill cannot smuggle markup into a
/// Markdown renderer that allows raw HTML.
fn prose(o: &mut String, title: &str, text: &str) {
    let _ = writeln!(o, "### {title}\n\n{}\n", markdown_text(text.trim()));
}

pub fn render(incident: &Incident, charts: &[RenderedChart]) -> String {
    let outcome = incident.outcome();
    let status = match (outcome.steps_passed, outcome.all_met) {
        (true, true) => "RESOLVED, all targets met",
        (true, false) => "RESOLVED, targets missed",
        (false, _) => "DRILL FAILED",
    };
    let mut o = String::new();
    let _ = writeln!(o, "# Incident report: {}\n", markdown_cell(&incident.title));
    let _ = writeln!(
        o,
        "**Status: {status}** \u{b7} stage {} \u{b7} drill {} \u{b7} {} \u{2192} {}\n",
        code_span(&incident.stage),
        code_span(&incident.drill_id),
        date_time(incident.started_at),
        hms(incident.finished_at),
    );
    let _ = writeln!(
        o,
        "Fault {} injected into {} ({}); {}.\n",
        code_span(&incident.fault.label()),
        code_span(&incident.fault.function),
        markdown_cell(&incident.fault.route),
        match incident.fault.alarm.as_str() {
            "" => "no alarm expected".to_owned(),
            alarm => format!("expected alarm {}", code_span(alarm)),
        },
    );
    o.push_str("| measure | value | target | |\n|---|---:|---:|---|\n");
    measure_row(&mut o, "MTTD (fault injected \u{2192} ALARM)", outcome.mttd);
    measure_row(&mut o, "MTTR (fix applied \u{2192} OK)", outcome.mttr);
    measure_row(&mut o, "Whole drill", outcome.drill);
    o.push('\n');

    if let Some(r) = &incident.release {
        let _ = writeln!(
            o,
            "## Release\n\n{}\n\n{}\n",
            markdown_cell(&r.headline()),
            r.clients_line()
        );
        let by = match r.counted_by {
            SplitSource::Target => "as `live` routed them",
            SplitSource::Clients => {
                "as the answers' `x-function-version` header named them; failed answers name none"
            }
        };
        let _ = writeln!(o, "Requests by version, {by}:\n");
        o.push_str("| version | requests | failed |\n|---|---:|---:|\n");
        for v in &r.versions {
            let _ = writeln!(
                o,
                "| {} | {} | {} |",
                code_span(&v.version),
                v.requests,
                v.failed.map_or("\u{2014}".into(), |f| f.to_string())
            );
        }
        o.push('\n');
    }

    o.push_str("## Drill steps\n\n| step | status | started | finished | detail |\n|---|---|---|---|---|\n");
    for s in &incident.steps {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            markdown_cell(&s.name),
            s.status.as_str(),
            s.started_at.map_or("\u{2014}".into(), hms),
            s.finished_at.map_or("\u{2014}".into(), hms),
            markdown_cell(&s.detail),
        );
    }

    o.push_str("\n## Timeline\n\n| time (UTC) | since start | event |\n|---|---:|---|\n");
    for e in incident.sorted_events() {
        let _ = writeln!(
            o,
            "| {} | {} | {} |",
            hms_millis(e.timestamp),
            offset(incident.started_at, e.timestamp),
            markdown_cell(&e.text),
        );
    }

    o.push_str("\n## Metrics and alarm state\n\n");
    for chart in charts {
        let _ = writeln!(o, "![{}]({})\n", markdown_cell(&chart.title), chart.file_name);
    }

    let d = &incident.diagnosis;
    o.push_str("## Diagnosis\n\n");
    let _ = writeln!(o, "- error type: {}", code_span(&d.error_type));
    let _ = writeln!(o, "- error message: {}", code_span(&d.error_message));
    let _ = writeln!(
        o,
        "- first failure: {}",
        d.first_failure_at.map_or("\u{2014}".into(), hms_millis)
    );
    let _ = writeln!(o, "- failed requests: {}", d.failed_requests);
    let ids: Vec<String> = d.failing_request_ids.iter().map(|id| code_span(id)).collect();
    let _ = writeln!(
        o,
        "- failing request ids: {}\n",
        if ids.is_empty() {
            "\u{2014}".into()
        } else {
            ids.join(", ")
        }
    );
    let excerpt: String = d
        .log_excerpt
        .iter()
        .map(|l| {
            let line = format!("{} {} {}", hms_millis(l.timestamp), l.log_group, l.message);
            without_controls(&line).replace('\n', " ") + "\n"
        })
        .collect();
    let fence = code_fence(&excerpt);
    let _ = writeln!(o, "Log excerpt:\n\n{fence}text\n{excerpt}{fence}\n");

    o.push_str("## Blast radius\n\n| route | function | requests | 5xx | state |\n|---|---|---:|---:|---|\n");
    for r in &incident.blast_radius {
        let _ = writeln!(
            o,
            "| {} | {} | {} | {} | {} |",
            code_span(&r.route),
            markdown_cell(&r.function),
            r.requests,
            r.errors_5xx,
            if r.degraded { "**degraded**" } else { "healthy" },
        );
    }

    let p = &incident.postmortem;
    o.push_str("\n## Postmortem\n\n");
    prose(&mut o, "Summary", &p.summary);
    prose(&mut o, "Impact", &p.impact);
    prose(&mut o, "Root cause", &p.root_cause);
    prose(&mut o, "Detection", &p.detection);
    prose(&mut o, "Resolution", &p.resolution);
    o.push_str("### Action items\n\n");
    for (i, item) in p.action_items.iter().enumerate() {
        let owner = if item.owner.is_empty() {
            String::new()
        } else {
            format!(" ({})", markdown_cell(&item.owner))
        };
        let _ = writeln!(o, "{}. {}{owner}", i + 1, markdown_cell(&item.text));
    }

    let c = &incident.alarm_path_comparison;
    let standard = c
        .standard_alarm_at
        .map(|t| seconds(Some((t - incident.detection.fault_injected_at).as_seconds_f64())))
        .unwrap_or_else(|| "did not fire before the fix".into());
    let _ = writeln!(
        o,
        "\n## Fast alarm vs the standard one-minute path\n\n\
         | path | alarm | period | detected after |\n|---|---|---:|---:|\n\
         | fast (OutageLab Faults) | {} | {} s | {} |\n\
         | standard (AWS/Lambda Errors) | {} | {} s | {} |\n\n{}",
        code_span(&c.fast_alarm),
        c.fast_period_s,
        seconds(outcome.mttd.seconds),
        code_span(&c.standard_alarm),
        c.standard_period_s,
        standard,
        markdown_text(c.note.trim()),
    );
    o
}
