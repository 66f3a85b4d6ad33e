//! Embedded Metric Format: the JSON lines the functions print, turned into samples.

use crate::metrics::Sample;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmfError {
    #[error("EMF: {0}")]
    Rule(String),
}

/// `Ok(None)`: not an EMF line; `Err`: looks like EMF but breaks a rule (named in the error).
pub fn parse_emf_line(line: &str) -> Result<Option<Vec<Sample>>, EmfError> {
    let _ = line;
    todo!("emf")
}
