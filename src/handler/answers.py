"""The answer CloudFormation gets for each request, owned by one object (`Answers`): which thread
sends it (the request's own, or the timeout answer's), sending it once, remembering it for a
request delivered twice, and undoing what CloudFormation will never own when it was not stored.

- one answer per invocation (a `Turn`), through a bounded PUT, with a body that is always
  protocol-valid (non-empty id, Reason shortened from the end, under 4096 bytes), and never a
  log line with the ResponseURL;
- the timeout answer: sent before the answer is due, by one long-lived watchdog thread, only for
  the turn it was armed for and only if the request's own thread has not claimed the answer, with
  an id that lets CloudFormation's rollback remove what the request may have made, so that
  nothing after it is needed;
- the function returns only once its answer's delivery is over, whichever thread sent it: Lambda
  freezes the environment then (docs/reference.md, "When Lambda freezes or stops the function");
- any event gets one answer, even when serving it fails in an unforeseen way; an event that is
  not CloudFormation's gets one readable answer (envelope.py);
- a request delivered twice to a warm container (the same request: stack, resource, type,
  properties) is answered again with the first answer.

Nothing here knows crhelper: handler.cfn_resource connects crhelper's hooks to this object.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from handler import envelope
from handler.deadline import Deadline, answer_reserve
from handler.response import FAILED, SUCCESS, Delivery, Result, build_body, put

log = logging.getLogger(__name__)

Put = Callable[[str, bytes, Callable[[], float]], Delivery]
# The timeout answer's id and a sentence on what it names, given when the process will be killed
TimeoutAnswer = Callable[[datetime], tuple[str | None, str]]
OPEN, CLAIMED, ANSWERED = "open", "claimed", "answered"
UNEXPECTED_REASON = (
    "The provider hit an unexpected error before it could decide; it did nothing it knows of. Its "
    "logs have the details; please report it. Retry the deployment."
)
TIMED_OUT = "the timeout answer had already said FAILED"
NOT_STORED = "its answer did not reach CloudFormation"
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


class Request(Protocol):
    """One request's work, as its answer needs it (handler.dispatch.Request implements it)."""

    def timeout_answer(self, killed_at: datetime) -> tuple[str | None, str]:
        """The timeout answer's id (None: the default one) and what its Reason says of it, given
        when the process will be killed. From then on the work starts no create."""
        ...

    def undo_unowned(self, because: str) -> None:
        """Remove what the work made that CloudFormation will never own, `because` (said in logs)."""
        ...

    def after_failed_answer(self) -> None:
        """What is left to do once a FAILED answer went out (within the Lambda's time)."""
        ...

    def log_decision(self, answer: Mapping[str, Any]) -> None:
        """The request's decision line, with the answer that went (or goes) out."""
        ...


class Answers:
    """The one owner of the answers: it claims, delivers and undoes them. `send` is the transport
    (the bounded PUT to the ResponseURL); `watchdog` sends the timeout answer; `current` is the
    request being served."""

    def __init__(self, send: Put = put, remembered: int = 64, started: float | None = None) -> None:
        self.send = send
        self.watchdog = Watchdog()
        self.current: Turn | None = None
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, bytes] = OrderedDict()
        self._remembered = remembered
        self._started = started  # when the container began starting (the first turn's clock)

    def serve(self, event: Any, context: Any, work: Callable[[dict[str, Any]], None]) -> None:
        """Serve one invocation: an envelope that is not CloudFormation's, or a request delivered
        again, is answered here; any other request is given to `work` (crhelper's dispatch).
        Returns only once the answer's delivery is over."""
        turn = Turn({}, "", _seconds_left(context))
        try:
            checked = envelope.check(event)
            turn = Turn(checked.event, _fingerprint(checked.event), _seconds_left(context))
            if self._started is not None:
                turn.shorten_service_timeout(time.monotonic() - self._started)
                self._started = None
            with self._lock:
                self.current = turn
                earlier = self._answers.get(turn.fingerprint)
            if checked.problems:
                self._answer_envelope(turn, checked)
            elif earlier is not None:
                log.info("request delivered again: repeating the first answer")
                with self._lock:
                    self._take(turn, earlier)
                self._answer(turn, earlier)
            else:
                work(checked.event)
        except Exception:  # a bug: the request is still answered, once
            log.exception("unexpected error while serving the request")
        finally:
            self.finish(turn, event)

    def finish(self, turn: Turn, event: Any) -> None:
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

    def arm(self, turn: Turn) -> None:
        """Send the timeout answer of `turn` when its answer comes due."""
        self.watchdog.arm(max(turn.answer_left(), 0.0), functools.partial(self._timeout, turn))

    def working(self, turn: Turn, request: Request) -> None:
        """The request's work begins: a timeout answer names what it may have made."""
        turn.timeout_answer = request.timeout_answer

    def claim(self, turn: Turn) -> bool:
        """Take the answer for the request's own thread: True, and the timeout answer can no
        longer go out; False when the timeout answer already went (or is going) out."""
        with self._lock:
            if turn is not self.current or turn.state != OPEN:
                return False
            turn.state = CLAIMED
        self.watchdog.cancel()
        return True

    def settle(self, turn: Turn, request: Request, result: Result) -> bool:
        """The work is done with `result`: claim the answer for it (True) and arrange what its
        delivery may need (undoing what CloudFormation will never own when it is not stored; the
        work left after a FAILED answer); or, when the timeout answer went out first (False),
        undo what that answer leaves unowned. The decision is logged either way."""
        if not self.claim(turn):
            request.undo_unowned(TIMED_OUT)
            request.log_decision(dict(turn.sent))
            return False
        if result.status == SUCCESS:
            turn.undo = lambda: request.undo_unowned(NOT_STORED)
        else:
            turn.after.append(request.after_failed_answer)
        answer = {"Status": result.status, "PhysicalResourceId": result.physical_id, "Reason": result.reason}
        request.log_decision(answer)
        return True

    def send_answer(
        self, turn: Turn, status: str, reason: str, physical_id: str | None, data: Mapping[str, Any] | None
    ) -> None:
        """Answer `turn`, unless it already was."""
        with self._lock:
            if turn.state == ANSWERED:
                log.warning("an answer was already sent for this request: not sending another")
                return
            body = self._take(turn, build_body(turn.event, status, reason, physical_id, data))
        self._answer(turn, body)

    def _timeout(self, turn: Turn) -> None:
        with self._lock:
            if turn is not self.current or turn.state != OPEN:
                return  # armed for another request, or the request's thread answers itself
            physical_id, note = _what_it_made(turn)  # closes the request's journal to new creates
            body = self._take(turn, build_body(turn.event, FAILED, TIMEOUT_REASON + note, physical_id, None))
        log.error("the answer is due and ECR has not finished: answering FAILED now")
        self._answer(turn, body)

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
        return self.send(url, body, lambda: turn.waiting_left() - 0.25)

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
