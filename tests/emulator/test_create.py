"""CreatePullThroughCacheRule."""

import re
from datetime import datetime
from typing import Any

import boto3
import pytest
from botocore.loaders import create_loader

import ecr_ptc_emulator
from tests.emulator.emulator_support import ACCOUNT, REGION

PREFIX_PATTERN = r"^([a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*\/?|ROOT)$"
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-eusc", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f")


def partition_ecr_hosts() -> list[Any]:
    """An ECR host in a Region of each partition botocore's partition data lists, by partition id."""
    cases = []
    for partition in create_loader().load_data("partitions")["partitions"]:
        region = next(r for r in partition["regions"] if re.match(partition["regionRegex"], r))
        host = f"{ACCOUNT}.dkr.ecr.{region}.{partition['outputs']['dnsSuffix']}"
        cases.append(pytest.param(host, id=partition["id"]))
    return cases


PARTITION_ECR_HOSTS = partition_ecr_hosts()


@pytest.mark.parametrize(
    ("url", "registry"),
    [
        ("public.ecr.aws", "ecr-public"),
        ("registry.k8s.io", "k8s"),
        ("quay.io", "quay"),
        (f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com", "ecr"),
        ("210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn", "ecr"),
    ],
)
def test_upstream_registry_is_inferred_from_the_url(ecr: Any, url: str, registry: str) -> None:
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="cache", upstreamRegistryUrl=url)
    rule = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"][0]
    assert rule["upstreamRegistry"] == registry


@pytest.mark.parametrize(
    ("url", "registry"),
    [
        ("registry-1.docker.io", "docker-hub"),
        ("ghcr.io", "github-container-registry"),
        ("registry.gitlab.com", "gitlab-container-registry"),
        ("myregistry.azurecr.io", "azure-container-registry"),
        ("cgr.dev", "chainguard"),
    ],
)
def test_registries_that_need_a_secret(ecr: Any, secret_arn: str, url: str, registry: str) -> None:
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException) as e:
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="cache", upstreamRegistryUrl=url)
    assert e.value.response["Error"]["Message"] == (
        "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN"
    )
    out = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="cache", upstreamRegistryUrl=url, credentialArn=secret_arn
    )
    assert out["upstreamRegistry"] == registry
    assert ecr_ptc_emulator.rules()["cache"]["credentialArn"] == secret_arn


def test_every_partition_has_a_case() -> None:
    assert set(PARTITIONS) <= {case.id for case in PARTITION_ECR_HOSTS}


@pytest.mark.parametrize("url", PARTITION_ECR_HOSTS)
def test_ecr_host_of_each_partition_is_inferred(ecr: Any, url: str) -> None:
    out = ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="cache", upstreamRegistryUrl=url.upper())
    assert out["upstreamRegistry"] == "ecr"
    assert ecr_ptc_emulator.rules()["cache"]["upstreamRepositoryPrefix"] == "ROOT"


@pytest.mark.parametrize(
    "url",
    [
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.org",
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com.evil",
        f"{ACCOUNT}.dkr.ecr.{REGION}.ic.gov",
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonawsXcom",
        f"1234.dkr.ecr.{REGION}.amazonaws.eu",
    ],
)
def test_ecr_host_outside_every_partition_is_unsupported(ecr: Any, url: str) -> None:
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="cache", upstreamRegistryUrl=url)


def test_output_holds_the_model_members(ecr: Any) -> None:
    out = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws"
    )
    out.pop("ResponseMetadata")
    assert isinstance(out.pop("createdAt"), datetime)
    assert out == {
        "ecrRepositoryPrefix": "ecr-public",
        "upstreamRegistryUrl": "public.ecr.aws",
        "registryId": ACCOUNT,
        "upstreamRegistry": "ecr-public",
    }
    held = ecr_ptc_emulator.rules()["ecr-public"]
    assert held["createdAt"] == held["updatedAt"]


def test_unknown_url_is_unsupported(ecr: Any) -> None:
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="cache", upstreamRegistryUrl="registry.example.com"
        )


def test_explicit_registry_is_kept_and_must_match_the_url(ecr: Any) -> None:
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="qq", upstreamRegistryUrl="quay.io", upstreamRegistry="quay"
    )
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="kk", upstreamRegistryUrl="quay.io", upstreamRegistry="k8s"
        )


def test_trailing_slash_names_the_same_rule(ecr: Any) -> None:
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="team/ecr-public/", upstreamRegistryUrl="public.ecr.aws"
    )
    assert list(ecr_ptc_emulator.rules()) == ["team/ecr-public"]
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleAlreadyExistsException) as e:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="team/ecr-public", upstreamRegistryUrl="public.ecr.aws"
        )
    assert e.value.response["Error"]["Code"] == "PullThroughCacheRuleAlreadyExistsException"


@pytest.mark.parametrize("prefix", ["ROOT", "a--b", "a__b", "a.b/c-d", "ab/"])
def test_prefixes_the_pattern_accepts(ecr: Any, prefix: str) -> None:
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl="public.ecr.aws")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"ecrRepositoryPrefix": "cache-"},
            f"1 validation error detected: Value 'cache-' at 'ecrRepositoryPrefix' failed to "
            f"satisfy constraint: Member must satisfy regular expression pattern: {PREFIX_PATTERN}",
        ),
        (
            {"ecrRepositoryPrefix": "a" * 31},
            f"1 validation error detected: Value '{'a' * 31}' at 'ecrRepositoryPrefix' failed "
            "to satisfy constraint: Member must have length less than or equal to 30",
        ),
        (
            {"upstreamRegistry": "docker"},
            "1 validation error detected: Value 'docker' at 'upstreamRegistry' failed to satisfy"
            " constraint: Member must satisfy enum value set: [ecr, ecr-public, quay, k8s, "
            "docker-hub, github-container-registry, azure-container-registry, "
            "gitlab-container-registry, chainguard]",
        ),
        (
            {"registryId": "12345"},
            "1 validation error detected: Value '12345' at 'registryId' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: [0-9]{12}",
        ),
    ],
)
def test_model_constraints(ecr: Any, params: dict[str, str], message: str) -> None:
    request = {"ecrRepositoryPrefix": "cache", "upstreamRegistryUrl": "public.ecr.aws", **params}
    with pytest.raises(ecr.exceptions.ValidationException) as e:
        ecr.create_pull_through_cache_rule(**request)
    assert e.value.response["Error"]["Message"] == message
    assert ecr_ptc_emulator.rules() == {}


def test_credential_arn_and_role_constraints(ecr: Any) -> None:
    bad_arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:other/name-abcdef"
    with pytest.raises(ecr.exceptions.ValidationException) as e:
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="cache",
            upstreamRegistryUrl=f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com",
            credentialArn=bad_arn,
            customRoleArn="r" * 2049,
        )
    message = e.value.response["Error"]["Message"]
    assert message.startswith("2 validation errors detected: ")
    assert f"Value '{bad_arn}' at 'credentialArn' failed" in message
    assert "at 'customRoleArn' failed to satisfy constraint: Member must have length less " in (message)


def test_server_side_checks_of_what_botocore_checks_too(raw_ecr: Any) -> None:
    with pytest.raises(raw_ecr.exceptions.ValidationException) as e:
        raw_ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="a")
    assert e.value.response["Error"]["Message"] == (
        "2 validation errors detected: Value null at 'upstreamRegistryUrl' failed to satisfy "
        "constraint: Member must not be null; Value 'a' at 'ecrRepositoryPrefix' failed to "
        "satisfy constraint: Member must have length greater than or equal to 2"
    )
    with pytest.raises(raw_ecr.exceptions.ClientError) as e:
        raw_ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=7, upstreamRegistryUrl="x")
    assert e.value.response["Error"]["Code"] == "SerializationException"


def test_secret_must_exist_in_the_same_account_and_region(ecr: Any, secret_arn: str) -> None:
    missing = secret_arn.replace("docker-hub", "elsewhere")
    other_region = secret_arn.replace(REGION, "eu-west-1")
    for arn in (missing, other_region):
        with pytest.raises(ecr.exceptions.SecretNotFoundException):
            ecr.create_pull_through_cache_rule(
                ecrRepositoryPrefix="dh",
                upstreamRegistryUrl="registry-1.docker.io",
                credentialArn=arn,
            )
    partial = secret_arn.rsplit("-", 1)[0]  # without the random suffix: matched by name
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="dh",
        upstreamRegistryUrl="registry-1.docker.io",
        credentialArn=partial,
    )


def test_deleted_secret_is_not_found(ecr: Any, secret_arn: str) -> None:
    boto3.client("secretsmanager", region_name=REGION).delete_secret(SecretId=secret_arn)
    with pytest.raises(ecr.exceptions.SecretNotFoundException):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="dh",
            upstreamRegistryUrl="registry-1.docker.io",
            credentialArn=secret_arn,
        )


def test_quay_accepts_an_optional_secret(ecr: Any, secret_arn: str) -> None:
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="quay", upstreamRegistryUrl="quay.io", credentialArn=secret_arn
    )


def test_ecr_upstream_prefix_and_role(ecr: Any) -> None:
    url = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
    role = f"arn:aws:iam::{ACCOUNT}:role/ptc"
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="a1", upstreamRegistryUrl=url)
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="a2",
        upstreamRegistryUrl=url,
        upstreamRepositoryPrefix="team/",
        customRoleArn=role,
    )
    ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="ROOT", upstreamRegistryUrl=url, upstreamRepositoryPrefix="ROOT"
    )
    held = ecr_ptc_emulator.rules()
    assert held["a1"]["upstreamRepositoryPrefix"] == "ROOT"
    assert held["a2"]["upstreamRepositoryPrefix"] == "team"
    assert held["a2"]["customRoleArn"] == role


@pytest.mark.parametrize(
    ("prefix", "url", "extra"),
    [
        ("cache", "public.ecr.aws", {"customRoleArn": f"arn:aws:iam::{ACCOUNT}:role/r"}),
        ("cache", "quay.io", {"upstreamRepositoryPrefix": "team"}),
        ("ROOT", f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com", {"upstreamRepositoryPrefix": "up"}),
    ],
)
def test_invalid_combinations(ecr: Any, prefix: str, url: str, extra: dict[str, str]) -> None:
    params = {"ecrRepositoryPrefix": prefix, "upstreamRegistryUrl": url, **extra}
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_pull_through_cache_rule(**params)


def test_registry_id_must_be_the_callers(ecr: Any) -> None:
    out = ecr.create_pull_through_cache_rule(
        ecrRepositoryPrefix="mine", upstreamRegistryUrl="quay.io", registryId=ACCOUNT
    )
    assert out["registryId"] == ACCOUNT
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix="theirs", upstreamRegistryUrl="quay.io", registryId="999999999999"
        )


def test_quota_of_fifty_rules(ecr: Any) -> None:
    for n in range(50):
        ecr.create_pull_through_cache_rule(
            ecrRepositoryPrefix=f"p{n:02d}", upstreamRegistryUrl="public.ecr.aws"
        )
    with pytest.raises(ecr.exceptions.LimitExceededException):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="p50", upstreamRegistryUrl="public.ecr.aws")
    assert len(ecr_ptc_emulator.rules()) == 50


def test_regions_and_mocks_are_separate(ecr: Any) -> None:
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix="k8s", upstreamRegistryUrl="registry.k8s.io")
    west = boto3.client("ecr", region_name="eu-west-1")
    assert west.describe_pull_through_cache_rules()["pullThroughCacheRules"] == []
    assert ecr_ptc_emulator.rules(region="eu-west-1") == {}
    assert list(ecr_ptc_emulator.rules()) == ["k8s"]
