# The variables of a stage file (environments/<stage>/terraform.tfvars.json), declared once.
# The stage roots link to this file, so Terraform loads every key of the stage file into a
# typed, validated variable; crates/config (serde, deny_unknown_fields) reads the same file and
# applies the same rules for the lab.

variable "stage" {
  description = "Stage name; prefixes every resource name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.stage))
    error_message = "stage must be lower-case letters, digits and '-'."
  }
}

variable "aws_region" {
  description = "AWS region the stage is deployed to."
  type        = string

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]+$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "allowed_account_ids" {
  description = "AWS accounts the stage may be deployed to (the provider refuses any other)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_account_ids) > 0 && alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids must list at least one 12-digit AWS account id."
  }
}

variable "log_retention_days" {
  description = "Retention of every log group of the stage, in days."
  type        = number

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a retention CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)."
  }
}

variable "tracing_enabled" {
  description = "Active X-Ray tracing for every function of the stage."
  type        = bool
  default     = false
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the stage's alarm topic."
  type        = list(string)

  validation {
    condition     = alltrue([for email in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+$", email))])
    error_message = "Every alarm_emails entry must be an e-mail address."
  }
}

variable "api_throttle" {
  description = "Default route throttling of the HTTP API's $default stage."
  type = object({
    rate_limit  = number
    burst_limit = number
  })

  validation {
    condition     = var.api_throttle.rate_limit > 0 && var.api_throttle.burst_limit > 0
    error_message = "api_throttle.rate_limit and api_throttle.burst_limit must be greater than 0."
  }
}

variable "functions" {
  description = "Function key to its deployment: code base in functions/, memory, timeout, reserved concurrency and an optional fault (the FAULT_* variables)."
  type = map(object({
    code                 = string
    memory_mb            = number
    timeout_s            = number
    reserved_concurrency = optional(number)
    fault = optional(object({
      mode       = string
      message    = optional(string)
      rate       = optional(number)
      latency_ms = optional(number)
      status     = optional(number)
      expires_at = optional(string)
      seed       = optional(number)
    }))
  }))

  validation {
    condition     = length(var.functions) > 0 && alltrue([for key in keys(var.functions) : can(regex("^[a-z0-9][a-z0-9-]*$", key))])
    error_message = "functions must define at least one function; keys are lower-case letters, digits and '-'."
  }

  validation {
    condition     = alltrue([for f in values(var.functions) : contains(["auth", "product", "payment"], f.code)])
    error_message = "Every function's code must be a code base in functions/: auth, product or payment."
  }

  validation {
    condition = alltrue([
      for f in values(var.functions) :
      f.memory_mb >= 128 && f.memory_mb <= 10240 && f.timeout_s >= 1 && f.timeout_s <= 900 && (f.reserved_concurrency == null || try(f.reserved_concurrency >= 1 && f.reserved_concurrency <= 1000, false))
    ])
    error_message = "Every function needs memory_mb in 128..10240, timeout_s in 1..900 and reserved_concurrency in 1..1000 or null (unreserved)."
  }

  # Conditionals, not ||: Terraform evaluates both sides of || and a null operand is an error.
  validation {
    condition = alltrue([
      for f in values(var.functions) :
      f.fault == null ? true : contains(["none", "exception", "panic", "latency", "timeout", "status"], lower(f.fault.mode))
    ])
    error_message = "Every fault.mode must be one of none, exception, panic, latency, timeout, status; invalid: ${join(", ", [for key, f in var.functions : "${key}: ${f.fault.mode}" if(f.fault == null ? false : !contains(["none", "exception", "panic", "latency", "timeout", "status"], lower(f.fault.mode)))])}."
  }

  validation {
    condition = alltrue([
      for f in values(var.functions) : f.fault == null ? true : (
        (lower(f.fault.mode) == "latency") == (f.fault.latency_ms != null) &&
        (lower(f.fault.mode) == "status") == (f.fault.status != null)
      )
    ])
    error_message = "fault.latency_ms is required by and only used with mode latency; fault.status is required by and only used with mode status."
  }

  validation {
    condition = alltrue([
      for f in values(var.functions) : f.fault == null ? true : (
        (f.fault.rate == null ? true : f.fault.rate >= 0 && f.fault.rate <= 1) &&
        (f.fault.status == null ? true : f.fault.status >= 400 && f.fault.status <= 599) &&
        (f.fault.latency_ms == null ? true : f.fault.latency_ms >= 0 && floor(f.fault.latency_ms) == f.fault.latency_ms)
      )
    ])
    error_message = "fault.rate must be from 0.0 to 1.0, fault.status an HTTP error status from 400 to 599 and fault.latency_ms a whole number of milliseconds."
  }
}

variable "routes" {
  description = "Route key (\"GET /pay\") to the key of the function in `functions` that serves it."
  type        = map(string)

  validation {
    condition = length(var.routes) > 0 && alltrue([
      for route in keys(var.routes) :
      can(regex("^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|ANY) /[^\\s]*$", route))
    ])
    error_message = "routes must define at least one route, each keyed \"METHOD /path\" (GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS or ANY)."
  }

  validation {
    condition     = alltrue([for target in values(var.routes) : contains(keys(var.functions), target)])
    error_message = "Every route must name a function that `functions` defines; undefined: ${join(", ", [for route, target in var.routes : "${route} -> ${target}" if !contains(keys(var.functions), target)])}."
  }
}

variable "alarms" {
  description = "The maths of each alarm kind (period, M of N, threshold, TreatMissingData); duration_p99 takes threshold_ms."
  type = object({
    fast_errors = object({
      period_s            = number
      evaluation_periods  = number
      datapoints_to_alarm = number
      threshold           = optional(number)
      threshold_ms        = optional(number)
      treat_missing_data  = string
    })
    errors = object({
      period_s            = number
      evaluation_periods  = number
      datapoints_to_alarm = number
      threshold           = optional(number)
      threshold_ms        = optional(number)
      treat_missing_data  = string
    })
    duration_p99 = object({
      period_s            = number
      evaluation_periods  = number
      datapoints_to_alarm = number
      threshold           = optional(number)
      threshold_ms        = optional(number)
      treat_missing_data  = string
    })
    throttles = object({
      period_s            = number
      evaluation_periods  = number
      datapoints_to_alarm = number
      threshold           = optional(number)
      threshold_ms        = optional(number)
      treat_missing_data  = string
    })
    api_5xx = object({
      period_s            = number
      evaluation_periods  = number
      datapoints_to_alarm = number
      threshold           = optional(number)
      threshold_ms        = optional(number)
      treat_missing_data  = string
    })
  })

  validation {
    condition = alltrue([
      for math in values(var.alarms) :
      contains([10, 20, 30], math.period_s) || (math.period_s >= 60 && math.period_s % 60 == 0)
    ])
    error_message = "Alarm periods must be 10, 20, 30 or a multiple of 60 s; invalid: ${join(", ", [for kind, math in var.alarms : "${kind}.period_s = ${math.period_s}" if !(contains([10, 20, 30], math.period_s) || (math.period_s >= 60 && math.period_s % 60 == 0))])}."
  }

  # AWS/Lambda and AWS/ApiGateway publish one datapoint a minute: a shorter period never holds
  # one and the alarm stays OK for ever. Only fast_errors watches a high-resolution metric.
  validation {
    condition     = length([for kind, math in var.alarms : kind if kind != "fast_errors" && math.period_s < 60]) == 0
    error_message = "Only fast_errors (the high-resolution OutageLab metric) may have a period under 60 s; one-minute metrics would never fill it: ${join(", ", [for kind, math in var.alarms : "${kind}.period_s = ${math.period_s}" if kind != "fast_errors" && math.period_s < 60])}."
  }

  validation {
    condition     = alltrue([for math in values(var.alarms) : contains(["missing", "notBreaching", "breaching", "ignore"], math.treat_missing_data)])
    error_message = "treat_missing_data must be one of missing, notBreaching, breaching, ignore."
  }

  validation {
    condition = alltrue([
      for math in values(var.alarms) :
      math.evaluation_periods >= 1 && math.datapoints_to_alarm >= 1 && math.datapoints_to_alarm <= math.evaluation_periods && math.evaluation_periods * math.period_s <= 86400
    ])
    error_message = "Every alarm needs 1 <= datapoints_to_alarm <= evaluation_periods and evaluation_periods * period_s <= 86400."
  }

  validation {
    condition = alltrue([
      for kind, math in var.alarms :
      kind == "duration_p99" ? (math.threshold_ms != null && math.threshold == null) : (math.threshold != null && math.threshold_ms == null)
    ])
    error_message = "duration_p99 takes threshold_ms; every other alarm kind takes threshold."
  }

  validation {
    condition     = alltrue([for math in values(var.alarms) : coalesce(math.threshold, math.threshold_ms, 0) > 0])
    error_message = "Every alarm threshold (threshold_ms for duration_p99) must be a positive number."
  }
}

variable "runbook_base_url" {
  description = "Where docs/runbooks is published, e.g. https://github.com/<owner>/<repo>/blob/main/docs/runbooks (https, no trailing slash); each alarm's description links <runbook_base_url>/<kind>.md. null: the repository-relative docs/runbooks/<kind>.md."
  type        = string
  default     = null

  # The rule of crates/config (check_runbook_base_url); a conditional because regex() of null is
  # an error.
  validation {
    condition     = var.runbook_base_url == null ? true : (can(regex("^https://[^/\\s?#]+(/[^\\s?#]*)?$", var.runbook_base_url)) && !endswith(var.runbook_base_url, "/") && length(var.runbook_base_url) <= 512)
    error_message = "runbook_base_url must be an https:// URL with a host, no spaces, '?' or '#', no trailing '/' and at most 512 characters."
  }
}

variable "release" {
  description = "How a release (`smoke-test release`, CodeDeploy) shifts each function's `live` alias to a new version: `strategy` is a CodeDeploy predefined Lambda configuration with or without the `CodeDeployDefault.` prefix, `all-at-once`, `canary:P%:Mm` or `linear:P%:Mm` (P in 1..99, M in 1..2880 minutes). Absent: all at once."
  type = object({
    strategy = string
  })
  default  = { strategy = "all-at-once" }
  nullable = false

  # The rule of crates/config (TrafficRouting::parse).
  validation {
    condition = (
      contains([
        "LambdaAllAtOnce", "LambdaCanary10Percent5Minutes", "LambdaCanary10Percent10Minutes",
        "LambdaCanary10Percent15Minutes", "LambdaCanary10Percent30Minutes",
        "LambdaLinear10PercentEvery1Minute", "LambdaLinear10PercentEvery2Minutes",
        "LambdaLinear10PercentEvery3Minutes", "LambdaLinear10PercentEvery10Minutes",
      ], trimprefix(trimspace(var.release.strategy), "CodeDeployDefault.")) ||
      trimspace(var.release.strategy) == "all-at-once" ||
      (can(regex("^(canary|linear):[0-9]+%:[0-9]+m$", trimspace(var.release.strategy))) ? (
        tonumber(regex("^[a-z]+:([0-9]+)%", trimspace(var.release.strategy))[0]) >= 1 &&
        tonumber(regex("^[a-z]+:([0-9]+)%", trimspace(var.release.strategy))[0]) <= 99 &&
        tonumber(regex(":([0-9]+)m$", trimspace(var.release.strategy))[0]) >= 1 &&
        tonumber(regex(":([0-9]+)m$", trimspace(var.release.strategy))[0]) <= 2880
      ) : false)
    )
    error_message = "release.strategy must be all-at-once, canary:P%:Mm or linear:P%:Mm (P in 1..99, M in 1..2880 minutes; e.g. canary:10%:1m), or a CodeDeploy predefined Lambda configuration with or without the CodeDeployDefault. prefix (LambdaAllAtOnce, LambdaCanary10Percent5Minutes, LambdaCanary10Percent10Minutes, LambdaCanary10Percent15Minutes, LambdaCanary10Percent30Minutes, LambdaLinear10PercentEvery1Minute, LambdaLinear10PercentEvery2Minutes, LambdaLinear10PercentEvery3Minutes, LambdaLinear10PercentEvery10Minutes); got \"${var.release.strategy}\"."
  }
}
