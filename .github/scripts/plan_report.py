#!/usr/bin/env python3
"""Renders a `terraform plan` for people: the pull-request comment and the job summary.

The comment starts with a hidden marker naming the stage, so the workflow finds and updates
its own comment instead of adding one per push. GitHub rejects comments over 65,536
characters and job summaries over 1 MiB: a long plan is cut at a line boundary, inside a code
fence that no backtick run in the plan can close, with a note saying what was left out and
where the full plan is.

Usage: plan_report.py --stage dev --exit-code 2 --plan plan.txt
                      [--comment-out comment.md] [--summary-out summary.md] [--details-url URL]
--exit-code is terraform plan's -detailed-exitcode: 0 no changes, 1 error, 2 changes.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Callable

COMMENT_LIMIT = 65_536  # characters, GitHub's maximum body of an issue comment
SUMMARY_LIMIT = 1_000_000  # UTF-8 bytes; GitHub takes up to 1 MiB of summary per step
MARKER_FORMAT = "<!-- outage-lab:terraform-plan:{stage} -->"
STAGE_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# "Plan: 1 to add, 0 to change, 0 to destroy." with "N to import, " or ", N to forget" in newer Terraform.
PLAN_LINE = re.compile(r"^Plan: (?:\d+ to [a-z]+, )*\d+ to destroy(?:, \d+ to [a-z]+)*\.", re.MULTILINE)


def marker(stage: str) -> str:
    if not STAGE_PATTERN.match(stage):
        raise ValueError(f"invalid stage name {stage!r}: expected lowercase letters, digits and '-'")
    return MARKER_FORMAT.format(stage=stage)


def headline(exit_code: int, plan: str) -> str:
    """One line saying what the plan does, taken from Terraform's own summary line."""
    if exit_code == 1:
        return "failed"
    if exit_code == 0:
        return "no changes"
    if exit_code == 2:
        found = PLAN_LINE.search(plan)
        return found.group(0).removeprefix("Plan: ").rstrip(".") if found else "changes"
    raise ValueError(f"invalid terraform exit code {exit_code}: expected 0, 1 or 2")


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in the text, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def characters(text: str) -> int:
    return len(text)


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


def cut_line(line: str, budget: int, measure: Callable[[str], int], from_end: bool) -> str:
    """The longest start (or end) of one line that measures at most `budget`."""
    low, high = 0, len(line)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(line[-middle:] if from_end else line[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    if low == 0:
        return ""
    return line[-low:] if from_end else line[:low]


def fit(text: str, budget: int, keep_tail: bool, measure: Callable[[str], int] = characters) -> tuple[str, int]:
    """Cuts text to at most `budget` (as `measure` counts) at line boundaries; returns it and the
    number of lines not shown whole. A failed plan keeps its tail (Terraform prints errors last)."""
    if measure(text) <= budget:
        return text, 0
    lines = text.splitlines(keepends=True)
    kept: list[str] = []
    used = 0
    for line in reversed(lines) if keep_tail else lines:
        size = measure(line)
        if used + size > budget:
            break
        kept.append(line)
        used += size
    if keep_tail:
        kept.reverse()
    if not kept:  # one line longer than the whole budget: keep part of it
        line = lines[-1] if keep_tail else lines[0]
        part = cut_line(line, budget - 1, measure, from_end=keep_tail)
        return (part if part.endswith("\n") else part + "\n"), len(lines)  # the cut line counts as not shown
    return "".join(kept), len(lines) - len(kept)


def render(stage: str, exit_code: int, plan: str, limit: int, where_full: str, collapsible: bool,
           measure: Callable[[str], int] = characters) -> str:
    """The plan as Markdown of at most `limit` as `measure` counts (characters for a comment,
    UTF-8 bytes for a job summary)."""
    plan = ANSI_ESCAPE.sub("", plan).replace("\r\n", "\n")
    if plan and not plan.endswith("\n"):
        plan += "\n"
    status = headline(exit_code, plan)
    fence = fence_for(plan)
    head = f"{marker(stage)}\n### Terraform plan for `{stage}`: {status}\n\n"
    if collapsible:
        open_block, close_block = f"<details><summary>Show plan</summary>\n\n{fence}text\n", f"{fence}\n</details>\n"
    else:
        open_block, close_block = f"{fence}text\n", f"{fence}\n"
    # The note is sized for the worst case so that adding it never pushes the body over the limit.
    note_template = "\n**Plan cut to fit: {n} line(s) not shown.** The full plan is in {where}.\n"
    worst_note = note_template.format(n=10**9, where=where_full)
    budget = limit - measure(head) - measure(open_block) - measure(close_block) - measure(worst_note)
    if budget <= 0:
        raise ValueError(f"limit {limit} leaves no room for the plan text")
    body, left_out = fit(plan, budget, keep_tail=exit_code == 1, measure=measure)
    text = head + open_block + body + close_block
    if left_out:
        text += note_template.format(n=left_out, where=where_full)
    else:
        text += f"\nFull plan: {where_full}.\n"
    assert measure(text) <= limit, (measure(text), limit)
    return text


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--exit-code", required=True, type=int)
    parser.add_argument("--plan", required=True, type=Path, help="terraform show -no-color output, or the error log")
    parser.add_argument("--comment-out", type=Path)
    parser.add_argument("--summary-out", type=Path, help="appended to, like $GITHUB_STEP_SUMMARY")
    parser.add_argument("--details-url", default="", help="link to the workflow run")
    args = parser.parse_args(argv)
    try:
        plan = args.plan.read_text(encoding="utf-8", errors="replace")
    except OSError as error:
        print(f"error: cannot read the plan: {error}", file=sys.stderr)
        return 2
    run = f"the [workflow run]({args.details_url})" if args.details_url else "the workflow run"
    try:
        if args.comment_out:
            where = f"{run}'s job summary and its `terraform-plan-{args.stage}` artifact"
            args.comment_out.write_text(render(args.stage, args.exit_code, plan, COMMENT_LIMIT, where, True), encoding="utf-8")
        if args.summary_out:
            where = f"the `terraform-plan-{args.stage}` artifact of {run}"
            with args.summary_out.open("a", encoding="utf-8") as summary:
                summary.write(render(args.stage, args.exit_code, plan, SUMMARY_LIMIT, where, False, utf8_bytes))
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
