//! `ControlPlane::serve_latest` on AWS, through the SDK's own mocks: PublishVersion of the
//! deployed name, then UpdateAlias `live` to that version with every additional weight cleared,
//! and errors that say what to do.
#![cfg(feature = "aws")]

use std::collections::{BTreeMap, HashMap};

use aws_sdk_lambda::operation::publish_version::{PublishVersionError, PublishVersionOutput};
use aws_sdk_lambda::operation::update_alias::{UpdateAliasError, UpdateAliasOutput};
use aws_sdk_lambda::types::error::{ResourceConflictException, ResourceNotFoundException};
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use smoke_test::ports::ControlPlane;
use smoke_test::targets::aws::AwsTarget;
use smoke_test::PortError;

fn target(rules: &[&Rule]) -> AwsTarget {
    let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, rules);
    let cloudwatch = mock_client!(aws_sdk_cloudwatch, RuleMode::MatchAny, &[]);
    let names = BTreeMap::from([("payment-fixed".to_owned(), "dev-payment-fixed".to_owned())]);
    AwsTarget::new(lambda, cloudwatch, names)
}

#[tokio::test]
async fn publishes_then_points_live_at_the_version_for_all_traffic() {
    let publish = mock!(aws_sdk_lambda::Client::publish_version)
        .match_requests(|r| r.function_name() == Some("dev-payment-fixed"))
        .then_output(|| PublishVersionOutput::builder().version("12").build());
    let alias = mock!(aws_sdk_lambda::Client::update_alias)
        .match_requests(|r| {
            r.function_name() == Some("dev-payment-fixed")
                && r.name() == Some("live")
                && r.function_version() == Some("12")
                && r.routing_config().and_then(|c| c.additional_version_weights()) == Some(&HashMap::new())
        })
        .then_output(|| {
            UpdateAliasOutput::builder()
                .name("live")
                .function_version("12")
                .build()
        });
    let aws = target(&[&publish, &alias]);
    assert_eq!(aws.serve_latest("payment-fixed").await.unwrap(), "12");
    assert_eq!((publish.num_calls(), alias.num_calls()), (1, 1));
}

#[tokio::test]
async fn a_missing_alias_says_the_stage_needs_an_apply() {
    let publish = mock!(aws_sdk_lambda::Client::publish_version)
        .then_output(|| PublishVersionOutput::builder().version("3").build());
    let alias = mock!(aws_sdk_lambda::Client::update_alias).then_error(|| {
        UpdateAliasError::ResourceNotFoundException(
            ResourceNotFoundException::builder()
                .message(
                    "Alias not found: arn:aws:lambda:eu-west-1:123456789012:function:dev-payment-fixed:live",
                )
                .build(),
        )
    });
    let e = target(&[&publish, &alias])
        .serve_latest("payment-fixed")
        .await
        .unwrap_err();
    let PortError::NotFound(text) = &e else {
        panic!("{e:?}")
    };
    assert!(
        text.contains("dev-payment-fixed has no alias `live`")
            && text.contains("the stage predates releases")
            && text.contains("terraform apply"),
        "{text}"
    );
}

#[tokio::test]
async fn an_update_still_applying_is_refused_and_nothing_is_pointed_anywhere() {
    let publish = mock!(aws_sdk_lambda::Client::publish_version).then_error(|| {
        PublishVersionError::ResourceConflictException(
            ResourceConflictException::builder()
                .message("The operation cannot be performed at this time. An update is in progress")
                .build(),
        )
    });
    let alias =
        mock!(aws_sdk_lambda::Client::update_alias).then_output(|| UpdateAliasOutput::builder().build());
    let e = target(&[&publish, &alias])
        .serve_latest("payment-fixed")
        .await
        .unwrap_err();
    assert!(
        matches!(&e, PortError::Rejected(t) if t.contains("PublishVersion dev-payment-fixed") && t.contains("update is in progress")),
        "{e:?}"
    );
    assert_eq!(alias.num_calls(), 0);
    let e = target(&[]).serve_latest("auth").await.unwrap_err();
    assert!(matches!(e, PortError::NotFound(_)), "{e:?}");
}
