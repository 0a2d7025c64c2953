"""The CI workflow's supply-chain hardening (issue 18, family 9), read from its text.

zizmor (``zizmor .github/workflows/ci.yml``) checks the same and more; these tests keep the
three rules without it: every action pinned to a full commit SHA with its release in a
comment, no credentials persisted by checkout, and a read-only token.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import portable_nn

# the workflow of the checkout whose portable_nn is under test
WORKFLOW = Path(portable_nn.__file__).resolve().parents[1] / ".github" / "workflows" / "ci.yml"
USES = re.compile(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)$")


def _lines() -> list[str]:
    if not WORKFLOW.is_file():
        pytest.skip(f"{WORKFLOW} is not in this checkout")
    return WORKFLOW.read_text(encoding="utf-8").splitlines()


def _uses() -> list[tuple[int, str, str]]:
    found = [(n, m[1], m[2]) for n, line in enumerate(_lines(), 1) if (m := USES.match(line))]
    assert found, "the workflow uses no action: the pattern no longer matches its layout"
    return found


def test_every_action_pinned_to_a_commit_with_its_version():
    for n, ref, rest in _uses():
        action, _, pin = ref.partition("@")
        assert re.fullmatch(r"[0-9a-f]{40}", pin), f"line {n}: {ref} is not pinned to a SHA"
        assert re.fullmatch(r"\s*#\s*v\d+(\.\d+)*\s*", rest), (
            f"line {n}: {action} has no '# vX.Y.Z' comment naming the pinned release")


def test_checkout_persists_no_credentials():
    lines = _lines()
    checkouts = [n for n, ref, _ in _uses() if ref.startswith("actions/checkout@")]
    assert checkouts
    for n in checkouts:  # n is 1-based: lines[n] is the line after the `uses:`
        block = []
        for line in lines[n:]:
            if re.match(r"^\s*-\s", line) or not line.strip():
                break
            block.append(line.strip())
        assert "persist-credentials: false" in block, f"line {n}: checkout keeps its token"


def test_token_is_read_only():
    text = "\n".join(_lines())
    top = re.search(r"^permissions:\n((?:[ ]+.*\n?)+)", text, re.M)
    assert top is not None, "no top-level permissions: the token gets the repository default"
    granted = dict(re.findall(r"^\s+([\w-]+):\s*(\S+)", top[1], re.M))
    assert granted == {"contents": "read"}
    # no job widens it
    assert len(re.findall(r"^\s*permissions:", text, re.M)) == 1
