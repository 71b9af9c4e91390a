"""The managed rules of the account and Region, read from CloudFormation: every stack that is not
deleted (ListStacks lists nested stacks too), its resources, and for a stack holding a
Custom::PullThroughCacheRule its template (Processed: after its transforms), parameters and
resources' physical ids, with the account's exports (read once). Read-only calls only.

A stack deleted between ListStacks and a read of it answers ValidationError ("does not exist"):
it is skipped, as it holds nothing any more.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handler.properties import is_rule_id
from health.errors import cannot_read
from health.record import MANAGED_TYPE, NATIVE_TYPE, ManagedResource, StackRecord
from health.template_text import TemplateText, long_form

GONE = "ValidationError"  # CloudFormation's code for a stack that does not exist
NO_ECHO_SHOWN = "****"


@dataclass
class Found:
    """The managed resources, and the prefixes every stack's resources hold (native rules too)."""

    managed: list[ManagedResource] = field(default_factory=list)
    held_prefixes: set[str] = field(default_factory=set)
    unreadable_templates: dict[str, str] = field(default_factory=dict)  # stack name -> why


def discover(cloudformation: Any) -> Found:
    found = Found()
    exports: dict[str, str] | None = None
    for summary in _pages(cloudformation, "list_stacks", "StackSummaries"):
        if summary.get("StackStatus") == "DELETE_COMPLETE":
            continue
        stack_id, name = str(summary["StackId"]), str(summary["StackName"])
        try:
            resources = list(
                _pages(cloudformation, "list_stack_resources", "StackResourceSummaries", StackName=stack_id)
            )
        except _Gone:
            continue
        managed: list[tuple[str, str]] = []
        physical_ids: dict[str, str] = {}
        for resource in resources:
            physical = resource.get("PhysicalResourceId")
            if resource.get("ResourceStatus") == "DELETE_COMPLETE" or not physical:
                continue
            physical_ids[str(resource["LogicalResourceId"])] = str(physical)
            if resource.get("ResourceType") in (MANAGED_TYPE, NATIVE_TYPE) and is_rule_id(physical):
                found.held_prefixes.add(str(physical))
                if resource.get("ResourceType") == MANAGED_TYPE:
                    managed.append((str(resource["LogicalResourceId"]), str(physical)))
        if not managed:
            continue
        if exports is None:
            exports = {
                str(e["Name"]): str(e["Value"]) for e in _pages(cloudformation, "list_exports", "Exports")
            }
        try:
            record = _record(cloudformation, name, stack_id, physical_ids, exports, found)
        except _Gone:
            continue
        found.managed.extend(ManagedResource(record, logical_id, prefix) for logical_id, prefix in managed)
    return found


class _Gone(Exception):
    """The stack was deleted after ListStacks listed it."""


def _record(
    cloudformation: Any,
    name: str,
    stack_id: str,
    physical_ids: dict[str, str],
    exports: dict[str, str],
    found: Found,
) -> StackRecord:
    body = _call(cloudformation, "get_template", StackName=stack_id, TemplateStage="Processed")[
        "TemplateBody"
    ]
    try:
        template = long_form(body)
    except TemplateText as problem:
        found.unreadable_templates[name] = str(problem)
        template = {}
    stacks = _call(cloudformation, "describe_stacks", StackName=stack_id)["Stacks"]
    declared = template.get("Parameters") or {}
    parameters: dict[str, str | None] = {}
    for parameter in stacks[0].get("Parameters", []) if stacks else []:
        key = str(parameter["ParameterKey"])
        value = parameter.get("ResolvedValue", parameter.get("ParameterValue"))
        no_echo = str((declared.get(key) or {}).get("NoEcho", "false")).lower() == "true"
        parameters[key] = None if no_echo or value == NO_ECHO_SHOWN or value is None else str(value)
    return StackRecord(name, stack_id, template, parameters, physical_ids, exports)


def _pages(client: Any, operation: str, key: str, **arguments: Any) -> Iterator[dict[str, Any]]:
    try:
        for page in client.get_paginator(operation).paginate(**arguments):
            yield from page.get(key, [])
    except (ClientError, BotoCoreError) as error:
        raise _translated(operation, error) from None


def _call(client: Any, operation: str, **arguments: Any) -> dict[str, Any]:
    try:
        answer: dict[str, Any] = getattr(client, operation)(**arguments)
    except (ClientError, BotoCoreError) as error:
        raise _translated(operation, error) from None
    return answer


def _translated(operation: str, error: ClientError | BotoCoreError) -> Exception:
    refused = cannot_read(_action(operation), error)
    if refused.code == GONE and operation not in {"list_stacks", "list_exports"}:
        return _Gone()
    return refused


def _action(operation: str) -> str:
    """'list_stack_resources' -> 'cloudformation:ListStackResources'."""
    return "cloudformation:" + "".join(part.capitalize() for part in operation.split("_"))
