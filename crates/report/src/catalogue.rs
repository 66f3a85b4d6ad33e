//! The game-day report of a catalogue run: one row per scenario with its verdict, MTTD and MTTR
//! against their budgets, and the coverage matrix (rows scenarios, columns every alarm of the
//! stage), linking each scenario's own incident report.
//!
//! A cell is a claim checked: `fired` (expected, and it fired within its budget), `silent`
//! (expected, and it did not fire in time: FAIL), `false-alarm` (not expected, and it fired:
//! FAIL), `quiet` (not expected, and it did not fire). An alarm already in ALARM when the
//! scenario's baseline ended is not judged and has no cell.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::ReportError;
use crate::text::{date_time, escape, markdown_cell, seconds};

/// The verdict of one alarm in one scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Fired,
    Silent,
    FalseAlarm,
    Quiet,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Fired => "fired",
            Verdict::Silent => "silent",
            Verdict::FalseAlarm => "false-alarm",
            Verdict::Quiet => "quiet",
        }
    }

    /// A red cell: the hypothesis was wrong about this alarm.
    pub fn is_failure(self) -> bool {
        matches!(self, Verdict::Silent | Verdict::FalseAlarm)
    }
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    pub verdict: Verdict,
    /// Seconds from the injection to ALARM, when it fired.
    pub fired_after_s: Option<f64>,
    /// Seconds from the injection back to OK, when it fired and cleared.
    pub cleared_after_s: Option<f64>,
    /// The detection budget of an expected alarm.
    pub budget_s: Option<f64>,
}

/// One scenario of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScenarioResult {
    pub name: String,
    pub title: String,
    /// What the responder should learn from it.
    pub lesson: String,
    pub runbook: String,
    pub passed: bool,
    /// Why it failed, one line each (empty when it passed).
    pub problems: Vec<String>,
    pub mttd_s: Option<f64>,
    pub mttd_budget_s: Option<f64>,
    pub mttr_s: Option<f64>,
    pub mttr_budget_s: Option<f64>,
    /// How long after its breaching period closed the primary alarm fired (metric delay plus
    /// evaluation, as the target showed it), seconds.
    #[serde(default)]
    pub alarm_lag_s: Option<f64>,
    pub failed_requests: u64,
    pub total_requests: u64,
    pub cells: BTreeMap<String, Cell>,
    /// Alarms in ALARM when the baseline ended, or ignored by the scenario: not judged.
    pub not_judged: Vec<String>,
    /// The scenario's incident report folder, relative to the catalogue report's folder.
    pub report: Option<String>,
}

/// A whole run of scenarios.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CatalogueRun {
    pub id: String,
    pub stage: String,
    /// Where it ran: `lab` or `aws`.
    pub target: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// Every alarm of the stage, in the stage's order: the matrix's columns.
    pub alarms: Vec<String>,
    pub scenarios: Vec<ScenarioResult>,
}

/// How much of the stage the run proved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// Alarms with at least one `fired` cell.
    pub covered: Vec<String>,
    /// Alarms no scenario made fire.
    pub uncovered: Vec<String>,
    pub red_cells: usize,
}

impl CatalogueRun {
    pub fn passed(&self) -> bool {
        !self.scenarios.is_empty() && self.scenarios.iter().all(|s| s.passed)
    }

    pub fn coverage(&self) -> Coverage {
        let fired = |alarm: &str| {
            self.scenarios
                .iter()
                .any(|s| s.cells.get(alarm).is_some_and(|c| c.verdict == Verdict::Fired))
        };
        let (covered, uncovered): (Vec<String>, Vec<String>) =
            self.alarms.iter().cloned().partition(|a| fired(a));
        let red_cells = self
            .scenarios
            .iter()
            .flat_map(|s| s.cells.values())
            .filter(|c| c.verdict.is_failure())
            .count();
        Coverage {
            covered,
            uncovered,
            red_cells,
        }
    }
}

/// Where each file of the catalogue report went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogueFiles {
    pub dir: PathBuf,
    pub html: PathBuf,
    pub markdown: PathBuf,
    pub json: PathBuf,
}

pub const CATALOGUE_SCHEMA: &str = "outage-lab.catalogue/1";

#[derive(Serialize)]
struct CatalogueDocument<'a> {
    schema: &'static str,
    #[serde(flatten)]
    run: &'a CatalogueRun,
    passed: bool,
    coverage: Coverage,
}

/// Writes `index.html`, `index.md` and `catalogue.json` into `dir` (created if needed).
pub fn write_catalogue(run: &CatalogueRun, dir: impl AsRef<Path>) -> Result<CatalogueFiles, ReportError> {
    let dir = crate::create_dir(dir.as_ref())?;
    let write = |name: &str, contents: &str| crate::write_file(&dir, name, contents);
    let document = CatalogueDocument {
        schema: CATALOGUE_SCHEMA,
        run,
        passed: run.passed(),
        coverage: run.coverage(),
    };
    Ok(CatalogueFiles {
        html: write("index.html", &render_html(run))?,
        markdown: write("index.md", &render_markdown(run))?,
        json: write(
            "catalogue.json",
            &(serde_json::to_string_pretty(&document)? + "\n"),
        )?,
        dir,
    })
}

/// Each scenario's row is also kept in its own report folder, so that scenarios run one at a
/// time (the scheduled AWS catalogue runs one `smoke-test` per scenario) make one game-day
/// report in the end.
pub const RESULT_FILE: &str = "result.json";

/// Writes `result.json` into the scenario's report folder (`<catalogue dir>/<scenario>/`).
pub fn write_result(result: &ScenarioResult, scenario_dir: impl AsRef<Path>) -> Result<PathBuf, ReportError> {
    let folder = crate::create_dir(scenario_dir.as_ref())?;
    crate::write_file(
        &folder,
        RESULT_FILE,
        &(serde_json::to_string_pretty(result)? + "\n"),
    )
}

/// Every `dir/*/result.json`, by scenario name; an unreadable one is an error naming the file.
pub fn read_results(dir: impl AsRef<Path>) -> Result<Vec<ScenarioResult>, ReportError> {
    let dir = dir.as_ref();
    let entries = fs::read_dir(dir).map_err(|source| ReportError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut results = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().join(RESULT_FILE);
        if path.is_file() {
            results.push(crate::read_json::<ScenarioResult>(&path)?);
        }
    }
    results.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(results)
}

/// The matrix's column heading: the alarm name without the stage prefix, which every column shares.
fn short_alarm<'a>(run: &CatalogueRun, alarm: &'a str) -> &'a str {
    alarm
        .strip_prefix(&run.stage)
        .and_then(|a| a.strip_prefix('-'))
        .unwrap_or(alarm)
}

fn cell_text(cell: Option<&Cell>) -> String {
    match cell {
        None => "n/j".into(),
        Some(c) => match (c.verdict, c.fired_after_s) {
            (Verdict::Fired, Some(s)) => format!("fired {s:.0} s"),
            (Verdict::FalseAlarm, Some(s)) => format!("FALSE ALARM {s:.0} s"),
            (Verdict::Silent, _) => "SILENT".into(),
            (v, _) => v.as_str().into(),
        },
    }
}

fn budget_text(measured: Option<f64>, budget: Option<f64>) -> String {
    match budget {
        Some(b) => format!("{} (≤ {})", seconds(measured), seconds(Some(b))),
        None => seconds(measured),
    }
}

/// Clients' failed requests of the incident's window; a window no request fell in (a release
/// refused in half a second) says so rather than "0 of 0".
fn failed_text(failed: u64, total: u64) -> String {
    if total == 0 {
        "no request in the window".to_owned()
    } else {
        format!("{failed} of {total}")
    }
}

pub fn render_markdown(run: &CatalogueRun) -> String {
    let mut out = String::new();
    let coverage = run.coverage();
    let _ = writeln!(
        out,
        "# Scenario catalogue {}: {}\n",
        markdown_cell(&run.id),
        if run.passed() { "PASSED" } else { "FAILED" }
    );
    let _ = writeln!(
        out,
        "Stage `{}` on {}, {} to {}. {} of {} scenarios passed; {} of {} alarms proven to fire; {} red cells.\n",
        markdown_cell(&run.stage),
        markdown_cell(&run.target),
        date_time(run.started_at),
        date_time(run.finished_at),
        run.scenarios.iter().filter(|s| s.passed).count(),
        run.scenarios.len(),
        coverage.covered.len(),
        run.alarms.len(),
        coverage.red_cells,
    );
    out.push_str(
        "| scenario | verdict | MTTD s | MTTR s | failed requests | report |\n|---|---|---|---|---|---|\n",
    );
    for s in &run.scenarios {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            markdown_cell(&s.name),
            if s.passed { "passed" } else { "**FAILED**" },
            budget_text(s.mttd_s, s.mttd_budget_s),
            budget_text(s.mttr_s, s.mttr_budget_s),
            failed_text(s.failed_requests, s.total_requests),
            s.report
                .as_deref()
                .map_or("-".into(), |r| format!("[report]({}/report.md)", r)),
        );
    }
    out.push_str("\n## Coverage matrix\n\nRows are scenarios, columns the stage's alarms: `fired N s` expected and fired N s after the injection; `SILENT` expected but did not fire (FAIL); `FALSE ALARM` fired but not expected (FAIL); `quiet` not expected and quiet; `n/j` not judged (in ALARM at baseline, or ignored).\n\n");
    let _ = write!(out, "| scenario |");
    for a in &run.alarms {
        let _ = write!(out, " {} |", markdown_cell(short_alarm(run, a)));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(run.alarms.len()));
    out.push('\n');
    for s in &run.scenarios {
        let _ = write!(out, "| {} |", markdown_cell(&s.name));
        for a in &run.alarms {
            let _ = write!(out, " {} |", cell_text(s.cells.get(a)));
        }
        out.push('\n');
    }
    if !coverage.uncovered.is_empty() {
        let _ = writeln!(
            out,
            "\nNo scenario made these alarms fire: {}.",
            coverage.uncovered.join(", ")
        );
    }
    out.push_str("\n## What each scenario teaches\n\n");
    for s in &run.scenarios {
        let _ = writeln!(
            out,
            "- **{}** ({}): {} Runbook: {}.",
            markdown_cell(&s.name),
            markdown_cell(&s.title),
            markdown_cell(&s.lesson),
            markdown_cell(&s.runbook)
        );
        for p in &s.problems {
            let _ = writeln!(out, "  - FAILED: {}", markdown_cell(p));
        }
    }
    out
}

fn verdict_class(cell: Option<&Cell>) -> &'static str {
    match cell.map(|c| c.verdict) {
        None => "nj",
        Some(Verdict::Fired) => "fired",
        Some(Verdict::Quiet) => "quiet",
        Some(Verdict::Silent) | Some(Verdict::FalseAlarm) => "red",
    }
}

pub fn render_html(run: &CatalogueRun) -> String {
    let coverage = run.coverage();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Scenario catalogue {id}</title>\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><style>{css}{extra}</style></head><body><main>\
         <header><span class=\"badge {badge}\" id=\"verdict\">{verdict}</span><h1>Scenario catalogue {id}</h1>\
         <div class=\"meta\">stage {stage} on {target} \u{b7} {from} to {to} \u{b7} {passed} of {total} scenarios passed \u{b7} \
         <span id=\"coverage\">{covered} of {alarms} alarms proven to fire</span> \u{b7} {red} red cells</div></header>",
        id = escape(&run.id),
        css = crate::html::CSS,
        extra = MATRIX_CSS,
        badge = if run.passed() { "ok" } else { "bad" },
        verdict = if run.passed() { "PASSED" } else { "FAILED" },
        stage = escape(&run.stage),
        target = escape(&run.target),
        from = escape(&date_time(run.started_at)),
        to = escape(&date_time(run.finished_at)),
        passed = run.scenarios.iter().filter(|s| s.passed).count(),
        total = run.scenarios.len(),
        covered = coverage.covered.len(),
        alarms = run.alarms.len(),
        red = coverage.red_cells,
    );
    out.push_str("<h2>Scenarios</h2><table id=\"scenarios\"><tr><th>scenario</th><th>verdict</th><th>MTTD</th><th>MTTR</th><th>failed requests</th><th>report</th></tr>");
    for s in &run.scenarios {
        let _ = write!(
            out,
            "<tr data-scenario=\"{n}\"><td><b>{n}</b><br><span class=\"meta\">{title}</span></td><td><span class=\"badge {b}\">{v}</span></td>\
             <td class=\"num\">{mttd}</td><td class=\"num\">{mttr}</td><td class=\"num\">{failed}</td><td>{link}</td></tr>",
            n = escape(&s.name),
            title = escape(&s.title),
            b = if s.passed { "ok" } else { "bad" },
            v = if s.passed { "passed" } else { "FAILED" },
            mttd = escape(&budget_text(s.mttd_s, s.mttd_budget_s)),
            mttr = escape(&budget_text(s.mttr_s, s.mttr_budget_s)),
            failed = escape(&failed_text(s.failed_requests, s.total_requests)),
            link = s.report.as_deref().map_or("-".into(), |r| format!(
                "<a href=\"{}/report.html\">incident report</a>",
                escape(r)
            )),
        );
    }
    out.push_str("</table><h2>Coverage matrix</h2><p class=\"meta\">Rows are scenarios, columns the stage's alarms. Green: expected and fired (seconds after the injection). Red: expected but silent, or a false alarm. Grey: quiet. Blank: not judged (already in ALARM at baseline, or ignored).</p><div class=\"matrix-wrap\"><table class=\"matrix\" id=\"matrix\"><tr><th>scenario</th>");
    for a in &run.alarms {
        let _ = write!(
            out,
            "<th class=\"alarm\"><span>{}</span></th>",
            escape(short_alarm(run, a))
        );
    }
    out.push_str("</tr>");
    for s in &run.scenarios {
        let _ = write!(out, "<tr><th>{}</th>", escape(&s.name));
        for a in &run.alarms {
            let cell = s.cells.get(a);
            let _ = write!(
                out,
                "<td class=\"{}\" data-alarm=\"{}\" title=\"{}\">{}</td>",
                verdict_class(cell),
                escape(a),
                escape(a),
                escape(&cell_text(cell)),
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></div>");
    if !coverage.uncovered.is_empty() {
        let _ = write!(
            out,
            "<p class=\"note\">No scenario made these alarms fire: {}.</p>",
            escape(&coverage.uncovered.join(", "))
        );
    }
    out.push_str("<h2>What each scenario teaches</h2><dl>");
    for s in &run.scenarios {
        let _ = write!(
            out,
            "<dt>{}</dt><dd>{} <span class=\"meta\">Runbook: {}</span>",
            escape(&s.name),
            escape(&s.lesson),
            escape(&s.runbook)
        );
        for p in &s.problems {
            let _ = write!(out, "<br><span class=\"missed\">FAILED: {}</span>", escape(p));
        }
        out.push_str("</dd>");
    }
    out.push_str("</dl><footer>Written by outage-lab; self-contained, nothing fetched.</footer></main></body></html>\n");
    out
}

const MATRIX_CSS: &str = r#"
.matrix-wrap{overflow-x:auto}
table.matrix td{text-align:center;font-size:12px;white-space:nowrap;padding:4px 6px}
table.matrix th.alarm{font-size:11px;text-transform:none;writing-mode:vertical-rl;transform:rotate(180deg);padding:8px 2px;white-space:nowrap}
td.fired{background:#dcfce7;color:#166534}td.red{background:#fee2e2;color:#991b1b;font-weight:700}
td.quiet{color:#9ca3af}td.nj{background:#f3f4f6;color:#9ca3af}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn cell(verdict: Verdict, fired: Option<f64>) -> Cell {
        Cell {
            verdict,
            fired_after_s: fired,
            cleared_after_s: None,
            budget_s: None,
        }
    }

    fn run() -> CatalogueRun {
        let scenario = |name: &str, cells: Vec<(&str, Cell)>| ScenarioResult {
            name: name.into(),
            title: format!("{name} title"),
            lesson: "Learn <this>.".into(),
            runbook: "docs/runbooks/fast-errors.md".into(),
            passed: !cells.iter().any(|(_, c)| c.verdict.is_failure()),
            problems: vec![],
            mttd_s: Some(9.5),
            mttd_budget_s: Some(20.0),
            mttr_s: Some(21.0),
            mttr_budget_s: Some(30.0),
            alarm_lag_s: None,
            failed_requests: 40,
            total_requests: 200,
            cells: cells.into_iter().map(|(a, c)| (a.to_owned(), c)).collect(),
            not_judged: vec![],
            report: Some(name.into()),
        };
        CatalogueRun {
            id: "catalogue-1".into(),
            stage: "dev".into(),
            target: "lab".into(),
            started_at: datetime!(2026-12-01 10:00:00 UTC),
            finished_at: datetime!(2026-12-01 10:04:00 UTC),
            alarms: vec![
                "dev-a-fast-errors".into(),
                "dev-a-errors".into(),
                "dev-api-5xx".into(),
            ],
            scenarios: vec![
                scenario(
                    "one",
                    vec![
                        ("dev-a-fast-errors", cell(Verdict::Fired, Some(9.5))),
                        ("dev-a-errors", cell(Verdict::Quiet, None)),
                    ],
                ),
                scenario(
                    "two",
                    vec![
                        ("dev-a-fast-errors", cell(Verdict::FalseAlarm, Some(3.0))),
                        ("dev-a-errors", cell(Verdict::Silent, None)),
                        ("dev-api-5xx", cell(Verdict::Quiet, None)),
                    ],
                ),
            ],
        }
    }

    #[test]
    fn coverage_counts_fired_cells_and_red_cells() {
        let r = run();
        let c = r.coverage();
        assert_eq!(c.covered, vec!["dev-a-fast-errors".to_string()]);
        assert_eq!(
            c.uncovered,
            vec!["dev-a-errors".to_string(), "dev-api-5xx".to_string()]
        );
        assert_eq!(c.red_cells, 2);
        assert!(!r.passed());
    }

    #[test]
    fn matrix_shows_every_alarm_column_and_escapes_text() {
        let r = run();
        let html = render_html(&r);
        assert!(html.contains("Learn &lt;this&gt;."), "lesson escaped");
        assert_eq!(html.matches("<th class=\"alarm\">").count(), 3);
        assert_eq!(html.matches("class=\"red\"").count(), 2);
        assert!(html.contains("<a href=\"one/report.html\">"));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "nothing fetched"
        );
        let md = render_markdown(&r);
        assert!(md.contains("| one | fired 10 s | quiet | n/j |"), "{md}");
        assert!(md.contains("| two | FALSE ALARM 3 s | SILENT | quiet |"), "{md}");
    }

    #[test]
    fn failed_requests_read_as_a_share_or_as_an_empty_window() {
        let mut r = run();
        r.scenarios[1].failed_requests = 0;
        r.scenarios[1].total_requests = 0;
        let md = render_markdown(&r);
        assert!(md.contains("| 40 of 200 |"), "{md}");
        assert!(md.contains("| no request in the window |"), "{md}");
        assert!(!md.contains("0 of 0"), "{md}");
        let html = render_html(&r);
        assert!(html.contains(">40 of 200</td>"));
        assert!(html.contains(">no request in the window</td>"));
    }

    #[test]
    fn writes_three_files_and_json_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_catalogue(&run(), dir.path().join("cat")).unwrap();
        let json: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&files.json).unwrap()).unwrap();
        assert_eq!(json["schema"], CATALOGUE_SCHEMA);
        assert_eq!(json["passed"], false);
        assert_eq!(json["scenarios"][1]["cells"]["dev-a-errors"]["verdict"], "silent");
        let back: CatalogueRun = serde_json::from_value(json).unwrap();
        assert_eq!(back, run());
        assert!(files.html.exists() && files.markdown.exists());
    }
}
