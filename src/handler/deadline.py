"""The time an invocation has left, and the retry policy that works within it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class Deadline:
    """Seconds left before the answer must be on its way (the Lambda's time, less a reserve)."""

    def __init__(self, remaining_ms: Callable[[], int], reserve_s: float) -> None:
        self._remaining_ms = remaining_ms
        self.reserve_s = reserve_s

    def left(self) -> float:
        return self._remaining_ms() / 1000.0 - self.reserve_s


@dataclass
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and by the deadline."""

    base_s: float = 0.1
    # The AWS SDKs' standard-mode cap. Under CloudFormation's parallelism ECR throttles many
    # requests at once; with a 2 s cap and 12 attempts a request gave up after ~8 s of waiting,
    # and most 50-rule stack operations failed at 5 calls/s. The deadline bounds the wait.
    cap_s: float = 20.0
    max_attempts: int = 20
    # Secrets Manager is eventually consistent: a secret created seconds before the rule can
    # still be reported missing. Retry that error for at most this long.
    secret_grace_s: float = 20.0
    # Do not start a call with less than this much time left: a call can take this long.
    call_budget_s: float = 4.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> float:
        """The pause before retry number `attempt` (1-based)."""
        growth: float = 2.0 ** (attempt - 1)
        return self.jitter() * min(self.cap_s, self.base_s * growth)
