variable "name" {
  description = "HTTP API name, `<stage>-outage-lab`."
  type        = string
}

variable "routes" {
  description = "Route key (\"GET /pay\") to the key of the function that serves it."
  type        = map(string)

  validation {
    condition = alltrue([
      for route in keys(var.routes) :
      can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) /[^ ]*$", route))
    ])
    error_message = "Every route key must be \"METHOD /path\" with METHOD one of GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, ANY."
  }
}

variable "functions" {
  description = "Function key to the function that routes may target: its name, the alias the API invokes (`live`: the invoke permission's qualifier) and that alias's invoke ARN (the integration's URI)."
  type = map(object({
    function_name    = string
    alias            = string
    alias_invoke_arn = string
  }))

  # An integration of $LATEST or of a bare version would bypass releases.
  validation {
    condition     = alltrue([for f in values(var.functions) : strcontains(f.alias_invoke_arn, ":function:") && endswith(f.alias_invoke_arn, ":${f.alias}/invocations")])
    error_message = "Every alias_invoke_arn must invoke the function's alias (…:function:<name>:<alias>/invocations), not $LATEST or a version."
  }
}

variable "throttle_rate_limit" {
  description = "Steady-state requests per second of the $default stage's default route settings."
  type        = number

  validation {
    condition     = var.throttle_rate_limit > 0
    error_message = "throttle_rate_limit must be greater than 0."
  }
}

variable "throttle_burst_limit" {
  description = "Burst (bucket size) of the $default stage's default route settings."
  type        = number

  validation {
    condition     = var.throttle_burst_limit > 0
    error_message = "throttle_burst_limit must be greater than 0."
  }
}

variable "integration_timeout_ms" {
  description = "How long the gateway waits for a function before answering 503 (HTTP API maximum 30000)."
  type        = number
  default     = 30000

  validation {
    condition     = var.integration_timeout_ms >= 50 && var.integration_timeout_ms <= 30000
    error_message = "integration_timeout_ms must be within 50..30000."
  }
}

variable "log_retention_days" {
  description = "Retention of the access-log group in days."
  type        = number
}

variable "detailed_metrics" {
  description = "Publish per-route metrics (dimensions ApiId, Stage, Method, Resource), which CloudWatch bills as custom metrics: on when a route must be left out of the API's 5xx alarm."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags of every resource of the module."
  type        = map(string)
  default     = {}
}
