"""Constants and helpers shared by the emulator's tests (fixtures are in conftest.py)."""

import functools
from typing import Any

import boto3
import pytest
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


@functools.cache
def _session() -> boto3.session.Session:
    """One boto3 session for the fixtures' clients. mock_aws gives each test a new default session,
    whose first client loads botocore's models and endpoint rules again (about 50 ms); a client of
    this session is new each test as well, and meets moto's mock the same way."""
    return boto3.session.Session()


def client(service: str, config: Config | None = None) -> Any:
    return _session().client(service, region_name=REGION, config=config)  # type: ignore[call-overload]
