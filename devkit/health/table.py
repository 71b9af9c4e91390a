"""The report as the table `./dev health` prints: STACK, RESOURCE, PREFIX, STATE, DETAIL."""

from __future__ import annotations

from health.report import Report

HEADINGS = ("STACK", "RESOURCE", "PREFIX", "STATE", "DETAIL")


def table(report: Report) -> str:
    """One line per rule under the headings, columns padded to their widest cell (the detail,
    last, is not cut), then the summary line."""
    rows = [HEADINGS] + [
        (r.stack or "-", r.logical_id or "-", r.prefix, str(r.state), r.detail or "-") for r in report.rules
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADINGS) - 1)]
    lines = [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]) for row in rows
    ]
    return "\n".join([*lines, report.summary()])
