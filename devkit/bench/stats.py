"""What the benchmark's measuring and reporting halves share: the request kinds, the fewest ECR
calls each needs, and the median."""

from __future__ import annotations

import statistics

KINDS = ("create", "update", "replace", "same", "delete", "noop")
# The fewest ECR calls each success path can make. Every Update reads the rule first
# (OldResourceProperties are what the template asked last time, not what ECR holds), so an
# in-place update is a read and an update, a same-prefix replacement a read, a delete and a
# create, and an update that changes nothing ECR holds the read alone.
MIN_CALLS = {"create": 1, "update": 2, "replace": 1, "same": 3, "delete": 1, "noop": 1}
# the scale test's phases, as request kinds
PHASE_KINDS = {"create": "create", "rotate": "update", "delete": "delete"}


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
