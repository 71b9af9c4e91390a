"""Fixtures for the lifecycle simulator, and the summary line it adds to the test report."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from devkit.cloudformation.lab import Lab
from devkit.cloudformation.receiver import Receiver
from devkit.cloudformation.simulator import Ledger


@dataclass
class Tally:
    """What the simulator ran in this session."""

    scenarios: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    requests: int = 0
    checks: int = 0
    violations: int = 0
    scale: list[str] = field(default_factory=list)

    def add(self, ledger: Ledger, requests: int, fault_kind: str | None) -> None:
        self.scenarios += 1
        if fault_kind:
            self.faults[fault_kind] += 1
        self.requests += requests
        self.checks += ledger.checks
        self.violations += len(ledger.violations)


TALLY = Tally()


@pytest.fixture
def tally() -> Tally:
    return TALLY


@pytest.fixture
def lab(emulator: None, receiver: Receiver) -> Iterator[Lab]:
    with Lab(receiver, Ledger()) as lab:
        yield lab


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not TALLY.scenarios:
        return
    faults = sum(TALLY.faults.values())
    terminalreporter.write_sep("-", "lifecycle simulator")
    terminalreporter.write_line(
        f"lifecycle simulator: {TALLY.scenarios} scenarios ({faults} with a fault injected, "
        f"{len(TALLY.faults)} kinds of fault), {TALLY.requests} CloudFormation requests, "
        f"{TALLY.checks} invariant checks, {TALLY.violations} violations"
    )
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(TALLY.faults.items()))
    terminalreporter.write_line(f"lifecycle simulator: scenarios per kind of fault: {kinds}")
    from tests.simulator.cases import EXCLUDED

    terminalreporter.write_line(
        f"lifecycle simulator: {len(EXCLUDED)} scenarios excluded, each with its reason in "
        "tests/simulator/paths.py (not_for)"
    )
    for line in TALLY.scale:
        terminalreporter.write_line(f"lifecycle simulator at scale: {line}")
