# Safe releases: CodeDeploy shifts each function's `live` alias to a new version with the
# stage's strategy, and rolls back when the function's own alarms fire. One application per
# stage, one deployment group per function (named as the function), the stage's custom
# deployment configuration when its strategy is not a predefined one, and the service role
# CodeDeploy acts with. A deployment itself is started by `smoke-test release` (the AppSpec
# names the function, the alias and the two versions), not by Terraform.

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name
  account_id = data.aws_caller_identity.current.account_id

  strategy = trimspace(var.strategy)
  # canary:P%:Mm or linear:P%:Mm, as [kind, P, M]; null for a predefined name or all-at-once.
  custom = can(regex("^(canary|linear):([0-9]+)%:([0-9]+)m$", local.strategy)) ? regex("^(canary|linear):([0-9]+)%:([0-9]+)m$", local.strategy) : null
  custom_config = local.custom == null ? null : {
    name       = "${var.stage}-${local.custom[0]}-${tonumber(local.custom[1])}pct-${tonumber(local.custom[2])}m"
    type       = local.custom[0] == "canary" ? "TimeBasedCanary" : "TimeBasedLinear"
    percentage = tonumber(local.custom[1])
    interval   = tonumber(local.custom[2])
  }
  predefined_config_name = local.strategy == "all-at-once" ? "CodeDeployDefault.LambdaAllAtOnce" : "CodeDeployDefault.${trimprefix(local.strategy, "CodeDeployDefault.")}"
  deployment_config_name = local.custom_config == null ? local.predefined_config_name : aws_codedeploy_deployment_config.custom[0].deployment_config_name

  function_arns = [
    "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.stage}-*",
    "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${var.stage}-*:*",
  ]
}

resource "aws_codedeploy_app" "this" {
  name             = "${var.stage}-outage-lab"
  compute_platform = "Lambda"
  tags             = var.tags
}

# Only for canary:P%:Mm and linear:P%:Mm; the predefined configurations exist in every account.
resource "aws_codedeploy_deployment_config" "custom" {
  count = local.custom_config == null ? 0 : 1

  deployment_config_name = local.custom_config.name
  compute_platform       = "Lambda"

  traffic_routing_config {
    type = local.custom_config.type

    dynamic "time_based_canary" {
      for_each = local.custom_config.type == "TimeBasedCanary" ? [1] : []
      content {
        percentage = local.custom_config.percentage
        interval   = local.custom_config.interval
      }
    }

    dynamic "time_based_linear" {
      for_each = local.custom_config.type == "TimeBasedLinear" ? [1] : []
      content {
        percentage = local.custom_config.percentage
        interval   = local.custom_config.interval
      }
    }
  }
}

# What CodeDeploy may do for this stage: read and move the aliases of the stage's functions
# (GetProvisionedConcurrencyConfig: CodeDeploy checks an alias's provisioned concurrency before it
# shifts), and read the alarms that gate a release. DescribeAlarms supports resource-level
# permissions on alarm ARNs (only composite alarms need "*", and no gate is one), so it is
# scoped to the stage's alarms. Nothing else: no hooks (the pre-traffic check is smoke-test's
# own invocation of the new version), no SNS triggers, no managed policy.
resource "aws_iam_role" "this" {
  name                 = "${var.stage}-codedeploy"
  description          = "CodeDeploy shifts the live aliases of stage ${var.stage}"
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "CodeDeployOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "codedeploy.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "this" {
  name = "shift-live-aliases-of-${var.stage}"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ShiftAliasesOfThisStage"
        Effect   = "Allow"
        Action   = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetFunction", "lambda:GetProvisionedConcurrencyConfig"]
        Resource = local.function_arns
      },
      {
        Sid      = "ReadAlarmsOfThisStage"
        Effect   = "Allow"
        Action   = ["cloudwatch:DescribeAlarms"]
        Resource = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.stage}-*"]
      },
    ]
  })
}

# One group per function, named as the function. A function deployed broken on purpose (its
# alarms are in ALARM for good and notify a topic nobody subscribes to) gets no alarm gate and
# goes all at once: any gated release of it would always roll back, so it could never change.
resource "aws_codedeploy_deployment_group" "this" {
  for_each = var.functions

  app_name               = aws_codedeploy_app.this.name
  deployment_group_name  = each.value.function_name
  service_role_arn       = aws_iam_role.this.arn
  deployment_config_name = each.value.broken_on_purpose ? "CodeDeployDefault.LambdaAllAtOnce" : local.deployment_config_name

  deployment_style {
    deployment_type   = "BLUE_GREEN"
    deployment_option = "WITH_TRAFFIC_CONTROL"
  }

  auto_rollback_configuration {
    enabled = true
    events  = each.value.broken_on_purpose ? ["DEPLOYMENT_FAILURE"] : ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"]
  }

  dynamic "alarm_configuration" {
    for_each = each.value.broken_on_purpose ? [] : [1]
    content {
      enabled = true
      alarms  = each.value.alarm_names
    }
  }

  tags = var.tags

  # CodeDeploy checks on creation that it can assume the role and use it.
  depends_on = [aws_iam_role_policy.this]
}
