"""Fault injection: scripted failures, a token-bucket throttle, a lagging secret store."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from .errors import AnyError, ResponseLost

Clock = Callable[[], float]


@dataclass
class _Failure:
    operation: str | None  # None: any pull-through cache operation
    code: str
    status: int
    message: str
    times: int  # -1: permanent
    after: int  # matching calls still to let through


@dataclass
class _Loss:
    operation: str | None
    how: str  # "5xx" | "timeout"
    hang_s: float
    times: int
    after: int


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
            self._validation_of: dict[str, tuple[bool, str]] = {}  # by prefix, without a trailing '/'
            self._losses: list[_Loss] = []

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

    def lose_response(
        self, operation: str | None, how: str = "5xx", times: int = 1, after: int = 0, hang_s: float = 30.0
    ) -> None:
        """The next ``times`` calls of ``operation`` (None: any) take effect, then their response
        is lost: ``how="5xx"`` answers InternalFailure (HTTP 500) after the change was made;
        ``how="timeout"`` sends no answer (in-process a ReadTimeoutError is raised; in server
        mode the connection is held for ``hang_s`` seconds, past the client's read timeout).
        The first ``after`` matching calls go through untouched; ``times=-1`` never stops."""
        if how not in ("5xx", "timeout") or times == 0 or times < -1 or after < 0:
            raise ValueError("how must be '5xx' or 'timeout', times -1 or positive, after >= 0")
        with self._lock:
            self._losses.append(_Loss(operation, how, hang_s, times, after))

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

    def validation_result(self, is_valid: bool, failure: str = "", prefix: str | None = None) -> None:
        """Make ValidatePullThroughCacheRule report this result for every rule, or with ``prefix``
        for that rule only ('k8s' and 'k8s/' name one rule); a rule's own result comes before the
        one for every rule, whichever was set last."""
        with self._lock:
            if prefix is None:
                self._validation = (is_valid, failure)
            else:
                self._validation_of[_canonical(prefix)] = (is_valid, failure)

    # -- used by the emulator ----------------------------------------------------

    def check(self, operation: str) -> None:
        """Raise the fault, if any, that this call of ``operation`` meets."""
        with self._lock:
            if self._rate is not None and not self._take_token():
                raise AnyError("ThrottlingException", "Rate exceeded", 400)
            chosen = _pick(self._failures, operation)
            if chosen is not None:
                raise AnyError(chosen.code, chosen.message, chosen.status)

    def loses(self, operation: str) -> str | None:
        """Whether this call of ``operation``'s response will be lost, and how (counted for every
        call, before it runs, as ``fail`` counts them)."""
        with self._lock:
            chosen = _pick(self._losses, operation)
        return (
            None if chosen is None else chosen.how + (f":{chosen.hang_s}" if chosen.how == "timeout" else "")
        )

    @staticmethod
    def lose(how: str | None) -> None:
        """After the call took effect: raise its lost response, as ``loses`` decided."""
        if how is None:
            return
        if how == "5xx":
            raise AnyError("InternalFailure", "The server failed after the request was processed", 500)
        raise ResponseLost(float(how.split(":", 1)[1]))

    def secret_hidden(self) -> bool:
        """Whether this create/update call naming a secret must not see it."""
        with self._lock:
            if self._hidden_secret_calls <= 0:
                return False
            self._hidden_secret_calls -= 1
            return True

    def forced_validation(self, prefix: str) -> tuple[bool, str] | None:
        """The result set for the rule at ``prefix`` (or for every rule), if any."""
        with self._lock:
            return self._validation_of.get(_canonical(prefix), self._validation)

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


def _canonical(prefix: str) -> str:
    """ECR reads every prefix as ending in '/' (ROOT aside): 'a' and 'a/' name one rule."""
    return prefix if prefix == "ROOT" else prefix.rstrip("/")


class _Counted(Protocol):
    operation: str | None
    times: int
    after: int


def _pick[F: _Counted](failures: list[F], operation: str) -> F | None:
    """The failure this call of ``operation`` meets (counting its ``after`` and ``times``)."""
    chosen = None
    for failure in failures:
        if failure.operation not in (None, operation):
            continue
        if failure.after > 0:
            failure.after -= 1
        elif chosen is None:
            chosen = failure
    if chosen is not None and chosen.times > 0:
        chosen.times -= 1
        if chosen.times == 0:
            failures.remove(chosen)
    return chosen
