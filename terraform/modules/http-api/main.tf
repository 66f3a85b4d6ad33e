# HTTP API: the auto-deployed $default stage, JSON access logs, default-route throttling, one
# AWS_PROXY integration per function and one route per route key. Integrations invoke each
# function's alias (`live`), never $LATEST: what clients get is what the last release shifted.

locals {
  # Functions that at least one route targets: only these get an integration.
  routed_functions = toset(values(var.routes))
}

resource "aws_apigatewayv2_api" "this" {
  name          = var.name
  protocol_type = "HTTP"
  description   = "outage-lab services"
  tags          = var.tags
}

resource "aws_cloudwatch_log_group" "access" {
  #checkov:skip=CKV_AWS_158:Access logs carry request metadata only (ids, route, status, latency); CloudWatch Logs encrypts them at rest with AWS-owned keys.
  #checkov:skip=CKV_AWS_338:Retention is a per-stage choice in the stage file (dev keeps 14 days on purpose).
  # Under /aws/vendedlogs/: access logs arrive through CloudWatch Logs' log delivery, which
  # otherwise adds every log group to the account's one logs resource policy (5,120 characters
  # at most) until a later stage's delivery set-up fails.
  name              = "/aws/vendedlogs/apigateway/${var.name}/access"
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_apigatewayv2_stage" "this" {
  api_id      = aws_apigatewayv2_api.this.id
  name        = "$default"
  auto_deploy = true

  default_route_settings {
    throttling_rate_limit    = var.throttle_rate_limit
    throttling_burst_limit   = var.throttle_burst_limit
    detailed_metrics_enabled = var.detailed_metrics
  }

  access_log_settings {
    destination_arn = aws_cloudwatch_log_group.access.arn
    format = jsonencode({
      requestId          = "$context.requestId"
      requestTime        = "$context.requestTime"
      sourceIp           = "$context.identity.sourceIp"
      httpMethod         = "$context.httpMethod"
      routeKey           = "$context.routeKey"
      path               = "$context.path"
      status             = "$context.status"
      protocol           = "$context.protocol"
      responseLength     = "$context.responseLength"
      responseLatency    = "$context.responseLatency"
      integrationStatus  = "$context.integrationStatus"
      integrationLatency = "$context.integrationLatency"
      integrationError   = "$context.integrationErrorMessage"
      errorMessage       = "$context.error.message"
    })
  }

  tags = var.tags
}

resource "aws_apigatewayv2_integration" "this" {
  for_each = local.routed_functions

  api_id                 = aws_apigatewayv2_api.this.id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = var.functions[each.key].alias_invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.integration_timeout_ms
}

resource "aws_apigatewayv2_route" "this" {
  #checkov:skip=CKV_AWS_309:The routes are the public health endpoints of a demonstration system; they return no data worth protecting, and the stage's default throttling bounds abuse.
  for_each = var.routes

  api_id    = aws_apigatewayv2_api.this.id
  route_key = each.key
  target    = "integrations/${aws_apigatewayv2_integration.this[each.value].id}"
}

# One permission per route, scoped to that route's method and path on this API (any stage), so
# a function cannot be invoked through a route that does not name it. On the alias (qualifier):
# that is what the integration invokes, and a permission on the alias covers whichever versions
# it points at during a release.
resource "aws_lambda_permission" "route" {
  for_each = var.routes

  statement_id  = "apigw-${replace(each.key, "/[^A-Za-z0-9_-]/", "_")}"
  action        = "lambda:InvokeFunction"
  function_name = var.functions[each.value].function_name
  qualifier     = var.functions[each.value].alias
  principal     = "apigateway.amazonaws.com"
  source_arn = format(
    "%s/*/%s%s",
    aws_apigatewayv2_api.this.execution_arn,
    split(" ", each.key)[0] == "ANY" ? "*" : split(" ", each.key)[0],
    split(" ", each.key)[1],
  )
}
