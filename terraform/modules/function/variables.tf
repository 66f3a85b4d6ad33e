variable "function_name" {
  description = "Deployed Lambda function name, `<stage>-<key>` (see crates/config)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{0,63}$", var.function_name))
    error_message = "function_name must be 1-64 lower-case letters, digits and '-'."
  }
}

variable "package_path" {
  description = "Path of the function's zip (target/lambda/<code>/bootstrap.zip, built by scripts/build-lambdas)."
  type        = string
}

variable "memory_mb" {
  description = "Memory size in MB."
  type        = number

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240
    error_message = "memory_mb must be within Lambda's 128..10240 MB."
  }
}

variable "timeout_s" {
  description = "Function timeout in seconds."
  type        = number

  validation {
    condition     = var.timeout_s >= 1 && var.timeout_s <= 900
    error_message = "timeout_s must be within Lambda's 1..900 s."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions: the function's ceiling and its guaranteed share of the account; null = unreserved (the account's unreserved pool, which AWS keeps at 100 or more)."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1, false)
    error_message = "reserved_concurrency must be at least 1 (0 would disable the function), or null for unreserved."
  }
}

variable "environment" {
  description = "Environment variables of the function (the FAULT_* variables of the stage file's `fault`)."
  type        = map(string)
  default     = {}
}

variable "log_retention_days" {
  description = "Retention of the function's log group in days."
  type        = number
}

variable "log_level" {
  description = "Application log level of Lambda's JSON logging (AWS_LAMBDA_LOG_LEVEL)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"], var.log_level)
    error_message = "log_level must be one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL."
  }
}

variable "tracing_enabled" {
  description = "Active X-Ray tracing; also grants the role the two X-Ray write actions."
  type        = bool
  default     = false
}

variable "permissions_boundary_arn" {
  description = "IAM policy set as the execution role's permissions boundary (the stage boundary terraform/bootstrap creates), or null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of every resource of the module (the provider's default tags come on top)."
  type        = map(string)
  default     = {}
}
