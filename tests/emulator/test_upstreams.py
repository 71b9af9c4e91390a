"""Upstream registries taught to the emulator (teach_upstream), that botocore's model does not list."""

from typing import Any

import boto3
import pytest
from moto import mock_aws

import ecr_ptc_emulator
from tests.emulator.emulator_support import ACCOUNT, NO_RETRIES, REGION

KIND = "acme"
HOST = "registry.acme.example"
MODEL_KINDS = (
    "ecr, ecr-public, quay, k8s, docker-hub, github-container-registry, "
    "azure-container-registry, gitlab-container-registry, chainguard"
)


def create(ecr: Any, prefix: str, url: str = HOST, **extra: str) -> Any:
    return ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url, **extra)


def refused_kind(kinds: str, kind: str = KIND) -> str:
    """The ValidationException message of an upstreamRegistry outside ``kinds``."""
    return (
        f"1 validation error detected: Value '{kind}' at 'upstreamRegistry' failed to satisfy "
        f"constraint: Member must satisfy enum value set: [{kinds}]"
    )


def test_a_taught_host_is_inferred_as_its_kind(ecr: Any) -> None:
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        create(ecr, "before")
    ecr_ptc_emulator.teach_upstream(KIND, "Registry.Acme.Example")
    out = create(ecr, "acme", "REGISTRY.acme.example")
    assert out["upstreamRegistry"] == KIND
    assert out["upstreamRegistryUrl"] == "REGISTRY.acme.example"
    assert ecr_ptc_emulator.rules()["acme"]["upstreamRegistry"] == KIND
    assert "upstreamRepositoryPrefix" not in ecr_ptc_emulator.rules()["acme"]


def test_a_taught_kind_can_be_given_explicitly(ecr: Any) -> None:
    with pytest.raises(ecr.exceptions.ValidationException) as e:
        create(ecr, "before", upstreamRegistry=KIND)
    assert e.value.response["Error"]["Message"] == refused_kind(MODEL_KINDS)
    ecr_ptc_emulator.teach_upstream(KIND, HOST)
    assert create(ecr, "acme", upstreamRegistry=KIND)["upstreamRegistry"] == KIND
    assert ecr_ptc_emulator.rules()["acme"]["upstreamRegistry"] == KIND


def test_a_taught_upstream_rule_is_updated_described_validated_and_deleted(ecr: Any, secret_arn: str) -> None:
    ecr_ptc_emulator.teach_upstream(KIND, HOST)
    create(ecr, "acme")
    out = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="acme", credentialArn=secret_arn)
    assert out["credentialArn"] == secret_arn
    [rule] = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["acme"])["pullThroughCacheRules"]
    assert (rule["upstreamRegistry"], rule["upstreamRegistryUrl"], rule["credentialArn"]) == (
        KIND,
        HOST,
        secret_arn,
    )
    valid = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="acme")
    assert (valid["isValid"], valid["upstreamRegistryUrl"]) == (True, HOST)
    deleted = ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="acme")
    assert (deleted["upstreamRegistryUrl"], deleted["credentialArn"]) == (HOST, secret_arn)
    assert ecr_ptc_emulator.rules() == {}


def test_a_taught_upstream_takes_no_role_or_upstream_prefix(ecr: Any) -> None:
    ecr_ptc_emulator.teach_upstream(KIND, HOST)
    role = f"arn:aws:iam::{ACCOUNT}:role/ptc"
    for extra in ({"customRoleArn": role}, {"upstreamRepositoryPrefix": "team"}):
        with pytest.raises(ecr.exceptions.InvalidParameterException):
            create(ecr, "acme", **extra)
    create(ecr, "acme")
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="acme", customRoleArn=role)
    assert "customRoleArn" not in ecr_ptc_emulator.rules()["acme"]


def test_a_taught_upstream_that_needs_a_credential(ecr: Any, secret_arn: str) -> None:
    ecr_ptc_emulator.teach_upstream(KIND, HOST, needs_credential=True)
    for extra in ({}, {"upstreamRegistry": KIND}):
        with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException) as e:
            create(ecr, "acme", **extra)
        assert e.value.response["Error"]["Message"] == (
            "The specified upstream registry requires authentication. Specify a valid Secrets Manager ARN"
        )
    assert ecr_ptc_emulator.rules() == {}
    assert create(ecr, "acme", credentialArn=secret_arn)["credentialArn"] == secret_arn


def test_a_taught_upstream_without_needs_credential_takes_none(ecr: Any) -> None:
    ecr_ptc_emulator.teach_upstream(KIND, HOST, needs_credential=True)
    ecr_ptc_emulator.teach_upstream(KIND, HOST)
    create(ecr, "acme")
    assert "credentialArn" not in ecr_ptc_emulator.rules()["acme"]


@pytest.mark.parametrize(
    ("url", "kind"),
    [(HOST, "quay"), ("quay.io", KIND), (f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com", KIND)],
)
def test_a_kind_and_host_that_do_not_match_are_refused(ecr: Any, url: str, kind: str) -> None:
    ecr_ptc_emulator.teach_upstream(KIND, HOST)
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException) as e:
        create(ecr, "acme", url, upstreamRegistry=kind)
    assert e.value.response["Error"]["Message"] == (
        f"The upstream registry URL '{url}' does not belong to the registry '{kind}'"
    )
    assert ecr_ptc_emulator.rules() == {}


def test_an_untaught_host_or_kind_is_still_refused(ecr: Any) -> None:
    ecr_ptc_emulator.teach_upstream(KIND, HOST)
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        create(ecr, "other", "registry.other.example")
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        create(ecr, "other", f"mirror.{HOST}")
    with pytest.raises(ecr.exceptions.ValidationException) as e:
        create(ecr, "other", "registry.other.example", upstreamRegistry="other")
    assert e.value.response["Error"]["Message"] == refused_kind(f"{MODEL_KINDS}, {KIND}", "other")
    assert ecr_ptc_emulator.rules() == {}


def test_a_taught_upstream_belongs_to_its_region_only(ecr: Any) -> None:
    ecr_ptc_emulator.teach_upstream(KIND, HOST, region="eu-west-1")
    west = boto3.client("ecr", region_name="eu-west-1", config=NO_RETRIES)
    assert create(west, "acme")["upstreamRegistry"] == KIND
    with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
        create(ecr, "acme")
    with pytest.raises(ecr.exceptions.ValidationException) as e:
        create(ecr, "acme", upstreamRegistry=KIND)
    assert e.value.response["Error"]["Message"] == refused_kind(MODEL_KINDS)
    assert ecr_ptc_emulator.rules() == {}
    assert list(ecr_ptc_emulator.rules(region="eu-west-1")) == ["acme"]


def test_a_new_mock_forgets_what_was_taught() -> None:
    ecr_ptc_emulator.install()
    with mock_aws():
        ecr_ptc_emulator.teach_upstream(KIND, HOST)
        ecr = boto3.client("ecr", region_name=REGION, config=NO_RETRIES)
        assert create(ecr, "acme")["upstreamRegistry"] == KIND
    with mock_aws():
        ecr = boto3.client("ecr", region_name=REGION, config=NO_RETRIES)
        with pytest.raises(ecr.exceptions.UnsupportedUpstreamRegistryException):
            create(ecr, "acme")
        with pytest.raises(ecr.exceptions.ValidationException) as e:
            create(ecr, "acme", upstreamRegistry=KIND)
        assert e.value.response["Error"]["Message"] == refused_kind(MODEL_KINDS)


@pytest.mark.parametrize(
    ("kind", "host"),
    [
        ("quay", "quay.example"),
        ("ecr", "registry.example"),
        (KIND, "QUAY.io"),
        (KIND, f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"),
        (KIND, "mine.azurecr.io"),
        ("", HOST),
        (KIND, ""),
    ],
)
def test_teaching_what_is_already_known_is_refused(ecr: Any, kind: str, host: str) -> None:
    with pytest.raises(ValueError, match=r"already|empty"):
        ecr_ptc_emulator.teach_upstream(kind, host)
    assert_nothing_taught(ecr)


def assert_nothing_taught(ecr: Any) -> None:
    """The backend accepts no kind beyond the model's (a taught one would be listed)."""
    with pytest.raises(ecr.exceptions.ValidationException) as e:
        create(ecr, "probe", HOST, upstreamRegistry="untaught")
    assert e.value.response["Error"]["Message"] == refused_kind(MODEL_KINDS, "untaught")
