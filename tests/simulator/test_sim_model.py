"""The simulator's own model, checked against a scripted provider: the requests CloudFormation
sends in each phase, the answer it acts on, the protocol checks and the invariants. A model that
accepted anything would make the matrix worthless, so each check is shown to fire."""

from __future__ import annotations

import dataclasses
import http.client
import json
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest

from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.chaos import run
from devkit.cloudformation.events import request
from devkit.cloudformation.faults import (
    AnswerLost,
    ForeignRule,
    FrozenAtReturn,
    HungEcr,
    KilledAtDeadline,
    LostResponse,
    StaleTimeout,
)
from devkit.cloudformation.invariants import Invariants, Registry
from devkit.cloudformation.lab import Lab
from devkit.cloudformation.plans import Path, Step
from devkit.cloudformation.receiver import Receiver
from devkit.cloudformation.simulator import (
    CLEANUP,
    FAILED,
    FORWARD,
    ROLLBACK,
    SUCCESS,
    Hooks,
    Ledger,
    Sibling,
    Stack,
    answer_problems,
    protocol_problems,
)
from handler.properties import parse
from tests.simulator.paths import PATHS

Answer = Callable[[dict[str, Any]], dict[str, Any] | None]


class ScriptedLambda:
    """A provider whose answers are scripted: `answer(event)` gives Status, PhysicalResourceId
    (and Reason); None sends nothing. It PUTs like the real one, to the real receiver."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any], context: LambdaContext) -> int:
        self.events.append(event)
        fields = self.answer(event)
        if fields is not None:
            body = {
                "StackId": event["StackId"],
                "RequestId": event["RequestId"],
                "LogicalResourceId": event["LogicalResourceId"],
                "Reason": "",
                **fields,
            }
            put(event["ResponseURL"], json.dumps(body).encode())
        return context.get_remaining_time_in_millis()

    def seen(self) -> list[tuple[str, str, str | None, str | None, str | None]]:
        """(type, logical id, physical id, asked prefix, old prefix) of every request."""
        return [
            (
                e["RequestType"],
                e["LogicalResourceId"],
                e.get("PhysicalResourceId"),
                e["ResourceProperties"].get("EcrRepositoryPrefix"),
                (e.get("OldResourceProperties") or {}).get("EcrRepositoryPrefix"),
            )
            for e in self.events
        ]


def put(url: str, body: bytes) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=5)
    try:
        connection.request("PUT", f"{parts.path}?{parts.query}", body=body, headers={"Content-Type": ""})
        connection.getresponse().read()
    finally:
        connection.close()


def prefix_ids(event: dict[str, Any]) -> dict[str, Any] | None:
    """A provider that does what it is asked: the id is the prefix asked for."""
    if event["RequestType"] == "Delete":
        return {"Status": SUCCESS, "PhysicalResourceId": event["PhysicalResourceId"]}
    return {"Status": SUCCESS, "PhysicalResourceId": event["ResourceProperties"]["EcrRepositoryPrefix"]}


def stack_with(receiver: Receiver, answer: Answer) -> tuple[Stack, ScriptedLambda, Ledger]:
    lambda_, ledger = ScriptedLambda(answer), Ledger()
    return Stack(lambda_, receiver, ledger), lambda_, ledger


A = {"EcrRepositoryPrefix": "a", "UpstreamRegistryUrl": "public.ecr.aws"}
B = {"EcrRepositoryPrefix": "b", "UpstreamRegistryUrl": "public.ecr.aws"}
A_QUAY = {**A, "UpstreamRegistryUrl": "quay.io"}


# -- the requests of each phase --------------------------------------------------------------


def test_a_failed_create_is_rolled_back_with_the_id_its_answer_carried(receiver: Receiver) -> None:
    def answer(event: dict[str, Any]) -> dict[str, Any] | None:
        if event["RequestType"] == "Create" and event["LogicalResourceId"] == "Second":
            return {"Status": FAILED, "PhysicalResourceId": "failed-id", "Reason": "no"}
        return prefix_ids(event)

    stack, lambda_, ledger = stack_with(receiver, answer)

    assert stack.create({"First": A, "Second": B}) == "ROLLBACK_COMPLETE"
    assert lambda_.seen() == [
        ("Create", "First", None, "a", None),
        ("Create", "Second", None, "b", None),
        ("Delete", "Second", "failed-id", "b", None),
        ("Delete", "First", "a", "a", None),
    ]
    assert stack.resources == {}
    assert ledger.violations == []


def test_a_create_that_never_answers_is_rolled_back_with_an_id_cloudformation_made_up(
    receiver: Receiver,
) -> None:
    stack, lambda_, _ = stack_with(
        receiver, lambda e: None if e["RequestType"] == "Create" else prefix_ids(e)
    )

    assert stack.create({"Cache": A}) == "ROLLBACK_COMPLETE"
    delete = lambda_.events[1]
    assert delete["RequestType"] == "Delete"
    assert delete["PhysicalResourceId"].startswith("sim-stack-Cache-")
    assert stack.operation[0].taken is None


def test_a_replacement_is_cleaned_up_with_the_old_id_and_old_properties(receiver: Receiver) -> None:
    stack, lambda_, _ = stack_with(receiver, prefix_ids)
    stack.create({"Cache": A})

    assert stack.update({"Cache": B}) == "UPDATE_COMPLETE"
    assert lambda_.seen()[1:] == [("Update", "Cache", "a", "b", "a"), ("Delete", "Cache", "a", "a", None)]
    assert [i.phase for i in stack.operation] == [FORWARD, CLEANUP]
    assert stack.resources["Cache"].physical_id == "b"


def test_a_failed_update_is_rolled_back_to_the_old_properties_with_the_id_on_record(
    receiver: Receiver,
) -> None:
    def answer(event: dict[str, Any]) -> dict[str, Any] | None:
        if event["ResourceProperties"]["EcrRepositoryPrefix"] == "b":
            return {"Status": FAILED, "PhysicalResourceId": event["PhysicalResourceId"], "Reason": "no"}
        return prefix_ids(event)

    stack, lambda_, _ = stack_with(receiver, answer)
    stack.create({"Cache": A})

    assert stack.update({"Cache": B}) == "UPDATE_ROLLBACK_COMPLETE"
    assert lambda_.seen()[1:] == [("Update", "Cache", "a", "b", "a"), ("Update", "Cache", "a", "a", "b")]
    assert [i.phase for i in stack.operation] == [FORWARD, ROLLBACK]


def test_a_failed_update_that_answered_another_id_is_rolled_back_with_it_then_it_is_deleted(
    receiver: Receiver,
) -> None:
    """CloudFormation records the id even of a FAILED Update (aws/aws-cdk#13527, #30012): the
    rollback sends it, and the cleanup deletes it once the rollback answered another."""

    def answer(event: dict[str, Any]) -> dict[str, Any] | None:
        if event["RequestType"] == "Update" and event["ResourceProperties"]["EcrRepositoryPrefix"] == "b":
            return {"Status": FAILED, "PhysicalResourceId": "b-maybe", "Reason": "no"}
        return prefix_ids(event)

    stack, lambda_, _ = stack_with(receiver, answer)
    stack.create({"Cache": A})

    assert stack.update({"Cache": B}) == "UPDATE_ROLLBACK_COMPLETE"
    assert lambda_.seen()[1:] == [
        ("Update", "Cache", "a", "b", "a"),
        ("Update", "Cache", "b-maybe", "a", "b"),
        ("Delete", "Cache", "b-maybe", "b", None),
    ]
    assert stack.resources["Cache"].physical_id == "a"


def test_an_answer_still_on_its_way_when_the_function_returns_does_not_count_and_is_reported(
    receiver: Receiver,
) -> None:
    """Lambda freezes the environment as soon as the function returns: a PUT another thread makes
    after that moment is a violation, and CloudFormation acts as if it never came."""
    late: list[threading.Thread] = []

    class ReturnsEarly(ScriptedLambda):
        def invoke(self, event: dict[str, Any], context: LambdaContext) -> int:
            self.events.append(event)
            body = {
                "StackId": event["StackId"],
                "RequestId": event["RequestId"],
                "LogicalResourceId": event["LogicalResourceId"],
                "Status": SUCCESS,
                "PhysicalResourceId": event["ResourceProperties"]["EcrRepositoryPrefix"],
            }
            late.append(threading.Thread(target=put, args=(event["ResponseURL"], json.dumps(body).encode())))
            return context.get_remaining_time_in_millis()

    class JoinAfterReturn(Hooks):
        def after(self, index: int, delivery: int) -> None:
            for thread in late:
                thread.start()
                thread.join()
            late.clear()

    ledger = Ledger()
    stack = Stack(ReturnsEarly(prefix_ids), receiver, ledger, hooks=JoinAfterReturn())

    stack.create({"Cache": A})

    assert stack.history[0].taken is None  # CloudFormation heard nothing
    assert any("still on the way" in v for v in ledger.violations)


def test_a_replacement_then_a_failure_elsewhere_rolls_back_with_the_new_id_then_cleans_it_up(
    receiver: Receiver,
) -> None:
    stack, lambda_, _ = stack_with(receiver, prefix_ids)
    stack.create({"Cache": A, "Later": Sibling()})

    status = stack.update({"Cache": B, "Later": Sibling(fail_on=frozenset({"Update"}), revision=1)})

    assert status == "UPDATE_ROLLBACK_COMPLETE"
    assert lambda_.seen()[1:] == [
        ("Update", "Cache", "a", "b", "a"),
        ("Update", "Cache", "b", "a", "b"),  # back to the old properties, with the NEW id
        ("Delete", "Cache", "b", "b", None),  # the id no longer on record
    ]
    assert [i.phase for i in stack.operation] == [FORWARD, ROLLBACK, CLEANUP]
    assert stack.resources["Cache"].physical_id == "a"


def test_a_renamed_logical_id_is_created_then_the_old_one_deleted(receiver: Receiver) -> None:
    stack, lambda_, _ = stack_with(receiver, prefix_ids)
    stack.create({"Old": A})

    assert stack.update({"New": B}) == "UPDATE_COMPLETE"
    assert lambda_.seen()[1:] == [("Create", "New", None, "b", None), ("Delete", "Old", "a", "a", None)]
    assert list(stack.resources) == ["New"]


def test_a_failed_delete_leaves_the_stack_delete_failed_with_the_resource_on_record(
    receiver: Receiver,
) -> None:
    def answer(event: dict[str, Any]) -> dict[str, Any] | None:
        if event["RequestType"] == "Delete":
            return {"Status": FAILED, "PhysicalResourceId": event["PhysicalResourceId"], "Reason": "no"}
        return prefix_ids(event)

    stack, _, _ = stack_with(receiver, answer)
    stack.create({"Cache": A})

    assert stack.delete() == "DELETE_FAILED"
    assert stack.resources["Cache"].physical_id == "a"


def test_a_request_delivered_twice_is_acted_on_by_its_first_answer(receiver: Receiver) -> None:
    class Twice(Hooks):
        def deliveries(self, index: int) -> int:
            return 2

    answers = iter(["first", "second"])
    stack, _, ledger = stack_with(
        receiver, lambda e: {"Status": SUCCESS, "PhysicalResourceId": next(answers)}
    )
    stack.hooks = Twice()

    stack.create({"Cache": A})

    assert stack.resources["Cache"].physical_id == "first"
    assert len(stack.operation[0].deliveries) == 2
    assert ledger.violations == []


# -- the protocol checks ---------------------------------------------------------------------

EVENT = {**request("Create", A), "RequestId": "r-1"}
GOOD = {
    "Status": SUCCESS,
    "PhysicalResourceId": "a",
    "StackId": EVENT["StackId"],
    "RequestId": "r-1",
    "LogicalResourceId": "Cache",
    "Data": {"Arn": "x"},
}


def body(**changes: Any) -> bytes:
    return json.dumps({**GOOD, **changes}).encode()


def test_a_valid_answer_passes() -> None:
    assert answer_problems(EVENT, body(), {"Content-Type": ""}) == []


@pytest.mark.parametrize(
    ("raw", "headers", "problem"),
    [
        (body(Status="OK"), {}, "Status"),
        (body(PhysicalResourceId=""), {}, "non-empty"),
        (body(PhysicalResourceId="x" * 1025), {}, "at most 1024"),
        (body(RequestId="other"), {}, "RequestId"),
        (body(StackId="other"), {}, "StackId"),
        (body(LogicalResourceId="Other"), {}, "LogicalResourceId"),
        (body(Status=FAILED), {}, "no Reason"),
        (body(Data={"n": 1}), {}, "strings"),
        (body(Reason="x" * 4096), {}, "under 4096"),
        (b"not json", {}, "not JSON"),
        (body(), {"Content-Type": "application/json"}, "Content-Type"),
    ],
)
def test_each_protocol_rule_is_checked(raw: bytes, headers: dict[str, str], problem: str) -> None:
    assert any(problem in p for p in answer_problems(EVENT, raw, headers))


def test_one_put_per_delivery_unless_s3_refused_it() -> None:
    ok = {"raw": body(), "headers": {}, "status": 200}
    refused = {**ok, "status": 500}
    assert protocol_problems(EVENT, [ok]) == []
    assert protocol_problems(EVENT, [refused, refused, ok]) == []
    assert protocol_problems(EVENT, []) == ["no answer was PUT"]
    assert "again after S3 had stored" in protocol_problems(EVENT, [ok, ok])[0]
    assert "bounded" in protocol_problems(EVENT, [refused] * 6)[0]
    assert "different answers" in protocol_problems(EVENT, [refused, {**ok, "raw": body(Data={})}])[0]


# -- the invariants --------------------------------------------------------------------------


def registry_of(rules: dict[str, dict[str, Any]]) -> Registry:
    return Registry(client=None, rules=lambda: rules, calls=list)


def settled_stack(receiver: Receiver, resources: dict[str, Any]) -> Stack:
    stack, _, _ = stack_with(receiver, prefix_ids)
    stack.create(resources)
    return stack


def test_an_orphan_a_touched_foreign_rule_and_a_wrong_rule_are_violations(receiver: Receiver) -> None:
    stack = settled_stack(receiver, {"Cache": A})
    rules = {"other": {"upstreamRegistryUrl": "quay.io"}}
    ledger = Ledger()
    invariants = Invariants(ledger, registry_of(rules))
    invariants.note_foreign()

    rules["a"] = {"upstreamRegistryUrl": "public.ecr.aws"}
    invariants.check(stack, "fine")
    assert ledger.violations == []

    rules["a"] = {"upstreamRegistryUrl": "quay.io"}
    rules["orphan"] = {"upstreamRegistryUrl": "quay.io"}
    rules["other"] = {"upstreamRegistryUrl": "k8s.io"}
    invariants.check(stack, "broken")
    assert len(ledger.violations) == 3
    assert "upstreamRegistryUrl is 'quay.io', the template asks 'public.ecr.aws'" in ledger.violations[0]
    assert "'orphan'" in ledger.violations[1] and "an orphan" in ledger.violations[1]
    assert "'other' was not the stack's and was touched" in ledger.violations[2]


def test_taking_over_a_foreign_rule_without_adopt_existing_is_a_violation(receiver: Receiver) -> None:
    rules = {"a": {"upstreamRegistryUrl": "public.ecr.aws"}}
    ledger = Ledger()
    invariants = Invariants(ledger, registry_of(rules))
    invariants.note_foreign()

    invariants.check(settled_stack(receiver, {"Cache": A}), "after")

    assert ledger.violations and "without AdoptExisting" in ledger.violations[0]


def test_the_matrix_catches_an_orphan_when_the_fix_for_it_is_undone(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Mutation check: without the undo of an undelivered answer, the simulator reports the
    orphaned rule (the bug it found)."""
    from handler.answers import NOT_STORED
    from handler.dispatch import Request

    undo = Request.undo_unowned
    monkeypatch.setattr(
        Request, "undo_unowned", lambda self, because: None if because == NOT_STORED else undo(self, because)
    )
    create = next(p for p in PATHS if p.name == "create")

    run(lab, create, AnswerLost(0, "refused"))

    assert any("an orphan" in v and "'ecr-public'" in v for v in lab.ledger.violations)


def test_an_answer_s3_acknowledges_late_because_the_machine_is_busy_is_one_answer(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a loaded machine the receiver on 127.0.0.1 may answer a PUT late without any fault
    asking it to: the provider's PUT waits its own 5 s for that, so nothing is sent twice (a
    0.3 s wait once made CI report a second answer that only the load had caused)."""
    import http.server

    respond = http.server.BaseHTTPRequestHandler.send_response

    def busy(handler: http.server.BaseHTTPRequestHandler, code: int, message: str | None = None) -> None:
        threading.Event().wait(0.5)  # the receiver's thread is not scheduled for half a second
        respond(handler, code, message)

    monkeypatch.setattr(http.server.BaseHTTPRequestHandler, "send_response", busy)

    result = run(lab, by_name("create"))

    assert lab.ledger.violations == []
    assert {len(d.puts) for i in result.stack.history for d in i.deliveries} == {1}


def test_a_run_that_departs_from_its_plan_is_reported(lab: Lab) -> None:
    create = next(p for p in PATHS if p.name == "create")
    wrong = dataclasses.replace(create, plan=(Step(FORWARD, "Create Cache", ("Create", "Describe")),))

    run(lab, wrong)

    assert any("not the plan" in v for v in lab.ledger.violations)


@pytest.mark.parametrize("path", PATHS, ids=[p.name for p in PATHS])
def test_every_template_is_valid_input(lab: Lab, path: Path) -> None:
    """A scenario must fail only for the fault it injects, never for a typo in its template."""
    for template in (path.before or {}, path.template):
        for definition in lab.resolve(template).values():
            if not isinstance(definition, Sibling):
                parse(definition)


# -- each class of fault the simulator learned is shown to catch the defect it stands for -------


def by_name(name: str) -> Path:
    return next(p for p in PATHS if p.name == name)


def test_without_reading_back_a_lost_create_response_the_simulator_reports_it(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handler import ecr

    monkeypatch.setattr(ecr, "made_within", lambda *args: False)  # never recognise its own rule

    run(lab, by_name("create"), LostResponse(1, "timeout"))

    assert lab.ledger.violations  # the Create fails, blaming the rule it made itself


def test_without_the_stacks_status_a_take_over_by_update_is_reported(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handler.stacks import StackRecord

    monkeypatch.setattr(StackRecord, "rolling_back", lambda self: True)  # always "a rollback"

    run(lab, by_name("new-prefix"), ForeignRule(("ecr-public-2",), identical=True))

    assert any("without AdoptExisting" in v for v in lab.ledger.violations)


def test_a_timeout_answer_that_names_nothing_orphans_a_rule_when_the_process_dies_and_is_reported(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As crhelper answers (and this provider did): the timeout answer carries an id no rollback
    can act on, and the undo planned on the request's thread never runs."""
    from handler.answers import Answers

    monkeypatch.setattr(Answers, "working", lambda self, turn, request: None)

    run(lab, by_name("create"), KilledAtDeadline(0, "landed", 1))

    assert any("an orphan" in v for v in lab.ledger.violations)


def test_a_function_that_returns_before_its_timeout_answer_was_delivered_is_reported(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handler.answers import Answers

    finish = Answers.finish

    def no_wait(self: Any, turn: Any, event: Any) -> None:
        turn.delivered.set()  # as if the delivery were over: the function returns at once
        finish(self, turn, event)

    monkeypatch.setattr(Answers, "finish", no_wait)

    run(lab, by_name("create"), FrozenAtReturn(0, "landed", 1))

    assert any("still on the way" in v for v in lab.ledger.violations)


def test_a_stale_timeout_that_answers_the_next_request_is_reported(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handler.answers import Answers

    timeout = Answers._timeout

    def any_turn(self: Any, turn: Any) -> None:  # the old bug: the timeout answers whatever runs now
        timeout(self, self.current)

    monkeypatch.setattr(Answers, "_timeout", any_turn)

    run(lab, by_name("in-place"), StaleTimeout(0))

    assert lab.ledger.violations


def test_attempts_not_bounded_by_the_time_left_are_killed_with_the_lambda_and_reported(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 10 s Lambda, ECR hung: an attempt of 2 + 6 s, then the read that settles it, is still
    running when Lambda stops the process."""
    monkeypatch.setattr(lab.provider.retry_policy, "attempt_timeouts", lambda left, write: (2.0, 6.0))
    lab.function_timeout_s = 10

    run(lab, by_name("create"), HungEcr(0, 1))

    assert lab.lambda_.killed
    assert any("no answer was PUT" in v for v in lab.ledger.violations)


def test_an_answer_refused_with_403_taken_as_stored_is_reported(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    from handler import response

    def put_as_before(url: str, body: bytes, left: Any) -> Any:  # 403 was taken as delivered
        response.put(url, body, left, timeout_s=0.3)
        return response.Delivery.STORED

    monkeypatch.setattr(lab.provider.answers, "send", put_as_before)

    run(lab, by_name("create"), AnswerLost(0, "403"))

    assert any("an orphan" in v for v in lab.ledger.violations)
