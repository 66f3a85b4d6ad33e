# One stage: a function per entry of the stage file's `functions` (each served through its
# alias `live`), the HTTP API with its routes, the alarms, topic and dashboard that watch them,
# and the CodeDeploy application that releases new versions behind those alarms. Names follow
# crates/config.

data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  function_names = { for key in keys(var.functions) : key => "${var.stage}-${key}" }

  # Routes served by a function the stage file deploys broken on purpose (crates/config's
  # Stage::known_broken_routes), in route-key order.
  known_broken_routes = [for route, key in var.routes : route if var.functions[key].fault != null]
  known_broken        = [for key, f in var.functions : key if f.fault != null]

  # The FAULT_* variables, exactly as crates/config's FaultSpec::env_vars writes them: only the
  # fields the stage file sets. Numbers print as Rust does (1 not 1.0, 0.5 as 0.5).
  fault_env = {
    for key, f in var.functions : key => f.fault == null ? {} : {
      for name, value in {
        FAULT_MODE       = f.fault.mode
        FAULT_MESSAGE    = f.fault.message
        FAULT_RATE       = f.fault.rate == null ? null : tostring(f.fault.rate)
        FAULT_LATENCY_MS = f.fault.latency_ms == null ? null : tostring(f.fault.latency_ms)
        FAULT_STATUS     = f.fault.status == null ? null : tostring(f.fault.status)
        FAULT_EXPIRES_AT = f.fault.expires_at
        FAULT_SEED       = f.fault.seed == null ? null : tostring(f.fault.seed)
      } : name => value if value != null
    }
  }
}

module "function" {
  source   = "../modules/function"
  for_each = var.functions

  function_name        = local.function_names[each.key]
  package_path         = "${var.lambda_package_dir}/${each.value.code}/bootstrap.zip"
  memory_mb            = each.value.memory_mb
  timeout_s            = each.value.timeout_s
  reserved_concurrency = each.value.reserved_concurrency
  environment          = local.fault_env[each.key]
  log_retention_days   = var.log_retention_days
  tracing_enabled      = var.tracing_enabled

  permissions_boundary_arn = var.lambda_permissions_boundary_arn
  tags                     = var.tags
}

module "http_api" {
  source = "../modules/http-api"

  name   = "${var.stage}-outage-lab"
  routes = var.routes
  # The API invokes each function's `live` alias: what the last release shifted, not $LATEST.
  functions            = { for key, f in module.function : key => { function_name = f.function_name, alias = f.alias_name, alias_invoke_arn = f.alias_invoke_arn } }
  throttle_rate_limit  = var.api_throttle.rate_limit
  throttle_burst_limit = var.api_throttle.burst_limit
  # Per-route metrics, so the API's 5xx alarm can leave out the routes broken on purpose.
  detailed_metrics   = length(local.known_broken_routes) > 0
  log_retention_days = var.log_retention_days
  tags               = var.tags
}

module "monitoring" {
  source = "../modules/monitoring"

  stage                  = var.stage
  functions              = { for key, f in module.function : key => f.function_name }
  log_group_names        = [for f in module.function : f.log_group_name]
  api_id                 = module.http_api.api_id
  api_stage              = module.http_api.stage_name
  alarms                 = var.alarms
  runbook_base_url       = var.runbook_base_url
  alarm_emails           = var.alarm_emails
  known_broken           = local.known_broken
  known_broken_routes    = local.known_broken_routes
  enable_composite_alarm = var.enable_composite_alarm
  tags                   = var.tags
}

# Releases: CodeDeploy shifts `live` with the stage file's release.strategy and rolls back when
# one of the function's own alarms fires. A function deployed broken on purpose (a `fault` in
# the stage file: its alarms are in ALARM for good) gets a group without alarm gate that goes all
# at once, since any gated release of it would always roll back.
module "release" {
  source = "../modules/release"
  count  = var.enable_codedeploy ? 1 : 0

  stage    = var.stage
  strategy = var.release.strategy
  functions = {
    for key, f in module.function : key => {
      function_name     = f.function_name
      alarm_names       = module.monitoring.function_alarm_names[key]
      broken_on_purpose = contains(local.known_broken, key)
    }
  }
  permissions_boundary_arn = var.codedeploy_permissions_boundary_arn
  tags                     = var.tags
}

# The stage file names its region; deploying it with a provider set to another one would
# create a second, unwatched copy.
check "provider_region_is_the_stage_region" {
  assert {
    condition     = data.aws_region.current.name == var.aws_region
    error_message = "The AWS provider region is ${data.aws_region.current.name} but the stage file says ${var.aws_region}."
  }
}

# The roots' provider refuses other accounts already; this keeps the promise when the stack is
# used from another root.
check "account_is_allowed_by_the_stage_file" {
  assert {
    condition     = contains(var.allowed_account_ids, data.aws_caller_identity.current.account_id)
    error_message = "Account ${data.aws_caller_identity.current.account_id} is not in the stage file's allowed_account_ids."
  }
}
