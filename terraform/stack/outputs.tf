output "stage" {
  description = "Stage name."
  value       = var.stage
}

output "region" {
  description = "AWS region of the stage."
  value       = var.aws_region
}

output "api_id" {
  description = "HTTP API id."
  value       = module.http_api.api_id
}

output "api_endpoint" {
  description = "Base URL of the API's $default stage (https://<id>.execute-api.<region>.amazonaws.com)."
  value       = module.http_api.api_endpoint
}

output "function_names" {
  description = "Function key (as in the stage file) to deployed function name."
  value       = { for key, f in module.function : key => f.function_name }
}

output "log_group_names" {
  description = "Function key to its log group."
  value       = { for key, f in module.function : key => f.log_group_name }
}

output "alarm_names" {
  description = "Alarm key (`<function>-<kind>` or `api-5xx`) to alarm name."
  value       = module.monitoring.alarm_names
}

output "composite_alarm_name" {
  description = "Composite service-health alarm, null when disabled."
  value       = module.monitoring.composite_alarm_name
}

output "dashboard_url" {
  description = "Console URL of the stage dashboard."
  value       = module.monitoring.dashboard_url
}

output "sns_topic_arn" {
  description = "ARN of the alarm topic (on-call's e-mail)."
  value       = module.monitoring.sns_topic_arn
}

output "known_broken_topic_arn" {
  description = "ARN of the topic of the deliberately broken functions' alarms (no subscription: they never page); null when the stage has none."
  value       = module.monitoring.known_broken_topic_arn
}

output "live_alias_arns" {
  description = "Function key to the ARN of its `live` alias, the version the API serves."
  value       = { for key, f in module.function : key => f.alias_arn }
}

output "codedeploy_application_name" {
  description = "The stage's CodeDeploy application (`<stage>-outage-lab`, compute platform Lambda); null where CodeDeploy is turned off (the local emulator)."
  value       = one(module.release[*].application_name)
}

output "deployment_group_names" {
  description = "Function key to its CodeDeploy deployment group (named as the function); empty where CodeDeploy is turned off."
  value       = var.enable_codedeploy ? module.release[0].deployment_group_names : {}
}
