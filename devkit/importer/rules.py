"""What the template declares for each rule ECR holds: its logical id (from its prefix), its
properties, and the parameters that stand for this account's secrets and roles (defaulting to
the values ECR holds, so deploying the template as it is adopts the rules unchanged)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ecr_ptc_contract import ECR, ROOT

SUFFIX = "Cache"  # of every logical id: DockerHubCache (its parameters: DockerHubCredentialArn)
_ARN_ACCOUNT = re.compile(r"arn:[a-z0-9-]+:[a-z0-9-]+:[a-z0-9-]*:(?P<account>[0-9]{12}):")


@dataclass(frozen=True)
class Parameter:
    name: str
    default: str
    description: str


@dataclass(frozen=True)
class Declared:
    """One rule, as the template declares it."""

    logical_id: str
    prefix: str
    properties: dict[str, str]  # literal values, CloudFormation's names (no ServiceToken)
    parameters: dict[str, Parameter] = field(default_factory=dict)  # property -> its parameter

    @property
    def is_root(self) -> bool:
        return self.prefix == ROOT


def logical_ids(prefixes: Iterable[str], suffix: str = SUFFIX) -> dict[str, str]:
    """A logical id per prefix: its words capitalized and joined ('docker-hub' -> DockerHubCache,
    'team/quay.io' -> TeamQuayIoCache, 'ROOT' -> RootCache), then a number where two prefixes
    would get the same one (compared without case)."""
    made: dict[str, str] = {}
    taken: set[str] = set()
    for prefix in sorted(prefixes):
        words = [w for w in re.split(r"[^A-Za-z0-9]+", prefix) if w]
        base = "".join(w[:1].upper() + w[1:].lower() for w in words) + suffix
        name, number = base, 2
        while name.lower() in taken:
            name, number = f"{base}{number}", number + 1
        taken.add(name.lower())
        made[prefix] = name
    return made


def account_of(arn: str) -> str | None:
    match = _ARN_ACCOUNT.match(arn)
    return match["account"] if match else None


def declare(rules: Sequence[Mapping[str, Any]], exclude: Iterable[str] = ()) -> list[Declared]:
    """Each rule ECR holds (DescribePullThroughCacheRules' items), as the template declares it,
    in the order of their prefixes; the prefixes in `exclude` left out."""
    skipped = set(exclude)
    kept = [r for r in rules if r["ecrRepositoryPrefix"] not in skipped]
    ids = logical_ids(r["ecrRepositoryPrefix"] for r in kept)
    return [_declared(rule, ids[rule["ecrRepositoryPrefix"]]) for rule in sorted(kept, key=_prefix)]


def _prefix(rule: Mapping[str, Any]) -> str:
    return str(rule["ecrRepositoryPrefix"])


def _declared(rule: Mapping[str, Any], logical_id: str) -> Declared:
    prefix = str(rule["ecrRepositoryPrefix"])
    registry = str(rule.get("registryId") or "")
    properties = {"EcrRepositoryPrefix": prefix, "UpstreamRegistryUrl": str(rule["upstreamRegistryUrl"])}
    if rule.get("upstreamRegistry"):
        properties["UpstreamRegistry"] = str(rule["upstreamRegistry"])
    upstream_prefix = rule.get("upstreamRepositoryPrefix")
    if rule.get("upstreamRegistry") == ECR and upstream_prefix and ROOT not in (upstream_prefix, prefix):
        properties["UpstreamRepositoryPrefix"] = str(upstream_prefix)  # ROOT is what omitting it means
    parameters: dict[str, Parameter] = {}
    for name, key, what in (
        ("CredentialArn", "credentialArn", "secret"),
        ("CustomRoleArn", "customRoleArn", "role"),
    ):
        value = rule.get(key)
        if not value:
            continue
        properties[name] = str(value)
        if account_of(str(value)) == registry:
            parameters[name] = Parameter(
                name=f"{logical_id.removesuffix(SUFFIX)}{name}",
                default=str(value),
                description=f"The {what} of the rule '{prefix}' ({name}); ECR holds the default.",
            )
    return Declared(logical_id=logical_id, prefix=prefix, properties=properties, parameters=parameters)
