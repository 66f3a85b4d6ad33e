//! After a release train that passed: the published versions nothing can need again are
//! deleted, so they do not pile up with every deploy (Lambda keeps the code of every version,
//! and counts it against the region's code storage quota of 75 GB).
//!
//! Kept: the newest `keep` versions (what `outage-lab rollback`, a manual alias move or a
//! postmortem may still want) and every version `live` routes to, whatever its age. A function
//! whose alias still splits traffic is left alone: a release is under way. Lambda itself refuses
//! to delete a version an alias routes to.

use std::collections::BTreeSet;

use outage_config::Stage;
use serde::Serialize;

use super::lambda::{self, LiveAlias};
use super::{Progress, Releaser};

/// What pruning did to one function's versions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pruned {
    pub function: String,
    /// Deleted, oldest first.
    pub deleted: Vec<u64>,
    /// Kept, oldest first.
    pub kept: Vec<u64>,
    /// Why some or all of them were not deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// Splits the published versions into (kept, to delete), both oldest first: all but the newest
/// `keep` and those `live` routes to are deleted.
pub fn choose(published: &[u64], live: &LiveAlias, keep: usize) -> (Vec<u64>, Vec<u64>) {
    let versions: BTreeSet<u64> = published.iter().copied().collect();
    let routed: BTreeSet<u64> = std::iter::once(&live.version)
        .chain(live.weights.keys())
        .filter_map(|v| v.parse().ok())
        .collect();
    let newest_from = versions.len().saturating_sub(keep);
    let (mut kept, mut doomed) = (Vec::new(), Vec::new());
    for (i, v) in versions.into_iter().enumerate() {
        if i >= newest_from || routed.contains(&v) {
            kept.push(v);
        } else {
            doomed.push(v);
        }
    }
    (kept, doomed)
}

/// Prunes every function of `stage`, one version at a time; a failure stops that function's
/// pruning (and is reported), not the others'.
pub async fn prune(releaser: &Releaser, stage: &Stage, keep: usize, progress: Progress<'_>) -> Vec<Pruned> {
    let mut out = Vec::new();
    for key in stage.functions.keys() {
        let pruned = prune_one(releaser, key, keep).await;
        progress(&line(&pruned));
        out.push(pruned);
    }
    out
}

async fn prune_one(releaser: &Releaser, key: &str, keep: usize) -> Pruned {
    let mut pruned = Pruned {
        function: key.to_owned(),
        deleted: Vec::new(),
        kept: Vec::new(),
        problem: None,
    };
    let name = match releaser.target.name_of(key) {
        Ok(n) => n.to_owned(),
        Err(e) => {
            pruned.problem = Some(e.to_string());
            return pruned;
        }
    };
    let client = &releaser.target.lambda;
    let read = async {
        let live = lambda::live_alias(client, &name).await?;
        let published = lambda::published_versions(client, &name).await?;
        Ok::<_, crate::error::PortError>((live, published))
    };
    let (live, published) = match read.await {
        Ok(read) => read,
        Err(e) => {
            pruned.problem = Some(e.to_string());
            return pruned;
        }
    };
    if !live.weights.is_empty() {
        pruned.kept = published;
        pruned.kept.sort_unstable();
        pruned.problem = Some("`live` still splits traffic: a release is under way; nothing deleted".into());
        return pruned;
    }
    let (kept, doomed) = choose(&published, &live, keep);
    pruned.kept = kept;
    for (i, version) in doomed.iter().enumerate() {
        if let Err(e) = lambda::delete_version(client, &name, *version).await {
            pruned.problem = Some(e.to_string());
            pruned.kept.extend(&doomed[i..]);
            pruned.kept.sort_unstable();
            break;
        }
        pruned.deleted.push(*version);
    }
    pruned
}

/// One line per function, as the release prints it.
pub fn line(p: &Pruned) -> String {
    let list = |v: &[u64]| {
        if v.is_empty() {
            "none".to_owned()
        } else {
            v.iter().map(u64::to_string).collect::<Vec<_>>().join(", ")
        }
    };
    let mut text = format!(
        "prune {}: deleted {}; kept {}",
        p.function,
        list(&p.deleted),
        list(&p.kept)
    );
    if let Some(problem) = &p.problem {
        text.push_str(&format!(" ({problem})"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn live(version: &str, weights: &[(&str, f64)]) -> LiveAlias {
        LiveAlias {
            version: version.into(),
            weights: weights
                .iter()
                .map(|(v, w)| ((*v).to_owned(), *w))
                .collect::<BTreeMap<_, _>>(),
        }
    }

    #[test]
    fn keeps_the_newest_and_what_live_routes_to() {
        let published = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(
            choose(&published, &live("8", &[]), 3),
            (vec![6, 7, 8], vec![1, 2, 3, 4, 5])
        );
        // live rolled back to an old version: it stays, whatever its age.
        assert_eq!(
            choose(&published, &live("2", &[]), 3),
            (vec![2, 6, 7, 8], vec![1, 3, 4, 5])
        );
        assert_eq!(
            choose(&published, &live("2", &[("4", 0.1)]), 1),
            (vec![2, 4, 8], vec![1, 3, 5, 6, 7])
        );
    }

    #[test]
    fn fewer_versions_than_kept_deletes_nothing() {
        assert_eq!(choose(&[3, 1, 2], &live("3", &[]), 5), (vec![1, 2, 3], vec![]));
        assert_eq!(choose(&[], &live("1", &[]), 5), (vec![], vec![]));
    }
}
