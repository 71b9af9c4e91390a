"""A resource never takes over (and so never later deletes) a rule it did not create, unless
AdoptExisting says so, or CloudFormation is rolling the stack back to it; two resources of one
stack never hold one rule; a failed Create never answers an id taken from the request."""

from __future__ import annotations

from typing import Any

from devkit.cloudformation.events import STACK_ID
from devkit.cloudformation.stack_api import CUSTOM_TYPE, StackApi
from handler.properties import is_rule_id
from tests.conftest import Cfn
from tests.helpers import PUBLIC, create_event, delete_event, existing, ops, ops_since, rules, update_event

MOVED = {**PUBLIC, "EcrRepositoryPrefix": "other-team"}


def foreign_identical_rule() -> dict[str, Any]:
    """Another owner's rule at MOVED's prefix, exactly as MOVED asks."""
    existing(ecrRepositoryPrefix="other-team", upstreamRegistryUrl="public.ecr.aws")
    return rules()["other-team"]


def test_a_forward_update_to_a_prefix_holding_an_identical_rule_is_refused(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    theirs = foreign_identical_rule()

    answer = cfn.send(update_event(MOVED, "ecr-public", PUBLIC))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] == "ecr-public"  # the id on record stays
    assert "EcrRepositoryPrefix 'other-team'" in answer["Reason"]
    assert "Choose another EcrRepositoryPrefix" in answer["Reason"]
    assert "AdoptExisting: 'true'" in answer["Reason"]
    # the stack is then deleted: only its own rule goes
    assert cfn.send(delete_event("ecr-public", PUBLIC))["Status"] == "SUCCESS"
    assert rules() == {"other-team": theirs}


def test_the_forward_and_the_rollback_request_differ_only_in_the_stacks_status(
    cfn: Cfn, stack_api: StackApi
) -> None:
    """The same request, twice: refused while the stack updates, kept while it rolls back."""
    cfn.send(create_event(PUBLIC))
    cfn.send(create_event(MOVED))  # the rule the resource held before the update (same stack)
    request = update_event(MOVED, "ecr-public", PUBLIC)

    forward = cfn.send(request)
    stack_api.stacks[STACK_ID].status = "UPDATE_ROLLBACK_IN_PROGRESS"
    mark = len(ops())
    rollback = cfn.send({**request, "RequestId": "another-request"})

    assert forward["Status"] == "FAILED"
    assert rollback["Status"] == "SUCCESS"
    assert rollback["PhysicalResourceId"] == "other-team"
    assert ops_since(mark) == ["CreatePullThroughCacheRule", "DescribePullThroughCacheRules"]  # no write
    assert stack_api.calls.count("DescribeStacks") == 2


def test_with_adopt_existing_a_forward_update_takes_the_identical_rule(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    foreign_identical_rule()

    answer = cfn.send(update_event({**MOVED, "AdoptExisting": "true"}, "ecr-public", PUBLIC))

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "other-team"


def test_when_the_stack_cannot_be_read_nothing_is_taken_over(cfn: Cfn, stack_api: StackApi) -> None:
    cfn.send(create_event(PUBLIC))
    theirs = foreign_identical_rule()
    stack_api.fail = "AccessDenied"

    answer = cfn.send(update_event(MOVED, "ecr-public", PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "could not read the stack's" in answer["Reason"]
    assert "cloudformation:DescribeStacks" in answer["Reason"]
    assert "Nothing was changed" in answer["Reason"]
    assert rules()["other-team"] == theirs


def test_two_resources_of_one_stack_never_hold_one_rule(cfn: Cfn, stack_api: StackApi) -> None:
    """Second asks, with AdoptExisting, for the rule First holds: deleting either would
    delete the other's rule."""
    first = cfn.send(create_event(PUBLIC, logical_id="First"))
    stack_api.stacks[STACK_ID].resources["First"] = (CUSTOM_TYPE, first["PhysicalResourceId"])

    answer = cfn.send(create_event({**PUBLIC, "AdoptExisting": "true"}, logical_id="Second"))

    assert answer["Status"] == "FAILED"
    assert "belongs to First in this stack" in answer["Reason"]
    assert not is_rule_id(answer["PhysicalResourceId"])
    assert set(rules()) == {"ecr-public"}


def test_a_rollback_never_returns_to_a_rule_another_resource_of_the_stack_holds(
    cfn: Cfn, stack_api: StackApi
) -> None:
    cfn.send(create_event(MOVED, logical_id="Other"))
    stack_api.stacks[STACK_ID].resources["Other"] = (CUSTOM_TYPE, "other-team")
    stack_api.stacks[STACK_ID].status = "UPDATE_ROLLBACK_IN_PROGRESS"

    answer = cfn.send(update_event(MOVED, "ecr-public", PUBLIC))

    assert answer["Status"] == "FAILED"
    assert "belongs to Other in this stack" in answer["Reason"]


def test_a_failed_create_never_answers_an_id_taken_from_the_request(cfn: Cfn) -> None:
    """A hand-made Create carrying an existing rule's prefix as its id, with bad properties:
    the rollback Delete of the answered id must not reach that rule."""
    theirs = existing(ecrRepositoryPrefix="docker-hub", upstreamRegistryUrl="quay.io")
    event = {**create_event({"EcrRepositoryPrefix": "Bad Prefix", "UpstreamRegistryUrl": "quay.io"})}
    event["PhysicalResourceId"] = "docker-hub"

    answer = cfn.send(event)
    cfn.send(delete_event(answer["PhysicalResourceId"], event["ResourceProperties"]))

    assert answer["Status"] == "FAILED"
    assert answer["PhysicalResourceId"] != "docker-hub"
    assert not is_rule_id(answer["PhysicalResourceId"])
    assert rules()["docker-hub"]["createdAt"] == theirs["createdAt"]


def test_a_create_delivered_again_to_another_container_is_answered_as_the_first(
    cfn: Cfn, stack_api: StackApi
) -> None:
    """Lambda delivers an asynchronous event at least once: the second delivery, in a container
    that remembers nothing, meets the rule the first made. CloudFormation already records the
    resource as that rule: it is this resource's, and the answer is SUCCESS again, no write."""
    event = create_event(PUBLIC)
    first = cfn.send(event)
    stack_api.stacks[STACK_ID].resources["Cache"] = (CUSTOM_TYPE, first["PhysicalResourceId"])
    cfn.new_container()
    mark = len(ops())

    again = cfn.send(event)

    assert again["Status"] == first["Status"] == "SUCCESS"
    assert again["PhysicalResourceId"] == "ecr-public"
    assert ops_since(mark) == ["CreatePullThroughCacheRule", "DescribePullThroughCacheRules"]
    assert set(rules()) == {"ecr-public"}
