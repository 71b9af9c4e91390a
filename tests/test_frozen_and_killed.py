"""The two moments Lambda takes the process away (docs/reference.md, "When Lambda freezes or
stops the function"): it freezes the environment as soon as the function returns (threads and
unsent bytes stop), and kills it at the deadline (nothing after it runs). Through the real
handler in this process; tests/runtime/test_freeze.py shows the same under AWS's runtime client.

A kill is modelled as in the simulator: LambdaKilled (a BaseException) raised at the moment
under test, the container then gone (devkit.cloudformation.simulator.InProcessLambda). What
CloudFormation does next is done here as it does it: the rollback Delete of the id the FAILED
answer carried, or, for an Update, the Update back to the old properties with that id and the
cleanup Delete of it when the rollback answers another.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import ecr_ptc_emulator
from devkit.aws_lambda.context import FakeClock, LambdaContext, LambdaKilled
from devkit.cloudformation.events import STACK_ID
from devkit.cloudformation.receiver import Receiver
from devkit.cloudformation.simulator import InProcessLambda
from devkit.cloudformation.stack_api import StackApi
from handler import app
from handler.deadline import answer_reserve
from handler.properties import is_rule_id
from tests.conftest import Cfn, check_protocol
from tests.helpers import PUBLIC, QUAY, create_event, delete_event, rules, update_event
from tests.test_races import Armed


@pytest.fixture
def armed(monkeypatch: pytest.MonkeyPatch) -> Armed:
    return Armed(monkeypatch)


@pytest.fixture
def on_ecr() -> Iterator[Callable[[str, str, Callable[[], None]], None]]:
    """`on_ecr(event, operation, run)`: run something once at botocore's `event` ("before-send":
    the call is not sent yet; "after-call": ECR took it, its answer has not reached the caller)."""
    installed: list[tuple[str, Callable[..., None]]] = []

    def install(event: str, operation: str, run: Callable[[], None]) -> None:
        done = [False]

        def hook(**kwargs: Any) -> None:
            if not done[0]:
                done[0] = True
                run()

        name = f"{event}.ecr.{operation}"
        installed.append((name, hook))
        app.provider.ecr_client.meta.events.register_first(name, hook)

    yield install
    for name, hook in installed:
        app.provider.ecr_client.meta.events.unregister(name, hook)


TIMEOUT_S = 120.0  # the provider's Timeout (template.yaml)
CLOCK = FakeClock()  # the killed invocations' time: it passes only when a test says so


def timeout_then_kill(armed: Armed) -> Callable[[], None]:
    """The answer is due (2 s before the deadline): the timeout answer goes out; then the
    deadline comes and the process is killed: nothing after this point runs."""

    def run() -> None:
        CLOCK.advance(TIMEOUT_S - answer_reserve(TIMEOUT_S))
        armed.fire_latest()
        CLOCK.advance(answer_reserve(TIMEOUT_S))
        raise LambdaKilled("the Lambda's deadline")

    return run


def invoke_killed(cfn: Cfn, event: dict[str, Any]) -> dict[str, Any]:
    """Invoke in a container that is killed during the request; the one answer S3 stored. The
    next request goes to another container."""
    url = cfn.receiver.url()
    lambda_ = InProcessLambda(lambda: cfn.provider)
    lambda_.invoke({**event, "ResponseURL": url}, LambdaContext(TIMEOUT_S, clock=CLOCK))
    assert lambda_.killed == 1, "the process was not killed where the test put the deadline"
    cfn.new_container()
    receiver = cfn.receiver
    (answer,) = receiver.answers(url)
    check_protocol(event, answer)
    return answer


def roll_back_update(
    cfn: Cfn, stack_api: StackApi, answer: dict[str, Any], old: dict[str, Any], asked: dict[str, Any]
) -> None:
    """CloudFormation after a FAILED Update: it keeps the id the answer carried (as it does,
    aws/aws-cdk#13527), sends the Update back to the old properties with it, and deletes that id
    in the cleanup when the rollback answered another."""
    stack_api.stacks[STACK_ID].status = "UPDATE_ROLLBACK_IN_PROGRESS"
    failed_id = answer["PhysicalResourceId"]
    back = cfn.send(update_event(old, failed_id, asked))
    assert back["Status"] == "SUCCESS", back["Reason"]
    if back["PhysicalResourceId"] != failed_id:
        stack_api.stacks[STACK_ID].status = "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
        cleanup = cfn.send(delete_event(failed_id, asked))
        assert cleanup["Status"] == "SUCCESS", cleanup["Reason"]


# -- killed at the deadline: the timeout answer alone must let the rollback undo --------------


def test_a_create_ecr_took_as_the_timeout_answer_went_out_is_removed_by_the_rollback_alone(
    cfn: Cfn, receiver: Receiver, armed: Armed, on_ecr: Any
) -> None:
    """ECR made the rule; its answer is still arriving when the answer is due and the process is
    then killed: no undo runs. The timeout answer's id lets the rollback Delete tell the rule is
    this request's."""
    on_ecr("after-call", "CreatePullThroughCacheRule", timeout_then_kill(armed))

    answer = invoke_killed(cfn, create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "ran out of time" in answer["Reason"]
    assert answer["PhysicalResourceId"].startswith("ecr-ptc:create-unsure:")
    assert set(rules()) == {"ecr-public"}  # nothing ran after the kill
    rollback = cfn.send(delete_event(answer["PhysicalResourceId"], PUBLIC))
    assert rollback["Status"] == "SUCCESS"
    assert rules() == {}


def test_a_create_killed_before_ecr_took_it_leaves_nothing_and_the_rollback_touches_nothing(
    cfn: Cfn, receiver: Receiver, armed: Armed, on_ecr: Any
) -> None:
    on_ecr("before-send", "CreatePullThroughCacheRule", timeout_then_kill(armed))

    answer = invoke_killed(cfn, create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert not is_rule_id(answer["PhysicalResourceId"])
    rollback = cfn.send(delete_event(answer["PhysicalResourceId"], PUBLIC))
    assert rollback["Status"] == "SUCCESS"
    assert rules() == {}


def test_a_rule_made_while_its_validation_outlives_the_answer_is_named_by_the_timeout_answer(
    cfn: Cfn, receiver: Receiver, armed: Armed, on_ecr: Any
) -> None:
    """The create is confirmed, ValidatePullThroughCacheRule is in flight when the answer is due,
    and the process is killed: the answer names the rule, so the rollback deletes it."""
    on_ecr("before-send", "ValidatePullThroughCacheRule", timeout_then_kill(armed))

    answer = invoke_killed(cfn, create_event({**PUBLIC, "ValidateCredentials": "true"}))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ecr-public"
    rollback = cfn.send(delete_event(answer["PhysicalResourceId"], PUBLIC))
    assert rollback["Status"] == "SUCCESS"
    assert rules() == {}


def test_an_update_to_a_new_prefix_killed_mid_create_leaves_the_old_rule_and_nothing_else(
    cfn: Cfn, receiver: Receiver, armed: Armed, on_ecr: Any, stack_api: StackApi
) -> None:
    cfn.send(create_event(PUBLIC))
    on_ecr("after-call", "CreatePullThroughCacheRule", timeout_then_kill(armed))

    answer = invoke_killed(cfn, update_event(QUAY, "ecr-public", PUBLIC))

    assert answer["Status"] == "FAILED"
    assert set(rules()) == {"ecr-public", "quay"}  # nothing ran after the kill
    roll_back_update(cfn, stack_api, answer, PUBLIC, QUAY)
    assert set(rules()) == {"ecr-public"}


# -- frozen at return: nothing of the answer may be left on a thread -------------------------


def test_the_function_returns_only_once_the_timeout_answer_was_delivered(
    cfn: Cfn, receiver: Receiver
) -> None:
    """The real watchdog answers (ServiceTimeout 1 s: due after 0.8 s) while the request's thread
    waits in its ECR call; S3 takes 0.5 s to reply to that PUT. The request's thread then ends
    at once (its create succeeded; it removes the rule). Lambda would freeze the environment the
    moment the function returns: the answer's delivery must be over by then."""
    url = receiver.url()
    receiver.stall(url, 0.5)
    delivered: list[str] = []
    put = app.provider.answers.send

    def recording_put(*args: Any, **kwargs: Any) -> Any:
        outcome = put(*args, **kwargs)
        delivered.append(threading.current_thread().name)
        return outcome

    def wait_for_the_timeout_answer(**kwargs: Any) -> None:
        for _ in range(500):  # bounded: at most 5 s
            if receiver.raw(url):
                return
            time.sleep(0.01)

    app.provider.answers.send = recording_put
    app.provider.ecr_client.meta.events.register_first("before-send.ecr.*", wait_for_the_timeout_answer)
    try:
        app.lambda_handler(
            {**create_event({**PUBLIC, "ServiceTimeout": "1"}), "ResponseURL": url}, LambdaContext()
        )
        at_return = list(delivered)
    finally:
        app.provider.ecr_client.meta.events.unregister("before-send.ecr.*", wait_for_the_timeout_answer)
        app.provider.answers.send = put

    assert at_return == ["answer-deadline"], "the function returned before S3 replied to the answer"
    (answer,) = receiver.answers(url)
    assert answer["Status"] == "FAILED"
    assert rules() == {}


# -- small defects of the answer path ----------------------------------------------------------


def test_the_answer_is_delivered_within_the_time_of_the_request_it_answers(emulator: None) -> None:
    """A late answer of one request while the next is current: its PUT is bounded by its own
    request's time (ServiceTimeout 2 s), not by the current request's 120 s."""
    from handler.answers import Answers, Turn

    budgets: list[float] = []

    def send(url: str, body: bytes, time_left: Callable[[], float]) -> Any:
        budgets.append(time_left())
        from handler.response import Delivery

        return Delivery.STORED

    answers = Answers(send=send)
    short = {**create_event({**PUBLIC, "ServiceTimeout": "2"}), "ResponseURL": "http://127.0.0.1:1/a"}
    turn = Turn(short, "a", lambda: 120.0)
    answers.current = Turn(
        {**create_event(PUBLIC), "ResponseURL": "http://127.0.0.1:1/b"}, "b", lambda: 120.0
    )

    answers._answer(turn, b"{}")

    assert budgets and budgets[0] <= 2


def test_the_remembered_answers_are_only_touched_under_the_lock(cfn: Cfn, receiver: Receiver) -> None:
    answers = cfn.provider.answers

    class Guarded(dict[str, bytes]):
        def _check(self) -> None:
            assert answers._lock.locked(), "the remembered answers were touched without the lock"

        def get(self, *args: Any) -> Any:  # type: ignore[override]
            self._check()
            return super().get(*args)

        def __setitem__(self, key: str, value: bytes) -> None:
            self._check()
            super().__setitem__(key, value)

        def pop(self, *args: Any) -> Any:  # type: ignore[override]
            self._check()
            return super().pop(*args)

    answers._answers = Guarded()  # type: ignore[assignment]  (the test's own provider)
    event = create_event(PUBLIC)
    cfn.send(event)
    cfn.send(event)  # a repeat: answered from memory


def test_an_action_that_raises_does_not_end_the_watchdog(caplog: pytest.LogCaptureFixture) -> None:
    """Its thread outlives the failure: the next request still gets its timeout answer."""
    from handler.answers import Watchdog

    watchdog = Watchdog()
    second_ran = threading.Event()

    def failing() -> None:
        watchdog.arm(0.0, second_ran.set)  # the next request arms it while this one fails
        raise RuntimeError("the timeout answer failed")

    watchdog.arm(0.0, failing)

    assert second_ran.wait(5), "the watchdog's thread ended with the failing action"
    assert any("RuntimeError" in r.getMessage() or r.exc_info for r in caplog.records)


def test_a_restore_that_could_not_read_ecr_says_only_what_it_saw(cfn: Cfn) -> None:
    """A same-prefix replacement whose new rule ECR refuses; putting the old one back meets
    "already exists", and ECR cannot be read: the Reason must not claim another rule is there."""
    cfn.send(create_event(PUBLIC))
    faults = ecr_ptc_emulator.faults()
    faults.fail("CreatePullThroughCacheRule", "LimitExceededException")
    faults.fail("CreatePullThroughCacheRule", "PullThroughCacheRuleAlreadyExistsException", after=1)
    faults.fail("DescribePullThroughCacheRules", "AccessDeniedException", times=-1, after=1)

    changed = {**PUBLIC, "UpstreamRegistryUrl": "quay.io"}
    answer = cfn.send(update_event(changed, "ecr-public", PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "unreadable" not in answer["Reason"]
    assert "holds another rule" not in answer["Reason"]
    assert "could not be read" in answer["Reason"]


def test_an_unforeseen_error_around_the_hooks_still_gets_one_answer(
    receiver: Receiver, pauses: list[float], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug outside crhelper's hooks (here: reading the envelope) must not leave the stack
    waiting: the request is answered FAILED, once, with a Reason that points at the logs."""
    from handler import envelope

    def broken(event: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(envelope, "check", broken)
    url = receiver.url()
    event = create_event(PUBLIC)

    app.lambda_handler({**event, "ResponseURL": url}, LambdaContext())

    (answer,) = receiver.answers(url)
    check_protocol(event, answer)
    assert answer["Status"] == "FAILED"
    assert "unexpected error" in answer["Reason"] and "logs" in answer["Reason"]
    assert rules() == {}
