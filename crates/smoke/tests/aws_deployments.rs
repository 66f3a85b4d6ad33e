//! The drill's `Deployments` port on AWS ([`AwsDeployments`]) through the SDK's own mocks
//! (aws-smithy-mocks): Lambda answers what `live` serves, what PublishVersion published and what
//! the new version answers to the pre-traffic check; CodeDeploy answers CreateDeployment,
//! GetDeployment (scripted per test) and StopDeployment; CloudWatch answers DescribeAlarms.
//! Every request is recorded, so each test says which calls were made, with what, and which
//! were not.
#![cfg(feature = "aws")]

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_sdk_cloudwatch::operation::describe_alarms::{DescribeAlarmsInput, DescribeAlarmsOutput};
use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
use aws_sdk_codedeploy::operation::create_deployment::{CreateDeploymentInput, CreateDeploymentOutput};
use aws_sdk_codedeploy::operation::get_deployment::{GetDeploymentInput, GetDeploymentOutput};
use aws_sdk_codedeploy::operation::stop_deployment::{StopDeploymentInput, StopDeploymentOutput};
use aws_sdk_codedeploy::types::{
    DeploymentInfo, DeploymentStatus, ErrorCode, ErrorInformation, RevisionLocationType, RollbackInfo,
    StopStatus,
};
use aws_sdk_lambda::operation::get_alias::{GetAliasInput, GetAliasOutput};
use aws_sdk_lambda::operation::invoke::{InvokeInput, InvokeOutput};
use aws_sdk_lambda::operation::publish_version::{PublishVersionInput, PublishVersionOutput};
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use outage_config::Stage;
use serde_json::{json, Value};
use smoke_test::ports::{Deployments, ReleaseState, ReleaseStatus};
use smoke_test::release::deployments::AwsDeployments;
use smoke_test::release::Releaser;
use smoke_test::targets::aws::AwsTarget;
use smoke_test::PortError;
use time::OffsetDateTime;

const API_URL: &str = "https://abc123.execute-api.eu-west-1.amazonaws.com";
/// The id CreateDeployment answers with.
const DEPLOYMENT: &str = "d-7XK2M9QPL";
/// completeTime of every deployment that ended (2025-12-02T04:00:00Z).
const COMPLETED: i64 = 1_764_648_000;

fn dev() -> Stage {
    Stage::load_named(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), "dev").unwrap()
}

/// The scripted AWS side of one test, for `dev-payment-fixed`.
struct Aws {
    /// The version `live` serves, and other versions' weights on it.
    live: &'static str,
    weights: Vec<(&'static str, f64)>,
    /// What PublishVersion answers.
    published: &'static str,
    /// The new version answers the pre-traffic check with an unhandled error.
    check_fails: bool,
    /// GetDeployment's answers in turn; the last one repeats.
    deployment: Vec<DeploymentInfo>,
    /// Alarms CloudWatch reports in ALARM.
    in_alarm: Vec<&'static str>,
}

impl Default for Aws {
    fn default() -> Self {
        Aws {
            live: "3",
            weights: Vec::new(),
            published: "4",
            check_fails: false,
            deployment: vec![running()],
            in_alarm: Vec::new(),
        }
    }
}

fn running() -> DeploymentInfo {
    DeploymentInfo::builder()
        .deployment_id(DEPLOYMENT)
        .status(DeploymentStatus::InProgress)
        .build()
}

fn ended(status: DeploymentStatus) -> DeploymentInfo {
    DeploymentInfo::builder()
        .deployment_id(DEPLOYMENT)
        .status(status)
        .complete_time(aws_sdk_codedeploy::primitives::DateTime::from_secs(COMPLETED))
        .build()
}

/// What CodeDeploy's message says when a deployment group's alarm stopped a deployment.
fn alarm_message(alarm: &str) -> String {
    format!("One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: {alarm}")
}

/// A deployment CodeDeploy stopped because `alarm` went to ALARM, as it reports one.
fn stopped_by_alarm(alarm: &str) -> DeploymentInfo {
    DeploymentInfo::builder()
        .deployment_id(DEPLOYMENT)
        .status(DeploymentStatus::Stopped)
        .error_information(
            ErrorInformation::builder()
                .code(ErrorCode::AlarmActive)
                .message(alarm_message(alarm))
                .build(),
        )
        .rollback_info(
            RollbackInfo::builder()
                .rollback_deployment_id("d-ROLLBACK1")
                .rollback_message("Automatic rollback triggered by alarm")
                .build(),
        )
        .complete_time(aws_sdk_codedeploy::primitives::DateTime::from_secs(COMPLETED))
        .build()
}

/// Every request the mocks were sent, and the operations in the order they came.
#[derive(Default, Clone)]
struct Calls {
    ops: Vec<&'static str>,
    get_alias: Vec<GetAliasInput>,
    publish: Vec<PublishVersionInput>,
    invoke: Vec<InvokeInput>,
    create: Vec<CreateDeploymentInput>,
    get: Vec<GetDeploymentInput>,
    stop: Vec<StopDeploymentInput>,
    describe: Vec<DescribeAlarmsInput>,
}

struct Harness {
    port: AwsDeployments,
    calls: Arc<Mutex<Calls>>,
}

impl Harness {
    /// What was sent so far.
    fn calls(&self) -> Calls {
        self.calls.lock().unwrap().clone()
    }

    fn ops(&self) -> Vec<&'static str> {
        self.calls().ops
    }
}

fn aws(script: Aws) -> Harness {
    let script = Arc::new(script);
    let calls = Arc::new(Mutex::new(Calls::default()));

    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let get_alias = mock!(aws_sdk_lambda::Client::get_alias).then_compute_response(move |req| {
        let mut calls = c.lock().unwrap();
        calls.ops.push("GetAlias");
        calls.get_alias.push(req.clone());
        let weights: HashMap<String, f64> = s.weights.iter().map(|(v, w)| ((*v).to_owned(), *w)).collect();
        MockResponse::Output(
            GetAliasOutput::builder()
                .name("live")
                .function_version(s.live)
                .routing_config(
                    AliasRoutingConfiguration::builder()
                        .set_additional_version_weights(Some(weights))
                        .build(),
                )
                .build(),
        )
    });
    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let publish = mock!(aws_sdk_lambda::Client::publish_version).then_compute_response(move |req| {
        let mut calls = c.lock().unwrap();
        calls.ops.push("PublishVersion");
        calls.publish.push(req.clone());
        MockResponse::Output(PublishVersionOutput::builder().version(s.published).build())
    });
    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let invoke = mock!(aws_sdk_lambda::Client::invoke).then_compute_response(move |req| {
        let mut calls = c.lock().unwrap();
        calls.ops.push("Invoke");
        calls.invoke.push(req.clone());
        let output = if s.check_fails {
            InvokeOutput::builder()
                .status_code(200)
                .function_error("Unhandled")
                .payload(Blob::new(
                    r#"{"errorType":"&alloc::boxed::Box<dyn core::error::Error>","errorMessage":"Simulated payment failure"}"#,
                ))
        } else {
            InvokeOutput::builder().status_code(200).payload(Blob::new(
                r#"{"statusCode":200,"headers":{"content-type":"application/json"},"body":"{\"status\":\"ok\"}","isBase64Encoded":false}"#,
            ))
        };
        MockResponse::Output(
            output
                .executed_version(req.qualifier().unwrap_or("$LATEST"))
                .build(),
        )
    });

    let c = Arc::clone(&calls);
    let create = mock!(aws_sdk_codedeploy::Client::create_deployment).then_compute_response(move |req| {
        let mut calls = c.lock().unwrap();
        calls.ops.push("CreateDeployment");
        calls.create.push(req.clone());
        MockResponse::Output(
            CreateDeploymentOutput::builder()
                .deployment_id(DEPLOYMENT)
                .build(),
        )
    });
    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let get = mock!(aws_sdk_codedeploy::Client::get_deployment).then_compute_response(move |req| {
        let mut calls = c.lock().unwrap();
        calls.ops.push("GetDeployment");
        calls.get.push(req.clone());
        let turn = (calls.get.len() - 1).min(s.deployment.len() - 1);
        MockResponse::Output(
            GetDeploymentOutput::builder()
                .deployment_info(s.deployment[turn].clone())
                .build(),
        )
    });
    let c = Arc::clone(&calls);
    let stop = mock!(aws_sdk_codedeploy::Client::stop_deployment).then_compute_response(move |req| {
        let mut calls = c.lock().unwrap();
        calls.ops.push("StopDeployment");
        calls.stop.push(req.clone());
        MockResponse::Output(
            StopDeploymentOutput::builder()
                .status(StopStatus::Pending)
                .status_message("Stopping deployment")
                .build(),
        )
    });

    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_compute_response(move |req| {
        let mut calls = c.lock().unwrap();
        calls.ops.push("DescribeAlarms");
        calls.describe.push(req.clone());
        let alarms = req.alarm_names().iter().map(|name| {
            let state = if s.in_alarm.contains(&name.as_str()) {
                StateValue::Alarm
            } else {
                StateValue::Ok
            };
            MetricAlarm::builder()
                .alarm_name(name)
                .state_value(state)
                .state_updated_timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                    COMPLETED - 30,
                ))
                .build()
        });
        MockResponse::Output(
            DescribeAlarmsOutput::builder()
                .set_metric_alarms(Some(alarms.collect()))
                .build(),
        )
    });

    let lambda = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        [&get_alias, &publish, &invoke]
    );
    let codedeploy = mock_client!(aws_sdk_codedeploy, RuleMode::MatchAny, [&create, &get, &stop]);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&describe]);
    let stage = dev();
    let names = stage
        .functions
        .keys()
        .map(|k| (k.clone(), stage.function_name(k)))
        .collect();
    let releaser = Releaser::new(AwsTarget::new(lambda, cloudwatch, names), codedeploy);
    Harness {
        port: AwsDeployments::new(releaser, stage, API_URL),
        calls,
    }
}

/// The AppSpec's one resource, as CreateDeployment carried it.
fn appspec_resource(create: &CreateDeploymentInput) -> Value {
    let revision = create.revision().expect("CreateDeployment names a revision");
    assert_eq!(
        revision.revision_type(),
        Some(&RevisionLocationType::AppSpecContent)
    );
    let content = revision
        .app_spec_content()
        .and_then(|a| a.content())
        .expect("the AppSpec is sent inline");
    let doc: Value = serde_json::from_str(content).expect("the AppSpec is JSON");
    let resources = doc["Resources"].as_array().expect("Resources is a list");
    assert_eq!(resources.len(), 1, "{doc}");
    resources[0]["dev-payment-fixed"].clone()
}

/// The deployment CreateDeployment started moves `live` of dev-payment-fixed from `from` to `to`
/// in the application and group Terraform made for it.
fn assert_creates(create: &CreateDeploymentInput, from: &str, to: &str) {
    assert_eq!(create.application_name(), Some("dev-outage-lab"));
    assert_eq!(create.deployment_group_name(), Some("dev-payment-fixed"));
    assert_eq!(
        appspec_resource(create),
        json!({
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Name": "dev-payment-fixed",
                "Alias": "live",
                "CurrentVersion": from,
                "TargetVersion": to,
            }
        })
    );
    let description = create.description().unwrap_or_default();
    assert!(description.contains(&format!("{from} -> {to}")), "{description}");
}

fn rejected(result: Result<ReleaseState, PortError>) -> String {
    match result {
        Err(PortError::Rejected(text)) => text,
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_checked_release_invokes_the_new_version_then_creates_the_deployment() {
    let aws = aws(Aws::default());
    let state = aws.port.start_release("payment-fixed", None, true).await.unwrap();

    let calls = aws.calls();
    assert_eq!(
        calls.ops,
        ["GetAlias", "PublishVersion", "Invoke", "CreateDeployment"]
    );
    assert_eq!(calls.get_alias[0].function_name(), Some("dev-payment-fixed"));
    assert_eq!(calls.get_alias[0].name(), Some("live"));
    assert_eq!(calls.publish[0].function_name(), Some("dev-payment-fixed"));

    // The pre-traffic check: version 4 itself, not `live`, with the API's event for the route.
    let invoke = &calls.invoke[0];
    assert_eq!(invoke.function_name(), Some("dev-payment-fixed"));
    assert_eq!(invoke.qualifier(), Some("4"));
    let event: Value = serde_json::from_slice(invoke.payload().unwrap().as_ref()).unwrap();
    assert_eq!(event["routeKey"], "GET /pay-fixed");
    assert_eq!(event["rawPath"], "/pay-fixed");
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    assert_eq!(
        event["requestContext"]["domainName"],
        "abc123.execute-api.eu-west-1.amazonaws.com"
    );

    // The group's own configuration (the stage's canary:10%:1m): none named.
    let create = &calls.create[0];
    assert_creates(create, "3", "4");
    assert_eq!(create.deployment_config_name(), None);

    assert_eq!(state.id, DEPLOYMENT);
    assert_eq!(state.status, ReleaseStatus::InProgress);
    assert_eq!(
        (state.from_version.as_str(), state.to_version.as_str()),
        ("3", "4")
    );
    assert_eq!(state.strategy, "canary:10%:1m");
    assert_eq!(state.stopped_by, None);
    assert_eq!(state.ended_at, None);
    assert!(state.traffic.is_empty(), "CodeDeploy counts no traffic");
    assert_eq!(state.events.len(), 2, "{:#?}", state.events);
    assert!(
        state.events[0].starts_with("pre-traffic check: GET /pay-fixed answered 200"),
        "{:#?}",
        state.events
    );
    assert_eq!(
        state.events[1],
        format!("deployment {DEPLOYMENT} in dev-outage-lab/dev-payment-fixed: canary:10%:1m")
    );
}

#[tokio::test]
async fn a_failed_pre_traffic_check_starts_no_deployment_and_is_remembered() {
    let aws = aws(Aws {
        check_fails: true,
        ..Aws::default()
    });
    let state = aws.port.start_release("payment-fixed", None, true).await.unwrap();

    assert_eq!(aws.ops(), ["GetAlias", "PublishVersion", "Invoke"]);
    assert_eq!(aws.calls().invoke[0].qualifier(), Some("4"));
    assert_eq!(state.status, ReleaseStatus::Failed);
    assert!(state.ended_at.is_some(), "{state:#?}");
    assert_eq!(state.stopped_by, None);
    assert_eq!(
        (state.from_version.as_str(), state.to_version.as_str()),
        ("3", "4")
    );
    assert!(!state.id.is_empty());
    assert_ne!(state.id, DEPLOYMENT);
    assert!(
        state
            .events
            .iter()
            .any(|e| e.contains("pre-traffic check of version 4 failed")
                && e.contains("Unhandled")
                && e.contains("Simulated payment failure")
                && e.contains("no deployment started")),
        "{:#?}",
        state.events
    );

    // Its state, and stopping it, need no AWS call: there is no deployment to ask about.
    let again = aws.port.release_state("payment-fixed", &state.id).await.unwrap();
    assert_eq!(again, state);
    aws.port.stop_release("payment-fixed", &state.id).await.unwrap();
    assert_eq!(aws.ops(), ["GetAlias", "PublishVersion", "Invoke"]);
}

#[tokio::test]
async fn a_version_live_already_serves_is_nothing_to_release() {
    let aws = aws(Aws {
        live: "4",
        published: "4",
        ..Aws::default()
    });
    let text = rejected(aws.port.start_release("payment-fixed", None, true).await);
    assert!(text.contains("nothing to release"), "{text}");
    assert!(text.contains("version 4"), "{text}");
    assert_eq!(aws.ops(), ["GetAlias", "PublishVersion"]);
}

#[tokio::test]
async fn a_live_alias_that_already_splits_traffic_is_refused_before_publishing() {
    let aws = aws(Aws {
        weights: vec![("4", 0.1)],
        ..Aws::default()
    });
    let text = rejected(aws.port.start_release("payment-fixed", None, true).await);
    assert!(text.contains("already splits traffic"), "{text}");
    assert!(text.contains("dev-payment-fixed"), "{text}");
    assert_eq!(aws.ops(), ["GetAlias"]);
    assert!(aws.calls().publish.is_empty());
}

#[tokio::test]
async fn a_predefined_strategy_is_named_in_the_deployment() {
    let aws = aws(Aws::default());
    let state = aws
        .port
        .start_release("payment-fixed", Some("LambdaLinear10PercentEvery1Minute"), false)
        .await
        .unwrap();

    // Without the check, nothing is invoked.
    assert_eq!(aws.ops(), ["GetAlias", "PublishVersion", "CreateDeployment"]);
    let create = &aws.calls().create[0];
    assert_creates(create, "3", "4");
    assert_eq!(
        create.deployment_config_name(),
        Some("CodeDeployDefault.LambdaLinear10PercentEvery1Minute")
    );
    assert_eq!(state.id, DEPLOYMENT);
    assert_eq!(state.status, ReleaseStatus::InProgress);
    assert_eq!(state.strategy, "linear:10%:1m");
    assert_eq!(
        state.events,
        [format!(
            "deployment {DEPLOYMENT} in dev-outage-lab/dev-payment-fixed: linear:10%:1m"
        )]
    );
}

#[tokio::test]
async fn the_stage_s_own_strategy_named_explicitly_is_the_group_s_configuration() {
    let aws = aws(Aws::default());
    let state = aws
        .port
        .start_release("payment-fixed", Some("canary:10%:1m"), false)
        .await
        .unwrap();
    assert_eq!(aws.ops(), ["GetAlias", "PublishVersion", "CreateDeployment"]);
    assert_eq!(aws.calls().create[0].deployment_config_name(), None);
    assert_eq!(state.strategy, "canary:10%:1m");
}

#[tokio::test]
async fn a_custom_strategy_other_than_the_stage_s_is_refused_before_any_call() {
    let aws = aws(Aws::default());
    let text = rejected(
        aws.port
            .start_release("payment-fixed", Some("canary:20%:3m"), true)
            .await,
    );
    assert!(text.contains("canary:20%:3m"), "{text}");
    assert!(text.contains("only as the stage's own"), "{text}");
    let text = rejected(
        aws.port
            .start_release("payment-fixed", Some("sideways"), true)
            .await,
    );
    assert!(text.contains("unknown release strategy"), "{text}");
    assert!(aws.ops().is_empty(), "{:?}", aws.ops());
}

#[tokio::test]
async fn release_state_follows_the_deployment_until_an_alarm_stops_it() {
    let aws = aws(Aws {
        deployment: vec![
            running(),
            running(),
            stopped_by_alarm("dev-payment-fixed-fast-errors"),
        ],
        // CloudWatch has another of the function's alarms in ALARM by now: CodeDeploy's own
        // word on which one stopped the deployment comes first.
        in_alarm: vec!["dev-payment-fixed-errors"],
        ..Aws::default()
    });
    let started = aws
        .port
        .start_release("payment-fixed", None, false)
        .await
        .unwrap();
    assert_eq!(started.id, DEPLOYMENT);

    let state = aws.port.release_state("payment-fixed", DEPLOYMENT).await.unwrap();
    assert_eq!(state.status, ReleaseStatus::InProgress);
    assert_eq!((state.stopped_by.as_deref(), state.ended_at), (None, None));
    assert_eq!(
        state.events.last().map(String::as_str),
        Some("CodeDeploy: InProgress")
    );
    let calls = aws.calls();
    assert_eq!(calls.get.len(), 1);
    assert_eq!(calls.get[0].deployment_id(), Some(DEPLOYMENT));

    // The same phase again adds no line.
    let state = aws.port.release_state("payment-fixed", DEPLOYMENT).await.unwrap();
    assert_eq!(state.status, ReleaseStatus::InProgress);
    assert_eq!(
        state
            .events
            .iter()
            .filter(|e| *e == "CodeDeploy: InProgress")
            .count(),
        1,
        "{:#?}",
        state.events
    );

    let state = aws.port.release_state("payment-fixed", DEPLOYMENT).await.unwrap();
    assert_eq!(state.status, ReleaseStatus::Stopped);
    assert_eq!(state.stopped_by.as_deref(), Some("dev-payment-fixed-fast-errors"));
    assert_eq!(
        state.ended_at,
        Some(OffsetDateTime::from_unix_timestamp(COMPLETED).unwrap())
    );
    assert_eq!(state.id, DEPLOYMENT);
    assert_eq!(
        (state.from_version.as_str(), state.to_version.as_str()),
        ("3", "4")
    );
    assert_eq!(state.strategy, "canary:10%:1m");
    assert!(
        state
            .events
            .contains(&alarm_message("dev-payment-fixed-fast-errors")),
        "{:#?}",
        state.events
    );
    assert_eq!(aws.calls().get.len(), 3);
    assert!(
        aws.calls().describe.is_empty(),
        "CodeDeploy named the alarm: CloudWatch is not asked"
    );

    // An ended release is not asked about again.
    let again = aws.port.release_state("payment-fixed", DEPLOYMENT).await.unwrap();
    assert_eq!(again, state);
    assert_eq!(aws.calls().get.len(), 3);
}

#[tokio::test]
async fn a_succeeded_deployment_names_no_alarm() {
    let aws = aws(Aws {
        deployment: vec![ended(DeploymentStatus::Succeeded)],
        // An alarm in ALARM now does not make a succeeded release a stopped one.
        in_alarm: vec!["dev-payment-fixed-fast-errors"],
        ..Aws::default()
    });
    aws.port
        .start_release("payment-fixed", None, false)
        .await
        .unwrap();
    let state = aws.port.release_state("payment-fixed", DEPLOYMENT).await.unwrap();
    assert_eq!(state.status, ReleaseStatus::Succeeded);
    assert_eq!(state.stopped_by, None);
    assert_eq!(
        state.ended_at,
        Some(OffsetDateTime::from_unix_timestamp(COMPLETED).unwrap())
    );
    assert_eq!(
        aws.ops(),
        ["GetAlias", "PublishVersion", "CreateDeployment", "GetDeployment"]
    );
}

#[tokio::test]
async fn a_failed_deployment_without_a_named_alarm_is_explained_by_cloudwatch() {
    let aws = aws(Aws {
        deployment: vec![ended(DeploymentStatus::Failed)],
        in_alarm: vec!["dev-payment-fixed-duration-p99"],
        ..Aws::default()
    });
    aws.port
        .start_release("payment-fixed", None, false)
        .await
        .unwrap();
    let state = aws.port.release_state("payment-fixed", DEPLOYMENT).await.unwrap();
    // CodeDeploy rolled a failed Lambda deployment back: for the drill it stopped.
    assert_eq!(state.status, ReleaseStatus::Stopped);
    assert_eq!(
        state.stopped_by.as_deref(),
        Some("dev-payment-fixed-duration-p99")
    );
    assert_eq!(
        state.ended_at,
        Some(OffsetDateTime::from_unix_timestamp(COMPLETED).unwrap())
    );
    // Only the function's own alarms were asked about.
    let asked: Vec<String> = aws
        .calls()
        .describe
        .iter()
        .flat_map(|d| d.alarm_names().to_vec())
        .collect();
    assert!(!asked.is_empty());
    assert!(
        asked.iter().all(|a| a.starts_with("dev-payment-fixed-")),
        "{asked:?}"
    );
    assert!(
        asked.contains(&"dev-payment-fixed-duration-p99".to_owned()),
        "{asked:?}"
    );
}

#[tokio::test]
async fn stopping_a_release_in_progress_rolls_it_back() {
    let aws = aws(Aws::default());
    aws.port
        .start_release("payment-fixed", None, false)
        .await
        .unwrap();
    aws.port.stop_release("payment-fixed", DEPLOYMENT).await.unwrap();
    let calls = aws.calls();
    assert_eq!(
        calls.ops,
        [
            "GetAlias",
            "PublishVersion",
            "CreateDeployment",
            "GetDeployment",
            "StopDeployment"
        ]
    );
    assert_eq!(calls.stop.len(), 1);
    assert_eq!(calls.stop[0].deployment_id(), Some(DEPLOYMENT));
    assert_eq!(calls.stop[0].auto_rollback_enabled(), Some(true));
}

#[tokio::test]
async fn stopping_a_release_that_already_ended_leaves_it_alone() {
    let aws = aws(Aws {
        deployment: vec![ended(DeploymentStatus::Succeeded)],
        ..Aws::default()
    });
    aws.port
        .start_release("payment-fixed", None, false)
        .await
        .unwrap();
    aws.port.stop_release("payment-fixed", DEPLOYMENT).await.unwrap();
    assert_eq!(
        aws.ops(),
        ["GetAlias", "PublishVersion", "CreateDeployment", "GetDeployment"]
    );
    assert!(aws.calls().stop.is_empty());
    let state = aws.port.release_state("payment-fixed", DEPLOYMENT).await.unwrap();
    assert_eq!(state.status, ReleaseStatus::Succeeded);
}

#[tokio::test]
async fn a_release_this_port_did_not_start_is_not_found_without_asking_aws() {
    let aws = aws(Aws::default());
    let e = aws
        .port
        .release_state("payment-fixed", "d-SOMEONEELSE")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PortError::NotFound(t) if t.contains("d-SOMEONEELSE")),
        "{e:?}"
    );
    let e = aws
        .port
        .stop_release("payment-fixed", "d-SOMEONEELSE")
        .await
        .unwrap_err();
    assert!(matches!(e, PortError::NotFound(_)), "{e:?}");
    assert!(aws.ops().is_empty(), "{:?}", aws.ops());
}

#[tokio::test]
async fn a_release_this_run_stopped_names_the_run_not_an_alarm_in_alarm() {
    let aws = aws(Aws {
        deployment: vec![running(), ended(DeploymentStatus::Stopped)],
        in_alarm: vec!["dev-payment-fixed-errors"],
        ..Aws::default()
    });
    aws.port
        .start_release("payment-fixed", None, false)
        .await
        .unwrap();
    aws.port.stop_release("payment-fixed", DEPLOYMENT).await.unwrap();
    let state = aws.port.release_state("payment-fixed", DEPLOYMENT).await.unwrap();
    assert_eq!(state.status, ReleaseStatus::Stopped);
    assert_eq!(
        state.stopped_by.as_deref(),
        Some(smoke_test::release::deployments::STOPPED_BY_THE_RUN)
    );
    assert!(aws.calls().describe.is_empty());
}
