"""The resource's properties parsed into the provider's own types: one immutable RuleSpec, or
InvalidProperties listing every problem the contract's checks (ecr_ptc_contract) find, in one
text that fits the Reason CloudFormation shows.

Every check the ECR API would make is made before any call; an upstream this version does not
know (a host or an UpstreamRegistry outside the contract's upstreams) is no problem: it goes
to ECR as written and ECR decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ecr_ptc_contract import ECR, ROOT, Problem, examine
from ecr_ptc_contract.hosts import infer_upstream_registry
from ecr_ptc_contract.shapes import PREFIX_MAX, PREFIX_MIN, PREFIX_PATTERN
from ecr_ptc_contract.wording import shown

__all__ = [
    "InvalidProperties",
    "RuleSpec",
    "canonical_prefix",
    "describe_problems",
    "is_rule_id",
    "parse",
]

# How much of the Reason the problems may take. response.py keeps the first 1500 characters
# of a Reason (MAX_REASON_CHARS) and keeps the whole body under 4096 bytes, of which the ids,
# the stack's ARN and the JSON around them take under 1000.
REASON_CHARS = 1450
REASON_BYTES = 3000


class InvalidProperties(Exception):
    """The properties cannot be used; `problems` holds one sentence per problem."""

    def __init__(self, found: Sequence[Problem | str]) -> None:
        self.found = [p if isinstance(p, Problem) else Problem(p) for p in found]
        self.problems = [p.message for p in self.found]
        super().__init__(describe_problems(self.problems))


def describe_problems(problems: Sequence[str]) -> str:
    """All the problems in one text that fits the Reason: when it is too long, each problem is
    shortened to the same share, keeping its start (the property and the mistake)."""

    def text(share: int, listed: int) -> str:
        items = [_cut(p, share) for p in problems[:listed]]
        if len(problems) == 1:
            return f"Invalid properties: {items[0]}"
        numbered = " ".join(f"({n}) {p}" for n, p in enumerate(items, 1))
        more = f" … and {len(problems) - listed} more" if listed < len(problems) else ""
        return f"Invalid properties, {len(problems)} problems: {numbered}{more}"

    longest = max((len(p) for p in problems), default=0)
    listed = len(problems)
    while listed > 1 and not _fits(text(40, listed)):
        listed -= 1
    low, high = min(40, longest), longest  # the largest share that fits
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _fits(text(middle, listed)) else (low, middle - 1)
    return text(low, listed)


def _fits(text: str) -> bool:
    return len(text) <= REASON_CHARS and len(text.encode("utf-8", "surrogatepass")) <= REASON_BYTES


def _cut(problem: str, share: int) -> str:
    return problem if len(problem) <= share else problem[: max(share - 1, 1)].rstrip() + "…"


@dataclass(frozen=True)
class RuleSpec:
    """What the template asks for."""

    ecr_repository_prefix: str
    upstream_registry_url: str
    upstream_registry: str | None = None
    upstream_repository_prefix: str | None = None
    credential_arn: str | None = None
    custom_role_arn: str | None = None
    adopt_existing: bool = False
    validate_credentials: bool = False

    @property
    def effective_upstream_registry(self) -> str | None:
        """The UpstreamRegistry ECR will hold: the one given, or the one it infers from the URL."""
        return self.upstream_registry or infer_upstream_registry(self.upstream_registry_url)

    @property
    def effective_upstream_repository_prefix(self) -> str | None:
        """ECR upstreams default to ROOT; other upstreams have none."""
        if self.effective_upstream_registry != ECR:
            return self.upstream_repository_prefix
        return self.upstream_repository_prefix or ROOT


def canonical_prefix(prefix: str) -> str:
    """ECR treats every prefix as ending in '/': 'docker-hub' and 'docker-hub/' are one rule."""
    return prefix if prefix == ROOT else prefix.rstrip("/")


def is_rule_id(physical_id: str | None) -> bool:
    """True when a PhysicalResourceId can name a rule (ids of failed Creates never can). ECR's
    own rule, not the provider's stricter one: a rule 'root' made elsewhere is still a rule."""
    return (
        bool(physical_id)
        and PREFIX_MIN <= len(str(physical_id)) <= PREFIX_MAX
        and re.fullmatch(PREFIX_PATTERN, str(physical_id)) is not None
    )


def parse(properties: Mapping[str, Any]) -> RuleSpec:
    """Parse ResourceProperties into a RuleSpec, or raise InvalidProperties listing every problem."""
    if not isinstance(properties, Mapping):
        raise InvalidProperties(
            [Problem(f"The resource's Properties must be an object of properties, not {shown(properties)}.")]
        )
    examined = examine(properties)
    if examined.problems:
        raise InvalidProperties(examined.problems)
    text = examined.known
    upstream_prefix = text.get("UpstreamRepositoryPrefix")
    if text["EcrRepositoryPrefix"] == ROOT and upstream_prefix == ROOT:
        upstream_prefix = None  # the same rule; ECR refuses the pair when it is sent
    return RuleSpec(
        ecr_repository_prefix=text["EcrRepositoryPrefix"],
        upstream_registry_url=text["UpstreamRegistryUrl"],
        upstream_registry=text.get("UpstreamRegistry"),
        upstream_repository_prefix=upstream_prefix,
        credential_arn=text.get("CredentialArn"),
        custom_role_arn=text.get("CustomRoleArn"),
        adopt_existing=examined.flags.get("AdoptExisting", False),
        validate_credentials=examined.flags.get("ValidateCredentials", False),
    )
