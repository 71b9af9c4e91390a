"""The health report: one entry per rule, its state and why, and the count of each state."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class State(StrEnum):
    """A rule's state; when several apply to one rule the first of MISSING, DRIFTED, INVALID is
    reported (a rule that is not there cannot be validated; a drifted rule is validated as ECR
    holds it, and its validation failure, if any, is kept in the detail)."""

    HEALTHY = "HEALTHY"
    MISSING = "MISSING"
    DRIFTED = "DRIFTED"
    INVALID = "INVALID"
    UNMANAGED = "UNMANAGED"


@dataclass(frozen=True)
class Drift:
    """One field whose value in ECR (held) differs from what the stack asks."""

    field: str  # the CloudFormation property name
    held: str | None
    asked: str | None


@dataclass(frozen=True)
class RuleReport:
    """One rule: the stack and logical id holding it (None for UNMANAGED), its prefix, state,
    the differing fields, the properties not checked (unresolved) and the detail text."""

    stack: str | None
    logical_id: str | None
    prefix: str
    state: State
    drifted: tuple[Drift, ...] = ()
    not_checked: tuple[str, ...] = ()
    detail: str = ""

    def as_dict(self) -> dict[str, Any]:
        entry = asdict(self)
        entry["state"] = str(self.state)
        entry["drifted"] = [asdict(d) for d in self.drifted]
        entry["not_checked"] = list(self.not_checked)
        return entry


@dataclass(frozen=True)
class Report:
    """Every rule's entry, managed ones first (by stack and logical id), then the unmanaged."""

    rules: tuple[RuleReport, ...] = field(default_factory=tuple)

    @property
    def counts(self) -> dict[str, int]:
        """How many rules are in each state (every state listed, 0 included)."""
        return {str(state): sum(1 for r in self.rules if r.state == state) for state in State}

    @property
    def healthy(self) -> bool:
        """True when every rule is HEALTHY (an UNMANAGED one counts as not)."""
        return all(r.state == State.HEALTHY for r in self.rules)

    def summary(self) -> str:
        """e.g. '5 rules: 1 HEALTHY, 1 MISSING, 1 DRIFTED, 1 INVALID, 1 UNMANAGED'."""
        listed = ", ".join(f"{n} {state}" for state, n in self.counts.items() if n)
        return f"{len(self.rules)} rule{'s' if len(self.rules) != 1 else ''}" + (
            f": {listed}" if listed else ""
        )

    def as_dict(self) -> dict[str, Any]:
        return {"rules": [r.as_dict() for r in self.rules], "counts": self.counts, "summary": self.summary()}

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2)
