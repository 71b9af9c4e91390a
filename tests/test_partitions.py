"""Every AWS partition: the registry host in the attributes is the partition's own, from
botocore's partition data, through the real handler. Pure but for the in-process emulator."""

from __future__ import annotations

import pytest
from botocore.loaders import create_loader

from devkit.aws_lambda.context import LambdaContext
from handler.attributes import registry_host
from handler.partitions import dns_suffix, partition_of
from tests.conftest import Cfn
from tests.helpers import PARTITIONS, PUBLIC, QUAY, create_event

ACCOUNT = "123456789012"


def test_the_tests_name_every_partition_botocore_knows() -> None:
    known = {p["id"] for p in create_loader().load_data("partitions")["partitions"]}
    assert set(PARTITIONS) == known


@pytest.mark.parametrize("partition", PARTITIONS)
def test_each_partition_has_its_own_dns_suffix_and_regions(partition: str) -> None:
    region, suffix = PARTITIONS[partition]
    assert dns_suffix(partition) == suffix
    assert partition_of(region) == partition
    assert registry_host(ACCOUNT, region, partition) == f"{ACCOUNT}.dkr.ecr.{region}.{suffix}"


def test_a_partition_or_region_botocore_does_not_know_is_taken_for_aws() -> None:
    assert dns_suffix("aws-future") == "amazonaws.com"
    assert partition_of("xx-nowhere-1") == "aws"
    assert partition_of("mars-north-1") == "aws"


@pytest.mark.parametrize("partition", PARTITIONS)
def test_the_repository_uri_prefix_is_the_partitions_own(cfn: Cfn, partition: str) -> None:
    region, suffix = PARTITIONS[partition]
    context = LambdaContext()
    context.invoked_function_arn = f"arn:{partition}:lambda:{region}:{ACCOUNT}:function:provider"

    named = cfn.send(create_event(PUBLIC), context)
    root = cfn.send(create_event({**QUAY, "EcrRepositoryPrefix": "ROOT"}), context)

    host = f"{ACCOUNT}.dkr.ecr.{region}.{suffix}"
    assert named["Data"]["RepositoryUriPrefix"] == f"{host}/ecr-public"
    assert root["Data"]["RepositoryUriPrefix"] == host


def test_without_a_function_arn_the_region_names_the_partition(
    cfn: Cfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = LambdaContext()
    context.invoked_function_arn = ""
    monkeypatch.setenv("AWS_REGION", "eusc-de-east-1")

    answer = cfn.send(create_event(PUBLIC), context)

    assert answer["Data"]["RepositoryUriPrefix"].endswith(".dkr.ecr.eusc-de-east-1.amazonaws.eu/ecr-public")
