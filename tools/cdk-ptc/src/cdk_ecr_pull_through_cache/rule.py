"""PullThroughCacheRule: one Custom::PullThroughCacheRule, served by the provider stack."""

from __future__ import annotations

from typing import Any

from aws_cdk import Annotations, ArnFormat, CustomResource, Fn, RemovalPolicy, Stack, Token
from aws_cdk import aws_iam as iam
from constructs import Construct

from ecr_ptc_contract import RESOURCE_TYPE, ROOT
from ecr_ptc_contract.attributes import CREATED_AT, REGISTRY_ID, UPDATED_AT

from .checks import InvalidPullThroughCacheRule, left_to_ecr, problems
from .keywords import known_keywords

__all__ = [
    "AUTHORIZATION_ACTIONS",
    "DEFAULT_PROVIDER_STACK_NAME",
    "LEFT_TO_ECR_WARNING",
    "PULL_ACTIONS",
    "RESOURCE_TYPE",
    "PullThroughCacheRule",
]

# The id of the synth-time warning for an upstream the provider leaves to ECR (as lint's W9101).
LEFT_TO_ECR_WARNING = "ecr-pull-through-cache:upstreamLeftToEcr"
DEFAULT_PROVIDER_STACK_NAME = "ecr-ptc-provider"  # the provider's samconfig.toml; exports <name>-ServiceToken
# What pulling an image through the cache takes, on the repositories under the rule's prefix:
# reading the image, and on the first pull of an upstream image, creating its repository and
# importing the image into it (the pull actions alone fail with 'not authorized').
PULL_ACTIONS = (
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchImportUpstreamImage",
    "ecr:CreateRepository",
)
AUTHORIZATION_ACTIONS = ("ecr:GetAuthorizationToken",)  # no resource-level permissions: "*"


class PullThroughCacheRule(Construct):
    """An Amazon ECR pull-through cache rule, as a `Custom::PullThroughCacheRule` served by the
    provider deployed once per account and Region (by default its stack `ecr-ptc-provider`'s
    export `ecr-ptc-provider-ServiceToken`).

    The keyword names are those of Terraform's `aws_ecr_pull_through_cache_rule`; the
    properties written are the CloudFormation ones (`EcrRepositoryPrefix`, ...), every value a
    string. Literal values are checked when the construct is made, with the provider's own
    rules and messages (InvalidPullThroughCacheRule); values that tokens stand for are checked
    by the provider at deploy time. An upstream host or kind this version does not know is a
    warning annotation (LEFT_TO_ECR_WARNING), not an error: ECR decides when the stack deploys.
    """

    @known_keywords  # an unknown keyword: a TypeError that names it, its value and the fix
    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        ecr_repository_prefix: str,
        upstream_registry_url: str,
        credential_arn: Any = None,
        upstream_registry: str | None = None,
        upstream_repository_prefix: str | None = None,
        custom_role_arn: Any = None,
        adopt_existing: bool = False,
        validate_credentials: bool = False,
        service_token: str | None = None,
        provider_stack_name: str | None = None,
        removal_policy: RemovalPolicy | None = None,
    ) -> None:
        """`credential_arn`: an ISecret (its `secret_arn`) or a secret's ARN; `custom_role_arn`:
        an IRole (its `role_arn`) or a role's ARN. `service_token`: the provider function's ARN;
        by default `Fn::ImportValue` of `<provider_stack_name>-ServiceToken`
        (`provider_stack_name` defaults to 'ecr-ptc-provider'). `removal_policy`: RETAIN keeps
        the rule in ECR when the resource leaves the stack (as DeletionPolicy: Retain)."""
        super().__init__(scope, id)
        if service_token is not None and provider_stack_name is not None:
            raise ValueError(
                f"PullThroughCacheRule {self.node.path}: give service_token or provider_stack_name, "
                "not both (service_token is the provider's ARN; provider_stack_name names the stack "
                "whose <name>-ServiceToken export is imported)."
            )
        if service_token is None:
            stack_name = DEFAULT_PROVIDER_STACK_NAME if provider_stack_name is None else provider_stack_name
            service_token = Fn.import_value(f"{stack_name}-ServiceToken")
        self._literal_prefix = None if Token.is_unresolved(ecr_repository_prefix) else ecr_repository_prefix
        properties: dict[str, Any] = {
            "ServiceToken": service_token,
            "EcrRepositoryPrefix": ecr_repository_prefix,
            "UpstreamRegistryUrl": upstream_registry_url,
            "UpstreamRegistry": upstream_registry,
            "UpstreamRepositoryPrefix": upstream_repository_prefix,
            "CredentialArn": _arn(
                credential_arn, "secret_arn", "credential_arn", "an ISecret or a secret's ARN"
            ),
            "CustomRoleArn": _arn(custom_role_arn, "role_arn", "custom_role_arn", "an IRole or a role's ARN"),
            "AdoptExisting": _flag(adopt_existing, "adopt_existing"),
            "ValidateCredentials": _flag(validate_credentials, "validate_credentials"),
        }
        found = problems(properties, Token.is_unresolved)
        if found:
            raise InvalidPullThroughCacheRule(self.node.path, found)
        for warning in left_to_ecr(properties, Token.is_unresolved):  # shown by cdk synth, not fatal
            Annotations.of(self).add_warning_v2(LEFT_TO_ECR_WARNING, warning.message)
        self.resource = CustomResource(
            self,
            "Resource",
            service_token=service_token,
            resource_type=RESOURCE_TYPE,
            properties={k: v for k, v in properties.items() if v is not None and k != "ServiceToken"},
            removal_policy=removal_policy,
        )

    # ---- attributes ------------------------------------------------------------------------

    @property
    def ecr_repository_prefix(self) -> str:
        """The rule's prefix (`Ref`: the physical id, exactly as given)."""
        return self.resource.ref

    @property
    def registry_id(self) -> str:
        """The account id of the registry that holds the rule."""
        return self.resource.get_att_string(REGISTRY_ID)

    @property
    def created_at(self) -> str:
        """When ECR created the rule (ISO 8601)."""
        return self.resource.get_att_string(CREATED_AT)

    @property
    def updated_at(self) -> str:
        """When ECR last changed the rule (ISO 8601; a new rule's is its CreatedAt)."""
        return self.resource.get_att_string(UPDATED_AT)

    @property
    def registry_host(self) -> str:
        """`<RegistryId>.dkr.ecr.<region>.<URL suffix>`: the registry images are pulled from."""
        stack = Stack.of(self)
        return Fn.join(".", [self.registry_id, "dkr", "ecr", stack.region, stack.url_suffix])

    @property
    def repository_uri_prefix(self) -> str:
        """Where the cached repositories are: `<registry host>/<prefix>`, or the registry host
        alone for a ROOT rule (its repositories have no prefix)."""
        if self._literal_prefix is not None:
            prefix = _canonical(self._literal_prefix)
            return self.registry_host if prefix == ROOT else Fn.join("/", [self.registry_host, prefix])
        # The prefix is a token: drop "/ROOT" at deploy time (no other prefix can hold it: the
        # prefix pattern is lowercase, and so are the registry host's parts).
        joined = Fn.join("/", [self.registry_host, self.ecr_repository_prefix])
        return Fn.join("", Fn.split("/ROOT", joined))

    def repository_uri(self, upstream_repository: str) -> str:
        """The URI to pull `upstream_repository` (e.g. 'prometheus/prometheus', or for Docker
        Hub's official images 'library/nginx') through the cache; add ':tag' or '@digest'."""
        return Fn.join("/", [self.repository_uri_prefix, upstream_repository.strip("/")])

    # ---- permissions -----------------------------------------------------------------------

    def repository_arn_pattern(self) -> str:
        """The ARN of every repository the rule caches into: `repository/<prefix>/*`, or
        `repository/*` for a ROOT rule."""
        stack = Stack.of(self)
        if self._literal_prefix is not None:
            prefix = _canonical(self._literal_prefix)
            name = "*" if prefix == ROOT else f"{prefix}/*"
        else:
            name = Fn.join("", Fn.split("ROOT/", Fn.join("", [self.ecr_repository_prefix, "/*"])))
        return stack.format_arn(
            service="ecr", resource="repository", resource_name=name, arn_format=ArnFormat.SLASH_RESOURCE_NAME
        )

    def grant_pull(self, grantee: iam.IGrantable) -> iam.Grant:
        """Let `grantee` pull images through the cache: the pull actions on the rule's
        repositories, with ecr:BatchImportUpstreamImage and ecr:CreateRepository that the first
        pull of an image needs, and ecr:GetAuthorizationToken (on "*", its only resource)."""
        pull = iam.Grant.add_to_principal(
            grantee=grantee, actions=list(PULL_ACTIONS), resource_arns=[self.repository_arn_pattern()]
        )
        login = iam.Grant.add_to_principal(
            grantee=grantee, actions=list(AUTHORIZATION_ACTIONS), resource_arns=["*"]
        )
        return pull.combine(login)


def _arn(value: Any, attribute: str, keyword: str, expected: str) -> str | None:
    """A string as it is; an ISecret's secret_arn, an IRole's role_arn. (Read by name: jsii's
    proxies of imported secrets and roles answer attributes dynamically, which isinstance of a
    typing.Protocol does not see.)"""
    if value is None or isinstance(value, str):
        return value
    arn = getattr(value, attribute, None)
    if isinstance(arn, str):
        return arn
    raise TypeError(f"{keyword} must be {expected}, not {type(value).__name__}.")


def _flag(value: bool, keyword: str) -> str | None:
    """CloudFormation sends every scalar as a string: "true"; False is left out (the default)."""
    if not isinstance(value, bool):
        raise TypeError(f"{keyword} must be True or False, not {type(value).__name__} {value!r}.")
    return "true" if value else None


def _canonical(prefix: str) -> str:
    """ECR reads every prefix as ending in '/': 'docker-hub/' is the rule 'docker-hub'."""
    return prefix if prefix == ROOT else prefix.rstrip("/")
