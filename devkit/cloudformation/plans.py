"""The simulator's lifecycle paths as data: a `Path` is the stack before, the stack operation under
test and its `plan` -- the requests CloudFormation sends and the ECR calls each makes when
nothing goes wrong. The plan fixes the fault positions: "the Nth ECR call", "the Nth request"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from devkit.cloudformation.simulator import Template


@dataclass(frozen=True)
class Step:
    """One request of a plan: its phase, "<RequestType> <LogicalResourceId>", its ECR calls."""

    phase: str
    request: str
    calls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Path:
    """One lifecycle path: the stack before, the operation under test, and its plan."""

    name: str
    operation: str  # "create" | "update" | "delete"
    plan: tuple[Step, ...]
    outcome: str  # the stack status the operation ends in without faults
    template: Template = field(default_factory=dict)  # of the operation (create, update)
    before: Template | None = None  # the stack, created first without faults
    foreign: tuple[str, ...] = ()  # "prefix=url": rules already there, not the stack's
    grows: bool = False  # the forward phase adds a rule while every old one still exists
    not_for: tuple[tuple[str, str], ...] = ()  # (fault kind, why it does not apply)

    def calls(self, phases: tuple[str, ...]) -> Iterator[tuple[int, int, int, str]]:
        """(n, request index, j, operation): the nth ECR call of the operation is the jth of
        request `index` (all 1-based but the index), for the steps in `phases`."""
        n = 0
        for index, step in enumerate(self.plan):
            for j, operation in enumerate(step.calls, 1):
                n += 1
                if step.phase in phases:
                    yield n, index, j, operation

    def requests(self, phases: tuple[str, ...]) -> list[int]:
        return [index for index, step in enumerate(self.plan) if step.phase in phases]

    @property
    def total_calls(self) -> int:
        return sum(len(step.calls) for step in self.plan)

    def final_template(self, status: str) -> Template:
        if status in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"):
            return {}
        if status == "UPDATE_ROLLBACK_COMPLETE":
            return self.before or {}
        return self.template if self.operation != "delete" else (self.before or {})
