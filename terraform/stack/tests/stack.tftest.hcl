# Module logic with a mocked AWS provider: names and alarm sets derived from a stage file, and
# the validation rules that reject a bad stage file before anything is planned.
# Run from terraform/stack:
#   terraform test -var-file=../../environments/dev/terraform.tfvars.json -var=lambda_package_dir=<dir>
# where <dir> holds <code>/bootstrap.zip (scripts/build-lambdas writes target/lambda).

mock_provider "aws" {
  # Computed attributes that other resources validate as ARNs.
  mock_resource "aws_sns_topic" {
    defaults = { arn = "arn:aws:sns:eu-west-1:123456789012:dev-alarms" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/mock-lambda" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:mock" }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mock"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mock/invocations"
    }
  }
  mock_resource "aws_lambda_alias" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:mock:live"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:mock:live/invocations"
    }
  }
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "mockapi"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:mockapi"
    }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:mock" }
  }
  mock_data "aws_kms_alias" {
    defaults = { target_key_arn = "arn:aws:kms:eu-west-1:123456789012:key/mock" }
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

run "one_alarm_set_per_function" {
  command = apply

  assert {
    condition     = length(output.alarm_names) == 4 * length(var.functions) + 1
    error_message = "Expected four alarms per function and one for the API, got ${length(output.alarm_names)}."
  }

  assert {
    condition = alltrue(flatten([
      for key in keys(var.functions) : [
        for kind in ["fast-errors", "errors", "duration-p99", "throttles"] :
        lookup(output.alarm_names, "${key}-${kind}", "") == "${var.stage}-${key}-${kind}"
      ]
    ]))
    error_message = "Every function needs <stage>-<key>-fast-errors, -errors, -duration-p99 and -throttles."
  }

  assert {
    condition     = output.alarm_names["api-5xx"] == "${var.stage}-api-5xx"
    error_message = "The API alarm must be <stage>-api-5xx."
  }

  assert {
    condition     = output.function_names == { for key in keys(var.functions) : key => "${var.stage}-${key}" }
    error_message = "Deployed function names must be <stage>-<key>."
  }

  assert {
    condition     = output.log_group_names == { for key in keys(var.functions) : key => "/aws/lambda/${var.stage}-${key}" }
    error_message = "Log groups must be /aws/lambda/<function name>."
  }

  assert {
    condition     = output.composite_alarm_name == "${var.stage}-service-health"
    error_message = "The composite alarm is on by default."
  }
}

run "fault_becomes_exactly_the_set_fault_variables" {
  command = plan

  variables {
    functions = merge(var.functions, {
      payment = merge(var.functions["payment"], {
        fault = { mode = "latency", latency_ms = 1500, rate = 0.25, seed = 7 }
      })
    })
  }

  assert {
    condition     = local.fault_env["payment"] == tomap({ FAULT_MODE = "latency", FAULT_LATENCY_MS = "1500", FAULT_RATE = "0.25", FAULT_SEED = "7" })
    error_message = "FAULT_* variables must be exactly the fields the fault sets, got ${jsonencode(local.fault_env["payment"])}."
  }

  assert {
    condition     = length(local.fault_env["auth"]) == 0
    error_message = "A function without a fault gets no FAULT_* variables."
  }
}

run "composite_alarm_can_be_turned_off" {
  command = apply

  variables {
    enable_composite_alarm = false
  }

  assert {
    condition     = output.composite_alarm_name == null
    error_message = "enable_composite_alarm = false must not create the composite alarm."
  }
}

run "rejects_a_period_cloudwatch_does_not_accept" {
  command = plan

  variables {
    alarms = merge(var.alarms, { fast_errors = merge(var.alarms.fast_errors, { period_s = 45 }) })
  }

  expect_failures = [var.alarms]
}

run "a_stage_with_unreserved_functions_plans" {
  command = plan

  variables {
    functions = { for key, f in var.functions : key => merge(f, { reserved_concurrency = null }) }
  }

  assert {
    condition     = alltrue([for key, f in module.function : f.reserved_concurrency == -1])
    error_message = "Functions with reserved_concurrency null are deployed unreserved."
  }
}

run "rejects_a_sub_minute_period_on_a_one_minute_metric" {
  command = plan

  variables {
    alarms = merge(var.alarms, { errors = merge(var.alarms.errors, { period_s = 10 }) })
  }

  expect_failures = [var.alarms]
}

run "rejects_an_unknown_fault_mode" {
  command = plan

  variables {
    functions = merge(var.functions, {
      payment = merge(var.functions["payment"], { fault = { mode = "explode" } })
    })
  }

  expect_failures = [var.functions]
}

run "rejects_latency_mode_without_latency" {
  command = plan

  variables {
    functions = merge(var.functions, {
      payment = merge(var.functions["payment"], { fault = { mode = "latency" } })
    })
  }

  expect_failures = [var.functions]
}

run "rejects_a_route_to_an_undefined_function" {
  command = plan

  variables {
    routes = merge(var.routes, { "GET /billing" = "billing" })
  }

  expect_failures = [var.routes]
}

run "rejects_an_unknown_treat_missing_data" {
  command = plan

  variables {
    alarms = merge(var.alarms, { errors = merge(var.alarms.errors, { treat_missing_data = "sometimes" }) })
  }

  expect_failures = [var.alarms]
}

run "rejects_a_threshold_that_is_not_positive" {
  command = plan

  variables {
    alarms = merge(var.alarms, { api_5xx = merge(var.alarms.api_5xx, { threshold = 0 }) })
  }

  expect_failures = [var.alarms]
}

run "rejects_a_runbook_base_url_with_a_trailing_slash" {
  command = plan

  variables {
    runbook_base_url = "https://github.com/acme/outage-lab/blob/main/docs/runbooks/"
  }

  expect_failures = [var.runbook_base_url]
}

run "rejects_a_runbook_base_url_that_is_not_https" {
  command = plan

  variables {
    runbook_base_url = "http://github.com/acme/outage-lab/blob/main/docs/runbooks"
  }

  expect_failures = [var.runbook_base_url]
}

# Releases (issue "safe releases"): the API serves `live`, CodeDeploy moves it behind the
# function's own alarms.

run "the_api_invokes_each_functions_live_alias" {
  command = apply

  assert {
    condition = length(module.http_api.integration_uris) > 0 && alltrue([
      for key, uri in module.http_api.integration_uris : uri == module.function[key].alias_invoke_arn && endswith(uri, ":live/invocations")
    ])
    error_message = "Every integration must invoke its function's `live` alias: ${jsonencode(module.http_api.integration_uris)}"
  }

  assert {
    condition     = length(module.http_api.invoke_permission_qualifiers) == length(var.routes) && alltrue([for q in values(module.http_api.invoke_permission_qualifiers) : q == "live"])
    error_message = "Every route's invoke permission must be on the alias (qualifier live): ${jsonencode(module.http_api.invoke_permission_qualifiers)}"
  }

  assert {
    condition     = toset(keys(output.live_alias_arns)) == toset(keys(var.functions))
    error_message = "live_alias_arns names every function's alias."
  }
}

run "each_release_is_gated_by_its_own_functions_alarms" {
  command = apply

  assert {
    condition     = output.codedeploy_application_name == "${var.stage}-outage-lab"
    error_message = "The stage's CodeDeploy application is <stage>-outage-lab."
  }

  assert {
    condition     = output.deployment_group_names == tomap({ for key in keys(var.functions) : key => "${var.stage}-${key}" })
    error_message = "One deployment group per function, named exactly as the function."
  }

  assert {
    condition = alltrue([
      for key, f in var.functions : f.fault != null || (
        jsonencode(module.release[0].deployment_group_alarms[key]) == jsonencode(module.monitoring.function_alarm_names[key]) &&
        jsonencode(module.release[0].deployment_group_alarms[key]) == jsonencode(sort([for kind in ["fast-errors", "errors", "duration-p99", "throttles"] : "${var.stage}-${key}-${kind}"]))
      )
    ])
    error_message = "A function's releases are gated by exactly its own four alarms (the monitoring module's names): ${jsonencode(module.release[0].deployment_group_alarms)}"
  }

  assert {
    condition = alltrue([
      for key, f in var.functions : f.fault == null || (
        length(module.release[0].deployment_group_alarms[key]) == 0 &&
        module.release[0].deployment_group_config_names[key] == "CodeDeployDefault.LambdaAllAtOnce"
      )
    ])
    error_message = "A function deployed broken on purpose has no alarm gate (its alarms are in ALARM for good) and goes all at once."
  }
}

# The test's stage file may set any strategy: these runs set their own.
run "a_custom_strategy_makes_a_custom_deployment_config" {
  command = apply

  variables {
    release = { strategy = "canary:10%:1m" }
  }

  assert {
    condition     = module.release[0].custom_deployment_config_name == "${var.stage}-canary-10pct-1m" && module.release[0].deployment_config_name == "${var.stage}-canary-10pct-1m"
    error_message = "canary:10%:1m makes the custom configuration <stage>-canary-10pct-1m."
  }

  assert {
    condition     = alltrue([for key, f in var.functions : f.fault != null || module.release[0].deployment_group_config_names[key] == "${var.stage}-canary-10pct-1m"])
    error_message = "Every gated group follows the stage's strategy."
  }
}

run "a_predefined_strategy_makes_no_deployment_config" {
  command = apply

  variables {
    release = { strategy = "CodeDeployDefault.LambdaCanary10Percent5Minutes" }
  }

  assert {
    condition     = module.release[0].custom_deployment_config_name == null && module.release[0].deployment_config_name == "CodeDeployDefault.LambdaCanary10Percent5Minutes"
    error_message = "A predefined configuration is used by name; nothing is created."
  }
}

run "no_release_block_is_all_at_once" {
  command = plan

  variables {
    release = null
  }

  assert {
    condition     = var.release.strategy == "all-at-once" && module.release[0].deployment_config_name == "CodeDeployDefault.LambdaAllAtOnce"
    error_message = "Without a release block a stage releases all at once, as crates/config reads it."
  }
}

run "rejects_a_bad_release_strategy" {
  command = plan

  variables {
    release = { strategy = "canary:120%:1m" }
  }

  expect_failures = [var.release]
}

run "rejects_an_unknown_release_strategy" {
  command = plan

  variables {
    release = { strategy = "blue-green" }
  }

  expect_failures = [var.release]
}

run "codedeploy_can_be_left_out_where_the_emulator_lacks_it" {
  command = apply

  variables {
    enable_codedeploy = false
  }

  assert {
    condition     = output.codedeploy_application_name == null && output.deployment_group_names == {} && length(module.release) == 0
    error_message = "enable_codedeploy = false leaves out every CodeDeploy resource."
  }

  assert {
    condition     = alltrue([for uri in values(module.http_api.integration_uris) : endswith(uri, ":live/invocations")])
    error_message = "Without CodeDeploy the API still invokes the aliases."
  }
}
