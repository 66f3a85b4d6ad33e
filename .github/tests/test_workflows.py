"""The repository's workflows follow the pipeline's rules, and each rule catches a planted
bad example (so none of these tests can pass by finding nothing)."""

import os
import re
import subprocess
import tempfile
import textwrap
import unittest
from pathlib import Path

import workflow_policy as policy

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.y*ml"))
STAGES = ("dev", "staging", "prod")


def workflow(name: str) -> dict:
    return policy.load(ROOT / ".github" / "workflows" / name)


class RepositoryWorkflowsTest(unittest.TestCase):
    def test_the_pipeline_workflows_exist(self):
        names = {path.name for path in WORKFLOWS}
        for expected in ("ci.yml", "plan.yml", "deploy.yml", "deploy-stage.yml", "build.yml", "drill.yml", "scenarios.yml"):
            self.assertIn(expected, names)

    def test_every_action_is_pinned_to_a_verified_release_commit(self):
        for path in WORKFLOWS:
            self.assertEqual(policy.pin_findings(path), [], path.name)

    def test_permissions_are_declared_and_least(self):
        for path in WORKFLOWS:
            self.assertEqual(policy.permission_findings(path), [], path.name)

    def test_no_tracked_file_holds_static_aws_keys(self):
        self.assertEqual(policy.secret_findings(ROOT), [])

    def test_ci_runs_only_checks_that_exist(self):
        env = workflow("ci.yml")["jobs"]["test"]["env"]
        checks = env["HOSTED_CHECKS"].split()
        existing = {path.name for path in (ROOT / "scripts" / "checks").iterdir()}
        for check in checks:
            self.assertIn(check, existing, f"ci.yml names a check scripts/checks/{check} that does not exist")

    def test_every_script_a_workflow_runs_exists_and_is_executable(self):
        called = set()
        for path in WORKFLOWS:
            for job in (policy.load(path).get("jobs") or {}).values():
                for step in job.get("steps", []) or []:
                    called.update(re.findall(r"(?<![\w/.-])((?:scripts|\.github/scripts)/[\w./-]+)", step.get("run", "")))
        self.assertIn("scripts/build-lambdas", called)
        for script in sorted(called):
            path = ROOT / script
            self.assertTrue(path.is_file(), f"a workflow runs {script}, which does not exist")
            self.assertTrue(os.access(path, os.X_OK), f"a workflow runs {script}, which is not executable")

    def test_the_lab_drill_command_is_one_the_lab_cli_accepts(self):
        steps = workflow("drill.yml")["jobs"]["lab"]["steps"]
        command = next(step["run"] for step in steps if step.get("name") == "Local drill").split()
        self.assertEqual(command[0], "scripts/drill")
        self.assertIn('outage-lab" drill "$@"', (ROOT / "scripts" / "drill").read_text(),
                      "scripts/drill no longer passes its arguments to outage-lab drill")
        lab = Path(os.environ.get("OUTAGE_LAB_BIN", ROOT / "target" / "debug" / "outage-lab"))
        self.assertTrue(lab.is_file(), f"{lab} is not built (cargo build -p outage-lab)")
        help_run = subprocess.run([str(lab), "drill", "--help"], capture_output=True, text=True, check=False)
        self.assertEqual(help_run.returncode, 0, f"outage-lab has no drill command: {help_run.stderr.strip()}")
        for flag in (arg for arg in command if arg.startswith("--")):
            self.assertIn(flag, help_run.stdout, f"outage-lab drill does not take {flag}")

    def test_every_stage_deploys_in_order_each_in_its_own_concurrency_group(self):
        jobs = workflow("deploy.yml")["jobs"]
        previous = "build"
        groups = set()
        for stage in STAGES:
            job = jobs[stage]
            self.assertEqual(job["uses"], "./.github/workflows/deploy-stage.yml")
            self.assertEqual(job["needs"], previous)
            self.assertEqual(job["with"]["stage"], stage)
            self.assertEqual(job["with"]["role_arn"], "${{ vars.AWS_ROLE_ARN_%s }}" % stage.upper())
            self.assertEqual(job["concurrency"], {"group": f"stage-{stage}", "cancel-in-progress": False})
            groups.add(job["concurrency"]["group"])
            previous = stage
        self.assertEqual(len(groups), len(STAGES))
        self.assertIs(jobs["prod"]["with"]["drill"], False)
        self.assertIs(jobs["dev"]["with"]["drill"], True)

    def test_a_stage_is_applied_from_its_saved_plan_inside_its_environment(self):
        jobs = workflow("deploy-stage.yml")["jobs"]
        self.assertEqual(jobs["plan"]["environment"], "${{ inputs.stage }}")
        self.assertEqual(jobs["apply"]["environment"]["name"], "${{ inputs.stage }}")
        self.assertEqual(jobs["apply"]["needs"], "plan")
        plan_runs = "\n".join(step.get("run", "") for step in jobs["plan"]["steps"])
        apply_runs = "\n".join(step.get("run", "") for step in jobs["apply"]["steps"])
        self.assertIn('.github/scripts/terraform-plan "environments/$STAGE"', plan_runs)
        self.assertIn("-out=tfplan", (ROOT / ".github" / "scripts" / "terraform-plan").read_text())
        self.assertIn("saved-plan/environments/$STAGE/tfplan", apply_runs)
        self.assertNotIn("-auto-approve", apply_runs)
        drill = next(step for step in jobs["apply"]["steps"] if step.get("name") == "smoke-test drill")
        self.assertIn("inputs.stage != 'prod'", drill["if"])

    def test_a_stage_is_released_after_its_apply_and_before_its_checks(self):
        steps = workflow("deploy-stage.yml")["jobs"]["apply"]["steps"]
        names = [step.get("name") for step in steps]
        for name in ("terraform apply (the saved plan)", "smoke-test release", "smoke-test check", "smoke-test drill"):
            self.assertIn(name, names)
        self.assertLess(names.index("terraform apply (the saved plan)"), names.index("smoke-test release"))
        self.assertLess(names.index("smoke-test release"), names.index("smoke-test check"))
        self.assertLess(names.index("smoke-test release"), names.index("smoke-test drill"))
        release = steps[names.index("smoke-test release")]
        self.assertIn('.github/scripts/smoke release "$STAGE" tf-output.json smoke-report $ALLOW_PROD', release["run"])
        self.assertNotIn("if", release, "every stage, prod included, is released")
        # --allow-prod exactly when the stage is prod.
        self.assertEqual(release["env"]["ALLOW_PROD"], "${{ inputs.stage == 'prod' && '--allow-prod' || '' }}")

    def test_pull_request_plans_cannot_apply(self):
        plan = workflow("plan.yml")
        self.assertEqual(list(plan["on"]), ["pull_request"])
        job = plan["jobs"]["plan"]
        runs = "\n".join(step.get("run", "") for step in job["steps"])
        self.assertNotIn("terraform apply", runs)
        self.assertNotIn("apply -", runs)
        self.assertIn('.github/scripts/terraform-plan "environments/$STAGE" plan-output -lock=false', runs)
        roles = [item["role_variable"] for item in job["strategy"]["matrix"]["include"]]
        self.assertEqual(roles, [f"AWS_PLAN_ROLE_ARN_{stage.upper()}" for stage in STAGES])
        self.assertEqual(plan["jobs"]["comment"]["permissions"], {"pull-requests": "write"})

    def test_the_manual_drill_never_offers_or_defaults_to_prod(self):
        stage = workflow("drill.yml")["on"]["workflow_dispatch"]["inputs"]["stage"]
        self.assertEqual(stage["type"], "choice")
        self.assertNotIn("prod", stage["options"])
        self.assertEqual(stage["default"], "dev")

    def test_the_scenario_catalogue_runs_on_staging_only_in_its_concurrency_group(self):
        scenarios = workflow("scenarios.yml")
        triggers = scenarios["on"]
        self.assertEqual(set(triggers), {"schedule", "workflow_dispatch"})
        self.assertFalse((triggers["workflow_dispatch"] or {}).get("inputs"), "no input may choose the stage")
        self.assertEqual(scenarios["env"]["STAGE"], "staging")
        job = scenarios["jobs"]["catalogue"]
        self.assertEqual(job["concurrency"], {"group": "stage-staging", "cancel-in-progress": False})
        self.assertEqual(job["environment"], "staging")
        self.assertEqual(job["env"]["ROLE_ARN"], "${{ vars.AWS_ROLE_ARN_STAGING }}")
        runs = "\n".join(step.get("run", "") for step in job["steps"])
        self.assertNotIn("prod", runs.replace("not '$STAGE'", ""))
        self.assertIn('.github/scripts/smoke scenario "$STAGE"', runs)

    def test_every_terraform_is_the_same_version(self):
        versions = set()
        for path in WORKFLOWS:
            for job in (policy.load(path).get("jobs") or {}).values():
                for step in job.get("steps", []) or []:
                    if str(step.get("uses", "")).startswith("hashicorp/setup-terraform@"):
                        versions.add(str(step["with"]["terraform_version"]))
                        self.assertIs(step["with"]["terraform_wrapper"], False)
        self.assertEqual(len(versions), 1, versions)


class PlantedExamplesTest(unittest.TestCase):
    """Each rule, shown a bad example, reports it."""

    def write(self, directory: Path, name: str, text: str) -> Path:
        path = directory / name
        path.write_text(textwrap.dedent(text))
        return path

    def test_unpinned_unverified_and_uncommented_actions_are_found(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = self.write(Path(tmp), "bad.yml", """\
                on: push
                permissions: {}
                jobs:
                  x:
                    runs-on: ubuntu-24.04
                    permissions: {contents: read}
                    steps:
                      - uses: actions/checkout@v4
                      - uses: actions/checkout@692973e3d937129bcbf40652eb9f2f61becf3332
                      - uses: actions/cache@1bd1e32a3bdc45362d1e726936510720a7c30a57 # v4.2.0
                      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.1
                      - uses: docker://alpine:3
                """)
            findings = "\n".join(policy.pin_findings(path))
        self.assertIn("actions/checkout@v4 is not pinned to a full 40-character commit SHA", findings)
        self.assertIn("has no version comment", findings)
        self.assertIn("actions/cache@1bd1e32a3bdc45362d1e726936510720a7c30a57 is not a verified release commit", findings)
        self.assertIn("is v4.6.2, not v4.6.1", findings)
        self.assertIn("docker image docker://alpine:3 is not pinned by digest", findings)

    def test_missing_broad_and_misplaced_permissions_are_found(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = self.write(Path(tmp), "bad.yml", """\
                on: push
                permissions: write-all
                jobs:
                  undeclared:
                    runs-on: ubuntu-24.04
                    steps: [{run: "true"}]
                  token-without-aws:
                    runs-on: ubuntu-24.04
                    permissions: {id-token: write, contents: write}
                    steps: [{run: "true"}]
                  static-keys:
                    runs-on: ubuntu-24.04
                    environment: dev
                    permissions: {contents: read}
                    steps:
                      - uses: aws-actions/configure-aws-credentials@ececac1a45f3b08a01d2dd070d28d111c5fe6722 # v4.1.0
                        with: {aws-access-key-id: "${{ secrets.KEY }}", aws-region: eu-west-1}
                  comment-with-aws:
                    runs-on: ubuntu-24.04
                    permissions: {id-token: write, pull-requests: write}
                    steps:
                      - uses: aws-actions/configure-aws-credentials@ececac1a45f3b08a01d2dd070d28d111c5fe6722 # v4.1.0
                        with: {role-to-assume: "arn:aws:iam::123456789012:role/x", aws-region: eu-west-1}
                """)
            findings = "\n".join(policy.permission_findings(path))
        self.assertIn("top-level permissions 'write-all' grant more than read", findings)
        self.assertIn("job undeclared does not declare `permissions:`", findings)
        self.assertIn("job token-without-aws has id-token: write but takes no AWS credentials", findings)
        self.assertIn("job token-without-aws has contents: write", findings)
        self.assertIn("job static-keys configures AWS with static keys", findings)
        self.assertIn("job comment-with-aws can write to pull requests and holds AWS credentials", findings)
        self.assertIn("job comment-with-aws takes AWS credentials outside a GitHub Environment", findings)

    def test_static_aws_keys_in_a_tracked_file_are_found(self):
        # Built at run time so that this file itself holds no key-shaped string.
        key_id = "AK" + "IA" + "Q3EGRMXN7T2WJ5PL"
        temporary_id = "AS" + "IA" + "Q3EGRMXN7T2WJ5PK"
        secret = "Zx9" + "k" * 33 + "/Q+1"
        with tempfile.TemporaryDirectory() as tmp:
            repo = Path(tmp)
            subprocess.run(["git", "init", "-q", str(repo)], check=True)
            (repo / "clean.tf").write_text('provider "aws" { region = "eu-west-1" }\n')
            (repo / "leak.env").write_text(f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={secret}\n")
            (repo / "creds.ini").write_text(f"[default]\naws_secret_access_key = {secret}\nsession={temporary_id}\n")
            (repo / "docs.md").write_text("The documented example is AKIAIOSFODNN7EXAMPLE.\n")
            (repo / "untracked.txt").write_text(key_id + "\n")
            subprocess.run(["git", "-C", str(repo), "add", "clean.tf", "leak.env", "creds.ini", "docs.md"], check=True)
            findings = policy.secret_findings(repo)
        joined = "\n".join(findings)
        self.assertIn("leak.env:1: AWS access key id AKIAQ3EG...", joined)
        self.assertIn("leak.env:2: AWS secret access key assigned", joined)
        self.assertIn("creds.ini:2: AWS secret access key assigned", joined)
        self.assertIn("creds.ini:3: AWS access key id ASIAQ3EG...", joined)
        self.assertNotIn("clean.tf", joined)
        self.assertNotIn("docs.md", joined)
        self.assertNotIn("untracked.txt", joined)
        self.assertEqual(len(findings), 4)


if __name__ == "__main__":
    unittest.main()
