# An example of the inputs: copy to terraform.tfvars and change every value.
github_repository   = "acme/outage-lab"
state_bucket_name   = "acme-outage-lab-tfstate-123456789012"
aws_region          = "eu-west-1"
allowed_account_ids = ["123456789012"]
