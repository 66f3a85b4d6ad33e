# The stage root, shared by every stage: environments/<stage>/main.tf, outputs.tf and
# variables.tf are links to these files, so the stages differ only in what must differ (the
# backend key in versions.tf, the lock file and the stage file). The AWS provider for the
# stage's account and region, and the stack. Every value comes from terraform.tfvars.json (the
# stage file), declared in stage-variables.tf, a link to terraform/stack/stage-variables.tf.
# Paths here resolve from environments/<stage>, which has the same depth as this folder.

provider "aws" {
  region              = var.aws_region
  allowed_account_ids = var.allowed_account_ids

  default_tags {
    tags = {
      stage        = var.stage
      project      = "outage-lab"
      "managed-by" = "terraform"
    }
  }
}

module "stack" {
  source = "../../terraform/stack"

  stage                  = var.stage
  aws_region             = var.aws_region
  allowed_account_ids    = var.allowed_account_ids
  log_retention_days     = var.log_retention_days
  tracing_enabled        = var.tracing_enabled
  alarm_emails           = var.alarm_emails
  api_throttle           = var.api_throttle
  functions              = var.functions
  routes                 = var.routes
  alarms                 = var.alarms
  runbook_base_url       = var.runbook_base_url
  lambda_package_dir     = "${path.root}/../../target/lambda"
  enable_composite_alarm = var.enable_composite_alarm
  release                = var.release
  enable_codedeploy      = var.enable_codedeploy

  lambda_permissions_boundary_arn     = var.lambda_permissions_boundary ? "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/outage-lab-${var.stage}-lambda-boundary" : null
  codedeploy_permissions_boundary_arn = var.lambda_permissions_boundary ? "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:policy/outage-lab-${var.stage}-codedeploy-boundary" : null
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
