"""The property contract of Custom::PullThroughCacheRule, stated once, as data.

Everything the provider checks follows from these tables: the handler's checks
(properties.py, upstreams.py), the JSON Schema of the properties (`json_schema()`, written by
`./dev contract` into the cfn-lint rule package), the cfn-lint rule (which runs copies of
these three modules), and the property facts of docs/reference.md (tests/test_contract.py
compares them).

Patterns are written in the subset that Python's `re` and ECMA-262 (JSON Schema's dialect)
read the same way, anchored with ^...$. Python code matches them with re.fullmatch: in
Python, `$` also matches before a trailing newline.

This module, upstreams.py and properties.py use only the standard library and import each
other relatively, so that they can be copied unchanged into the lint rule package.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RESOURCE_TYPE = "Custom::PullThroughCacheRule"
ROOT = "ROOT"
ECR = "ecr"
SECRET_NAME_PREFIX = "ecr-pullthroughcache/"

# The botocore model's pattern for ecrRepositoryPrefix and upstreamRepositoryPrefix.
PREFIX_PATTERN = r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
PREFIX_MIN, PREFIX_MAX = 2, 30
# Prefixes the API accepts but the provider refuses: they are almost always ROOT mistyped.
# ECR would make them a literal prefix 'root/', not the whole registry.
ROOT_LOOKALIKES = ("root", "root/")

# A DNS host name: labels of letters, digits and '-' (not at either end), at most 63
# characters each, 253 in all. Lowercase only: ECR stores the URL as it is sent, and the
# provider compares the stored URL with the template's on every later update.
HOST_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$"
HOST_MAX = 253

# The botocore model's credentialArn pattern, narrowed to what a secret ARN is: a partition,
# a Region, a 12-digit account, then the secret's name (which ECR requires to start with
# ecr-pullthroughcache/), followed by Secrets Manager's random suffix.
CREDENTIAL_ARN_PATTERN = (
    r"^arn:aws(-[a-z]+)*:secretsmanager:[a-z0-9]+(-[a-z0-9]+)*:[0-9]{12}:secret:"
    r"ecr-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$"
)
CREDENTIAL_ARN_MIN, CREDENTIAL_ARN_MAX = 50, 612

# An IAM role ARN: the role's path and name (IAM allows 512 characters of path, 64 of name).
ROLE_ARN_PATTERN = r"^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role\/[a-zA-Z0-9_+=,.@\/-]{1,512}$"
ROLE_ARN_MAX = 2048

# An UpstreamRegistry: the shape of every kind ECR has named (lowercase words joined by '-'),
# whether or not this version knows it.
KIND_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
KIND_MAX = 64

BOOLEAN_PATTERN = r"^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee])?$"


# A private ECR registry's host: <account>.dkr.ecr.<region>.<DNS suffix>, the DNS suffix being
# its partition's (amazonaws.com, amazonaws.com.cn, amazonaws.eu, c2s.ic.gov, ...): any host name
# of two labels or more, so that every partition's hosts are ECR's, those of a partition that
# AWS opens after this release included (the handler builds its own registry's host from
# botocore's partition data: partitions.py).
ECR_HOST_PATTERN = r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9]+(-[a-z0-9]+)*(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?){2,}$"


@dataclass(frozen=True)
class Upstream:
    """One value of the API's UpstreamRegistry enum: the hosts ECR accepts for it."""

    kind: str
    host_pattern: str  # the upstream registry URLs ECR accepts for this kind
    hosts: str  # the same, as the docs and the messages write it
    needs_credential: bool  # ECR refuses to create the rule without a Secrets Manager secret
    note: str = ""  # what to know when a host is not this kind's

    @property
    def literal_host(self) -> str | None:
        """The one host of this kind, when it has exactly one."""
        return None if "<" in self.hosts else self.hosts


# The API's UpstreamRegistry enum, in the botocore model's order.
UPSTREAMS: tuple[Upstream, ...] = (
    Upstream(
        ECR,
        ECR_HOST_PATTERN,
        "<account>.dkr.ecr.<region>.amazonaws.com",
        needs_credential=False,
        note="a private ECR registry is <account>.dkr.ecr.<region>.<the partition's DNS suffix>, e.g. "
        "amazonaws.com, amazonaws.com.cn in China, amazonaws.eu in the European Sovereign Cloud",
    ),
    Upstream("ecr-public", r"^public\.ecr\.aws$", "public.ecr.aws", needs_credential=False),
    Upstream("quay", r"^quay\.io$", "quay.io", needs_credential=False),
    Upstream("k8s", r"^registry\.k8s\.io$", "registry.k8s.io", needs_credential=False),
    Upstream("docker-hub", r"^registry-1\.docker\.io$", "registry-1.docker.io", needs_credential=True),
    Upstream("github-container-registry", r"^ghcr\.io$", "ghcr.io", needs_credential=True),
    Upstream(
        "azure-container-registry",
        r"^[a-z0-9]{5,50}\.azurecr\.io$",
        "<name>.azurecr.io",
        needs_credential=True,
        note="an Azure registry is <name>.azurecr.io, its name being 5 to 50 lowercase letters and digits",
    ),
    Upstream(
        "gitlab-container-registry",
        r"^registry\.gitlab\.com$",
        "registry.gitlab.com",
        needs_credential=True,
        note="ECR caches GitLab.com's registry only, not a self-hosted GitLab",
    ),
    Upstream("chainguard", r"^cgr\.dev$", "cgr.dev", needs_credential=True),
)

# Hosts people write that ECR does not accept, and the upstream host they mean.
COMMON_MISTAKES: dict[str, str] = {
    "docker.io": "registry-1.docker.io",
    "index.docker.io": "registry-1.docker.io",
    "hub.docker.com": "registry-1.docker.io",
    "registry.hub.docker.com": "registry-1.docker.io",
    "k8s.gcr.io": "registry.k8s.io",
    "gitlab.com": "registry.gitlab.com",
    "github.com": "ghcr.io",
    "docker.pkg.github.com": "ghcr.io",
    "chainguard.dev": "cgr.dev",
    "ecr.aws": "public.ecr.aws",
    "gallery.ecr.aws": "public.ecr.aws",
}
# Why a common mistake is one, where it is not plain.
MISTAKE_NOTES: dict[str, str] = {
    "docker.io": "docker.io is Docker Hub's name in image references, not its registry's host",
}


@dataclass(frozen=True)
class Property:
    """One property of the resource, as CloudFormation sends it (every scalar as a string)."""

    name: str
    summary: str
    required: bool = False
    boolean: bool = False  # 'true' or 'false' (any case), or a JSON boolean; '' means false
    min_length: int = 1
    max_length: int | None = None
    pattern: str | None = None
    allowed: tuple[str, ...] = ()  # an enum: the value must be one of these
    refused: tuple[str, ...] = ()  # values the pattern lets through that are refused
    only_for: str | None = None  # the one upstream kind it may be set for


PROPERTIES: tuple[Property, ...] = (
    Property(
        "EcrRepositoryPrefix",
        "The prefix of the repositories the rule creates in this registry (ROOT: the whole registry).",
        required=True,
        min_length=PREFIX_MIN,
        max_length=PREFIX_MAX,
        pattern=PREFIX_PATTERN,
        refused=ROOT_LOOKALIKES,
    ),
    Property(
        "UpstreamRegistryUrl",
        "The upstream registry's host name, without a scheme, path or port.",
        required=True,
        max_length=HOST_MAX,
        pattern=HOST_PATTERN,
    ),
    Property(
        "UpstreamRegistry",
        "The kind of upstream; ECR infers it from UpstreamRegistryUrl when it is left out.",
        max_length=KIND_MAX,
        pattern=KIND_PATTERN,
    ),
    Property(
        "UpstreamRepositoryPrefix",
        "For an ECR upstream: the upstream repositories the rule caches (ROOT, the default: all).",
        min_length=PREFIX_MIN,
        max_length=PREFIX_MAX,
        pattern=PREFIX_PATTERN,
        refused=ROOT_LOOKALIKES,
        only_for=ECR,
    ),
    Property(
        "CredentialArn",
        "The ARN of the Secrets Manager secret (named ecr-pullthroughcache/...) with the upstream's "
        "username and accessToken.",
        min_length=CREDENTIAL_ARN_MIN,
        max_length=CREDENTIAL_ARN_MAX,
        pattern=CREDENTIAL_ARN_PATTERN,
    ),
    Property(
        "CustomRoleArn",
        "For an ECR upstream in another account: the IAM role (in this account) ECR assumes.",
        max_length=ROLE_ARN_MAX,
        pattern=ROLE_ARN_PATTERN,
        only_for=ECR,
    ),
    Property(
        "AdoptExisting",
        "'true': a Create that finds a rule with this prefix takes it over instead of failing.",
        boolean=True,
    ),
    Property(
        "ValidateCredentials",
        "'true': the deploy fails (and a new rule is removed) unless ECR can reach the upstream.",
        boolean=True,
    ),
)

BY_NAME: dict[str, Property] = {p.name: p for p in PROPERTIES}
NAMES: tuple[str, ...] = tuple(p.name for p in PROPERTIES)
REQUIRED: tuple[str, ...] = tuple(p.name for p in PROPERTIES if p.required)
# Every custom resource carries these; they are CloudFormation's, not the provider's: it
# accepts any value (CloudFormation checks them before it sends a request).
CLOUDFORMATION_OWNED: tuple[str, ...] = ("ServiceToken", "ServiceTimeout")
# Checked by the handler (and the lint rule) but not expressible in JSON Schema, which cannot
# compare parts of two values.
NOT_IN_SCHEMA = (
    "When ServiceToken is a Lambda function ARN, CredentialArn's secret must be in the same "
    "account and Region."
)


def json_schema() -> dict[str, Any]:
    """The contract as a JSON Schema (draft 07) of the resource's Properties: it accepts
    exactly what the handler's `parse` accepts, NOT_IN_SCHEMA aside."""
    properties: dict[str, Any] = {name: {"description": "CloudFormation's."} for name in CLOUDFORMATION_OWNED}
    for prop in PROPERTIES:
        properties[prop.name] = {"description": prop.summary, **_value_schema(prop)}
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "urn:ecr-pull-through-cache-provider:custom-pullthroughcacherule:properties",
        "title": f"{RESOURCE_TYPE} Properties",
        "description": (
            "The Properties of a Custom::PullThroughCacheRule as CloudFormation sends them to the "
            "provider (generated from src/handler/contract.py by ./dev contract; do not edit). "
            f"Not expressible here, and checked by the provider: {NOT_IN_SCHEMA}"
        ),
        "type": "object",
        "properties": properties,
        "required": list(REQUIRED),
        "additionalProperties": False,
        "allOf": _relations(),
    }


_UNPADDED = {"not": {"pattern": r"^\s|\s$"}}
_UNSET = [{"type": "null"}, {"const": ""}]


def _value_schema(prop: Property) -> dict[str, Any]:
    if prop.boolean:
        return {"anyOf": [{"type": "null"}, {"type": "boolean"}, _string(pattern=BOOLEAN_PATTERN)]}
    string = _string(
        min_length=prop.min_length, max_length=prop.max_length, pattern=prop.pattern, allowed=prop.allowed
    )
    if prop.refused:
        string["allOf"].append({"not": {"enum": list(prop.refused)}})
    if prop.name == "UpstreamRegistryUrl":  # any host name, but those people write for another
        string["allOf"].append({"not": {"enum": list(COMMON_MISTAKES)}})
    return string if prop.required else {"anyOf": [*_UNSET, string]}


def _string(
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    allowed: tuple[str, ...] = (),
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if min_length is not None:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    if pattern is not None:
        schema["pattern"] = pattern
    if allowed:
        schema["enum"] = list(allowed)
    schema["allOf"] = [_UNPADDED]
    return schema


def _url_is(pattern: str) -> dict[str, Any]:
    return {
        "properties": {"UpstreamRegistryUrl": {"type": "string", "pattern": pattern}},
        "required": ["UpstreamRegistryUrl"],
    }


def _relations() -> list[dict[str, Any]]:
    """Which properties go together, as if/then rules. An upstream host or kind this version
    does not know is left to ECR: the rules hold for the ones it knows."""
    rules: list[dict[str, Any]] = []
    for upstream in UPSTREAMS:  # a known kind must have its own hosts, a known host its own kind
        rules.append(
            {
                "if": {
                    "properties": {"UpstreamRegistry": {"const": upstream.kind}},
                    "required": ["UpstreamRegistry"],
                },
                "then": {"properties": {"UpstreamRegistryUrl": {"pattern": upstream.host_pattern}}},
            }
        )
        rules.append(
            {
                "if": _url_is(upstream.host_pattern),
                "then": {"properties": {"UpstreamRegistry": {"enum": ["", None, upstream.kind]}}},
            }
        )
    for upstream in UPSTREAMS:  # the upstreams ECR refuses to cache without a secret
        if upstream.needs_credential:
            rules.append(
                {
                    "if": _url_is(upstream.host_pattern),
                    "then": {
                        "properties": {"CredentialArn": {"type": "string", "minLength": 1}},
                        "required": ["CredentialArn"],
                    },
                }
            )
    only_for_ecr = [p.name for p in PROPERTIES if p.only_for == ECR]
    for upstream in UPSTREAMS:  # a known upstream other than ECR has none of ECR's own properties
        if upstream.kind != ECR:
            rules.append(
                {
                    "if": _url_is(upstream.host_pattern),
                    "then": {"properties": {name: {"enum": ["", None]} for name in only_for_ecr}},
                }
            )
    rules.append(  # ROOT for the whole registry caches the upstream's whole registry
        {
            "if": {
                "properties": {"EcrRepositoryPrefix": {"const": ROOT}},
                "required": ["EcrRepositoryPrefix"],
            },
            "then": {"properties": {"UpstreamRepositoryPrefix": {"enum": ["", None, ROOT]}}},
        }
    )
    return rules
