"""Whatever the event, one answer (when there is somewhere to send it) with a readable Reason
that shows values as the JSON CloudFormation sent; a Delete never fails for its input; nothing
but CloudFormation's three request types is served; crhelper's own keys change nothing; values
nested thousands of levels deep are set aside; only a true repeat of a request gets its first
answer again."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ecr_ptc_emulator
from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.receiver import Receiver
from handler import app
from handler.properties import is_rule_id
from tests.conftest import Cfn, check_protocol
from tests.helpers import PUBLIC, QUAY, create_event, delete_event, existing, ops, rules, update_event


def answers(receiver: Receiver, event: dict[str, Any]) -> list[dict[str, Any]]:
    url = receiver.url()
    app.lambda_handler({**event, "ResponseURL": url}, LambdaContext())
    return [json.loads(put["raw"]) for put in receiver.raw(url)]


@pytest.mark.parametrize("properties", [["EcrRepositoryPrefix", "x"], "ecr-public", 42, None])
def test_properties_that_are_not_an_object_get_a_readable_answer(cfn: Cfn, properties: Any) -> None:
    for event in (create_event(PUBLIC), update_event(PUBLIC, "ecr-public", PUBLIC)):
        answer = cfn.send({**event, "ResourceProperties": properties})
        assert answer["Status"] == "FAILED"
        assert "ResourceProperties is" in answer["Reason"]
        assert "must be an object" in answer["Reason"]
    assert ops() == []


def test_a_delete_never_fails_for_its_input(cfn: Cfn) -> None:
    cfn.send(create_event(PUBLIC))
    for broken in ([1, 2], "x", None, {"EcrRepositoryPrefix": 7}):
        assert cfn.send({**delete_event("elsewhere"), "ResourceProperties": broken})["Status"] == "SUCCESS"
    answer = cfn.send({**delete_event("ecr-public"), "ResourceProperties": [1, 2]})
    assert answer["Status"] == "SUCCESS"
    assert rules() == {}  # the id on record names the rule; the properties do not matter


@pytest.mark.parametrize("kind", ["delete", "DELETE", "Delete ", "Remove", "", 3, None])
def test_only_cloudformations_three_request_types_are_served(cfn: Cfn, kind: Any) -> None:
    cfn.send(create_event(PUBLIC))
    mark = len(ops())
    moved = {**PUBLIC, "EcrRepositoryPrefix": "moved"}
    event = {**update_event(moved, "ecr-public", PUBLIC), "RequestType": kind}

    answer = cfn.send(event)

    assert answer["Status"] == "FAILED"
    assert "RequestType" in answer["Reason"] and "Create, Update or Delete" in answer["Reason"]
    assert "did you mean 'Delete'" in answer["Reason"] or str(kind).strip().lower() != "delete"
    assert ops()[mark:] == []
    assert set(rules()) == {"ecr-public"}


@pytest.mark.parametrize(
    ("drop", "kind", "named"),
    [
        ("StackId", "Create", "StackId is missing"),
        ("LogicalResourceId", "Create", "LogicalResourceId is missing"),
        ("RequestId", "Delete", "RequestId is missing"),
        ("PhysicalResourceId", "Update", "PhysicalResourceId is missing"),
        ("PhysicalResourceId", "Delete", "PhysicalResourceId is missing"),
    ],
)
def test_a_missing_field_is_named_not_a_python_error(
    receiver: Receiver, cfn: Cfn, drop: str, kind: str, named: str
) -> None:
    event = {
        "Create": create_event(PUBLIC),
        "Update": update_event(PUBLIC, "ecr-public", PUBLIC),
        "Delete": delete_event("ecr-public", PUBLIC),
    }[kind]
    del event[drop]

    (answer,) = answers(receiver, event)

    assert named in answer["Reason"]
    assert "KeyError" not in answer["Reason"] and "unexpected" not in answer["Reason"]
    assert answer["Status"] == ("SUCCESS" if kind == "Delete" else "FAILED")
    assert answer["PhysicalResourceId"]
    assert ops() == []


def test_a_lone_surrogate_in_a_value_or_id_still_gets_its_answer(receiver: Receiver, cfn: Cfn) -> None:
    lone = "\ud800"
    for event in (
        create_event({**PUBLIC, "EcrRepositoryPrefix": f"bad{lone}"}),
        {**create_event(PUBLIC), "LogicalResourceId": f"Cache{lone}"},
        {**delete_event(f"x{lone}"), "RequestId": f"r{lone}"},
    ):
        (answer,) = answers(receiver, event)
        check_protocol(event, answer)


@pytest.mark.parametrize("key", ["CrHelperPoll", "CrHelperData", "CrHelperPermission", "CrHelperRule"])
def test_crhelpers_own_keys_change_nothing(cfn: Cfn, key: str) -> None:
    answer = cfn.send({**create_event(PUBLIC), key: {"PhysicalResourceId": "elsewhere", "x": "y"}})

    assert answer["Status"] == "SUCCESS"
    assert answer["PhysicalResourceId"] == "ecr-public"
    assert "x" not in answer["Data"] and "PhysicalResourceId" not in answer["Data"]
    assert ops() == ["CreatePullThroughCacheRule"]


def test_a_request_that_reuses_a_request_id_is_served_as_itself(cfn: Cfn) -> None:
    """Only a true repeat (same stack, resource, type, properties) replays the first answer."""
    first = create_event(PUBLIC, request_id="same-id")
    other = create_event(QUAY, request_id="same-id")

    assert cfn.send(first)["PhysicalResourceId"] == "ecr-public"
    assert cfn.send(other)["PhysicalResourceId"] == "quay"
    assert cfn.send(first)["PhysicalResourceId"] == "ecr-public"  # the true repeat: replayed
    assert ops() == ["CreatePullThroughCacheRule"] * 2
    assert set(rules()) == {"ecr-public", "quay"}


# -- generated events -------------------------------------------------------------------------

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.text(max_size=40), st.sampled_from(["\ud800", "ROOT", "true"])
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)
PROPERTY_NAMES = st.sampled_from(
    [
        "EcrRepositoryPrefix",
        "UpstreamRegistryUrl",
        "CredentialArn",
        "UpstreamRegistry",
        "AdoptExisting",
        "Typo",
    ]
)
EVENTS = st.fixed_dictionaries(
    {},
    optional={
        "RequestType": st.sampled_from(["Create", "Update", "Delete", "delete", "Other"]) | VALUES,
        "RequestId": st.text(min_size=1, max_size=20) | VALUES,
        "StackId": st.just("arn:aws:cloudformation:us-east-1:123456789012:stack/s/1") | VALUES,
        "LogicalResourceId": st.text(max_size=20) | VALUES,
        "PhysicalResourceId": st.sampled_from(["ecr-public", "guarded", "ecr-ptc:create-failed:x"]) | VALUES,
        "ResourceProperties": st.dictionaries(PROPERTY_NAMES, VALUES, max_size=4) | VALUES,
        "OldResourceProperties": st.dictionaries(PROPERTY_NAMES, VALUES, max_size=3) | VALUES,
        "CrHelperPoll": VALUES,
        "CrHelperData": VALUES,
    },
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(event=EVENTS)
def test_any_event_gets_exactly_one_readable_answer_and_touches_no_rule_it_did_not_make(
    receiver: Receiver, cfn: Cfn, event: dict[str, Any]
) -> None:
    ecr_ptc_emulator.faults().clear()
    if "guarded" not in rules():
        existing(ecrRepositoryPrefix="guarded", upstreamRegistryUrl="quay.io")
    guarded = rules()["guarded"]
    cfn.new_container()

    puts = answers(receiver, event)

    assert len(puts) == 1
    (answer,) = puts
    assert answer["Status"] in ("SUCCESS", "FAILED")
    assert isinstance(answer["PhysicalResourceId"], str) and answer["PhysicalResourceId"]
    if answer["Status"] == "FAILED":
        assert answer["Reason"].strip()
        assert "Traceback" not in answer["Reason"]
    if event.get("RequestType") == "Delete" and not isinstance(event.get("PhysicalResourceId"), str):
        assert answer["Status"] == "SUCCESS"  # a Delete never fails for its input
    if event.get("RequestType") == "Create" and answer["Status"] == "FAILED":
        assert not is_rule_id(answer["PhysicalResourceId"]) or answer["PhysicalResourceId"] != "guarded"
    # the rule no request made stays, unless an Update or Delete names it as the id on record
    if not (
        event.get("RequestType") in ("Update", "Delete") and event.get("PhysicalResourceId") == "guarded"
    ):
        assert rules().get("guarded") == guarded


# -- nested thousands of levels deep; values shown as JSON --------------------------------------


def nested(depth: int) -> Any:
    value: Any = "docker-hub"
    for _ in range(depth):
        value = {"a": value}
    return value


def answer_to(receiver: Receiver, event: dict[str, Any]) -> dict[str, Any]:
    """The one answer to `event`. (An error out of the handler fails the test with its name only:
    pytest would spend minutes showing a value nested thousands of levels deep.)"""
    url = receiver.url()
    escaped = ""
    try:
        app.lambda_handler({**event, "ResponseURL": url}, LambdaContext())
    except Exception as error:  # noqa: BLE001
        escaped = type(error).__name__
    if escaped:  # (outside the except: the error's thousand frames are not shown)
        pytest.fail(f"{escaped} out of the handler", pytrace=False)
    answers = receiver.answers(url)
    assert len(answers) == 1, f"{len(answers)} answers"
    check_protocol(event, answers[0])
    return answers[0]


@pytest.mark.parametrize("key", ["EcrRepositoryPrefix", "UpstreamRegistryUrl"])
@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_properties_nested_thousands_of_levels_deep_are_answered_failed(
    cfn: Cfn, receiver: Receiver, request_type: str, key: str
) -> None:
    event = create_event(PUBLIC) if request_type == "Create" else update_event(PUBLIC, "ecr-public", PUBLIC)
    event["ResourceProperties"][key] = nested(5000)  # (after the event is built: it is deep-copied)

    answer = answer_to(receiver, event)

    assert answer["Status"] == "FAILED"
    assert "ResourceProperties" in answer["Reason"] and "levels deep" in answer["Reason"]
    assert rules() == {}


def test_old_properties_nested_thousands_of_levels_deep_do_not_stop_an_update(
    cfn: Cfn, receiver: Receiver
) -> None:
    cfn.send(create_event(PUBLIC))
    event = update_event(PUBLIC, "ecr-public", PUBLIC)
    event["OldResourceProperties"]["Deep"] = nested(5000)
    answer = answer_to(receiver, event)
    assert answer["Status"] == "SUCCESS"


def test_a_delete_with_deeply_nested_properties_still_deletes_its_rule(cfn: Cfn, receiver: Receiver) -> None:
    cfn.send(create_event(PUBLIC))
    event = delete_event("ecr-public", PUBLIC)
    event["ResourceProperties"]["Deep"] = nested(5000)
    answer = answer_to(receiver, event)
    assert answer["Status"] == "SUCCESS"
    assert rules() == {}


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("RequestId", None, "RequestId is null"),
        ("LogicalResourceId", 7, "LogicalResourceId is 7 (a number)"),
        ("StackId", {"a": None}, 'StackId is {"a": null} (an object)'),
    ],
)
def test_reasons_speak_json_not_python(
    receiver: Receiver, pauses: list[float], field: str, value: Any, said: str
) -> None:
    url = receiver.url()
    app.lambda_handler({**create_event(PUBLIC), field: value, "ResponseURL": url}, LambdaContext())
    (answer,) = receiver.answers(url)
    assert answer["Status"] == "FAILED"
    assert said in answer["Reason"]
    assert "None" not in answer["Reason"] and "NoneType" not in answer["Reason"]


def test_a_property_value_is_shown_as_json(cfn: Cfn) -> None:
    answer = cfn.send(create_event({**PUBLIC, "UpstreamRegistryUrl": {"host": None}}))
    assert 'UpstreamRegistryUrl must be a string, not an object {"host": null}' in answer["Reason"]
