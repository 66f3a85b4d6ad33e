"""Behaviour of .github/scripts/terraform-init before it reaches the network: it names what is
missing instead of letting terraform fail later with a less clear message."""

import os
import subprocess
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELPER = ROOT / ".github" / "scripts" / "terraform-init"


def run(*args: str, bucket: str = "", key: str = "") -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "TF_STATE_BUCKET": bucket, "TF_STATE_KMS_KEY": key}
    return subprocess.run([str(HELPER), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)


class TerraformInitTest(unittest.TestCase):
    def test_unknown_stage_is_refused(self):
        result = run("qa", bucket="some-bucket")
        self.assertEqual(result.returncode, 2)
        self.assertIn("no Terraform root at environments/qa", result.stderr)

    def test_missing_bucket_names_the_repository_variable(self):
        result = run("dev")
        self.assertEqual(result.returncode, 2)
        self.assertIn("TF_STATE_BUCKET is empty", result.stderr)

    def test_missing_state_key_names_the_repository_variable(self):
        result = run("dev", bucket="some-bucket")
        self.assertEqual(result.returncode, 2)
        self.assertIn("TF_STATE_KMS_KEY is empty", result.stderr)

    def test_every_stage_has_the_root_the_workflows_initialise(self):
        for stage in ("dev", "staging", "prod"):
            versions = (ROOT / "environments" / stage / "versions.tf").read_text()
            self.assertIn('backend "s3"', versions, stage)
            self.assertIn(f'key          = "outage-lab/{stage}/terraform.tfstate"', versions, stage)


if __name__ == "__main__":
    unittest.main()
