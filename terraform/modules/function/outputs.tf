output "function_name" {
  description = "Deployed function name."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "Function ARN."
  value       = aws_lambda_function.this.arn
}

output "function_invoke_arn" {
  description = "Invoke ARN of the unqualified function ($LATEST); the API invokes `live` instead (alias_invoke_arn)."
  value       = aws_lambda_function.this.invoke_arn
}

output "function_version" {
  description = "The version the last apply published (`live` points at it until a release moves it)."
  value       = aws_lambda_function.this.version
}

output "alias_name" {
  description = "Name of the alias the API invokes and releases move: live."
  value       = aws_lambda_alias.live.name
}

output "alias_arn" {
  description = "ARN of the `live` alias (`<function ARN>:live`)."
  value       = aws_lambda_alias.live.arn
}

output "alias_invoke_arn" {
  description = "ARN API Gateway integrations invoke: the `live` alias."
  value       = aws_lambda_alias.live.invoke_arn
}

output "log_group_name" {
  description = "The function's log group."
  value       = aws_cloudwatch_log_group.this.name
}

output "role_arn" {
  description = "The function's execution role."
  value       = aws_iam_role.this.arn
}

output "reserved_concurrency" {
  description = "The function's reserved concurrent executions; -1 when unreserved."
  value       = aws_lambda_function.this.reserved_concurrent_executions
}
