# Root inputs that are not in the stage file.

variable "enable_composite_alarm" {
  description = "Create the composite service-health alarm (the local emulator lacks composite alarms and turns it off)."
  type        = bool
  default     = true
}

variable "lambda_permissions_boundary" {
  description = "Attach the stage's permissions boundary (outage-lab-<stage>-lambda-boundary, created by terraform/bootstrap) to every function role. Required when the bootstrap's require_lambda_permissions_boundary is on."
  type        = bool
  default     = false
}
