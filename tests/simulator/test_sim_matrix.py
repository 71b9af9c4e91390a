"""Every lifecycle path, first without faults (its plan is the contract's call pattern), then
with every fault at every position it can take. Each scenario checks every answer against the
protocol, the registry against the stack's record after every stack operation, the outcome the
fault calls for, and that deleting the stack leaves only what was never the stack's."""

from __future__ import annotations

import pytest

from devkit.cloudformation.chaos import run
from devkit.cloudformation.lab import Lab
from devkit.cloudformation.plans import Path
from tests.simulator.cases import CASES, Case
from tests.simulator.conftest import Tally
from tests.simulator.paths import PATHS


def report(lab: Lab, tally: Tally, requests: int, fault_kind: str | None) -> None:
    tally.add(lab.ledger, requests, fault_kind)
    assert lab.ledger.violations == [], "\n\n".join(lab.ledger.violations)


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_path_follows_its_plan(lab: Lab, tally: Tally, path: Path) -> None:
    result = run(lab, path)

    report(lab, tally, len(result.stack.history), None)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_path_with_fault(lab: Lab, tally: Tally, case: Case) -> None:
    result = run(lab, case.path, case.make())

    report(lab, tally, len(result.stack.history), case.kind)
