# Plans the bootstrap with a real AWS provider that never calls AWS (the account lookups and the
# existing OIDC provider are given), then checks the policies it would create: who
# may assume each role, and what each may do.

provider "aws" {
  region                      = "eu-west-1"
  access_key                  = "offline-test"
  secret_key                  = "offline-test"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
}

variables {
  github_repository    = "acme/outage-lab"
  state_bucket_name    = "acme-outage-lab-tfstate"
  allowed_account_ids  = ["123456789012"]
  create_oidc_provider = false
}

override_data {
  target = data.aws_caller_identity.current
  values = { account_id = "123456789012" }
}

override_data {
  target = data.aws_partition.current
  values = { partition = "aws" }
}

override_data {
  target = data.aws_iam_openid_connect_provider.github
  values = { url = "https://token.actions.githubusercontent.com" }
}



run "deploy_role_trusts_only_its_github_environment" {
  command = plan

  assert {
    condition = jsondecode(data.aws_iam_policy_document.deploy_trust["prod"].json).Statement[0].Condition.StringEquals == {
      "token.actions.githubusercontent.com:aud" = "sts.amazonaws.com"
      "token.actions.githubusercontent.com:sub" = "repo:acme/outage-lab:environment:prod"
    }
    error_message = "The prod deploy role must trust only repo:acme/outage-lab:environment:prod with audience sts.amazonaws.com."
  }

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.deploy_trust["dev"].json).Statement[0].Principal.Federated == "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    error_message = "The deploy role must be assumable through GitHub's OIDC provider only."
  }

  assert {
    condition     = toset([for s in var.stages : aws_iam_role.deploy[s].name]) == toset(["outage-lab-github-deploy-dev", "outage-lab-github-deploy-staging", "outage-lab-github-deploy-prod"])
    error_message = "One deploy role per stage, named so that no stage's `<stage>-*` pattern matches it."
  }

  assert {
    condition     = aws_iam_role.deploy["staging"].max_session_duration == 10800 && aws_iam_role.deploy["prod"].max_session_duration == 3600 && aws_iam_role.deploy["dev"].max_session_duration == 3600
    error_message = "Only staging's deploy role, which runs the weekly catalogue, holds sessions of three hours; the others one."
  }
}

run "plan_role_trusts_pull_requests_and_cannot_write" {
  command = plan

  assert {
    condition     = jsondecode(data.aws_iam_policy_document.plan_trust.json).Statement[0].Condition.StringEquals["token.actions.githubusercontent.com:sub"] == "repo:acme/outage-lab:pull_request"
    error_message = "The plan roles must trust pull_request tokens of this repository only."
  }

  assert {
    condition = alltrue(flatten([
      for s in var.stages : [
        for st in jsondecode(data.aws_iam_policy_document.plan[s].json).Statement : [
          for a in flatten([st.Action]) : can(regex("^(s3:GetObject|s3:ListBucket|kms:Decrypt|[a-z0-9]+:(Get|List|Describe)([A-Za-z]*|\\*)|apigateway:GET)$", a))
        ]
      ]
    ]))
    error_message = "A plan role may only read: every action must be a Get/List/Describe, s3:GetObject, kms:Decrypt or apigateway:GET."
  }
}

run "deploy_role_changes_only_its_stage" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for st in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement : [
        for r in flatten([st.Resource]) : r == "*" || r == "arn:aws:s3:::acme-outage-lab-tfstate" || can(regex("(dev-|/dev/|:key/)", r)) || startswith(r, "arn:aws:apigateway:eu-west-1::/") || r == "arn:aws:codedeploy:eu-west-1:123456789012:deploymentconfig:CodeDeployDefault.Lambda*"
      ]
    ]))
    error_message = "Every resource of the dev deploy policy must name dev resources (or be a documented exception)."
  }

  assert {
    condition = alltrue([
      for st in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement :
      st.Resource != "*" || !anytrue([for a in flatten([st.Action]) : can(regex("^(lambda|iam|sns|s3|cloudwatch):(Create|Put|Delete|Update|Attach|Pass|Tag)", a))])
    ])
    error_message = "No Lambda, IAM, SNS, S3 or CloudWatch write may be granted on \"*\"."
  }

  assert {
    condition = one([
      for st in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement : st if st.Sid == "PassFunctionRolesToLambdaOnly"
    ]).Condition.StringEquals["iam:PassedToService"] == "lambda.amazonaws.com"
    error_message = "The deploy role may pass its stage's roles to Lambda only."
  }

  assert {
    condition     = one([for st in jsondecode(data.aws_iam_policy_document.deploy["dev"].json).Statement : st if st.Sid == "TerraformState"]).Resource == "arn:aws:s3:::acme-outage-lab-tfstate/outage-lab/dev/*"
    error_message = "The dev deploy role may write the dev state only."
  }
}

# A stage's deploy role could reach another stage's key by re-tagging it (`stage=dev` on prod's
# key, then anything a dev key allows): no stage role may create, tag, re-key, disable or delete
# a key, or point an alias elsewhere. The keys are the bootstrap's.
run "no_stage_role_can_take_over_a_key" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for s in var.stages : [
        for doc in [data.aws_iam_policy_document.deploy[s].json, data.aws_iam_policy_document.plan[s].json] : [
          for st in jsondecode(doc).Statement : [
            for a in flatten([st.Action]) : !can(regex("^kms:(\\*|Create|Tag|Untag|Put|Schedule|Disable|Delete|Update|Enable|Import|ReplicateKey|CancelKeyDeletion|RetireGrant|RevokeGrant)", a))
          ]
        ]
      ]
    ]))
    error_message = "No stage role may create, tag, re-key, disable, delete or re-alias a KMS key, or manage its grants."
  }

  assert {
    condition = alltrue(flatten([
      for s in var.stages : [
        for st in jsondecode(data.aws_iam_policy_document.deploy[s].json).Statement : [
          for a in flatten([st.Action]) : !startswith(a, "kms:") || contains(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:ListAliases", "kms:DescribeKey"], a)
        ]
      ]
    ]))
    error_message = "A deploy role's KMS actions are the state key's use (behind its alias), ListAliases and DescribeKey, nothing else."
  }

  assert {
    condition = alltrue([
      for s in var.stages : alltrue([
        for doc in [data.aws_iam_policy_document.deploy[s].json, data.aws_iam_policy_document.plan[s].json] :
        one([for st in jsondecode(doc).Statement : st if st.Sid == "StageAlarmKeyDescribe"]).Condition["ForAnyValue:StringEquals"]["kms:ResourceAliases"] == "alias/${s}-alarms"
      ])
    ])
    error_message = "A stage role may describe only the key behind its own alias/<stage>-alarms (the provider's aws_kms_alias data source calls DescribeKey)."
  }
}

run "each_stage_has_its_own_alarm_key_for_its_alarms_only" {
  command = plan

  assert {
    condition     = toset([for s in var.stages : aws_kms_alias.alarms[s].name]) == toset(["alias/dev-alarms", "alias/staging-alarms", "alias/prod-alarms"])
    error_message = "One alarm key per stage, named alias/<stage>-alarms (the stage looks it up by that name)."
  }

  assert {
    condition = alltrue([
      for s in var.stages : one([
        for st in jsondecode(aws_kms_key.alarms[s].policy).Statement : st.Condition.ArnLike["aws:SourceArn"]
        if try(st.Principal.Service, "") == "cloudwatch.amazonaws.com"
      ]) == "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:${s}-*"
    ])
    error_message = "CloudWatch may use a stage's key only for that stage's alarms."
  }

  assert {
    condition     = alltrue([for s in var.stages : aws_kms_key.alarms[s].enable_key_rotation && aws_kms_key.alarms[s].tags.stage == s])
    error_message = "Alarm keys rotate and carry their stage's tag."
  }
}

# Releases: a stage's deploy role deploys to its own CodeDeploy groups with its own CodeDeploy
# role, and never to another stage's. Each policy's resource patterns are matched as IAM matches
# them (`*` any run of characters, `?` one) against the other stages' real names.
run "a_deploy_role_releases_only_its_own_stage" {
  command = plan

  assert {
    condition = alltrue(flatten([
      for s in var.stages : [
        for t in var.stages : [
          for st in jsondecode(data.aws_iam_policy_document.deploy[s].json).Statement : [
            for r in flatten([st.Resource]) :
            (s == t) || !contains(flatten([st.Action]), "iam:PassRole") ||
            !can(regex("^${replace(replace(replace(r, ".", "\\."), "*", ".*"), "?", ".")}$", "arn:aws:iam::123456789012:role/${t}-codedeploy"))
          ]
        ]
      ]
    ]))
    error_message = "No stage's deploy role may pass another stage's CodeDeploy role."
  }

  assert {
    condition = alltrue(flatten([
      for s in var.stages : [
        for t in var.stages : [
          for st in jsondecode(data.aws_iam_policy_document.deploy[s].json).Statement : [
            for r in flatten([st.Resource]) :
            (s == t) || length(setintersection(toset(flatten([st.Action])), toset(["codedeploy:CreateDeployment", "codedeploy:StopDeployment", "codedeploy:UpdateDeploymentGroup", "codedeploy:DeleteDeploymentGroup", "codedeploy:CreateDeploymentGroup"]))) == 0 ||
            !can(regex("^${replace(replace(replace(r, ".", "\\."), "*", ".*"), "?", ".")}$", "arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:${t}-outage-lab/${t}-payment-fixed"))
          ]
        ]
      ]
    ]))
    error_message = "No stage's deploy role may deploy to, stop or change another stage's deployment groups."
  }

  assert {
    condition = alltrue(flatten([
      for s in var.stages : [
        for t in var.stages : [
          for st in jsondecode(data.aws_iam_policy_document.deploy[s].json).Statement : [
            for r in flatten([st.Resource]) :
            (s == t) || !anytrue([for a in flatten([st.Action]) : can(regex("^(lambda:(PublishVersion|UpdateAlias|CreateAlias|DeleteAlias|InvokeFunction|DeleteFunction)|codedeploy:(Create|Delete|Update))", a))]) ||
            !anytrue([for target in [
              "arn:aws:lambda:eu-west-1:123456789012:function:${t}-payment-fixed",
              "arn:aws:lambda:eu-west-1:123456789012:function:${t}-payment-fixed:live",
              "arn:aws:lambda:eu-west-1:123456789012:function:${t}-payment-fixed:3",
              "arn:aws:codedeploy:eu-west-1:123456789012:application:${t}-outage-lab",
              "arn:aws:codedeploy:eu-west-1:123456789012:deploymentconfig:${t}-canary-10pct-1m",
            ] : can(regex("^${replace(replace(replace(r, ".", "\\."), "*", ".*"), "?", ".")}$", target))])
          ]
        ]
      ]
    ]))
    error_message = "No stage's deploy role may publish, delete a version of, move an alias of or invoke another stage's functions, or change its CodeDeploy application or configurations."
  }

  # And it can release its own: otherwise the checks above would pass by granting nothing.
  assert {
    condition = alltrue([
      for s in var.stages : alltrue([
        for need in [
          ["iam:PassRole", "arn:aws:iam::123456789012:role/${s}-codedeploy"],
          ["codedeploy:CreateDeployment", "arn:aws:codedeploy:eu-west-1:123456789012:deploymentgroup:${s}-outage-lab/${s}-payment-fixed"],
          ["codedeploy:GetDeploymentConfig", "arn:aws:codedeploy:eu-west-1:123456789012:deploymentconfig:CodeDeployDefault.LambdaCanary10Percent5Minutes"],
          ["codedeploy:CreateDeploymentConfig", "arn:aws:codedeploy:eu-west-1:123456789012:deploymentconfig:${s}-canary-10pct-1m"],
          ["codedeploy:RegisterApplicationRevision", "arn:aws:codedeploy:eu-west-1:123456789012:application:${s}-outage-lab"],
          ["lambda:PublishVersion", "arn:aws:lambda:eu-west-1:123456789012:function:${s}-payment-fixed"],
          ["lambda:UpdateAlias", "arn:aws:lambda:eu-west-1:123456789012:function:${s}-payment-fixed:live"],
          ["lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:123456789012:function:${s}-payment-fixed:8"],
          ["lambda:DeleteFunction", "arn:aws:lambda:eu-west-1:123456789012:function:${s}-payment-fixed:3"],
          ] : anytrue(flatten([
            for st in jsondecode(data.aws_iam_policy_document.deploy[s].json).Statement : [
              for r in flatten([st.Resource]) : contains(flatten([st.Action]), need[0]) && can(regex("^${replace(replace(replace(r, ".", "\\."), "*", ".*"), "?", ".")}$", need[1]))
            ]
        ]))
      ])
    ])
    error_message = "A deploy role must be able to release its own stage: pass its CodeDeploy role, deploy to its groups, read the predefined configurations, publish, move live, invoke a version and delete an old one."
  }

  assert {
    condition = alltrue([
      for s in var.stages : one([
        for st in jsondecode(data.aws_iam_policy_document.deploy[s].json).Statement : st if st.Sid == "PassCodeDeployRoleToCodeDeployOnly"
        ]).Condition.StringEquals["iam:PassedToService"] == "codedeploy.amazonaws.com" && one([
        for st in jsondecode(data.aws_iam_policy_document.deploy[s].json).Statement : st if st.Sid == "PassCodeDeployRoleToCodeDeployOnly"
      ]).Resource == "arn:aws:iam::123456789012:role/${s}-codedeploy"
    ])
    error_message = "A deploy role passes exactly its stage's CodeDeploy role, and only to CodeDeploy."
  }

  assert {
    condition = alltrue(flatten([
      for s in var.stages : [
        for st in jsondecode(data.aws_iam_policy_document.deploy[s].json).Statement :
        !contains(flatten([st.Resource]), "arn:aws:codedeploy:eu-west-1:123456789012:deploymentconfig:CodeDeployDefault.Lambda*") || flatten([st.Action]) == ["codedeploy:GetDeploymentConfig"]
      ]
    ]))
    error_message = "The account's predefined deployment configurations may only be read."
  }
}

run "permissions_boundary_is_required_when_asked" {
  command = plan

  variables {
    require_lambda_permissions_boundary = true
  }

  assert {
    condition = one([
      for st in jsondecode(data.aws_iam_policy_document.deploy["staging"].json).Statement : st if st.Sid == "CodeDeployRolePolicies"
      ]).Condition.StringEquals["iam:PermissionsBoundary"] == "arn:aws:iam::123456789012:policy/outage-lab-staging-codedeploy-boundary" && one([
      for st in jsondecode(data.aws_iam_policy_document.deploy["staging"].json).Statement : st if st.Sid == "CodeDeployRolePolicies"
    ]).Resource == "arn:aws:iam::123456789012:role/staging-codedeploy"
    error_message = "With the boundary required, only the stage's CodeDeploy role may carry the CodeDeploy boundary."
  }

  assert {
    condition = alltrue(flatten([
      for s in var.stages : [
        for st in jsondecode(data.aws_iam_policy_document.codedeploy_boundary[s].json).Statement : [
          for r in flatten([st.Resource]) : can(regex(":(function|alarm):${s}-", r))
        ]
      ]
    ]))
    error_message = "A stage's CodeDeploy boundary reaches only that stage's functions and alarms."
  }

  assert {
    condition = one([
      for st in jsondecode(data.aws_iam_policy_document.deploy["staging"].json).Statement : st if st.Sid == "FunctionRolePolicies"
    ]).Condition.StringEquals["iam:PermissionsBoundary"] == "arn:aws:iam::123456789012:policy/outage-lab-staging-lambda-boundary"
    error_message = "With the boundary required, role policy changes need the stage's boundary."
  }
}

run "state_bucket_is_private_encrypted_and_tls_only" {
  command = plan


  assert {
    condition     = aws_s3_bucket_public_access_block.state.block_public_acls && aws_s3_bucket_public_access_block.state.block_public_policy && aws_s3_bucket_public_access_block.state.ignore_public_acls && aws_s3_bucket_public_access_block.state.restrict_public_buckets
    error_message = "All public access to the state bucket must be blocked."
  }

  assert {
    condition     = aws_s3_bucket_versioning.state.versioning_configuration[0].status == "Enabled"
    error_message = "State must be versioned."
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.state.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"
    error_message = "State must be encrypted with the state KMS key."
  }

  assert {
    condition = one([
      for st in jsondecode(data.aws_iam_policy_document.state_bucket.json).Statement : st if st.Sid == "DenyInsecureTransport"
    ]).Condition.Bool["aws:SecureTransport"] == "false"
    error_message = "The bucket policy must deny requests without TLS."
  }

  assert {
    condition = one([
      for st in jsondecode(data.aws_iam_policy_document.state_bucket.json).Statement : st if st.Sid == "DenyStateWritesNotEncryptedWithKms"
    ]).Condition.StringNotEquals["s3:x-amz-server-side-encryption"] == "aws:kms"
    error_message = "The bucket policy must refuse state writes that ask for AES256 (it would override the bucket's KMS default)."
  }
}

run "bad_inputs_are_refused" {
  command = plan

  variables {
    github_repository   = "not a repository"
    stages              = ["Prod"]
    allowed_account_ids = ["1234"]
  }

  expect_failures = [var.github_repository, var.stages, var.allowed_account_ids]
}
