# Inputs of the stack that are not in the stage file (see stage-variables.tf for those).

variable "lambda_package_dir" {
  description = "Directory holding <code>/bootstrap.zip for every code base (scripts/build-lambdas writes target/lambda)."
  type        = string
}

variable "enable_composite_alarm" {
  description = "Create the composite `<stage>-service-health` alarm."
  type        = bool
  default     = true
}

variable "enable_codedeploy" {
  description = "Create the stage's CodeDeploy application, deployment groups, custom deployment configuration and service role (terraform/modules/release). Only a local emulator without CodeDeploy turns it off; the functions' `live` aliases exist either way."
  type        = bool
  default     = true
}

variable "codedeploy_permissions_boundary_arn" {
  description = "Permissions boundary of the CodeDeploy service role (outage-lab-<stage>-codedeploy-boundary from terraform/bootstrap), or null."
  type        = string
  default     = null
}

variable "lambda_permissions_boundary_arn" {
  description = "Permissions boundary of every function role (outage-lab-<stage>-lambda-boundary from terraform/bootstrap), or null."
  type        = string
  default     = null
}

variable "tags" {
  description = "Extra tags of every resource (the roots set stage, project and managed-by as provider default tags)."
  type        = map(string)
  default     = {}
}
