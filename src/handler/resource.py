"""crhelper's CfnResource with its unsafe defaults fixed.

crhelper 2.0.12 dispatches Create/Update/Delete to our hooks, remembers start-up failures
and answers FAILED when a hook raises. This subclass changes what it does wrong for us:

- no lambda/events/logs clients at start-up (they serve polling, which is unused: ~100 ms);
- no reconfiguration of the root logger on each request (Powertools owns logging);
- no 120 s sleep after a Delete;
- the answer: sent exactly once per invocation, through a bounded PUT, with a body that is
  always protocol-valid (non-empty id, Reason shortened from the end, under 4096 bytes),
  and never a log line with the ResponseURL;
- the timeout answer: sent before the Lambda's deadline with a real id (crhelper's is empty),
  by one long-lived watchdog thread (crhelper starts a threading.Timer per request);
- a failed Create answers an id that can never name a rule, so its Delete touches nothing;
- a request delivered twice to a warm container is answered again with the first answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from crhelper import CfnResource

from handler.response import FAILED, build_body, failed_create_id, put

log = logging.getLogger(__name__)

Put = Callable[[str, bytes, Callable[[], float]], int | None]


class ProviderResource(CfnResource):
    """The custom resource: crhelper's dispatch with safe answering."""

    def __init__(self, answer_reserve_s: float = 2.0, send: Put = put, remembered: int = 64) -> None:
        # crhelper's __init__ would create three boto3 clients and reconfigure logging; set
        # the same attributes it sets instead (tests/test_answering.py checks the list).
        self._sleep_on_delete = 0
        self._create_func = self._update_func = self._delete_func = None
        self._poll_create_func = self._poll_update_func = self._poll_delete_func = None
        self._timer: Watchdog | None = None
        self._init_failed: Exception | None = None
        self._json_logging = False
        self._log_level = "INFO"
        self._boto_level = "ERROR"
        self._send_response = False
        self._polling_interval = 2
        self.Status = ""
        self.Reason = ""
        self.PhysicalResourceId = ""
        self.StackId = ""
        self.RequestId = ""
        self.LogicalResourceId = ""
        self.Data: dict[str, Any] = {}
        self.NoEcho = False
        self._event: dict[str, Any] = {}
        self._context: Any = None
        self._response_url = ""
        self._sam_local = None
        self._region = None
        self._ssl_verify = None
        # ours
        self._answer_reserve_s = answer_reserve_s
        self._put = send
        self._send_lock = threading.Lock()
        self._answered = False
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        self._remembered = remembered
        self._service_deadline: float | None = None
        self._if_undelivered: Callable[[], None] | None = None
        self._watchdog = Watchdog()

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        with self._send_lock:
            self._answered = False
        self._if_undelivered = None
        self._event, self._context = event, context
        self._service_deadline = _service_deadline(event)
        earlier = self._answers.get(str(event.get("RequestId")))
        if earlier is not None:
            log.info("request delivered again: repeating the first answer")
            self._deliver(event.get("ResponseURL", ""), earlier)
            return
        super().__call__(event, context)

    def if_undelivered(self, undo: Callable[[], None]) -> None:
        """Run `undo` if this invocation's answer cannot be delivered: CloudFormation then never
        learns what the request did, fails it after ServiceTimeout and rolls back."""
        self._if_undelivered = undo

    @property
    def answered(self) -> bool:
        """True once this invocation's answer has been sent."""
        with self._send_lock:
            return self._answered

    def time_left(self) -> float:
        """Seconds before the answer must be on its way."""
        return self._lambda_time_left() - self._answer_reserve_s

    def remaining_ms(self) -> int:
        """Milliseconds until the earlier of the Lambda's deadline and CloudFormation's
        ServiceTimeout (how long the stack waits for this answer)."""
        return int(self._lambda_time_left() * 1000)

    def _lambda_time_left(self) -> float:
        if self._context is None:
            return 0.0
        left = float(self._context.get_remaining_time_in_millis()) / 1000.0
        if self._service_deadline is not None:
            left = min(left, self._service_deadline - time.monotonic())
        return left

    def _log_setup(self, event: Any, context: Any) -> None:
        """Logging is configured once, by Powertools, in handler.app."""

    def _wait_for_cwlogs(self, sleep: Any = None) -> None:
        """No pause after a Delete: the answer goes out as soon as the work is done."""

    def generate_physical_id(self, event: dict[str, Any]) -> str:
        return failed_create_id(str(event.get("RequestId", "")))

    def _set_timeout(self) -> None:
        # crhelper cancels self._timer when the request is done
        self._timer = self._watchdog
        self._watchdog.arm(max(self.time_left(), 0.0), self._timeout)

    def _timeout(self) -> None:
        log.error("the Lambda is about to time out: answering FAILED now")
        self._send(
            FAILED,
            "The provider ran out of time before ECR finished answering; this request did no "
            "more after that. Retry the deployment; if it recurs, raise the provider function's "
            "Timeout, or the resource's ServiceTimeout if it sets one.",
        )

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        with self._send_lock:
            if self._answered:
                log.warning("an answer was already sent for this request: not sending another")
                return
            self._answered = True
        event = self._event
        body = build_body(
            event,
            status or self.Status or FAILED,
            reason if status else str(self.Reason),
            str(self.PhysicalResourceId or "") or None,
            self.Data,
        )
        self._remember(str(event.get("RequestId")), body)
        http_status = self._deliver(str(event.get("ResponseURL", "")), body)
        undo, self._if_undelivered = self._if_undelivered, None
        if undo is not None and (http_status is None or http_status >= 500):  # S3 did not store it
            undo()
            # the answer no longer describes the registry: a repeat of the request runs afresh
            self._answers.pop(str(event.get("RequestId")), None)

    def _deliver(self, url: str, body: bytes) -> int | None:
        """PUT the answer; the HTTP status of the last attempt, None if none connected."""
        if not url:
            log.error("the request has no ResponseURL: there is nowhere to answer")
            return None
        return self._put(url, body, lambda: self._lambda_time_left() - 0.25)

    def _remember(self, request_id: str, body: bytes) -> None:
        self._answers[request_id] = body
        while len(self._answers) > self._remembered:
            self._answers.popitem(last=False)


class Watchdog:
    """Runs an action when an armed deadline passes, unless cancelled first: what crhelper's
    threading.Timer does, on one long-lived thread. A Timer starts a thread per request, and a
    thread start costs 0.2-0.9 ms of every request's latency (docs/benchmark.md)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._due: float | None = None
        self._action: Callable[[], None] | None = None
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float, action: Callable[[], None]) -> None:
        with self._condition:
            self._due, self._action = time.monotonic() + seconds, action
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="answer-deadline", daemon=True)
                self._thread.start()
            self._condition.notify()

    def cancel(self) -> None:
        with self._condition:
            self._due = self._action = None
            self._condition.notify()

    def _run(self) -> None:
        while True:
            with self._condition:
                while self._due is None or self._due > time.monotonic():
                    self._condition.wait(None if self._due is None else self._due - time.monotonic())
                action, self._due, self._action = self._action, None, None
            if action is not None:
                action()


def _service_deadline(event: dict[str, Any]) -> float | None:
    """When CloudFormation stops waiting, if the resource sets ServiceTimeout (1-3600 s)."""
    raw = (event.get("ResourceProperties") or {}).get("ServiceTimeout")
    try:
        seconds = float(str(raw))
    except (TypeError, ValueError):
        return None
    return time.monotonic() + seconds if 1 <= seconds <= 3600 else None
