"""PullThroughCacheRule through the real aws-cdk-lib: the template it synthesizes (properties as
strings, the ServiceToken, removal policy), its attributes computed for every kind of prefix,
grant_pull's statements, and the synth-time checks (the provider's own messages for literal
mistakes, nothing for what tokens compute)."""

from __future__ import annotations

import inspect
import re
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from cdk_ecr_pull_through_cache import (
    LEFT_TO_ECR_WARNING,
    RESOURCE_TYPE,
    InvalidPullThroughCacheRule,
    PullThroughCacheRule,
)
from cdk_ecr_pull_through_cache.checks import IDIOMS, KEYWORDS

from ecr_ptc_contract import NAMES, VERSION
from ecr_ptc_contract import warnings as contract_warnings
from handler.attributes import registry_host
from handler.properties import InvalidProperties, parse
from tests.cdk import cdk_env
from tests.cdk.synth import ACCOUNT, PSEUDO, REGION, evaluate, logical_id, new_stack, only_rule, template
from tests.helpers import PARTITIONS

SECRET_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/ghcr-AbCdEf"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ecr-ptc-upstream"
UPSTREAM_ECR = f"999988887777.dkr.ecr.{REGION}.amazonaws.com"
DEFAULT_TOKEN = {"Fn::ImportValue": "ecr-ptc-provider-ServiceToken"}
HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"


def test_the_cdk_and_dot_venv_share_no_distribution_at_another_version() -> None:
    assert cdk_env.disagreements() == []


def test_the_package_reports_the_providers_version() -> None:
    import cdk_ecr_pull_through_cache

    assert cdk_ecr_pull_through_cache.__version__ == VERSION


# ---- the resource ---------------------------------------------------------------------------


def test_the_required_keywords_make_a_rule_served_by_the_default_providers_export() -> None:
    stack = new_stack()
    PullThroughCacheRule(stack, "Quay", ecr_repository_prefix="quay", upstream_registry_url="quay.io")
    resource = only_rule(stack)
    assert resource["Type"] == RESOURCE_TYPE == "Custom::PullThroughCacheRule"
    assert resource["Properties"] == {
        "ServiceToken": DEFAULT_TOKEN,
        "EcrRepositoryPrefix": "quay",
        "UpstreamRegistryUrl": "quay.io",
    }
    assert resource["DeletionPolicy"] == "Delete"


def test_every_keyword_becomes_its_cloudformation_property_as_a_string() -> None:
    stack = new_stack()
    PullThroughCacheRule(
        stack,
        "Shared",
        ecr_repository_prefix="shared",
        upstream_registry_url=UPSTREAM_ECR,
        upstream_registry="ecr",
        upstream_repository_prefix="team",
        custom_role_arn=ROLE_ARN,
        adopt_existing=True,
        validate_credentials=True,
    )
    assert only_rule(stack)["Properties"] == {
        "ServiceToken": DEFAULT_TOKEN,
        "EcrRepositoryPrefix": "shared",
        "UpstreamRegistryUrl": UPSTREAM_ECR,
        "UpstreamRegistry": "ecr",
        "UpstreamRepositoryPrefix": "team",
        "CustomRoleArn": ROLE_ARN,
        "AdoptExisting": "true",
        "ValidateCredentials": "true",
    }


def test_a_secret_and_a_role_are_taken_as_constructs_or_as_arns() -> None:
    stack = new_stack()
    secret = secretsmanager.Secret(stack, "GhcrToken", secret_name="ecr-pullthroughcache/ghcr")
    role = iam.Role(
        stack, "UpstreamRole", assumed_by=iam.ServicePrincipal("pullthroughcache.ecr.amazonaws.com")
    )
    PullThroughCacheRule(
        stack, "Ghcr", ecr_repository_prefix="ghcr", upstream_registry_url="ghcr.io", credential_arn=secret
    )
    PullThroughCacheRule(
        stack, "Ecr", ecr_repository_prefix="ecr", upstream_registry_url=UPSTREAM_ECR, custom_role_arn=role
    )
    PullThroughCacheRule(
        stack,
        "GhcrByArn",
        ecr_repository_prefix="ghcr-2",
        upstream_registry_url="ghcr.io",
        credential_arn=SECRET_ARN,
    )
    found = template(stack).find_resources(RESOURCE_TYPE)
    by_prefix = {r["Properties"]["EcrRepositoryPrefix"]: r["Properties"] for r in found.values()}
    secret_id = logical_id(secret)
    role_id = logical_id(role)
    assert by_prefix["ghcr"]["CredentialArn"] == {"Ref": secret_id}
    assert by_prefix["ecr"]["CustomRoleArn"] == {"Fn::GetAtt": [role_id, "Arn"]}
    assert by_prefix["ghcr-2"]["CredentialArn"] == SECRET_ARN


def test_an_imported_secret_and_role_give_their_literal_arns() -> None:
    stack = new_stack()
    secret = secretsmanager.Secret.from_secret_complete_arn(stack, "Token", SECRET_ARN)
    PullThroughCacheRule(
        stack, "Ghcr", ecr_repository_prefix="ghcr", upstream_registry_url="ghcr.io", credential_arn=secret
    )
    role = iam.Role.from_role_arn(stack, "Role", ROLE_ARN)
    PullThroughCacheRule(
        stack, "Ecr", ecr_repository_prefix="ecr", upstream_registry_url=UPSTREAM_ECR, custom_role_arn=role
    )
    found = template(stack).find_resources(RESOURCE_TYPE)
    by_prefix = {r["Properties"]["EcrRepositoryPrefix"]: r["Properties"] for r in found.values()}
    assert by_prefix["ghcr"]["CredentialArn"] == SECRET_ARN
    assert by_prefix["ecr"]["CustomRoleArn"] == ROLE_ARN


def test_anything_else_as_a_secret_or_a_role_is_refused_by_type() -> None:
    stack = new_stack()
    with pytest.raises(TypeError, match="credential_arn must be an ISecret or a secret's ARN, not int"):
        PullThroughCacheRule(
            stack, "A", ecr_repository_prefix="ghcr", upstream_registry_url="ghcr.io", credential_arn=12
        )
    with pytest.raises(TypeError, match="custom_role_arn must be an IRole or a role's ARN, not dict"):
        PullThroughCacheRule(
            stack, "B", ecr_repository_prefix="e", upstream_registry_url=UPSTREAM_ECR, custom_role_arn={}
        )
    with pytest.raises(TypeError, match="adopt_existing must be True or False, not str 'true'"):
        PullThroughCacheRule(
            stack, "C", ecr_repository_prefix="quay", upstream_registry_url="quay.io", adopt_existing="true"
        )


@pytest.mark.parametrize(
    ("keywords", "token"),
    [
        ({}, DEFAULT_TOKEN),
        ({"provider_stack_name": "shared-ptc"}, {"Fn::ImportValue": "shared-ptc-ServiceToken"}),
        (
            {"service_token": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ptc"},
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ptc",
        ),
    ],
)
def test_the_service_token_is_the_export_by_default_or_the_one_given(
    keywords: dict[str, Any], token: Any
) -> None:
    stack = new_stack()
    PullThroughCacheRule(
        stack, "Quay", ecr_repository_prefix="quay", upstream_registry_url="quay.io", **keywords
    )
    assert only_rule(stack)["Properties"]["ServiceToken"] == token


def test_a_service_token_that_a_token_computes_is_written_as_it_is() -> None:
    stack = new_stack()
    parameter = cdk.CfnParameter(stack, "ProviderArn")
    PullThroughCacheRule(
        stack,
        "Quay",
        ecr_repository_prefix="quay",
        upstream_registry_url="quay.io",
        service_token=parameter.value_as_string,
    )
    assert only_rule(stack)["Properties"]["ServiceToken"] == {"Ref": "ProviderArn"}


def test_a_service_token_and_a_provider_stack_name_together_are_refused() -> None:
    with pytest.raises(ValueError, match="give service_token or provider_stack_name, not both"):
        PullThroughCacheRule(
            new_stack(),
            "Quay",
            ecr_repository_prefix="quay",
            upstream_registry_url="quay.io",
            service_token="arn:aws:lambda:us-east-1:123456789012:function:ptc",
            provider_stack_name="other",
        )


def test_removal_policy_retain_keeps_the_rule_when_the_resource_leaves_the_stack() -> None:
    stack = new_stack()
    PullThroughCacheRule(
        stack,
        "Quay",
        ecr_repository_prefix="quay",
        upstream_registry_url="quay.io",
        removal_policy=cdk.RemovalPolicy.RETAIN,
    )
    resource = only_rule(stack)
    assert (resource["DeletionPolicy"], resource["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_construct_holds_a_custom_resource_as_its_default_child() -> None:
    stack = new_stack()
    rule = PullThroughCacheRule(stack, "Quay", ecr_repository_prefix="quay", upstream_registry_url="quay.io")
    assert rule.node.default_child is rule.resource
    assert isinstance(rule.resource, cdk.CustomResource)
    resource = rule.resource.node.default_child
    assert isinstance(resource, cdk.CfnResource)
    assert resource.cfn_resource_type == RESOURCE_TYPE


# ---- attributes ------------------------------------------------------------------------------


def attributes_of(
    rule: PullThroughCacheRule, **refs: str
) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    """What CloudFormation will compute for the rule's Ref and attributes (the prefix as the
    provider answers it) and for the given parameters."""
    rule_id = logical_id(rule.resource)
    prefix = refs.pop("prefix")
    ref_values = {**PSEUDO, rule_id: prefix, **refs}
    attribute_values = {
        (rule_id, "RegistryId"): ACCOUNT,
        (rule_id, "CreatedAt"): "2025-01-31T12:00:00+00:00",
        (rule_id, "UpdatedAt"): "2025-02-01T12:00:00+00:00",
    }
    return ref_values, attribute_values


def computed(rule: PullThroughCacheRule, value: str, **refs: str) -> Any:
    stack = cdk.Stack.of(rule)
    ref_values, attribute_values = attributes_of(rule, **refs)
    return evaluate(stack.resolve(value), ref_values, attribute_values)


def test_ref_and_the_attributes_name_what_the_provider_answers() -> None:
    stack = new_stack()
    rule = PullThroughCacheRule(stack, "Quay", ecr_repository_prefix="quay", upstream_registry_url="quay.io")
    rule_id = logical_id(rule.resource)
    assert stack.resolve(rule.ecr_repository_prefix) == {"Ref": rule_id}
    assert stack.resolve(rule.registry_id) == {"Fn::GetAtt": [rule_id, "RegistryId"]}
    assert stack.resolve(rule.created_at) == {"Fn::GetAtt": [rule_id, "CreatedAt"]}
    assert stack.resolve(rule.updated_at) == {"Fn::GetAtt": [rule_id, "UpdatedAt"]}
    assert computed(rule, rule.created_at, prefix="quay") == "2025-01-31T12:00:00+00:00"
    assert computed(rule, rule.updated_at, prefix="quay") == "2025-02-01T12:00:00+00:00"


@pytest.mark.parametrize(
    ("prefix", "uri_prefix"),
    [
        ("quay", f"{HOST}/quay"),
        ("team/quay", f"{HOST}/team/quay"),
        ("quay/", f"{HOST}/quay"),  # ECR reads 'quay/' as the rule 'quay'
        ("ROOT", HOST),  # a ROOT rule's repositories have no prefix
    ],
)
def test_the_repository_uri_prefix_is_right_for_every_literal_prefix(prefix: str, uri_prefix: str) -> None:
    stack = new_stack()
    rule = PullThroughCacheRule(stack, "Quay", ecr_repository_prefix=prefix, upstream_registry_url="quay.io")
    assert computed(rule, rule.registry_host, prefix=prefix) == HOST
    assert computed(rule, rule.repository_uri_prefix, prefix=prefix) == uri_prefix
    uri = computed(rule, rule.repository_uri("prometheus/prometheus"), prefix=prefix)
    assert uri == f"{uri_prefix}/prometheus/prometheus"


@pytest.mark.parametrize(("value", "uri_prefix"), [("quay", f"{HOST}/quay"), ("ROOT", HOST)])
def test_the_repository_uri_prefix_is_right_when_a_parameter_gives_the_prefix(
    value: str, uri_prefix: str
) -> None:
    stack = new_stack()
    parameter = cdk.CfnParameter(stack, "Prefix")
    rule = PullThroughCacheRule(
        stack, "Quay", ecr_repository_prefix=parameter.value_as_string, upstream_registry_url="quay.io"
    )
    assert computed(rule, rule.repository_uri_prefix, prefix=value, Prefix=value) == uri_prefix
    assert (
        computed(rule, rule.repository_uri("/library/nginx"), prefix=value) == f"{uri_prefix}/library/nginx"
    )


def test_the_attributes_are_usable_as_outputs_in_the_template() -> None:
    stack = new_stack()
    rule = PullThroughCacheRule(
        stack, "Root", ecr_repository_prefix="ROOT", upstream_registry_url="public.ecr.aws"
    )
    cdk.CfnOutput(stack, "Uri", value=rule.repository_uri("docker/library/nginx"))
    outputs = template(stack).find_outputs("Uri")
    ref_values, attribute_values = attributes_of(rule, prefix="ROOT")
    assert evaluate(outputs["Uri"]["Value"], ref_values, attribute_values) == f"{HOST}/docker/library/nginx"


# ---- grant_pull ------------------------------------------------------------------------------

PULL = [
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchImportUpstreamImage",
    "ecr:CreateRepository",
]


def granted(stack: cdk.Stack, role: iam.Role, **refs: str) -> list[dict[str, Any]]:
    """The statements of the role's policy, their resources computed."""
    policies = template(stack).find_resources("AWS::IAM::Policy")
    (policy,) = policies.values()
    role_id = logical_id(role)
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    statements: list[dict[str, Any]] = policy["Properties"]["PolicyDocument"]["Statement"]
    return [{**s, "Resource": evaluate(s["Resource"], {**PSEUDO, **refs})} for s in statements]


@pytest.mark.parametrize(
    ("prefix", "repositories"),
    [("quay", "repository/quay/*"), ("team/quay/", "repository/team/quay/*"), ("ROOT", "repository/*")],
)
def test_grant_pull_allows_the_first_pull_through_the_cache_on_the_prefixs_repositories(
    prefix: str, repositories: str
) -> None:
    stack = new_stack()
    rule = PullThroughCacheRule(stack, "Quay", ecr_repository_prefix=prefix, upstream_registry_url="quay.io")
    role = iam.Role(stack, "Task", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    grant = rule.grant_pull(role)
    assert grant.success
    assert granted(stack, role) == [
        {"Action": PULL, "Effect": "Allow", "Resource": f"arn:aws:ecr:{REGION}:{ACCOUNT}:{repositories}"},
        {"Action": "ecr:GetAuthorizationToken", "Effect": "Allow", "Resource": "*"},
    ]


@pytest.mark.parametrize(("value", "repositories"), [("quay", "repository/quay/*"), ("ROOT", "repository/*")])
def test_grant_pull_is_scoped_right_when_a_parameter_gives_the_prefix(value: str, repositories: str) -> None:
    stack = new_stack()
    parameter = cdk.CfnParameter(stack, "Prefix")
    rule = PullThroughCacheRule(
        stack, "Quay", ecr_repository_prefix=parameter.value_as_string, upstream_registry_url="quay.io"
    )
    role = iam.Role(stack, "Task", assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"))
    rule.grant_pull(role)
    rule_id = logical_id(rule.resource)
    pull, _ = granted(stack, role, **{rule_id: value})
    assert pull["Resource"] == f"arn:aws:ecr:{REGION}:{ACCOUNT}:{repositories}"


# ---- synth-time checks: the provider's messages -----------------------------------------------


def provider_problems(properties: dict[str, str]) -> list[str]:
    """What the provider itself (src/handler) answers for these properties."""
    with pytest.raises(InvalidProperties) as refused:
        parse(properties)
    return refused.value.problems


MISTAKES = [
    pytest.param(
        {
            "ecr_repository_prefix": "ghcr",
            "upstream_registry_url": "ghcr.io/myorg",
            "credential_arn": SECRET_ARN,
        },
        id="url-path",
    ),
    pytest.param(
        {"ecr_repository_prefix": "hub", "upstream_registry_url": "docker.io", "credential_arn": SECRET_ARN},
        id="docker.io",
    ),
    pytest.param(
        {"ecr_repository_prefix": "hub", "upstream_registry_url": "registry-1.docker.io"}, id="no-credential"
    ),
    pytest.param(
        {"ecr_repository_prefix": "Docker_Hub", "upstream_registry_url": "quay.io"}, id="prefix-pattern"
    ),
    pytest.param({"ecr_repository_prefix": "root", "upstream_registry_url": "quay.io"}, id="root-lowercase"),
    pytest.param(
        {
            "ecr_repository_prefix": "ghcr",
            "upstream_registry_url": "ghcr.io",
            "credential_arn": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ghcr-token-AbCdEf",
        },
        id="secret-name",
    ),
    pytest.param(
        {
            "ecr_repository_prefix": "quay",
            "upstream_registry_url": "quay.io",
            "upstream_repository_prefix": "team",
        },
        id="ecr-only",
    ),
    pytest.param(
        {"ecr_repository_prefix": "e", "upstream_registry_url": UPSTREAM_ECR, "custom_role_arn": "my-role"},
        id="two",
    ),
    pytest.param(
        {"ecr_repository_prefix": "quay", "upstream_registry_url": "quay.io", "upstream_registry": "quai"},
        id="registry",
    ),
]
CLOUDFORMATION = {
    "ecr_repository_prefix": "EcrRepositoryPrefix",
    "upstream_registry_url": "UpstreamRegistryUrl",
    "credential_arn": "CredentialArn",
    "upstream_repository_prefix": "UpstreamRepositoryPrefix",
    "custom_role_arn": "CustomRoleArn",
    "upstream_registry": "UpstreamRegistry",
}


def in_cloudformation_words(message: str) -> str:
    """A message of the construct with each keyword put back as the CloudFormation property it
    gives, and each idiom as the template's: what the provider says (the reverse of the
    construct's wording, written out here apart from it)."""
    for name, keyword in KEYWORDS.items():
        message = re.sub(rf"\b{keyword}='", f"{name} '", message)
        message = re.sub(rf"\b{keyword}'s\b", f"{name}'s", message)
        message = re.sub(rf"\b{keyword}=", name, message)
    for idiom, said in IDIOMS.items():
        message = message.replace(said, idiom)
    return message


def cloudformation_names_in(message: str) -> list[str]:
    return [w for w in (*KEYWORDS, *IDIOMS) if re.search(rf"(?<![\w'!]){re.escape(w)}\b", message)]


@pytest.mark.parametrize("keywords", MISTAKES)
def test_a_literal_mistake_is_refused_at_synth_time_with_the_providers_own_message(
    keywords: dict[str, str],
) -> None:
    expected = provider_problems({CLOUDFORMATION[k]: v for k, v in keywords.items()})
    stack = new_stack()
    with pytest.raises(InvalidPullThroughCacheRule) as refused:
        PullThroughCacheRule(stack, "Cache", **keywords)
    assert [in_cloudformation_words(p) for p in refused.value.problems] == expected
    assert refused.value.path == "Consumer/Cache"
    assert str(refused.value).startswith("PullThroughCacheRule Consumer/Cache: ")
    assert all(p in str(refused.value) for p in refused.value.problems)
    assert template(stack).find_resources(RESOURCE_TYPE) == {}


def test_a_message_names_the_keyword_argument_and_the_value_as_the_user_wrote_them() -> None:
    with pytest.raises(InvalidPullThroughCacheRule) as refused:
        PullThroughCacheRule(
            new_stack(),
            "Ghcr",
            ecr_repository_prefix="ghcr",
            upstream_registry_url="ghcr.io/myorg",
            credential_arn=SECRET_ARN,
        )
    assert refused.value.problems == [
        "upstream_registry_url='ghcr.io/myorg' has a path: drop the path, write 'ghcr.io'."
    ]
    with pytest.raises(InvalidPullThroughCacheRule) as refused:
        PullThroughCacheRule(
            new_stack(), "Hub", ecr_repository_prefix="hub", upstream_registry_url="docker.io"
        )
    assert refused.value.problems[1] == (
        "credential_arn= is required for docker-hub upstreams: store the registry's username and "
        "accessToken in a Secrets Manager secret named 'ecr-pullthroughcache/<name>' and pass its ARN "
        "(e.g. an ISecret)."
    )


LONG_SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/{'a' * 600}"
# One case for each sentence of the contract the construct can say (each place the contract
# makes a Problem that keywords can reach: not an unknown property, nor a boolean that is not
# 'true' or 'false', which the construct's own signature and TypeErrors stop first).
EVERY_SENTENCE = {
    "required-and-missing": {"ecr_repository_prefix": None, "upstream_registry_url": "quay.io"},
    "empty": {"ecr_repository_prefix": "", "upstream_registry_url": "quay.io"},
    "not-a-string": {
        "ecr_repository_prefix": "quay",
        "upstream_registry_url": "quay.io",
        "upstream_registry": 5,
    },
    "only-spaces": {
        "ecr_repository_prefix": "quay",
        "upstream_registry_url": "quay.io",
        "upstream_registry": " ",
    },
    "spaces-around": {"ecr_repository_prefix": " quay", "upstream_registry_url": "quay.io"},
    "prefix-length": {"ecr_repository_prefix": "q", "upstream_registry_url": "quay.io"},
    "prefix-root": {"ecr_repository_prefix": "root", "upstream_registry_url": "quay.io"},
    "prefix-pattern": {"ecr_repository_prefix": "Docker_Hub", "upstream_registry_url": "quay.io"},
    "kind-pattern": {
        "ecr_repository_prefix": "quay",
        "upstream_registry_url": "quay.io",
        "upstream_registry": "Quay!",
    },
    "not-a-host": {"ecr_repository_prefix": "quay", "upstream_registry_url": "not a host"},
    "url-too-long": {"ecr_repository_prefix": "quay", "upstream_registry_url": "a" * 300},
    "kind-and-url-disagree": {
        "ecr_repository_prefix": "quay",
        "upstream_registry_url": "quay.io",
        "upstream_registry": "k8s",
    },
    "not-this-kinds-host": {
        "ecr_repository_prefix": "gitlab",
        "upstream_registry_url": "gitlab.example.com",
        "upstream_registry": "gitlab-container-registry",
        "credential_arn": SECRET_ARN,
    },
    "url-shape": {"ecr_repository_prefix": "quay", "upstream_registry_url": "https://Quay.io/"},
    "url-common-mistake": {
        "ecr_repository_prefix": "hub",
        "upstream_registry_url": "docker.io",
        "credential_arn": SECRET_ARN,
    },
    "only-for-ecr": {
        "ecr_repository_prefix": "quay",
        "upstream_registry_url": "quay.io",
        "custom_role_arn": ROLE_ARN,
    },
    "root-and-upstream-prefix": {
        "ecr_repository_prefix": "ROOT",
        "upstream_registry_url": UPSTREAM_ECR,
        "upstream_repository_prefix": "team",
    },
    "upstream-prefix-pattern": {
        "ecr_repository_prefix": "ecr",
        "upstream_registry_url": UPSTREAM_ECR,
        "upstream_repository_prefix": "Team!",
    },
    "credential-required": {"ecr_repository_prefix": "hub", "upstream_registry_url": "registry-1.docker.io"},
    "credential-too-long": {
        "ecr_repository_prefix": "ghcr",
        "upstream_registry_url": "ghcr.io",
        "credential_arn": LONG_SECRET,
    },
    "credential-not-an-arn": {
        "ecr_repository_prefix": "ghcr",
        "upstream_registry_url": "ghcr.io",
        "credential_arn": "token",
    },
    "credential-name": {
        "ecr_repository_prefix": "ghcr",
        "upstream_registry_url": "ghcr.io",
        "credential_arn": SECRET_ARN.replace("ecr-pullthroughcache/", ""),
    },
    "credential-characters": {
        "ecr_repository_prefix": "ghcr",
        "upstream_registry_url": "ghcr.io",
        "credential_arn": SECRET_ARN.replace("/ghcr", "/gh#cr"),
    },
    "credential-elsewhere": {
        "ecr_repository_prefix": "ghcr",
        "upstream_registry_url": "ghcr.io",
        "credential_arn": SECRET_ARN.replace(REGION, "eu-west-1"),
        "service_token": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ptc",
    },
    "role-not-an-arn": {
        "ecr_repository_prefix": "ecr",
        "upstream_registry_url": UPSTREAM_ECR,
        "custom_role_arn": "r",
    },
    "role-too-long": {
        "ecr_repository_prefix": "ecr",
        "upstream_registry_url": UPSTREAM_ECR,
        "custom_role_arn": ROLE_ARN + "a" * 2048,
    },
}
# The two warnings: what the provider leaves to ECR.
EVERY_WARNING = {
    "unknown-host": {
        "ecr_repository_prefix": "dev",
        "upstream_registry_url": "registry.example.dev",
        "credential_arn": SECRET_ARN,
    },
    "unknown-kind-and-host": {
        "ecr_repository_prefix": "dev",
        "upstream_registry_url": "registry.example.dev",
        "upstream_registry": "artifactory",
        "credential_arn": SECRET_ARN,
    },
}


def as_properties(keywords: dict[str, Any]) -> dict[str, Any]:
    """The CloudFormation properties the keywords give (None: left out), for the provider."""
    names = {keyword: name for name, keyword in KEYWORDS.items()}
    return {names[k]: v for k, v in keywords.items() if v is not None}


@pytest.mark.parametrize("keywords", EVERY_SENTENCE.values(), ids=EVERY_SENTENCE.keys())
def test_every_sentence_names_keyword_arguments_and_is_otherwise_the_providers(
    keywords: dict[str, Any],
) -> None:
    with pytest.raises(InvalidPullThroughCacheRule) as refused:
        PullThroughCacheRule(new_stack(), "Cache", **keywords)
    said = refused.value.problems
    assert said
    assert [cloudformation_names_in(p) for p in said] == [[] for _ in said], said
    assert [in_cloudformation_words(p) for p in said] == provider_problems(as_properties(keywords))
    assert all(re.match(r"[a-z_]+(=|'s )", p) for p in said), said  # each starts with its keyword


def test_the_cases_reach_every_sentence_and_name_every_property_that_can_be_wrong() -> None:
    said = set()
    for keywords in EVERY_SENTENCE.values():
        said |= set(provider_problems(as_properties(keywords)))
    shapes = {re.sub(r"'[^']*'|\d+", "_", s)[:40] for s in said}
    assert len(shapes) >= len(EVERY_SENTENCE)  # no two cases say the same sentence
    named = {k for k in KEYWORDS.values() for keywords in EVERY_SENTENCE.values() if k in keywords}
    assert named == set(KEYWORDS.values()) - {"adopt_existing", "validate_credentials"}


@pytest.mark.parametrize("keywords", EVERY_WARNING.values(), ids=EVERY_WARNING.keys())
def test_every_warning_names_keyword_arguments_and_is_otherwise_the_providers(
    keywords: dict[str, Any],
) -> None:
    stack = new_stack()
    PullThroughCacheRule(stack, "Cache", **keywords)
    found = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    said = [str(w.entry.data).split(f" [ack: {LEFT_TO_ECR_WARNING}]")[0] for w in found]
    assert said
    assert [cloudformation_names_in(p) for p in said] == [[] for _ in said], said
    expected = [p.message for p in contract_warnings(as_properties(keywords))]
    assert [in_cloudformation_words(p) for p in said] == expected


def test_a_value_the_user_wrote_is_quoted_as_written_even_when_it_is_a_property_name() -> None:
    with pytest.raises(InvalidPullThroughCacheRule) as refused:
        PullThroughCacheRule(
            new_stack(), "Cache", ecr_repository_prefix="quay", upstream_registry_url="UpstreamRegistryUrl"
        )
    (said,) = refused.value.problems
    assert said.startswith("upstream_registry_url='UpstreamRegistryUrl' has capital letters: ")


def test_the_keywords_are_the_constructs_and_give_every_property() -> None:
    parameters = inspect.signature(PullThroughCacheRule.__init__).parameters
    assert set(KEYWORDS.values()) <= set(parameters)
    assert set(KEYWORDS) == {*NAMES, "ServiceToken"}


OFFERED = (
    "ecr_repository_prefix, upstream_registry_url, credential_arn, upstream_registry, "
    "upstream_repository_prefix, custom_role_arn, adopt_existing, validate_credentials, "
    "service_token, provider_stack_name, removal_policy"
)


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("upstream_url", "upstream_registry_url"),  # Python 3.13 alone suggests nothing here
        ("credentials_arn", "credential_arn"),
        ("EcrRepositoryPrefix", "ecr_repository_prefix"),  # the CloudFormation name
        ("CredentialArn", "credential_arn"),
        ("UPSTREAM_REGISTRY", "upstream_registry"),
    ],
)
def test_an_unknown_keyword_argument_is_a_type_error_naming_it_its_value_and_the_one_meant(
    written: str, meant: str
) -> None:
    keywords = {"ecr_repository_prefix": "ghcr", "upstream_registry_url": "ghcr.io", written: "ghcr"}
    with pytest.raises(TypeError) as refused:
        PullThroughCacheRule(new_stack(), "Cache", **keywords)
    assert str(refused.value) == (
        f"PullThroughCacheRule has no keyword argument {written}='ghcr'. Did you mean {meant}=? "
        f"Its keywords: {OFFERED}."
    )


def test_an_unknown_keyword_like_no_other_lists_the_keywords_and_a_value_not_shown_is_not_quoted() -> None:
    stack = new_stack()
    with pytest.raises(TypeError) as refused:
        PullThroughCacheRule(
            stack, "Cache", ecr_repository_prefix="q", upstream_registry_url="quay.io", env=stack
        )
    assert (
        str(refused.value) == f"PullThroughCacheRule has no keyword argument env=. Its keywords: {OFFERED}."
    )


def test_every_keyword_of_the_signature_is_still_taken_by_name_and_listed() -> None:
    parameters = inspect.signature(PullThroughCacheRule.__init__).parameters
    keyword_only = [n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY]
    assert ", ".join(keyword_only) == OFFERED
    rule = PullThroughCacheRule(
        scope=new_stack(), id="Cache", ecr_repository_prefix="quay", upstream_registry_url="quay.io"
    )
    assert rule.node.path == "Consumer/Cache"


def test_a_literal_service_token_places_the_secret_in_its_account_and_region() -> None:
    other_region = SECRET_ARN.replace(REGION, "eu-west-1")
    with pytest.raises(InvalidPullThroughCacheRule, match="credential_arn's secret") as refused:
        PullThroughCacheRule(
            new_stack(),
            "Ghcr",
            ecr_repository_prefix="ghcr",
            upstream_registry_url="ghcr.io",
            credential_arn=other_region,
            service_token=f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:ptc",
        )
    assert "eu-west-1" in refused.value.problems[0]


def test_values_that_tokens_compute_are_left_to_the_provider() -> None:
    stack = new_stack()
    url = cdk.CfnParameter(stack, "Url").value_as_string
    prefix = cdk.CfnParameter(stack, "Prefix").value_as_string
    secret = cdk.CfnParameter(stack, "Secret").value_as_string
    role = cdk.CfnParameter(stack, "Role").value_as_string
    # the upstream unknown: no credential asked for, the ECR-only properties not refused
    PullThroughCacheRule(
        stack, "A", ecr_repository_prefix=prefix, upstream_registry_url=url, upstream_repository_prefix="team"
    )
    # Docker Hub needs a credential: one a token gives counts as given
    PullThroughCacheRule(
        stack,
        "B",
        ecr_repository_prefix="hub",
        upstream_registry_url="registry-1.docker.io",
        credential_arn=secret,
    )
    PullThroughCacheRule(
        stack, "C", ecr_repository_prefix="ecr", upstream_registry_url=UPSTREAM_ECR, custom_role_arn=role
    )
    PullThroughCacheRule(
        stack, "D", ecr_repository_prefix=f"{stack.account}-cache", upstream_registry_url="quay.io"
    )
    assert len(template(stack).find_resources(RESOURCE_TYPE)) == 4


def test_a_literal_beside_tokens_is_still_checked() -> None:
    stack = new_stack()
    prefix = cdk.CfnParameter(stack, "Prefix").value_as_string
    with pytest.raises(InvalidPullThroughCacheRule) as refused:
        PullThroughCacheRule(stack, "A", ecr_repository_prefix=prefix, upstream_registry_url="ghcr.io")
    assert [p.split(" ", 1)[0] for p in refused.value.problems] == ["credential_arn="]


# ---- what the provider leaves to ECR, and every partition -------------------------------------


def test_an_upstream_this_version_does_not_know_is_a_warning_and_the_rule_is_made() -> None:
    stack = new_stack()
    PullThroughCacheRule(
        stack,
        "Artifactory",
        ecr_repository_prefix="artifactory",
        upstream_registry_url="registry.example.dev",
        upstream_registry="artifactory",
        credential_arn=SECRET_ARN,
    )
    assert only_rule(stack)["Properties"]["UpstreamRegistryUrl"] == "registry.example.dev"
    found = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    messages = [str(w.entry.data) for w in found]
    assert [m.split("=", 1)[0] for m in messages] == ["upstream_registry", "upstream_registry_url"]
    assert all("it goes to ECR as written" in m for m in messages)
    assert all(f"[ack: {LEFT_TO_ECR_WARNING}]" in m for m in messages)  # how a user silences it


def test_an_upstream_this_version_knows_gets_no_warning() -> None:
    stack = new_stack()
    PullThroughCacheRule(stack, "Quay", ecr_repository_prefix="quay", upstream_registry_url="quay.io")
    assert assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value()) == []


@pytest.mark.parametrize("partition", PARTITIONS)
def test_the_repository_uri_prefix_agrees_with_the_providers_in_every_partition(partition: str) -> None:
    region, suffix = PARTITIONS[partition]
    stack = new_stack(region=region)
    rule = PullThroughCacheRule(stack, "Quay", ecr_repository_prefix="quay", upstream_registry_url="quay.io")
    ref_values, attribute_values = attributes_of(rule, prefix="quay")
    # what CloudFormation gives a stack in that partition
    ref_values.update({"AWS::Partition": partition, "AWS::Region": region, "AWS::URLSuffix": suffix})

    uri_prefix = evaluate(stack.resolve(rule.repository_uri_prefix), ref_values, attribute_values)

    assert uri_prefix == f"{registry_host(ACCOUNT, region, partition)}/quay"  # the provider's
    assert uri_prefix == f"{ACCOUNT}.dkr.ecr.{region}.{suffix}/quay"
