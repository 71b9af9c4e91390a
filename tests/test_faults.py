"""ECR faults: transient ones retried within the deadline, permanent ones answered FAILED with
a Reason that says what to do; every error code translated (never by message text)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError

import ecr_ptc_emulator
from devkit.aws_lambda.context import FakeClock, LambdaContext
from handler import app
from handler.deadline import answer_reserve
from handler.properties import is_rule_id
from tests.conftest import Cfn
from tests.helpers import DOCKER_HUB, PUBLIC, create_event, existing, ops, rules, update_event


@pytest.mark.parametrize(
    ("code", "status"),
    [("ThrottlingException", 400), ("ServerException", 500), ("ServiceUnavailableException", 503)],
)
def test_transient_errors_are_retried_with_backoff_until_success(
    cfn: Cfn, pauses: list[float], code: str, status: int
) -> None:
    ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", code, status=status, times=2)

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "SUCCESS"
    if status >= 500:  # the create may have happened: read back before each retry
        assert ops() == ["CreatePullThroughCacheRule", "DescribePullThroughCacheRules"] * 2 + [
            "CreatePullThroughCacheRule"
        ]
    else:
        assert ops() == ["CreatePullThroughCacheRule"] * 3
    assert len(pauses) == 2
    assert set(rules()) == {"ecr-public"}


def test_permanent_throttling_gives_up_within_the_attempt_bound_with_advice(
    cfn: Cfn, pauses: list[float]
) -> None:
    ecr_ptc_emulator.faults().fail(None, "ThrottlingException", times=-1)

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    attempts = app.provider.retry_policy.max_attempts
    assert answer["Reason"].startswith(
        f"CreatePullThroughCacheRule 'ecr-public' failed after {attempts} attempts"
    )
    assert "retry the deployment" in answer["Reason"]
    assert len(ops()) == app.provider.retry_policy.max_attempts
    assert rules() == {}


def test_retries_fit_the_last_pause_into_the_time_left_then_stop(cfn: Cfn, pauses: list[float]) -> None:
    """A 10 s Lambda and ECR failing with 500 for good: the pauses grow, the one that would not
    fit is shortened so that one more attempt still fits, and the answer comes before it is due."""
    ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", "ServerException", status=500, times=-1)
    clock = FakeClock()
    context = LambdaContext(timeout_s=10, clock=clock)

    def sleep(seconds: float) -> None:  # the fake clock advances instead of the test waiting
        pauses.append(seconds)
        clock.advance(seconds)

    app.provider.retry_policy.sleep = sleep
    app.provider.retry_policy.jitter = lambda: 1.0
    try:
        answer = cfn.send(create_event(PUBLIC), context=context)
    finally:
        app.provider.retry_policy.jitter = __import__("random").random

    assert answer["Status"] == "FAILED"
    assert "retry the deployment" in answer["Reason"]
    unshortened = [0.1 * 2**n for n in range(len(pauses))]
    assert pauses[:-1] == pytest.approx(unshortened[:-1])
    assert pauses[-1] < unshortened[-1]  # shortened to fit, not given up on
    # a 500 may come after the change was made: each is read back (no rule: none was made)
    assert ops() == ["CreatePullThroughCacheRule", "DescribePullThroughCacheRules"] * (len(pauses) + 1)
    assert not is_rule_id(answer["PhysicalResourceId"]) and "unsure" not in answer["PhysicalResourceId"]
    assert sum(pauses) <= 10 - answer_reserve(10)


def test_secret_not_yet_visible_is_retried_for_a_bounded_time(
    cfn: Cfn, secret: Any, pauses: list[float]
) -> None:
    arn = secret()
    ecr_ptc_emulator.faults().hide_secret_for(3)

    answer = cfn.send(create_event({**DOCKER_HUB, "CredentialArn": arn}))

    assert answer["Status"] == "SUCCESS"
    assert ops() == ["CreatePullThroughCacheRule"] * 4


def test_secret_that_never_appears_fails_naming_the_secret(cfn: Cfn, pauses: list[float]) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:ecr-pullthroughcache/missing-AbCdEf"

    answer = cfn.send(create_event({**DOCKER_HUB, "CredentialArn": arn}))

    assert answer["Status"] == "FAILED"
    assert "CredentialArn does not exist" in answer["Reason"]
    assert "SecretNotFoundException" in answer["Reason"]
    assert 1 < len(ops()) <= app.provider.retry_policy.max_attempts


def test_access_denied_is_not_retried_and_says_how_to_fix_permissions(cfn: Cfn, pauses: list[float]) -> None:
    ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", "AccessDeniedException", times=-1)

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "template.yaml" in answer["Reason"]
    assert ops() == ["CreatePullThroughCacheRule"]
    assert pauses == []


def test_the_51st_rule_fails_with_the_quota_explained(cfn: Cfn) -> None:
    client = boto3.client("ecr", region_name="us-east-1")
    for n in range(50):
        client.create_pull_through_cache_rule(
            ecrRepositoryPrefix=f"rule-{n:02d}", upstreamRegistryUrl="public.ecr.aws"
        )

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "maximum of 50 pull-through cache rules" in answer["Reason"]
    assert "[ECR LimitExceededException" in answer["Reason"]
    assert len(rules()) == 50


def test_unsupported_upstream_from_ecr_is_explained(cfn: Cfn) -> None:
    ecr_ptc_emulator.faults().fail("CreatePullThroughCacheRule", "UnsupportedUpstreamRegistryException")

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "UpstreamRegistryUrl" in answer["Reason"]


def test_connection_errors_are_retried(cfn: Cfn, pauses: list[float]) -> None:
    failures = [2]

    def refuse(**kwargs: Any) -> None:
        if failures[0] > 0:
            failures[0] -= 1
            raise EndpointConnectionError(endpoint_url="https://api.ecr.us-east-1.amazonaws.com")

    app.provider.ecr_client.meta.events.register_first("before-send.ecr.*", refuse)
    try:
        answer = cfn.send(create_event(PUBLIC))
    finally:
        app.provider.ecr_client.meta.events.unregister("before-send.ecr.*", refuse)

    assert answer["Status"] == "SUCCESS"
    assert len(pauses) == 2


def test_in_place_update_of_a_secret_not_found_fails_and_keeps_the_id(
    cfn: Cfn, secret: Any, pauses: list[float]
) -> None:
    arn = secret()
    cfn.send(create_event({**DOCKER_HUB, "CredentialArn": arn}))
    missing = arn.replace("docker-hub", "gone")

    answer = cfn.send(
        update_event(
            {**DOCKER_HUB, "CredentialArn": missing}, "docker-hub", {**DOCKER_HUB, "CredentialArn": arn}
        )
    )

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "docker-hub"
    assert rules()["docker-hub"]["credentialArn"] == arn


def test_rollback_update_where_the_rule_exists_but_differs_is_refused(cfn: Cfn) -> None:
    existing(ecrRepositoryPrefix="other", upstreamRegistryUrl="quay.io")
    cfn.send(create_event(PUBLIC))

    answer = cfn.send(update_event({**PUBLIC, "EcrRepositoryPrefix": "other"}, "ecr-public", PUBLIC))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert "did not create it" in answer["Reason"]
    assert rules()["other"]["upstreamRegistryUrl"] == "quay.io"
