//! The versions a passed release train deletes, against AWS through the SDK's own mocks
//! (aws-smithy-mocks): Lambda answers what `live` routes to and what was published (in pages,
//! as ListVersionsByFunction does), and records every DeleteFunction.
#![cfg(feature = "aws")]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_sdk_lambda::operation::delete_function::{DeleteFunctionError, DeleteFunctionOutput};
use aws_sdk_lambda::operation::get_alias::GetAliasOutput;
use aws_sdk_lambda::operation::list_versions_by_function::ListVersionsByFunctionOutput;
use aws_sdk_lambda::types::error::ResourceConflictException;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, FunctionConfiguration};
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use outage_config::Stage;
use smoke_test::release::prune::{self, Pruned};
use smoke_test::release::Releaser;
use smoke_test::targets::aws::AwsTarget;

fn dev() -> Stage {
    Stage::load_named(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), "dev").unwrap()
}

/// Per function name: the published versions, what `live` routes to, its canary weights.
#[derive(Default)]
struct Account {
    published: HashMap<String, Vec<u64>>,
    live: HashMap<String, (u64, Vec<(u64, f64)>)>,
    /// `name:version` pairs whose deletion Lambda refuses.
    refuse: Vec<String>,
}

type Deleted = Arc<Mutex<Vec<String>>>;

fn releaser(account: Account) -> (Releaser, Deleted) {
    let account = Arc::new(account);
    let deleted: Deleted = Arc::default();
    let a = Arc::clone(&account);
    let get_alias = mock!(aws_sdk_lambda::Client::get_alias).then_compute_response(move |req| {
        let (version, weights) = &a.live[req.function_name().unwrap()];
        let weights: HashMap<String, f64> = weights.iter().map(|(v, w)| (v.to_string(), *w)).collect();
        MockResponse::Output(
            GetAliasOutput::builder()
                .name("live")
                .function_version(version.to_string())
                .routing_config(
                    AliasRoutingConfiguration::builder()
                        .set_additional_version_weights(Some(weights))
                        .build(),
                )
                .build(),
        )
    });
    // Two versions a page, $LATEST first, oldest first: the marker is the index of the next one.
    let a = Arc::clone(&account);
    let list = mock!(aws_sdk_lambda::Client::list_versions_by_function).then_compute_response(move |req| {
        let all: Vec<String> = std::iter::once("$LATEST".to_owned())
            .chain(
                a.published[req.function_name().unwrap()]
                    .iter()
                    .map(u64::to_string),
            )
            .collect();
        let from: usize = req.marker().map_or(0, |m| m.parse().unwrap());
        let page = all.iter().skip(from).take(2);
        let next = (from + 2 < all.len()).then(|| (from + 2).to_string());
        MockResponse::Output(
            ListVersionsByFunctionOutput::builder()
                .set_versions(Some(
                    page.map(|v| FunctionConfiguration::builder().version(v).build())
                        .collect(),
                ))
                .set_next_marker(next)
                .build(),
        )
    });
    let (a, d) = (Arc::clone(&account), Arc::clone(&deleted));
    let delete = mock!(aws_sdk_lambda::Client::delete_function).then_compute_response(move |req| {
        let qualified = format!(
            "{}:{}",
            req.function_name().unwrap(),
            req.qualifier()
                .expect("only versions are deleted, never a whole function")
        );
        if a.refuse.contains(&qualified) {
            return MockResponse::Error(DeleteFunctionError::ResourceConflictException(
                ResourceConflictException::builder()
                    .message("Unable to delete version because the following aliases reference it: [live]")
                    .build(),
            ));
        }
        d.lock().unwrap().push(qualified);
        MockResponse::Output(DeleteFunctionOutput::builder().build())
    });
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&get_alias, &list, &delete]);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, []);
    let codedeploy = mock_client!(aws_sdk_codedeploy, RuleMode::MatchAny, []);
    let stage = dev();
    let names = stage
        .functions
        .keys()
        .map(|k| (k.clone(), stage.function_name(k)))
        .collect();
    (
        Releaser::new(AwsTarget::new(lambda, cloudwatch, names), codedeploy),
        deleted,
    )
}

/// Every function of dev with `n` versions, `live` on the newest.
fn account(n: u64) -> Account {
    let mut account = Account::default();
    for key in dev().functions.keys() {
        let name = format!("dev-{key}");
        account.published.insert(name.clone(), (1..=n).collect());
        account.live.insert(name, (n, Vec::new()));
    }
    account
}

async fn run(account: Account, keep: usize) -> (BTreeMap<String, Pruned>, Vec<String>, Vec<String>) {
    let (releaser, deleted) = releaser(account);
    let lines = Mutex::new(Vec::new());
    let say = |l: &str| lines.lock().unwrap().push(l.to_owned());
    let pruned = prune::prune(&releaser, &dev(), keep, &say).await;
    let deleted = deleted.lock().unwrap().clone();
    let by_key = pruned.into_iter().map(|p| (p.function.clone(), p)).collect();
    (by_key, deleted, lines.into_inner().unwrap())
}

#[tokio::test]
async fn deletes_all_but_the_newest_and_what_live_routes_to() {
    let mut account = account(7);
    // auth was rolled back to version 2 by hand: 2 stays, however old.
    account.live.insert("dev-auth".into(), (2, Vec::new()));
    let (pruned, deleted, lines) = run(account, 3).await;
    assert_eq!(pruned["auth"].deleted, [1, 3, 4]);
    assert_eq!(pruned["auth"].kept, [2, 5, 6, 7]);
    assert_eq!(pruned["product"].deleted, [1, 2, 3, 4]);
    assert_eq!(pruned["product"].kept, [5, 6, 7]);
    assert!(pruned.values().all(|p| p.problem.is_none()), "{pruned:?}");
    // Oldest first, one DeleteFunction per version, by its number as the qualifier: all seven
    // versions were read across four pages.
    assert!(deleted.starts_with(&[
        "dev-auth:1".to_owned(),
        "dev-auth:3".to_owned(),
        "dev-auth:4".to_owned()
    ]));
    assert_eq!(deleted.len(), 3 + 4 * (dev().functions.len() - 1));
    assert!(
        lines.contains(&"prune product: deleted 1, 2, 3, 4; kept 5, 6, 7".to_owned()),
        "{lines:?}"
    );
}

#[tokio::test]
async fn a_function_mid_release_keeps_every_version() {
    let mut account = account(6);
    account
        .live
        .insert("dev-payment-fixed".into(), (5, vec![(6, 0.1)]));
    let (pruned, deleted, _) = run(account, 1).await;
    let p = &pruned["payment-fixed"];
    assert!(p.deleted.is_empty());
    assert_eq!(p.kept, [1, 2, 3, 4, 5, 6]);
    assert!(
        p.problem.as_deref().unwrap().contains("a release is under way"),
        "{p:?}"
    );
    assert!(
        !deleted.iter().any(|d| d.starts_with("dev-payment-fixed:")),
        "{deleted:?}"
    );
    assert_eq!(pruned["auth"].deleted, [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn a_refused_deletion_stops_that_function_and_no_other() {
    let mut account = account(5);
    account.refuse.push("dev-product:2".into());
    let (pruned, deleted, lines) = run(account, 2).await;
    let p = &pruned["product"];
    assert_eq!(p.deleted, [1]);
    assert_eq!(p.kept, [2, 3, 4, 5]);
    let problem = p.problem.as_deref().unwrap();
    assert!(problem.contains("DeleteFunction dev-product:2"), "{problem}");
    assert!(!deleted.contains(&"dev-product:3".to_owned()), "{deleted:?}");
    assert_eq!(pruned["auth"].deleted, [1, 2, 3]);
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("prune product: deleted 1; kept 2, 3, 4, 5 (")),
        "{lines:?}"
    );
}

#[tokio::test]
async fn fewer_versions_than_kept_deletes_nothing() {
    let (pruned, deleted, _) = run(account(3), 5).await;
    assert!(deleted.is_empty(), "{deleted:?}");
    assert!(pruned
        .values()
        .all(|p| p.kept == [1, 2, 3] && p.problem.is_none()));
}
