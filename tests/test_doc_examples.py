"""Every ```python block of the README and of the documentation pages runs as written.

Each block runs in a fresh interpreter (a subprocess: a fresh namespace and fresh imports, like
a reader pasting it), with the repository on PYTHONPATH and without the test suite's
environment (no JAX x64 mode, no display for matplotlib). The blocks of one page run in order,
in one temporary folder per page, so a block may read a file an earlier block of the same page
wrote (the own-data guide writes its CSV files first).

A block is skipped, visibly and with the reason, when
- it needs an optional library that is not installed (PyTorch, JAX, Dask, scikit-learn,
  matplotlib, array-api-strict), detected from its imports and ``backend="..."`` strings; or
- the line before its opening fence is ``<!-- skip-test -->`` or ``<!-- skip-test: reason -->``
  (for what cannot run on a CPU machine without a network; use sparingly).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
# the pages whose blocks must exist (the issue names them); the others are checked when present
REQUIRED = ("README.md", "docs/tutorial.md", "docs/own-data.md")
TIMEOUT_S = 600

SKIP_MARK = re.compile(r"^<!--\s*skip-test\s*(?::\s*(?P<reason>.*?))?\s*-->$")
# what a block uses -> the module it needs
NEEDS = [
    (re.compile(r"^\s*(import|from)\s+torch\b|backend=\"torch\"|\"torch\"", re.M), "torch"),
    (re.compile(r"^\s*(import|from)\s+jax\b|backend=\"jax\"|\"jax\"", re.M), "jax"),
    (re.compile(r"^\s*(import|from)\s+dask\b|backend=\"dask\"", re.M), "dask"),
    (re.compile(r"\"array_api_strict\"|^\s*import\s+array_api_strict\b", re.M),
     "array_api_strict"),
    (re.compile(r"^\s*(import|from)\s+sklearn\b|portable_nn\.sklearn|portable_nn import sklearn",
                re.M), "sklearn"),
    (re.compile(r"^\s*(import|from)\s+matplotlib\b|from portable_nn import plot|"
                r"portable_nn\.plot", re.M), "matplotlib"),
    # the ways out of portable_nn (docs/elsewhere.md): the onnx and safetensors extras
    (re.compile(r"export_onnx|^\s*(import|from)\s+ndonnx\b", re.M), "ndonnx"),
    (re.compile(r"^\s*(import|from)\s+onnxruntime\b", re.M), "onnxruntime"),
    (re.compile(r"^\s*(import|from)\s+onnx\b", re.M), "onnx"),
    (re.compile(r"\.safetensors\b"), "safetensors"),
    (re.compile(r"skl2onnx"), "skl2onnx"),
    (re.compile(r"to_torch\(|from_torch\("), "torch"),
]


@dataclass(frozen=True)
class Block:
    """One ```python block: its page, the line of its opening fence, its code."""

    page: Path
    line: int
    code: str
    skip_reason: str | None

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT).as_posix()}:{self.line}"


def python_blocks(page: Path) -> list[Block]:
    """The ```python blocks of a Markdown page, in order, with their skip markers."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        fence = re.match(r"^(\s*)(`{3,})python\s*$", lines[i])
        if not fence:
            i += 1
            continue
        start, ticks = i, fence.group(2)
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != ticks:
            body.append(lines[i])
            i += 1
        blocks.append(Block(page, start + 1, "\n".join(body) + "\n", _marker(lines, start)))
        i += 1
    return blocks


def _marker(lines: list[str], fence: int) -> str | None:
    """The skip reason given by a ``<!-- skip-test -->`` line just above the fence, if any."""
    j = fence - 1
    while j >= 0 and not lines[j].strip():
        j -= 1
    match = SKIP_MARK.match(lines[j].strip()) if j >= 0 else None
    if match is None:
        return None
    return f"marked skip-test: {match.group('reason') or 'no reason given'}"


def missing_libraries(code: str) -> list[str]:
    """The optional modules ``code`` needs that are not installed here (comments ignored)."""
    code = "\n".join(line.split("#", 1)[0] for line in code.splitlines())
    return [module for pattern, module in NEEDS
            if pattern.search(code) and importlib.util.find_spec(module) is None]


BLOCKS = [block for page in PAGES for block in python_blocks(page)]


@pytest.fixture(scope="module")
def page_folders(tmp_path_factory):
    """One temporary folder per page, shared by that page's blocks (run in order)."""
    folders: dict[Path, Path] = {}

    def folder(page: Path) -> Path:
        if page not in folders:
            folders[page] = tmp_path_factory.mktemp(page.stem.replace(".", "_"))
        return folders[page]

    return folder


def _user_environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("JAX_ENABLE_X64", "PYTEST_CURRENT_TEST")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return env


class TestPagesHaveBlocks:
    @pytest.mark.parametrize("name", REQUIRED)
    def test_page_has_python_blocks(self, name):
        page = ROOT / name
        assert page.is_file(), f"{name} is missing"
        assert python_blocks(page), f"{name} has no ```python block to run"


class TestExtraction:
    def test_blocks_and_markers_are_found(self, tmp_path):
        page = tmp_path / "page.md"
        page.write_text("text\n\n```python\nx = 1\n```\n\n<!-- skip-test: needs a GPU -->\n"
                        "```python\nimport cupy\n```\n\n```bash\nls\n```\n")
        first, second = python_blocks(page)
        assert (first.line, first.code, first.skip_reason) == (3, "x = 1\n", None)
        assert second.skip_reason == "marked skip-test: needs a GPU"

    def test_needs_are_detected(self):
        assert "torch" in [m for p, m in NEEDS if p.search('pnn.train(X, Y, backend="torch")')]
        assert "sklearn" in [m for p, m in NEEDS if p.search("from sklearn.datasets import x")]
        assert not [m for p, m in NEEDS if p.search('pnn.train(X, Y, backend="numpy")')]


class TestCodeBlocksRun:
    @pytest.mark.parametrize("block", BLOCKS, ids=[b.id for b in BLOCKS])
    def test_block_runs(self, block, page_folders):
        if block.skip_reason:
            pytest.skip(block.skip_reason)
        missing = missing_libraries(block.code)
        if missing:
            pytest.skip(f"needs {', '.join(missing)} (not installed)")
        result = subprocess.run(
            [sys.executable, "-c", block.code], cwd=page_folders(block.page),
            env=_user_environment(), capture_output=True, text=True, timeout=TIMEOUT_S,
            check=False)
        assert result.returncode == 0, (
            f"the block at {block.id} failed (exit {result.returncode}):\n{block.code}\n"
            f"--- stdout ---\n{result.stdout[-3000:]}\n--- stderr ---\n{result.stderr[-3000:]}")
