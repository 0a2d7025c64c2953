"""Import-graph figures for issue 20: ``python ci/import_graph.py [ROOT]``.

Reads (never imports) every module of ``portable_nn`` under ``ROOT`` (default: this checkout)
and prints:

- **circles**: strongly connected groups of modules that import each other, counting imports
  at module level and inside functions alike (a deferred import is still a dependency);
- **depth of training/**: the longest chain of imports among ``portable_nn.training``'s own
  modules (a module importing nothing of training/ is floor 1);
- **backend public names**: ``portable_nn.backend.__all__``;
- **library-name string tests**: comparisons of a string literal naming an array library
  (``"numpy"``, ``"cupy"``, ``"torch"``, ``"jax"``, ``"dask"`` ...) outside ``backend/``'s
  registry, by module.

The same script runs on any checkout, so before and after come from one command.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

LIBRARIES = {"numpy", "cupy", "torch", "jax", "dask", "array_api_strict", "dask.array",
             "jax.numpy", "cuda", "array-api-strict"}


def modules(package: Path) -> dict[str, Path]:
    """The module names of ``package``, each with its file."""
    found = {}
    for path in package.rglob("*.py"):
        parts = path.relative_to(package.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def imports(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """The modules of ``known`` that module ``name`` imports, anywhere in its file."""
    tree = ast.parse(path.read_text())
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(tree):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".")
                anchor = anchor if is_package else anchor[:-1]
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        for target in targets:
            if target in known and target != name:
                found.add(target)
    return found


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                group.append(top)
                if top == node:
                    break
            if len(group) > 1:
                result.append(sorted(group))

    sys.setrecursionlimit(10000)
    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def depth(graph: dict[str, set[str]], prefix: str) -> tuple[int, list[str]]:
    """The longest import chain among the modules under ``prefix``, and its modules."""
    inside = {n: {m for m in deps if m.startswith(prefix) and m != prefix.rstrip(".")}
              for n, deps in graph.items() if n.startswith(prefix)}
    memo: dict[str, list[str]] = {}

    def chain(node: str, seen: frozenset[str]) -> list[str]:
        if node in memo:
            return memo[node]
        best: list[str] = []
        for nxt in inside.get(node, ()):
            if nxt in seen:
                continue
            candidate = chain(nxt, seen | {nxt})
            if len(candidate) > len(best):
                best = candidate
        memo[node] = [node, *best]
        return memo[node]

    longest: list[str] = []
    for node in inside:
        candidate = chain(node, frozenset({node}))
        if len(candidate) > len(longest):
            longest = candidate
    return len(longest), longest


def string_tests(package: Path) -> dict[str, int]:
    """Per module, the comparisons with a string literal naming an array library."""
    counts: dict[str, int] = {}
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Compare):
                pieces = [node.left, *node.comparators]
                for piece in pieces:
                    values = []
                    if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
                        values = [piece.value]
                    elif isinstance(piece, (ast.Tuple, ast.Set, ast.List)):
                        values = [e.value for e in piece.elts
                                  if isinstance(e, ast.Constant) and isinstance(e.value, str)]
                    if any(v in LIBRARIES for v in values):
                        key = str(path.relative_to(package.parent))
                        counts[key] = counts.get(key, 0) + 1
                        break
    return counts


def backend_names(package: Path) -> list[str]:
    """``portable_nn.backend.__all__``, read from its ``__init__``."""
    tree = ast.parse((package / "backend" / "__init__.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return [e.value for e in node.value.elts]  # type: ignore[attr-defined]
    return []


def main() -> None:
    """Print the figures for the checkout given (default: this one)."""
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    package = root / "portable_nn"
    known = modules(package)
    graph = {name: imports(name, path, known) for name, path in known.items()}
    # A package's __init__ importing its own children is how packages are made: not a circle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    groups = circles(graph)
    print(f"import circles: {len(groups)}")
    for group in groups:
        print("   ", " <-> ".join(group))
    floors, chain = depth(graph, "portable_nn.training.")
    print(f"training/ depth: {floors} floors ({' -> '.join(c.rsplit('.', 1)[-1] for c in chain)})")
    training_files = [n for n in known if n.startswith("portable_nn.training.")]
    print(f"training/ files: {len(training_files)}")
    names = backend_names(package)
    print(f"backend public names: {len(names)}")
    tests = string_tests(package)
    print(f"library names tested as strings: {sum(tests.values())} in {len(tests)} modules")
    for key, count in sorted(tests.items()):
        print(f"    {key}: {count}")


if __name__ == "__main__":
    main()
