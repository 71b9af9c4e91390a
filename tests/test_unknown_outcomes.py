"""What ECR holds, not what the request says it held, decides a replacement and its restore; a
call whose response was lost is settled by reading ECR back; an answer is undone only when S3
certainly did not store it; the undo retries."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any

import pytest

import ecr_ptc_emulator
from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.receiver import Receiver, refusing_url
from handler import app, response
from handler.properties import is_rule_id
from tests.conftest import Cfn
from tests.helpers import PUBLIC, create_event, delete_event, existing, ops, ops_since, rules
from tests.helpers import update_event as update

CACHE_PUBLIC = {"EcrRepositoryPrefix": "cache", "UpstreamRegistryUrl": "public.ecr.aws"}
CACHE_QUAY = {"EcrRepositoryPrefix": "cache", "UpstreamRegistryUrl": "quay.io"}
CREATE, DELETE = "CreatePullThroughCacheRule", "DeletePullThroughCacheRule"


def without_times(rule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rule.items() if k not in ("createdAt", "updatedAt")}


# -- the rollback of a failed same-prefix replacement writes nothing --------------------------


def test_the_rollback_of_a_failed_same_prefix_replacement_makes_no_write(cfn: Cfn) -> None:
    cfn.send(create_event(CACHE_PUBLIC))
    ecr_ptc_emulator.faults().fail(CREATE, "LimitExceededException", times=1)
    failed = cfn.send(update(CACHE_QUAY, "cache", CACHE_PUBLIC))
    restored = rules()["cache"]
    assert failed["Status"] == "FAILED" and "put back" in failed["Reason"]
    mark = len(ops())

    rollback = cfn.send(update(CACHE_PUBLIC, "cache", CACHE_QUAY))  # old and new swapped

    assert rollback["Status"] == "SUCCESS"
    assert ops_since(mark) == ["DescribePullThroughCacheRules"]
    assert rules()["cache"] == restored  # no moment without a rule, the same CreatedAt
    assert rollback["Data"]["CreatedAt"] == restored["createdAt"].isoformat()


# -- a restore re-creates exactly the rule that was deleted -----------------------------------


def test_a_restore_rebuilds_the_rule_from_what_ecr_held_never_from_the_request(cfn: Cfn, secret: Any) -> None:
    """ECR holds a Docker Hub rule under 'cache' while OldResourceProperties say GHCR (as after
    a failed update): the replacement's create is refused, and the restore must rebuild the
    Docker Hub rule, upstream type included, not registry-1.docker.io as GHCR."""
    hub_secret, ghcr_secret = secret("ecr-pullthroughcache/hub"), secret("ecr-pullthroughcache/ghcr")
    existing(
        ecrRepositoryPrefix="cache", upstreamRegistryUrl="registry-1.docker.io", credentialArn=hub_secret
    )
    held = rules()["cache"]
    said_before = {
        "EcrRepositoryPrefix": "cache",
        "UpstreamRegistryUrl": "ghcr.io",
        "CredentialArn": ghcr_secret,
    }
    ecr_ptc_emulator.faults().fail(CREATE, "LimitExceededException", times=1)

    answer = cfn.send(update(CACHE_QUAY, "cache", said_before))

    assert answer["Status"] == "FAILED"
    assert "put back unchanged" in answer["Reason"]
    assert without_times(rules()["cache"]) == without_times(held)
    assert rules()["cache"]["upstreamRegistry"] == "docker-hub"


# -- a lost response is settled by reading ECR back -------------------------------------------


@pytest.mark.parametrize("how", ["timeout", "5xx"])
def test_a_create_whose_response_was_lost_takes_the_rule_it_made(cfn: Cfn, how: str) -> None:
    ecr_ptc_emulator.faults().lose_response(CREATE, how)

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "SUCCESS", answer.get("Reason")
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert ops() == [CREATE, "DescribePullThroughCacheRules"]  # read back at once: no retry
    assert answer["Data"]["CreatedAt"] == rules()["ecr-public"]["createdAt"].isoformat()


def test_a_lost_response_never_makes_an_older_rule_this_requests_own(cfn: Cfn) -> None:
    """The first attempt fails with 500 (it may have taken effect), the retry meets a rule that
    was there before the first attempt: that rule is not this request's."""
    existing(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")
    ecr_ptc_emulator.backdate("ecr-public", 60)  # made a minute ago
    theirs = rules()["ecr-public"]
    ecr_ptc_emulator.faults().fail(CREATE, "ServerException", status=500, times=1)

    answer = cfn.send(create_event(PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "did not create it" in answer["Reason"]
    assert not is_rule_id(answer["PhysicalResourceId"])
    assert rules()["ecr-public"]["createdAt"] == theirs["createdAt"]


def test_a_replacement_whose_delete_response_was_lost_still_restores_on_failure(cfn: Cfn) -> None:
    """The Delete took effect but answered 500; its retry meets "not found"; then the new rule's
    create is refused: the old rule is put back and the Reason says what ECR holds."""
    cfn.send(create_event(CACHE_PUBLIC))
    before = rules()["cache"]
    ecr_ptc_emulator.faults().lose_response(DELETE, "5xx")
    ecr_ptc_emulator.faults().fail(CREATE, "LimitExceededException", times=1)

    answer = cfn.send(update(CACHE_QUAY, "cache", CACHE_PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "put back unchanged: ECR holds it as before" in answer["Reason"]
    assert without_times(rules()["cache"]) == without_times(before)


def test_a_delete_whose_response_was_lost_is_a_delete(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    ecr_ptc_emulator.faults().lose_response(DELETE, "timeout")

    answer = cfn.send(delete_event("ecr-public", PUBLIC))

    assert answer["Status"] == "SUCCESS"
    assert rules() == {}


def test_a_create_that_ecr_never_confirms_answers_an_id_its_delete_can_settle(cfn: Cfn) -> None:
    """ECR takes the create, then answers 500 to it and to every read: the Create fails with an
    id from which its rollback Delete (ECR back) tells the rule apart from anyone else's."""
    ecr_ptc_emulator.faults().lose_response(CREATE, "5xx")
    ecr_ptc_emulator.faults().fail(None, "ServiceUnavailableException", status=503, times=-1, after=1)

    answer = cfn.send(create_event(PUBLIC), LambdaContext(timeout_s=5))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"].startswith("ecr-ptc:create-unsure:")
    assert "did not confirm" in answer["Reason"]
    ecr_ptc_emulator.faults().clear()
    assert cfn.send(delete_event(answer["PhysicalResourceId"], PUBLIC))["Status"] == "SUCCESS"
    assert rules() == {}


def test_the_delete_of_an_unconfirmed_create_leaves_a_rule_that_is_not_its_own(cfn: Cfn) -> None:
    existing(ecrRepositoryPrefix="ecr-public", upstreamRegistryUrl="public.ecr.aws")
    ecr_ptc_emulator.backdate("ecr-public", 60)
    theirs = rules()["ecr-public"]
    now = int(time.time() * 1000)
    unsure = f"ecr-ptc:create-unsure:{now - 5000}-{now - 4000}:ecr-public"  # the rule is older

    assert cfn.send(delete_event(unsure, PUBLIC))["Status"] == "SUCCESS"
    assert rules()["ecr-public"] == theirs


# -- undo only when S3 certainly did not store the answer -------------------------------------


@pytest.fixture
def quick_put() -> Iterator[None]:
    """The answer's PUT gives up on a silent S3 after 0.2 s (instead of 5 s)."""
    original = app.provider.answers.send
    app.provider.answers.send = functools.partial(response.put, timeout_s=0.2, sleep=lambda s: None)
    yield
    app.provider.answers.send = original


def test_an_answer_s3_refuses_with_403_removes_the_rule_it_would_have_announced(
    receiver: Receiver, cfn: Cfn
) -> None:
    url = receiver.url()
    receiver.respond(url, 403)

    app.lambda_handler({**create_event(PUBLIC), "ResponseURL": url}, LambdaContext())

    assert [put["status"] for put in receiver.raw(url)] == [403]  # not retried: it cannot succeed
    assert rules() == {}


def test_an_answer_whose_put_got_no_response_keeps_the_rule(
    receiver: Receiver, cfn: Cfn, quick_put: None
) -> None:
    """S3 stored the body but its response never came: CloudFormation may well have the answer,
    so the rule it names must stay."""
    url = receiver.url()
    receiver.stall(url, 1.0)

    app.lambda_handler({**create_event(PUBLIC), "ResponseURL": url}, LambdaContext())

    assert receiver.answers(url)[0]["Status"] == "SUCCESS"
    assert set(rules()) == {"ecr-public"}


# -- the undo retries like any other call ------------------------------------------------------


def test_the_undo_of_an_undelivered_create_retries_a_throttled_delete(cfn: Cfn, pauses: list[float]) -> None:
    """Nothing listens at the ResponseURL, so the new rule must go; ECR throttles the first two
    Deletes of it."""
    ecr_ptc_emulator.faults().fail(DELETE, "ThrottlingException", times=2)

    app.lambda_handler({**create_event(PUBLIC), "ResponseURL": refusing_url()}, LambdaContext())

    assert ops() == [CREATE, DELETE, DELETE, DELETE]
    assert rules() == {}


def test_an_update_whose_new_rule_ecr_never_confirmed_removes_it_once_answered(cfn: Cfn) -> None:
    """Update to a new prefix: ECR takes the create but answers 500, and every read of it in
    the request fails too. The answer is FAILED with an id from which a Delete can tell the rule
    is this request's (CloudFormation records a FAILED Update's id and deletes it after the
    rollback: tests/test_frozen_and_killed.py); once it is out, the rule is read back again and
    removed, for an engine that keeps the old id instead (MiniStack)."""
    cfn.send(create_event(PUBLIC))
    ecr_ptc_emulator.faults().lose_response(CREATE, "5xx")
    attempts = app.provider.retry_policy.max_attempts
    ecr_ptc_emulator.faults().fail(
        "DescribePullThroughCacheRules", "ServiceUnavailableException", 503, times=attempts
    )

    answer = cfn.send(update({**PUBLIC, "EcrRepositoryPrefix": "moved"}, "ecr-public", PUBLIC))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"].startswith("ecr-ptc:create-unsure:")
    assert answer["PhysicalResourceId"].endswith(":moved")
    assert "did not confirm" in answer["Reason"]
    assert set(rules()) == {"ecr-public"}  # 'moved' was made, then removed after the answer
    assert ops()[-2:] == ["DescribePullThroughCacheRules", DELETE]
