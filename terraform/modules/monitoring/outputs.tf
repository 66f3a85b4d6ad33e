output "sns_topic_arn" {
  description = "ARN of the `<stage>-alarms` topic every alarm notifies."
  value       = aws_sns_topic.this.arn
}

output "known_broken_topic_arn" {
  description = "ARN of `<stage>-known-broken`, the topic of the deliberately broken functions' alarms (no subscription); null when the stage has none."
  value       = one(aws_sns_topic.known_broken[*].arn)
}

output "kms_key_arn" {
  description = "Customer managed key that encrypts the topic."
  value       = data.aws_kms_alias.alarms.target_key_arn
}

output "alarm_names" {
  description = "Alarm key (`<function>-<kind>` or `api-5xx`, the name without the stage prefix) to alarm name."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.alarm_name }
}

output "function_alarm_names" {
  description = "Function key to the names of its own metric alarms (`<stage>-<key>-fast-errors`, `-errors`, `-duration-p99`, `-throttles`): a release's rollback triggers."
  value = {
    for fn in keys(var.functions) : fn => sort([
      for key, alarm in aws_cloudwatch_metric_alarm.this : alarm.alarm_name if local.all_alarms[key].function == fn
    ])
  }
}

output "alarm_arns" {
  description = "Alarm key to alarm ARN."
  value       = { for key, alarm in aws_cloudwatch_metric_alarm.this : key => alarm.arn }
}

output "composite_alarm_name" {
  description = "Name of the composite service-health alarm, null when disabled."
  value       = one(aws_cloudwatch_composite_alarm.service_health[*].alarm_name)
}

output "dashboard_name" {
  description = "CloudWatch dashboard name."
  value       = aws_cloudwatch_dashboard.this.dashboard_name
}

output "dashboard_url" {
  description = "Console URL of the dashboard."
  value       = "https://${data.aws_region.current.name}.console.aws.amazon.com/cloudwatch/home?region=${data.aws_region.current.name}#dashboards/dashboard/${aws_cloudwatch_dashboard.this.dashboard_name}"
}
