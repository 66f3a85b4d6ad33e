//! Renders realistic incidents into a temporary folder and checks what a reader would get.

use std::fs;

use incident_report::{read_incident, sample, write_report, AlarmState, Incident, ReportError, StepStatus};
use time::macros::datetime;
use time::OffsetDateTime;

const START: OffsetDateTime = datetime!(2026-11-25 14:02:05 UTC);

fn render(incident: &Incident) -> (tempfile::TempDir, incident_report::ReportFiles) {
    let dir = tempfile::tempdir().unwrap();
    let files = write_report(incident, dir.path().join("report")).unwrap();
    (dir, files)
}

fn read(path: &std::path::Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn is_hms(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 8 && b[2] == b':' && b[5] == b':' && [0, 1, 3, 4, 6, 7].iter().all(|i| b[*i].is_ascii_digit())
}

#[test]
fn writes_every_file_and_links_the_charts_from_markdown() {
    let (_dir, files) = render(&sample::incident(START));
    let names: Vec<String> = files
        .charts
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names,
        ["invocations.svg", "errors.svg", "api-5xx.svg", "alarm-state.svg"]
    );
    let md = read(&files.markdown);
    for name in &names {
        assert!(
            md.contains(&format!("]({name})")),
            "report.md does not link {name}"
        );
        assert!(files.dir.join(name).is_file());
    }
    assert!(files.html.is_file() && files.json.is_file());
}

#[test]
fn metric_chart_is_well_formed_svg_with_points_markers_and_alarm_band() {
    let incident = sample::incident(START);
    let (_dir, files) = render(&incident);
    let text = read(&files.dir.join("invocations.svg"));
    let doc = roxmltree::Document::parse(&text).expect("invocations.svg is well-formed XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "svg");
    assert_eq!(root.tag_name().namespace(), Some("http://www.w3.org/2000/svg"));

    // One dot per datapoint, per series.
    for series in &incident.metrics.invocations {
        let group = doc
            .descendants()
            .find(|n| n.attribute("data-series") == Some(series.name.as_str()))
            .unwrap_or_else(|| panic!("no group for series {}", series.name));
        let dots = group.descendants().filter(|n| n.has_tag_name("circle")).count();
        assert_eq!(dots, series.points.len(), "dots of {}", series.name);
        assert!(group.descendants().any(|n| n.has_tag_name("polyline")));
    }
    let payment_values: Vec<&str> = doc
        .descendants()
        .find(|n| n.attribute("data-series") == Some("payment"))
        .unwrap()
        .descendants()
        .filter_map(|n| n.attribute("data-value"))
        .collect();
    assert!(payment_values.contains(&"10"), "{payment_values:?}");

    // The fault and the fix as vertical markers at their instants.
    let marker = |kind: &str| {
        doc.descendants()
            .find(|n| n.attribute("data-marker") == Some(kind))
            .unwrap_or_else(|| panic!("no {kind} marker"))
    };
    assert_eq!(marker("fault").attribute("data-at"), Some("14:02:20.200"));
    assert_eq!(marker("fix").attribute("data-at"), Some("14:02:36.200"));
    let fault_x = marker("fault")
        .first_element_child()
        .unwrap()
        .attribute("x1")
        .unwrap();
    let fix_x = marker("fix")
        .first_element_child()
        .unwrap()
        .attribute("x1")
        .unwrap();
    assert!(fault_x.parse::<f64>().unwrap() < fix_x.parse::<f64>().unwrap());

    // The alarm band: OK, then ALARM, then OK again.
    let band: Vec<&str> = doc
        .descendants()
        .filter_map(|n| n.attribute("data-alarm-state"))
        .collect();
    assert_eq!(band, ["OK", "ALARM", "OK"]);

    // Readable axes: UTC HH:MM:SS on x, at least three numbers on y, a title and a unit.
    let x_ticks: Vec<&str> = doc
        .descendants()
        .filter(|n| n.attribute("data-tick") == Some("x"))
        .filter_map(|n| n.text())
        .collect();
    assert!(
        x_ticks.len() >= 4 && x_ticks.iter().all(|t| is_hms(t)),
        "{x_ticks:?}"
    );
    let y_ticks = doc
        .descendants()
        .filter(|n| n.attribute("data-tick") == Some("y"))
        .count();
    assert!(y_ticks >= 3);
    let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
    assert!(texts.contains(&"Invocations per function"));
    assert!(texts.contains(&"invocations / 5 s"));
    assert!(texts.contains(&"time (UTC)"));
}

#[test]
fn alarm_chart_has_a_lane_per_alarm_with_its_states() {
    let incident = sample::incident(START);
    let (_dir, files) = render(&incident);
    let text = read(&files.dir.join("alarm-state.svg"));
    let doc = roxmltree::Document::parse(&text).expect("alarm-state.svg is well-formed XML");
    for alarm in &incident.alarms {
        assert!(
            doc.descendants()
                .any(|n| n.attribute("data-alarm") == Some(alarm.name.as_str())),
            "no lane for {}",
            alarm.name
        );
    }
    let lane = doc
        .descendants()
        .find(|n| n.attribute("data-alarm") == Some("dev-api-5xx"))
        .unwrap();
    let states: Vec<&str> = lane
        .descendants()
        .filter_map(|n| n.attribute("data-alarm-state"))
        .collect();
    assert_eq!(states, ["INSUFFICIENT_DATA", "OK"]);
}

#[test]
fn html_is_self_contained() {
    let (_dir, files) = render(&sample::incident(START));
    let html = read(&files.html);
    for needle in [
        "http://", "https://", "<script", "<link", "<img", "@import", "url(", "<iframe",
    ] {
        assert!(!html.contains(needle), "report.html contains {needle:?}");
    }
    // The only link is to the JSON next to it.
    let hrefs: Vec<&str> = html
        .split("href=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    assert_eq!(hrefs, ["incident.json"]);
    // Every inline chart is well-formed on its own.
    let mut charts = 0;
    for piece in html.split("<svg").skip(1) {
        let svg = format!("<svg{}</svg>", &piece[..piece.find("</svg>").unwrap()]);
        roxmltree::Document::parse(&svg).expect("inline chart is well-formed");
        charts += 1;
    }
    assert_eq!(charts, 4);
}

#[test]
fn html_shows_the_summary_timeline_and_postmortem() {
    let incident = sample::incident(START);
    let (_dir, files) = render(&incident);
    let html = read(&files.html);
    assert!(html.contains("RESOLVED \u{b7} ALL TARGETS MET"));
    assert!(html.contains("id=\"mttd\" data-met=\"true\""));
    assert!(html.contains("<div class=\"value\">12.2 s</div>"));
    assert!(html.contains("<div class=\"value\">18.6 s</div>"));
    assert!(html.contains("<td class=\"time\">14:02:32.400</td>"));
    for section in [
        "Summary",
        "Impact",
        "Root cause",
        "Detection",
        "Resolution",
        "Action items",
    ] {
        assert!(
            html.contains(&format!("<h3>{section}</h3>")),
            "no {section} section"
        );
    }
    assert!(html.contains("data-route=\"GET /auth\" data-degraded=\"false\""));
    assert!(html.contains("data-route=\"GET /pay-fixed\" data-degraded=\"true\""));
}

#[test]
fn markdown_has_the_measures_and_the_timeline() {
    let incident = sample::incident(START);
    let (_dir, files) = render(&incident);
    let md = read(&files.markdown);
    assert!(
        md.contains("| MTTD (fault injected \u{2192} ALARM) | 12.2 s | \u{2264} 20.0 s | met |"),
        "{md}"
    );
    assert!(md.contains("| MTTR (fix applied \u{2192} OK) | 18.6 s | \u{2264} 30.0 s | met |"));
    assert!(md.contains("| Whole drill | 58.6 s | \u{2264} 90.0 s | met |"));
    for event in incident.sorted_events() {
        let row = format!("| {} |", incident_report_hms_millis(event.timestamp));
        assert!(md.contains(&row), "timeline row {row} missing");
    }
    assert!(md.contains("```text\n"));
    assert!(md.contains("Simulated payment service failure"));
    assert!(md.contains("| `GET /pay-fixed` | payment-fixed | 80 | 80 | **degraded** |"));
}

fn incident_report_hms_millis(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

#[test]
fn text_from_logs_is_escaped_everywhere() {
    let mut incident = sample::incident(START);
    let hostile = "<script>alert('pwned')</script> & \u{1b}[31m | ```";
    incident.title = format!("title {hostile}");
    incident.diagnosis.error_message = hostile.into();
    incident.diagnosis.log_excerpt[0].message = hostile.into();
    incident.events[0].text = hostile.into();
    incident.alarms[0].name = "dev-<b>-alarm".into();
    incident.fault.alarm = "dev-<b>-alarm".into();
    incident.metrics.invocations[0].name = "auth\"><script>x</script>".into();
    let (_dir, files) = render(&incident);

    let html = read(&files.html);
    assert!(!html.contains("<script"), "raw <script> in report.html");
    assert!(!html.contains("<b>-alarm"));
    assert!(html.contains("&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;"));
    for chart in &files.charts {
        let svg = read(chart);
        roxmltree::Document::parse(&svg)
            .unwrap_or_else(|e| panic!("{} is not well-formed: {e}", chart.display()));
        assert!(!svg.contains("<script"));
    }
    let md = read(&files.markdown);
    // In tables and prose the text is entity-escaped; in the fenced log excerpt it is literal
    // but cannot close the fence.
    let start = md
        .find("````text\n")
        .expect("a fence longer than the log's backticks");
    let end = start + md[start..].find("\n````\n").expect("the fence is closed");
    let outside_fence = format!("{}{}", &md[..start], &md[end..]);
    let code_spans_removed: String = outside_fence.split("````").step_by(2).collect();
    assert!(!code_spans_removed.contains("<script"), "{md}");
    assert!(!md.contains('\u{1b}'), "terminal escape left in report.md");
}

#[test]
fn incident_json_reads_back_and_carries_the_outcome() {
    let incident = sample::incident(START);
    let (_dir, files) = render(&incident);
    let value: serde_json::Value = serde_json::from_str(&read(&files.json)).unwrap();
    assert_eq!(value["schema"], "outage-lab.incident/1");
    assert_eq!(value["outcome"]["mttd"]["seconds"], 12.2);
    assert_eq!(value["outcome"]["all_met"], true);
    assert_eq!(value["detection"]["alarm_at"], "2026-11-25T14:02:32.4Z");
    assert_eq!(read_incident(&files.json).unwrap(), incident);
}

#[test]
fn a_drill_whose_alarm_never_fired_is_reported_as_failed() {
    let mut incident = sample::incident(START);
    incident.detection.alarm_at = None;
    incident.alarms[0].transitions.clear();
    incident.steps[2].status = StepStatus::Failed;
    let outcome = incident.outcome();
    assert_eq!(outcome.mttd.seconds, None);
    assert!(!outcome.mttd.met && !outcome.all_met);
    let (_dir, files) = render(&incident);
    let html = read(&files.html);
    assert!(html.contains("DRILL FAILED"));
    assert!(html.contains("id=\"mttd\" data-met=\"false\""));
    assert!(html.contains("data-step=\"detect\" data-status=\"failed\""));
    assert!(read(&files.markdown).contains("| \u{2014} | \u{2264} 20.0 s | **missed** |"));
    let svg = read(&files.dir.join("invocations.svg"));
    assert!(!svg.contains(&format!("data-alarm-state=\"{}\"", AlarmState::Alarm.as_str())));
}

#[test]
fn slow_detection_misses_the_target() {
    let mut incident = sample::incident(START);
    incident.detection.alarm_at = Some(incident.detection.fault_injected_at + time::Duration::seconds(25));
    let outcome = incident.outcome();
    assert_eq!(outcome.mttd.seconds, Some(25.0));
    assert!(!outcome.mttd.met && outcome.mttr.met && !outcome.all_met);
    let (_dir, files) = render(&incident);
    assert!(read(&files.html).contains("RESOLVED \u{b7} TARGETS MISSED"));
}

#[test]
fn inconsistent_incidents_are_refused_with_the_field_named() {
    let mut incident = sample::incident(START);
    incident.finished_at = incident.started_at - time::Duration::seconds(1);
    let dir = tempfile::tempdir().unwrap();
    let err = write_report(&incident, dir.path()).unwrap_err();
    assert!(matches!(err, ReportError::Invalid(_)));
    assert!(err.to_string().contains("finished_at"), "{err}");

    let mut incident = sample::incident(START);
    incident.detection.recovered_at = Some(incident.started_at);
    let err = write_report(&incident, dir.path()).unwrap_err();
    assert!(err.to_string().contains("detection.recovered_at"), "{err}");
}

#[test]
fn unreadable_incident_json_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("incident.json");
    fs::write(&path, "{\"stage\": 1}").unwrap();
    let err = read_incident(&path).unwrap_err();
    assert!(
        err.to_string().contains("incident.json is not a valid incident"),
        "{err}"
    );
}

#[test]
fn drafted_postmortem_agrees_with_the_measurements() {
    let incident = sample::incident(START);
    let p = incident.draft_postmortem();
    assert!(p.summary.contains("GET /pay-fixed"), "{}", p.summary);
    assert!(
        p.summary.contains("(80 of 80 requests answered 5xx)"),
        "{}",
        p.summary
    );
    assert!(
        p.summary.contains("went to ALARM 12.2 s after the fault"),
        "{}",
        p.summary
    );
    assert!(
        p.summary.contains("returned to OK 18.6 s after the fix"),
        "{}",
        p.summary
    );
    assert!(
        p.impact
            .contains("Healthy: GET /auth (80 requests, 0 5xx) and GET /product"),
        "{}",
        p.impact
    );
    assert!(p
        .root_cause
        .contains("FAULT_MODE=exception in the environment of dev-payment-fixed"));
    assert!(
        p.root_cause.contains("first at 14:02:20.342 UTC"),
        "{}",
        p.root_cause
    );
    assert!(
        p.detection.contains("target \u{2264} 20.0 s: met"),
        "{}",
        p.detection
    );
    assert!(p.detection.contains("dev-payment-fixed-errors had not fired"));
    // /pay fails without the injected fault: that earns its own action item.
    assert!(p
        .action_items
        .iter()
        .any(|a| a.text.starts_with("GET /pay also degraded (32 5xx)")));
    assert!(!p
        .action_items
        .iter()
        .any(|a| a.text.contains("detection took longer")));

    let mut slow = incident.clone();
    slow.detection.alarm_at = None;
    let p = slow.draft_postmortem();
    assert!(p.summary.contains("never went to ALARM"), "{}", p.summary);
    assert!(p
        .action_items
        .iter()
        .any(|a| a.text.contains("detection took longer than 20.0 s")));
}

#[test]
fn chart_subtitles_name_the_metric_source() {
    let mut incident = sample::incident(START);
    incident.metrics.sources.invocations = "OutageLab Requests (high resolution)".into();
    let (_dir, files) = render(&incident);
    let svg = read(&files.dir.join("invocations.svg"));
    assert!(
        svg.contains(">OutageLab Requests (high resolution) \u{b7} Sum per 5 s"),
        "{svg}"
    );
    assert!(read(&files.dir.join("errors.svg")).contains(">AWS/Lambda Errors \u{b7} Sum per 5 s"));
}

#[test]
fn a_release_shows_its_outcome_and_the_split_by_version() {
    use incident_report::{ReleaseSummary, SplitSource, VersionSplit};
    let mut incident = sample::incident(START);
    incident.fault.mode = "a new version with exception, released canary:10%:5m".into();
    incident.release = Some(ReleaseSummary {
        id: "r-1a2b".into(),
        strategy: "canary:10%:5m".into(),
        from_version: "3".into(),
        to_version: "4".into(),
        expected: "rolled-back".into(),
        ended: Some("rolled-back".into()),
        stopped_by: Some("dev-payment-fixed-fast-errors".into()),
        started_at: START,
        ended_at: Some(START + time::Duration::seconds(31)),
        versions: vec![
            VersionSplit {
                version: "3".into(),
                requests: 144,
                failed: Some(0),
            },
            VersionSplit {
                version: "4".into(),
                requests: 16,
                failed: Some(16),
            },
        ],
        counted_by: SplitSource::Target,
        requests: 160,
        failed: 16,
    });
    let (_dir, files) = render(&incident);
    let md = read(&files.markdown);
    assert!(
        md.contains("Fault `a new version with exception, released canary:10%:5m` injected"),
        "{md}"
    );
    assert!(md.contains(
        "Release r-1a2b: version 3 \u{2192} 4, strategy canary:10%:5m; ended rolled-back (stopped by dev-payment-fixed-fast-errors) after 31.0 s; expected rolled-back."
    ));
    assert!(
        md.contains("160 client requests to the function's routes during the release, 16 failed (10.0 %).")
    );
    assert!(md.contains("| `4` | 16 | 16 |"), "{md}");
    let html = read(&files.html);
    for row in [
        "<tr><td><code>3</code></td><td>144</td><td>0</td></tr>",
        "<tr><td><code>4</code></td><td>16</td><td>16</td></tr>",
    ] {
        assert!(html.contains(row), "{row} not in the HTML report");
    }
    assert!(
        html.contains("<section id=\"release\" data-ended=\"rolled-back\" data-expected=\"rolled-back\">")
    );
    // The incident's JSON keeps it, and an incident without one reads as before.
    assert_eq!(read_incident(&files.json).unwrap().release, incident.release);
}
