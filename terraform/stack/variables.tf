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

variable "tags" {
  description = "Extra tags of every resource (the roots set stage, project and managed-by as provider default tags)."
  type        = map(string)
  default     = {}
}
