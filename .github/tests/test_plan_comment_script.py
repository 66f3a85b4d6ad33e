"""The comment job's script (actions/github-script in plan.yml) run by node with a stand-in for
the GitHub API client that keeps comments in memory: it updates its own stage comment in place,
adds one when there is none, and never touches a person's comment or another stage's."""

import json
import subprocess
import tempfile
import textwrap
import unittest
from pathlib import Path

import workflow_policy as policy

ROOT = Path(__file__).resolve().parents[2]

HARNESS = textwrap.dedent("""\
    const fs = require('fs');
    const [scriptFile, stateFile] = process.argv.slice(2);
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8'));
    let nextId = 1000;
    const calls = [];
    const github = {
      rest: { issues: {
        listComments: 'listComments',
        updateComment: async (a) => { calls.push(['update', a.comment_id]); state.comments.find((c) => c.id === a.comment_id).body = a.body; },
        createComment: async (a) => { const c = { id: nextId++, user: { login: 'github-actions[bot]', type: 'Bot' }, body: a.body };
                                      calls.push(['create', c.id]); state.comments.push(c); return { data: c }; },
      } },
      paginate: async (method, args) => {
        if (method !== 'listComments' || args.issue_number !== 7) throw new Error('unexpected list call');
        return state.comments.map((c) => ({ ...c }));
      },
    };
    const context = { repo: { owner: 'acme', repo: 'outage-lab' }, payload: { pull_request: { number: 7 } } };
    const failures = [];
    const core = { info: () => {}, setFailed: (m) => failures.push(m) };
    const body = fs.readFileSync(scriptFile, 'utf8');
    const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
    new AsyncFunction('github', 'context', 'core', 'require', body)(github, context, core, require)
      .then(() => console.log(JSON.stringify({ comments: state.comments, calls, failures })))
      .catch((e) => { console.error(e); process.exit(1); });
    """)


def comment_script() -> str:
    steps = policy.load(ROOT / ".github" / "workflows" / "plan.yml")["jobs"]["comment"]["steps"]
    return next(step["with"]["script"] for step in steps if str(step.get("uses", "")).startswith("actions/github-script@"))


class CommentScriptTest(unittest.TestCase):
    def run_script(self, body: str, comments: list[dict]) -> dict:
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            (tmp / "plan-comment").mkdir()
            (tmp / "plan-comment" / "comment.md").write_text(body)
            (tmp / "script.js").write_text(comment_script())
            (tmp / "harness.js").write_text(HARNESS)
            (tmp / "state.json").write_text(json.dumps({"comments": comments}))
            run = subprocess.run(["node", "harness.js", "script.js", "state.json"], cwd=tmp,
                                 capture_output=True, text=True, timeout=60, check=False)
            self.assertEqual(run.returncode, 0, run.stderr)
            return json.loads(run.stdout)

    @staticmethod
    def bot(comment_id: int, body: str) -> dict:
        return {"id": comment_id, "user": {"login": "github-actions[bot]", "type": "Bot"}, "body": body}

    def test_the_stage_comment_is_updated_in_place(self):
        old = self.bot(1, "<!-- outage-lab:terraform-plan:dev -->\nold plan")
        other_stage = self.bot(2, "<!-- outage-lab:terraform-plan:prod -->\nprod plan")
        result = self.run_script("<!-- outage-lab:terraform-plan:dev -->\nnew plan", [old, other_stage])
        self.assertEqual(result["calls"], [["update", 1]])
        bodies = {c["id"]: c["body"] for c in result["comments"]}
        self.assertEqual(bodies, {1: "<!-- outage-lab:terraform-plan:dev -->\nnew plan",
                                  2: "<!-- outage-lab:terraform-plan:prod -->\nprod plan"})

    def test_a_first_plan_adds_one_comment(self):
        result = self.run_script("<!-- outage-lab:terraform-plan:staging -->\nplan", [self.bot(1, "unrelated")])
        self.assertEqual([call[0] for call in result["calls"]], ["create"])
        self.assertEqual(len(result["comments"]), 2)

    def test_a_persons_comment_quoting_the_marker_is_left_alone(self):
        person = {"id": 5, "user": {"login": "alice", "type": "User"}, "body": "<!-- outage-lab:terraform-plan:dev -->\nhi"}
        result = self.run_script("<!-- outage-lab:terraform-plan:dev -->\nplan", [person])
        self.assertEqual([call[0] for call in result["calls"]], ["create"])
        self.assertEqual(result["comments"][0]["body"], person["body"])

    def test_a_body_without_the_marker_is_refused(self):
        result = self.run_script("no marker here\nplan", [self.bot(1, "<!-- outage-lab:terraform-plan:dev -->\nold")])
        self.assertEqual(result["calls"], [])
        self.assertEqual(len(result["failures"]), 1)
        self.assertIn("does not start with a plan marker", result["failures"][0])


if __name__ == "__main__":
    unittest.main()
