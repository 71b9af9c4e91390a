"""Regression tests for the provider bugs the lifecycle simulator (tests/simulator) found."""

from __future__ import annotations

from typing import Any

import pytest

import ecr_ptc_emulator
from devkit.aws_lambda.context import FakeClock, LambdaContext
from devkit.aws_lambda.network import SlowNetwork
from devkit.cloudformation.receiver import Receiver, refusing_url
from handler import app
from handler.deadline import answer_reserve
from handler.properties import is_rule_id
from tests.conftest import Cfn
from tests.helpers import DOCKER_HUB, PUBLIC, create_event, delete_event, ops, rules, update_event

MOVED = {**PUBLIC, "EcrRepositoryPrefix": "ecr-public-2"}
MIRROR = {"EcrRepositoryPrefix": "mirror", "UpstreamRegistryUrl": "public.ecr.aws"}
MIRROR_QUAY = {**MIRROR, "UpstreamRegistryUrl": "quay.io"}

# -- a Create whose ValidateCredentials check cannot be made left its rule orphaned -----------


def validated(secret: Any) -> dict[str, str]:
    return {**DOCKER_HUB, "CredentialArn": secret(), "ValidateCredentials": "true"}


def test_a_validation_that_keeps_failing_removes_the_rule_it_could_not_check(
    cfn: Cfn, secret: Any, pauses: list[float]
) -> None:
    ecr_ptc_emulator.faults().fail("ValidatePullThroughCacheRule", "ThrottlingException", times=-1)

    answer = cfn.send(create_event(validated(secret)))

    assert answer["Status"] == "FAILED"
    assert "retry the deployment" in answer["Reason"]
    assert "removed the rule it had just created" in answer["Reason"]
    assert not is_rule_id(answer["PhysicalResourceId"])
    assert rules() == {}


def test_no_time_left_to_remove_an_unvalidated_rule_names_it_for_the_rollback(cfn: Cfn, secret: Any) -> None:
    """Each ECR call takes 1.5 s (a fake clock) and the Lambda has 4 s (the answer is due at
    3.4 s): after the Create and the Validate there is no time to remove the rule before the
    answer, so the FAILED answer names it and CloudFormation's rollback Delete removes it."""
    properties = validated(secret)
    clock = FakeClock()
    with SlowNetwork(app.provider.ecr_client, app.provider.ecr_timeouts, clock, lambda n: 1.5):
        ecr_ptc_emulator.faults().fail("ValidatePullThroughCacheRule", "ThrottlingException", times=-1)
        answer = cfn.send(create_event(properties), context=LambdaContext(timeout_s=4, clock=clock))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "docker-hub"
    assert "the stack's rollback deletes it" in answer["Reason"]
    assert ops() == ["CreatePullThroughCacheRule", "ValidatePullThroughCacheRule"]
    ecr_ptc_emulator.faults().clear()
    rollback = cfn.send(delete_event(answer["PhysicalResourceId"], properties))
    assert rollback["Status"] == "SUCCESS"
    assert rules() == {}


def test_a_new_rule_that_cannot_be_removed_either_is_named_so_the_rollback_deletes_it(
    cfn: Cfn, secret: Any, pauses: list[float]
) -> None:
    """ECR fails every call after the Create: the FAILED answer carries the rule's prefix, so
    CloudFormation's rollback Delete removes it once ECR is back."""
    properties = validated(secret)
    ecr_ptc_emulator.faults().fail(None, "ServiceUnavailableException", status=503, times=-1, after=1)

    answer = cfn.send(create_event(properties))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "docker-hub"
    assert "could not be removed" in answer["Reason"]
    assert "aws ecr delete-pull-through-cache-rule --ecr-repository-prefix docker-hub" in answer["Reason"]
    assert set(rules()) == {"docker-hub"}

    ecr_ptc_emulator.faults().clear()
    rollback = cfn.send(delete_event(answer["PhysicalResourceId"], properties))

    assert rollback["Status"] == "SUCCESS"
    assert rules() == {}


# -- a rule created by a request whose answer could not be delivered was orphaned -------------


def test_a_create_whose_answer_cannot_be_delivered_removes_its_rule(pauses: list[float]) -> None:
    """Nothing listens at the ResponseURL: CloudFormation will never learn the rule's id (its
    rollback Delete names an id of its own), so the rule must not stay."""
    app.lambda_handler({**create_event(PUBLIC), "ResponseURL": refusing_url()}, LambdaContext())

    assert ops() == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule"]
    assert rules() == {}


def test_a_repeat_of_a_request_whose_answer_was_lost_runs_afresh(cfn: Cfn, pauses: list[float]) -> None:
    """Its rule was removed, so replaying the first (SUCCESS) answer would name a missing rule."""
    event = create_event(PUBLIC)
    app.lambda_handler({**event, "ResponseURL": refusing_url()}, LambdaContext())

    again = cfn.send(event)

    assert again["Status"] == "SUCCESS"
    assert set(rules()) == {"ecr-public"}
    assert ops() == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule", "CreatePullThroughCacheRule"]


def test_a_new_prefix_whose_answer_s3_refuses_removes_the_new_rule_only(cfn: Cfn, receiver: Receiver) -> None:
    cfn.send(create_event(PUBLIC))
    url = receiver.url()
    receiver.respond(url, 500, 500, 500, 500, 500)

    app.lambda_handler({**update_event(MOVED, "ecr-public", PUBLIC), "ResponseURL": url}, LambdaContext())

    assert [put["status"] for put in receiver.raw(url)] == [500, 500, 500]
    assert set(rules()) == {"ecr-public"}


def test_an_answer_stored_on_a_retry_keeps_the_rule(cfn: Cfn, receiver: Receiver) -> None:
    url = receiver.url()
    receiver.respond(url, 500)

    app.lambda_handler({**create_event(PUBLIC), "ResponseURL": url}, LambdaContext())

    assert [put["status"] for put in receiver.raw(url)] == [500, 200]
    assert set(rules()) == {"ecr-public"}


def test_an_undelivered_answer_keeps_a_rule_under_the_id_on_record(cfn: Cfn, receiver: Receiver) -> None:
    """A same-prefix replacement: CloudFormation's rollback Update puts the old rule back."""
    cfn.send(create_event(MIRROR))

    app.lambda_handler(
        {**update_event(MIRROR_QUAY, "mirror", MIRROR), "ResponseURL": refusing_url()}, LambdaContext()
    )

    assert rules()["mirror"]["upstreamRegistryUrl"] == "quay.io"


# -- under CloudFormation's parallelism, throttling outlasted the retries --------------------


def test_a_request_throttled_many_times_in_a_row_still_succeeds_within_the_deadline(
    cfn: Cfn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fifty rules created ten at a time against ECR's per-second limit: one request can be
    throttled 15 times in a row. Retrying must go on while the deadline allows (the pauses run
    on a fake clock), not stop after a dozen attempts."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    monkeypatch.setattr(app.provider.retry_policy, "sleep", sleep)
    monkeypatch.setattr(app.provider.retry_policy, "jitter", lambda: 0.5)
    ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", "ThrottlingException", times=15)
    context = LambdaContext(timeout_s=120, clock=lambda: now[0])

    answer = cfn.send(create_event(PUBLIC), context=context)

    assert answer["Status"] == "SUCCESS"
    assert ops() == ["CreatePullThroughCacheRule"] * 16
    assert now[0] < 120 - answer_reserve(120)
