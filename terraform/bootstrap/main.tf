# Everything a new AWS account needs before the first `terraform init` of a stage: the state
# bucket (with its key), GitHub's OIDC identity provider, and per stage a deploy role for the
# stage's GitHub Environment and a read-only plan role for pull requests (roles.tf).

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

# Names and ARNs are built from inputs rather than read from the resources, so the policy
# documents are known at plan time (reviewable in the plan, testable without an account).
locals {
  account_id        = data.aws_caller_identity.current.account_id
  partition         = data.aws_partition.current.partition
  region            = var.aws_region
  state_bucket_arn  = "arn:${local.partition}:s3:::${var.state_bucket_name}"
  state_key_alias   = "alias/outage-lab-terraform-state"
  oidc_provider_arn = "arn:${local.partition}:iam::${local.account_id}:oidc-provider/token.actions.githubusercontent.com"
}

# State can hold secrets (Terraform writes every attribute), so it is encrypted with a key of
# its own that only the account's IAM policies (the roles below) can use.
resource "aws_kms_key" "state" {
  description             = "Terraform state of outage-lab (${var.state_bucket_name})"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "AccountIamPoliciesDecide"
      Effect    = "Allow"
      Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
      Action    = "kms:*"
      Resource  = "*"
    }]
  })

  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_kms_alias" "state" {
  name          = local.state_key_alias
  target_key_id = aws_kms_key.state.key_id
}

# Each stage's alarm topic is encrypted with a key made here, by whoever runs the bootstrap, and
# only used by the stage: a stage's deploy role cannot create, tag, re-key or delete any key, so
# it can never reach another stage's key (or the state key) by re-tagging it. Made here also
# because KMS documents that a new tag can take up to five minutes to count for authorisation,
# too late for a key a deploy role would create and tag in the same apply.
resource "aws_kms_key" "alarms" {
  for_each = toset(var.stages)

  description             = "Encrypts the ${each.key}-alarms SNS topic (CloudWatch alarms of ${each.key})"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "AccountIamPoliciesDecide"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action    = "kms:*"
        Resource  = "*"
      },
      {
        # CloudWatch publishes to the encrypted topic for the stage's alarms only.
        Sid       = "CloudWatchAlarmsOfThisStagePublish"
        Effect    = "Allow"
        Principal = { Service = "cloudwatch.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
        Resource  = "*"
        Condition = {
          StringEquals = { "aws:SourceAccount" = local.account_id }
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${each.key}-*" }
        }
      },
    ]
  })
  tags = { stage = each.key }
}

# The stage finds its key by this name (terraform/modules/monitoring).
resource "aws_kms_alias" "alarms" {
  for_each = toset(var.stages)

  name          = "alias/${each.key}-alarms"
  target_key_id = aws_kms_key.alarms[each.key].key_id
}

resource "aws_s3_bucket" "state" {
  #checkov:skip=CKV_AWS_18:Server access logs would need a second bucket with its own bootstrap; state access is audited by CloudTrail (management events, and data events where the account enables them).
  #checkov:skip=CKV_AWS_144:Cross-region replication doubles the bootstrap for a small, versioned state; the stages can be re-created from code, and versioning covers mistakes.
  #checkov:skip=CKV2_AWS_62:Nothing consumes state-change events; Terraform's own lock file in the bucket serialises writers.
  bucket = var.state_bucket_name

  # Every stage's state lives here: destroying it is never part of a plan.
  lifecycle {
    prevent_destroy = true
  }
}

resource "aws_s3_bucket_versioning" "state" {
  bucket = aws_s3_bucket.state.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.state.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "state" {
  bucket                  = aws_s3_bucket.state.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "state" {
  bucket = aws_s3_bucket.state.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

# Old state versions are kept for recovery for 90 days, then expire.
resource "aws_s3_bucket_lifecycle_configuration" "state" {
  bucket = aws_s3_bucket.state.id

  rule {
    id     = "expire-old-state-versions"
    status = "Enabled"
    filter {}
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 1
    }
  }

  depends_on = [aws_s3_bucket_versioning.state]
}

data "aws_iam_policy_document" "state_bucket" {
  # The stages' backends send the state key (`kms_key_id`); a write that names another
  # encryption (AES256, or another key) would override the bucket's default and is refused.
  statement {
    sid       = "DenyStateWritesNotEncryptedWithKms"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.state_bucket_arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["false"]
    }
  }

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      local.state_bucket_arn,
      "${local.state_bucket_arn}/*",
    ]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

# The key's ARN exists only once the key does, so this half of the policy is known at apply; the
# half above is known at plan (and tested there).
data "aws_iam_policy_document" "state_bucket_with_key" {
  source_policy_documents = [data.aws_iam_policy_document.state_bucket.json]

  statement {
    sid       = "DenyStateWritesWithAnotherKey"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.state_bucket_arn}/*"]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "StringNotEquals"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [aws_kms_key.state.arn]
    }
    condition {
      test     = "Null"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = ["false"]
    }
  }
}

resource "aws_s3_bucket_policy" "state" {
  bucket = aws_s3_bucket.state.id
  policy = data.aws_iam_policy_document.state_bucket_with_key.json

  depends_on = [aws_s3_bucket_public_access_block.state]
}

# GitHub's token issuer. AWS verifies its certificates against trusted CAs, so the thumbprint
# is not used for this issuer, but the API still requires one.
resource "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 1 : 0

  url             = "https://token.actions.githubusercontent.com"
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["6938fd4d98bab03faadb97b34396831e3780aea1", "1c58a3a8518e8759bf075b76b750d4f2df264fcd"]
}

# When the account already has the provider, this fails the plan early if it does not.
data "aws_iam_openid_connect_provider" "github" {
  count = var.create_oidc_provider ? 0 : 1
  arn   = local.oidc_provider_arn
}
