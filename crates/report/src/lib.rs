//! Incident reports for outage drills.
//!
//! A drill (`outage-lab drill`, `smoke-test drill`) records what happened in an [`Incident`]
//! and calls [`write_report`], which writes one folder a person can read without any network:
//!
//! - `report.md`: for a pull request or a wiki; links the charts;
//! - `report.html`: self-contained (inline CSS and SVG, no scripts, nothing fetched);
//! - `incident.json`: the incident itself plus the derived outcome, for tools;
//! - `*.svg`: each chart as a standalone file.
//!
//! ```
//! use time::macros::datetime;
//!
//! // A drill fills an Incident from what it saw; the sample is one such incident.
//! let mut incident = incident_report::sample::incident(datetime!(2026-11-25 14:02:05 UTC));
//! // Prose that cannot disagree with the numbers.
//! incident.postmortem = incident.draft_postmortem();
//! let dir = tempfile::tempdir()?;
//! let files = incident_report::write_report(&incident, dir.path().join("drill-1"))?;
//! assert!(files.html.ends_with("report.html"));
//! assert_eq!(incident.outcome().mttd.seconds, Some(12.2));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod catalogue;
mod charts;
mod error;
mod html;
mod markdown;
mod model;
mod postmortem;
pub mod sample;
mod svg;
mod text;

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use charts::{render_charts, RenderedChart};
pub use error::ReportError;
pub use model::*;
pub use text::{escape, hms_millis};

/// Where each file of a report was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    pub dir: PathBuf,
    pub markdown: PathBuf,
    pub html: PathBuf,
    pub json: PathBuf,
    pub charts: Vec<PathBuf>,
}

/// `incident.json`: the incident as given plus the numbers derived from it, under a schema tag
/// so that readers can tell versions apart. It reads back as an [`Incident`] (unknown fields
/// are ignored).
#[derive(Serialize)]
struct IncidentDocument<'a> {
    schema: &'static str,
    #[serde(flatten)]
    incident: &'a Incident,
    outcome: Outcome,
}

pub const SCHEMA: &str = "outage-lab.incident/1";

/// The lab's live dashboard page (one self-contained HTML file), for `outage-lab up` to serve at
/// `/` on its admin port.
pub const DASHBOARD_HTML: &str = include_str!("../assets/dashboard.html");

/// Checks the few facts every renderer relies on, with a message naming the field.
pub fn validate(incident: &Incident) -> Result<(), ReportError> {
    let invalid = |m: String| Err(ReportError::Invalid(m));
    if incident.finished_at < incident.started_at {
        return invalid(format!(
            "finished_at ({}) is before started_at ({})",
            incident.finished_at, incident.started_at
        ));
    }
    if incident.metrics.period_s == 0 {
        return invalid("metrics.period_s must be at least 1".into());
    }
    let d = &incident.detection;
    if let (Some(alarm), true) = (d.alarm_at, d.alarm_at < Some(d.fault_injected_at)) {
        return invalid(format!(
            "detection.alarm_at ({alarm}) is before detection.fault_injected_at ({})",
            d.fault_injected_at
        ));
    }
    if let (Some(fix), Some(ok)) = (d.fix_applied_at, d.recovered_at) {
        if ok < fix {
            return invalid(format!(
                "detection.recovered_at ({ok}) is before detection.fix_applied_at ({fix})"
            ));
        }
    }
    Ok(())
}

/// Renders the incident into `dir` (created if needed) and says where each file went.
pub fn write_report(incident: &Incident, dir: impl AsRef<Path>) -> Result<ReportFiles, ReportError> {
    validate(incident)?;
    let dir = create_dir(dir.as_ref())?;
    let write = |name: &str, contents: &str| write_file(&dir, name, contents);

    let charts = render_charts(incident);
    let chart_paths = charts
        .iter()
        .map(|c| write(&c.file_name, &c.standalone))
        .collect::<Result<Vec<_>, _>>()?;
    let document = IncidentDocument {
        schema: SCHEMA,
        incident,
        outcome: incident.outcome(),
    };
    let json = serde_json::to_string_pretty(&document)? + "\n";
    Ok(ReportFiles {
        markdown: write("report.md", &markdown::render(incident, &charts))?,
        html: write("report.html", &html::render(incident, &charts))?,
        json: write("incident.json", &json)?,
        charts: chart_paths,
        dir,
    })
}

/// Creates `dir` and its parents when missing.
fn create_dir(dir: &Path) -> Result<PathBuf, ReportError> {
    fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    Ok(dir.to_path_buf())
}

/// Writes `contents` to `dir/name`, naming the file when it cannot.
fn write_file(dir: &Path, name: &str, contents: &str) -> Result<PathBuf, ReportError> {
    let path = dir.join(name);
    fs::write(&path, contents).map_err(|source| ReportError::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Reads `path` as JSON of `T`, naming the file when it cannot.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ReportError> {
    let text = fs::read_to_string(path).map_err(|source| ReportError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|source| ReportError::Parse {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads an `incident.json` written by [`write_report`] (or by hand, without `outcome`).
pub fn read_incident(path: impl AsRef<Path>) -> Result<Incident, ReportError> {
    read_json(path.as_ref())
}
