"""Sphinx configuration of the portable_nn documentation (builds offline).

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` from the repository
root (``tests/test_docs.py`` does the same into a temporary folder).
"""

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))  # docs/ (tests/test_docs.py's small sites
ROOT = os.path.dirname(HERE)                       # use its templates and stylesheet too)
sys.path.insert(0, ROOT)  # document this checkout, installed or not

import portable_nn  # noqa: E402

project = "portable_nn"
author = "portable_nn contributors"
copyright = "the portable_nn contributors"
release = portable_nn.__version__
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "sphinx_copybutton",
]

source_suffix = {".md": "markdown", ".rst": "restructuredtext"}  # .rst: autosummary stubs
root_doc = "index"
# raw GPU-check outputs and build folders are kept in the repository but are not pages
exclude_patterns = ["_build", "_templates", "gpu/h200-*", "**/.ipynb_checkpoints",
                    "generated/training-options.md"]  # included by training.md, not a page
# autosummary/class.rst: a class with its own members; sidebar-site-nav.html: the site's pages
templates_path = [os.path.join(HERE, "_templates")]

# a broken cross-reference is an error (with -W): every :func:, :class:, [](...) must resolve
nitpicky = True
nitpick_ignore_regex = [
    # scikit-learn's own classes, named in docstrings: no intersphinx (the build is offline)
    ("py:class", r"sklearn\..*"),
]

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False
numpydoc_validation_checks: set[str] = set()

# pydata-sphinx-theme (NumPy's and scikit-learn's): code blocks and wide tables scroll, never
# clip; docs/_static/custom.css widens the text column and wraps table cells
# (tests/test_docs_browser.py renders every page in Chromium and fails on an overflow)
html_theme = "pydata_sphinx_theme"
html_title = f"portable_nn {release}"
html_static_path = [os.path.join(HERE, "_static")]
html_css_files = ["custom.css"]
html_theme_options = {
    "logo": {"text": f"portable_nn {release}"},
    "navbar_align": "left",
    "navbar_center": [],  # the pages are in the left sidebar (_templates/sidebar-site-nav.html)
    "secondary_sidebar_items": [],  # ... with the sections of the page: more room for code
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_center": [],
    "footer_end": ["sphinx-version", "theme-version"],
}
html_sidebars = {"**": ["sidebar-site-nav", "page-toc"]}
html_context = {"default_mode": "auto"}  # light or dark, as the reader's system is

# copy buttons on code blocks copy the code without its prompts (">>> ", "... ", "$ ")
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True
copybutton_only_copy_prompt_lines = False
html_show_sourcelink = False


def _skip_member(app, what, name, obj, skip, options):
    """Leave out scikit-learn's generated metadata-routing methods (set_*_request)."""
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def _myst(text):
    """A numpydoc text as one MyST table cell: rst roles as MyST roles, one line."""
    import re

    return re.sub(r":(\w+):`", r"{\1}`", " ".join(text.split()))


def options_table():
    """The training options as a MyST table, generated from their specification."""
    from portable_nn.training import OPTIONS, TOOL_OPTIONS

    # class pnn-options: the meaning gets half the width (docs/_static/custom.css)
    rows = ["````{table}", ":class: pnn-options", "",
            "| option | default | command line | meaning |", "| --- | --- | --- | --- |"]
    for spec in (*OPTIONS, *TOOL_OPTIONS):
        flag = f"`{spec.cli.flag}`" if spec.cli is not None else "-"
        default = f"`{spec.default!r}`" + ("" if spec in OPTIONS else " (estimators)")
        rows.append(f"| `{spec.name}` | {default} | {flag} | {_myst(spec.doc)} |")
    return "\n".join([*rows, "````"]) + "\n"


def _write_options_table(app):
    if not os.path.exists(os.path.join(app.srcdir, "training.md")):
        return  # not this site (tests/test_docs.py builds small ones with this configuration)
    folder = os.path.join(app.srcdir, "generated")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "training-options.md"), "w") as table:
        table.write(options_table())


def setup(app):
    """Connect the member filter and write the generated options table."""
    app.connect("autodoc-skip-member", _skip_member)
    app.connect("builder-inited", _write_options_table)
