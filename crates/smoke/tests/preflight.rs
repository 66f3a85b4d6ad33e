//! `smoke-test preflight` over the SDK's own mocks: each check passes on a ready account and
//! fails with what to do on the day-one problems (wrong account, a quota of 10, alarms that
//! notify nobody, a notification that did not go out); the stage file's placeholders are found
//! offline.
#![cfg(feature = "aws")]

use std::path::PathBuf;

use aws_sdk_cloudwatch::operation::describe_alarm_history::DescribeAlarmHistoryOutput;
use aws_sdk_cloudwatch::operation::describe_alarms::DescribeAlarmsOutput;
use aws_sdk_cloudwatch::types::{AlarmHistoryItem, HistoryItemType, MetricAlarm};
use aws_sdk_lambda::operation::get_account_settings::GetAccountSettingsOutput;
use aws_sdk_lambda::operation::get_function_concurrency::{
    GetFunctionConcurrencyError, GetFunctionConcurrencyOutput,
};
use aws_sdk_lambda::types::error::ResourceNotFoundException;
use aws_sdk_lambda::types::AccountLimit;
use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use outage_config::Stage;
use smoke_test::preflight::{self, Clients, Finding, Status};

fn dev() -> Stage {
    Stage::load_named(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."), "dev").unwrap()
}

/// dev as a user fills it in: their account, on-call's real address.
fn filled_in() -> Stage {
    let mut s = dev();
    s.allowed_account_ids = vec!["210987654321".into()];
    s.alarm_emails = vec!["oncall@acme.io".into()];
    s
}

fn account_settings(total: i32, unreserved: i32) -> Rule {
    mock!(aws_sdk_lambda::Client::get_account_settings).then_output(move || {
        GetAccountSettingsOutput::builder()
            .account_limit(
                AccountLimit::builder()
                    .concurrent_executions(total)
                    .unreserved_concurrent_executions(unreserved)
                    .build(),
            )
            .build()
    })
}

fn not_deployed_yet() -> Rule {
    mock!(aws_sdk_lambda::Client::get_function_concurrency).then_error(|| {
        GetFunctionConcurrencyError::ResourceNotFoundException(
            ResourceNotFoundException::builder().message("no").build(),
        )
    })
}

fn caller(account: &'static str) -> Rule {
    mock!(aws_sdk_sts::Client::get_caller_identity).then_output(move || {
        GetCallerIdentityOutput::builder()
            .account(account)
            .arn(format!(
                "arn:aws:sts::{account}:assumed-role/outage-lab-github-deploy-dev/run"
            ))
            .build()
    })
}

fn alarms(list: Vec<MetricAlarm>) -> Rule {
    mock!(aws_sdk_cloudwatch::Client::describe_alarms).then_output(move || {
        DescribeAlarmsOutput::builder()
            .set_metric_alarms(Some(list.clone()))
            .build()
    })
}

fn history(items: Vec<AlarmHistoryItem>) -> Rule {
    mock!(aws_sdk_cloudwatch::Client::describe_alarm_history).then_output(move || {
        DescribeAlarmHistoryOutput::builder()
            .set_alarm_history_items(Some(items.clone()))
            .build()
    })
}

fn alarm(name: &str, enabled: bool) -> MetricAlarm {
    MetricAlarm::builder()
        .alarm_name(name)
        .actions_enabled(enabled)
        .alarm_actions("arn:aws:sns:eu-west-1:210987654321:dev-alarms")
        .build()
}

async fn run(stage: &Stage, sts: &[&Rule], lambda: &[&Rule], cloudwatch: &[&Rule]) -> Vec<Finding> {
    let clients = Clients {
        sts: mock_client!(aws_sdk_sts, RuleMode::MatchAny, sts),
        lambda: mock_client!(aws_sdk_lambda, RuleMode::MatchAny, lambda),
        cloudwatch: mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, cloudwatch),
    };
    preflight::aws_checks(stage, &clients).await
}

fn status(findings: &[Finding], check: &str) -> (Status, String) {
    let f = findings
        .iter()
        .find(|f| f.check == check)
        .unwrap_or_else(|| panic!("no {check}: {findings:?}"));
    (f.status, f.detail.clone())
}

#[test]
fn the_committed_stage_files_still_hold_placeholders_and_say_what_to_do() {
    let findings = preflight::stage_file_checks(&dev());
    let (account, detail) = status(&findings, "account id");
    assert_eq!(account, Status::Fail);
    assert!(
        detail.contains("put your account id in environments/dev/terraform.tfvars.json"),
        "{detail}"
    );
    let (emails, detail) = status(&findings, "alarm e-mails");
    assert_eq!(emails, Status::Fail);
    assert!(detail.contains("oncall-dev@example.com"), "{detail}");
    assert!(!preflight::passed(&findings));
    assert!(preflight::render(&findings).ends_with("preflight failed: 2 check(s) to fix before the apply\n"));

    let ready = preflight::stage_file_checks(&filled_in());
    assert!(preflight::passed(&ready), "{ready:?}");
}

#[tokio::test]
async fn a_ready_account_passes_and_a_stage_not_deployed_yet_skips_the_alarm_checks() {
    let (sts, settings, concurrency) = (
        caller("210987654321"),
        account_settings(1000, 1000),
        not_deployed_yet(),
    );
    let (none, quiet) = (alarms(Vec::new()), history(Vec::new()));
    let findings = run(
        &filled_in(),
        &[&sts],
        &[&settings, &concurrency],
        &[&none, &quiet],
    )
    .await;
    assert_eq!(status(&findings, "caller's account").0, Status::Ok);
    let (quota, detail) = status(&findings, "Lambda concurrency quota");
    assert_eq!(quota, Status::Ok, "{detail}");
    assert!(detail.contains("the stage reserves 40 of 1000"), "{detail}");
    assert_eq!(status(&findings, "alarm actions").0, Status::Skip);
    assert!(preflight::passed(&findings), "{findings:?}");
}

#[tokio::test]
async fn day_one_problems_fail_with_what_to_do() {
    // Someone else's account, a new account's quota of 10, an alarm with its actions off, and
    // a notification that failed.
    let (sts, settings, concurrency) = (
        caller("999999999999"),
        account_settings(10, 10),
        not_deployed_yet(),
    );
    let deployed = alarms(vec![alarm("dev-auth-errors", true), alarm("dev-api-5xx", false)]);
    let failures = history(vec![
        AlarmHistoryItem::builder()
            .alarm_name("dev-auth-errors")
            .history_item_type(HistoryItemType::Action)
            .history_summary("Failed to execute action arn:aws:sns:eu-west-1:210987654321:dev-alarms")
            .build(),
        AlarmHistoryItem::builder()
            .alarm_name("other-app-errors")
            .history_item_type(HistoryItemType::Action)
            .history_summary("Failed to execute action arn:aws:sns:eu-west-1:210987654321:other")
            .build(),
    ]);
    let findings = run(
        &filled_in(),
        &[&sts],
        &[&settings, &concurrency],
        &[&deployed, &failures],
    )
    .await;
    let (account, detail) = status(&findings, "caller's account");
    assert_eq!(account, Status::Fail);
    assert!(
        detail.contains("999999999999") && detail.contains("210987654321"),
        "{detail}"
    );
    let (quota, detail) = status(&findings, "Lambda concurrency quota");
    assert_eq!(quota, Status::Fail);
    assert!(
        detail.contains("reserves 40 but only 0 can be") && detail.contains("null (unreserved)"),
        "{detail}"
    );
    let (actions, detail) = status(&findings, "alarm actions");
    assert_eq!(actions, Status::Fail);
    assert!(
        detail.starts_with("dev-api-5xx would change state without notifying anyone"),
        "{detail}"
    );
    let (delivered, detail) = status(&findings, "alarm notifications delivered");
    assert_eq!(delivered, Status::Fail);
    assert!(
        detail.contains("dev-auth-errors") && !detail.contains("other-app"),
        "another app's history is not ours: {detail}"
    );
}

#[tokio::test]
async fn reservations_the_stage_already_holds_count_as_available() {
    // 100 unreserved of 300, and dev's four functions hold 10 each already: dev can keep its 40.
    let settings = account_settings(300, 100);
    let held = mock!(aws_sdk_lambda::Client::get_function_concurrency).then_output(|| {
        GetFunctionConcurrencyOutput::builder()
            .reserved_concurrent_executions(10)
            .build()
    });
    let (sts, none, quiet) = (caller("210987654321"), alarms(Vec::new()), history(Vec::new()));
    let findings = run(&filled_in(), &[&sts], &[&settings, &held], &[&none, &quiet]).await;
    let (quota, detail) = status(&findings, "Lambda concurrency quota");
    assert_eq!(quota, Status::Ok, "{detail}");
}

#[tokio::test]
async fn a_call_the_role_may_not_make_names_the_permission() {
    let denied = mock!(aws_sdk_lambda::Client::get_account_settings).then_error(|| {
        aws_sdk_lambda::operation::get_account_settings::GetAccountSettingsError::generic(
            aws_sdk_lambda::error::ErrorMetadata::builder()
                .code("AccessDeniedException")
                .message("not authorized to perform: lambda:GetAccountSettings")
                .build(),
        )
    });
    let (sts, none, quiet) = (caller("210987654321"), alarms(Vec::new()), history(Vec::new()));
    let findings = run(&filled_in(), &[&sts], &[&denied], &[&none, &quiet]).await;
    let (quota, detail) = status(&findings, "Lambda concurrency quota");
    assert_eq!(quota, Status::Fail);
    assert!(detail.contains("lambda:GetAccountSettings failed"), "{detail}");
}
