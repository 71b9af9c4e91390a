"""Requests CloudFormation does not send as such, under the runtime interface client: the same
request delivered twice (Lambda delivers asynchronous events at least once), an event that is
not CloudFormation's, a malformed request, and a function started without a Region."""

from __future__ import annotations

from typing import Any

import pytest

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


@pytest.mark.xfail(
    strict=True,
    reason="not in issue 8 (new; next to items 4 and 12): the same request delivered again to "
    "another instance (a cold start) finds the rule its first delivery created, calls it "
    "another owner's and answers FAILED with the failed-Create id after SUCCESS: if "
    "CloudFormation reads the second answer, its rollback leaves the rule orphaned",
)
def test_the_same_request_again_on_another_instance_does_not_contradict_the_first_answer(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    event, url = create(), receiver.url()
    with functions.fresh() as one:
        invoke(one, event, receiver, url=url)
    with functions.fresh() as other:
        again = invoke(other, event, receiver, url=url)
    assert again.result.cold
    answers = receiver.answers(url)
    assert len(answers) == 2
    assert [(a["Status"], a["PhysicalResourceId"]) for a in answers] == [("SUCCESS", "quay")] * 2
    assert set(ecr_server.rules()) == {"quay"}


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


@pytest.mark.xfail(
    strict=True,
    reason="issue 8 item 10: an unknown RequestType is answered with Python's exception text "
    "(\"'ProviderResource' object has no attribute '_frobnicate_func'\")",
)
def test_an_unknown_request_type_is_answered_failed_naming_it(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    outcome = invoke(functions.get(), {**create(), "RequestType": "Frobnicate"}, receiver)
    check_protocol(outcome.event, outcome.answer)
    assert outcome.answer["Status"] == "FAILED"
    reason = outcome.answer["Reason"]
    assert "RequestType" in reason and "Frobnicate" in reason, reason
    assert ecr_server.calls() == [] and ecr_server.rules() == {}


@pytest.mark.xfail(
    strict=True,
    reason="issue 8 items 10 and 12: a request without RequestId and StackId gets the remembered "
    "answer of another one without a RequestId, or Python's KeyError text \"'StackId'\"",
)
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
