"""The health check: every managed rule's state and every unmanaged rule, from two clients."""

from __future__ import annotations

from typing import Any

from handler.properties import canonical_prefix
from health import registry
from health.classification import RULE_FIELDS, classify, held_by_prefix, unmanaged
from health.discovery import discover
from health.record import ManagedResource
from health.report import Report, RuleReport
from health.resolution import Resolved, resolve_properties

# Every call the check makes: the health role's policy and docs/reference.md#health-check grant these.
READ_ACTIONS = (
    "cloudformation:ListStacks",
    "cloudformation:ListStackResources",
    "cloudformation:GetTemplate",
    "cloudformation:DescribeStacks",
    "cloudformation:ListExports",
    "ecr:DescribePullThroughCacheRules",
    "ecr:ValidatePullThroughCacheRule",
)


def check(cloudformation: Any, ecr: Any) -> Report:
    """Read CloudFormation and ECR (read-only: ListStacks, ListStackResources, GetTemplate,
    DescribeStacks, ListExports; DescribePullThroughCacheRules, ValidatePullThroughCacheRule)
    and report every rule. Raises CannotRead when a read is refused or fails for good."""
    found = discover(cloudformation)
    held = registry.rules(ecr)
    by_prefix = held_by_prefix(held)
    entries: list[RuleReport] = []
    for resource in sorted(found.managed, key=lambda r: (r.stack.name, r.logical_id)):
        rule = by_prefix.get(canonical_prefix(resource.prefix))
        validation = registry.validation(ecr, resource.prefix) if rule is not None else None
        entries.append(
            classify(
                resource.stack.name,
                resource.logical_id,
                resource.prefix,
                properties_of(resource, found.unreadable_templates.get(resource.stack.name)),
                rule,
                validation,
            )
        )
    entries.extend(unmanaged(held, found.held_prefixes))
    return Report(tuple(entries))


def properties_of(resource: ManagedResource, unreadable: str | None = None) -> Resolved:
    """The resource's properties resolved from its stack's record (none, each with the reason,
    when the template cannot be read or does not hold the resource)."""
    resources = resource.stack.template.get("Resources") or {}
    declared = resources.get(resource.logical_id) if isinstance(resources, dict) else None
    if not isinstance(declared, dict):
        why = unreadable or "the resource is not in the stack's template"
        return Resolved(unresolved=dict.fromkeys(RULE_FIELDS, why))
    return resolve_properties(declared.get("Properties") or {}, resource.stack)
