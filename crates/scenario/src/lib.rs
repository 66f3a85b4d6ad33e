//! Scenario files: `scenarios/<name>.toml`, one staged incident each (a fault, a configuration
//! change or a surge on one function), the alarms that must catch it (the hypothesis), the
//! alarms that must stay quiet, and the stop conditions of the run.
//!
//! Files are parsed with serde (unknown fields refused) and validated against a
//! [`Stage`]; every error names the file and the field, as the stage file's do. The result is a
//! [`Scenario`] with every default applied and every name resolved, which the drill runner uses
//! as it is, in the lab and on AWS.
//!
//! What the catalogue assumes of the runner ([`FixPlan`]): by default the incident lasts until
//! every expected alarm has fired (or its detection budget ran out), then the prior
//! configuration is restored; `fix_after = "first-alarm"` restores at the first expected alarm,
//! as a responder would; `fix = "none"` applies nothing and the fault expires. An alarm whose
//! metric sees the incident therefore fires, and must be expected (or ignored); an alarm that
//! fires without being expected is a false alarm. The only requests a run sends are the steady
//! traffic on `traffic.routes` and the surge: a route check of every route would invoke the
//! known-broken `GET /pay` and page its alarms.
//!
//! The JSON Schema of the format is generated from [`file::ScenarioFile`] and committed as
//! `scenarios/scenario.schema.json`; files point editors at it with a `#:schema` first line.

use std::path::{Path, PathBuf};

use outage_config::Stage;

pub mod error;
pub mod file;
mod resolve;

pub use error::{CatalogueError, ScenarioError};
pub use file::{schema, schema_json, Fix, FixAfter, ReleaseOutcome, ScenarioFile};
pub use resolve::{
    is_scenario_name, Configuration, ExpectedAlarm, Fault, FixPlan, Release, Scenario, Surge, Traffic,
};

/// The catalogue's folder below the project root.
pub const CATALOGUE_DIR: &str = "scenarios";
/// The schema's file name inside the catalogue folder.
pub const SCHEMA_FILE: &str = "scenario.schema.json";
/// The scenario `scripts/drill` runs when given none.
pub const DEFAULT_SCENARIO: &str = "payment-exception";

impl Scenario {
    /// Reads, parses and validates one scenario file; the file stem is its name.
    pub fn load(path: &Path, stage: &Stage) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Scenario::parse(&text, path, stage)
    }

    /// Parses and validates scenario text; `path` labels errors and gives the name (its stem).
    pub fn parse(text: &str, path: &Path, stage: &Stage) -> Result<Scenario, ScenarioError> {
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default()
            .to_owned();
        if !is_scenario_name(&name) {
            return Err(ScenarioError::Invalid {
                path: path.to_owned(),
                field: "(file name)".into(),
                message: format!(
                    "the scenario's name is its file stem, {name:?}: use lower-case letters, digits and '-'"
                ),
            });
        }
        let file = parse_file(text, path)?;
        resolve::resolve(file, &name, path, stage)
    }
}

/// Parses the TOML text into the file's types (no validation against a stage).
pub fn parse_file(text: &str, path: &Path) -> Result<ScenarioFile, ScenarioError> {
    let syntax = |e: toml::de::Error| {
        let (line, column) = e.span().map_or((1, 1), |span| line_column(text, span.start));
        ScenarioError::Syntax {
            path: path.to_owned(),
            line,
            column,
            message: e.message().trim().to_owned(),
        }
    };
    let de = toml::de::Deserializer::parse(text).map_err(syntax)?;
    serde_path_to_error::deserialize(de).map_err(|e| {
        let mut field = e.path().to_string();
        if field == "." {
            field.clear();
        }
        let message = e.into_inner().message().trim().to_owned();
        // serde reports a missing field at the table that lacks it: name the field itself.
        if let Some(missing) = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.strip_suffix('`'))
        {
            if !field.is_empty() {
                field.push('.');
            }
            field.push_str(missing);
            return ScenarioError::Invalid {
                path: path.to_owned(),
                field,
                message: "is required".into(),
            };
        }
        ScenarioError::Invalid {
            path: path.to_owned(),
            field: if field.is_empty() {
                "(top level)".into()
            } else {
                field
            },
            message,
        }
    })
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Every `*.toml` of `dir`, sorted by name, loaded against `stage`. Every file is tried; the
/// errors of all the files that failed come back together.
pub fn catalogue(dir: &Path, stage: &Stage) -> Result<Vec<Scenario>, CatalogueError> {
    let paths = catalogue_paths(dir).map_err(|e| CatalogueError { errors: vec![e] })?;
    let mut scenarios = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match Scenario::load(&path, stage) {
            Ok(s) => scenarios.push(s),
            Err(e) => errors.push(e),
        }
    }
    if errors.is_empty() {
        Ok(scenarios)
    } else {
        Err(CatalogueError { errors })
    }
}

/// The `*.toml` files of a catalogue folder, sorted.
pub fn catalogue_paths(dir: &Path) -> Result<Vec<PathBuf>, ScenarioError> {
    let read_dir = |source| ScenarioError::ReadDir {
        path: dir.to_owned(),
        source,
    };
    let mut paths = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let path = entry.map_err(read_dir)?.path();
        if path.extension().is_some_and(|e| e == "toml") && path.is_file() {
            paths.push(path);
        }
    }
    paths.sort();
    Ok(paths)
}

/// Where a command-line `NAME|PATH` points: a bare name (no `/`, no `.toml`) is
/// `<root>/scenarios/NAME.toml`; anything else is a path. An unknown name lists the known ones.
pub fn locate(arg: &str, root: &Path) -> Result<PathBuf, ScenarioError> {
    if arg.contains(std::path::MAIN_SEPARATOR) || arg.contains('/') || arg.ends_with(".toml") {
        return Ok(PathBuf::from(arg));
    }
    let dir = root.join(CATALOGUE_DIR);
    let path = dir.join(format!("{arg}.toml"));
    if path.is_file() {
        return Ok(path);
    }
    let known = catalogue_paths(&dir)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| p.file_stem()?.to_str().map(str::to_owned))
        .collect();
    Err(ScenarioError::Unknown {
        name: arg.to_owned(),
        dir,
        known,
    })
}

/// Resolves a command-line `NAME|PATH` and loads it against `stage`.
pub fn load_arg(arg: &str, root: &Path, stage: &Stage) -> Result<Scenario, ScenarioError> {
    Scenario::load(&locate(arg, root)?, stage)
}
