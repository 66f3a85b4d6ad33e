terraform {
  required_version = ">= 1.10"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # The stage roots' provider, locked the same way (.terraform.lock.hcl): a 6.x would be
      # picked up unreviewed on the next init otherwise.
      version = "5.100.0"
    }
  }

  # Bootstrap state stays local (terraform.tfstate here, git-ignored): it creates the bucket
  # that every stage's state lives in, so it cannot start there. Keep the file safe, or move it
  # into the bucket afterwards (README.md).
}
