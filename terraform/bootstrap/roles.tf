# Two roles per stage, both assumable only through GitHub's OIDC tokens for this repository:
#
# - deploy (outage-lab-github-deploy-<stage>): trusts tokens whose `sub` is
#   repo:<owner>/<name>:environment:<stage>. GitHub issues that claim only to jobs that declare
#   the stage's Environment, and the Environment's protection rules (main only; reviewers on
#   prod) decide which runs may. It can change the stage's own resources and nothing else.
# - plan (outage-lab-github-plan-<stage>): trusts tokens of pull_request runs. It can read the
#   stage and its state, with no write action at all, so code from a pull request can plan but
#   can never apply, whatever the pull request changes in the workflows.
#
# Resource names follow crates/config and terraform/stack: functions `<stage>-<key>` (with their
# versions and the alias `live`), their roles `<stage>-<key>-lambda`, the CodeDeploy service role
# `<stage>-codedeploy`, the CodeDeploy application `<stage>-outage-lab` with one deployment group
# per function and custom deployment configurations `<stage>-*`, log groups /aws/lambda/<stage>-* and
# /aws/vendedlogs/apigateway/<stage>-*, alarms `<stage>-*`, the topic `<stage>-alarms` with its key
# alias/<stage>-alarms, dashboards `<stage>-*`. The role names themselves do not match
# `<stage>-*`, so a deploy role cannot edit itself.

locals {
  oidc_subject_prefix = "repo:${var.github_repository}"

  arns = {
    for s in var.stages : s => {
      functions = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${s}-*"
      # A function's versions and aliases (`<function ARN>:live`, `:7`).
      function_qualifiers = "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${s}-*:*"
      roles               = "arn:${local.partition}:iam::${local.account_id}:role/${s}-*"
      # The CodeDeploy service role of the stage (terraform/modules/release).
      codedeploy_role = "arn:${local.partition}:iam::${local.account_id}:role/${s}-codedeploy"
      # CodeDeploy: the stage's application `<stage>-outage-lab`, its groups (named as the
      # functions, `<stage>-<key>`), its custom deployment configurations, and the predefined
      # Lambda configurations, which every account has (read only).
      codedeploy_applications = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:application:${s}-*"
      codedeploy_groups       = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentgroup:${s}-*/${s}-*"
      codedeploy_configs      = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentconfig:${s}-*"
      codedeploy_predefined   = "arn:${local.partition}:codedeploy:${local.region}:${local.account_id}:deploymentconfig:CodeDeployDefault.Lambda*"
      codedeploy_boundary     = "arn:${local.partition}:iam::${local.account_id}:policy/outage-lab-${s}-codedeploy-boundary"
      log_groups = [
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${s}-*",
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/${s}-*:*",
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/vendedlogs/apigateway/${s}-*",
        "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/vendedlogs/apigateway/${s}-*:*",
      ]
      alarms     = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${s}-*"
      dashboards = "arn:${local.partition}:cloudwatch::${local.account_id}:dashboard/${s}-*"
      topics = [
        "arn:${local.partition}:sns:${local.region}:${local.account_id}:${s}-alarms",
        "arn:${local.partition}:sns:${local.region}:${local.account_id}:${s}-alarms:*",
      ]
      # HTTP API ARNs carry ids, not names: the role can manage the region's HTTP APIs.
      apis = [
        "arn:${local.partition}:apigateway:${local.region}::/apis",
        "arn:${local.partition}:apigateway:${local.region}::/apis/*",
        "arn:${local.partition}:apigateway:${local.region}::/tags/*",
      ]
      state_objects = "${local.state_bucket_arn}/${var.state_key_prefix}/${s}/*"
      boundary      = "arn:${local.partition}:iam::${local.account_id}:policy/outage-lab-${s}-lambda-boundary"
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Trust

data "aws_iam_policy_document" "deploy_trust" {
  for_each = toset(var.stages)
  #checkov:skip=CKV_AWS_358:The sub is pinned to one repository (var.github_repository, validated owner/name) and one GitHub Environment; checkov cannot resolve the input variable, so tests/bootstrap.tftest.hcl asserts the rendered claim instead.

  statement {
    sid     = "GitHubEnvironment${title(each.key)}"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["${local.oidc_subject_prefix}:environment:${each.key}"]
    }
  }
}

data "aws_iam_policy_document" "plan_trust" {
  #checkov:skip=CKV_AWS_358:The sub is pinned to one repository (var.github_repository, validated owner/name) and its pull_request runs; checkov cannot resolve the input variable, so tests/bootstrap.tftest.hcl asserts the rendered claim instead.
  statement {
    sid     = "GitHubPullRequests"
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [local.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:aud"
      values   = ["sts.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "token.actions.githubusercontent.com:sub"
      values   = ["${local.oidc_subject_prefix}:pull_request"]
    }
  }
}

resource "aws_iam_role" "deploy" {
  for_each = toset(var.stages)

  name                 = "outage-lab-github-deploy-${each.key}"
  description          = "GitHub Actions deploys of stage ${each.key} from ${var.github_repository} (Environment ${each.key})"
  assume_role_policy   = data.aws_iam_policy_document.deploy_trust[each.key].json
  max_session_duration = lookup(var.deploy_session_seconds, each.key, 3600)

  depends_on = [aws_iam_openid_connect_provider.github]
}

resource "aws_iam_role" "plan" {
  for_each = toset(var.stages)

  name                 = "outage-lab-github-plan-${each.key}"
  description          = "Read-only terraform plan of stage ${each.key} for pull requests of ${var.github_repository}"
  assume_role_policy   = data.aws_iam_policy_document.plan_trust.json
  max_session_duration = 3600

  depends_on = [aws_iam_openid_connect_provider.github]
}

# ---------------------------------------------------------------------------------------------
# The most a stage's Lambda execution role may ever be granted: write its own logs and traces.
# (And below: the most its CodeDeploy service role may be granted.)

data "aws_iam_policy_document" "lambda_boundary" {
  for_each = toset(var.stages)

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = [for arn in local.arns[each.key].log_groups : arn if startswith(arn, "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/lambda/")]
  }

  statement {
    sid = "WriteTraces"
    #checkov:skip=CKV_AWS_356:X-Ray trace writes support no resource-level permissions; AWS accepts only "*".
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_policy" "lambda_boundary" {
  for_each = toset(var.stages)

  name        = "outage-lab-${each.key}-lambda-boundary"
  description = "Permissions boundary for the Lambda execution roles of stage ${each.key}"
  policy      = data.aws_iam_policy_document.lambda_boundary[each.key].json
}

# The most a stage's CodeDeploy service role may ever be granted: move the aliases of the stage's
# functions and read the stage's alarms (terraform/modules/release grants exactly this).
data "aws_iam_policy_document" "codedeploy_boundary" {
  for_each = toset(var.stages)

  statement {
    sid       = "ShiftAliasesOfThisStage"
    actions   = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetFunction", "lambda:GetProvisionedConcurrencyConfig"]
    resources = [local.arns[each.key].functions, local.arns[each.key].function_qualifiers]
  }

  statement {
    sid       = "ReadAlarmsOfThisStage"
    actions   = ["cloudwatch:DescribeAlarms"]
    resources = [local.arns[each.key].alarms]
  }
}

resource "aws_iam_policy" "codedeploy_boundary" {
  for_each = toset(var.stages)

  name        = "outage-lab-${each.key}-codedeploy-boundary"
  description = "Permissions boundary for the CodeDeploy service role of stage ${each.key}"
  policy      = data.aws_iam_policy_document.codedeploy_boundary[each.key].json
}
