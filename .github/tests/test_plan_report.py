"""Behaviour of .github/scripts/plan_report.py: the PR comment and job summary of a plan."""

import importlib.util
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "plan_report.py"
spec = importlib.util.spec_from_file_location("plan_report", SCRIPT)
plan_report = importlib.util.module_from_spec(spec)
spec.loader.exec_module(plan_report)

SMALL_PLAN = (
    "Terraform will perform the following actions:\n\n"
    '  # module.stack.aws_lambda_function.this will be updated in-place\n'
    "  ~ source_code_hash = \"abc\" -> \"def\"\n\n"
    "Plan: 0 to add, 1 to change, 0 to destroy.\n"
)


def big_plan(lines: int) -> str:
    body = "".join(f'  + resource "aws_cloudwatch_metric_alarm" "a{i}" {{ alarm_name = "dev-{i}" }}\n' for i in range(lines))
    return body + "Plan: %d to add, 0 to change, 0 to destroy.\n" % lines


class CommentTest(unittest.TestCase):
    def render_comment(self, plan: str, exit_code: int = 2, stage: str = "dev") -> str:
        return plan_report.render(stage, exit_code, plan, plan_report.COMMENT_LIMIT, "the run", True)

    def test_starts_with_the_stage_marker_the_workflow_searches_for(self):
        body = self.render_comment(SMALL_PLAN, stage="staging")
        self.assertEqual(body.splitlines()[0], "<!-- outage-lab:terraform-plan:staging -->")

    def test_headline_comes_from_terraforms_summary_line(self):
        self.assertIn("`dev`: 0 to add, 1 to change, 0 to destroy", self.render_comment(SMALL_PLAN))
        self.assertIn("`dev`: no changes", self.render_comment("No changes.\n", exit_code=0))
        self.assertIn("`dev`: 1 to import, 0 to add, 1 to change, 0 to destroy, 2 to forget", self.render_comment(
            "Plan: 1 to import, 0 to add, 1 to change, 0 to destroy, 2 to forget.\n"))
        self.assertIn("`dev`: failed", self.render_comment("Error: boom\n", exit_code=1))

    def test_small_plan_is_shown_whole(self):
        body = self.render_comment(SMALL_PLAN)
        self.assertIn(SMALL_PLAN, body)
        self.assertNotIn("Plan cut to fit", body)

    def test_long_plan_fits_githubs_limit_and_says_what_was_cut(self):
        plan = big_plan(5000)
        self.assertGreater(len(plan), 3 * plan_report.COMMENT_LIMIT)
        body = self.render_comment(plan)
        self.assertLessEqual(len(body), plan_report.COMMENT_LIMIT)
        self.assertIn("Plan cut to fit:", body)
        shown = body.count('+ resource "aws_cloudwatch_metric_alarm"')
        self.assertIn(f"{5001 - shown} line(s) not shown", body)
        self.assertIn("The full plan is in the run.", body.splitlines()[-1])
        # Cut at a line boundary: every shown resource line is complete.
        for line in body.splitlines():
            if line.startswith("  + resource"):
                self.assertTrue(line.endswith("}"), line)
        self.assertEqual(body.count("</details>"), 1)

    def test_failed_plan_keeps_the_tail_where_terraform_prints_errors(self):
        log = big_plan(4000) + "\nError: creating Lambda Function (dev-auth): AccessDeniedException\n"
        body = self.render_comment(log, exit_code=1)
        self.assertLessEqual(len(body), plan_report.COMMENT_LIMIT)
        self.assertIn("AccessDeniedException", body)
        self.assertNotIn('"a0"', body)

    def test_backticks_in_the_plan_cannot_close_the_fence(self):
        plan = 'description = "````` nested"\n' + SMALL_PLAN
        body = self.render_comment(plan)
        self.assertIn("``````text\n", body)

    def test_a_single_huge_line_is_cut_not_dropped_silently(self):
        body = self.render_comment("x" * 200_000 + "\n")
        self.assertLessEqual(len(body), plan_report.COMMENT_LIMIT)
        self.assertGreater(body.count("x"), 60_000)
        self.assertTrue("1 line(s) not shown" in body, "the note about the cut line is missing")

    def test_the_summary_limit_counts_utf8_bytes(self):
        # Terraform frames warnings and errors with box-drawing characters of 3 bytes each.
        plan = "╷\n│ Warning: deprecated argument\n╵\n" * 40_000
        text = plan_report.render("dev", 2, plan, plan_report.SUMMARY_LIMIT, "the artifact", False, plan_report.utf8_bytes)
        self.assertLessEqual(len(text.encode("utf-8")), plan_report.SUMMARY_LIMIT)
        self.assertIn("Plan cut to fit", text)
        one_line = plan_report.render("dev", 2, "│" * 2_000_000 + "\n", plan_report.SUMMARY_LIMIT, "x", False, plan_report.utf8_bytes)
        self.assertLessEqual(len(one_line.encode("utf-8")), plan_report.SUMMARY_LIMIT)
        self.assertGreater(one_line.count("│"), 300_000)

    def test_multibyte_characters_count_as_characters(self):
        body = self.render_comment("é€😀\n" * 40_000)
        self.assertLessEqual(len(body), plan_report.COMMENT_LIMIT)

    def test_ansi_colour_is_removed(self):
        self.assertNotIn("\x1b", self.render_comment("\x1b[1mPlan:\x1b[0m 1 to add, 0 to change, 0 to destroy.\n"))

    def test_bad_stage_and_exit_code_are_refused(self):
        with self.assertRaisesRegex(ValueError, "invalid stage name"):
            self.render_comment(SMALL_PLAN, stage="dev -->")
        with self.assertRaisesRegex(ValueError, "invalid terraform exit code 3"):
            self.render_comment(SMALL_PLAN, exit_code=3)


class CommandLineTest(unittest.TestCase):
    def test_writes_comment_and_appends_to_the_summary(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "plan.txt").write_text(big_plan(20_000))
            (tmp / "summary.md").write_text("earlier step\n")
            run = subprocess.run(
                [sys.executable, str(SCRIPT), "--stage", "prod", "--exit-code", "2", "--plan", str(tmp / "plan.txt"),
                 "--comment-out", str(tmp / "comment.md"), "--summary-out", str(tmp / "summary.md"),
                 "--details-url", "https://github.com/o/r/actions/runs/1"],
                capture_output=True, text=True, check=False)
            self.assertEqual(run.returncode, 0, run.stderr)
            comment = (tmp / "comment.md").read_text()
            summary = (tmp / "summary.md").read_text()
            self.assertLessEqual(len(comment), plan_report.COMMENT_LIMIT)
            self.assertTrue(summary.startswith("earlier step\n<!-- outage-lab:terraform-plan:prod -->"))
            self.assertLessEqual(len(summary), plan_report.SUMMARY_LIMIT + len("earlier step\n"))
            self.assertIn("https://github.com/o/r/actions/runs/1", comment)

    def test_missing_plan_file_is_a_clear_error(self):
        run = subprocess.run([sys.executable, str(SCRIPT), "--stage", "dev", "--exit-code", "0", "--plan", "/nonexistent/plan.txt"],
                             capture_output=True, text=True, check=False)
        self.assertEqual(run.returncode, 2)
        self.assertIn("cannot read the plan", run.stderr)


if __name__ == "__main__":
    unittest.main()
