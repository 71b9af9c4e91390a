"""The timeout answer and the request's own answer race; whichever goes out, it is the only
one, it belongs to its own request, no rule is orphaned by it, and the decision line says what
was sent.

The watchdog's thread being descheduled is modelled exactly: the action it was armed with is
captured and run at the point under test, as the thread would have run it late.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import ecr_ptc_emulator
from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.receiver import Receiver
from handler import app
from handler.properties import is_rule_id
from tests.conftest import Cfn
from tests.helpers import PUBLIC, QUAY, create_event, ops, rules
from tests.test_logs import invoke_and_read_logs


class Armed:
    """Every action the watchdog is armed with, in order (as it would run them, late)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.actions: list[Callable[[], None]] = []
        watchdog = app.provider.answers.watchdog
        arm = watchdog.arm

        def recording(seconds: float, action: Callable[[], None]) -> None:
            self.actions.append(action)
            arm(seconds, action)

        monkeypatch.setattr(watchdog, "arm", recording)

    def fire_latest(self) -> None:
        """The watchdog runs the action it was last armed with, now."""
        self.actions[-1]()


@pytest.fixture
def armed(monkeypatch: pytest.MonkeyPatch) -> Armed:
    return Armed(monkeypatch)


@pytest.fixture
def at_ecr_call(cfn: Cfn) -> Iterator[Callable[[Callable[[], None]], None]]:
    """Run something just before the next ECR call is sent (once)."""
    hooks: list[Callable[..., None]] = []

    def install(run: Callable[[], None]) -> None:
        done = [False]

        def hook(**kwargs: Any) -> None:
            if not done[0]:
                done[0] = True
                run()

        hooks.append(hook)
        app.provider.ecr_client.meta.events.register_first("before-send.ecr.*", hook)

    yield install
    for hook in hooks:
        app.provider.ecr_client.meta.events.unregister("before-send.ecr.*", hook)


def test_a_timeout_answer_after_the_work_but_before_the_answer_leaves_no_orphan(
    cfn: Cfn, armed: Armed, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rule is made; the watchdog fires just as the work returns to crhelper, before the
    request's answer goes out: the rule is not orphaned."""
    answers = cfn.provider.answers
    send_answer = answers.send_answer

    def late_timeout_then_answer(*args: Any) -> None:
        armed.actions[-1]()
        send_answer(*args)

    monkeypatch.setattr(answers, "send_answer", late_timeout_then_answer)

    answer = cfn.send(create_event(PUBLIC))

    # the request's thread claimed the answer before returning: the late timeout does nothing
    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert set(rules()) == {"ecr-public"}


def test_a_timeout_answer_mid_work_is_the_answer_and_the_rule_is_undone(
    cfn: Cfn, armed: Armed, at_ecr_call: Callable[[Callable[[], None]], None]
) -> None:
    at_ecr_call(armed.fire_latest)

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "ran out of time" in answer["Reason"]
    assert not is_rule_id(answer["PhysicalResourceId"])
    assert ops() == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule"]
    assert rules() == {}


def test_a_late_timeout_of_one_request_cannot_answer_the_next(
    cfn: Cfn, receiver: Receiver, armed: Armed, at_ecr_call: Callable[[Callable[[], None]], None]
) -> None:
    """Request 1's timeout was triggered but its thread ran late: it runs during request 2 of
    the same warm container, and must not answer request 2."""
    first = cfn.send(create_event(PUBLIC))
    stale = armed.actions[-1]
    at_ecr_call(stale)

    second = cfn.send(create_event(QUAY))  # exactly one answer: Cfn.send asserts it

    assert first["Status"] == second["Status"] == "SUCCESS"
    assert second["PhysicalResourceId"] == "quay"
    assert set(rules()) == {"ecr-public", "quay"}


@pytest.mark.parametrize("ecr_fails", [False, True])
def test_the_decision_line_describes_the_answer_actually_sent(
    receiver: Receiver,
    cfn: Cfn,
    armed: Armed,
    at_ecr_call: Callable[[Callable[[], None]], None],
    ecr_fails: bool,
) -> None:
    """The timeout answer goes out while ECR is still answering: the decision line
    says FAILED with the timeout's Reason, whatever ECR then answered."""
    if ecr_fails:
        ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", "AccessDeniedException")
    at_ecr_call(armed.fire_latest)

    url, out = invoke_and_read_logs(receiver, create_event(PUBLIC))

    (answer,) = receiver.answers(url)
    (decision,) = [json.loads(line)["decision"] for line in out.splitlines() if '"decision"' in line]
    assert decision["status"] == answer["Status"] == "FAILED"
    assert decision["reason"] == answer["Reason"]
    assert decision["physical_id"] == answer["PhysicalResourceId"]
    assert "ran out of time" in decision["reason"]


def test_a_request_answered_by_its_own_thread_is_never_answered_by_the_timeout(
    receiver: Receiver, cfn: Cfn, armed: Armed
) -> None:
    url = receiver.url()
    app.lambda_handler({**create_event(PUBLIC), "ResponseURL": url}, LambdaContext())
    armed.actions[-1]()  # the watchdog, very late, after the request was answered

    assert [a["Status"] for a in receiver.answers(url)] == ["SUCCESS"]
