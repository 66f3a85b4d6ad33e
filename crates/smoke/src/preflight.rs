//! `smoke-test preflight --target aws --stage <stage>`: what would make the first apply fail or
//! go silent, checked before it (the pipeline runs it before every apply), one line per check
//! with what to do.
//!
//! - the stage file: no placeholder account id or e-mail address;
//! - the caller's account is one the stage file allows (STS `GetCallerIdentity`);
//! - Lambda's concurrency quota has room for the stage's reservations while AWS keeps 100
//!   unreserved (`GetAccountSettings`, and what the stage's functions reserve already);
//! - once deployed: every alarm of the stage has its actions enabled and a topic to notify, and
//!   its history holds no failed action (a notification that did not go out).

use outage_config::Stage;
use serde::Serialize;

use crate::error::PortError;
use crate::targets::aws::port_error;
use crate::targets::aws::sdk_config;
use crate::targets::aws_reads::{failed_alarm_actions, stage_metric_alarms};

/// What AWS keeps unreserved in every account: reservations may only use the rest.
pub const UNRESERVED_MINIMUM: u32 = 100;

/// AWS's own example account id: a stage file that still holds it was never filled in.
const PLACEHOLDER_ACCOUNT: &str = "123456789012";

/// Domains reserved for documentation (RFC 2606): mail to them goes nowhere.
const PLACEHOLDER_DOMAINS: [&str; 3] = ["example.com", "example.org", "example.net"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Fail,
    /// Not applicable yet (the stage is not deployed).
    Skip,
}

/// One check's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub status: Status,
    /// What was found, and on failure what to do.
    pub detail: String,
}

fn finding(check: &'static str, status: Status, detail: impl Into<String>) -> Finding {
    Finding {
        check,
        status,
        detail: detail.into(),
    }
}

/// The stage file's own checks, which need no AWS call.
pub fn stage_file_checks(stage: &Stage) -> Vec<Finding> {
    let file = format!("environments/{}/terraform.tfvars.json", stage.stage);
    let mut out = Vec::new();
    out.push(if stage.allowed_account_ids.iter().any(|a| a == PLACEHOLDER_ACCOUNT) {
        finding(
            "account id",
            Status::Fail,
            format!(
                "allowed_account_ids holds {PLACEHOLDER_ACCOUNT}, AWS's example account: put your account id in {file}"
            ),
        )
    } else {
        finding("account id", Status::Ok, stage.allowed_account_ids.join(", "))
    });
    let placeholders: Vec<&str> = stage
        .alarm_emails
        .iter()
        .filter(|e| {
            let domain = e.rsplit_once('@').map_or("", |(_, d)| d).to_ascii_lowercase();
            PLACEHOLDER_DOMAINS
                .iter()
                .any(|p| domain == *p || domain.ends_with(&format!(".{p}")))
        })
        .map(String::as_str)
        .collect();
    out.push(match (stage.alarm_emails.is_empty(), placeholders.is_empty()) {
        (true, _) => finding(
            "alarm e-mails",
            Status::Fail,
            format!("alarm_emails is empty: nobody would be paged; add on-call's address to {file}"),
        ),
        (false, false) => finding(
            "alarm e-mails",
            Status::Fail,
            format!(
                "{} go nowhere (a documentation domain): put on-call's real addresses in alarm_emails of {file}",
                placeholders.join(", ")
            ),
        ),
        (false, true) => finding(
            "alarm e-mails",
            Status::Ok,
            format!(
                "{} (each must confirm its subscription after the first apply)",
                stage.alarm_emails.join(", ")
            ),
        ),
    });
    out
}

/// The AWS clients the checks call.
pub struct Clients {
    pub sts: aws_sdk_sts::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
}

impl Clients {
    /// Clients from the standard credential chain, for `region`.
    pub async fn from_environment(region: &str) -> Clients {
        let config = sdk_config(region).await;
        Clients {
            sts: aws_sdk_sts::Client::new(&config),
            lambda: aws_sdk_lambda::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
        }
    }
}

fn failed(check: &'static str, call: &str, e: PortError) -> Finding {
    finding(
        check,
        Status::Fail,
        format!("{call} failed: {e} (the role needs it: terraform/bootstrap/permissions.tf)"),
    )
}

/// The checks that ask AWS.
pub async fn aws_checks(stage: &Stage, clients: &Clients) -> Vec<Finding> {
    vec![
        account(stage, &clients.sts).await,
        quota(stage, &clients.lambda).await,
        alarms(stage, &clients.cloudwatch).await,
        failed_actions(stage, &clients.cloudwatch).await,
    ]
}

async fn account(stage: &Stage, sts: &aws_sdk_sts::Client) -> Finding {
    const CHECK: &str = "caller's account";
    let out = match sts.get_caller_identity().send().await {
        Ok(out) => out,
        Err(e) => {
            return failed(
                CHECK,
                "sts:GetCallerIdentity",
                port_error("GetCallerIdentity", e, |_| false, |_| false),
            )
        }
    };
    let account = out.account().unwrap_or_default();
    if stage.allowed_account_ids.iter().any(|a| a == account) {
        finding(
            CHECK,
            Status::Ok,
            format!("{account} ({})", out.arn().unwrap_or_default()),
        )
    } else {
        finding(
            CHECK,
            Status::Fail,
            format!(
                "these credentials are for account {account}, which allowed_account_ids of stage {} does not list ({}): use the stage's account, or fix the stage file",
                stage.stage,
                stage.allowed_account_ids.join(", ")
            ),
        )
    }
}

async fn quota(stage: &Stage, lambda: &aws_sdk_lambda::Client) -> Finding {
    const CHECK: &str = "Lambda concurrency quota";
    let settings = match lambda.get_account_settings().send().await {
        Ok(s) => s,
        Err(e) => {
            return failed(
                CHECK,
                "lambda:GetAccountSettings",
                port_error("GetAccountSettings", e, |_| false, |_| false),
            )
        }
    };
    let limits = settings.account_limit();
    let total = limits
        .map_or(0, |l| l.concurrent_executions())
        .max(0)
        .unsigned_abs();
    let unreserved = limits
        .and_then(|l| l.unreserved_concurrent_executions())
        .unwrap_or_default()
        .max(0)
        .unsigned_abs();
    // What the stage's functions reserve today goes back to the pool when they are updated.
    let mut held = 0u32;
    for key in stage.functions.keys() {
        match lambda
            .get_function_concurrency()
            .function_name(stage.function_name(key))
            .send()
            .await
        {
            Ok(c) => {
                held += c
                    .reserved_concurrent_executions()
                    .unwrap_or_default()
                    .max(0)
                    .unsigned_abs()
            }
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) => {}
            Err(e) => {
                return failed(
                    CHECK,
                    "lambda:GetFunctionConcurrency",
                    port_error("GetFunctionConcurrency", e, |_| false, |_| false),
                )
            }
        }
    }
    let wanted = stage.reserved_total();
    let available = (unreserved + held).saturating_sub(UNRESERVED_MINIMUM);
    if wanted <= available {
        finding(
            CHECK,
            Status::Ok,
            format!(
                "the stage reserves {wanted} of {total}; {available} can be reserved while AWS keeps {UNRESERVED_MINIMUM} unreserved"
            ),
        )
    } else {
        finding(
            CHECK,
            Status::Fail,
            format!(
                "the stage reserves {wanted} but only {available} can be (quota {total}, {unreserved} unreserved now, {held} held by the stage, {UNRESERVED_MINIMUM} always kept unreserved): request a higher \"Concurrent executions\" quota (Service Quotas) or set reserved_concurrency to null (unreserved) in the stage file"
            ),
        )
    }
}

async fn alarms(stage: &Stage, cloudwatch: &aws_sdk_cloudwatch::Client) -> Finding {
    const CHECK: &str = "alarm actions";
    let alarms = match stage_metric_alarms(cloudwatch, &format!("{}-", stage.stage)).await {
        Ok(a) => a,
        Err(e) => return failed(CHECK, "cloudwatch:DescribeAlarms", e),
    };
    if alarms.is_empty() {
        return finding(
            CHECK,
            Status::Skip,
            format!(
                "no alarm named {}-* yet: run again after the first apply",
                stage.stage
            ),
        );
    }
    let silent: Vec<String> = alarms
        .iter()
        .filter(|a| a.actions_enabled() != Some(true) || a.alarm_actions().is_empty())
        .map(|a| a.alarm_name().unwrap_or_default().to_owned())
        .collect();
    if silent.is_empty() {
        finding(
            CHECK,
            Status::Ok,
            format!("{} alarms notify a topic", alarms.len()),
        )
    } else {
        finding(
            CHECK,
            Status::Fail,
            format!(
                "{} would change state without notifying anyone: enable their actions (aws cloudwatch enable-alarm-actions) or apply the stage again",
                silent.join(", ")
            ),
        )
    }
}

async fn failed_actions(stage: &Stage, cloudwatch: &aws_sdk_cloudwatch::Client) -> Finding {
    const CHECK: &str = "alarm notifications delivered";
    match failed_alarm_actions(cloudwatch, &format!("{}-", stage.stage), None).await {
        Err(e) => failed(CHECK, "cloudwatch:DescribeAlarmHistory", e),
        Ok(failures) if failures.is_empty() => {
            finding(CHECK, Status::Ok, "no failed alarm action in the history")
        }
        Ok(failures) => finding(
            CHECK,
            Status::Fail,
            format!(
                "{} (a notification did not go out: check the topic's key policy and subscriptions)",
                failures.join("; ")
            ),
        ),
    }
}

/// One line per check, the worst last in mind: `FAIL account id: ...`.
pub fn render(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let status = match f.status {
            Status::Ok => "ok  ",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        };
        out.push_str(&format!("{status} {}: {}\n", f.check, f.detail));
    }
    let failed = findings.iter().filter(|f| f.status == Status::Fail).count();
    out.push_str(&if failed == 0 {
        "preflight passed\n".to_owned()
    } else {
        format!("preflight failed: {failed} check(s) to fix before the apply\n")
    });
    out
}

/// Whether every check passed (or did not apply yet).
pub fn passed(findings: &[Finding]) -> bool {
    findings.iter().all(|f| f.status != Status::Fail)
}
