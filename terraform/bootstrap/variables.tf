variable "github_repository" {
  description = "The GitHub repository that deploys, as owner/name (the OIDC `sub` claim is pinned to it)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$", var.github_repository))
    error_message = "github_repository must be owner/name, for example acme/outage-lab."
  }
}

variable "stages" {
  description = "Stages to create a deploy role and a pull-request plan role for; each must have environments/<stage> and a GitHub Environment of the same name."
  type        = list(string)
  default     = ["dev", "staging", "prod"]

  validation {
    condition     = length(var.stages) > 0 && alltrue([for s in var.stages : can(regex("^[a-z][a-z0-9]{1,15}$", s))])
    error_message = "Each stage is 2-16 lowercase letters or digits, starting with a letter (it prefixes every resource name of the stage)."
  }

  validation {
    condition     = length(distinct(var.stages)) == length(var.stages)
    error_message = "Stages must be unique."
  }
}

variable "state_bucket_name" {
  description = "Name of the S3 bucket that holds every stage's Terraform state (globally unique)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket_name)) && !can(regex("\\.\\.", var.state_bucket_name))
    error_message = "state_bucket_name must be a valid S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens."
  }
}

variable "aws_region" {
  description = "Region of the state bucket and of the stages. The stage roots' S3 backend names this region."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region name such as eu-west-1."
  }
}

variable "allowed_account_ids" {
  description = "The AWS account this may touch (guards against running with the wrong credentials)."
  type        = list(string)

  validation {
    condition     = length(var.allowed_account_ids) > 0 && alltrue([for id in var.allowed_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "allowed_account_ids must list 12-digit AWS account ids."
  }
}

variable "create_oidc_provider" {
  description = "Create the GitHub OIDC identity provider. Set false when the account already has one for token.actions.githubusercontent.com (there can be only one)."
  type        = bool
  default     = true
}

variable "require_lambda_permissions_boundary" {
  description = "Allow the deploy roles to create and change Lambda execution roles only with the stage's permissions boundary attached. Turn on once the stack sets permissions_boundary on its roles (see README)."
  type        = bool
  default     = false
}

variable "state_key_prefix" {
  description = "Prefix of the state keys in the bucket; each stage's state is <prefix>/<stage>/terraform.tfstate (environments/<stage>/versions.tf)."
  type        = string
  default     = "outage-lab"
}

variable "deploy_session_seconds" {
  description = "The longest session of a stage's deploy role, where one hour is not enough: the weekly scenario catalogue runs 13 scenarios one after another on staging, a few minutes each on AWS's one-minute metrics. Other stages: 3600."
  type        = map(number)
  default     = { staging = 10800 }

  validation {
    condition     = alltrue([for s in values(var.deploy_session_seconds) : s >= 3600 && s <= 43200])
    error_message = "A role session lasts 3600 to 43200 seconds (IAM's limits)."
  }
}
