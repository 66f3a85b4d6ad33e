"""Behaviour of .github/scripts/smoke, the one place the workflows spell smoke-test's flags:
with the real smoke-test binary (its CLI must accept exactly what the helper passes) and with a
recording stand-in where a real run would need AWS."""

import json
import os
import socket
import stat
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HELPER = ROOT / ".github" / "scripts" / "smoke"
SMOKE_TEST = Path(os.environ.get("SMOKE_TEST_BIN", ROOT / "target" / "debug" / "smoke-test"))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tf_output(directory: Path, api: str) -> Path:
    """What `terraform output -json` of the dev stage looks like."""
    path = directory / "tf-output.json"
    path.write_text(json.dumps({
        "api_endpoint": {"value": api},
        "function_names": {"value": {k: f"dev-{k}" for k in ("auth", "product", "payment", "payment-fixed")}},
        "alarm_names": {"value": {"payment-fixed-fast-errors": "dev-payment-fixed-fast-errors"}},
        "region": {"value": "eu-west-1"},
        "stage": {"value": "dev"},
    }))
    return path


def run_helper(*args: str, smoke_test: Path, summary: Path) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "SMOKE_TEST": str(smoke_test), "GITHUB_STEP_SUMMARY": str(summary)}
    return subprocess.run([str(HELPER), *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False)


def recorder(directory: Path, exit_code: int) -> Path:
    """A stand-in for smoke-test that writes its arguments down and exits with `exit_code`."""
    path = directory / "smoke-test-recorder"
    path.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{directory}/args"\nexit {exit_code}\n')
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


class RealSmokeTestTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(SMOKE_TEST.is_file(), f"{SMOKE_TEST} is not built (cargo build -p smoke-test)")

    def test_check_runs_the_real_cli_and_reports_a_failed_stage(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            summary = tmp / "summary.md"
            run = run_helper("check", "dev", str(tf_output(tmp, f"http://127.0.0.1:{closed_port()}")), str(tmp / "report"),
                             smoke_test=SMOKE_TEST, summary=summary)
            # 1 = the routes were checked and failed (nothing listens); 2 would be a usage error.
            self.assertEqual(run.returncode, 1, run.stderr)
            self.assertNotIn("unexpected argument", run.stderr)
            report = json.loads((tmp / "report" / "check.json").read_text())
            self.assertEqual(report["stage"], "dev")
            self.assertTrue((tmp / "report" / "check-junit.xml").read_text().startswith("<?xml"))
            self.assertIn("### Smoke check on dev: FAILED (exit 1)", summary.read_text())

    def test_the_drill_flags_the_helper_passes_are_the_clis(self):
        help_text = subprocess.run([str(SMOKE_TEST), "drill", "--help"], capture_output=True, text=True, check=True).stdout
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run_helper("drill", "staging", str(tf_output(tmp, "http://127.0.0.1:9")), str(tmp / "r"),
                       smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            flags = [a for a in (tmp / "args").read_text().split() if a.startswith("--")]
        self.assertEqual(flags, ["--target", "--stage", "--tf-output", "--json-out", "--junit-out"])
        for flag in flags:
            self.assertIn(flag, help_text)


    def test_the_scenario_flags_the_helper_passes_are_the_clis(self):
        help_text = subprocess.run([str(SMOKE_TEST), "drill", "--help"], capture_output=True, text=True, check=True).stdout
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run = run_helper("scenario", "staging", str(tf_output(tmp, "http://127.0.0.1:9")), str(tmp / "r"), "throttling",
                             smoke_test=recorder(tmp, 1), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 1, run.stderr)
            args = (tmp / "args").read_text().split()
        self.assertEqual(args[args.index("--scenario") + 1], "throttling")
        self.assertEqual(args[args.index("--json-out") + 1], f"{tmp}/r/scenario-throttling.json")
        flags = [a for a in args if a.startswith("--")]
        self.assertEqual(args[args.index("--report-dir") + 1], f"{tmp}/r")
        self.assertEqual(flags, ["--target", "--stage", "--tf-output", "--scenario", "--json-out", "--report-dir"])
        for flag in flags:
            self.assertIn(flag, help_text)


    def test_the_release_flags_the_helper_passes_are_the_clis(self):
        help_text = subprocess.run([str(SMOKE_TEST), "release", "--help"], capture_output=True, text=True, check=True).stdout
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run = run_helper("release", "prod", str(tf_output(tmp, "http://127.0.0.1:9")), str(tmp / "r"), "--allow-prod",
                             smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 0, run.stderr)
            args = (tmp / "args").read_text().split()
        self.assertEqual(args[:5], ["release", "--target", "aws", "--stage", "prod"])
        flags = [a for a in args if a.startswith("--")]
        self.assertEqual(flags, ["--target", "--stage", "--tf-output", "--allow-prod", "--json"])
        for flag in flags:
            self.assertIn(flag, help_text)

    def test_the_real_cli_refuses_a_release_to_prod_without_allow_prod(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            out = tf_output(tmp, "http://127.0.0.1:9")
            out.write_text(out.read_text().replace('"dev"', '"prod"'))
            run = run_helper("release", "prod", str(out), str(tmp / "r"), smoke_test=SMOKE_TEST, summary=tmp / "s.md")
            # 2 = refused before anything changed (no AWS call is made).
            self.assertEqual(run.returncode, 2, run.stderr)
            self.assertIn("--allow-prod", run.stderr)


class HelperTest(unittest.TestCase):
    def test_release_passes_the_stage_and_writes_its_report(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            out = tf_output(tmp, "http://127.0.0.1:9")
            run = run_helper("release", "dev", str(out), str(tmp / "r"), smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual((tmp / "args").read_text().split(), [
                "release", "--target", "aws", "--stage", "dev", "--tf-output", str(out), "--json"])
            self.assertTrue((tmp / "r" / "release.json").exists())
            self.assertIn("### Release on dev: passed", (tmp / "s.md").read_text())

    def test_release_takes_nothing_but_allow_prod_after_the_report_dir(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run = run_helper("release", "prod", str(tf_output(tmp, "http://127.0.0.1:9")), str(tmp / "r"), "--yes",
                             smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 2)
            self.assertFalse((tmp / "args").exists())

    def test_a_scenario_on_prod_is_refused_before_anything_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run = run_helper("scenario", "prod", str(tf_output(tmp, "http://127.0.0.1:9")), str(tmp / "r"), "throttling",
                             smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 2)
            self.assertIn("not run against prod", run.stderr)
            self.assertFalse((tmp / "args").exists())

    def test_drill_passes_the_stage_and_report_paths(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            out = tf_output(tmp, "http://127.0.0.1:9")
            run = run_helper("drill", "dev", str(out), str(tmp / "r"), smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 0, run.stderr)
            self.assertEqual((tmp / "args").read_text().split(), [
                "drill", "--target", "aws", "--stage", "dev", "--tf-output", str(out),
                "--json-out", f"{tmp}/r/report.json", "--junit-out", f"{tmp}/r/junit.xml"])
            self.assertIn("### Drill on dev: passed", (tmp / "s.md").read_text())

    def test_drill_on_prod_is_refused_before_anything_runs(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run = run_helper("drill", "prod", str(tf_output(tmp, "http://127.0.0.1:9")), str(tmp / "r"),
                             smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 2)
            self.assertIn("not run against prod", run.stderr)
            self.assertFalse((tmp / "args").exists())

    def test_a_failed_restore_is_passed_on_and_called_out(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run = run_helper("drill", "dev", str(tf_output(tmp, "http://127.0.0.1:9")), str(tmp / "r"),
                             smoke_test=recorder(tmp, 3), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 3)
            self.assertIn("could NOT be restored", (tmp / "s.md").read_text())
            self.assertIn("::error::", run.stderr)

    def test_missing_terraform_output_and_unknown_mode_are_usage_errors(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            run = run_helper("check", "dev", str(tmp / "none.json"), str(tmp / "r"), smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 2)
            self.assertIn("missing or empty", run.stderr)
            run = run_helper("deploy", "dev", str(tf_output(tmp, "http://x")), str(tmp / "r"), smoke_test=recorder(tmp, 0), summary=tmp / "s.md")
            self.assertEqual(run.returncode, 2)
            self.assertIn("unknown mode 'deploy'", run.stderr)


if __name__ == "__main__":
    unittest.main()
