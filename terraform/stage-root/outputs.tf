# Read by `smoke-test --target aws` (terraform output -json).

output "stage" {
  description = "Stage name."
  value       = module.stack.stage
}

output "region" {
  description = "AWS region of the stage."
  value       = module.stack.region
}

output "api_id" {
  description = "HTTP API id."
  value       = module.stack.api_id
}

output "api_endpoint" {
  description = "Base URL of the API."
  value       = module.stack.api_endpoint
}

output "function_names" {
  description = "Function key to deployed function name."
  value       = module.stack.function_names
}

output "log_group_names" {
  description = "Function key to log group."
  value       = module.stack.log_group_names
}

output "alarm_names" {
  description = "Alarm key (`<function>-<kind>`, `api-5xx`) to alarm name."
  value       = module.stack.alarm_names
}

output "composite_alarm_name" {
  description = "Composite service-health alarm, null when disabled."
  value       = module.stack.composite_alarm_name
}

output "dashboard_url" {
  description = "Console URL of the stage dashboard."
  value       = module.stack.dashboard_url
}

output "sns_topic_arn" {
  description = "ARN of the alarm topic."
  value       = module.stack.sns_topic_arn
}

output "known_broken_topic_arn" {
  description = "ARN of the topic of the deliberately broken functions' alarms (no subscription); null when the stage has none."
  value       = module.stack.known_broken_topic_arn
}

output "live_alias_arns" {
  description = "Function key to the ARN of its `live` alias (what the API invokes and releases move)."
  value       = module.stack.live_alias_arns
}

output "codedeploy_application_name" {
  description = "The stage's CodeDeploy application, `<stage>-outage-lab`; null where CodeDeploy is turned off (the local emulator)."
  value       = module.stack.codedeploy_application_name
}

output "deployment_group_names" {
  description = "Function key to its CodeDeploy deployment group, named as the function (`<stage>-<key>`); empty where CodeDeploy is turned off."
  value       = module.stack.deployment_group_names
}
