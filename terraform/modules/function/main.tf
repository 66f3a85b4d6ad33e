# One Lambda function with its own log group, an execution role that can write to that log
# group only, and the alias `live` that the API invokes and every release moves.

locals {
  log_group_name = "/aws/lambda/${var.function_name}"
}

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_158:Log data is encrypted at rest by CloudWatch Logs with AWS-owned keys; these groups hold service health lines (no secrets or personal data), and a customer managed key per stage would add cost and a key-policy dependency to every group.
  #checkov:skip=CKV_AWS_338:Retention is a per-stage choice in the stage file (dev keeps 14 days on purpose); one year of debug logs for a throwaway stage is cost without value.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  tags              = var.tags
}

resource "aws_iam_role" "this" {
  name                 = "${var.function_name}-lambda"
  permissions_boundary = var.permissions_boundary_arn
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
  tags = var.tags
}

# `<log group ARN>:*` is the form the CloudWatch Logs access-control docs prescribe for IAM
# policies (and the Lambda docs use for an execution role): it matches the group as
# CreateLogStream checks it and every `:log-stream:<name>` below it for PutLogEvents, and
# nothing outside this group; `:log-stream:*` alone would not cover CreateLogStream.
# CreateLogGroup is not granted: Terraform owns the group.
resource "aws_iam_role_policy" "logs" {
  name = "write-own-log-group"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "WriteOwnLogGroup"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = ["${aws_cloudwatch_log_group.this.arn}:*"]
    }]
  })
}

# X-Ray's PutTraceSegments and PutTelemetryRecords support no resource-level permissions: AWS
# only accepts "*" for them (the AWSXRayDaemonWriteAccess managed policy does the same). The
# statement exists only where the stage turns tracing on.
resource "aws_iam_role_policy" "xray" {
  count = var.tracing_enabled ? 1 : 0
  name  = "xray-write"
  role  = aws_iam_role.this.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "XRayWrite"
      Effect   = "Allow"
      Action   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      Resource = ["*"]
    }]
  })
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The functions call no private resource; a VPC would only add ENI cold-start latency and NAT cost.
  #checkov:skip=CKV_AWS_116:Invoked synchronously by API Gateway only; Lambda never retries synchronous calls, so a dead-letter queue would never receive anything.
  #checkov:skip=CKV_AWS_272:Zips are built by CI from reviewed source and deployed by Terraform under OIDC-scoped roles; AWS Signer profiles are a separate rollout not in this project's scope.
  #checkov:skip=CKV_AWS_173:The environment holds only FAULT_* switches (no secrets); Lambda encrypts it at rest with the AWS managed key.
  #checkov:skip=CKV_AWS_50:Active X-Ray tracing is a per-stage switch (tracing_enabled in the stage file); dev runs without it to save cost.
  function_name    = var.function_name
  role             = aws_iam_role.this.arn
  filename         = var.package_path
  source_code_hash = filebase64sha256(var.package_path)
  handler          = "bootstrap"
  runtime          = "provided.al2023"
  # Every change of code or configuration is published as a new, immutable version: `live`
  # keeps serving the version it points at until a release (CodeDeploy) shifts it.
  publish       = true
  architectures = ["arm64"]
  memory_size   = var.memory_mb
  timeout       = var.timeout_s
  # -1 is the provider's "no reservation".
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency

  dynamic "environment" {
    for_each = length(var.environment) > 0 ? [1] : []
    content {
      variables = var.environment
    }
  }

  logging_config {
    log_format            = "JSON"
    log_group             = aws_cloudwatch_log_group.this.name
    application_log_level = var.log_level
    # INFO keeps the platform START/REPORT lines (duration, init, timeouts) that diagnosis needs.
    system_log_level = "INFO"
  }

  tracing_config {
    mode = var.tracing_enabled ? "Active" : "PassThrough"
  }

  tags = var.tags

  # The role must be able to write logs before the first invocation.
  depends_on = [aws_iam_role_policy.logs, aws_iam_role_policy.xray]
}

# What the API invokes. Terraform creates it on the version the first apply publishes; from
# then on releases own it: `smoke-test release` (CodeDeploy, with the stage's strategy and the
# function's alarms as rollback triggers) shifts it to a newer version, weighting traffic
# between two versions while it does, and a drill's hotfix deploy points it at a new version.
# Terraform ignores both attributes, so the plan after a release (or in the middle of one)
# shows no change and the next apply never drags traffic back to the version it last saw.
resource "aws_lambda_alias" "live" {
  name             = "live"
  description      = "The version the API serves; moved by releases (CodeDeploy), not by Terraform."
  function_name    = aws_lambda_function.this.function_name
  function_version = aws_lambda_function.this.version

  lifecycle {
    ignore_changes = [function_version, routing_config]
  }
}
