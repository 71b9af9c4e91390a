"""What must hold after every stack operation of the simulator: the registry matches the stack's
record exactly, no rule the stack does not own appears (an orphan), and every rule that was not
the stack's is left as it was (unless the template adopted it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ecr_ptc_emulator
from devkit.cloudformation.simulator import SETTLED, Ledger, Properties, Sibling, Stack

TIMESTAMPS = ("createdAt", "updatedAt")
SHORT = {
    "CreatePullThroughCacheRule": "Create",
    "UpdatePullThroughCacheRule": "Update",
    "DeletePullThroughCacheRule": "Delete",
    "DescribePullThroughCacheRules": "Describe",
    "ValidatePullThroughCacheRule": "Validate",
}
LONG = {short: long for long, short in SHORT.items()}
Rules = dict[str, dict[str, Any]]


def canonical(prefix: str) -> str:
    """ECR reads "a" and "a/" as one prefix."""
    return prefix if prefix == "ROOT" else prefix.rstrip("/")


def settings(rules: Rules) -> Rules:
    """The rules without their timestamps: what a template can ask for."""
    return {p: {k: v for k, v in rule.items() if k not in TIMESTAMPS} for p, rule in rules.items()}


def mismatches(properties: Properties, rule: dict[str, Any] | None) -> list[str]:
    """How the rule ECR holds differs from what the template's properties ask for."""
    if rule is None:
        return ["it is missing from the registry"]
    want: dict[str, str | None] = {
        "upstreamRegistryUrl": properties["UpstreamRegistryUrl"],
        "credentialArn": properties.get("CredentialArn") or None,
        "customRoleArn": properties.get("CustomRoleArn") or None,
    }
    if properties.get("UpstreamRegistry"):
        want["upstreamRegistry"] = properties["UpstreamRegistry"]
    problems = [
        f"{k} is {rule.get(k)!r}, the template asks {v!r}" for k, v in want.items() if rule.get(k) != v
    ]
    upstream_prefix = properties.get("UpstreamRepositoryPrefix")
    held = rule.get("upstreamRepositoryPrefix")
    if upstream_prefix and held != canonical(upstream_prefix):
        problems.append(f"upstreamRepositoryPrefix is {held!r}, the template asks {upstream_prefix!r}")
    if not upstream_prefix and held not in (None, "ROOT"):
        problems.append(f"upstreamRepositoryPrefix is {held!r}, the template sets none")
    return problems


class Registry:
    """The registry as an onlooker sees it: read through the emulator, changed behind the
    stack's back with a plain ECR client."""

    def __init__(
        self,
        client: Any,
        rules: Callable[[], Rules] = ecr_ptc_emulator.rules,
        calls: Callable[[], list[tuple[str, dict[str, Any]]]] = ecr_ptc_emulator.calls,
    ) -> None:
        self.client = client
        self._rules = rules
        self._calls = calls

    def rules(self) -> Rules:
        return self._rules()

    def ops(self) -> list[str]:
        """The operations ECR received so far, by short name ("Create", "Describe" ...)."""
        return [SHORT.get(operation, operation) for operation, _ in self._calls()]

    def create_behind_the_stacks_back(self, prefix: str, url: str = "quay.io") -> None:
        self.client.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url)

    def delete_behind_the_stacks_back(self, prefix: str) -> None:
        self.client.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)


class Invariants:
    """The registry against the stack's record, and the rules that were never the stack's."""

    def __init__(self, ledger: Ledger, registry: Registry) -> None:
        self.ledger = ledger
        self.registry = registry
        self.foreign: Rules = {}  # rules that were not the stack's, as they were when they appeared
        self.adopted: set[str] = set()

    def note_foreign(self, owned: set[str] | None = None) -> None:
        """Every rule now in the registry that the stack does not own is foreign."""
        for prefix, rule in self.registry.rules().items():
            if prefix not in (owned or set()) and prefix not in self.foreign:
                self.foreign[prefix] = rule

    def check(self, stack: Stack, when: str) -> None:
        rules = self.registry.rules()
        where = f"{stack.name} {when} ({stack.status})"
        owned: dict[str, tuple[str, Properties]] = {}
        for logical_id, record in stack.resources.items():
            if isinstance(record.definition, Sibling):
                continue
            prefix = canonical(record.physical_id)
            asked = canonical(record.definition["EcrRepositoryPrefix"])
            self.ledger.check(
                asked == prefix,
                f"{where}: {logical_id} is on record as '{record.physical_id}' but asks for '{asked}'",
            )
            owned[prefix] = (logical_id, record.definition)
            if prefix in self.foreign and prefix not in self.adopted:
                adopting = str(record.definition.get("AdoptExisting", "")).lower() == "true"
                self.ledger.check(
                    adopting,
                    f"{where}: {logical_id} took over the rule '{prefix}' it did not create, "
                    "without AdoptExisting",
                )
                self.adopted.add(prefix)
        if stack.status in SETTLED:
            for prefix, (logical_id, properties) in owned.items():
                if stack.status == "DELETE_FAILED" and prefix not in rules:
                    continue  # the Delete may have happened and only its answer failed
                problems = mismatches(properties, rules.get(prefix))
                self.ledger.check(
                    not problems, f"{where}: {logical_id}'s rule '{prefix}': {'; '.join(problems)}"
                )
            for prefix in rules:
                self.ledger.check(
                    prefix in owned or prefix in self.foreign,
                    f"{where}: the registry holds '{prefix}', which the stack does not own and which "
                    "was not there before: an orphan",
                )
        for prefix, rule in self.foreign.items():
            if prefix in self.adopted:
                continue
            self.ledger.check(
                rules.get(prefix) == rule,
                f"{where}: the rule '{prefix}' was not the stack's and was touched: "
                f"{rule} became {rules.get(prefix)}",
            )

    def untouched_foreign(self) -> Rules:
        return {p: r for p, r in self.foreign.items() if p not in self.adopted}
