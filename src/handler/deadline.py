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
    """Exponential backoff with full jitter, bounded by the deadline (and by attempts)."""

    base_s: float = 0.1
    # Server errors and connection failures: the AWS SDKs' standard-mode cap. The deadline,
    # not the number of attempts, bounds the wait.
    cap_s: float = 20.0
    # Throttling is not a failing service: ECR admits calls through a token bucket, refilled
    # continuously and shared by every concurrent invocation. Pauses of up to 20 s leave its
    # tokens unused (a 50-rule stack took 2-3x the time its rate allows); short jittered pauses
    # keep it in use (~1.2x), while the deadline still bounds how long a request waits for its
    # turn. docs/benchmark.md (./dev bench) measures it.
    throttle_cap_s: float = 0.5
    # A backstop: the deadline ends retrying first (throttled: ~4 attempts a second).
    max_attempts: int = 400
    # Secrets Manager is eventually consistent: a secret created seconds before the rule can
    # still be reported missing. Retry that error for at most this long.
    secret_grace_s: float = 20.0
    # No call starts with less than this left before the answer is due. A call that outlasts it
    # loses the race to the timeout answer; the dispatcher then removes any rule CloudFormation,
    # told FAILED, will never own, and CloudFormation's rollback reverts the rest.
    call_budget_s: float = 3.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int, throttled: bool = False) -> float:
        """The pause before retry number `attempt` (1-based); short when ECR throttled."""
        growth: float = 2.0 ** (attempt - 1)
        cap = self.throttle_cap_s if throttled else self.cap_s
        return self.jitter() * min(cap, self.base_s * growth)
