"""The two moments Lambda takes the process away, under AWS's runtime interface client with both
modelled as Lambda has them (devkit.aws_lambda.ric): the environment is frozen (SIGSTOP, its
traffic to the ResponseURL held) as soon as the function returns and the runtime asks for its
next event, and killed (SIGKILL) at the deadline. The ResponseURL is 0.1 s away, each way.

Each case ends as CloudFormation would end it: the rollback Delete of the id the FAILED answer
carried, served by a fresh container; the registry must then hold nothing.
"""

from __future__ import annotations

import pytest

from devkit.aws_lambda.emulator_server import EmulatorServer
from devkit.aws_lambda.endpoints import WithholdingProxy
from devkit.cloudformation.events import request
from devkit.cloudformation.receiver import Receiver
from tests.conftest import check_protocol
from tests.runtime.conftest import Functions, Outcome, invoke

LATENCY_S = 0.1  # from the function to S3, each way
QUAY = {"EcrRepositoryPrefix": "quay", "UpstreamRegistryUrl": "quay.io"}


def roll_back(functions: Functions, receiver: Receiver, outcome: Outcome, properties: dict[str, str]) -> None:
    """CloudFormation's rollback Delete of the answered id, in another container."""
    answer = outcome.answer
    check_protocol(outcome.event, answer)
    assert answer["Status"] == "FAILED"
    delete = request("Delete", properties, physical_id=answer["PhysicalResourceId"])
    rollback = invoke(functions.get(), delete, receiver)
    assert rollback.answer["Status"] == "SUCCESS", rollback.answer["Reason"]


def test_the_timeout_answer_reaches_s3_when_ecr_answers_as_it_goes_out(
    functions: Functions, ecr_server: EmulatorServer, receiver: Receiver
) -> None:
    """ECR's answer to CreatePullThroughCacheRule, trickling in, completes just as the timeout
    answer leaves (8 s deadline): the request's thread then ends at once. The function may
    return only once S3 replied to that answer; otherwise it is frozen on the way, and lost when
    the environment is retired (here: closed)."""
    with (
        WithholdingProxy(ecr_server.url, "CreatePullThroughCacheRule", how="trickle") as ecr,
        functions.fresh(
            ecr_endpoint=ecr.url, response_latency_s=LATENCY_S, on_answer_sent=ecr.release
        ) as container,
    ):
        # (invoke checks that nothing was still on its way when the function returned)
        outcome = invoke(container, request("Create", QUAY), receiver, timeout_s=8.0)
        assert ecr.withheld == ["CreatePullThroughCacheRule"] and ecr.released.is_set()
    # the container is retired: whatever it still held is gone

    assert outcome.result.status == "response"
    assert len(outcome.answers) == 1, "CloudFormation got no answer"
    assert "ran out of time" in outcome.answer["Reason"]
    roll_back(functions, receiver, outcome, QUAY)
    assert ecr_server.rules() == {}


@pytest.mark.parametrize(
    ("operation", "properties"),
    [
        ("CreatePullThroughCacheRule", QUAY),
        ("ValidatePullThroughCacheRule", {**QUAY, "ValidateCredentials": "true"}),
    ],
    ids=["create-trickling", "validate-trickling"],
)
def test_a_call_that_never_ends_is_answered_in_time_and_the_rollback_alone_undoes_it(
    functions: Functions,
    ecr_server: EmulatorServer,
    receiver: Receiver,
    operation: str,
    properties: dict[str, str],
) -> None:
    """ECR took the call, and its answer arrives one byte every 0.5 s: no read timeout fires and
    the request's thread never finishes. The timeout answer goes out in time; the process is
    then killed at the deadline, before any undo. The answer's id alone lets the rollback
    remove the rule (a create ECR had not confirmed, or a rule whose validation was under way)."""
    with (
        WithholdingProxy(ecr_server.url, operation, how="trickle") as ecr,
        functions.fresh(ecr_endpoint=ecr.url, response_latency_s=LATENCY_S) as container,
    ):
        outcome = invoke(container, request("Create", properties), receiver, timeout_s=6.0)

    assert ecr.withheld == [operation]
    assert outcome.result.status == "timeout", "the stuck call should have run into the deadline"
    assert set(ecr_server.rules()) == {"quay"}  # no undo ran: the process was killed
    assert len(outcome.answers) == 1, "CloudFormation got no answer"
    assert "ran out of time" in outcome.answer["Reason"]
    roll_back(functions, receiver, outcome, properties)
    assert ecr_server.rules() == {}
