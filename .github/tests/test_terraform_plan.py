"""The plan-then-apply flow of the workflows with real Terraform, offline: .github/scripts/
terraform-plan records the outcome, plan_report.py reads Terraform's real output, a saved plan
made in one job applies in another (a fresh copy of the root sharing the state), and a plan
overtaken by another change is refused instead of applied. Uses the built-in terraform_data
resource, so no provider is needed."""

import importlib.util
import os
import shutil
import subprocess
import tempfile
import textwrap
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PLAN_SCRIPT = ROOT / ".github" / "scripts" / "terraform-plan"
spec = importlib.util.spec_from_file_location("plan_report", ROOT / ".github" / "scripts" / "plan_report.py")
plan_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plan_report)

ENV = {"PATH": os.environ["PATH"], "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", "HOME": os.environ.get("HOME", "/tmp")}


def terraform(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(["terraform", *args], env=ENV, capture_output=True, text=True, timeout=120, check=check)


class PlanFlowTest(unittest.TestCase):
    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, self.tmp)
        self.state = self.tmp / "shared.tfstate"
        self.root = self.root_copy("plan-job")

    def root_copy(self, name: str) -> Path:
        """A stage root as a job checks it out: same code, state shared through the backend."""
        root = self.tmp / name
        root.mkdir()
        (root / "main.tf").write_text(textwrap.dedent(f"""\
            terraform {{
              backend "local" {{
                path = "{self.state}"
              }}
            }}
            variable "release" {{
              type = string
            }}
            resource "terraform_data" "release" {{
              input = var.release
            }}
            """))
        terraform(f"-chdir={root}", "init", "-input=false", "-no-color")
        return root

    def plan(self, root: Path, release: str) -> tuple[int, str]:
        out = root / "plan-output"
        result = subprocess.run([str(PLAN_SCRIPT), str(root), str(out), f"-var=release={release}"],
                                env=ENV, capture_output=True, text=True, timeout=120, check=False)
        self.assertEqual(result.returncode, 0, result.stderr)
        return int((out / "exit-code").read_text()), (out / "plan.txt").read_text()

    def test_changes_are_planned_saved_and_applied_from_another_checkout(self):
        code, text = self.plan(self.root, "v1")
        self.assertEqual(code, 2)
        self.assertIn("Plan: 1 to add, 0 to change, 0 to destroy.", text)
        comment = plan_report.render("dev", code, text, plan_report.COMMENT_LIMIT, "the run", True)
        self.assertIn("### Terraform plan for `dev`: 1 to add, 0 to change, 0 to destroy", comment)

        apply_job = self.root_copy("apply-job")
        saved = self.tmp / "artifact-tfplan"
        shutil.copy(self.root / "tfplan", saved)
        applied = terraform(f"-chdir={apply_job}", "apply", "-input=false", "-no-color", str(saved))
        self.assertIn("Apply complete! Resources: 1 added", applied.stdout)

        code, text = self.plan(self.root, "v1")
        self.assertEqual(code, 0)
        self.assertIn("No changes.", text)
        self.assertIn("`dev`: no changes", plan_report.render("dev", code, text, plan_report.COMMENT_LIMIT, "the run", True))

    def test_a_saved_plan_overtaken_by_another_change_is_refused(self):
        code, _ = self.plan(self.root, "v1")
        self.assertEqual(code, 2)
        stale = self.tmp / "stale-tfplan"
        shutil.copy(self.root / "tfplan", stale)

        other = self.root_copy("other-run")
        self.assertEqual(self.plan(other, "v2")[0], 2)
        terraform(f"-chdir={other}", "apply", "-input=false", "-no-color", "tfplan")

        apply_job = self.root_copy("apply-job")
        refused = terraform(f"-chdir={apply_job}", "apply", "-input=false", "-no-color", str(stale), check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("Saved plan is stale", refused.stderr)

    def test_a_failing_plan_is_recorded_with_its_error(self):
        (self.root / "broken.tf").write_text('resource "terraform_data" "broken" {\n  input = var.not_declared\n}\n')
        code, text = self.plan(self.root, "v1")
        self.assertEqual(code, 1)
        self.assertIn("Reference to undeclared input variable", text)
        comment = plan_report.render("dev", code, text, plan_report.COMMENT_LIMIT, "the run", True)
        self.assertIn("`dev`: failed", comment)
        self.assertIn("var.not_declared", comment)

    def test_a_missing_root_is_a_usage_error(self):
        result = subprocess.run([str(PLAN_SCRIPT), str(self.tmp / "nope"), str(self.tmp / "out")],
                                env=ENV, capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 2)
        self.assertIn("no Terraform root at", result.stderr)


if __name__ == "__main__":
    unittest.main()
