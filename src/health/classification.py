"""A managed rule's state from what ECR holds and what its stack asks, and the rules no stack
holds: plain functions, no AWS.

Precedence when several apply: MISSING > DRIFTED > INVALID (report.State). A property the stack's
record cannot resolve is compared as equal (its value taken from the rule ECR holds) and listed
NOT_CHECKED by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ecr_ptc_contract import properties, python_name
from handler.properties import InvalidProperties, canonical_prefix, parse
from handler.rules import Rule, changes
from health.report import Drift, RuleReport, State
from health.resolution import Resolved

# The properties ECR holds, and the field of the held rule each is taken from when unresolved.
RULE_FIELDS = {name: python_name(name) for name in properties.RULE_FIELDS}
REPAIR = "an update of the resource puts it back (docs/reference.md#health-check)"


@dataclass(frozen=True)
class Validation:
    """ValidatePullThroughCacheRule's answer; `refused` says why ECR gave none for this rule (then
    `is_valid` means nothing and the detail says the rule was not validated)."""

    is_valid: bool
    failure: str = ""
    refused: str = ""


def classify(
    stack: str,
    logical_id: str,
    prefix: str,
    resolved: Resolved,
    held: Rule | None,
    validation: Validation | None,
) -> RuleReport:
    """The state of the managed rule at `prefix` (its physical id): `held` is the rule ECR holds
    there (None: none), `validation` ECR's validation of it (None: not validated)."""
    not_checked = tuple(name for name in RULE_FIELDS if name in resolved.unresolved)

    def entry(state: State, detail: str, drifted: tuple[Drift, ...] = ()) -> RuleReport:
        return RuleReport(stack, logical_id, prefix, state, drifted, not_checked, detail)

    if held is None:
        return entry(State.MISSING, f"ECR has no rule under '{prefix}': {REPAIR}")
    notes = [f"not checked: {name} ({resolved.unresolved[name]})" for name in not_checked]
    drifts: tuple[Drift, ...] = ()
    try:
        asked = parse(_asked_properties(resolved, held, prefix))
    except InvalidProperties as problem:
        not_checked = tuple(RULE_FIELDS)
        notes = [f"not checked: the stack's properties cannot be read ({problem})"]
    else:
        drifts = tuple(Drift(c.name, c.held, c.asked) for c in changes(held, asked))
    failure = ""
    if validation is not None and validation.refused:
        notes.append(f"not validated: {validation.refused}")
    elif validation is not None and not validation.is_valid:
        failure = f"ECR cannot reach the upstream with this rule: {validation.failure or '(no failure text)'}"
    if drifts:
        text = "; ".join(
            f"{d.field} is {_show(d.held)} in ECR, the stack asks {_show(d.asked)}" for d in drifts
        )
        detail = "; ".join([f"{text}: {REPAIR}", *([failure] if failure else []), *notes])
        return entry(State.DRIFTED, detail, drifts)
    if failure:
        detail = "; ".join([f"{failure}: put a new value in the secret or fix the role", *notes])
        return entry(State.INVALID, detail)
    return entry(State.HEALTHY, "; ".join(notes))


def unmanaged(held: Iterable[Rule], held_by_stacks: Iterable[str]) -> list[RuleReport]:
    """A report for every rule ECR holds that no stack's resource holds (prefixes compared as ECR
    reads them: 'a' and 'a/' are one rule)."""
    taken = {canonical_prefix(p) for p in held_by_stacks}
    return [
        RuleReport(
            stack=None,
            logical_id=None,
            prefix=rule.ecr_repository_prefix,
            state=State.UNMANAGED,
            detail=f"no stack holds this rule (upstream {rule.upstream_registry_url}): "
            "./dev import writes a template that adopts it",
        )
        for rule in sorted(held, key=lambda r: r.ecr_repository_prefix)
        if canonical_prefix(rule.ecr_repository_prefix) not in taken
    ]


def _asked_properties(resolved: Resolved, held: Rule, prefix: str) -> dict[str, Any]:
    """The properties to parse: the rule's fields as resolved, the unresolved ones as ECR holds
    them (so they compare equal), the prefix as the physical id when unresolved."""
    asked = {name: value for name, value in resolved.values.items() if name in RULE_FIELDS}
    for name, attribute in RULE_FIELDS.items():
        if name in resolved.unresolved:
            value = prefix if name == "EcrRepositoryPrefix" else getattr(held.spec(), attribute)
            if value is not None:
                asked[name] = value
    return asked


def _show(value: str | None) -> str:
    return f"'{value}'" if value else "(not set)"


def held_by_prefix(rules: Iterable[Rule]) -> Mapping[str, Rule]:
    """The rules by canonical prefix."""
    return {canonical_prefix(r.ecr_repository_prefix): r for r in rules}
