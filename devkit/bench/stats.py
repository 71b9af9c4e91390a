"""What the benchmark's measuring and reporting halves share: the request kinds and the median."""

from __future__ import annotations

import statistics

KINDS = ("create", "update", "replace", "same", "delete", "noop")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")
