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
