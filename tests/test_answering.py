"""Every invocation answers exactly once, before its deadline, with a non-empty id and
a body under 4096 bytes; crhelper's defaults (120 s Delete sleep, empty timeout id, endless
PUT retries, ResponseURL in logs) are fixed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import ecr_ptc_emulator
from devkit.aws_lambda.context import FakeClock, LambdaContext
from devkit.cloudformation.receiver import Receiver, refusing_url
from handler import app
from handler.deadline import answer_reserve
from handler.properties import is_rule_id
from handler.response import MAX_BODY_BYTES, build_body, shorten
from tests.conftest import Cfn, check_protocol
from tests.helpers import PUBLIC, create_event, delete_event, ops, rules, update_event

ROOT = Path(__file__).resolve().parent.parent


def test_the_timeout_answer_carries_a_real_id_and_comes_once(cfn: Cfn, receiver: Receiver) -> None:
    """The request's thread stalls inside an ECR call (the call itself outlives nothing: the
    thread is descheduled): the real watchdog answers FAILED when the answer is due, with an id
    that names no rule (the create was under way: its Delete deletes the rule only if that create
    made it), and the rule the stalled call then creates is removed, not orphaned.
    ServiceTimeout 1 s makes the answer due after 0.8 s, while the Lambda has 120 s."""
    url = receiver.url()

    def stall_until_answered(**kwargs: Any) -> None:
        for _ in range(500):  # bounded: at most 5 s
            if receiver.raw(url):
                return
            time.sleep(0.01)

    app.provider.ecr_client.meta.events.register_first("before-send.ecr.*", stall_until_answered)
    try:
        answer = cfn.send(create_event({**PUBLIC, "ServiceTimeout": "1"}), url=url)
    finally:
        app.provider.ecr_client.meta.events.unregister("before-send.ecr.*", stall_until_answered)

    assert answer["Status"] == "FAILED"
    assert "ran out of time" in answer["Reason"]
    assert answer["PhysicalResourceId"].startswith("ecr-ptc:create-unsure:")
    assert ops() == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule"]
    assert rules() == {}


def test_too_little_time_left_means_no_call_and_an_immediate_answer(cfn: Cfn) -> None:
    context = LambdaContext(timeout_s=0.25)  # the answer is due 0.2 s before the end: 0.05 s left

    answer = cfn.send(update_event({**PUBLIC, "EcrRepositoryPrefix": "other"}, "ecr-public", PUBLIC), context)

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert "was not attempted: only 0.0" in answer["Reason"]
    assert "before the provider function's Timeout ends" in answer["Reason"]
    assert ops() == []


def test_a_short_service_timeout_bounds_the_work(cfn: Cfn, pauses: list[float]) -> None:
    """CloudFormation stops waiting after ServiceTimeout: the answer must come before that,
    even when the Lambda itself has 15 minutes."""
    ecr_ptc_emulator.faults().fail(None, "ThrottlingException", times=-1)
    clock = FakeClock()
    app.provider.retry_policy.sleep = lambda seconds: (pauses.append(seconds), clock.advance(seconds))[0]

    answer = cfn.send(create_event({**PUBLIC, "ServiceTimeout": "4"}), LambdaContext(900, clock=clock))

    assert answer["Status"] == "FAILED"
    assert "ECR kept throttling" in answer["Reason"]
    assert 1 < len(ops()) < app.provider.retry_policy.max_attempts
    assert sum(pauses) <= 4 - answer_reserve(4)


def test_a_response_url_that_refuses_connections_is_given_up_on(pauses: list[float], emulator: None) -> None:
    url = refusing_url()
    app.lambda_handler({**create_event(PUBLIC), "ResponseURL": url}, LambdaContext())

    assert len(pauses) == 2  # three attempts, two pauses, then the invocation ends
    assert rules() == {}  # CloudFormation never learns of the rule: it is removed, not orphaned


def test_a_response_url_answering_500_is_retried_a_bounded_number_of_times(
    receiver: Receiver, pauses: list[float]
) -> None:
    url = receiver.url()
    receiver.status = 500
    try:
        app.lambda_handler({**create_event(PUBLIC), "ResponseURL": url}, LambdaContext())
    finally:
        receiver.status = 200

    assert len(receiver.raw(url)) == 3
    assert len({r["raw"] for r in receiver.raw(url)}) == 1


def test_a_request_delivered_twice_is_answered_twice_the_same_with_one_ecr_call(cfn: Cfn) -> None:
    event = create_event(PUBLIC)

    first, second = cfn.send(event), cfn.send(event)

    assert first == second
    assert first["Status"] == "SUCCESS"
    assert ops() == ["CreatePullThroughCacheRule"]


@pytest.mark.parametrize("context", [None, object()])
def test_a_hand_made_context_without_lambda_attributes_is_still_answered(
    receiver: Receiver, pauses: list[float], context: object
) -> None:
    url = receiver.url()
    event = create_event(PUBLIC)

    app.lambda_handler({**event, "ResponseURL": url}, context)

    (answer,) = receiver.answers(url)
    check_protocol(event, answer)
    assert answer["Status"] == "SUCCESS"


def test_delete_does_not_sleep(cfn: Cfn, monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("crhelper.resource_helper.sleep", slept.append)
    cfn.send(create_event(PUBLIC))

    answer = cfn.send(delete_event("ecr-public", PUBLIC), LambdaContext(timeout_s=900))

    assert answer["Status"] == "SUCCESS"
    assert slept == []


def test_the_put_is_what_cloudformation_expects(cfn: Cfn, receiver: Receiver) -> None:
    url = receiver.url()
    cfn.send(create_event(PUBLIC), url=url)
    (put,) = receiver.raw(url)

    assert put["headers"]["Content-Type"] == ""
    assert int(put["headers"]["Content-Length"]) == len(put["raw"])
    keys = {
        "Status",
        "Reason",
        "PhysicalResourceId",
        "StackId",
        "RequestId",
        "LogicalResourceId",
        "NoEcho",
        "Data",
    }
    assert set(json.loads(put["raw"])) == keys


def test_a_start_up_failure_is_answered_failed_not_left_waiting(receiver: Receiver) -> None:
    """No Region: the module still loads, and the first request is answered FAILED."""
    url = receiver.url()
    event = {**create_event(PUBLIC), "ResponseURL": url}
    script = (
        "import json, sys; from devkit.aws_lambda.context import LambdaContext; from handler import app; "
        "app.lambda_handler(json.loads(sys.argv[1]), LambdaContext())"
    )
    in_new_process(script, json.dumps(event))

    (answer,) = receiver.answers(url)
    check_protocol(event, answer)
    assert answer["Status"] == "FAILED"
    assert "could not start" in answer["Reason"]
    assert not is_rule_id(answer["PhysicalResourceId"])


def in_new_process(script: str, *args: str, region: str | None = None) -> subprocess.CompletedProcess[str]:
    """`python -c script args` with the handler importable, as a new container: AWS_REGION and
    AWS_DEFAULT_REGION unset unless `region` is given."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION")}
    if region:
        env["AWS_DEFAULT_REGION"] = region
    env["PYTHONPATH"] = f"{ROOT / 'src'}:{ROOT}"
    return subprocess.run(
        [sys.executable, "-c", script, *args], env=env, check=True, capture_output=True, text=True, timeout=60
    )


# --- the body, pure ----------------------------------------------------------------------

EVENT = {"RequestId": "r-1", "StackId": "s", "LogicalResourceId": "L", "RequestType": "Create"}


def test_a_long_reason_keeps_its_beginning_and_the_body_stays_under_4096_bytes() -> None:
    reason = "EcrRepositoryPrefix 'X' is bad: write 'x'. " + "detail " * 2000
    body = build_body(EVENT, "FAILED", reason, None, None)

    decoded = json.loads(body)
    assert len(body) <= MAX_BODY_BYTES
    assert decoded["Reason"].startswith("EcrRepositoryPrefix 'X' is bad: write 'x'.")
    assert decoded["Reason"].endswith("the provider's logs hold the whole text)")


def test_a_body_with_large_data_still_fits() -> None:
    data = {f"Key{n}": "v" * 600 for n in range(8)}
    body = build_body(EVENT, "SUCCESS", "x" * 3000, "prefix", data)
    assert len(body) <= MAX_BODY_BYTES


def test_missing_id_and_reason_are_filled_in() -> None:
    decoded = json.loads(build_body(EVENT, "FAILED", "", "", {"n": 1}))
    assert decoded["PhysicalResourceId"] == "ecr-ptc:create-failed:r-1"
    assert "RequestId r-1" in decoded["Reason"]
    assert decoded["Data"] == {}
    update = {**EVENT, "RequestType": "Update", "PhysicalResourceId": "old"}
    decoded = json.loads(build_body(update, "SUCCESS", "", None, {"n": 1, "z": None}))
    assert decoded["PhysicalResourceId"] == "old"
    assert decoded["Data"] == {"n": "1", "z": ""}
    # a Create's id is never one the request carries (so a failed Create's Delete touches no rule)
    create = {**EVENT, "PhysicalResourceId": "someone-elses-rule"}
    assert json.loads(build_body(create, "FAILED", "x", None, None))["PhysicalResourceId"] == (
        "ecr-ptc:create-failed:r-1"
    )


def test_shorten_leaves_short_text_alone() -> None:
    assert shorten("short", 10) == "short"
    assert len(shorten("x" * 100, 80)) == 80


def test_the_emulator_is_reset_between_tests(emulator: None) -> None:
    assert ecr_ptc_emulator.rules() == {}


@pytest.mark.parametrize("region", ["us-east-1", None], ids=["with a Region", "without a Region"])
def test_the_collector_is_back_on_once_the_module_is_loaded(region: str | None) -> None:
    """The cold start runs without the cyclic garbage collector; it must be on again once the
    module is loaded, with what the init made frozen out of later passes, whether or not the
    ECR client could be made."""
    script = (
        "import gc, json; from handler import app; "
        "print(json.dumps([gc.isenabled(), gc.get_freeze_count(), app.provider.ecr_client is not None]))"
    )
    done = in_new_process(script, region=region)
    enabled, frozen, client = json.loads(done.stdout.splitlines()[-1])
    assert enabled is True
    assert frozen > 10_000
    assert client is (region is not None)
