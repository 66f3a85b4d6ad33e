# The function module with a mocked AWS provider: runtime and limits, the role's least
# privilege, and X-Ray only where tracing is on.

mock_provider "aws" {
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::123456789012:role/dev-payment-lambda" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/dev-payment" }
  }
  # What Lambda returns: the version PublishVersion made, and the alias's ARNs.
  mock_resource "aws_lambda_function" {
    defaults = { version = "7" }
  }
  mock_resource "aws_lambda_alias" {
    defaults = {
      arn        = "arn:aws:lambda:eu-west-1:123456789012:function:dev-payment:live"
      invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:dev-payment:live/invocations"
    }
  }
}

variables {
  function_name        = "dev-payment"
  package_path         = "README.md" # only hashed here; any existing file will do
  memory_mb            = 256
  timeout_s            = 5
  reserved_concurrency = 7
  environment          = { FAULT_MODE = "exception" }
  log_retention_days   = 14
}

run "arm64_provided_al2023_with_the_given_limits" {
  command = apply

  assert {
    condition = (
      aws_lambda_function.this.runtime == "provided.al2023" &&
      aws_lambda_function.this.architectures == tolist(["arm64"]) &&
      aws_lambda_function.this.handler == "bootstrap" &&
      aws_lambda_function.this.memory_size == 256 &&
      aws_lambda_function.this.timeout == 5 &&
      aws_lambda_function.this.reserved_concurrent_executions == 7
    )
    error_message = "The function must run bootstrap on provided.al2023/arm64 with the given memory, timeout and reserved concurrency."
  }

  assert {
    condition     = aws_lambda_function.this.environment[0].variables == tomap({ FAULT_MODE = "exception" })
    error_message = "The environment must be exactly the given variables."
  }

  assert {
    condition     = aws_lambda_function.this.logging_config[0].log_format == "JSON" && aws_lambda_function.this.logging_config[0].log_group == "/aws/lambda/dev-payment"
    error_message = "Logs must be JSON, to /aws/lambda/<function name>."
  }

  assert {
    condition     = aws_cloudwatch_log_group.this.retention_in_days == 14
    error_message = "The log group keeps the given retention."
  }
}

run "role_writes_only_to_its_own_log_group" {
  command = apply

  assert {
    condition = jsondecode(aws_iam_role_policy.logs.policy).Statement == [{
      Sid      = "WriteOwnLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/dev-payment:*"]
    }]
    error_message = "The role may only create streams in and write to its own log group: ${aws_iam_role_policy.logs.policy}"
  }

  assert {
    condition     = length(aws_iam_role_policy.xray) == 0 && aws_lambda_function.this.tracing_config[0].mode == "PassThrough"
    error_message = "Without tracing there is no X-Ray permission and no active tracing."
  }
}

run "tracing_adds_active_xray_and_its_two_write_actions" {
  command = apply

  variables {
    tracing_enabled = true
  }

  assert {
    condition     = aws_lambda_function.this.tracing_config[0].mode == "Active"
    error_message = "tracing_enabled must turn on active tracing."
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.xray[0].policy).Statement[0].Action == ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    error_message = "Tracing grants exactly the two X-Ray write actions."
  }
}

run "no_environment_block_without_variables" {
  command = plan

  variables {
    environment = {}
  }

  assert {
    condition     = length(aws_lambda_function.this.environment) == 0
    error_message = "A function without FAULT_* variables gets no environment block."
  }
}

# A new account's concurrency quota is often 10, where no reservation is allowed at all.
run "null_reserved_concurrency_is_unreserved" {
  command = apply

  variables {
    reserved_concurrency = null
  }

  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == -1
    error_message = "null reserved_concurrency leaves the function unreserved (the provider's -1)."
  }
}

run "rejects_a_reservation_of_zero" {
  command = plan

  variables {
    reserved_concurrency = 0
  }

  expect_failures = [var.reserved_concurrency]
}

run "rejects_memory_outside_lambda_limits" {
  command = plan

  variables {
    memory_mb = 64
  }

  expect_failures = [var.memory_mb]
}

# The API invokes `live`; releases move it, so Terraform must not.
run "publishes_versions_and_serves_them_through_the_live_alias" {
  command = apply

  assert {
    condition     = aws_lambda_function.this.publish
    error_message = "Every change must publish a version: a release shifts `live` between versions."
  }

  assert {
    condition = (
      aws_lambda_alias.live.name == "live" && aws_lambda_alias.live.function_name == "dev-payment" &&
      aws_lambda_alias.live.function_version == "7"
    )
    error_message = "The alias `live` starts on the version the apply published."
  }

  assert {
    condition     = output.alias_invoke_arn == aws_lambda_alias.live.invoke_arn && endswith(output.alias_invoke_arn, ":function:dev-payment:live/invocations")
    error_message = "alias_invoke_arn is what the API's integrations invoke: the alias, not $LATEST."
  }
}
