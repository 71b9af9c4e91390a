"""Fixtures for the emulator's tests: a boto3 ECR client inside a fresh mock_aws."""

from collections.abc import Iterator
from typing import Any

import pytest
from botocore.config import Config
from moto import mock_aws

import ecr_ptc_emulator
from tests.emulator.emulator_support import NO_RETRIES
from tests.helpers import client


@pytest.fixture
def aws() -> Iterator[None]:
    ecr_ptc_emulator.install()
    with mock_aws():
        yield


@pytest.fixture
def ecr(aws: None) -> Any:
    """An ECR client that does not retry, so each call reaches the emulator once."""
    return client("ecr", NO_RETRIES)


@pytest.fixture
def raw_ecr(aws: None) -> Any:
    """An ECR client without botocore's own parameter checks (to reach the emulator's)."""
    config = NO_RETRIES.merge(Config(parameter_validation=False))
    return client("ecr", config)


@pytest.fixture
def secret_arn(aws: None) -> str:
    sm = client("secretsmanager")
    secret = sm.create_secret(
        Name="ecr-pullthroughcache/docker-hub",
        SecretString='{"username": "u", "accessToken": "t"}',
    )
    return str(secret["ARN"])
