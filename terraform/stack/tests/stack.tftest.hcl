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
