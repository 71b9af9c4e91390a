"""Update, Delete, Describe and Validate."""

from datetime import datetime
from typing import Any

import boto3
import pytest

import ecr_ptc_emulator
from tests.emulator.emulator_support import ACCOUNT, REGION

ECR_URL = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ptc"


def create(ecr: Any, prefix: str, url: str = "public.ecr.aws", **extra: str) -> None:
    ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url, **extra)


def test_update_changes_only_the_named_fields(ecr: Any, secret_arn: str) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    other = sm.create_secret(Name="ecr-pullthroughcache/other", SecretString="{}")["ARN"]
    create(ecr, "dh", "registry-1.docker.io", credentialArn=secret_arn)
    before = ecr_ptc_emulator.rules()["dh"]
    out = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="dh/", credentialArn=other)
    out.pop("ResponseMetadata")
    assert isinstance(out.pop("updatedAt"), datetime)
    assert out == {"ecrRepositoryPrefix": "dh", "registryId": ACCOUNT, "credentialArn": other}
    after = ecr_ptc_emulator.rules()["dh"]
    assert after["updatedAt"] >= before["updatedAt"]
    assert {k: v for k, v in after.items() if k not in ("credentialArn", "updatedAt")} == {
        k: v for k, v in before.items() if k not in ("credentialArn", "updatedAt")
    }


def test_update_role_keeps_upstream_prefix(ecr: Any) -> None:
    create(ecr, "priv", ECR_URL, upstreamRepositoryPrefix="team")
    out = ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="priv", customRoleArn=ROLE)
    assert (out["customRoleArn"], out["upstreamRepositoryPrefix"]) == (ROLE, "team")
    assert ecr_ptc_emulator.rules()["priv"]["customRoleArn"] == ROLE


def test_update_needs_a_credential_or_a_role(ecr: Any) -> None:
    create(ecr, "quay", "quay.io")
    with pytest.raises(ecr.exceptions.InvalidParameterException) as e:
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="quay")
    assert e.value.response["Error"]["Message"] == (
        "Please set either credential arn or role arn to update the credentials"
    )
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="quay", customRoleArn=ROLE)


def test_update_checks_rule_and_secret(ecr: Any, secret_arn: str) -> None:
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleNotFoundException):
        ecr.update_pull_through_cache_rule(ecrRepositoryPrefix="nope", credentialArn=secret_arn)
    create(ecr, "dh", "registry-1.docker.io", credentialArn=secret_arn)
    with pytest.raises(ecr.exceptions.SecretNotFoundException):
        ecr.update_pull_through_cache_rule(
            ecrRepositoryPrefix="dh", credentialArn=secret_arn.replace("docker-hub", "gone")
        )
    assert ecr_ptc_emulator.rules()["dh"]["credentialArn"] == secret_arn


def test_delete_returns_the_rule(ecr: Any) -> None:
    create(ecr, "priv", ECR_URL)
    out = ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="priv/")
    out.pop("ResponseMetadata")
    assert isinstance(out.pop("createdAt"), datetime)
    assert out == {
        "ecrRepositoryPrefix": "priv",
        "upstreamRegistryUrl": ECR_URL,
        "registryId": ACCOUNT,
        "upstreamRepositoryPrefix": "ROOT",
    }
    assert ecr_ptc_emulator.rules() == {}
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleNotFoundException) as e:
        ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="priv")
    assert e.value.response["Error"]["Code"] == "PullThroughCacheRuleNotFoundException"


def test_describe_returns_every_field(ecr: Any, secret_arn: str) -> None:
    create(ecr, "dh", "registry-1.docker.io", credentialArn=secret_arn)
    [rule] = ecr.describe_pull_through_cache_rules()["pullThroughCacheRules"]
    assert rule == ecr_ptc_emulator.rules()["dh"]
    assert set(rule) == {
        "ecrRepositoryPrefix",
        "upstreamRegistryUrl",
        "createdAt",
        "updatedAt",
        "registryId",
        "upstreamRegistry",
        "credentialArn",
    }


def test_describe_filter(ecr: Any) -> None:
    for prefix in ("a1", "b1", "c1"):
        create(ecr, prefix)
    out = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["c1/", "a1"])
    assert [r["ecrRepositoryPrefix"] for r in out["pullThroughCacheRules"]] == ["a1", "c1"]
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleNotFoundException):
        ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["a1", "zz"])


def test_describe_pages_are_stable(ecr: Any) -> None:
    for n in range(7):
        create(ecr, f"p{n}")
    first = ecr.describe_pull_through_cache_rules(maxResults=3)
    assert [r["ecrRepositoryPrefix"] for r in first["pullThroughCacheRules"]] == ["p0", "p1", "p2"]
    ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix="p1")  # between pages
    create(ecr, "a0")  # sorts before the token: not repeated
    second = ecr.describe_pull_through_cache_rules(maxResults=3, nextToken=first["nextToken"])
    assert [r["ecrRepositoryPrefix"] for r in second["pullThroughCacheRules"]] == ["p3", "p4", "p5"]
    third = ecr.describe_pull_through_cache_rules(maxResults=3, nextToken=second["nextToken"])
    assert [r["ecrRepositoryPrefix"] for r in third["pullThroughCacheRules"]] == ["p6"]
    assert "nextToken" not in third
    with pytest.raises(ecr.exceptions.InvalidParameterException):
        ecr.describe_pull_through_cache_rules(nextToken="%%%")


def test_describe_without_max_results_returns_all_and_paginator_works(ecr: Any) -> None:
    for n in range(50):
        create(ecr, f"r{n:02d}")
    assert "nextToken" not in ecr.describe_pull_through_cache_rules()
    pages = list(
        ecr.get_paginator("describe_pull_through_cache_rules").paginate(PaginationConfig={"PageSize": 20})
    )
    assert [len(p["pullThroughCacheRules"]) for p in pages] == [20, 20, 10]
    prefixes = [r["ecrRepositoryPrefix"] for p in pages for r in p["pullThroughCacheRules"]]
    assert prefixes == [f"r{n:02d}" for n in range(50)]


def test_describe_max_results_range(raw_ecr: Any) -> None:
    for bad in (0, 1001):
        with pytest.raises(raw_ecr.exceptions.ValidationException) as e:
            raw_ecr.describe_pull_through_cache_rules(maxResults=bad)
        assert (
            "at 'maxResults' failed to satisfy constraint: Member must have value"
            in (e.value.response["Error"]["Message"])
        )
    with pytest.raises(raw_ecr.exceptions.ValidationException) as e:
        raw_ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=["ok", "Bad"])
    assert e.value.response["Error"]["Message"].startswith(
        "1 validation error detected: Value '[ok, Bad]' at 'ecrRepositoryPrefixes' failed to "
        "satisfy constraint: Member must satisfy constraint: [Member must satisfy regular "
    )


def test_validate(ecr: Any, secret_arn: str) -> None:
    create(ecr, "k8s", "registry.k8s.io")
    create(ecr, "dh", "registry-1.docker.io", credentialArn=secret_arn)
    out = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="dh")
    out.pop("ResponseMetadata")
    assert out == {
        "ecrRepositoryPrefix": "dh",
        "registryId": ACCOUNT,
        "upstreamRegistryUrl": "registry-1.docker.io",
        "credentialArn": secret_arn,
        "isValid": True,
        "failure": "",
    }
    assert ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="k8s")["isValid"] is True
    sm = boto3.client("secretsmanager", region_name=REGION)
    sm.delete_secret(SecretId=secret_arn, ForceDeleteWithoutRecovery=True)
    out = ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="dh")
    assert out["isValid"] is False
    assert secret_arn in out["failure"]
    with pytest.raises(ecr.exceptions.PullThroughCacheRuleNotFoundException):
        ecr.validate_pull_through_cache_rule(ecrRepositoryPrefix="nope")
