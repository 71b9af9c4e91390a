"""Deadlines as Lambda keeps them: the process is killed (SIGKILL) at the invocation's deadline,
whatever it is doing. Under ECR throttling, failing, hung or slower than the time left, and
with a ResponseURL that never answers, CloudFormation must get one answer before the
deadline, and what it is told must be what the registry holds: SUCCESS for a rule that
exists as answered, FAILED with no rule left that the stack will never own.

The invocations get a 6 s timeout (the template's is 120 s): long enough for the provider's
answer reserve and a few attempts, short enough to keep the suite fast.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.aws_lambda.emulator_server import EmulatorServer
from devkit.aws_lambda.endpoints import HungEndpoint, WithholdingProxy
from devkit.cloudformation.events import request
from devkit.cloudformation.receiver import Receiver
from tests.conftest import check_protocol
from tests.runtime.conftest import Functions, invoke

TIMEOUT_S = 6.0
# The slow-ECR test's: the provider's own read timeout (6 s) must come well after the deadline,
# so that the kill, not the read timeout, ends the withheld call, as it would in Lambda.
SLOW_TIMEOUT_S = 5.4
QUAY = {"EcrRepositoryPrefix": "quay", "UpstreamRegistryUrl": "quay.io"}


def create() -> dict[str, Any]:
    return request("Create", QUAY)


def assert_registry_matches(answer: dict[str, Any], rules: dict[str, Any]) -> None:
    """CloudFormation's belief (the answer) and the registry agree."""
    if answer["Status"] == "SUCCESS":
        assert answer["PhysicalResourceId"] == "quay"
        assert set(rules) == {"quay"} and rules["quay"]["upstreamRegistryUrl"] == "quay.io"
    else:
        assert rules == {}, f"FAILED was answered, yet the registry holds {sorted(rules)}: an orphaned rule"


@pytest.fixture
def hung() -> Iterator[HungEndpoint]:
    with HungEndpoint() as endpoint:
        yield endpoint


def test_throttling_for_good_is_answered_failed_in_time(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    ecr_server.fault(action="fail", operation=None, code="ThrottlingException", status=400, times=-1)
    outcome = invoke(functions.get(), create(), receiver, timeout_s=TIMEOUT_S)
    check_protocol(outcome.event, outcome.answer)
    assert outcome.answer["Status"] == "FAILED"
    assert "throttl" in outcome.answer["Reason"].lower()
    assert ecr_server.calls().count("CreatePullThroughCacheRule") > 1  # it retried
    assert ecr_server.rules() == {}


def test_throttling_that_passes_is_retried_to_success(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    ecr_server.fault(action="fail", operation=None, code="ThrottlingException", status=400, times=3)
    outcome = invoke(functions.get(), create(), receiver, timeout_s=TIMEOUT_S)
    assert outcome.answer["Status"] == "SUCCESS", outcome.answer.get("Reason")
    assert ecr_server.calls() == ["CreatePullThroughCacheRule"] * 4
    assert_registry_matches(outcome.answer, ecr_server.rules())


def test_server_errors_for_good_are_answered_failed_in_time(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    ecr_server.fault(action="fail", operation=None, code="ServerException", status=500, times=-1)
    outcome = invoke(functions.get(), create(), receiver, timeout_s=TIMEOUT_S)
    check_protocol(outcome.event, outcome.answer)
    assert outcome.answer["Status"] == "FAILED"
    assert "server error" in outcome.answer["Reason"]
    assert ecr_server.rules() == {}


def test_a_hung_ecr_is_answered_failed_before_the_process_is_killed(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver, hung: HungEndpoint
) -> None:
    with functions.fresh(ecr_endpoint=hung.url) as container:
        outcome = invoke(container, create(), receiver, timeout_s=TIMEOUT_S)
        check_protocol(outcome.event, outcome.answer)
        assert outcome.answer["Status"] == "FAILED"
        # answered by the request itself: each attempt ends at its own timeouts, well before
        # the deadline, and the Reason says what ECR's state is
        assert "did not confirm" in outcome.answer["Reason"]
        assert outcome.result.status != "timeout", "the process was killed at the deadline"
        assert hung.received, "the call never reached the hung endpoint"
        assert ecr_server.rules() == {}
        # killed or not, the container serves the next request (cold after a kill)
        after = invoke(container, request("Delete", QUAY, physical_id="quay"), receiver, timeout_s=TIMEOUT_S)
        assert after.result.cold == (outcome.result.status == "timeout")


def test_ecr_slower_than_the_time_left_leaves_no_orphan(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    with (
        WithholdingProxy(ecr_server.url, "CreatePullThroughCacheRule") as slow,
        functions.fresh(ecr_endpoint=slow.url) as container,
    ):
        outcome = invoke(container, create(), receiver, timeout_s=SLOW_TIMEOUT_S)
        assert slow.withheld == ["CreatePullThroughCacheRule"]  # ECR did it; the answer came too late
        check_protocol(outcome.event, outcome.answer)
        assert_registry_matches(outcome.answer, ecr_server.rules())


def test_a_hung_response_url_never_contradicts_what_was_sent(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver, hung: HungEndpoint
) -> None:
    outcome = invoke(functions.get(), create(), receiver, timeout_s=TIMEOUT_S, url=hung.response_url())
    bodies = [json.loads(body) for body in hung.bodies()]
    assert bodies, "no answer was sent to the ResponseURL"
    for body in bodies:
        check_protocol(outcome.event, body)
    assert len({(b["Status"], b["PhysicalResourceId"]) for b in bodies}) == 1, bodies
    assert_registry_matches(bodies[-1], ecr_server.rules())
