"""A Lambda context with everything crhelper and Powertools read from a real one."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

ACCOUNT = "123456789012"
REGION = "us-east-1"
# The name CloudFormation gives template.yaml's ProviderFunction in the stack ecr-ptc-provider
# (<stack>-<logical id>-<suffix>; this suffix is the one MiniStack generates, so ./dev demo and
# ./dev demo events show the same function).
FUNCTION_NAME = "ecr-ptc-provider-ProviderFunction-480E3DCC4AE7E"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{FUNCTION_NAME}"


class LambdaKilled(BaseException):
    """Lambda stopped the process at its deadline: nothing after this point runs. A
    BaseException, so that no `except Exception` in the code under test can carry on."""


class FakeClock:
    """Seconds that pass only when told to (a LambdaContext's clock, in tests and the simulator)."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class LambdaContext:
    """The time left runs down from `timeout_s` on `clock` (time.monotonic unless injected)."""

    def __init__(
        self,
        timeout_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        memory_limit_in_mb: int = 256,
    ) -> None:
        self._clock = clock
        self._deadline = clock() + timeout_s
        self.function_name = FUNCTION_NAME
        self.function_version = "$LATEST"
        self.invoked_function_arn = FUNCTION_ARN
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{FUNCTION_NAME}"
        self.log_stream_name = "2026/11/27/[$LATEST]local"

    def get_remaining_time_in_millis(self) -> int:
        return max(int((self._deadline - self._clock()) * 1000), 0)

    def check_alive(self) -> None:
        """Raise LambdaKilled once the deadline has passed (as Lambda stops the process)."""
        if self._clock() >= self._deadline:
            raise LambdaKilled(f"the Lambda's deadline passed (function {self.function_name})")
