# The http-api module with a mocked AWS provider: $default stage, throttling, integrations and
# invoke permissions scoped to each route.

mock_provider "aws" {
  mock_resource "aws_apigatewayv2_api" {
    defaults = {
      id            = "abc123"
      execution_arn = "arn:aws:execute-api:eu-west-1:123456789012:abc123"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/vendedlogs/apigateway/dev-outage-lab/access" }
  }
}

variables {
  name = "dev-outage-lab"
  routes = {
    "GET /pay"       = "payment"
    "GET /pay-fixed" = "payment-fixed"
    "ANY /auth"      = "auth"
  }
  functions = {
    payment         = { function_name = "dev-payment", alias = "live", alias_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:dev-payment:live/invocations" }
    "payment-fixed" = { function_name = "dev-payment-fixed", alias = "live", alias_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:dev-payment-fixed:live/invocations" }
    auth            = { function_name = "dev-auth", alias = "live", alias_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:dev-auth:live/invocations" }
    product         = { function_name = "dev-product", alias = "live", alias_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:dev-product:live/invocations" }
  }
  throttle_rate_limit  = 100
  throttle_burst_limit = 200
  log_retention_days   = 14
}

run "default_stage_with_throttling_and_json_access_logs" {
  command = apply

  assert {
    condition = (
      aws_apigatewayv2_stage.this.name == "$default" && aws_apigatewayv2_stage.this.auto_deploy &&
      aws_apigatewayv2_stage.this.default_route_settings[0].throttling_rate_limit == 100 &&
      aws_apigatewayv2_stage.this.default_route_settings[0].throttling_burst_limit == 200
    )
    error_message = "The $default stage must auto-deploy with the given throttling."
  }

  assert {
    condition     = can(jsondecode(aws_apigatewayv2_stage.this.access_log_settings[0].format).requestId)
    error_message = "Access logs must be JSON with the request id."
  }

  assert {
    condition     = aws_cloudwatch_log_group.access.name == "/aws/vendedlogs/apigateway/dev-outage-lab/access"
    error_message = "Access logs go under /aws/vendedlogs/: log delivery then leaves the account's 5,120-character logs resource policy alone."
  }
}

run "one_proxy_integration_per_routed_function" {
  command = apply

  assert {
    condition     = toset(keys(aws_apigatewayv2_integration.this)) == toset(["payment", "payment-fixed", "auth"])
    error_message = "Only routed functions get an integration (product has no route)."
  }

  assert {
    condition = alltrue([
      for i in aws_apigatewayv2_integration.this : i.integration_type == "AWS_PROXY" && i.payload_format_version == "2.0"
    ])
    error_message = "Integrations must be AWS_PROXY with payload format 2.0."
  }

  assert {
    condition = alltrue([
      for key, i in aws_apigatewayv2_integration.this : i.integration_uri == var.functions[key].alias_invoke_arn && endswith(i.integration_uri, ":function:dev-${key}:live/invocations")
    ])
    error_message = "Every integration must invoke its function's `live` alias, never $LATEST."
  }
}

run "invoke_permissions_are_scoped_to_each_route" {
  command = apply

  assert {
    condition = {
      for route, p in aws_lambda_permission.route : route => [p.function_name, p.source_arn]
      } == {
      "GET /pay"       = ["dev-payment", "arn:aws:execute-api:eu-west-1:123456789012:abc123/*/GET/pay"]
      "GET /pay-fixed" = ["dev-payment-fixed", "arn:aws:execute-api:eu-west-1:123456789012:abc123/*/GET/pay-fixed"]
      "ANY /auth"      = ["dev-auth", "arn:aws:execute-api:eu-west-1:123456789012:abc123/*/*/auth"]
    }
    error_message = "Each route's permission names its function and only its own method and path."
  }

  assert {
    condition     = alltrue([for p in aws_lambda_permission.route : p.qualifier == "live" && p.principal == "apigateway.amazonaws.com"])
    error_message = "Each invoke permission is on the `live` alias (qualifier live), which is what the integrations invoke."
  }
}

run "rejects_an_integration_of_latest" {
  command = plan

  variables {
    functions = merge(var.functions, {
      auth = { function_name = "dev-auth", alias = "live", alias_invoke_arn = "arn:aws:apigateway:eu-west-1:lambda:path/2015-03-31/functions/arn:aws:lambda:eu-west-1:123456789012:function:dev-auth/invocations" }
    })
  }

  expect_failures = [var.functions]
}

run "rejects_a_malformed_route_key" {
  command = plan

  variables {
    routes = { "FETCH /pay" = "payment" }
  }

  expect_failures = [var.routes]
}
