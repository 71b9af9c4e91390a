"""Fault injection: scripted failures, a token-bucket throttle, a lagging secret store."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import AnyError

Clock = Callable[[], float]


@dataclass
class _Failure:
    operation: str | None  # None: any pull-through cache operation
    code: str
    status: int
    message: str
    times: int  # -1: permanent
    after: int  # matching calls still to let through


class Faults:
    """What the emulator should get wrong, per ECR backend (reset with it).

    ``clock`` (seconds, monotonic) drives the throttle; tests inject a fake one.
    """

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        """Remove every fault."""
        with self._lock:
            self._failures: list[_Failure] = []
            self._rate: float | None = None
            self._burst = 0
            self._tokens = 0.0
            self._last: float | None = None
            self._hidden_secret_calls = 0
            self._validation: tuple[bool, str] | None = None

    def fail(
        self,
        operation: str | None,
        code: str,
        status: int = 400,
        message: str = "Injected fault",
        times: int = 1,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` calls of ``operation`` (None: any) with ``code``.

        The first ``after`` matching calls go through untouched; ``times=-1`` never stops.
        """
        if times == 0 or times < -1 or after < 0:
            raise ValueError("times must be -1 or positive, after must be >= 0")
        with self._lock:
            self._failures.append(_Failure(operation, code, status, message, times, after))

    def throttle(self, rate_per_second: float | None, burst: int = 1) -> None:
        """Admit calls through a token bucket (``burst`` tokens, refilled at the rate).

        ``throttle(None)`` turns throttling off.
        """
        if rate_per_second is not None and (rate_per_second < 0 or burst < 1):
            raise ValueError("rate_per_second must be >= 0 and burst >= 1")
        with self._lock:
            self._rate, self._burst = rate_per_second, burst
            self._tokens, self._last = float(burst), None

    def hide_secret_for(self, calls: int) -> None:
        """Report existing secrets as missing for the next ``calls`` create/update
        calls that name a secret (Secrets Manager's eventual consistency)."""
        with self._lock:
            self._hidden_secret_calls = calls

    def validation_result(self, is_valid: bool, failure: str = "") -> None:
        """Make ValidatePullThroughCacheRule report this result for every rule."""
        with self._lock:
            self._validation = (is_valid, failure)

    # -- used by the emulator ----------------------------------------------------

    def check(self, operation: str) -> None:
        """Raise the fault, if any, that this call of ``operation`` meets."""
        with self._lock:
            if self._rate is not None and not self._take_token():
                raise AnyError("ThrottlingException", "Rate exceeded", 400)
            chosen = None
            for failure in self._failures:
                if failure.operation not in (None, operation):
                    continue
                if failure.after > 0:
                    failure.after -= 1
                elif chosen is None:
                    chosen = failure
            if chosen is None:
                return
            if chosen.times > 0:
                chosen.times -= 1
                if chosen.times == 0:
                    self._failures.remove(chosen)
            raise AnyError(chosen.code, chosen.message, chosen.status)

    def secret_hidden(self) -> bool:
        """Whether this create/update call naming a secret must not see it."""
        with self._lock:
            if self._hidden_secret_calls <= 0:
                return False
            self._hidden_secret_calls -= 1
            return True

    def forced_validation(self) -> tuple[bool, str] | None:
        with self._lock:
            return self._validation

    def _take_token(self) -> bool:
        assert self._rate is not None
        now = self.clock()
        elapsed = 0.0 if self._last is None else now - self._last
        self._tokens = min(float(self._burst), self._tokens + elapsed * self._rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True
