# The release module with a mocked AWS provider: which deployment configuration a strategy
# makes, the alarm gate of each deployment group (none for a function broken on purpose), and
# the service role's least privilege.

mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/dev-codedeploy" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_caller_identity" {
    defaults = { account_id = "123456789012" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
}

variables {
  stage    = "dev"
  strategy = "canary:10%:1m"
  functions = {
    payment = {
      function_name     = "dev-payment"
      alarm_names       = ["dev-payment-duration-p99", "dev-payment-errors", "dev-payment-fast-errors", "dev-payment-throttles"]
      broken_on_purpose = true
    }
    "payment-fixed" = {
      function_name     = "dev-payment-fixed"
      alarm_names       = ["dev-payment-fixed-duration-p99", "dev-payment-fixed-errors", "dev-payment-fixed-fast-errors", "dev-payment-fixed-throttles"]
      broken_on_purpose = false
    }
  }
}

run "a_custom_canary_makes_a_custom_deployment_config" {
  command = apply

  assert {
    condition = (
      length(aws_codedeploy_deployment_config.custom) == 1 &&
      aws_codedeploy_deployment_config.custom[0].deployment_config_name == "dev-canary-10pct-1m" &&
      aws_codedeploy_deployment_config.custom[0].compute_platform == "Lambda" &&
      aws_codedeploy_deployment_config.custom[0].traffic_routing_config[0].type == "TimeBasedCanary" &&
      aws_codedeploy_deployment_config.custom[0].traffic_routing_config[0].time_based_canary[0].percentage == 10 &&
      aws_codedeploy_deployment_config.custom[0].traffic_routing_config[0].time_based_canary[0].interval == 1 &&
      length(aws_codedeploy_deployment_config.custom[0].traffic_routing_config[0].time_based_linear) == 0
    )
    error_message = "canary:10%:1m is the Lambda configuration dev-canary-10pct-1m: TimeBasedCanary, 10 %, 1 minute."
  }

  assert {
    condition     = aws_codedeploy_deployment_group.this["payment-fixed"].deployment_config_name == "dev-canary-10pct-1m" && output.deployment_config_name == "dev-canary-10pct-1m"
    error_message = "The gated groups release with the stage's strategy."
  }

  assert {
    condition     = aws_codedeploy_app.this.name == "dev-outage-lab" && aws_codedeploy_app.this.compute_platform == "Lambda"
    error_message = "One Lambda application per stage, <stage>-outage-lab."
  }

  assert {
    condition     = output.deployment_group_names == { payment = "dev-payment", "payment-fixed" = "dev-payment-fixed" }
    error_message = "One deployment group per function, named exactly as the function."
  }
}

run "a_groups_alarms_are_its_functions_and_the_broken_function_has_none" {
  command = apply

  assert {
    condition = (
      aws_codedeploy_deployment_group.this["payment-fixed"].alarm_configuration[0].enabled &&
      toset(aws_codedeploy_deployment_group.this["payment-fixed"].alarm_configuration[0].alarms) == toset(var.functions["payment-fixed"].alarm_names)
    )
    error_message = "A release of payment-fixed is gated by exactly payment-fixed's alarms."
  }

  assert {
    condition = (
      aws_codedeploy_deployment_group.this["payment-fixed"].auto_rollback_configuration[0].enabled &&
      toset(aws_codedeploy_deployment_group.this["payment-fixed"].auto_rollback_configuration[0].events) == toset(["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_ALARM"])
    )
    error_message = "A gated release rolls back on failure and when an alarm stops it."
  }

  assert {
    condition = alltrue([
      for g in aws_codedeploy_deployment_group.this :
      g.deployment_style[0].deployment_type == "BLUE_GREEN" && g.deployment_style[0].deployment_option == "WITH_TRAFFIC_CONTROL" && g.service_role_arn == "arn:aws:iam::123456789012:role/dev-codedeploy"
    ])
    error_message = "Lambda deployments are blue/green with traffic control, with the stage's service role."
  }

  assert {
    condition = (
      length(aws_codedeploy_deployment_group.this["payment"].alarm_configuration) == 0 &&
      aws_codedeploy_deployment_group.this["payment"].deployment_config_name == "CodeDeployDefault.LambdaAllAtOnce" &&
      aws_codedeploy_deployment_group.this["payment"].auto_rollback_configuration[0].events == toset(["DEPLOYMENT_FAILURE"])
    )
    error_message = "The function broken on purpose (its alarms are in ALARM for good) has no alarm gate and goes all at once."
  }
}

run "a_predefined_strategy_makes_no_custom_config" {
  command = apply

  variables {
    strategy = "LambdaCanary10Percent5Minutes"
  }

  assert {
    condition     = length(aws_codedeploy_deployment_config.custom) == 0 && output.custom_deployment_config_name == null
    error_message = "A predefined configuration exists in every account: nothing to create."
  }

  assert {
    condition     = aws_codedeploy_deployment_group.this["payment-fixed"].deployment_config_name == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    error_message = "A predefined name without its prefix is CodeDeployDefault.<Name>."
  }
}

run "a_prefixed_predefined_strategy_is_used_as_it_is" {
  command = plan

  variables {
    strategy = "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"
  }

  assert {
    condition     = length(aws_codedeploy_deployment_config.custom) == 0 && aws_codedeploy_deployment_group.this["payment-fixed"].deployment_config_name == "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes"
    error_message = "A predefined name with its prefix is used unchanged, and creates nothing."
  }
}

run "all_at_once_is_the_predefined_all_at_once" {
  command = plan

  variables {
    strategy = "all-at-once"
  }

  assert {
    condition     = length(aws_codedeploy_deployment_config.custom) == 0 && aws_codedeploy_deployment_group.this["payment-fixed"].deployment_config_name == "CodeDeployDefault.LambdaAllAtOnce"
    error_message = "all-at-once is CodeDeployDefault.LambdaAllAtOnce."
  }
}

run "a_custom_linear_makes_a_linear_config" {
  command = plan

  variables {
    strategy = "linear:25%:3m"
  }

  assert {
    condition = (
      aws_codedeploy_deployment_config.custom[0].deployment_config_name == "dev-linear-25pct-3m" &&
      aws_codedeploy_deployment_config.custom[0].traffic_routing_config[0].type == "TimeBasedLinear" &&
      aws_codedeploy_deployment_config.custom[0].traffic_routing_config[0].time_based_linear[0].percentage == 25 &&
      aws_codedeploy_deployment_config.custom[0].traffic_routing_config[0].time_based_linear[0].interval == 3
    )
    error_message = "linear:25%:3m is TimeBasedLinear 25 % every 3 minutes, named dev-linear-25pct-3m."
  }
}

run "the_service_role_can_only_move_this_stages_aliases_and_read_its_alarms" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role.this.assume_role_policy).Statement == [{
      Sid       = "CodeDeployOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "codedeploy.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = "123456789012" } }
    }]
    error_message = "Only CodeDeploy, acting for this account, may assume the role."
  }

  assert {
    condition = jsondecode(aws_iam_role_policy.this.policy).Statement == [
      {
        Sid      = "ShiftAliasesOfThisStage"
        Effect   = "Allow"
        Action   = ["lambda:GetAlias", "lambda:UpdateAlias", "lambda:GetFunction", "lambda:GetProvisionedConcurrencyConfig"]
        Resource = ["arn:aws:lambda:eu-west-1:123456789012:function:dev-*", "arn:aws:lambda:eu-west-1:123456789012:function:dev-*:*"]
      },
      {
        Sid      = "ReadAlarmsOfThisStage"
        Effect   = "Allow"
        Action   = ["cloudwatch:DescribeAlarms"]
        Resource = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:dev-*"]
      },
    ]
    error_message = "The role may read and move the stage's aliases and read the stage's alarms, nothing else: ${aws_iam_role_policy.this.policy}"
  }

  assert {
    condition     = aws_iam_role.this.name == "dev-codedeploy"
    error_message = "The role is <stage>-codedeploy: the stage's deploy role may pass it to CodeDeploy, and no other."
  }
}

run "rejects_a_percentage_out_of_range" {
  command = plan

  variables {
    strategy = "canary:0%:1m"
  }

  expect_failures = [var.strategy]
}

run "rejects_an_interval_out_of_range" {
  command = plan

  variables {
    strategy = "linear:10%:2881m"
  }

  expect_failures = [var.strategy]
}

run "rejects_an_unknown_strategy" {
  command = plan

  variables {
    strategy = "blue-green"
  }

  expect_failures = [var.strategy]
}

run "rejects_a_gated_function_without_alarms" {
  command = plan

  variables {
    functions = {
      auth = { function_name = "dev-auth", alarm_names = [], broken_on_purpose = false }
    }
  }

  expect_failures = [var.functions]
}
