//! The drill against AWS, through the SDK's own mocks (aws-smithy-mocks): the requests the
//! drill sends, waiting until an update is Successful, and the restore on every failure path.
//!
//! Lambda is scripted per test the way it behaves: an update answers `InProgress`, a few
//! `GetFunctionConfiguration` calls later it is `Successful` (or `Failed`), and every update gets
//! a new RevisionId. Clients (the API's traffic, and so the alarm) see what the alias `live`
//! serves: an applied update reaches them only once it is published (PublishVersion, refused
//! while an update is in progress) and `live` points at that version (UpdateAlias).
//! Time is tokio's paused clock, so the minutes of deadlines take no real time.
#![cfg(feature = "aws")]

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_cloudwatch::operation::describe_alarms::{DescribeAlarmsError, DescribeAlarmsOutput};
use aws_sdk_cloudwatch::types::{MetricAlarm, StateValue};
use aws_sdk_lambda::operation::get_function_configuration::GetFunctionConfigurationOutput;
use aws_sdk_lambda::operation::publish_version::{PublishVersionError, PublishVersionOutput};
use aws_sdk_lambda::operation::update_alias::{UpdateAliasInput, UpdateAliasOutput};
use aws_sdk_lambda::operation::update_function_configuration::{
    UpdateFunctionConfigurationError, UpdateFunctionConfigurationInput, UpdateFunctionConfigurationOutput,
};
use aws_sdk_lambda::types::error::{
    PreconditionFailedException, ResourceConflictException, ServiceException,
};
use aws_sdk_lambda::types::{EnvironmentResponse, LastUpdateStatus};
use aws_smithy_mocks::{mock, mock_client, MockResponse, RuleMode};
use outage_config::Stage;
use smoke_test::drill::{run_drill, DrillError, DrillOutcome, DrillPlan, DrillReport, DrillSettings};
use smoke_test::ports::{TrafficDriver, TrafficOutcome};
use smoke_test::targets::aws::AwsTarget;
use smoke_test::PortError;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const FUNCTION: &str = "dev-payment-fixed";
const ALARM: &str = "dev-payment-fixed-fast-errors";

/// How the scripted AWS side behaves in one test.
#[derive(Default)]
struct Script {
    /// Polls that still see `InProgress` after each update.
    polls_in_progress: u32,
    /// Outcome of each update applied, in order (`true` = Failed); default Successful.
    update_fails: VecDeque<bool>,
    /// Errors answered to UpdateFunctionConfiguration calls, in order; `None` = accept.
    update_errors: VecDeque<Option<UpdateFunctionConfigurationError>>,
    /// DescribeAlarms answers ALARM from this many reads after the fault is live; None = never.
    alarm_after_reads: Option<u32>,
    /// DescribeAlarms stays ALARM even after the restore.
    alarm_sticks: bool,
    /// DescribeAlarms fails while the fault is live.
    describe_fails_while_faulty: bool,
    /// The route answers 500 whatever the configuration (a bug the fault did not cause).
    route_broken: bool,
}

/// Lambda's side of the conversation, as the mocks answer it.
struct Lambda {
    script: Script,
    variables: BTreeMap<String, String>,
    revision: u32,
    status: LastUpdateStatus,
    reason: Option<String>,
    pending_polls: u32,
    final_status: LastUpdateStatus,
    faulty_reads: u32,
    /// The scripted alarm's state (true = ALARM) and reads since the fault went away.
    alarm: bool,
    healthy_reads: u32,
    updates: Vec<UpdateFunctionConfigurationInput>,
    /// The variables of each published version (index = version - 1).
    published: Vec<BTreeMap<String, String>>,
    /// What `live` serves, and every UpdateAlias call.
    live: BTreeMap<String, String>,
    alias_updates: Vec<UpdateAliasInput>,
}

impl Lambda {
    /// The version `live` serves carries a fault: clients see it.
    fn faulty(&self) -> bool {
        self.live.get("FAULT_MODE").is_some_and(|m| m != "none")
    }
}

fn prior_variables() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("AWS_LAMBDA_LOG_FORMAT".to_owned(), "JSON".to_owned()),
        ("SERVICE_NAME".to_owned(), "payment-service".to_owned()),
    ])
}

fn env(vars: &BTreeMap<String, String>) -> EnvironmentResponse {
    EnvironmentResponse::builder()
        .set_variables(Some(
            vars.iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        ))
        .build()
}

fn alarm_output(state: StateValue, reason: &str) -> DescribeAlarmsOutput {
    DescribeAlarmsOutput::builder()
        .metric_alarms(
            MetricAlarm::builder()
                .alarm_name(ALARM)
                .state_value(state)
                .state_reason(reason)
                .state_updated_timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(1_764_000_000))
                .build(),
        )
        .build()
}

/// Builds the target over mocked clients that follow `script`.
fn aws(script: Script) -> (AwsTarget, Arc<Mutex<Lambda>>) {
    let state = Arc::new(Mutex::new(Lambda {
        script,
        variables: prior_variables(),
        revision: 1,
        status: LastUpdateStatus::Successful,
        reason: None,
        pending_polls: 0,
        final_status: LastUpdateStatus::Successful,
        faulty_reads: 0,
        alarm: false,
        healthy_reads: 0,
        updates: Vec::new(),
        published: vec![prior_variables()],
        live: prior_variables(),
        alias_updates: Vec::new(),
    }));

    let s = Arc::clone(&state);
    let get = mock!(aws_sdk_lambda::Client::get_function_configuration).then_compute_response(move |req| {
        assert_eq!(
            req.function_name(),
            Some(FUNCTION),
            "GetFunctionConfiguration for the deployed name"
        );
        let mut l = s.lock().unwrap();
        if l.status == LastUpdateStatus::InProgress {
            if l.pending_polls == 0 {
                l.status = l.final_status.clone();
            } else {
                l.pending_polls -= 1;
            }
        }
        MockResponse::Output(
            GetFunctionConfigurationOutput::builder()
                .function_name(FUNCTION)
                .environment(env(&l.variables))
                .revision_id(format!("rev-{}", l.revision))
                .last_update_status(l.status.clone())
                .set_last_update_status_reason(l.reason.clone())
                .build(),
        )
    });

    let s = Arc::clone(&state);
    let update =
        mock!(aws_sdk_lambda::Client::update_function_configuration).then_compute_response(move |req| {
            let mut l = s.lock().unwrap();
            l.updates.push(req.clone());
            if let Some(Some(error)) = l.script.update_errors.pop_front() {
                return MockResponse::Error(error);
            }
            if l.status == LastUpdateStatus::InProgress {
                return MockResponse::Error(UpdateFunctionConfigurationError::ResourceConflictException(
                    ResourceConflictException::builder()
                        .message("An update is in progress")
                        .build(),
                ));
            }
            if let Some(expected) = req.revision_id() {
                if expected != format!("rev-{}", l.revision) {
                    return MockResponse::Error(
                        UpdateFunctionConfigurationError::PreconditionFailedException(
                            PreconditionFailedException::builder()
                                .message("wrong revision")
                                .build(),
                        ),
                    );
                }
            }
            let fails = l.script.update_fails.pop_front().unwrap_or(false);
            // A failed update leaves the function with its previous configuration, as Lambda does.
            if !fails {
                l.variables = req
                    .environment()
                    .and_then(|e| e.variables())
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default();
            }
            l.revision += 1;
            l.status = LastUpdateStatus::InProgress;
            l.pending_polls = l.script.polls_in_progress;
            l.final_status = if fails {
                LastUpdateStatus::Failed
            } else {
                LastUpdateStatus::Successful
            };
            l.reason = fails.then(|| "EniLimitExceeded: simulated".to_owned());
            l.faulty_reads = 0;
            MockResponse::Output(
                UpdateFunctionConfigurationOutput::builder()
                    .function_name(FUNCTION)
                    .environment(env(&l.variables))
                    .revision_id(format!("rev-{}", l.revision))
                    .last_update_status(LastUpdateStatus::InProgress)
                    .build(),
            )
        });

    let s = Arc::clone(&state);
    let describe = mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_compute_response(move |req| {
        assert_eq!(
            req.alarm_names(),
            [ALARM.to_owned()],
            "DescribeAlarms for the stage file's alarm name"
        );
        let mut l = s.lock().unwrap();
        let live = l.faulty();
        if live {
            l.faulty_reads += 1;
            if l.script.describe_fails_while_faulty {
                return MockResponse::Error(DescribeAlarmsError::generic(
                    aws_sdk_cloudwatch::error::ErrorMetadata::builder()
                        .code("InternalFailure")
                        .message("simulated outage")
                        .build(),
                ));
            }
        }
        // The alarm fires after enough reads with the fault live, and (as CloudWatch does once
        // the failing period has rolled out of the evaluation range) clears two reads after the
        // fault is gone, unless the script makes it stick.
        match l.script.alarm_after_reads {
            Some(n) if live && l.faulty_reads >= n => l.alarm = true,
            _ => {}
        }
        if l.alarm && !l.faulty() && !l.script.alarm_sticks {
            l.healthy_reads += 1;
            if l.healthy_reads > 2 {
                l.alarm = false;
            }
        }
        let firing = l.alarm;
        MockResponse::Output(if firing {
            alarm_output(
                StateValue::Alarm,
                "Threshold Crossed: 1 datapoint [5.0] was greater than or equal to the threshold (1.0).",
            )
        } else {
            alarm_output(
                StateValue::Ok,
                "Threshold Crossed: no datapoints were received for 1 period.",
            )
        })
    });

    let s = Arc::clone(&state);
    let publish = mock!(aws_sdk_lambda::Client::publish_version).then_compute_response(move |req| {
        assert_eq!(
            req.function_name(),
            Some(FUNCTION),
            "PublishVersion of the deployed name"
        );
        let mut l = s.lock().unwrap();
        if l.status == LastUpdateStatus::InProgress {
            return MockResponse::Error(PublishVersionError::ResourceConflictException(
                ResourceConflictException::builder()
                    .message("The operation cannot be performed at this time. An update is in progress")
                    .build(),
            ));
        }
        let snapshot = l.variables.clone();
        l.published.push(snapshot);
        MockResponse::Output(
            PublishVersionOutput::builder()
                .function_name(FUNCTION)
                .version(l.published.len().to_string())
                .build(),
        )
    });

    let s = Arc::clone(&state);
    let alias = mock!(aws_sdk_lambda::Client::update_alias).then_compute_response(move |req| {
        let mut l = s.lock().unwrap();
        l.alias_updates.push(req.clone());
        let version: usize = req.function_version().unwrap().parse().unwrap();
        l.live = l.published[version - 1].clone();
        MockResponse::Output(
            UpdateAliasOutput::builder()
                .name("live")
                .function_version(version.to_string())
                .build(),
        )
    });

    let lambda = mock_client!(
        aws_sdk_lambda,
        RuleMode::MatchAny,
        [&get, &update, &publish, &alias]
    );
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, [&describe]);
    let names = BTreeMap::from([("payment-fixed".to_owned(), FUNCTION.to_owned())]);
    (AwsTarget::new(lambda, cloudwatch, names), state)
}

/// The API in front of the scripted function: 500 while the function carries a fault (as API
/// Gateway answers an unhandled error), 200 otherwise.
#[derive(Clone)]
struct Gateway {
    lambda: Arc<Mutex<Lambda>>,
}

impl TrafficDriver for Gateway {
    async fn get(&self, path: &str) -> Result<TrafficOutcome, PortError> {
        assert_eq!(path, "/pay-fixed", "traffic goes to the drilled function's route");
        let l = self.lambda.lock().unwrap();
        let status = if l.faulty() || l.script.route_broken {
            500
        } else {
            200
        };
        Ok(TrafficOutcome {
            status,
            request_id: Some("r".into()),
            version: None,
        })
    }
}

fn plan() -> DrillPlan {
    let stage = Stage::load_named(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."), "dev").unwrap();
    DrillPlan::new(&stage, &DrillSettings::aws("payment-fixed")).unwrap()
}

async fn drill(
    target: &AwsTarget,
    lambda: &Arc<Mutex<Lambda>>,
    interrupt_after: Option<Duration>,
) -> Result<DrillReport, DrillError> {
    let interrupt = async move {
        match interrupt_after {
            Some(d) => tokio::time::sleep(d).await,
            None => std::future::pending().await,
        }
    };
    let gateway = Gateway {
        lambda: Arc::clone(lambda),
    };
    run_drill(target, target, &gateway, &plan(), interrupt, &|_| {}).await
}

fn vars_of(input: &UpdateFunctionConfigurationInput) -> BTreeMap<String, String> {
    input
        .environment()
        .and_then(|e| e.variables())
        .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The last update sent the exact prior variables, without a revision guard.
fn assert_restored(lambda: &Lambda) {
    let last = lambda.updates.last().expect("at least one update");
    assert_eq!(last.function_name(), Some(FUNCTION));
    assert_eq!(
        vars_of(last),
        prior_variables(),
        "the restore sends the exact prior variables"
    );
    assert_eq!(
        lambda.variables,
        prior_variables(),
        "the function ends with the prior variables"
    );
    assert_eq!(lambda.live, prior_variables(), "and `live` serves them");
    let last = lambda
        .alias_updates
        .last()
        .expect("the restore was served on `live`");
    assert_eq!(last.name(), Some("live"));
    assert_eq!(
        last.function_version(),
        Some(lambda.published.len().to_string().as_str()),
        "`live` points at the version the restore published"
    );
}

#[tokio::test(start_paused = true)]
async fn a_passing_drill_injects_on_top_of_the_prior_variables_then_restores_them_exactly() {
    let (target, state) = aws(Script {
        polls_in_progress: 2,
        alarm_after_reads: Some(3),
        ..Script::default()
    });
    let before = OffsetDateTime::now_utc();
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Passed, "{:?}", report.failure);
    // The alarm was read OK twice after the fault applied, 5 s apart, then ALARM: 10 s of
    // virtual time. The time the update took to apply is not part of MTTD.
    assert!(
        (report.mttd_s.unwrap() - 10.0).abs() < 0.01,
        "{:?}",
        report.mttd_s
    );
    // ALARM was read twice more after the fix, then OK: 10 s of virtual time.
    assert!(
        (report.mttr_s.unwrap() - 10.0).abs() < 0.01,
        "{:?}",
        report.mttr_s
    );
    assert!(report.break_traffic.failed > 0, "{:?}", report.break_traffic);
    assert_eq!(report.recovery_traffic.failed, 0, "{:?}", report.recovery_traffic);
    assert!(report.recovery_traffic.ok > 0, "{:?}", report.recovery_traffic);
    assert!(report.restored_exactly);

    let l = state.lock().unwrap();
    assert_eq!(l.updates.len(), 2, "one injection, one restore");
    let inject = &l.updates[0];
    assert_eq!(inject.function_name(), Some(FUNCTION));
    assert_eq!(
        inject.revision_id(),
        Some("rev-1"),
        "the injection is guarded by the revision it read"
    );
    let mut sent = vars_of(inject);
    let expires = sent.remove("FAULT_EXPIRES_AT").expect("FAULT_EXPIRES_AT is set");
    let expires = OffsetDateTime::parse(&expires, &Rfc3339).unwrap();
    let ttl = plan().fault_ttl;
    assert!(
        expires > before && expires <= OffsetDateTime::now_utc() + ttl,
        "expiry {expires} within the fault's ttl {ttl:?}"
    );
    let mut expected = prior_variables();
    expected.insert("FAULT_MODE".into(), "exception".into());
    expected.insert("FAULT_MESSAGE".into(), sent["FAULT_MESSAGE"].clone());
    assert_eq!(sent, expected, "prior variables kept, fault added");
    assert_eq!(l.updates[1].revision_id(), None);
    assert_restored(&l);
    // The injection and the restore were each published and served on `live` alone.
    assert_eq!(l.published.len(), 3, "version 1 as deployed, then one per update");
    assert_eq!(l.alias_updates.len(), 2);
    for (update, version) in l.alias_updates.iter().zip(["2", "3"]) {
        assert_eq!(update.function_name(), Some(FUNCTION));
        assert_eq!(update.name(), Some("live"));
        assert_eq!(update.function_version(), Some(version));
        assert_eq!(
            update
                .routing_config()
                .and_then(|r| r.additional_version_weights()),
            Some(&HashMap::new()),
            "weights cleared: all traffic to the new version"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn no_alarm_before_the_deadline_fails_and_restores() {
    let (target, state) = aws(Script {
        alarm_after_reads: None,
        ..Script::default()
    });
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Failed);
    assert!(
        report.failure.as_deref().unwrap().contains("did not reach ALARM"),
        "{:?}",
        report.failure
    );
    assert!(report.mttd_s.is_none());
    // A wait of minutes says it is still waiting, so a CI log never looks hung.
    let waiting = report
        .events
        .iter()
        .filter(|e| {
            e.text()
                .starts_with("waiting for dev-payment-fixed-fast-errors to be ALARM")
        })
        .count();
    assert!(
        waiting >= 5,
        "{waiting} progress lines over a {:?} deadline",
        plan().deadlines.alarm
    );
    let l = state.lock().unwrap();
    assert_eq!(l.updates.len(), 2);
    assert_restored(&l);
}

#[tokio::test(start_paused = true)]
async fn describe_alarms_errors_fail_the_drill_and_restore() {
    let (target, state) = aws(Script {
        alarm_after_reads: Some(1),
        describe_fails_while_faulty: true,
        ..Script::default()
    });
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Failed);
    assert!(
        report.failure.as_deref().unwrap().contains("simulated outage"),
        "{:?}",
        report.failure
    );
    assert_restored(&state.lock().unwrap());
}

#[tokio::test(start_paused = true)]
async fn an_injection_that_fails_to_apply_is_still_restored() {
    let (target, state) = aws(Script {
        polls_in_progress: 1,
        update_fails: VecDeque::from([true]),
        alarm_after_reads: Some(1),
        ..Script::default()
    });
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Failed);
    assert!(
        report.failure.as_deref().unwrap().contains("EniLimitExceeded"),
        "{:?}",
        report.failure
    );
    let l = state.lock().unwrap();
    assert_eq!(l.updates.len(), 2, "the restore follows the failed injection");
    assert_restored(&l);
}

#[tokio::test(start_paused = true)]
async fn an_ambiguous_injection_error_is_restored_but_a_refused_one_changes_nothing() {
    // A 500 from Lambda: the update may or may not have happened, so the drill restores.
    let error = UpdateFunctionConfigurationError::ServiceException(
        ServiceException::builder().message("internal").build(),
    );
    let (target, state) = aws(Script {
        update_errors: VecDeque::from([Some(error)]),
        alarm_after_reads: Some(1),
        ..Script::default()
    });
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Failed);
    assert_restored(&state.lock().unwrap());

    // A refused update (someone changed the function since it was read) changed nothing:
    // writing the "prior" variables back would overwrite that change.
    let error = UpdateFunctionConfigurationError::PreconditionFailedException(
        PreconditionFailedException::builder().message("revision").build(),
    );
    let (target, state) = aws(Script {
        update_errors: VecDeque::from([Some(error)]),
        alarm_after_reads: Some(1),
        ..Script::default()
    });
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Failed);
    assert!(
        report.failure.as_deref().unwrap().contains("not applied"),
        "{:?}",
        report.failure
    );
    assert_eq!(
        state.lock().unwrap().updates.len(),
        1,
        "no restore after a refused injection"
    );
}

#[tokio::test(start_paused = true)]
async fn ok_never_coming_back_fails_after_the_restore() {
    let (target, state) = aws(Script {
        alarm_after_reads: Some(2),
        alarm_sticks: true,
        ..Script::default()
    });
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Failed);
    assert!(report.mttd_s.is_some());
    assert!(
        report
            .failure
            .as_deref()
            .unwrap()
            .contains("did not return to OK"),
        "{:?}",
        report.failure
    );
    assert!(report.restored_exactly);
    let l = state.lock().unwrap();
    assert_eq!(l.updates.len(), 2);
    assert_restored(&l);
}

#[tokio::test(start_paused = true)]
async fn an_interrupt_restores_before_returning() {
    let (target, state) = aws(Script {
        alarm_after_reads: None,
        ..Script::default()
    });
    let report = drill(&target, &state, Some(Duration::from_secs(20)))
        .await
        .unwrap();
    assert_eq!(report.outcome, DrillOutcome::Interrupted);
    assert_restored(&state.lock().unwrap());
}

#[tokio::test(start_paused = true)]
async fn a_restore_that_keeps_failing_is_reported_as_such() {
    let conflict = || {
        Some(UpdateFunctionConfigurationError::ServiceException(
            ServiceException::builder().message("service unavailable").build(),
        ))
    };
    let mut errors = VecDeque::from([None]);
    errors.extend((0..5).map(|_| conflict()));
    let (target, state) = aws(Script {
        update_errors: errors,
        alarm_after_reads: Some(1),
        ..Script::default()
    });
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::RestoreFailed);
    assert!(!report.restored_exactly);
    assert!(
        report.failure.as_deref().unwrap().contains("RESTORE FAILED"),
        "{:?}",
        report.failure
    );
    let l = state.lock().unwrap();
    assert_eq!(l.updates.len(), 6, "one injection and five restore attempts");
    assert!(l.updates[1..].iter().all(|u| vars_of(u) == prior_variables()));
}

#[tokio::test(start_paused = true)]
async fn a_function_that_already_has_a_fault_is_not_drilled() {
    let (target, state) = aws(Script {
        alarm_after_reads: Some(1),
        ..Script::default()
    });
    state
        .lock()
        .unwrap()
        .variables
        .insert("FAULT_MODE".into(), "exception".into());
    let e = drill(&target, &state, None).await.unwrap_err();
    assert!(e.to_string().contains("already has FAULT_MODE=exception"), "{e}");
    assert!(state.lock().unwrap().updates.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_alarm_already_in_alarm_is_not_drilled() {
    let (target, state) = aws(Script {
        alarm_after_reads: Some(0),
        alarm_sticks: true,
        ..Script::default()
    });
    state.lock().unwrap().alarm = true;
    let e = drill(&target, &state, None).await.unwrap_err();
    assert!(e.to_string().contains("already in ALARM"), "{e}");
    assert!(state.lock().unwrap().updates.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_function_still_updating_from_a_deploy_is_waited_for_before_the_injection() {
    let (target, state) = aws(Script {
        alarm_after_reads: Some(1),
        ..Script::default()
    });
    {
        let mut l = state.lock().unwrap();
        l.status = LastUpdateStatus::InProgress;
        l.pending_polls = 3;
    }
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Passed, "{:?}", report.failure);
    let l = state.lock().unwrap();
    assert_eq!(l.updates.len(), 2, "no update was refused as `in progress`");
    assert_restored(&l);
}

#[tokio::test(start_paused = true)]
async fn a_route_still_failing_after_the_fix_fails_validation() {
    let (target, state) = aws(Script {
        alarm_after_reads: Some(1),
        route_broken: true,
        ..Script::default()
    });
    let report = drill(&target, &state, None).await.unwrap();
    assert_eq!(report.outcome, DrillOutcome::Failed);
    assert!(report.mttr_s.is_some(), "the alarm did clear");
    assert!(
        report.failure.as_deref().unwrap().contains("after the fix"),
        "{:?}",
        report.failure
    );
    assert!(report.recovery_traffic.failed > 0);
    assert_restored(&state.lock().unwrap());
}
