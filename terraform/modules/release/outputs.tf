output "application_name" {
  description = "The stage's CodeDeploy application (compute platform Lambda), `<stage>-outage-lab`."
  value       = aws_codedeploy_app.this.name
}

output "deployment_group_names" {
  description = "Function key to its deployment group, named as the function (`<stage>-<key>`)."
  value       = { for key, group in aws_codedeploy_deployment_group.this : key => group.deployment_group_name }
}

output "deployment_config_name" {
  description = "The deployment configuration of the stage's strategy (gated groups): CodeDeployDefault.<Name>, or the custom `<stage>-<kind>-<P>pct-<M>m`."
  value       = local.deployment_config_name
}

output "custom_deployment_config_name" {
  description = "The custom deployment configuration, null when the strategy is a predefined one or all-at-once."
  value       = one(aws_codedeploy_deployment_config.custom[*].deployment_config_name)
}

output "role_arn" {
  description = "The CodeDeploy service role, `<stage>-codedeploy`."
  value       = aws_iam_role.this.arn
}

output "deployment_group_alarms" {
  description = "Function key to the alarms that stop and roll back its releases; empty for a function deployed broken on purpose."
  value       = { for key, group in aws_codedeploy_deployment_group.this : key => sort(flatten([for a in group.alarm_configuration : tolist(a.alarms)])) }
}

output "deployment_group_config_names" {
  description = "Function key to the deployment configuration its releases follow."
  value       = { for key, group in aws_codedeploy_deployment_group.this : key => group.deployment_config_name }
}
