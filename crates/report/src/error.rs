use std::path::PathBuf;

/// Why a report could not be written or an incident read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("incident is inconsistent: {0}")]
    Invalid(String),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not a valid incident: {source}")]
    Parse {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot serialise the incident to JSON: {0}")]
    Json(#[from] serde_json::Error),
}
