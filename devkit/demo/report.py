"""What one stack operation did, printed as `./dev demo` and `./dev local` print it: the stack's
status and time, its events with the provider's Reason, the requests the provider received and
its answers, the ECR calls they made, the outputs with the expression each comes from, and the
rules the registry holds after it.

    status:    UPDATE_ROLLBACK_COMPLETE (0.1 s)
    events:    PullThroughCacheRule UPDATE_FAILED
                 Reason: EcrRepositoryPrefix 'team-quay': ...
    provider:  Update PullThroughCacheRule k8s -> FAILED k8s
    ECR calls: DescribePullThroughCacheRules
    outputs:   RepositoryUri = !GetAtt PullThroughCacheRule.RepositoryUriPrefix -> 123456789012.dkr...
    rules:     k8s -> registry.k8s.io
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Collection
from typing import Any

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import Operation
from devkit.health.table import table
from health.report import Drift, Report, RuleReport, State

WIDTH = 100


def show(op: Operation, template: dict[str, Any] | None, hand_made: Collection[str] = ()) -> None:
    """The operation, as the module's docstring shows; `template` (long form) names each
    output's expression; the prefixes in `hand_made` are marked as rules no stack owns."""
    print(f"    status:    {op.status} ({op.seconds:.1f} s)")
    resource_events = [e for e in op.events if e.resource_type != "AWS::CloudFormation::Stack"]
    if op.status_reason and not any(e.reason for e in resource_events):
        print(wrap(f"Reason: {op.status_reason}", indent=15))  # the only explanation there is
    for n, event in enumerate(resource_events):
        label = "events:" if n == 0 else ""
        print(f"    {label:<10} {event.logical_id} {event.status}")
        if event.reason:
            print(wrap(f"Reason: {event.reason}", indent=15))
    for n, request in enumerate(op.requests):
        label = "provider:" if n == 0 else ""
        print(f"    {label:<10} {request.summary()}")
    if op.requests or op.action != "deploy":
        print(f"    ECR calls: {', '.join(op.ecr_operations()) or '(none)'}")
    if op.outputs and op.status != "DELETE_COMPLETE":
        for n, (name, value) in enumerate(op.outputs.items()):
            label = "outputs:" if n == 0 else ""
            expression = templates.output_expression(template, name) if template else ""
            source = f" = {expression} ->" if expression else " ="
            print(f"    {label:<10} {name}{source} {value}")
    rules(op.rules, hand_made)


def rules(held: dict[str, dict[str, Any]], hand_made: Collection[str] = ()) -> None:
    """The rules a registry holds, by prefix: upstream, and the secret's name if any."""
    if not held:
        print("    rules:     (none)")
    for n, (prefix, rule) in enumerate(sorted(held.items())):
        label = "rules:" if n == 0 else ""
        credential = rule.get("credentialArn", "")
        secret = f", secret {credential.rsplit(':', 1)[-1]}" if credential else ""
        owner = "  <- made by hand, owned by no stack" if prefix in hand_made else ""
        print(f"    {label:<10} {prefix} -> {rule['upstreamRegistryUrl']}{secret}{owner}")


def health(lines: list[str]) -> None:
    """One run of the health function, from the log lines it wrote: its `rule` lines as the table
    `./dev health` prints (each detail cut to its first clause, a drift to its fields), the
    summary, then the counts of its embedded-metric-format record."""
    logged = [json.loads(line) for line in lines if line.startswith("{")]
    rules = tuple(_rule(line) for line in logged if line.get("message") == "rule")
    for n, line in enumerate(table(Report(rules)).splitlines()):
        label = "health:" if n == 0 else ""
        print(f"    {label:<10} {line}")
    for record in (line for line in logged if "_aws" in line):
        for directive in record["_aws"]["CloudWatchMetrics"]:
            names = [metric["Name"] for metric in directive["Metrics"]]
            counts = ", ".join(f"{name} {sum(record[name]):.0f}" for name in names)
            print(f"    metrics:   {counts} (EMF, namespace {directive['Namespace']})")


def _rule(line: dict[str, Any]) -> RuleReport:
    drifted = tuple(Drift(d["field"], d["held"], d["asked"]) for d in line["drifted"])
    short = [f"{d.field}: ECR holds {_last(d.held)}, the stack asks {_last(d.asked)}" for d in drifted]
    detail = "; ".join(short) if short else str(line["detail"]).split(": ", 1)[0]
    return RuleReport(
        line.get("stack"), line.get("logical_id"), line["prefix"], State(line["state"]), drifted, (), detail
    )


def _last(value: str | None) -> str:
    """An ARN's last part (a secret's name and suffix), or '(none)'."""
    return value.rsplit(":", 1)[-1] if value else "(none)"


def wrap(text: str, indent: int) -> str:
    first, rest = " " * indent, " " * (indent + 2)
    return textwrap.fill(text, WIDTH, initial_indent=first, subsequent_indent=rest, break_on_hyphens=False)
