"""Constants and helpers shared by the emulator's tests (fixtures are in conftest.py)."""

from typing import Any

import pytest
from botocore.config import Config

REGION = "us-east-1"
ACCOUNT = "123456789012"
NO_RETRIES = Config(retries={"total_max_attempts": 1})


def error_code(excinfo: pytest.ExceptionInfo[Any]) -> str:
    return str(excinfo.value.response["Error"]["Code"])
