"""Small helpers shared by the handler tests."""

from __future__ import annotations

import functools
from typing import Any

import boto3

import ecr_ptc_emulator
from devkit.cloudformation.events import request

PUBLIC = {"EcrRepositoryPrefix": "ecr-public", "UpstreamRegistryUrl": "public.ecr.aws"}
QUAY = {"EcrRepositoryPrefix": "quay", "UpstreamRegistryUrl": "quay.io"}
DOCKER_HUB = {"EcrRepositoryPrefix": "docker-hub", "UpstreamRegistryUrl": "registry-1.docker.io"}
PRIVATE_ECR = {
    "EcrRepositoryPrefix": "upstream",
    "UpstreamRegistryUrl": "444455556666.dkr.ecr.us-east-1.amazonaws.com",
}
# Every AWS partition botocore knows: one of its Regions, and the DNS suffix of its hosts as AWS
# documents it (tests/test_partitions.py checks that botocore knows no other partition).
PARTITIONS = {
    "aws": ("us-east-1", "amazonaws.com"),
    "aws-cn": ("cn-north-1", "amazonaws.com.cn"),
    "aws-us-gov": ("us-gov-west-1", "amazonaws.com"),
    "aws-eusc": ("eusc-de-east-1", "amazonaws.eu"),
    "aws-iso": ("us-iso-east-1", "c2s.ic.gov"),
    "aws-iso-b": ("us-isob-east-1", "sc2s.sgov.gov"),
    "aws-iso-e": ("eu-isoe-west-1", "cloud.adc-e.uk"),
    "aws-iso-f": ("us-isof-south-1", "csp.hci.ic.gov"),
}
ROLE_A = "arn:aws:iam::123456789012:role/ecr-ptc-upstream-a"
ROLE_B = "arn:aws:iam::123456789012:role/ecr-ptc-upstream-b"
ATTRIBUTES = {
    "EcrRepositoryPrefix",
    "UpstreamRegistryUrl",
    "UpstreamRegistry",
    "UpstreamRepositoryPrefix",
    "CredentialArn",
    "CustomRoleArn",
    "RegistryId",
    "CreatedAt",
    "UpdatedAt",
    "RepositoryUriPrefix",
}


def ops() -> list[str]:
    """The operation names the emulator received, in order."""
    return [operation for operation, _ in ecr_ptc_emulator.calls()]


def rules() -> dict[str, dict[str, Any]]:
    return ecr_ptc_emulator.rules()


@functools.cache
def _session() -> boto3.session.Session:
    """One boto3 session for the tests' clients. mock_aws gives each test a new default session,
    whose first client loads botocore's models and endpoint rules again (about 50 ms); a client of
    this session is new each time as well, and meets moto's mock the same way."""
    return boto3.session.Session(region_name="us-east-1")


def client(service: str, config: Any = None) -> Any:
    """A new client of `service` (with `config`), in us-east-1."""
    return _session().client(service, config=config)


def ecr() -> Any:
    return client("ecr")


def existing(**params: str) -> dict[str, Any]:
    """A rule created behind the stack's back (not through the handler)."""
    return dict(ecr().create_pull_through_cache_rule(**params))


def create_event(properties: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return request("Create", properties, **kwargs)


def update_event(
    properties: dict[str, Any], physical_id: str, old: dict[str, Any], **kwargs: Any
) -> dict[str, Any]:
    return request("Update", properties, physical_id=physical_id, old_properties=old, **kwargs)


def delete_event(physical_id: str, properties: dict[str, Any] | None = None) -> dict[str, Any]:
    return request("Delete", properties or {}, physical_id=physical_id)


def ops_since(mark: int) -> list[str]:
    """The operations received after `mark` = len(ops()) was taken."""
    return ops()[mark:]
