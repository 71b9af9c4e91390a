"""Every test's layer: what it needs to run, and so which command runs it.

    ./dev test --fast      unit and handler (only .venv), without coverage
    ./dev test -m LAYER    one layer alone (e.g. -m stacks); or an expression of layers
    ./dev test             every layer, with coverage (what CI runs)

A test's layer is its file's place in PLACES, by the file's path under tests/ (a directory
places every file under it, unless a longer entry places the file). A test that alone in its
file runs a real tool may say so itself with @pytest.mark.tools; no other layer may be marked
by hand, so a layer run can skip the files of the other layers without importing them.
A test file that PLACES does not place fails the collection, and so does a test with a layer
marker its place does not allow. The layers are registered, each with what it needs, as
markers in pyproject.toml (tests/test_layers.py checks they are these).

tests/conftest.py loads this module as a plugin (pytest_plugins). It places only the tests
under this directory: a pytest run elsewhere with a copy of that conftest (the network guard's
probes, tests/test_network_guard.py) is left as it is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from _pytest.mark.expression import Expression  # what -m itself evaluates

TESTS = Path(__file__).resolve().parent
LAYERS = ("unit", "handler", "runtime", "stacks", "tools", "simulator", "integration")
MARKED_BY_HAND = "tools"  # the one layer a test may carry in a file placed in another

# path under tests/ -> layer. Decided by what the tests run, not by what they are about.
PLACES = {
    # pure: functions, and the repository's files read as data; nothing but .venv
    "test_cfn_resource.py": "unit",
    "test_contract.py": "unit",  # but for the test that runs node (marked tools)
    "test_dev.py": "unit",
    "test_health_classification.py": "unit",
    "test_health_cli.py": "unit",
    "test_health_discovery.py": "unit",  # CloudFormation's and ECR's answers from botocore's Stubber
    "test_health_resolution.py": "unit",
    "test_distribution.py": "unit",  # but for cfn-lint and the SAM translator (marked tools)
    "test_docs_commands.py": "unit",
    "test_docs_snippets.py": "unit",  # but for cfn-lint on the snippets (marked tools)
    "test_health_app.py": "unit",  # health.app's wiring, its check stood in for: logs and EMF
    "test_health_template.py": "unit",
    "test_iam_policies.py": "unit",  # but for cfn-lint and the translated template (marked tools)
    "test_layers.py": "unit",
    "test_layout.py": "unit",
    "test_lint_rule.py": "unit",  # but for the wheel build and cfn-lint (marked tools)
    "test_lint_hook.py": "tools",
    "test_network_guard.py": "unit",
    "test_no_copies.py": "unit",  # pytest runs of tests/conftest.py's guard, in .venv
    "test_properties.py": "unit",
    "test_report.py": "unit",
    "test_pull_side.py": "unit",
    "test_publish.py": "tools",  # builds the tools' wheels and runs twine check on them
    "test_rules.py": "unit",
    "test_template.py": "unit",  # but for sam, cfn-lint and checkov (marked tools)
    # the real handler (or the emulator, or the importer) in process against the ECR emulator
    "emulator/": "handler",
    "test_answering.py": "handler",
    "test_credentials_in_logs.py": "handler",  # a fresh .venv interpreter with awslambdaric's logging
    "test_deadlines.py": "handler",
    "test_envelope.py": "handler",
    "test_events.py": "handler",
    "test_faults.py": "handler",
    "test_found_by_simulator.py": "handler",
    "test_health_throttling.py": "handler",  # check() on the emulator and read_api, both throttling
    "test_frozen_and_killed.py": "handler",
    "test_import.py": "handler",  # but for cfn-lint and the CDK on what it writes (marked tools)
    "test_lifecycle.py": "handler",
    "test_logs.py": "handler",
    "test_ownership.py": "handler",
    "test_partitions.py": "handler",
    "test_races.py": "handler",
    "test_unknown_outcomes.py": "handler",
    "test_unknown_upstreams.py": "handler",
    "test_version.py": "handler",
    # the built package under AWS's runtime interface client (.venv-ric)
    "runtime/": "runtime",
    # MiniStack's CloudFormation and Lambda, the provider deployed by sam (.venv-ministack)
    "ministack/": "stacks",
    "test_local.py": "stacks",  # ./dev local: its own MiniStack, started once for the file
    "test_health_on_ministack.py": "stacks",  # ./dev health, the deployed HealthFunction
    # the AWS CDK (.venv-cdk, node)
    "cdk/": "tools",
    # the lifecycle simulator's scenarios
    "simulator/": "simulator",
    # a real AWS account
    "integration/": "integration",
}


class Misplaced(Exception):
    """A test without exactly one layer."""


def place(relative: str) -> str | None:
    """The layer PLACES gives a path under tests/ (posix, relative; a directory ends in /)."""
    for entry in sorted(PLACES, key=len, reverse=True):
        if relative == entry or (entry.endswith("/") and relative.startswith(entry)):
            return PLACES[entry]
    return None


def layer_of(relative: str, marked: set[str]) -> str:
    """The one layer of a test in the file at `relative` that carries the layer markers `marked`."""
    placed = place(relative)
    if placed is None:
        raise Misplaced(f"{relative} has no layer: give it its place in PLACES (tests/layers.py)")
    if not marked <= {placed, MARKED_BY_HAND}:
        other = ", ".join(sorted(marked - {placed}))
        raise Misplaced(
            f"{relative} is placed in {placed} (tests/layers.py); a test in it is marked {other}: "
            f"only {MARKED_BY_HAND} may be marked by hand"
        )
    return MARKED_BY_HAND if MARKED_BY_HAND in marked else placed


def selected_layers(markexpr: str) -> set[str] | None:
    """The layers a -m expression selects, if it names nothing but layers (else None: then no
    file can be left out on its layer alone)."""
    names = set(re.findall(r"[^\s()]+", markexpr)) - {"and", "or", "not"}
    if not markexpr.strip() or not names <= set(LAYERS):
        return None
    expression = Expression.compile(markexpr)
    return {layer for layer in LAYERS if expression.evaluate(_only(layer))}


def _only(layer: str) -> Callable[..., bool]:
    """The -m matcher of a test whose one marker is `layer`."""
    return lambda name, /, **kwargs: name == layer and not kwargs


def _relative(path: Path) -> str | None:
    path = path.resolve()
    if path == TESTS or not path.is_relative_to(TESTS):
        return None
    relative = path.relative_to(TESTS).as_posix()
    return f"{relative}/" if path.is_dir() else relative


def left_out(relative: str, markexpr: str) -> bool:
    """Whether -m `markexpr` selects none of the tests a file or directory can hold (an unplaced
    one is collected, and fails)."""
    wanted, placed = selected_layers(markexpr), place(relative)
    if wanted is None or placed is None:
        return False
    return placed not in wanted and MARKED_BY_HAND not in wanted


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """With -m naming only layers, a file or directory whose tests can be of no selected layer
    is not even imported (a layer's run needs only that layer's virtualenvs)."""
    relative = _relative(collection_path)
    if relative is not None and left_out(relative, str(config.getoption("markexpr", "") or "")):
        return True
    return None


@pytest.hookimpl(tryfirst=True)  # before -m deselects, and before tests/conftest.py reads markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    problems: set[str] = set()
    for item in items:
        relative = _relative(item.path)
        if relative is None:
            continue
        marked = {mark.name for mark in item.iter_markers() if mark.name in LAYERS}
        try:
            layer = layer_of(relative, marked)
        except Misplaced as problem:
            problems.add(str(problem))
            continue
        if layer not in marked:
            item.add_marker(layer)
    if problems:
        raise pytest.UsageError("tests without exactly one layer:\n" + "\n".join(sorted(problems)))
