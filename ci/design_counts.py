"""Count what issue 13 measures in the package's code: ``python ci/design_counts.py [ROOT]``.

Prints, for the ``portable_nn`` package under ``ROOT`` (default: this checkout):

- **option places**: for each keyword option of ``train``, the places outside ``core/`` where
  the option is *written* rather than used: a function parameter of that name, an assignment
  ``self.<name> = <name>``, a forwarding keyword ``<name>=<name>``, a string literal equal to
  the name, a numpydoc parameter line (``<name> :``), a command-line flag ``--<name>`` (also
  the CLI's own spellings), and a default value written beside the name. ``core/`` takes the
  hyperparameters as the numerics' own arguments and is left out.
- **longest functions** in ``training/``: lines from ``def`` to the last line, and lines of
  code after the docstring (nested functions counted inside their parent and on their own).
- **private imports across packages**: ``from portable_nn.<pkg>._<module> import ...`` in a
  file outside ``portable_nn/<pkg>/``.

The same script runs on any checkout, so "before" and "after" figures come from one command.
"""

from __future__ import annotations

import ast
import re
import sys
from collections import Counter
from pathlib import Path

CLI_SPELLINGS = {"hidden_activation": "--activation", "num_iterations": "--iterations",
                 "progress": "--no-progress"}


def _train_options(package: Path) -> list[str]:
    """Keyword-only parameter names of ``train`` (found by reading the source, not importing)."""
    for path in (package / "training").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "train":
                names = [a.arg for a in node.args.kwonlyargs]
                if names:
                    return names
    raise SystemExit("no train() with keyword-only parameters found")


def _places(package: Path, options: list[str]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for path in package.rglob("*.py"):
        if "core" in path.relative_to(package).parts:
            continue
        text = path.read_text()
        tree = ast.parse(text)
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for arg in (*node.args.args, *node.args.kwonlyargs):
                    if arg.arg in options:
                        counts[arg.arg] += 1
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
                if (isinstance(target, ast.Attribute) and isinstance(value, ast.Name)
                        and target.attr == value.id and value.id in options):
                    counts[value.id] += 1
            elif isinstance(node, ast.keyword) and node.arg in options:
                if isinstance(node.value, ast.Name) and node.value.id == node.arg:
                    counts[node.arg] += 1
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if node.value in options:
                    counts[node.value] += 1
                for line in node.value.splitlines():
                    for name in re.findall(r"^\s*([\w, ]+?)\s:\s", line):
                        for part in name.split(","):
                            if part.strip() in options:
                                counts[part.strip()] += 1
        for name in options:
            flag = CLI_SPELLINGS.get(name, "--" + name.replace("_", "-"))
            counts[name] += len(re.findall(rf"[\"']{re.escape(flag)}[\"']", text))
    return counts


def _defaults(package: Path, name: str) -> int:
    """Places a default for ``name`` is written: parameters with a default, docs' ``default=``."""
    found = 0
    for path in package.rglob("*.py"):
        if "core" in path.relative_to(package).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args
                positional = args.args[len(args.args) - len(args.defaults):]
                pairs = [*zip(positional, args.defaults, strict=True),
                         *zip(args.kwonlyargs, args.kw_defaults, strict=True)]
                found += sum(1 for a, d in pairs if a.arg == name and d is not None)
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found += node.target.id == name and node.value is not None  # a spec field
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                found += len(re.findall(rf"^\s*[\w, ]*\b{name}\b[\w, ]*:.*default=",
                                        node.value, flags=re.MULTILINE))
    return found


def _longest(package: Path, top: int = 5, *, body_only: bool = False) -> list[tuple[int, str]]:
    """The longest functions: whole (``def`` to the end), or their body after the docstring."""
    lengths = []
    for path in sorted((package / "training").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                body = node.body
                if body_only and ast.get_docstring(node) is not None:
                    body = body[1:]
                start = body[0].lineno if body_only and body else node.lineno
                lengths.append((node.end_lineno - start + 1, f"{path.name}:{node.name}"))
    return sorted(lengths, reverse=True)[:top]


def _private_imports(package: Path) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        own = path.relative_to(package).parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.ImportFrom) or not node.module:
                continue
            parts = node.module.split(".")
            names = [a.name for a in node.names]
            if parts[0] != "portable_nn" or len(parts) < 2 or parts[1] in (own, "_version"):
                continue
            private = [p for p in parts[2:] if p.startswith("_")]
            private_names = [n for n in names if len(parts) == 2 and n.startswith("_")]
            if private or private_names:
                found.append(f"{path.relative_to(package.parent)}: from {node.module} import "
                             f"{', '.join(names)}")
    return found


def main(argv: list[str]) -> int:
    """Print the counts for the checkout at ``argv[0]`` (default: this one)."""
    root = Path(argv[0]) if argv else Path(__file__).resolve().parent.parent
    package = root / "portable_nn"
    options = _train_options(package)
    places = _places(package, options)
    print(f"train's keyword options: {len(options)}")
    print(f"option places outside core/: {sum(places.values())} in all, "
          f"{sum(places.values()) / len(options):.1f} per option; most: "
          + ", ".join(f"{n} {c}" for n, c in places.most_common(5)))
    print(f"defaults written: beta1 {_defaults(package, 'beta1')}, "
          f"learning_rate {_defaults(package, 'learning_rate')}, "
          f"num_iterations {_defaults(package, 'num_iterations')}")
    print("longest functions in training/, whole: "
          + ", ".join(f"{name} {n}" for n, name in _longest(package)))
    print("longest functions in training/, code after the docstring: "
          + ", ".join(f"{name} {n}" for n, name in _longest(package, body_only=True)))
    imports = _private_imports(package)
    print(f"private modules imported from another package: {len(imports)}")
    for line in imports:
        print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
