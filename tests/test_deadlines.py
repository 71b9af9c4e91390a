"""No ECR attempt outlasts the time left before the answer is due (a Lambda is stopped at its
deadline: what was to run after a call that outlived it never runs), and a request works within
any ServiceTimeout CloudFormation accepts, as far as time allows, with messages that give the
true numbers. ECR's slowness runs on a fake clock."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest

from devkit.aws_lambda.context import FakeClock, LambdaContext, LambdaKilled
from devkit.aws_lambda.network import SlowNetwork
from devkit.cloudformation.receiver import Receiver
from handler import app
from tests.conftest import Cfn
from tests.helpers import (
    PRIVATE_ECR,
    PUBLIC,
    ROLE_A,
    ROLE_B,
    create_event,
    ops,
    ops_since,
    rules,
    update_event,
)

HUNG = float("inf")  # an attempt that never gets an answer lasts until its own timeouts end


def run(
    cfn: Cfn, receiver: Receiver, properties: dict[str, str], timeout_s: float, takes: float
) -> list[dict[str, Any]]:
    """One Create on a fake clock where each ECR attempt takes `takes` seconds; the Lambda is
    killed at its deadline. Every answer PUT before that."""
    clock = FakeClock()
    context = LambdaContext(timeout_s=timeout_s, clock=clock)
    app.provider.retry_policy.sleep = lambda seconds: (clock.advance(seconds), context.check_alive())[0]
    url = receiver.url()
    network = SlowNetwork(
        app.provider.ecr_client, app.provider.ecr_timeouts, clock, lambda n: takes, context=context
    )
    with network, contextlib.suppress(LambdaKilled):
        app.lambda_handler({**create_event(properties), "ResponseURL": url}, context)
    return receiver.answers(url)


@pytest.mark.parametrize("timeout_s", [5, 10, 30])
def test_a_hung_ecr_cannot_outlast_the_answer(cfn: Cfn, receiver: Receiver, timeout_s: float) -> None:
    answers = run(cfn, receiver, PUBLIC, timeout_s, HUNG)

    assert len(answers) == 1, "the Lambda was stopped before it answered"
    (answer,) = answers
    assert answer["Status"] == "FAILED"
    assert "ECR did not confirm" in str(answer["Reason"]) or "could not reach ECR" in str(answer["Reason"])
    assert rules() == {}


@pytest.mark.parametrize("service_timeout", [1, 2, 3, 4, 5])
def test_a_short_service_timeout_still_leaves_room_for_the_calls(
    cfn: Cfn, receiver: Receiver, service_timeout: int
) -> None:
    """Each call takes 50 ms: a Create fits in any ServiceTimeout from 1 s."""
    properties = {**PUBLIC, "ServiceTimeout": str(service_timeout)}

    (answer,) = run(cfn, receiver, properties, 120, 0.05)

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    assert set(rules()) == {"ecr-public"}


def test_the_message_gives_the_true_time_left(cfn: Cfn, receiver: Receiver) -> None:
    """ServiceTimeout 1 s: the answer is due at 0.8 s (0.2 s are kept for sending it). An
    in-place update first reads the rule, which takes 0.75 s, so the update finds 0.05 s: too
    little to start, and the Reason says exactly that."""
    cfn.send(create_event({**PRIVATE_ECR, "CustomRoleArn": ROLE_A}))
    mark = len(ops())
    event = update_event(
        {**PRIVATE_ECR, "CustomRoleArn": ROLE_B, "ServiceTimeout": "1"},
        "upstream",
        {**PRIVATE_ECR, "CustomRoleArn": ROLE_A, "ServiceTimeout": "1"},
    )
    clock = FakeClock()
    url = receiver.url()
    with SlowNetwork(app.provider.ecr_client, app.provider.ecr_timeouts, clock, lambda n: 0.75):
        app.lambda_handler({**event, "ResponseURL": url}, LambdaContext(timeout_s=120, clock=clock))

    (answer,) = receiver.answers(url)
    reason = str(answer["Reason"])
    assert answer["Status"] == "FAILED"
    assert reason.startswith("UpdatePullThroughCacheRule 'upstream' was not attempted: only 0.05 s were left")
    assert (
        "the answer is due 0.20 s before the resource's ServiceTimeout (1 s for this request) ends" in reason
    )
    assert ops_since(mark) == ["DescribePullThroughCacheRules"]
