"""A rule as ECR holds it, and how it differs from what a template asks for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ecr_ptc_contract import BY_NAME, IN_PLACE, ROOT
from handler.properties import RuleSpec, canonical_prefix


@dataclass(frozen=True)
class Rule:
    """A pull-through cache rule as ECR reports it (fields an answer lacks are None)."""

    ecr_repository_prefix: str
    upstream_registry_url: str | None = None
    upstream_registry: str | None = None
    upstream_repository_prefix: str | None = None
    credential_arn: str | None = None
    custom_role_arn: str | None = None
    registry_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def from_api(cls, answer: Mapping[str, Any]) -> Rule:
        return cls(
            ecr_repository_prefix=answer["ecrRepositoryPrefix"],
            upstream_registry_url=answer.get("upstreamRegistryUrl"),
            upstream_registry=answer.get("upstreamRegistry"),
            upstream_repository_prefix=answer.get("upstreamRepositoryPrefix"),
            credential_arn=answer.get("credentialArn") or None,
            custom_role_arn=answer.get("customRoleArn") or None,
            registry_id=answer.get("registryId"),
            created_at=answer.get("createdAt"),
            updated_at=answer.get("updatedAt"),
        )

    def spec(self) -> RuleSpec:
        """This rule as a request to create it again, every field as ECR reported it (a rule
        read with DescribePullThroughCacheRules, which reports them all)."""
        upstream_prefix = self.upstream_repository_prefix
        return RuleSpec(
            ecr_repository_prefix=self.ecr_repository_prefix,
            upstream_registry_url=self.upstream_registry_url or "",
            upstream_registry=self.upstream_registry,
            upstream_repository_prefix=None if upstream_prefix in (None, ROOT) else upstream_prefix,
            credential_arn=self.credential_arn,
            custom_role_arn=self.custom_role_arn,
        )


# How far the Lambda's and ECR's clocks (both disciplined by Amazon Time Sync) may disagree when
# telling whether a rule was made while a create's attempts ran. Wider, and a rule someone else
# made just before them could pass for this request's; narrower, and clocks a little apart could
# make this request's own rule look older (docs/reference.md, Behaviour).
CLOCK_SKEW = timedelta(seconds=0.5)


@dataclass(frozen=True)
class Window:
    """When a write's attempts ran: from just before the first was sent to after the last ended."""

    start: datetime
    end: datetime


def made_within(rule: Rule, spec: RuleSpec, window: Window | None) -> bool:
    """Whether `rule` is the one a create of `spec` made while its attempts ran (a response was
    lost): ECR created it within that window (give or take the clocks' skew), as asked."""
    if rule.created_at is None or window is None:
        return False
    in_window = window.start - CLOCK_SKEW <= rule.created_at <= window.end + CLOCK_SKEW
    return in_window and not changes(rule, spec)


@dataclass(frozen=True)
class Change:
    """One property whose held value differs from the asked one."""

    name: str  # the CloudFormation property name
    held: str | None
    asked: str | None
    in_place: bool  # True when UpdatePullThroughCacheRule can make it (the contract's IN_PLACE)

    def __str__(self) -> str:
        return f"{self.name} is {_show(self.held)} in ECR, the template asks {_show(self.asked)}"


def _show(value: str | None) -> str:
    return f"'{value}'" if value else "(not set)"


def changes(held: Rule, asked: RuleSpec) -> list[Change]:
    """Every property where the held rule differs from the asked one.

    What a change does follows the contract: a property it changes in place (IN_PLACE) is
    changed with one update, but removing it cannot be: the API refuses an update that names
    neither field, and sends no way to clear one, so a removal counts as a new-rule change.
    A field the held side does not know (None from a partial answer) is not compared.
    """
    found: list[Change] = []

    def compare(name: str, held_value: str | None, asked_value: str | None) -> None:
        if held_value != asked_value:
            in_place = BY_NAME[name].update == IN_PLACE and asked_value is not None
            found.append(Change(name, held_value, asked_value, in_place))

    if canonical_prefix(held.ecr_repository_prefix) != canonical_prefix(asked.ecr_repository_prefix):
        compare("EcrRepositoryPrefix", held.ecr_repository_prefix, asked.ecr_repository_prefix)
    held_url = held.upstream_registry_url
    if held_url is not None and held_url.lower() != asked.upstream_registry_url:
        # a host is case-insensitive: a rule an older provider made as 'Quay.IO' is 'quay.io'
        compare("UpstreamRegistryUrl", held_url, asked.upstream_registry_url)
    if held.upstream_registry is not None and asked.effective_upstream_registry is not None:
        compare("UpstreamRegistry", held.upstream_registry, asked.effective_upstream_registry)
    if held.upstream_registry_url is not None:  # a full answer: compare the upstream prefix too
        compare(
            "UpstreamRepositoryPrefix",
            _no_root_default(held.upstream_repository_prefix),
            _no_root_default(asked.effective_upstream_repository_prefix),
        )
    compare("CredentialArn", held.credential_arn, asked.credential_arn)
    compare("CustomRoleArn", held.custom_role_arn, asked.custom_role_arn)
    return found


def _no_root_default(value: str | None) -> str | None:
    """ROOT is the default upstream prefix: held ROOT and asked nothing are the same."""
    return None if value == ROOT else value
