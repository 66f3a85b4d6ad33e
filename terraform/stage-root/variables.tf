# Root inputs that are not in the stage file.

variable "enable_composite_alarm" {
  description = "Create the composite service-health alarm (the local emulator lacks composite alarms and turns it off)."
  type        = bool
  default     = true
}

variable "enable_codedeploy" {
  description = "Create the stage's CodeDeploy application, deployment groups and service role (the local emulator's CodeDeploy lacks what they need and turns it off; see scripts/tf-local-apply)."
  type        = bool
  default     = true
}

variable "lambda_permissions_boundary" {
  description = "Attach the stage's permissions boundaries (created by terraform/bootstrap) to the roles the stage creates: outage-lab-<stage>-lambda-boundary to every function role, outage-lab-<stage>-codedeploy-boundary to the CodeDeploy service role. Required when the bootstrap's require_lambda_permissions_boundary is on."
  type        = bool
  default     = false
}
