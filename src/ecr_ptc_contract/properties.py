"""The resource's properties: for each, its name, what it is for, the shape of its value, its
default, and what a change to it does to the rule (made in place, or a new rule). Also the
resource type and the properties CloudFormation owns."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .shapes import (
    CREDENTIAL_ARN_MAX,
    CREDENTIAL_ARN_MIN,
    CREDENTIAL_ARN_PATTERN,
    HOST_MAX,
    HOST_PATTERN,
    KIND_MAX,
    KIND_PATTERN,
    PREFIX_MAX,
    PREFIX_MIN,
    PREFIX_PATTERN,
    ROLE_ARN_MAX,
    ROLE_ARN_PATTERN,
    ROOT,
    ROOT_LOOKALIKES,
)
from .upstreams import ECR

RESOURCE_TYPE = "Custom::PullThroughCacheRule"

# What a change to a property does to the rule (CloudFormation's "Update requires").
NEW_RULE = "new rule"  # a new rule is made: ECR cannot change the value of a rule
IN_PLACE = "in place"  # UpdatePullThroughCacheRule changes it; removing it needs a new rule
PROVIDER_ONLY = "provider only"  # the provider's own switch: nothing of the rule changes
UPDATES = (NEW_RULE, IN_PLACE, PROVIDER_ONLY)


@dataclass(frozen=True)
class Property:
    """One property of the resource, as CloudFormation sends it (every scalar as a string)."""

    name: str
    summary: str
    update: str  # one of UPDATES
    required: bool = False
    boolean: bool = False  # 'true' or 'false' (any case), or a JSON boolean; '' means false
    min_length: int = 1
    max_length: int | None = None
    pattern: str | None = None
    allowed: tuple[str, ...] = ()  # an enum: the value must be one of these
    refused: tuple[str, ...] = ()  # values the pattern lets through that are refused
    only_for: str | None = None  # the one upstream kind it may be set for
    default: str | None = None  # what leaving it out means (for only_for's kind, if set)


PROPERTIES: tuple[Property, ...] = (
    Property(
        "EcrRepositoryPrefix",
        "The prefix of the repositories the rule creates in this registry (ROOT: the whole registry).",
        NEW_RULE,
        required=True,
        min_length=PREFIX_MIN,
        max_length=PREFIX_MAX,
        pattern=PREFIX_PATTERN,
        refused=ROOT_LOOKALIKES,
    ),
    Property(
        "UpstreamRegistryUrl",
        "The upstream registry's host name, without a scheme, path or port.",
        NEW_RULE,
        required=True,
        max_length=HOST_MAX,
        pattern=HOST_PATTERN,
    ),
    Property(
        "UpstreamRegistry",
        "The kind of upstream; ECR infers it from UpstreamRegistryUrl when it is left out.",
        NEW_RULE,
        max_length=KIND_MAX,
        pattern=KIND_PATTERN,
    ),
    Property(
        "UpstreamRepositoryPrefix",
        "For an ECR upstream: the upstream repositories the rule caches (ROOT, the default: all).",
        NEW_RULE,
        min_length=PREFIX_MIN,
        max_length=PREFIX_MAX,
        pattern=PREFIX_PATTERN,
        refused=ROOT_LOOKALIKES,
        only_for=ECR,
        default=ROOT,
    ),
    Property(
        "CredentialArn",
        "The ARN of the Secrets Manager secret (named ecr-pullthroughcache/...) with the upstream's "
        "username and accessToken.",
        IN_PLACE,
        min_length=CREDENTIAL_ARN_MIN,
        max_length=CREDENTIAL_ARN_MAX,
        pattern=CREDENTIAL_ARN_PATTERN,
    ),
    Property(
        "CustomRoleArn",
        "For an ECR upstream in another account: the IAM role (in this account) ECR assumes.",
        IN_PLACE,
        max_length=ROLE_ARN_MAX,
        pattern=ROLE_ARN_PATTERN,
        only_for=ECR,
    ),
    Property(
        "AdoptExisting",
        "'true': a Create that finds a rule with this prefix takes it over instead of failing.",
        PROVIDER_ONLY,
        boolean=True,
        default="false",
    ),
    Property(
        "ValidateCredentials",
        "'true': the deploy fails (and a new rule is removed) unless ECR can reach the upstream.",
        PROVIDER_ONLY,
        boolean=True,
        default="false",
    ),
)

BY_NAME: dict[str, Property] = {p.name: p for p in PROPERTIES}
NAMES: tuple[str, ...] = tuple(p.name for p in PROPERTIES)
REQUIRED: tuple[str, ...] = tuple(p.name for p in PROPERTIES if p.required)
# The properties ECR holds as fields of the rule (the others steer the provider).
RULE_FIELDS: tuple[str, ...] = tuple(p.name for p in PROPERTIES if p.update != PROVIDER_ONLY)


def python_name(name: str) -> str:
    """A property's name as Python spells it: the provider's RuleSpec fields and the CDK
    construct's keywords ('UpstreamRegistryUrl' -> 'upstream_registry_url')."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


# Every custom resource carries these; they are CloudFormation's, not the provider's: it
# accepts any value (CloudFormation checks them before it sends a request).
CLOUDFORMATION_OWNED: tuple[str, ...] = ("ServiceToken", "ServiceTimeout")
# Checked by the provider (and the lint rule) but not expressible in JSON Schema, which cannot
# compare parts of two values.
NOT_IN_SCHEMA = (
    "When ServiceToken is a Lambda function ARN, CredentialArn's secret must be in the same "
    "account and Region."
)
