"""crhelper's CfnResource with its unsafe defaults fixed.

crhelper 2.0.12 dispatches Create/Update/Delete to our hooks, remembers start-up failures
and answers FAILED when a hook raises. This subclass changes what it does wrong for us:

- the envelope is checked first (envelope.py): an event that is not CloudFormation's gets one
  readable answer, never a Python error or the wrong action, and crhelper's own keys are dropped;
- no lambda/events/logs clients at start-up (they serve polling, which is unused: ~100 ms);
- no reconfiguration of the root logger on each request (Powertools owns logging);
- no 120 s sleep after a Delete;
- the answer: one per invocation (a `Turn`), through a bounded PUT, with a body that is always
  protocol-valid (non-empty id, Reason shortened from the end, under 4096 bytes), and never a
  log line with the ResponseURL;
- the timeout answer: sent before the answer is due, by one long-lived watchdog thread (crhelper
  starts a threading.Timer per request), only for the turn it was armed for and only if the
  request's own thread has not claimed the answer, with an id that lets CloudFormation's rollback
  remove what the request may have made (crhelper's is empty), so that nothing after it is needed;
- the function returns only once its answer's delivery is over, whichever thread sent it: Lambda
  freezes the environment then (docs/reference.md, "When Lambda freezes or stops the function");
- any event gets one answer, even when serving it fails in an unforeseen way;
- a failed Create answers an id that can never name a rule, so its Delete touches nothing;
- a request delivered twice to a warm container (the same request: stack, resource, type,
  properties) is answered again with the first answer.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from crhelper import CfnResource

from handler import envelope
from handler.deadline import Deadline, answer_reserve
from handler.response import FAILED, SUCCESS, Delivery, build_body, failed_create_id, put

log = logging.getLogger(__name__)

Put = Callable[[str, bytes, Callable[[], float]], Delivery]
# The timeout answer's id and a sentence on what it names, given when the process will be killed
TimeoutAnswer = Callable[[datetime], tuple[str | None, str]]
OPEN, CLAIMED, ANSWERED = "open", "claimed", "answered"
UNEXPECTED_REASON = (
    "The provider hit an unexpected error before it could decide; it did nothing it knows of. Its "
    "logs have the details; please report it. Retry the deployment."
)
TIMEOUT_REASON = (
    "The provider ran out of time before ECR finished answering; this request did no more after "
    "that. Retry the deployment; if it recurs, raise the provider function's Timeout, or the "
    "resource's ServiceTimeout if it sets one."
)


class Turn:
    """One invocation's answer: sent once, by the request's own thread or by the timeout.
    `state` moves OPEN -> CLAIMED (the request's thread will answer) -> ANSWERED, or
    OPEN -> ANSWERED (the timeout answer went out first)."""

    def __init__(self, event: dict[str, Any], fingerprint: str, lambda_left: Callable[[], float]) -> None:
        self.event = event
        self.fingerprint = fingerprint
        self.state = OPEN
        self.sent: dict[str, Any] = {}  # the answer's Status, Reason and PhysicalResourceId
        self.undo: Callable[[], None] | None = None
        self.after: list[Callable[[], None]] = []  # to run once the answer went out
        self.timeout_answer: TimeoutAnswer | None = None
        self.delivered = threading.Event()  # the answer's delivery is over (stored or not)
        self._lambda_left = lambda_left
        # ServiceTimeout is measured on the Lambda's own countdown: one clock for both ends.
        self._started_left = lambda_left()
        self._service_s = _service_timeout(event)
        window = self._started_left if self._service_s is None else min(self._started_left, self._service_s)
        self.reserve_s = answer_reserve(window)

    def shorten_service_timeout(self, elapsed_s: float) -> None:
        """CloudFormation's ServiceTimeout also counts the time this container took to start."""
        if self._service_s is not None:
            self._service_s -= elapsed_s

    def lambda_left(self) -> float:
        return self._lambda_left()

    def waiting_left(self) -> float:
        """Seconds CloudFormation still waits: the earlier of the Lambda's and ServiceTimeout's end."""
        left = self._lambda_left()
        if self._service_s is not None:
            left = min(left, self._service_s - (self._started_left - left))
        return left

    def answer_left(self) -> float:
        """Seconds before the answer must be on its way (none once it is)."""
        return 0.0 if self.state == ANSWERED else self.waiting_left() - self.reserve_s

    def deadline(self) -> Deadline:
        ends = (
            f"the resource's ServiceTimeout ({self._service_s:.3g} s for this request)"
            if self.waiting_left() < self._lambda_left()
            else "the provider function's Timeout"
        )
        why = f"the answer is due {self.reserve_s:.2f} s before {ends} ends"
        return Deadline(self.answer_left, self.lambda_left, why)


class ProviderResource(CfnResource):
    """The custom resource: crhelper's dispatch with safe answering."""

    def __init__(self, send: Put = put, remembered: int = 64, started: float | None = None) -> None:
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
        self._put = send
        self._lock = threading.Lock()
        self._turn: Turn | None = None
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        self._remembered = remembered
        self._started = started  # when the container began starting (the first turn's clock)
        self._watchdog = Watchdog()

    def __call__(self, event: Any, context: Any) -> None:
        self._context = context
        turn = Turn({}, "", _seconds_left(context))
        try:
            checked = envelope.check(event)
            self._event = checked.event
            turn = Turn(checked.event, _fingerprint(checked.event), _seconds_left(context))
            if self._started is not None:
                turn.shorten_service_timeout(time.monotonic() - self._started)
                self._started = None
            with self._lock:
                self._turn = turn
            self._serve(turn, checked, context)
        except Exception:  # a bug: the request is still answered, once
            log.exception("unexpected error while serving the request")
        finally:
            self._finish(turn, event)

    def _serve(self, turn: Turn, checked: envelope.Envelope, context: Any) -> None:
        if checked.problems:
            self._answer_envelope(turn, checked)
            return
        with self._lock:
            earlier = self._answers.get(turn.fingerprint)
        if earlier is not None:
            log.info("request delivered again: repeating the first answer")
            with self._lock:
                self._take(turn, earlier)
            self._answer(turn, earlier)
            return
        super().__call__(checked.event, context)

    def _finish(self, turn: Turn, event: Any) -> None:
        """Before the function returns (Lambda freezes the environment then): the request is
        answered, and the answer's delivery is over, whichever thread sent it."""
        with self._lock:
            unanswered = turn.state != ANSWERED
            if unanswered:
                turn.event = turn.event or _identifiers(event)
                body = self._take(turn, build_body(turn.event, FAILED, UNEXPECTED_REASON, None, None))
        if unanswered:
            self._answer(turn, body)
        if not turn.delivered.wait(max(turn.lambda_left(), 0.0)):
            log.error("the answer's delivery outlived the function's time")

    # -- what the dispatcher uses -------------------------------------------------------------

    def deadline(self) -> Deadline:
        """The current request's deadline."""
        assert self._turn is not None
        return self._turn.deadline()

    def claim(self) -> bool:
        """Take the answer for the request's own thread: True, and the timeout answer can no
        longer go out; False when the timeout answer already went (or is going) out."""
        with self._lock:
            turn = self._turn
            if turn is None or turn.state != OPEN:
                return False
            turn.state = CLAIMED
        self._watchdog.cancel()
        return True

    def sent(self) -> dict[str, Any]:
        """The answer sent for the current request (Status, Reason, PhysicalResourceId)."""
        return dict(self._turn.sent) if self._turn else {}

    def after_answer(self, work: Callable[[], None]) -> None:
        """Run `work` once this request's answer has been sent, whatever became of it."""
        if self._turn is not None:
            self._turn.after.append(work)

    def if_timed_out(self, answer: TimeoutAnswer) -> None:
        """How the timeout answer of the current request names what it may have made."""
        if self._turn is not None:
            self._turn.timeout_answer = answer

    def undo_if_not_stored(self, undo: Callable[[], None]) -> None:
        """Run `undo` if this request's answer certainly did not reach S3: CloudFormation then
        never learns what the request did, fails it after ServiceTimeout and rolls back."""
        if self._turn is not None:
            self._turn.undo = undo

    # -- crhelper's hooks ---------------------------------------------------------------------

    def _log_setup(self, event: Any, context: Any) -> None:
        """Logging is configured once, by Powertools, in handler.app."""

    def _wait_for_cwlogs(self, sleep: Any = None) -> None:
        """No pause after a Delete: the answer goes out as soon as the work is done."""

    def generate_physical_id(self, event: dict[str, Any]) -> str:
        return failed_create_id(str(event.get("RequestId", "")))

    def _set_timeout(self) -> None:
        turn = self._turn
        assert turn is not None
        self._timer = self._watchdog  # crhelper cancels self._timer when the request is done
        self._watchdog.arm(max(turn.answer_left(), 0.0), functools.partial(self._timeout, turn))

    def _timeout(self, turn: Turn) -> None:
        with self._lock:
            if turn is not self._turn or turn.state != OPEN:
                return  # armed for another request, or the request's thread answers itself
            physical_id, note = _what_it_made(turn)  # closes the request's journal to new creates
            body = self._take(turn, build_body(turn.event, FAILED, TIMEOUT_REASON + note, physical_id, None))
        log.error("the answer is due and ECR has not finished: answering FAILED now")
        self._answer(turn, body)

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None) -> None:
        with self._lock:
            turn = self._turn
            if turn is None or turn.state == ANSWERED:
                log.warning("an answer was already sent for this request: not sending another")
                return
            body = build_body(
                turn.event,
                status or self.Status or FAILED,
                reason if status else str(self.Reason),
                str(self.PhysicalResourceId or "") or None,
                self.Data,
            )
            self._take(turn, body)
        self._answer(turn, body)

    # -- answering ----------------------------------------------------------------------------

    def _take(self, turn: Turn, body: bytes) -> bytes:
        """Mark the turn answered with `body` (under the lock: whoever takes it, answers; from
        then on the request's thread may start no ECR call, its answer_left being 0)."""
        turn.state = ANSWERED
        sent = json.loads(body)
        turn.sent = {k: sent.get(k) for k in ("Status", "Reason", "PhysicalResourceId")}
        return body

    def _answer(self, turn: Turn, body: bytes) -> None:
        try:
            with self._lock:
                self._remember(turn.fingerprint, body)
            delivery = self._deliver(turn, body)
            undo, turn.undo = turn.undo, None
            if delivery is Delivery.NOT_STORED:
                with self._lock:
                    self._answers.pop(turn.fingerprint, None)  # a repeat of the request runs afresh
                if undo is not None:
                    undo()
            after, turn.after = turn.after, []
            for work in after:
                work()
        finally:
            turn.delivered.set()

    def _answer_envelope(self, turn: Turn, checked: envelope.Envelope) -> None:
        """A request whose envelope is not CloudFormation's: nothing is done; a Delete is still
        answered SUCCESS (a stack must never stay stuck on a Delete for its input)."""
        status = SUCCESS if checked.request_type == "Delete" else FAILED
        reason = " ".join(checked.problems) + " The provider did nothing for this request."
        log.warning("not a CloudFormation request", extra={"problems": checked.problems})
        with self._lock:
            body = self._take(turn, build_body(turn.event, status, reason, None, None))
        self._answer(turn, body)

    def _deliver(self, turn: Turn, body: bytes) -> Delivery:
        url = turn.event.get("ResponseURL")
        if not isinstance(url, str) or not url:
            log.error("the request has no ResponseURL: there is nowhere to answer")
            return Delivery.NOT_STORED
        return self._put(url, body, lambda: turn.waiting_left() - 0.25)

    def _remember(self, fingerprint: str, body: bytes) -> None:
        """(under the lock)"""
        self._answers[fingerprint] = body
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
            if action is None:
                continue
            try:
                action()
            except Exception:  # the thread must live on: the next request needs its timeout answer
                log.exception("the timeout answer failed")


def _seconds_left(context: Any) -> Callable[[], float]:
    """The Lambda's time left, in seconds, read from this request's own context."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if not callable(remaining):
        return lambda: 0.0
    return lambda: float(remaining()) / 1000.0


def _what_it_made(turn: Turn) -> tuple[str | None, str]:
    """The timeout answer's id (None: the default one) and what the Reason says of it."""
    if turn.timeout_answer is None:
        return None, ""
    killed_at = datetime.now(UTC) + timedelta(seconds=max(turn.lambda_left(), 0.0))
    try:
        return turn.timeout_answer(killed_at)
    except Exception:  # a bug: the answer still goes out, with the id on record
        log.exception("could not tell what the request had made")
        return None, ""


def _identifiers(event: Any) -> dict[str, Any]:
    """What of the event an answer copies and delivers to, whatever the event is."""
    if not isinstance(event, dict):
        return {}
    keys = ("RequestId", "StackId", "LogicalResourceId", "RequestType", "ResponseURL")
    return {k: v for k, v in event.items() if k in keys and isinstance(v, str)}


def _fingerprint(event: dict[str, Any]) -> str:
    """What makes a request the same request: a repeat carries all of it unchanged."""
    same = [
        event.get(key)
        for key in (
            "RequestId",
            "StackId",
            "LogicalResourceId",
            "RequestType",
            "PhysicalResourceId",
            "ResourceProperties",
            "OldResourceProperties",
        )
    ]
    text = json.dumps(same, sort_keys=True, default=repr, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _service_timeout(event: dict[str, Any]) -> float | None:
    """The resource's ServiceTimeout (1-3600 s), when it sets one: how long CloudFormation waits."""
    properties = event.get("ResourceProperties")
    raw = properties.get("ServiceTimeout") if isinstance(properties, dict) else None
    try:
        seconds = float(str(raw))
    except (TypeError, ValueError):
        return None
    return seconds if 1 <= seconds <= 3600 else None
