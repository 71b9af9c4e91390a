"""Bad input is refused before any call, every problem in one message that names the property,
the value and the fix. Pure: no AWS."""

from __future__ import annotations

import pytest

from handler.properties import InvalidProperties, RuleSpec, canonical_prefix, is_rule_id, parse

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/docker-hub-AbCdEf"
TOKEN = "arn:aws:lambda:us-east-1:123456789012:function:provider"
DOCKER = {
    "EcrRepositoryPrefix": "docker-hub",
    "UpstreamRegistryUrl": "registry-1.docker.io",
    "CredentialArn": SECRET,
}


def problems(properties: dict[str, object]) -> list[str]:
    with pytest.raises(InvalidProperties) as raised:
        parse({"ServiceToken": TOKEN, **properties})
    return raised.value.problems


def test_a_full_spec_parses_with_strings_and_booleans() -> None:
    spec = parse(
        {
            "ServiceToken": TOKEN,
            "ServiceTimeout": "300",
            "EcrRepositoryPrefix": "team/upstream",
            "UpstreamRegistryUrl": "444455556666.dkr.ecr.eu-west-1.amazonaws.com",
            "UpstreamRepositoryPrefix": "prod",
            "CustomRoleArn": "arn:aws:iam::123456789012:role/path/ecr-ptc",
            "AdoptExisting": "TRUE",
            "ValidateCredentials": False,
        }
    )
    assert spec == RuleSpec(
        ecr_repository_prefix="team/upstream",
        upstream_registry_url="444455556666.dkr.ecr.eu-west-1.amazonaws.com",
        upstream_repository_prefix="prod",
        custom_role_arn="arn:aws:iam::123456789012:role/path/ecr-ptc",
        adopt_existing=True,
    )
    assert spec.effective_upstream_registry == "ecr"


@pytest.mark.parametrize(
    "prefix", ["ab", "a--b", "a__b", "a.b", "a/b/c", "docker-hub/", "ROOT", "x" * 30, "0-9"]
)
def test_prefixes_the_api_accepts(prefix: str) -> None:
    assert parse({**DOCKER, "EcrRepositoryPrefix": prefix}).ecr_repository_prefix == prefix


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("a", "is 1 characters long; it must be 2 to 30"),
        ("x" * 31, "is 31 characters long"),
        ("Docker-Hub", "e.g. 'docker-hub'"),
        ("docker-hub-", "e.g. 'docker-hub'"),
        ("-cache", "e.g. 'cache'"),
        ("a///b", "e.g. 'a/b'"),
        ("root", None),
    ],
)
def test_bad_prefixes_are_explained(prefix: str, expected: str | None) -> None:
    if expected is None:
        parse({**DOCKER, "EcrRepositoryPrefix": prefix})
        return
    (problem,) = problems({**DOCKER, "EcrRepositoryPrefix": prefix})
    assert problem.startswith(f"EcrRepositoryPrefix '{prefix}'")
    assert expected in problem


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "registry-1.docker.io"},
            "CredentialArn is required for docker-hub",
        ),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "ghcr.io"},
            "CredentialArn is required for github-container-registry",
        ),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "registry.gitlab.com"},
            "CredentialArn is required for gitlab",
        ),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "myreg.azurecr.io"},
            "CredentialArn is required for azure",
        ),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "cgr.dev"},
            "CredentialArn is required for chainguard",
        ),
        (
            {**DOCKER, "CredentialArn": SECRET.replace("ecr-pullthroughcache/", "")},
            "create the secret as 'ecr-pullthroughcache/docker-hub-AbCdEf'",
        ),
        ({**DOCKER, "CredentialArn": "my-secret"}, "is not a Secrets Manager secret ARN"),
        (
            {**DOCKER, "CredentialArn": SECRET.replace("us-east-1", "eu-west-1")},
            "ECR reads secrets only from the rule's own account and Region",
        ),
        ({**DOCKER, "UpstreamRegistry": "dockerhub"}, "did you mean 'docker-hub'?"),
        ({**DOCKER, "UpstreamRegistry": "quay"}, "set UpstreamRegistry to 'docker-hub' or leave it out"),
        (
            {**DOCKER, "CustomRoleArn": "arn:aws:iam::123456789012:role/r"},
            "CustomRoleArn is only for ECR upstreams",
        ),
        (
            {**DOCKER, "UpstreamRepositoryPrefix": "library"},
            "UpstreamRepositoryPrefix is only for ECR upstreams",
        ),
        (
            {
                "EcrRepositoryPrefix": "ROOT",
                "UpstreamRegistryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "UpstreamRepositoryPrefix": "team",
            },
            "cannot be set when EcrRepositoryPrefix is ROOT",
        ),
        (
            {
                "EcrRepositoryPrefix": "x1",
                "UpstreamRegistryUrl": "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "CustomRoleArn": "role/x",
            },
            "is not an IAM role ARN",
        ),
        ({"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "https://quay.io/"}, "write 'quay.io'"),
        (
            {"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "docker.io", "CredentialArn": SECRET},
            "write 'registry-1.docker.io'",
        ),
        ({"EcrRepositoryPrefix": "x1", "UpstreamRegistryUrl": "example.com"}, "is not an upstream ECR knows"),
        ({"EcrRepositoryPrefix": "x1"}, "UpstreamRegistryUrl is required and missing"),
        ({"EcrRepositoryPrefix": "", "UpstreamRegistryUrl": "quay.io"}, "EcrRepositoryPrefix is empty"),
        (
            {**DOCKER, "CredentialArm": SECRET},
            "Unknown property 'CredentialArm': did you mean 'CredentialArn'?",
        ),
        ({**DOCKER, "ecrrepositoryprefix": "x"}, "did you mean 'EcrRepositoryPrefix'?"),
        ({**DOCKER, "Tags": "x"}, "Unknown property 'Tags': the properties are"),
        ({**DOCKER, "AdoptExisting": "yes"}, "AdoptExisting must be 'true' or 'false', not 'yes'"),
        ({**DOCKER, "EcrRepositoryPrefix": ["a"]}, "EcrRepositoryPrefix must be a string, not list"),
        ({**DOCKER, "UpstreamRegistryUrl": " quay.io"}, "has leading or trailing spaces"),
    ],
)
def test_each_problem_names_the_property_and_the_fix(properties: dict[str, object], expected: str) -> None:
    assert any(expected in problem for problem in problems(properties)), problems(properties)


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            "EcrRepositoryPrefix": "A",
            "UpstreamRegistryUrl": "ghcr.io",
            "UpstreamRegistry": "x",
            "Colour": "blue",
        }
    )
    assert len(found) == 4
    message = str(InvalidProperties(found))
    assert message.startswith("Invalid properties, 4 problems: (1) Unknown property 'Colour'")


def test_optional_empty_strings_mean_unset_and_json_booleans_work() -> None:
    spec = parse(
        {
            "EcrRepositoryPrefix": "quay",
            "UpstreamRegistryUrl": "quay.io",
            "CredentialArn": "",
            "ValidateCredentials": True,
        }
    )
    assert spec.credential_arn is None
    assert spec.validate_credentials is True


def test_credential_arns_of_other_partitions_are_accepted() -> None:
    arn = "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:ecr-pullthroughcache/hub-AbCdEf"
    assert parse({**DOCKER, "CredentialArn": arn}).credential_arn == arn


def test_rule_ids_and_canonical_prefixes() -> None:
    assert is_rule_id("docker-hub") and is_rule_id("ROOT")
    assert not is_rule_id("ecr-ptc:create-failed:abc")
    assert not is_rule_id("stack_Logical_ABCD1234")
    assert not is_rule_id("")
    assert canonical_prefix("a/b/") == "a/b" and canonical_prefix("ROOT") == "ROOT"
