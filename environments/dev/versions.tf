terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "= 5.100.0"
    }
  }

  # State in S3 with S3-native locking (no DynamoDB table). The bucket is per account and given
  # at init: terraform init -backend-config="bucket=<state bucket>" (docs/terraform.md).
  backend "s3" {
    key          = "outage-lab/dev/terraform.tfstate"
    region       = "eu-west-1"
    encrypt      = true
    use_lockfile = true
  }
}
