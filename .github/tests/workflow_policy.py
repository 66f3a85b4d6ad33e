"""The rules every GitHub workflow of this repository follows, as functions that return findings.

Used by test_workflows.py against the real files and against planted bad examples, so a rule
that stopped finding anything would fail its test.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

# Every action the workflows may use, pinned to the commit of a release. Adding or bumping one is
# a deliberate act: check the commit is the release tag's before adding it here.
VERIFIED_ACTIONS = {
    "actions/checkout": {"692973e3d937129bcbf40652eb9f2f61becf3332": "v4.1.7"},
    "actions/upload-artifact": {"ea165f8d65b6e75b540449e92b4886f43607fa02": "v4.6.2"},
    "actions/download-artifact": {"d3f86a106a0bac45b974a628896c90dbdf5c8093": "v4.3.0"},
    "actions/github-script": {"60a0d83039c74a4aee543508d2ffcb1c3799cdea": "v7.0.1"},
    "aws-actions/configure-aws-credentials": {"ececac1a45f3b08a01d2dd070d28d111c5fe6722": "v4.1.0"},
    "hashicorp/setup-terraform": {"b9cd54a3c349d3f38e8881555d616ced269862dd": "v3.1.2"},
    "Swatinem/rust-cache": {"9d47c6ad4b02e050fd481d890b2ea34778fd09d6": "v2.7.8"},
}

USES_LINE = re.compile(r"^\s*(?:-\s+)?uses:\s*(?P<ref>[^\s#]+)\s*(?:#\s*(?P<comment>.*))?$")
PINNED = re.compile(r"^(?P<action>[\w.-]+/[\w.-]+)(?P<path>/[\w./-]+)?@(?P<sha>[0-9a-f]{40})$")
VERSION_COMMENT = re.compile(r"^v\d+(\.\d+){0,2}$")
ALLOWED_TOP_LEVEL = ({}, {"contents": "read"})

# Static AWS credentials: access key ids (long-term AKIA, temporary ASIA) and secret keys
# assigned to the usual names. AWS's own documentation examples are not credentials.
ACCESS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")
SECRET_ASSIGNMENT = re.compile(
    r"(?i)aws_?secret_?access_?key[\"']?\s*[:=]\s*[\"']?(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])")
DOCUMENTED_EXAMPLES = {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a YAML mapping")
    # YAML 1.1 reads the key `on` as the boolean true.
    if True in data:
        data["on"] = data.pop(True)
    return data


def pin_findings(path: Path) -> list[str]:
    """Each `uses:` of another repository names a full commit SHA of a verified release and
    says its version in a comment."""
    findings = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = USES_LINE.match(line)
        if not match:
            continue
        ref, comment = match["ref"].strip("'\""), (match["comment"] or "").strip()
        where = f"{path.name}:{number}"
        if ref.startswith("./"):
            continue  # a workflow or action of this repository, pinned by the commit itself
        if ref.startswith("docker://"):
            if not re.search(r"@sha256:[0-9a-f]{64}$", ref):
                findings.append(f"{where}: docker image {ref} is not pinned by digest")
            continue
        pinned = PINNED.match(ref)
        if not pinned:
            findings.append(f"{where}: {ref} is not pinned to a full 40-character commit SHA")
            continue
        if not VERSION_COMMENT.match(comment):
            findings.append(f"{where}: {ref} has no version comment (`# vX.Y.Z`)")
        known = VERIFIED_ACTIONS.get(pinned["action"], {})
        if pinned["sha"] not in known:
            findings.append(f"{where}: {pinned['action']}@{pinned['sha']} is not a verified release commit")
        elif comment and known[pinned["sha"]] != comment:
            findings.append(f"{where}: {pinned['action']}@{pinned['sha']} is {known[pinned['sha']]}, not {comment}")
    return findings


def _job_uses_oidc(job: dict) -> bool:
    if str(job.get("uses", "")).startswith("./"):
        return True  # a reusable workflow of this repository; its own jobs are checked too
    return any(str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
               for step in job.get("steps", []) or [])


def permission_findings(path: Path) -> list[str]:
    """Top-level permissions are none or read-only; every job says what it needs; id-token
    only where AWS credentials are taken; write to pull requests only in a job that holds no
    AWS credentials."""
    workflow = load(path)
    findings = []
    if "permissions" not in workflow:
        findings.append(f"{path.name}: no top-level `permissions:`")
    elif workflow["permissions"] not in ALLOWED_TOP_LEVEL:
        findings.append(f"{path.name}: top-level permissions {workflow['permissions']!r} grant more than read")
    for name, job in (workflow.get("jobs") or {}).items():
        perms = job.get("permissions")
        if perms is None:
            findings.append(f"{path.name}: job {name} does not declare `permissions:`")
            continue
        if isinstance(perms, str):
            findings.append(f"{path.name}: job {name} uses the shorthand permissions {perms!r}")
            continue
        if perms.get("id-token") == "write" and not _job_uses_oidc(job):
            findings.append(f"{path.name}: job {name} has id-token: write but takes no AWS credentials")
        if _job_uses_oidc(job) and not str(job.get("uses", "")).startswith("./") and "environment" not in job \
                and "pull_request" not in (workflow.get("on") or {}):
            findings.append(f"{path.name}: job {name} takes AWS credentials outside a GitHub Environment")
        for scope, level in perms.items():
            if level == "write" and scope not in ("id-token", "pull-requests"):
                findings.append(f"{path.name}: job {name} has {scope}: write")
        if perms.get("pull-requests") == "write" and _job_uses_oidc(job):
            findings.append(f"{path.name}: job {name} can write to pull requests and holds AWS credentials")
        for step in job.get("steps", []) or []:
            with_ = step.get("with") or {}
            if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@") and (
                    "aws-access-key-id" in with_ or "aws-secret-access-key" in with_ or "role-to-assume" not in with_):
                findings.append(f"{path.name}: job {name} configures AWS with static keys instead of an OIDC role")
    return findings


def secret_findings(repo: Path) -> list[str]:
    """Static AWS keys in any file git tracks in `repo`."""
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], check=True, capture_output=True).stdout
    findings = []
    for name in filter(None, listed.decode().split("\0")):
        path = repo / name
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            for key in ACCESS_KEY_ID.findall(line):
                if key not in DOCUMENTED_EXAMPLES:
                    findings.append(f"{name}:{number}: AWS access key id {key[:8]}...")
            for match in SECRET_ASSIGNMENT.finditer(line):
                if match["value"] not in DOCUMENTED_EXAMPLES:
                    findings.append(f"{name}:{number}: AWS secret access key assigned")
    return findings
