"""The time an invocation has, and the retry policy that works within it.

Two moments bound every request. The *answer* is due at the earlier of the Lambda's deadline
and the resource's ServiceTimeout, less a reserve for sending it: no ECR attempt may run past
that moment. The *Lambda's deadline* is when the process is stopped: work that must happen
after the answer (undoing a rule CloudFormation will never own) must end before it.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class Deadline:
    """Seconds left before a moment: `left()` for the ECR calls, `lambda_left()` for the process."""

    def __init__(self, left: Callable[[], float], lambda_left: Callable[[], float], why: str = "") -> None:
        self._left = left
        self._lambda_left = lambda_left
        self.why = why  # what sets the moment, for messages

    def left(self) -> float:
        return self._left()

    def lambda_left(self) -> float:
        return self._lambda_left()

    def after_answer(self, margin_s: float = 0.25) -> Deadline:
        """The time left once the answer is out: until just before the Lambda stops the process."""
        return Deadline(
            lambda: self._lambda_left() - margin_s,
            self._lambda_left,
            "the function's Timeout (the answer had already gone out)",
        )


def answer_reserve(window_s: float) -> float:
    """How long before the answer is due it must be on its way: 2 s of a long window, less of
    a short one (a ServiceTimeout of a few seconds still leaves most of it for ECR)."""
    return min(2.0, max(0.2, 0.15 * window_s))


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
    # An attempt's connect and read timeouts: these, or the time left, whichever is shorter.
    connect_timeout_s: float = 2.0
    read_timeout_s: float = 6.0
    # No attempt starts with less than this left before the answer is due: it could not finish.
    min_attempt_s: float = 0.1
    # A write (create, update, delete) leaves this much of the time left (at most a quarter of
    # it) for one read afterwards: when its response is lost, that read tells what it did.
    settle_s: float = 1.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int, throttled: bool = False) -> float:
        """The pause before retry number `attempt` (1-based); short when ECR throttled."""
        growth: float = 2.0 ** (attempt - 1)
        cap = self.throttle_cap_s if throttled else self.cap_s
        return self.jitter() * min(cap, self.base_s * growth)

    def fitting_delay(self, attempt: int, left: float, throttled: bool = False) -> float | None:
        """The pause before the next attempt, shortened so that an attempt still fits in `left`
        seconds; None when no attempt fits any more."""
        room = left - self.min_attempt_s
        if room < 0.001:  # no room: a pause of nothing would only repeat the attempt at once
            return None
        return min(self.delay(attempt, throttled), room)

    def attempt_timeouts(self, left: float, write: bool) -> tuple[float, float]:
        """(connect, read) timeouts of one attempt that together end within `left` seconds
        (a write's leave room for the read that settles a lost response)."""
        if write:
            left -= min(self.settle_s, left / 4)
        connect = min(self.connect_timeout_s, left / 2)
        return connect, min(self.read_timeout_s, left - connect)
