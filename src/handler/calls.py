"""One AWS API call, retried within the deadline, each attempt bounded by the time left.

An attempt's outcome is *unknown* when it may have taken effect although it failed: its
response was lost (a read timeout, a broken connection) or the service answered 5xx. The
adapters use that to settle what a retry meets ("already exists", "not found"). An attempt
that never reached the service (it could not connect) or was refused (4xx) took no effect.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.exceptions import ConnectionError as NotConnected
from urllib3 import Timeout

from handler.deadline import Deadline, RetryPolicy
from handler.rules import Window

log = logging.getLogger(__name__)

THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "ServerException",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
NOT_ATTEMPTED = "NotAttempted"  # CallError.code when no attempt fitted before the deadline


@dataclass
class Attempts:
    """What the attempts of one call did."""

    @property
    def window(self) -> Window | None:
        """When they ran (a lost response's effect, if any, happened within it)."""
        if self.started is None:
            return None
        return Window(self.started, self.ended or datetime.now(UTC))

    count: int = 0
    lost: int = 0  # attempts whose response was lost (they may have taken effect)
    unknown: bool = False  # and what one of them did could not be read back
    started: datetime | None = None  # the wall-clock time just before the first was sent
    ended: datetime | None = None  # and just after the last one ended
    paused_s: float = 0.0  # the pauses between them


class CallError(Exception):
    """The call failed for good: `code` is the service's error code (or the exception's name,
    or NOT_ATTEMPTED), `message` its text."""

    def __init__(self, code: str, message: str, status: int, attempts: Attempts) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.attempts = code, message, status, attempts


class AttemptTimeouts:
    """Each attempt's connect and read timeouts on one botocore client. botocore takes a
    request's read timeout from the request context (filled in here on before-call) and the
    connect timeout from the client's HTTP session, read again for every request."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self._read: float | None = None
        self.current: tuple[float, float] | None = None  # (connect, read) of the latest attempt
        client.meta.events.register("before-call", self._before_call)

    @classmethod
    def of(cls, client: Any) -> AttemptTimeouts:
        """The one AttemptTimeouts of `client` (two would each set the timeouts of every call)."""
        timeouts = _ATTEMPT_TIMEOUTS.get(client)
        if timeouts is None:
            timeouts = _ATTEMPT_TIMEOUTS[client] = cls(client)
        return timeouts

    def set(self, connect_s: float, read_s: float) -> None:
        self._read = read_s
        self.current = (connect_s, read_s)
        session = getattr(getattr(self._client, "_endpoint", None), "http_session", None)
        if session is not None:
            session._timeout = Timeout(connect=connect_s, read=read_s)

    def _before_call(self, context: dict[str, Any], **kwargs: Any) -> None:
        if self._read is not None:
            context["read_timeout"] = self._read


_ATTEMPT_TIMEOUTS: weakref.WeakKeyDictionary[Any, AttemptTimeouts] = weakref.WeakKeyDictionary()
Retryable = Callable[[str, int, Attempts], bool]  # (code, HTTP status, attempts so far) -> retry?
Settle = Callable[[Attempts], dict[str, Any] | None]


class Unsettled(Exception):
    """What a write whose response was lost did cannot be read back."""


def default_retryable(code: str, status: int, attempts: Attempts) -> bool:
    return code in THROTTLING_CODES or code in TRANSIENT_CODES or status >= 500


class Caller:
    """Makes calls on one client within one deadline; counts every attempt in `calls`."""

    def __init__(
        self, client: Any, timeouts: AttemptTimeouts | None, deadline: Deadline, policy: RetryPolicy
    ) -> None:
        self.client = client
        self.deadline = deadline
        self.policy = policy
        self._timeouts = timeouts
        self.calls = 0

    def call(
        self,
        operation: str,
        params: dict[str, Any],
        *,
        write: bool,
        retryable: Retryable = default_retryable,
        settle: Settle | None = None,
    ) -> tuple[dict[str, Any], Attempts]:
        """The call's answer and what its attempts did; CallError when it failed for good.

        After a write attempt whose outcome is unknown, `settle` reads back what it did, before
        any retry: an answer means it took effect (returned as the call's answer), None that it
        did not (the call goes on); Unsettled that it cannot be told (the call fails, unknown).
        """
        method = getattr(self.client, _snake(operation))
        attempts = Attempts()
        last: CallError | None = None  # the latest attempt's failure: what to report if no more fit
        while True:
            left = self.deadline.left()
            if left < self.policy.min_attempt_s:
                if last is not None:
                    raise last
                why = f" ({self.deadline.why})" if self.deadline.why else ""
                message = f"only {max(left, 0.0):.2f} s were left before the answer was due{why}"
                raise CallError(NOT_ATTEMPTED, message, 0, attempts)
            if self._timeouts is not None:
                self._timeouts.set(*self.policy.attempt_timeouts(left, write))
            answer, failure = self._attempt(operation, method, params, attempts, write, retryable)
            if answer is not None:
                return answer, attempts
            assert failure is not None
            last, lost, again = failure
            if lost:
                attempts.lost += 1
                if settle is None:
                    attempts.unknown = True
                else:
                    try:
                        settled = settle(attempts)
                    except Unsettled:
                        attempts.unknown = True
                        raise last from None
                    if settled is not None:
                        log.warning("a lost response: reading back showed the call took effect")
                        return settled, attempts
            if not again or not self._pause(attempts, operation, last.code):
                raise last

    def _attempt(
        self,
        operation: str,
        method: Callable[..., dict[str, Any]],
        params: dict[str, Any],
        attempts: Attempts,
        write: bool,
        retryable: Retryable,
    ) -> tuple[dict[str, Any] | None, tuple[CallError, bool, bool] | None]:
        """One attempt: its answer, or (its failure, whether its response was lost, retry?)."""
        if attempts.started is None:
            attempts.started = datetime.now(UTC)
        attempts.count += 1
        self.calls += 1
        log.debug("calling", extra={"operation": operation, "params": params, "attempt": attempts.count})
        try:
            return method(**params), None
        except ClientError as error:
            attempts.ended = datetime.now(UTC)
            code = str(error.response.get("Error", {}).get("Code", "Unknown"))
            status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            failure = CallError(
                code, str(error.response.get("Error", {}).get("Message", "")), status, attempts
            )
            failure.__cause__ = error
            return None, (failure, write and status >= 500, retryable(code, status, attempts))
        except BotoCoreError as error:
            attempts.ended = datetime.now(UTC)
            failure = CallError(type(error).__name__, str(error), 0, attempts)
            failure.__cause__ = error
            # the network failed, not the call: always worth another attempt
            return None, (failure, write and not isinstance(error, NotConnected), True)

    def _pause(self, attempts: Attempts, operation: str, code: str) -> bool:
        """Wait before the next attempt; False when no further attempt fits."""
        if attempts.count >= self.policy.max_attempts:
            return False
        delay = self.policy.fitting_delay(attempts.count, self.deadline.left(), code in THROTTLING_CODES)
        if delay is None:
            return False
        log.info(
            "retrying the call",
            extra={"operation": operation, "code": code, "attempt": attempts.count, "delay_s": delay},
        )
        self.policy.sleep(delay)
        attempts.paused_s += delay
        return True


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
