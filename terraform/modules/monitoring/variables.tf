variable "stage" {
  description = "Stage name: the prefix of the topic, alarm and dashboard names."
  type        = string
}

variable "functions" {
  description = "Function key (from the stage file) to deployed function name; one alarm set per entry."
  type        = map(string)
}

variable "log_group_names" {
  description = "Function log groups the dashboard's Logs Insights widget searches for errors."
  type        = list(string)
}

variable "api_id" {
  description = "HTTP API id (ApiId dimension of the api_5xx alarm and the API widgets)."
  type        = string
}

variable "api_stage" {
  description = "HTTP API stage name (Stage dimension)."
  type        = string
  default     = "$default"
}

variable "alarms" {
  description = "The stage file's `alarms`: the maths of each alarm kind. Duration takes threshold_ms, the others threshold."
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
    error_message = "Every alarm period_s must be 10, 20, 30 or a multiple of 60 (the periods CloudWatch accepts)."
  }

  validation {
    condition     = alltrue([for math in values(var.alarms) : contains(["missing", "notBreaching", "breaching", "ignore"], math.treat_missing_data)])
    error_message = "Every alarm treat_missing_data must be one of missing, notBreaching, breaching, ignore."
  }

  validation {
    condition = alltrue([
      for math in values(var.alarms) :
      math.evaluation_periods >= 1 && math.datapoints_to_alarm >= 1 && math.datapoints_to_alarm <= math.evaluation_periods
    ])
    error_message = "Every alarm needs 1 <= datapoints_to_alarm <= evaluation_periods."
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
  description = "Where docs/runbooks is published (https, no trailing slash); each alarm's description ends with `Runbook: <runbook_base_url>/<kind>.md`. null: the repository-relative docs/runbooks/<kind>.md."
  type        = string
  default     = null

  validation {
    condition     = var.runbook_base_url == null ? true : (can(regex("^https://[^/\\s?#]+(/[^\\s?#]*)?$", var.runbook_base_url)) && !endswith(var.runbook_base_url, "/") && length(var.runbook_base_url) <= 512)
    error_message = "runbook_base_url must be an https:// URL with a host, no spaces, '?' or '#', no trailing '/' and at most 512 characters."
  }
}

variable "known_broken" {
  description = "Function keys deployed broken on purpose (the stage file sets their fault): their alarms notify `<stage>-known-broken`, which nobody subscribes to, and stay out of the composite alarm."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for key in var.known_broken : contains(keys(var.functions), key)])
    error_message = "known_broken may only name functions of the stage."
  }
}

variable "known_broken_routes" {
  description = "Route keys (\"GET /pay\") served by functions deployed broken on purpose: the API's 5xx alarm leaves them out with metric math over the API's per-route (detailed) metrics, so they never page."
  type        = list(string)
  default     = []
}

variable "alarm_emails" {
  description = "E-mail addresses subscribed to the alarm topic (each must confirm the subscription)."
  type        = list(string)
  default     = []
}

variable "enable_composite_alarm" {
  description = "Create `<stage>-service-health`, a composite alarm in ALARM while any alarm of the stage is (off where the API emulator lacks composite alarms)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags of every resource of the module."
  type        = map(string)
  default     = {}
}
