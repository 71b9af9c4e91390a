"""The layout holds: each package's modules import one another without a cycle.

devkit/ arranges the stand-ins by what they stand in for (CloudFormation, Lambda, the
benchmark, the demo); src/handler/ keeps the provider's modules one job each. A cycle
between two modules is the first sign of a module with two jobs, so the import graph of
each package, read from the source (static imports, lazy ones inside functions included),
must be acyclic.

CONTRIBUTING.md's layout keeps up with the tree: it names every module of the packages that
ship in the Lambda (src/handler, src/health) and every ./dev command.

Every path of the repository a file names (a test cited in src/Makefile, a module in the docs)
exists; CHANGELOG.md, which is history, excepted.

And the tree speaks for itself: no comment, docstring or document cites the issue tracker
("issue N, item M"), which a reader of the code cannot see; it says the behaviour instead.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = {
    "devkit": ROOT,
    "handler": ROOT / "src",
    "ecr_ptc_contract": ROOT / "src",
    "health": ROOT / "src",
    "ecr_ptc_emulator": ROOT,
}


def _modules(package: str, base: Path) -> dict[str, Path]:
    found = {}
    for path in sorted((base / package).rglob("*.py")):
        parts = path.relative_to(base).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def import_graph(package: str, base: Path) -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a package's __init__ counted as itself)."""
    modules = _modules(package, base)
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                origin = node.module or ""
                if node.level:
                    parts = here.split(".")[: len(here.split(".")) - node.level + 1]
                    origin = ".".join([*parts, origin] if origin else parts)
                targets = [
                    f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                    for alias in node.names
                ]
            for imported in targets:
                target = imported
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                # importing a submodule runs its packages' __init__: not an edge worth a cycle
                if target and target != name and not name.startswith(target + "."):
                    graph[name].add(target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_modules_import_one_another_without_a_cycle(package: str) -> None:
    graph = import_graph(package, PACKAGES[package])
    assert len(graph) > 3, f"{package}: too few modules found, the test reads the wrong place"
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle_between_two_modules(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .sub import b\n")
    (pkg / "sub" / "b.py").write_text("def f():\n    from .. import a\n")
    (pkg / "c.py").write_text("import pkg.a\n")
    graph = import_graph("pkg", tmp_path)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.c"] == {"pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.sub.b", "pkg.a"]]


TRACKER_CITATION = re.compile(r"\b(issue|item|task)s? #?\d+\b", re.IGNORECASE)


def tracker_citations(text: str) -> list[str]:
    """The lines of `text` that cite the issue tracker."""
    return [line.strip() for line in text.splitlines() if TRACKER_CITATION.search(line)]


def tracked_texts() -> dict[str, str]:
    """Every file git tracks that is text, by its path."""
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True, timeout=60
    ).stdout.split("\0")
    texts = {}
    for name in filter(None, tracked):
        try:
            texts[name] = (ROOT / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError, IsADirectoryError):
            continue
    return texts


def test_no_file_cites_the_issue_tracker() -> None:
    found = []
    for name, text in tracked_texts().items():
        if ROOT / name == Path(__file__).resolve():  # its examples below are citations
            continue
        found += [f"{name}: {line}" for line in tracker_citations(text)]
    assert not found, "say the behaviour instead of citing the tracker:\n" + "\n".join(found)


REPOSITORY_PATH = re.compile(
    r"\b(?:tests|devkit|src|docs|tools|examples|events|ecr_ptc_emulator)/[\w./-]+\.(?:py|md|yaml|json|toml|txt)\b"
)


def test_every_path_a_file_names_exists() -> None:
    missing = sorted(
        f"{name}: {path}"
        for name, text in tracked_texts().items()
        if name != "CHANGELOG.md"
        for path in set(REPOSITORY_PATH.findall(text))
        if not (ROOT / path).exists()
    )
    assert not missing, "these files name paths that do not exist:\n" + "\n".join(missing)


def test_the_citation_finder_finds_the_forms_a_citation_takes() -> None:
    assert tracker_citations("x = 1  # (issue 20, item 5)\nkept\nsee Issue #3\nTask 7 and items 2") == [
        "x = 1  # (issue 20, item 5)",
        "see Issue #3",
        "Task 7 and items 2",
    ]
    assert tracker_citations("an issue with 5 rules; the item's 2 fields; tissue 4") == []


CONTRIBUTING = ROOT / "CONTRIBUTING.md"
SHIPPED = ("handler", "health")  # the Lambda packages whose modules CONTRIBUTING.md lists one by one


def module_table(text: str, package: str) -> str:
    """The table that follows the line of CONTRIBUTING.md introducing src/<package>/ ("...: ")."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.endswith(f"`src/{package}/`:"))
    table = []
    for line in lines[start + 1 :]:
        if table and not line.startswith("|"):
            break
        if line.startswith("|"):
            table.append(line)
    return "\n".join(table)


@pytest.mark.parametrize("package", SHIPPED)
def test_contributing_names_every_module_that_ships(package: str) -> None:
    table = module_table(CONTRIBUTING.read_text(encoding="utf-8"), package)
    modules = sorted(p.name for p in (ROOT / "src" / package).glob("*.py") if p.name != "__init__.py")
    missing = [name for name in modules if f"| `{name}` |" not in table]
    assert not missing, f"CONTRIBUTING.md's table of src/{package}/ does not say what {missing} hold"


def test_contributing_names_every_dev_command() -> None:
    usage = subprocess.run(
        ["bash", str(ROOT / "dev"), "--help"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    commands = sorted(set(re.findall(r"^\./dev ([a-z]+)", usage, re.MULTILINE)))
    text = CONTRIBUTING.read_text(encoding="utf-8")
    missing = [command for command in commands if f"`./dev {command}" not in text]
    assert len(commands) > 5 and not missing, f"CONTRIBUTING.md does not say what ./dev {missing} do"
