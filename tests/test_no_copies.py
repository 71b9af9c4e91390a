"""One contract, no copies: the provider (src/handler), its contract (src/ecr_ptc_contract), the
lint rule (tools/cfn-lint-ptc) and the CDK construct (tools/cdk-ptc) share code only by
importing the contract. No module is copied into another place, whole or in part; nothing
under tools/ imports the Lambda's handler, and the contract imports only the standard library
(so any tool can install it alone). Pure: reads the sources."""

from __future__ import annotations

import ast
import difflib
import itertools
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLACES = {
    "src/handler": ROOT / "src" / "handler",
    "src/ecr_ptc_contract": ROOT / "src" / "ecr_ptc_contract",
    "tools/cfn-lint-ptc": ROOT / "tools" / "cfn-lint-ptc",
    "tools/cdk-ptc": ROOT / "tools" / "cdk-ptc",
    "tools/contract": ROOT / "tools" / "contract",
}
SIMILAR = 0.8  # two files this alike (difflib's ratio of their lines) are one copied
RUN = 12  # as many consecutive lines alike in two files are a part copied


def sources() -> dict[str, list[str]]:
    """Every Python module of the places: its path -> its lines that say something (stripped,
    no blank lines, no comments)."""
    found = {}
    for base in PLACES.values():
        for path in sorted(base.rglob("*.py")):
            if {"build", "__pycache__"} & set(path.parts) or ".egg-info" in str(path):
                continue
            lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
            found[str(path.relative_to(ROOT))] = [line for line in lines if line and not line.startswith("#")]
    return found


def imports(path: Path) -> set[str]:
    """The top-level names of the modules `path` imports absolutely (relative imports aside)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def shared_run(a: list[str], b: list[str]) -> int:
    """The longest run of consecutive lines `a` and `b` have in common."""
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return max((block.size for block in matcher.get_matching_blocks()), default=0)


def test_the_places_hold_the_modules_the_test_reads() -> None:
    found = sources()
    for place in ("src/handler", "src/ecr_ptc_contract", "tools/cfn-lint-ptc", "tools/cdk-ptc"):
        assert len([p for p in found if p.startswith(place + "/")]) >= 3, place
    assert not [p for p in found if p.startswith("tools/contract/")], "tools/contract only builds"


def test_no_two_modules_are_alike_whole_or_in_part() -> None:
    found = sources()
    copies = []
    for (path_a, a), (path_b, b) in itertools.combinations(found.items(), 2):
        if len(a) < 5 or len(b) < 5:  # an empty __init__, a one-line module
            continue
        ratio = difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
        run = shared_run(a, b)
        if ratio >= SIMILAR or run >= RUN:
            copies.append(f"{path_a} and {path_b}: {ratio:.0%} alike, {run} lines in a row")
    assert copies == []


def test_the_finder_finds_a_module_copied_whole_or_in_part() -> None:
    contract = sources()["src/ecr_ptc_contract/checks.py"]
    assert difflib.SequenceMatcher(None, contract, list(contract), autojunk=False).ratio() == 1.0
    part = ["def f():", *contract[40 : 40 + RUN], "return 1"]
    assert shared_run(part, contract) >= RUN


@pytest.mark.parametrize("place", ["tools/cfn-lint-ptc", "tools/cdk-ptc", "tools/contract"])
def test_nothing_under_tools_imports_or_holds_the_handler_or_a_copy_of_the_contract(place: str) -> None:
    base = PLACES[place]
    for path in base.rglob("*.py"):
        assert "handler" not in imports(path), f"{path.relative_to(ROOT)} imports the Lambda's handler"
    packages = {p.name for p in base.rglob("*") if p.is_dir()}
    assert not packages & {"handler", "ecr_ptc_contract", "provider"}, packages
    assert not list(base.rglob("*.json")), "a JSON file (a schema?) under tools/: the contract computes it"


def test_the_construct_needs_no_lint_rule() -> None:
    for path in PLACES["tools/cdk-ptc"].rglob("*.py"):
        assert not imports(path) & {"cfn_lint_ptc", "cfnlint"}, path.relative_to(ROOT)


def test_the_contract_imports_only_the_standard_library() -> None:
    for path in PLACES["src/ecr_ptc_contract"].rglob("*.py"):
        outside = imports(path) - set(sys.stdlib_module_names) - {"__future__"}
        assert outside == set(), f"{path.relative_to(ROOT)} imports {outside}"
