"""What the network between the function and ECR does to its calls, in-process, on a fake clock.

moto answers inside botocore's send, so in-process no call takes time and no timeout fires.
`SlowNetwork` gives each attempt a duration on the Lambda context's clock and honours the
attempt's own timeouts (handler.calls.AttemptTimeouts): an attempt slower than they allow
ends at them with botocore's ReadTimeoutError, as over a real socket. A response the emulator
loses (ecr_ptc_emulator's lose_response "timeout") takes the attempt's whole read timeout.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import ReadTimeoutError

from devkit.aws_lambda.context import FakeClock, LambdaContext


class SlowNetwork:
    """Every attempt on `client` takes `duration(n)` seconds of `clock` (n: the attempt's number
    from 1); longer than its timeouts allow, it ends at them, not processed by ECR. With a
    `context`, an attempt still running at the Lambda's deadline is where the process is
    killed (LambdaKilled), as Lambda does."""

    def __init__(
        self,
        client: Any,
        timeouts: Any,
        clock: FakeClock,
        duration: Callable[[int], float] = lambda n: 0.0,
        context: LambdaContext | None = None,
    ) -> None:
        self._client, self._timeouts, self._clock, self._duration = client, timeouts, clock, duration
        self._context = context
        self.attempts = 0
        self.timed_out = 0

    def __enter__(self) -> SlowNetwork:
        self._client.meta.events.register_first("before-send.ecr", self._before_send)
        self._client.meta.events.register("after-call-error.ecr", self._after_error)
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.meta.events.unregister("before-send.ecr", self._before_send)
        self._client.meta.events.unregister("after-call-error.ecr", self._after_error)

    def _bound(self) -> float:
        connect, read = getattr(self._timeouts, "current", None) or (2.0, 6.0)
        return float(connect + read)

    def _before_send(self, request: Any, **kwargs: Any) -> None:
        self.attempts += 1
        takes = self._duration(self.attempts)
        if takes > self._bound():
            self._pass(self._bound())
            self.timed_out += 1
            raise ReadTimeoutError(endpoint_url=str(request.url))
        self._pass(takes)

    def _after_error(self, exception: Exception, **kwargs: Any) -> None:
        if isinstance(exception, ReadTimeoutError) and type(exception) is not ReadTimeoutError:
            self._pass(self._timeouts.current[1] if self._timeouts.current else 6.0)

    def _pass(self, seconds: float) -> None:
        self._clock.advance(seconds)
        if self._context is not None:
            self._context.check_alive()
