# What each role may do. Actions AWS cannot scope to a resource (Describe*/List*-style reads,
# metric queries, log delivery) get "*"; everything that changes a resource is scoped to the
# stage's names. No stage role may create, tag, re-key or delete a KMS key: the stages' alarm
# keys and the state key are made by the bootstrap (main.tf).

data "aws_iam_policy_document" "deploy" {
  for_each = toset(var.stages)
  #checkov:skip=CKV_AWS_356:The "*" statements hold only actions without resource-level permissions (Describe*/List*, GetMetricData, log delivery for API access logs).
  #checkov:skip=CKV_AWS_111:Write actions are scoped to the stage's resource names; the unscoped ones are API Gateway's log delivery setup, which AWS only grants on "*".
  #checkov:skip=CKV_AWS_109:Permission management is limited to the stage's own Lambda roles and their invoke permissions; see require_lambda_permissions_boundary for the boundary on role policies.

  statement {
    sid       = "TerraformState"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]
    resources = [local.arns[each.key].state_objects]
  }

  statement {
    sid       = "TerraformStateList"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "TerraformStateKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [local.state_key_alias]
    }
  }

  # The stage finds its alarm key by alias (data "aws_kms_alias" in terraform/modules/monitoring),
  # and the provider reads it with DescribeKey: only the key behind the stage's own alias.
  statement {
    sid       = "StageAlarmKeyDescribe"
    actions   = ["kms:DescribeKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = ["alias/${each.key}-alarms"]
    }
  }

  statement {
    sid = "Functions"
    actions = [
      "lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode",
      "lambda:UpdateFunctionConfiguration", "lambda:PublishVersion",
      "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency",
      "lambda:AddPermission", "lambda:RemovePermission",
      "lambda:TagResource", "lambda:UntagResource",
      # Reads the provider makes while refreshing a function (they vary between provider versions).
      "lambda:Get*", "lambda:List*",
    ]
    resources = [local.arns[each.key].functions]
  }

  # The actions that set what a function role may do; with require_lambda_permissions_boundary
  # they need the stage's boundary on the role (these are the actions IAM checks it for).
  statement {
    sid = "FunctionRolePolicies"
    actions = [
      "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
      "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
    ]
    resources = [local.arns[each.key].roles]
    dynamic "condition" {
      for_each = var.require_lambda_permissions_boundary ? [local.arns[each.key].boundary] : []
      content {
        test     = "StringEquals"
        variable = "iam:PermissionsBoundary"
        values   = [condition.value]
      }
    }
  }

  statement {
    sid = "FunctionRoles"
    actions = [
      "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:TagRole", "iam:UntagRole",
      "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:ListInstanceProfilesForRole", "iam:ListRoleTags",
    ]
    resources = [local.arns[each.key].roles]
  }

  # With the boundary required, the stage's CodeDeploy service role is the only role that may be
  # created or changed with the CodeDeploy boundary (move the stage's aliases, read its alarms):
  # a function role can never be given those rights.
  statement {
    sid = "CodeDeployRolePolicies"
    actions = [
      "iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy", "iam:AttachRolePolicy",
      "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
    ]
    resources = [local.arns[each.key].codedeploy_role]
    dynamic "condition" {
      for_each = var.require_lambda_permissions_boundary ? [local.arns[each.key].codedeploy_boundary] : []
      content {
        test     = "StringEquals"
        variable = "iam:PermissionsBoundary"
        values   = [condition.value]
      }
    }
  }

  statement {
    sid       = "PassFunctionRolesToLambdaOnly"
    actions   = ["iam:PassRole"]
    resources = [local.arns[each.key].roles]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["lambda.amazonaws.com"]
    }
  }

  # CodeDeploy needs the role when a deployment group is created or changed; only the stage's own
  # CodeDeploy role, and only to CodeDeploy.
  statement {
    sid       = "PassCodeDeployRoleToCodeDeployOnly"
    actions   = ["iam:PassRole"]
    resources = [local.arns[each.key].codedeploy_role]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["codedeploy.amazonaws.com"]
    }
  }

  # Releases (smoke-test release, and a drill's hotfix deploy): publish the new version, point
  # `live` at it or let CodeDeploy do so, invoke the new version directly before any traffic
  # reaches it, and after a train that passed delete the versions nothing needs (DeleteFunction
  # with a version as the qualifier). Versions and aliases are qualified ARNs
  # (`<function ARN>:<qualifier>`).
  statement {
    sid = "FunctionReleases"
    actions = [
      "lambda:PublishVersion", "lambda:ListVersionsByFunction", "lambda:CreateAlias", "lambda:UpdateAlias",
      "lambda:GetAlias", "lambda:DeleteAlias", "lambda:InvokeFunction", "lambda:DeleteFunction",
    ]
    resources = [local.arns[each.key].functions, local.arns[each.key].function_qualifiers]
  }

  # The stage's CodeDeploy application, its deployment groups and custom configurations, and the
  # deployments a release starts. A deployment needs the group (CreateDeployment, Get/Stop/List),
  # the application (its revision) and the configuration it follows (GetDeploymentConfig, which for
  # a predefined one is the account's CodeDeployDefault.Lambda*: read only).
  statement {
    sid = "CodeDeployApplication"
    actions = [
      "codedeploy:CreateApplication", "codedeploy:DeleteApplication", "codedeploy:UpdateApplication",
      "codedeploy:GetApplication", "codedeploy:RegisterApplicationRevision", "codedeploy:GetApplicationRevision",
      "codedeploy:TagResource", "codedeploy:UntagResource", "codedeploy:ListTagsForResource",
    ]
    resources = [local.arns[each.key].codedeploy_applications]
  }

  statement {
    sid = "CodeDeployGroupsAndDeployments"
    actions = [
      "codedeploy:CreateDeploymentGroup", "codedeploy:UpdateDeploymentGroup", "codedeploy:DeleteDeploymentGroup",
      "codedeploy:GetDeploymentGroup", "codedeploy:CreateDeployment", "codedeploy:GetDeployment",
      "codedeploy:StopDeployment", "codedeploy:ListDeployments",
      "codedeploy:TagResource", "codedeploy:UntagResource", "codedeploy:ListTagsForResource",
    ]
    resources = [local.arns[each.key].codedeploy_groups]
  }

  statement {
    sid       = "CodeDeployStageConfigs"
    actions   = ["codedeploy:CreateDeploymentConfig", "codedeploy:DeleteDeploymentConfig", "codedeploy:GetDeploymentConfig"]
    resources = [local.arns[each.key].codedeploy_configs]
  }

  statement {
    sid       = "CodeDeployPredefinedConfigsRead"
    actions   = ["codedeploy:GetDeploymentConfig"]
    resources = [local.arns[each.key].codedeploy_predefined]
  }

  statement {
    sid = "LogGroups"
    actions = [
      "logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy", "logs:DeleteRetentionPolicy",
      "logs:TagResource", "logs:UntagResource", "logs:ListTagsForResource",
      "logs:TagLogGroup", "logs:UntagLogGroup", "logs:ListTagsLogGroup",
      "logs:AssociateKmsKey", "logs:DisassociateKmsKey",
      "logs:DescribeLogStreams", "logs:GetLogEvents", "logs:FilterLogEvents", "logs:StartQuery",
    ]
    resources = local.arns[each.key].log_groups
  }

  statement {
    sid = "Alarms"
    actions = [
      "cloudwatch:PutMetricAlarm", "cloudwatch:PutCompositeAlarm", "cloudwatch:DeleteAlarms",
      "cloudwatch:EnableAlarmActions", "cloudwatch:DisableAlarmActions",
      "cloudwatch:TagResource", "cloudwatch:UntagResource", "cloudwatch:ListTagsForResource",
    ]
    resources = [local.arns[each.key].alarms]
  }

  statement {
    sid       = "Dashboards"
    actions   = ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"]
    resources = [local.arns[each.key].dashboards]
  }

  statement {
    sid = "AlarmTopic"
    actions = [
      "sns:CreateTopic", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:SetTopicAttributes",
      "sns:Subscribe", "sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes",
      "sns:ListSubscriptionsByTopic", "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource",
    ]
    resources = local.arns[each.key].topics
  }

  statement {
    sid       = "HttpApis"
    actions   = ["apigateway:GET", "apigateway:POST", "apigateway:PUT", "apigateway:PATCH", "apigateway:DELETE", "apigateway:TagResource", "apigateway:UntagResource"]
    resources = local.arns[each.key].apis
  }

  # API Gateway access logs are delivered by CloudWatch Logs' log delivery, which AWS lets the
  # caller set up only on "*".
  statement {
    sid = "ApiAccessLogDelivery"
    actions = [
      "logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries", "logs:PutResourcePolicy", "logs:DescribeResourcePolicies",
    ]
    resources = ["*"]
  }

  statement {
    sid = "ReadsWithoutResourceScope"
    actions = [
      "logs:DescribeLogGroups", "logs:GetQueryResults", "logs:StopQuery",
      "cloudwatch:DescribeAlarms", "cloudwatch:DescribeAlarmHistory", "cloudwatch:GetMetricData",
      "cloudwatch:GetMetricStatistics", "cloudwatch:ListMetrics", "kms:ListAliases",
      # smoke-test preflight: the account's concurrency quota.
      "lambda:GetAccountSettings",
    ]
    resources = ["*"]
  }
}

data "aws_iam_policy_document" "plan" {
  for_each = toset(var.stages)
  #checkov:skip=CKV_AWS_356:The "*" statement holds only reads without resource-level permissions (Describe*/List*).

  statement {
    sid       = "TerraformStateRead"
    actions   = ["s3:GetObject"]
    resources = [local.arns[each.key].state_objects]
  }

  statement {
    sid       = "TerraformStateList"
    actions   = ["s3:ListBucket"]
    resources = [local.state_bucket_arn]
  }

  statement {
    sid       = "TerraformStateKey"
    actions   = ["kms:Decrypt"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = [local.state_key_alias]
    }
  }

  # The stage finds its alarm key by alias (data "aws_kms_alias" in terraform/modules/monitoring),
  # and the provider reads it with DescribeKey: only the key behind the stage's own alias.
  statement {
    sid       = "StageAlarmKeyDescribe"
    actions   = ["kms:DescribeKey"]
    resources = ["arn:${local.partition}:kms:${local.region}:${local.account_id}:key/*"]
    condition {
      test     = "ForAnyValue:StringEquals"
      variable = "kms:ResourceAliases"
      values   = ["alias/${each.key}-alarms"]
    }
  }

  statement {
    sid       = "FunctionsRead"
    actions   = ["lambda:Get*", "lambda:List*"]
    resources = [local.arns[each.key].functions, local.arns[each.key].function_qualifiers]
  }

  statement {
    sid       = "CodeDeployRead"
    actions   = ["codedeploy:GetApplication", "codedeploy:GetDeploymentGroup", "codedeploy:GetDeploymentConfig", "codedeploy:ListTagsForResource"]
    resources = [local.arns[each.key].codedeploy_applications, local.arns[each.key].codedeploy_groups, local.arns[each.key].codedeploy_configs, local.arns[each.key].codedeploy_predefined]
  }

  statement {
    sid = "FunctionRolesRead"
    actions = [
      "iam:GetRole", "iam:GetRolePolicy", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies",
      "iam:ListRoleTags",
    ]
    resources = [local.arns[each.key].roles]
  }

  statement {
    sid       = "LogGroupsRead"
    actions   = ["logs:ListTagsForResource", "logs:ListTagsLogGroup"]
    resources = local.arns[each.key].log_groups
  }

  statement {
    sid       = "AlarmsRead"
    actions   = ["cloudwatch:ListTagsForResource"]
    resources = [local.arns[each.key].alarms]
  }

  statement {
    sid       = "DashboardsRead"
    actions   = ["cloudwatch:GetDashboard"]
    resources = [local.arns[each.key].dashboards]
  }

  statement {
    sid       = "AlarmTopicRead"
    actions   = ["sns:GetTopicAttributes", "sns:GetSubscriptionAttributes", "sns:ListSubscriptionsByTopic", "sns:ListTagsForResource"]
    resources = local.arns[each.key].topics
  }

  statement {
    sid       = "HttpApisRead"
    actions   = ["apigateway:GET"]
    resources = local.arns[each.key].apis
  }

  statement {
    sid       = "ReadsWithoutResourceScope"
    actions   = ["logs:DescribeLogGroups", "cloudwatch:DescribeAlarms", "kms:ListAliases", "logs:DescribeResourcePolicies"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "deploy" {
  for_each = toset(var.stages)

  name   = "deploy-${each.key}"
  role   = aws_iam_role.deploy[each.key].id
  policy = data.aws_iam_policy_document.deploy[each.key].json
}

resource "aws_iam_role_policy" "plan" {
  for_each = toset(var.stages)

  name   = "plan-${each.key}-read-only"
  role   = aws_iam_role.plan[each.key].id
  policy = data.aws_iam_policy_document.plan[each.key].json
}
