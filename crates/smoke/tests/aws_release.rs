//! `smoke-test release` against AWS through the SDK's own mocks (aws-smithy-mocks): Lambda
//! answers what `live` serves and what was published, the new version's direct invocation,
//! CodeDeploy runs the deployment as scripted per test. The API in front is a small HTTP server
//! on loopback that splits traffic as an alias with a canary weight does and marks each answer
//! with `x-function-version`, as the functions do. The release's clock is shrunk
//! ([`Timing`]), so each test takes a fraction of a second of real time.
#![cfg(feature = "aws")]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
use aws_sdk_codedeploy::operation::create_deployment::{CreateDeploymentInput, CreateDeploymentOutput};
use aws_sdk_codedeploy::operation::get_deployment::GetDeploymentOutput;
use aws_sdk_codedeploy::operation::stop_deployment::{StopDeploymentError, StopDeploymentOutput};
use aws_sdk_codedeploy::types::{
    DeploymentInfo, DeploymentStatus, ErrorCode, ErrorInformation, RevisionLocationType, RollbackInfo,
    StopStatus,
};
use aws_sdk_lambda::operation::get_alias::{GetAliasError, GetAliasOutput};
use aws_sdk_lambda::operation::invoke::{InvokeInput, InvokeOutput};
use aws_sdk_lambda::operation::list_versions_by_function::ListVersionsByFunctionOutput;
use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::error::ResourceNotFoundException;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, FunctionConfiguration};
use aws_smithy_mocks::{mock, mock_client, MockResponse, Rule, RuleMode};
use outage_config::Stage;
use smoke_test::release::{self, PreTrafficCheck, ReleaseReport, Releaser, Status, Timing};
use smoke_test::targets::aws::AwsTarget;
use smoke_test::traffic::HttpTraffic;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn dev() -> Stage {
    Stage::load_named(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), "dev").unwrap()
}

/// The release's clock, shrunk: a strategy minute of 10 ms, a poll every 5 ms, a request every
/// 2 ms; the margin past the strategy's end leaves a loaded machine time to send the requests a
/// test waits for (`Script::min_served`).
fn timing() -> Timing {
    Timing {
        minute: Duration::from_millis(10),
        poll_every: Duration::from_millis(5),
        margin: Duration::from_secs(3),
        traffic_every: Some(Duration::from_millis(2)),
        report_every: Duration::from_secs(1),
    }
}

/// What Lambda holds for one function: the version `live` serves, the newest published one, and
/// weights of other versions on `live`.
#[derive(Clone)]
struct Versions {
    live: u32,
    latest: u32,
    weights: Vec<(u32, f64)>,
}

/// The scripted AWS side of one test.
struct Script {
    /// Function key -> versions; a key missing here has no `live` alias.
    versions: BTreeMap<&'static str, Versions>,
    /// Deployed names whose new version answers with an unhandled error.
    invoke_fails: Vec<&'static str>,
    /// GetDeployment answers InProgress this many times, then `end` (None: never ends).
    polls_running: u32,
    /// And, when set, until the API has answered this many requests: a loaded machine must not
    /// end the deployment before the bake traffic reached the canary.
    min_served: Option<(Arc<AtomicU32>, u32)>,
    end: Option<DeploymentInfo>,
    /// StopDeployment fails.
    stop_fails: bool,
    /// Alarms CloudWatch reports in ALARM.
    alarms_in_alarm: Vec<&'static str>,
}

impl Default for Script {
    fn default() -> Self {
        let same = |v| Versions {
            live: v,
            latest: v,
            weights: Vec::new(),
        };
        Script {
            versions: BTreeMap::from([
                ("auth", same(3)),
                ("payment", same(2)),
                ("payment-fixed", same(6)),
                ("product", same(4)),
            ]),
            invoke_fails: Vec::new(),
            polls_running: 10,
            min_served: None,
            end: Some(ended(DeploymentStatus::Succeeded)),
            stop_fails: false,
            alarms_in_alarm: Vec::new(),
        }
    }
}

fn ended(status: DeploymentStatus) -> DeploymentInfo {
    DeploymentInfo::builder()
        .deployment_id("d-TEST")
        .status(status)
        .complete_time(aws_sdk_codedeploy::primitives::DateTime::from_secs(1_764_648_000))
        .build()
}

/// A deployment CodeDeploy stopped because `alarm` went to ALARM, as it reports one.
fn stopped_by_alarm(alarm: &str) -> DeploymentInfo {
    DeploymentInfo::builder()
        .deployment_id("d-TEST")
        .status(DeploymentStatus::Stopped)
        .error_information(
            ErrorInformation::builder()
                .code(ErrorCode::AlarmActive)
                .message(format!("One or more alarms have been activated according to the Amazon CloudWatch metrics you selected, and the affected deployments have been stopped. Activated alarms: {alarm}"))
                .build(),
        )
        .rollback_info(
            RollbackInfo::builder()
                .rollback_deployment_id("d-ROLLBACK")
                .rollback_message("Automatic rollback triggered by alarm")
                .build(),
        )
        .complete_time(aws_sdk_codedeploy::primitives::DateTime::from_secs(1_764_648_000))
        .build()
}

/// What the mocks were asked.
#[derive(Default)]
struct Calls {
    invokes: Vec<InvokeInput>,
    creates: Vec<CreateDeploymentInput>,
    gets: u32,
    stops: Vec<(String, Option<bool>)>,
    describes: Vec<Vec<String>>,
}

/// The rules, kept so each test can count calls.
struct Mocks {
    rules: Vec<Rule>,
}

fn key_of(name: &str) -> &str {
    name.strip_prefix("dev-").unwrap_or(name)
}

fn aws(script: Script) -> (Releaser, Arc<Mutex<Calls>>, Mocks) {
    let script = Arc::new(script);
    let calls = Arc::new(Mutex::new(Calls::default()));

    let s = Arc::clone(&script);
    let get_alias = mock!(aws_sdk_lambda::Client::get_alias).then_compute_response(move |req| {
        assert_eq!(req.name(), Some("live"), "GetAlias reads the alias `live`");
        let Some(v) = s.versions.get(key_of(req.function_name().unwrap())) else {
            return MockResponse::Error(GetAliasError::ResourceNotFoundException(
                ResourceNotFoundException::builder()
                    .message("Cannot find alias arn: arn:aws:lambda:eu-west-1:123456789012:function:x:live")
                    .build(),
            ));
        };
        let weights: HashMap<String, f64> = v.weights.iter().map(|(k, w)| (k.to_string(), *w)).collect();
        MockResponse::Output(
            GetAliasOutput::builder()
                .name("live")
                .function_version(v.live.to_string())
                .routing_config(
                    AliasRoutingConfiguration::builder()
                        .set_additional_version_weights(Some(weights))
                        .build(),
                )
                .build(),
        )
    });
    let s = Arc::clone(&script);
    let list = mock!(aws_sdk_lambda::Client::list_versions_by_function).then_compute_response(move |req| {
        let v = &s.versions[key_of(req.function_name().unwrap())];
        // Oldest first, $LATEST among them, as Lambda lists them.
        let versions = std::iter::once("$LATEST".to_owned())
            .chain((1..=v.latest).map(|n| n.to_string()))
            .map(|n| FunctionConfiguration::builder().version(n).build());
        MockResponse::Output(
            ListVersionsByFunctionOutput::builder()
                .set_versions(Some(versions.collect()))
                .build(),
        )
    });
    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let invoke = mock!(aws_sdk_lambda::Client::invoke).then_compute_response(move |req| {
        c.lock().unwrap().invokes.push(req.clone());
        let name = req.function_name().unwrap();
        let version = req.qualifier().unwrap().to_owned();
        let output = if s.invoke_fails.contains(&name) {
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
        MockResponse::Output(output.executed_version(version).build())
    });

    let c = Arc::clone(&calls);
    let create = mock!(aws_sdk_codedeploy::Client::create_deployment).then_compute_response(move |req| {
        c.lock().unwrap().creates.push(req.clone());
        MockResponse::Output(CreateDeploymentOutput::builder().deployment_id("d-TEST").build())
    });
    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let get = mock!(aws_sdk_codedeploy::Client::get_deployment).then_compute_response(move |req| {
        assert_eq!(req.deployment_id(), Some("d-TEST"));
        let mut calls = c.lock().unwrap();
        calls.gets += 1;
        let info = match &s.end {
            Some(end)
                if calls.gets > s.polls_running
                    && s.min_served
                        .as_ref()
                        .is_none_or(|(n, at_least)| n.load(Ordering::SeqCst) >= *at_least) =>
            {
                end.clone()
            }
            _ => DeploymentInfo::builder()
                .deployment_id("d-TEST")
                .status(DeploymentStatus::InProgress)
                .build(),
        };
        MockResponse::Output(GetDeploymentOutput::builder().deployment_info(info).build())
    });
    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let stop = mock!(aws_sdk_codedeploy::Client::stop_deployment).then_compute_response(move |req| {
        c.lock().unwrap().stops.push((
            req.deployment_id().unwrap_or_default().to_owned(),
            req.auto_rollback_enabled(),
        ));
        if s.stop_fails {
            return MockResponse::Error(StopDeploymentError::generic(
                aws_sdk_codedeploy::error::ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("User is not authorized to perform: codedeploy:StopDeployment")
                    .build(),
            ));
        }
        MockResponse::Output(
            StopDeploymentOutput::builder()
                .status(StopStatus::Pending)
                .build(),
        )
    });

    let (s, c) = (Arc::clone(&script), Arc::clone(&calls));
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_compute_response(move |req| {
        c.lock().unwrap().describes.push(req.alarm_names().to_vec());
        let alarms = req.alarm_names().iter().map(|name| {
            let state = if s.alarms_in_alarm.contains(&name.as_str()) {
                StateValue::Alarm
            } else {
                StateValue::Ok
            };
            MetricAlarm::builder()
                .alarm_name(name)
                .state_value(state)
                .state_updated_timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(1_764_647_990))
                .build()
        });
        MockResponse::Output(
            DescribeAlarmsOutput::builder()
                .set_metric_alarms(Some(alarms.collect()))
                .build(),
        )
    });

    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&get_alias, &list, &invoke]);
    let codedeploy = mock_client!(aws_sdk_codedeploy, RuleMode::MatchAny, [&create, &get, &stop]);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&describe]);
    let stage = dev();
    let names = stage
        .functions
        .keys()
        .map(|k| (k.clone(), stage.function_name(k)))
        .collect();
    let target = AwsTarget::new(lambda, cloudwatch, names);
    (
        Releaser::new(target, codedeploy),
        calls,
        Mocks {
            rules: vec![get_alias, list, invoke, create, get, stop, describe],
        },
    )
}

/// The deployed API on loopback while `live` shifts traffic: every tenth request goes to the
/// new version `new`, the rest to `old`; a failing new version answers 500 without the header
/// (as API Gateway does for an unhandled error).
struct Api {
    url: String,
    requests: Arc<AtomicU32>,
}

async fn api(old: u32, new: u32, new_fails: bool) -> Api {
    counted_api(old, new, new_fails, Arc::new(AtomicU32::new(0))).await
}

/// An API that counts its answers in `requests` (see [`Script::min_served`]).
async fn counted_api(old: u32, new: u32, new_fails: bool, requests: Arc<AtomicU32>) -> Api {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let count = Arc::clone(&requests);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let count = Arc::clone(&count);
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                assert!(
                    head.starts_with(b"GET /pay-fixed HTTP/1.1\r\n"),
                    "bake traffic GETs the function's route: {}",
                    String::from_utf8_lossy(&head)
                );
                let n = count.fetch_add(1, Ordering::SeqCst);
                let answer = if n % 10 == 9 && new_fails {
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: 35\r\nconnection: close\r\n\r\n{\"message\":\"Internal Server Error\"}".to_owned()
                } else {
                    let version = if n % 10 == 9 { new } else { old };
                    format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nx-function-version: {version}\r\ncontent-length: 15\r\nconnection: close\r\n\r\n{{\"status\":\"ok\"}}")
                };
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Api { url, requests }
}

async fn release(releaser: &Releaser, api: &Api) -> (ReleaseReport, Vec<String>) {
    let http = HttpTraffic::new(&api.url, Duration::from_secs(5)).unwrap();
    let lines = Mutex::new(Vec::new());
    let say = |line: &str| lines.lock().unwrap().push(line.to_owned());
    let report = release::run(releaser, &dev(), &http, &timing(), std::future::pending(), &say).await;
    (report, lines.into_inner().unwrap())
}

fn function<'a>(report: &'a ReleaseReport, key: &str) -> &'a release::FunctionRelease {
    report.functions.iter().find(|f| f.function == key).unwrap()
}

fn newer(live: u32, latest: u32) -> Versions {
    Versions {
        live,
        latest,
        weights: Vec::new(),
    }
}

#[tokio::test]
async fn a_good_release_checks_deploys_bakes_and_succeeds() {
    let mut script = Script::default();
    script.versions.insert("payment-fixed", newer(6, 7));
    let served = Arc::new(AtomicU32::new(0));
    script.min_served = Some((Arc::clone(&served), 20));
    let (releaser, calls, _mocks) = aws(script);
    let api = counted_api(6, 7, false, served).await;
    let (report, lines) = release(&releaser, &api).await;

    let f = function(&report, "payment-fixed");
    assert_eq!(f.status, Status::Succeeded, "{report:#?}\n{lines:#?}");
    assert_eq!(report.exit_code(), 0);
    assert!(report.passed);
    assert_eq!(
        (f.from_version.as_deref(), f.to_version.as_deref()),
        (Some("6"), Some("7"))
    );
    assert_eq!(f.pre_traffic_check, PreTrafficCheck::Passed);
    assert_eq!(f.stopped_by, None);
    assert_eq!(f.failed_requests, 0);
    assert!(f.requests >= 10, "{f:#?}");
    assert!(f.served_by["7"] >= 1 && f.served_by["6"] >= 1, "{f:#?}");
    let share = f.new_version_share.unwrap();
    assert!((0.0..0.25).contains(&share), "about one request in ten: {share}");
    for key in ["auth", "payment", "product"] {
        let other = function(&report, key);
        assert_eq!(other.status, Status::Unchanged);
        assert!(
            other.detail.starts_with("live already serves version "),
            "{}",
            other.detail
        );
    }

    let calls = calls.lock().unwrap();
    // The pre-traffic check invoked version 7 directly with the route's API event.
    assert_eq!(calls.invokes.len(), 1);
    let invoke = &calls.invokes[0];
    assert_eq!(invoke.function_name(), Some("dev-payment-fixed"));
    assert_eq!(invoke.qualifier(), Some("7"));
    let event: serde_json::Value = serde_json::from_slice(invoke.payload().unwrap().as_ref()).unwrap();
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["routeKey"], "GET /pay-fixed");
    assert_eq!(event["requestContext"]["http"]["method"], "GET");
    // One deployment, in the stage's application and the function's group, moving live 6 -> 7.
    assert_eq!(calls.creates.len(), 1);
    let create = &calls.creates[0];
    assert_eq!(create.application_name(), Some("dev-outage-lab"));
    assert_eq!(create.deployment_group_name(), Some("dev-payment-fixed"));
    let revision = create.revision().unwrap();
    assert_eq!(
        revision.revision_type(),
        Some(&RevisionLocationType::AppSpecContent)
    );
    let appspec: serde_json::Value =
        serde_json::from_str(revision.app_spec_content().unwrap().content().unwrap()).unwrap();
    assert_eq!(
        appspec["Resources"][0]["dev-payment-fixed"]["Properties"],
        serde_json::json!({"Name": "dev-payment-fixed", "Alias": "live", "CurrentVersion": "6", "TargetVersion": "7"})
    );
    assert_eq!(appspec["version"], 0.0);
    assert!(calls.gets > 10, "followed until Succeeded");
    assert!(calls.stops.is_empty());

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["passed"], true);
    let entry = json["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["function"] == "payment-fixed")
        .unwrap();
    assert_eq!(entry["status"], "succeeded");
    assert_eq!(entry["from_version"], "6");
    assert_eq!(entry["to_version"], "7");
    assert_eq!(entry["pre_traffic_check"], "passed");
    assert!(entry["stopped_by"].is_null());
    assert!(entry["requests"].as_u64().unwrap() >= 10);
    assert!(entry["new_version_share"].is_f64());
    assert_eq!(entry["failed_requests"], 0);
    assert!(
        lines
            .iter()
            .any(|l| l.contains("pre-traffic check passed: GET /pay-fixed answered 200")),
        "{lines:#?}"
    );
}

#[tokio::test]
async fn an_alarm_stops_a_faulty_canary_and_names_itself() {
    let mut script = Script::default();
    script.versions.insert("payment-fixed", newer(6, 7));
    script.end = Some(stopped_by_alarm("dev-payment-fixed-fast-errors"));
    let served = Arc::new(AtomicU32::new(0));
    script.min_served = Some((Arc::clone(&served), 20));
    let (releaser, calls, _mocks) = aws(script);
    let api = counted_api(6, 7, true, served).await;
    let (report, lines) = release(&releaser, &api).await;

    let f = function(&report, "payment-fixed");
    assert_eq!(f.status, Status::Stopped, "{report:#?}\n{lines:#?}");
    assert_eq!(f.stopped_by.as_deref(), Some("dev-payment-fixed-fast-errors"));
    assert_eq!(
        f.stopped_at,
        Some(time::OffsetDateTime::from_unix_timestamp(1_764_648_000).unwrap())
    );
    assert!(f.failed_requests >= 1, "the canary's share failed: {f:#?}");
    assert!(
        !f.served_by.contains_key("7"),
        "a failing version writes no header"
    );
    assert!(
        f.detail
            .contains("alarm dev-payment-fixed-fast-errors stopped it (ALARM_ACTIVE)")
            && f.detail.contains("live serves version 6"),
        "{}",
        f.detail
    );
    assert_eq!(report.exit_code(), 1);
    assert!(!report.passed);
    // CodeDeploy named the alarm: no need to ask CloudWatch, nor to stop it ourselves.
    let calls = calls.lock().unwrap();
    assert!(calls.describes.is_empty());
    assert!(calls.stops.is_empty());
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["passed"], false);
    let text = release::report::render(&report);
    assert!(
        text.contains("stopped by dev-payment-fixed-fast-errors at 2025-12-02T04:00:00Z"),
        "{text}"
    );
}

#[tokio::test]
async fn without_a_name_from_codedeploy_cloudwatch_says_which_alarm() {
    let mut script = Script::default();
    script.versions.insert("payment-fixed", newer(6, 7));
    script.end = Some(
        DeploymentInfo::builder()
            .deployment_id("d-TEST")
            .status(DeploymentStatus::Stopped)
            .error_information(
                ErrorInformation::builder()
                    .code(ErrorCode::AlarmActive)
                    .message("The deployment was stopped because an alarm is active.")
                    .build(),
            )
            .build(),
    );
    script.alarms_in_alarm = vec!["dev-payment-fixed-errors"];
    let (releaser, calls, _mocks) = aws(script);
    let api = api(6, 7, true).await;
    let (report, _) = release(&releaser, &api).await;
    let f = function(&report, "payment-fixed");
    assert_eq!(f.status, Status::Stopped);
    assert_eq!(f.stopped_by.as_deref(), Some("dev-payment-fixed-errors"));
    // No completeTime: when the alarm went to ALARM.
    assert_eq!(
        f.stopped_at,
        Some(time::OffsetDateTime::from_unix_timestamp(1_764_647_990).unwrap())
    );
    let asked: Vec<String> = calls.lock().unwrap().describes.concat();
    assert_eq!(
        asked,
        vec!["dev-payment-fixed-fast-errors", "dev-payment-fixed-errors"],
        "the function's alarms in order, until one is in ALARM"
    );
}

#[tokio::test]
async fn a_failed_pre_traffic_check_starts_no_deployment() {
    let mut script = Script::default();
    script.versions.insert("auth", newer(3, 4));
    script.versions.insert("payment-fixed", newer(6, 7));
    script.invoke_fails = vec!["dev-auth"];
    let (releaser, calls, _mocks) = aws(script);
    let api = api(6, 7, false).await;
    let (report, _) = release(&releaser, &api).await;

    let auth = function(&report, "auth");
    assert_eq!(auth.status, Status::PreTrafficFailed);
    assert_eq!(auth.pre_traffic_check, PreTrafficCheck::Failed);
    assert!(
        auth.detail.contains("the function failed (Unhandled)")
            && auth.detail.contains("Simulated payment failure"),
        "{}",
        auth.detail
    );
    // The train stops: payment-fixed is not released after auth failed.
    let fixed = function(&report, "payment-fixed");
    assert_eq!(fixed.status, Status::NotStarted);
    assert!(
        fixed.detail.contains("the release of auth did not succeed"),
        "{}",
        fixed.detail
    );
    assert_eq!(report.exit_code(), 1);
    let calls = calls.lock().unwrap();
    assert_eq!(calls.invokes.len(), 1);
    assert!(
        calls.creates.is_empty(),
        "no CreateDeployment after a failed check"
    );
    assert_eq!(calls.gets, 0);
    assert_eq!(api.requests.load(Ordering::SeqCst), 0, "no client traffic either");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["functions"][0]["pre_traffic_check"], "failed");
    assert_eq!(json["functions"][0]["status"], "pre_traffic_failed");
}

#[tokio::test]
async fn nothing_to_release_reads_and_changes_nothing() {
    let (releaser, calls, mocks) = aws(Script::default());
    let api = api(6, 7, false).await;
    let (report, _) = release(&releaser, &api).await;
    assert!(report.passed);
    assert_eq!(report.exit_code(), 0);
    assert!(report.functions.iter().all(|f| f.status == Status::Unchanged));
    assert_eq!(
        function(&report, "payment-fixed").detail,
        "live already serves version 6"
    );
    // Only the reads: GetAlias and ListVersionsByFunction once per function.
    let [get_alias, list, invoke, create, get, stop, describe] = &mocks.rules[..] else {
        panic!()
    };
    assert_eq!((get_alias.num_calls(), list.num_calls()), (4, 4));
    for rule in [invoke, create, get, stop, describe] {
        assert_eq!(rule.num_calls(), 0);
    }
    assert!(calls.lock().unwrap().creates.is_empty());
    assert_eq!(api.requests.load(Ordering::SeqCst), 0);
    let text = release::report::render(&report);
    assert!(
        text.ends_with("PASSED: 0 released, 4 unchanged, 0 not released\n"),
        "{text}"
    );
}

#[tokio::test]
async fn the_broken_on_purpose_function_is_released_without_the_check() {
    let mut script = Script::default();
    script.versions.insert("payment", newer(2, 3));
    script.polls_running = 1;
    let (releaser, calls, _mocks) = aws(script);
    let api = api(2, 3, true).await;
    let (report, lines) = release(&releaser, &api).await;

    let f = function(&report, "payment");
    assert_eq!(f.status, Status::Succeeded, "{report:#?}");
    assert_eq!(f.pre_traffic_check, PreTrafficCheck::Skipped);
    assert_eq!(f.requests, 0, "no bake traffic: no alarm gates it");
    assert_eq!(report.exit_code(), 0);
    let calls = calls.lock().unwrap();
    assert!(calls.invokes.is_empty(), "no pre-traffic invocation");
    assert_eq!(calls.creates.len(), 1);
    assert_eq!(calls.creates[0].deployment_group_name(), Some("dev-payment"));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("payment 2 -> 3: deployed broken on purpose")
                && l.contains("released without a gate")),
        "{lines:#?}"
    );
    assert_eq!(api.requests.load(Ordering::SeqCst), 0);
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["functions"][1]["function"], "payment");
    assert_eq!(json["functions"][1]["pre_traffic_check"], "skipped");
}

#[tokio::test]
async fn past_the_deadline_the_deployment_is_stopped_with_a_rollback() {
    let mut script = Script::default();
    script.versions.insert("payment-fixed", newer(6, 7));
    script.end = None;
    let (releaser, calls, _mocks) = aws(script);
    let api = api(6, 7, false).await;
    let (report, _) = release(&releaser, &api).await;
    let f = function(&report, "payment-fixed");
    assert_eq!(f.status, Status::TimedOut, "{f:#?}");
    assert!(
        f.detail.contains("still InProgress after the deadline"),
        "{}",
        f.detail
    );
    assert_eq!(report.exit_code(), 1);
    assert_eq!(
        calls.lock().unwrap().stops,
        vec![("d-TEST".to_owned(), Some(true))],
        "StopDeployment with autoRollbackEnabled"
    );
}

#[tokio::test]
async fn a_deployment_that_cannot_be_stopped_needs_a_person() {
    let mut script = Script::default();
    script.versions.insert("payment-fixed", newer(6, 7));
    script.end = None;
    script.stop_fails = true;
    let (releaser, _calls, _mocks) = aws(script);
    let api = api(6, 7, false).await;
    let (report, _) = release(&releaser, &api).await;
    let f = function(&report, "payment-fixed");
    assert_eq!(f.status, Status::StopFailed);
    assert!(
        f.detail
            .contains("not authorized to perform: codedeploy:StopDeployment"),
        "{}",
        f.detail
    );
    assert!(
        f.detail
            .contains("aws deploy stop-deployment --deployment-id d-TEST --auto-rollback-enabled"),
        "{}",
        f.detail
    );
    assert_eq!(report.exit_code(), 3);
}

#[tokio::test]
async fn a_stage_without_live_or_mid_release_starts_nothing() {
    let mut script = Script::default();
    script.versions.remove("auth");
    script.versions.insert("payment-fixed", newer(6, 7));
    let (releaser, calls, _mocks) = aws(script);
    let api = api(6, 7, false).await;
    let (report, _) = release(&releaser, &api).await;
    let auth = function(&report, "auth");
    assert_eq!(auth.status, Status::NotStarted);
    assert!(
        auth.detail
            .contains("the stage predates releases; run `terraform apply`"),
        "{}",
        auth.detail
    );
    assert_eq!(function(&report, "payment-fixed").status, Status::NotStarted);
    assert!(calls.lock().unwrap().creates.is_empty());
    assert_eq!(report.exit_code(), 1);

    let mut script = Script::default();
    script.versions.insert(
        "payment-fixed",
        Versions {
            live: 6,
            latest: 7,
            weights: vec![(7, 0.1)],
        },
    );
    let (releaser, calls, _mocks) = aws(script);
    let (report, _) = release(&releaser, &api).await;
    let f = function(&report, "payment-fixed");
    assert_eq!(f.status, Status::NotStarted);
    assert!(
        f.detail.contains("version 7 at 10 %") && f.detail.contains("a release is under way"),
        "{}",
        f.detail
    );
    assert!(calls.lock().unwrap().creates.is_empty());
}
