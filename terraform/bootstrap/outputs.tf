output "state_bucket_name" {
  description = "The state bucket: repository variable TF_STATE_BUCKET, and `-backend-config=bucket=...` for a local `terraform init` of a stage."
  value       = aws_s3_bucket.state.bucket
}

output "state_kms_key_arn" {
  description = "The key that encrypts the state objects."
  value       = aws_kms_key.state.arn
}

output "alarm_kms_key_arns" {
  description = "Stage to the key of its alarm topic (alias/<stage>-alarms), which the stage looks up by alias."
  value       = { for s, key in aws_kms_key.alarms : s => key.arn }
}

output "oidc_provider_arn" {
  description = "GitHub's OIDC identity provider in this account."
  value       = local.oidc_provider_arn
}

output "deploy_role_arns" {
  description = "Stage to deploy role ARN (repository variables AWS_ROLE_ARN_<STAGE>)."
  value       = { for s, role in aws_iam_role.deploy : s => role.arn }
}

output "plan_role_arns" {
  description = "Stage to read-only pull-request plan role ARN (repository variables AWS_PLAN_ROLE_ARN_<STAGE>)."
  value       = { for s, role in aws_iam_role.plan : s => role.arn }
}

output "lambda_permissions_boundary_arns" {
  description = "Stage to the permissions boundary its Lambda execution roles should carry."
  value       = { for s, policy in aws_iam_policy.lambda_boundary : s => policy.arn }
}

output "codedeploy_permissions_boundary_arns" {
  description = "Stage to the permissions boundary its CodeDeploy service role should carry."
  value       = { for s, policy in aws_iam_policy.codedeploy_boundary : s => policy.arn }
}

output "github_repository_variables" {
  description = "Every repository variable the workflows read, name to value: set them with `gh variable set` (docs/deploy-pipeline.md)."
  value = merge(
    { TF_STATE_BUCKET = aws_s3_bucket.state.bucket, TF_STATE_KMS_KEY = aws_kms_key.state.arn },
    { for s, role in aws_iam_role.deploy : "AWS_ROLE_ARN_${upper(s)}" => role.arn },
    { for s, role in aws_iam_role.plan : "AWS_PLAN_ROLE_ARN_${upper(s)}" => role.arn },
  )
}
