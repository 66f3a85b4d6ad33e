variable "stage" {
  description = "Stage name: the application is `<stage>-outage-lab`, the service role `<stage>-codedeploy`, a custom deployment configuration `<stage>-<kind>-<P>pct-<M>m`."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]*$", var.stage))
    error_message = "stage must be lower-case letters, digits and '-'."
  }
}

variable "strategy" {
  description = "How a release shifts `live` to the new version (the stage file's release.strategy): a CodeDeploy predefined Lambda configuration with or without the `CodeDeployDefault.` prefix, `all-at-once`, `canary:P%:Mm` or `linear:P%:Mm` (P in 1..99, M in 1..2880 minutes)."
  type        = string
  default     = "all-at-once"

  # The rule of crates/config (TrafficRouting::parse), as in terraform/stack/stage-variables.tf.
  validation {
    condition = (
      contains([
        "LambdaAllAtOnce", "LambdaCanary10Percent5Minutes", "LambdaCanary10Percent10Minutes",
        "LambdaCanary10Percent15Minutes", "LambdaCanary10Percent30Minutes",
        "LambdaLinear10PercentEvery1Minute", "LambdaLinear10PercentEvery2Minutes",
        "LambdaLinear10PercentEvery3Minutes", "LambdaLinear10PercentEvery10Minutes",
      ], trimprefix(trimspace(var.strategy), "CodeDeployDefault.")) ||
      trimspace(var.strategy) == "all-at-once" ||
      (can(regex("^(canary|linear):[0-9]+%:[0-9]+m$", trimspace(var.strategy))) ? (
        tonumber(regex("^[a-z]+:([0-9]+)%", trimspace(var.strategy))[0]) >= 1 &&
        tonumber(regex("^[a-z]+:([0-9]+)%", trimspace(var.strategy))[0]) <= 99 &&
        tonumber(regex(":([0-9]+)m$", trimspace(var.strategy))[0]) >= 1 &&
        tonumber(regex(":([0-9]+)m$", trimspace(var.strategy))[0]) <= 2880
      ) : false)
    )
    error_message = "strategy must be all-at-once, canary:P%:Mm, linear:P%:Mm (P in 1..99, M in 1..2880) or a CodeDeploy predefined Lambda configuration; got \"${var.strategy}\"."
  }
}

variable "functions" {
  description = "Function key to what its deployment group needs: the function name (the group is named the same), the names of the function's own alarms (its rollback triggers), and whether the stage deploys it broken on purpose (a `fault` in the stage file: then no alarm gate and all at once)."
  type = map(object({
    function_name     = string
    alarm_names       = list(string)
    broken_on_purpose = bool
  }))

  validation {
    condition     = alltrue([for f in values(var.functions) : f.broken_on_purpose || (length(f.alarm_names) >= 1 && length(f.alarm_names) <= 10)])
    error_message = "Every function released behind an alarm gate needs 1 to 10 alarms (CodeDeploy's limit per deployment group)."
  }
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the CodeDeploy service role (outage-lab-<stage>-codedeploy-boundary from terraform/bootstrap), or null for none."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags of every resource of the module (the provider's default tags come on top)."
  type        = map(string)
  default     = {}
}
