//! Errors of scenario files: each names the file and, where there is one, the field. Every one
//! is bad input found before anything is injected: the binaries exit 2 on them.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("cannot read scenario {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    /// Not TOML at all: there is no field yet, so the place is given as line and column.
    #[error("scenario {path}: line {line}, column {column}: {message}")]
    Syntax {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    /// A field that is missing, unknown, of the wrong type or inconsistent with the stage.
    #[error("scenario {path}: field `{field}`: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
    /// A command-line name that is not in the catalogue.
    #[error("unknown scenario {name:?}: {} has {}", dir.display(), known_list(known))]
    Unknown {
        name: String,
        dir: PathBuf,
        known: Vec<String>,
    },
    #[error("cannot read the scenario folder {path}: {source}")]
    ReadDir { path: PathBuf, source: std::io::Error },
}

fn known_list(known: &[String]) -> String {
    if known.is_empty() {
        "no scenarios".to_owned()
    } else {
        known.join(", ")
    }
}

impl ScenarioError {
    /// The field an `Invalid` error names (tests and callers that point at it).
    pub fn field(&self) -> Option<&str> {
        match self {
            ScenarioError::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }
}

/// Every file of a catalogue that did not load, one error each.
#[derive(Debug, thiserror::Error)]
#[error("{}", .errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct CatalogueError {
    pub errors: Vec<ScenarioError>,
}
