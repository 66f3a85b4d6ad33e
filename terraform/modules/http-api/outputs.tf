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

output "integration_uris" {
  description = "Function key to what its integration invokes: the function's alias."
  value       = { for key, i in aws_apigatewayv2_integration.this : key => i.integration_uri }
}

output "invoke_permission_qualifiers" {
  description = "Route key to the qualifier (alias) of its invoke permission."
  value       = { for route, p in aws_lambda_permission.route : route => p.qualifier }
}
