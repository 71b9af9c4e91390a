"""Requests CloudFormation does not send as such, under the runtime interface client: the same
request delivered twice (Lambda delivers asynchronous events at least once), an event that is
not CloudFormation's, a malformed request, and a function started without a Region."""

from __future__ import annotations

from typing import Any

from devkit.aws_lambda.emulator_server import EmulatorServer
from devkit.cloudformation.events import request
from devkit.cloudformation.receiver import Receiver
from tests.conftest import check_protocol
from tests.runtime.conftest import Functions, invoke

QUAY = {"EcrRepositoryPrefix": "quay", "UpstreamRegistryUrl": "quay.io"}


def create() -> dict[str, Any]:
    return request("Create", QUAY)


def test_the_same_request_twice_in_a_warm_container_is_answered_alike(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    event, url = create(), receiver.url()
    with functions.fresh() as container:
        first = invoke(container, event, receiver, url=url)
        again = invoke(container, event, receiver, url=url)
    assert again.result.cold is False and again.result.pid == first.result.pid
    answers = receiver.answers(url)
    assert len(answers) == 2 and answers[0] == answers[1]
    assert answers[0]["Status"] == "SUCCESS" and answers[0]["PhysicalResourceId"] == "quay"
    assert ecr_server.calls() == ["CreatePullThroughCacheRule"]
    assert set(ecr_server.rules()) == {"quay"}


def test_the_same_request_again_on_another_instance_takes_nothing_it_cannot_prove_its_own(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    """Lambda delivers asynchronous events at least once: another instance meets the rule the
    first delivery made. Only CloudFormation's record can say it is this resource's (it is, once
    CloudFormation took the first answer: tests/ministack and the simulator's
    redelivered-cold-recorded show that); here there is no CloudFormation to read, so the
    second delivery takes nothing over, changes nothing, and says why."""
    event, url = create(), receiver.url()
    with functions.fresh() as one:
        invoke(one, event, receiver, url=url)
    with functions.fresh() as other:
        again = invoke(other, event, receiver, url=url)
    assert again.result.cold
    first, second = receiver.answers(url)
    assert (first["Status"], first["PhysicalResourceId"]) == ("SUCCESS", "quay")
    assert second["Status"] == "FAILED" and "could not read the stack's resources" in second["Reason"]
    assert set(ecr_server.rules()) == {"quay"}  # the rule the first answer names stays


def test_an_event_that_is_not_cloudformations_ends_without_an_answer(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    scheduled = {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-12-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/nightly"],
        "detail": {},
    }
    before = len(receiver.requests)
    result = functions.get().invoke(scheduled)
    assert result.status == "response"  # it returns: no kill at the deadline, no crash
    assert len(receiver.requests) == before  # nothing was PUT anywhere
    assert ecr_server.calls() == []
    messages = [r.text for r in result.logs]
    assert any("no ResponseURL" in text for text in messages), messages


def test_an_unknown_request_type_is_answered_failed_naming_it(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    outcome = invoke(functions.get(), {**create(), "RequestType": "Frobnicate"}, receiver)
    check_protocol(outcome.event, outcome.answer)
    assert outcome.answer["Status"] == "FAILED"
    reason = outcome.answer["Reason"]
    assert "RequestType" in reason and "Frobnicate" in reason, reason
    assert ecr_server.calls() == [] and ecr_server.rules() == {}


def test_a_request_missing_its_ids_is_answered_failed_naming_them(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    with functions.fresh() as container:
        container.invoke({"source": "aws.events"})  # not CloudFormation's: no RequestId either
        event = {"RequestType": "Create", "ResourceProperties": {"ServiceToken": "x", **QUAY}}
        outcome = invoke(container, event, receiver)
    assert outcome.answer["Status"] == "FAILED"
    reason = outcome.answer["Reason"]
    assert "StackId" in reason and "RequestId" in reason, reason
    assert "delivered again" not in " ".join(r.text for r in outcome.result.logs)
    assert ecr_server.rules() == {}


def test_without_a_region_every_request_is_answered_failed_saying_so(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    with functions.fresh(region=None) as container:
        first = invoke(container, create(), receiver)
        second = invoke(container, request("Delete", QUAY, physical_id="quay"), receiver)
    assert first.result.status == "response" and first.result.error_type == ""  # it loaded
    for outcome in (first, second):
        check_protocol(outcome.event, outcome.answer)
        assert outcome.answer["Status"] == "FAILED"
        assert "AWS_REGION" in outcome.answer["Reason"]
    assert ecr_server.calls() == [] and ecr_server.rules() == {}
