"""The resource's properties: CloudFormation's strings parsed into one immutable RuleSpec.

Every check the ECR API would make is made here first, and every problem found is
reported at once, each naming the property, the value and what to write instead.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from handler.upstreams import (
    COMMON_MISTAKES,
    ECR,
    REQUIRES_CREDENTIAL,
    SUPPORTED_URLS,
    UPSTREAM_REGISTRIES,
    infer_upstream_registry,
)

ROOT = "ROOT"
# The botocore model's pattern for ecrRepositoryPrefix and upstreamRepositoryPrefix.
PREFIX_PATTERN = re.compile(
    r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
)
PREFIX_MIN, PREFIX_MAX = 2, 30
# The botocore model's pattern for credentialArn, and the parts of it we explain separately.
CREDENTIAL_ARN_PATTERN = re.compile(
    r"^arn:aws(-\w+)*:secretsmanager:[a-zA-Z0-9-:]+:secret:ecr\-pullthroughcache\/[a-zA-Z0-9\/_+=.@-]+$"
)
CREDENTIAL_ARN_MIN, CREDENTIAL_ARN_MAX = 50, 612
SECRET_NAME_PREFIX = "ecr-pullthroughcache/"
_SECRET_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):secretsmanager:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"secret:(?P<name>.+)$"
)
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
ROLE_ARN_MAX = 2048
_LAMBDA_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):function:")

REQUIRED = ("EcrRepositoryPrefix", "UpstreamRegistryUrl")
OPTIONAL_STRINGS = ("UpstreamRegistry", "UpstreamRepositoryPrefix", "CredentialArn", "CustomRoleArn")
BOOLEANS = ("AdoptExisting", "ValidateCredentials")
# Every custom resource carries these; they are CloudFormation's, not ours.
CLOUDFORMATION_OWNED = ("ServiceToken", "ServiceTimeout")
KNOWN = REQUIRED + OPTIONAL_STRINGS + BOOLEANS


class InvalidProperties(Exception):
    """The properties cannot be used; `problems` holds one sentence per problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(describe_problems(problems))


def describe_problems(problems: list[str]) -> str:
    if len(problems) == 1:
        return f"Invalid properties: {problems[0]}"
    numbered = " ".join(f"({n}) {p}" for n, p in enumerate(problems, 1))
    return f"Invalid properties, {len(problems)} problems: {numbered}"


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


def prefix_problem(name: str, value: str) -> str | None:
    """Why `value` cannot be a repository prefix, or None when it can."""
    if not PREFIX_MIN <= len(value) <= PREFIX_MAX:
        return f"{name} '{value}' is {len(value)} characters long; it must be {PREFIX_MIN} to {PREFIX_MAX}."
    if not PREFIX_PATTERN.match(value):
        suggestion = suggest_prefix(value)
        hint = "use lowercase letters and digits, with '.', '_', '-' or '/' only between them"
        if suggestion:
            hint += f", e.g. '{suggestion}'"
        return f"{name} '{value}' is not a valid repository prefix: {hint} (or ROOT for the whole registry)."
    return None


def suggest_prefix(value: str) -> str | None:
    """A valid prefix close to `value`, or None."""
    words = [w for w in re.split(r"[^a-z0-9/]+", value.lower()) if w]
    suggestion = re.sub(r"/+", "/", "-".join(words).strip("/")).replace("-/", "/").replace("/-", "/")
    if PREFIX_MIN <= len(suggestion) <= PREFIX_MAX and PREFIX_PATTERN.match(suggestion):
        return suggestion
    return None


def is_rule_id(physical_id: str | None) -> bool:
    """True when a PhysicalResourceId can name a rule (ids of failed Creates never can)."""
    return bool(physical_id) and prefix_problem("id", str(physical_id)) is None


def parse(properties: Mapping[str, Any]) -> RuleSpec:
    """Parse ResourceProperties into a RuleSpec, or raise InvalidProperties listing every problem."""
    problems: list[str] = []
    problems += _unknown_names(properties)
    values: dict[str, str | None] = {}
    for name in REQUIRED + OPTIONAL_STRINGS:
        values[name] = _string(properties, name, problems)
    flags = {name: _boolean(properties, name, problems) for name in BOOLEANS}
    for name in REQUIRED:
        if name in properties and not values[name]:
            problems.append(f"{name} is empty; it is required.")
        elif name not in properties:
            problems.append(f"{name} is required and missing.")
    problems += _check_values(values, _service_token_location(properties))
    if problems:
        raise InvalidProperties(problems)
    prefix, url = values["EcrRepositoryPrefix"], values["UpstreamRegistryUrl"]
    assert prefix and url  # guaranteed by the checks above
    return RuleSpec(
        ecr_repository_prefix=prefix,
        upstream_registry_url=url,
        upstream_registry=values["UpstreamRegistry"],
        upstream_repository_prefix=values["UpstreamRepositoryPrefix"],
        credential_arn=values["CredentialArn"],
        custom_role_arn=values["CustomRoleArn"],
        adopt_existing=flags["AdoptExisting"],
        validate_credentials=flags["ValidateCredentials"],
    )


def _unknown_names(properties: Mapping[str, Any]) -> list[str]:
    problems = []
    for name in properties:
        if name in KNOWN or name in CLOUDFORMATION_OWNED:
            continue
        by_case = [k for k in KNOWN if k.lower() == str(name).lower()]
        close = by_case or difflib.get_close_matches(str(name), KNOWN, n=1, cutoff=0.6)
        if close:
            problems.append(f"Unknown property '{name}': did you mean '{close[0]}'?")
        else:
            problems.append(f"Unknown property '{name}': the properties are {', '.join(KNOWN)}.")
    return problems


def _string(properties: Mapping[str, Any], name: str, problems: list[str]) -> str | None:
    value = properties.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        problems.append(f"{name} must be a string, not {type(value).__name__} {value!r}.")
        return None
    text = str(value)
    if text != text.strip():
        problems.append(f"{name} '{text}' has leading or trailing spaces: write '{text.strip()}'.")
        return None
    return text or None  # an empty optional value means "not set"


def _boolean(properties: Mapping[str, Any], name: str, problems: list[str]) -> bool:
    value = properties.get(name, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value == "":
        return False
    problems.append(f"{name} must be 'true' or 'false', not {value!r}.")
    return False


def _service_token_location(properties: Mapping[str, Any]) -> tuple[str, str] | None:
    """(region, account) of the provider, read from the ServiceToken when it is a Lambda ARN."""
    match = _LAMBDA_ARN.match(str(properties.get("ServiceToken", "")))
    return (match["region"], match["account"]) if match else None


def _check_values(values: Mapping[str, str | None], location: tuple[str, str] | None) -> list[str]:
    problems: list[str] = []
    prefix = values["EcrRepositoryPrefix"]
    url = values["UpstreamRegistryUrl"]
    registry = values["UpstreamRegistry"]
    upstream_prefix = values["UpstreamRepositoryPrefix"]
    credential = values["CredentialArn"]
    role = values["CustomRoleArn"]

    if prefix and (problem := prefix_problem("EcrRepositoryPrefix", prefix)):
        problems.append(problem)
    if upstream_prefix and (problem := prefix_problem("UpstreamRepositoryPrefix", upstream_prefix)):
        problems.append(problem)

    if registry is not None and registry not in UPSTREAM_REGISTRIES:
        close = difflib.get_close_matches(registry.lower(), UPSTREAM_REGISTRIES, n=1, cutoff=0.5)
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(
            f"UpstreamRegistry '{registry}' is not one ECR supports: {hint}use one of "
            f"{', '.join(UPSTREAM_REGISTRIES)}, or leave it out to let ECR infer it from the URL."
        )
        registry = None
        effective = None
    else:
        effective = registry
    if url:
        effective, url_problems = _check_url(url, registry)
        problems += url_problems

    if effective in REQUIRES_CREDENTIAL and not credential:
        problems.append(
            f"CredentialArn is required for {effective} upstreams ({url}): store the registry's "
            f"username and accessToken in a Secrets Manager secret named "
            f"'{SECRET_NAME_PREFIX}<name>' and pass its ARN (e.g. !Ref MySecret)."
        )
    if credential:
        problems += _check_credential_arn(credential, location)
    if role:
        if effective is not None and effective != ECR:
            problems.append(
                f"CustomRoleArn is only for ECR upstreams (another account's registry); "
                f"this upstream is {effective}: remove CustomRoleArn."
            )
        elif len(role) > ROLE_ARN_MAX or not _ROLE_ARN.match(role):
            problems.append(
                f"CustomRoleArn '{role}' is not an IAM role ARN: write "
                f"arn:<partition>:iam::<account>:role/<name> (e.g. !GetAtt MyRole.Arn)."
            )
    if upstream_prefix:
        if effective is not None and effective != ECR:
            problems.append(
                f"UpstreamRepositoryPrefix is only for ECR upstreams; this upstream is "
                f"{effective}: remove UpstreamRepositoryPrefix."
            )
        elif prefix == ROOT:
            problems.append(
                "UpstreamRepositoryPrefix cannot be set when EcrRepositoryPrefix is ROOT: "
                "set a specific EcrRepositoryPrefix, or remove UpstreamRepositoryPrefix."
            )
    return problems


def _check_url(url: str, registry: str | None) -> tuple[str | None, list[str]]:
    """The effective upstream registry for `url`, and any problems with the URL."""
    if "://" in url or url.endswith("/"):
        host = url.split("://", 1)[-1].strip("/")
        return registry, [
            f"UpstreamRegistryUrl '{url}' must be a registry host name without a scheme or "
            f"path: write '{host}'."
        ]
    inferred = infer_upstream_registry(url)
    if inferred is None and registry is None:
        better = COMMON_MISTAKES.get(url.lower())
        hint = f"write '{better}'" if better else f"use one of {SUPPORTED_URLS}, or set UpstreamRegistry"
        # check the rest as if the URL were the one meant, so all problems show at once
        meant = infer_upstream_registry(better) if better else None
        return meant, [f"UpstreamRegistryUrl '{url}' is not an upstream ECR knows: {hint}."]
    if registry is not None and inferred is not None and inferred != registry:
        return registry, [
            f"UpstreamRegistry '{registry}' does not match UpstreamRegistryUrl '{url}', which is a "
            f"{inferred} upstream: set UpstreamRegistry to '{inferred}' or leave it out."
        ]
    return registry or inferred, []


def _check_credential_arn(arn: str, location: tuple[str, str] | None) -> list[str]:
    match = _SECRET_ARN.match(arn)
    if not match:
        return [
            f"CredentialArn '{arn}' is not a Secrets Manager secret ARN: pass the secret's ARN, "
            f"arn:<partition>:secretsmanager:<region>:<account>:secret:{SECRET_NAME_PREFIX}<name> "
            f"(e.g. !Ref MySecret)."
        ]
    problems = []
    if not match["name"].startswith(SECRET_NAME_PREFIX):
        problems.append(
            f"CredentialArn names the secret '{match['name']}', but ECR only reads secrets whose "
            f"name starts with '{SECRET_NAME_PREFIX}': create the secret as "
            f"'{SECRET_NAME_PREFIX}{match['name']}' and pass that ARN."
        )
    elif not CREDENTIAL_ARN_MIN <= len(arn) <= CREDENTIAL_ARN_MAX:
        problems.append(
            f"CredentialArn '{arn}' is {len(arn)} characters long; ECR accepts "
            f"{CREDENTIAL_ARN_MIN} to {CREDENTIAL_ARN_MAX}: pass the secret's full ARN."
        )
    elif not CREDENTIAL_ARN_PATTERN.match(arn):
        problems.append(
            f"CredentialArn '{arn}' has characters ECR does not accept in a secret name: "
            "use letters, digits and / _ + = . @ -."
        )
    if location is not None:
        region, account = location
        if (match["region"], match["account"]) != (region, account):
            problems.append(
                f"CredentialArn's secret is in {match['region']}/{match['account']}, but the rule "
                f"is created in {region}/{account}: ECR reads secrets only from the rule's own "
                "account and Region; create the secret there."
            )
    return problems
