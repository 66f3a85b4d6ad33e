output "api_id" {
  description = "HTTP API id (the ApiId dimension of AWS/ApiGateway metrics)."
  value       = aws_apigatewayv2_api.this.id
}

output "api_endpoint" {
  description = "Base URL of the $default stage."
  value       = aws_apigatewayv2_stage.this.invoke_url
}

output "api_execution_arn" {
  description = "Execution ARN prefix of the API."
  value       = aws_apigatewayv2_api.this.execution_arn
}

output "stage_name" {
  description = "The stage that serves traffic: $default."
  value       = aws_apigatewayv2_stage.this.name
}

output "access_log_group_name" {
  description = "Log group of the JSON access logs."
  value       = aws_cloudwatch_log_group.access.name
}

output "route_ids" {
  description = "Route key to route id."
  value       = { for key, route in aws_apigatewayv2_route.this : key => route.id }
}
