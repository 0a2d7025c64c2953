"""The documentation builds offline with warnings as errors (Sphinx, MyST, numpydoc).

``python -m sphinx -W --keep-going -b html docs OUT`` must succeed: a broken cross-reference
(``nitpicky``), a docstring that does not render, a page missing from every toctree or a bad
Markdown link fails it. The second class checks that the configuration really catches those: a
small site built with ``docs/conf.py``'s settings fails on a deliberately broken reference and
on a deliberately broken docstring.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"

for module, package in (("sphinx", "sphinx"), ("myst_parser", "myst-parser"),
                        ("numpydoc", "numpydoc"), ("sklearn", "scikit-learn"),
                        ("matplotlib", "matplotlib"),
                        ("pydata_sphinx_theme", "pydata-sphinx-theme"),
                        ("sphinx_copybutton", "sphinx-copybutton")):
    pytest.importorskip(module, reason=f"building the docs needs {package}: "
                                       "pip install -e '.[docs]' (part of the test extra)")


def build(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess:
    """Run Sphinx's HTML builder on ``source`` with warnings as errors, in a subprocess."""
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), *extra,
                                                      env.get("PYTHONPATH")]))
    env["MPLBACKEND"] = "Agg"
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-E", "-q", "-b", "html",
         "-d", str(out / "doctrees"), str(source), str(out / "html")],
        env=env, capture_output=True, text=True, timeout=600, check=False)


_BUILT: dict[str, tuple[subprocess.CompletedProcess, Path]] = {}


def built_site(tmp_path_factory) -> tuple[subprocess.CompletedProcess, Path]:
    """The documentation built once per session: Sphinx's result and the HTML folder.

    ``tests/test_docs_browser.py`` renders the same build in a browser.
    """
    if "docs" not in _BUILT:
        out = tmp_path_factory.mktemp("docs")
        _BUILT["docs"] = (build(DOCS, out), out / "html")
    return _BUILT["docs"]


class TestDocsBuild:
    def test_builds_with_warnings_as_errors(self, tmp_path_factory):
        result, html = built_site(tmp_path_factory)
        assert result.returncode == 0, f"the docs build failed:\n{result.stderr[-6000:]}"
        for page in ("index", "getting-started", "tutorial", "own-data", "backends",
                     "training", "saving", "cli", "sklearn", "scaling", "performance",
                     "development", "api", "gpu/README"):
            assert (html / f"{page}.html").is_file(), f"page {page} was not built"
        model = (html / "generated" / "portable_nn.Model.html").read_text(encoding="utf-8")
        assert 'id="portable_nn.Model.predict"' in model  # the API reference has the methods
        assert (html / "_images" / "planar_boundary.png").is_file()
        assert not (html / "gpu" / "h200-2026-11-26-run2" / "gpu-check.html").exists()

    def test_theme_and_copy_buttons(self, tmp_path_factory):
        """pydata-sphinx-theme with the site's stylesheet, sphinx-copybutton, all local."""
        result, html = built_site(tmp_path_factory)
        assert result.returncode == 0, f"the docs build failed:\n{result.stderr[-6000:]}"
        page = (html / "tutorial.html").read_text(encoding="utf-8")
        assert "pydata-sphinx-theme.css" in page
        assert "_static/custom.css" in page
        assert "_static/copybutton.js" in page
        assert (html / "_static" / "custom.css").is_file()
        assert "table.pnn-options" in (html / "_static" / "custom.css").read_text()
        assert 'class="pnn-options' in (html / "training.html").read_text(encoding="utf-8")
        # nothing is fetched from the network when a page is read (the build is offline too)
        for path in html.rglob("*.html"):
            assert not re.search(r'<(script|link)[^>]+(src|href)="(https?:)?//',
                                 path.read_text(encoding="utf-8")), path


MODULE = '''
def good(x):
    """Do something.

    Parameters
    ----------
    x : int
        A ``literal``.
    """


def bad(x):
    """Do something.

    Parameters
    ----------
    x : int
        An ``unterminated literal.
    """
'''


def build_small_site(tmp_path: Path, page: str) -> subprocess.CompletedProcess:
    """Build a one-page site with docs/conf.py's settings (nitpicky, extensions, MyST)."""
    source = tmp_path / "src"
    source.mkdir()
    conf = DOCS / "conf.py"
    (source / "conf.py").write_text(
        f"__file__ = {str(conf)!r}\nexec(compile(open(__file__).read(), __file__, 'exec'))\n")
    (source / "index.md").write_text(page)
    (tmp_path / "docs_check_module.py").write_text(MODULE)
    return build(source, tmp_path, str(tmp_path))


class TestBuildCatchesMistakes:
    """The same settings fail on a broken reference and on a docstring that does not render."""

    def test_control_builds(self, tmp_path):
        result = build_small_site(tmp_path, "# Page\n\nSee {func}`docs_check_module.good`.\n\n"
                                            "```{eval-rst}\n.. autofunction:: "
                                            "docs_check_module.good\n```\n")
        assert result.returncode == 0, result.stderr[-3000:]

    def test_broken_reference_fails(self, tmp_path):
        result = build_small_site(tmp_path, "# Page\n\nSee {func}`portable_nn.no_such_function`.\n")
        assert result.returncode != 0
        assert "portable_nn.no_such_function" in result.stderr

    def test_broken_markdown_link_fails(self, tmp_path):
        result = build_small_site(tmp_path, "# Page\n\nSee [the guide](no-such-page.md).\n")
        assert result.returncode != 0
        assert "no-such-page" in result.stderr

    def test_docstring_that_does_not_render_fails(self, tmp_path):
        result = build_small_site(tmp_path, "# Page\n\n```{eval-rst}\n"
                                            ".. autofunction:: docs_check_module.bad\n```\n")
        assert result.returncode != 0
        assert "docs_check_module.bad" in result.stderr
