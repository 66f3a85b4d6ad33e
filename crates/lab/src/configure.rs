//! `outage-lab configure`: change a function of the running lab through its control plane, as
//! `aws lambda update-function-configuration` and `put-function-concurrency` /
//! `delete-function-concurrency` do on AWS. A variable change is a hotfix deploy: `$LATEST` is
//! published and the `live` alias the API invokes moves to it at once (`publish-version`,
//! `update-alias`); a gradual, alarm-gated change is `outage-lab release`. The mitigation tool of a drill or game day: the change
//! is recorded in the stage's change history under the caller's name.

use std::collections::BTreeMap;

use lab_admin_api::{AdminClient, AdminError};

/// What to change; at least one part.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Change {
    /// Variables to set (added or replaced).
    pub set: BTreeMap<String, String>,
    /// Variables to remove.
    pub unset: Vec<String>,
    /// Reserved concurrency: `Some(Some(n))` reserves n, `Some(None)` removes the reservation.
    pub reserved: Option<Option<u32>>,
}

/// Why a change was refused before anything was sent (exit 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ChangeError {
    #[error("--set {0:?}: expected KEY=VALUE")]
    Assignment(String),
    #[error("{0} is both set and unset")]
    Both(String),
    #[error("nothing to change: give --set, --unset, --reserved-concurrency or --unreserved")]
    Nothing,
}

/// `KEY=VALUE` into its parts (the value may hold `=`).
pub fn parse_assignment(s: &str) -> Result<(String, String), ChangeError> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_owned(), v.to_owned())),
        _ => Err(ChangeError::Assignment(s.to_owned())),
    }
}

impl Change {
    pub fn new(
        set: &[String],
        unset: &[String],
        reserved: Option<u32>,
        unreserved: bool,
    ) -> Result<Change, ChangeError> {
        let set = set
            .iter()
            .map(|s| parse_assignment(s))
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        if let Some(both) = unset.iter().find(|k| set.contains_key(*k)) {
            return Err(ChangeError::Both(both.clone()));
        }
        let reserved = match (reserved, unreserved) {
            (Some(n), _) => Some(Some(n)),
            (None, true) => Some(None),
            (None, false) => None,
        };
        let change = Change {
            set,
            unset: unset.to_vec(),
            reserved,
        };
        if change.set.is_empty() && change.unset.is_empty() && change.reserved.is_none() {
            return Err(ChangeError::Nothing);
        }
        Ok(change)
    }

    /// The function's variables after the change.
    pub fn apply_to(&self, variables: &BTreeMap<String, String>) -> BTreeMap<String, String> {
        let mut out = variables.clone();
        for k in &self.unset {
            out.remove(k);
        }
        out.extend(self.set.clone());
        out
    }
}

/// Applies the change to function `key` and returns the lines to print: the variables (names
/// and values, as `get-function-configuration` shows them) and the reserved concurrency after.
pub async fn configure(admin: &AdminClient, key: &str, change: &Change) -> Result<Vec<String>, AdminError> {
    let before = admin.configuration(key).await?;
    let mut config = before.clone();
    let mut served = None;
    if !change.set.is_empty() || !change.unset.is_empty() {
        let variables = change.apply_to(&before.environment.variables);
        config = admin.update_configuration(key, &variables).await?;
        served = Some(admin.serve_latest(key).await?);
    }
    match change.reserved {
        Some(Some(n)) => {
            admin.put_concurrency(key, n).await?;
        }
        Some(None) => admin.delete_concurrency(key).await?,
        None => {}
    }
    if change.reserved.is_some() {
        config = admin.configuration(key).await?;
    }
    let vars = &config.environment.variables;
    let mut lines = vec![
        format!(
            "{}: variables {}",
            config.function_name,
            if vars.is_empty() {
                "(none)".to_owned()
            } else {
                vars.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            }
        ),
        format!(
            "{}: reserved concurrency {}",
            config.function_name,
            config
                .reserved_concurrent_executions
                .map_or_else(|| "none (unreserved)".to_owned(), |n| n.to_string())
        ),
    ];
    if let Some(version) = served {
        lines.push(format!("{}: live serves version {version}", config.function_name));
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_merges_into_the_variables_and_refuses_nonsense() {
        let c = Change::new(
            &["FAULT_MODE=latency".into(), "X=a=b".into()],
            &["FAULT_RATE".into()],
            None,
            false,
        )
        .unwrap();
        let before = BTreeMap::from([
            ("FAULT_MODE".to_owned(), "exception".to_owned()),
            ("FAULT_RATE".to_owned(), "0.5".to_owned()),
            ("KEEP".to_owned(), "1".to_owned()),
        ]);
        assert_eq!(
            c.apply_to(&before),
            BTreeMap::from([
                ("FAULT_MODE".to_owned(), "latency".to_owned()),
                ("KEEP".to_owned(), "1".to_owned()),
                ("X".to_owned(), "a=b".to_owned()),
            ])
        );
        assert_eq!(
            Change::new(&["NOEQUALS".into()], &[], None, false),
            Err(ChangeError::Assignment("NOEQUALS".into()))
        );
        assert_eq!(
            Change::new(&["A=1".into()], &["A".into()], None, false),
            Err(ChangeError::Both("A".into()))
        );
        assert_eq!(Change::new(&[], &[], None, false), Err(ChangeError::Nothing));
        assert_eq!(Change::new(&[], &[], None, true).unwrap().reserved, Some(None));
        assert_eq!(
            Change::new(&[], &[], Some(3), false).unwrap().reserved,
            Some(Some(3))
        );
    }
}
