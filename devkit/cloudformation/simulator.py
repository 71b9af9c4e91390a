"""A small model of CloudFormation driving a custom resource.

A `Stack` keeps CloudFormation's record of its resources (logical id -> physical id and
properties) and runs the stack operations the way CloudFormation does, sending the provider the
requests each phase calls for:

- create: Create for every resource; when one fails, the rollback Deletes every resource
  created so far *and* the failed one, with the id its FAILED answer carried;
- update: Create for new logical ids, Update for changed ones; when all succeed, the cleanup
  Deletes the old id of every replaced resource (with its old properties) and every resource
  the template no longer has. When one fails, the rollback sends each updated resource an
  Update back to its old properties with the id now on record (the NEW id after a replacement,
  and the id a FAILED Update answered: CloudFormation records it, aws/aws-cdk#13527 and #30012),
  Deletes what the update created, then cleans up every id no longer on record;
- delete: Delete for every resource; a FAILED Delete leaves the stack DELETE_FAILED and the
  resource on record.

Each request goes to a `Lambda` (the real handler, in this process or in separate containers)
with a fresh ResponseURL on the real HTTP `Receiver`. CloudFormation acts on the first answer
S3 stored (a PUT answered 2xx). When none arrives it waits out ServiceTimeout and treats the
request as FAILED; for a Create that leaves it no id, so it makes one up (`generated_id`).
Lambda freezes the environment as soon as the function returns: only what S3 had stored by
then counts, and an answer PUT or ECR call that arrives later (work left on another thread) is
a violation (the environment may be retired before it ever thaws).

Every delivery's PUTs are checked against the protocol (`protocol_problems`), and each
violation is written to the `Ledger` rather than raised, so a scenario runs to its end and
reports everything it found. Other resources of the stack are `Sibling`s: they need no provider
and fail when told to, which models "another resource in the stack failed".
"""

from __future__ import annotations

import copy
import json
import random
import string
import threading
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from devkit.aws_lambda.context import ACCOUNT, REGION, LambdaContext, LambdaKilled
from devkit.cloudformation.events import request
from devkit.cloudformation.receiver import Receiver

if TYPE_CHECKING:
    from handler.provider import Provider

SUCCESS, FAILED = "SUCCESS", "FAILED"
MAX_BODY_BYTES = 4096  # the whole body must stay under this
MAX_ID_BYTES = 1024
MAX_PUTS = 5  # retries of an answer that S3 refused must be bounded; this is the bound we accept
FORWARD, ROLLBACK, CLEANUP = "forward", "rollback", "cleanup"
# Stack states after which the record must match the registry exactly.
SETTLED = frozenset(
    {
        "CREATE_COMPLETE",
        "ROLLBACK_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "DELETE_COMPLETE",
        "DELETE_FAILED",
    }
)

Properties = dict[str, str]


@dataclass(frozen=True)
class Sibling:
    """Another resource of the stack, not served by the provider. It fails the request types
    named in `fail_on` ("Create", "Update", "Delete"); change `revision` to make CloudFormation
    update it."""

    fail_on: frozenset[str] = frozenset()
    revision: int = 0


Definition = Properties | Sibling
Template = dict[str, Definition]


@dataclass(frozen=True)
class Record:
    """What CloudFormation holds for one resource."""

    physical_id: str
    definition: Definition


class Ledger:
    """Counts every check made and keeps every violation found (thread-safe)."""

    def __init__(self) -> None:
        self.checks = 0
        self.violations: list[str] = []
        self._lock = threading.Lock()

    def check(self, ok: bool, violation: str) -> bool:
        with self._lock:
            self.checks += 1
            if not ok:
                self.violations.append(violation)
        return ok


class Lambda(Protocol):
    """Runs the provider for one delivery of a request."""

    def invoke(self, event: dict[str, Any], context: LambdaContext) -> int:
        """Run the handler until it returns; return the context's remaining ms at that point."""
        ...


class InProcessLambda:
    """`handler.app.lambda_handler` (crhelper included) in this process: one warm container, the
    provider `start` builds, serving one invocation at a time. When the invocation is stopped at
    its deadline (LambdaKilled), the container is gone: the next invocation starts a new one (no
    armed watchdog, no remembered answer, no request in progress)."""

    def __init__(self, start: Callable[[], Provider]) -> None:
        self.killed = 0
        self._start = start
        self.provider = start()

    def invoke(self, event: dict[str, Any], context: LambdaContext) -> int:
        from handler import app  # after the caller set up Region and emulator

        app.provider = self.provider
        try:
            app.lambda_handler(event, context)
        except LambdaKilled:
            self.killed += 1
            self.new_container()
            return 0
        return int(context.get_remaining_time_in_millis())

    def new_container(self) -> None:
        """The next invocation goes to a new container (this one is gone)."""
        self.provider.answers.watchdog.cancel()
        self.provider = self._start()


class Hooks:
    """Where a fault steps in. `index` numbers the requests of the current stack operation
    from 0; `delivery` numbers the deliveries of one request from 1. The defaults change nothing."""

    def phase(self, phase: str) -> None:
        """CloudFormation enters `phase` (FORWARD, ROLLBACK or CLEANUP) of the operation."""

    def response_url(self, index: int, url: str) -> str:
        return url

    def context(self, index: int, context: LambdaContext) -> LambdaContext:
        return context

    def deliveries(self, index: int) -> int:
        """How many times Lambda delivers the request (2: an async retry of the same event)."""
        return 1

    def before(self, index: int, delivery: int) -> None:
        """Just before a delivery runs."""

    def after(self, index: int, delivery: int) -> None:
        """Just after a delivery returned (a fault lets go of what it held back)."""

    def stops(self, index: int) -> bool:
        """Whether the fault stops request `index`'s process at its deadline on purpose (a call
        that outlives the time left): then its delivery returning past the deadline is no fault
        of the provider's."""
        return False


@dataclass
class Delivery:
    """One run of the handler for a request, and the PUTs it made."""

    puts: list[dict[str, Any]]
    ecr_calls: list[str]
    remaining_ms: int


@dataclass
class Invocation:
    """One request CloudFormation sent, every delivery of it, and the answer it acted on."""

    phase: str
    event: dict[str, Any]
    deliveries: list[Delivery] = field(default_factory=list)
    taken: dict[str, Any] | None = None  # the answer CloudFormation acted on; None: none arrived

    @property
    def request(self) -> str:
        return f"{self.event['RequestType']} {self.event['LogicalResourceId']}"

    @property
    def status(self) -> str:
        return str(self.taken["Status"]) if self.taken else "NO ANSWER"

    @property
    def ecr_calls(self) -> list[str]:
        return [call for delivery in self.deliveries for call in delivery.ecr_calls]

    def __str__(self) -> str:
        answer = f"{self.status} {self.taken['PhysicalResourceId']}" if self.taken else self.status
        return f"[{self.phase}] {self.request} -> {answer} {self.ecr_calls}"


def answer_problems(event: dict[str, Any], raw: bytes, headers: dict[str, Any] | None = None) -> list[str]:
    """What is wrong with one PUT body (and its headers) by the custom-resource protocol."""
    problems = []
    if len(raw) >= MAX_BODY_BYTES:
        problems.append(f"the body is {len(raw)} bytes; it must be under {MAX_BODY_BYTES}")
    content_type = (headers or {}).get("Content-Type", "")
    if content_type:  # the presigned URL is signed without one: S3 would refuse the PUT
        problems.append(f"Content-Type is {content_type!r}; a presigned S3 PUT needs it empty")
    try:
        answer = json.loads(raw)
    except ValueError:
        return [*problems, "the body is not JSON"]
    if not isinstance(answer, dict):
        return [*problems, "the body is not a JSON object"]
    status = answer.get("Status")
    if status not in (SUCCESS, FAILED):
        problems.append(f"Status is {status!r}")
    physical_id = answer.get("PhysicalResourceId")
    if not isinstance(physical_id, str) or not physical_id:
        problems.append(f"PhysicalResourceId is {physical_id!r}; it must be a non-empty string")
    elif len(physical_id.encode()) > MAX_ID_BYTES:
        problems.append(f"PhysicalResourceId is {len(physical_id.encode())} bytes; at most {MAX_ID_BYTES}")
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        if answer.get(key) != event.get(key):
            problems.append(f"{key} is {answer.get(key)!r}, not the request's {event.get(key)!r}")
    reason = answer.get("Reason")
    if status == FAILED and not (isinstance(reason, str) and reason.strip()):
        problems.append("a FAILED answer has no Reason")
    data = answer.get("Data")
    if data is not None and (
        not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values())
    ):
        problems.append(f"Data must map names to strings: {data!r}")
    return problems


def protocol_problems(event: dict[str, Any], puts: list[dict[str, Any]]) -> list[str]:
    """What is wrong with the PUTs one delivery made: exactly one, unless S3 answered 5xx or
    not at all, then a bounded number of retries of the same body; each body valid."""
    if not puts:
        return ["no answer was PUT"]
    problems = []
    # acknowledged: S3 answered below 500 and the provider saw it (a stalled PUT was stored but
    # its response never came: the provider may PUT the same body again)
    delivered = [n for n, put in enumerate(puts) if put.get("status", 200) < 500 and not put.get("stalled")]
    if delivered and delivered[0] != len(puts) - 1:
        problems.append(f"{len(puts)} PUTs: it answered again after S3 had stored the answer")
    if len(puts) > MAX_PUTS:
        problems.append(f"{len(puts)} PUTs: retries must be bounded (at most {MAX_PUTS})")
    if len({put["raw"] for put in puts}) > 1:
        problems.append("the retried PUTs carry different answers")
    for put in puts[:1]:
        problems += answer_problems(event, put["raw"], put.get("headers"))
    return problems


def generated_id(stack_name: str, logical_id: str) -> str:
    """The id CloudFormation makes up for a resource that never answered its Create."""
    suffix = "".join(random.choices(string.ascii_uppercase + string.digits, k=12))
    return f"{stack_name}-{logical_id}-{suffix}"


class Stack:
    """One stack: its template, CloudFormation's record of its resources, and its operations.

    `ecr_log` (optional) returns the ECR operations received so far; with it each delivery
    records the calls it made (only meaningful when deliveries do not run concurrently).
    `parallelism` > 1 sends independent requests concurrently, as CloudFormation does.
    """

    def __init__(
        self,
        lambda_: Lambda,
        receiver: Receiver,
        ledger: Ledger,
        *,
        name: str = "sim-stack",
        hooks: Hooks | None = None,
        ecr_log: Callable[[], list[str]] | None = None,
        parallelism: int = 1,
        function_timeout_s: float = 120.0,  # the provider's Timeout in template.yaml
        new_context: Callable[[float], LambdaContext] = LambdaContext,
        publish: Callable[[Stack], None] | None = None,
    ) -> None:
        self.name = name
        self.stack_id = f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/{name}/{uuid.uuid4()}"
        self.lambda_ = lambda_
        self.receiver = receiver
        self.ledger = ledger
        self.hooks = hooks or Hooks()
        self.ecr_log = ecr_log
        self.parallelism = parallelism
        self.function_timeout_s = function_timeout_s
        self.new_context = new_context
        self.publish = publish  # CloudFormation's record, as its API shows it (DescribeStacks ...)
        self.status = "NONE"
        self.resources: dict[str, Record] = {}
        self.history: list[Invocation] = []  # every request of every operation
        self.operation: list[Invocation] = []  # the requests of the last operation
        self.left_behind: list[Record] = []  # cleanup Deletes that failed (CloudFormation goes on)
        self._index = 0
        self._lock = threading.Lock()

    # -- the stack operations ---------------------------------------------------------------

    def create(self, template: Template) -> str:
        """CreateStack; on failure, the rollback deletes what was created."""
        self._begin("CREATE_IN_PROGRESS")
        attempted: list[tuple[str, Record]] = []  # (logical id, record), the failed one included

        def create(logical_id: str) -> bool:
            ok, physical_id = self._create(logical_id, template[logical_id])
            with self._lock:
                attempted.append((logical_id, Record(physical_id, template[logical_id])))
                if ok:
                    self.resources[logical_id] = Record(physical_id, template[logical_id])
            return ok

        if self._run([partial(create, lid) for lid in template]):
            return self._end("CREATE_COMPLETE")
        self._enter(ROLLBACK, "ROLLBACK_IN_PROGRESS")
        if not self._run([partial(self._delete_in_rollback, *a) for a in reversed(attempted)]):
            return self._end("ROLLBACK_FAILED")
        return self._end("ROLLBACK_COMPLETE")

    def update(self, template: Template) -> str:
        """UpdateStack: forward, then cleanup; or rollback, then its cleanup."""
        self._begin("UPDATE_IN_PROGRESS")
        before = dict(self.resources)
        # (logical id, record before or None for a new resource, the definition asked)
        attempted: list[tuple[str, Record | None, Definition]] = []

        def apply(logical_id: str) -> bool:
            old = before.get(logical_id)
            definition = template[logical_id]
            with self._lock:
                attempted.append((logical_id, old, definition))
            if old is None:
                ok, physical_id = self._create(logical_id, definition)
            else:
                ok, physical_id = self._update(FORWARD, logical_id, old, definition)
            with self._lock:
                if ok or old is None:  # a failed Create: the id its rollback Delete names
                    self.resources[logical_id] = Record(physical_id, definition)
                elif physical_id != old.physical_id:  # a failed Update's own id: its rollback's
                    self.resources[logical_id] = Record(physical_id, old.definition)
            return ok

        changed = [lid for lid in template if lid not in before or before[lid].definition != template[lid]]
        if self._run([partial(apply, lid) for lid in changed]):
            self._enter(CLEANUP, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            replaced = [
                (lid, old)
                for lid, old, _ in attempted
                if old is not None and self.resources[lid].physical_id != old.physical_id
            ]
            removed = [(lid, self.resources.pop(lid)) for lid in before if lid not in template]
            self._run([partial(self._cleanup, *r) for r in replaced + removed], stop_on_failure=False)
            return self._end("UPDATE_COMPLETE")

        self._enter(ROLLBACK, "UPDATE_ROLLBACK_IN_PROGRESS")
        stale: list[tuple[str, Record]] = []  # ids the rollback took off the record

        def roll_back(logical_id: str, old: Record | None, asked: Definition) -> bool:
            current = self.resources[logical_id]
            if old is None:  # created by this update: delete it, failed or not
                return self._delete_in_rollback(logical_id, current)
            ok, physical_id = self._update(ROLLBACK, logical_id, current, old.definition, asked)
            if not ok:
                return False
            with self._lock:
                if physical_id != current.physical_id:
                    stale.append((logical_id, Record(current.physical_id, asked)))
                self.resources[logical_id] = Record(physical_id, old.definition)
            return True

        if not self._run([partial(roll_back, *a) for a in reversed(attempted)]):
            return self._end("UPDATE_ROLLBACK_FAILED")
        self._enter(CLEANUP, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        self._run([partial(self._cleanup, *r) for r in stale], stop_on_failure=False)
        return self._end("UPDATE_ROLLBACK_COMPLETE")

    def delete(self) -> str:
        """DeleteStack: every resource; those whose Delete fails stay on record."""
        self._begin("DELETE_IN_PROGRESS")

        def delete(logical_id: str) -> bool:
            ok = self._delete(FORWARD, logical_id, self.resources[logical_id])
            if ok:
                with self._lock:
                    del self.resources[logical_id]
            return ok

        ok = self._run([partial(delete, lid) for lid in reversed(list(self.resources))], False)
        return self._end("DELETE_COMPLETE" if ok else "DELETE_FAILED")

    @property
    def template(self) -> Template:
        return {lid: record.definition for lid, record in self.resources.items()}

    # -- one resource -----------------------------------------------------------------------

    def _create(self, logical_id: str, definition: Definition) -> tuple[bool, str]:
        if isinstance(definition, Sibling):
            return "Create" not in definition.fail_on, f"{self.name}-{logical_id}-sibling"
        invocation = self._send(FORWARD, "Create", logical_id, definition)
        if invocation.taken is None:
            return False, generated_id(self.name, logical_id)
        return invocation.taken["Status"] == SUCCESS, str(invocation.taken["PhysicalResourceId"])

    def _update(
        self,
        phase: str,
        logical_id: str,
        current: Record,
        definition: Definition,
        old_definition: Definition | None = None,
    ) -> tuple[bool, str]:
        old_definition = current.definition if old_definition is None else old_definition
        if isinstance(definition, Sibling):
            fails = phase == FORWARD and "Update" in definition.fail_on
            return not fails, current.physical_id
        assert not isinstance(old_definition, Sibling)
        invocation = self._send(phase, "Update", logical_id, definition, current.physical_id, old_definition)
        if invocation.taken is None:
            return False, current.physical_id
        # CloudFormation records the id even of a FAILED answer (the rollback then sends it)
        return invocation.taken["Status"] == SUCCESS, str(invocation.taken["PhysicalResourceId"])

    def _delete(self, phase: str, logical_id: str, record: Record) -> bool:
        if isinstance(record.definition, Sibling):
            return phase != FORWARD or "Delete" not in record.definition.fail_on
        invocation = self._send(phase, "Delete", logical_id, record.definition, record.physical_id)
        return invocation.taken is not None and invocation.taken["Status"] == SUCCESS

    def _delete_in_rollback(self, logical_id: str, record: Record) -> bool:
        ok = self._delete(ROLLBACK, logical_id, record)
        if ok:
            with self._lock:
                self.resources.pop(logical_id, None)
        return ok

    def _cleanup(self, logical_id: str, record: Record) -> bool:
        """A cleanup Delete: CloudFormation carries on when it fails (the resource is left)."""
        if not self._delete(CLEANUP, logical_id, record):
            with self._lock:
                self.left_behind.append(record)
        return True

    # -- one request ------------------------------------------------------------------------

    def _send(
        self,
        phase: str,
        request_type: str,
        logical_id: str,
        properties: Properties,
        physical_id: str | None = None,
        old_properties: Properties | None = None,
    ) -> Invocation:
        with self._lock:
            index = self._index
            self._index += 1
        self._publish()
        event = request(request_type, properties, physical_id, old_properties, logical_id=logical_id)
        event["StackId"] = self.stack_id
        url = self.hooks.response_url(index, self.receiver.url())
        event["ResponseURL"] = url
        invocation = Invocation(phase, event)
        with self._lock:
            self.history.append(invocation)
            self.operation.append(invocation)
        for delivery in range(1, self.hooks.deliveries(index) + 1):
            self.hooks.before(index, delivery)
            calls_before = len(self.ecr_log()) if self.ecr_log else 0
            puts_before = len(self._puts(url))
            context = self.hooks.context(index, self.new_context(self.function_timeout_s))
            remaining_ms = self.lambda_.invoke(copy.deepcopy(event), context)
            # Lambda freezes the environment now: what is not done yet does not count
            calls = self.ecr_log()[calls_before:] if self.ecr_log else []
            puts = self._puts(url)[puts_before:]
            self.hooks.after(index, delivery)
            late_puts = self._puts(url)[puts_before + len(puts) :]
            late_calls = self.ecr_log()[calls_before + len(calls) :] if self.ecr_log else []
            invocation.deliveries.append(Delivery(puts, calls, remaining_ms))
            self._check(invocation, delivery, puts, remaining_ms, url, index)
            where = f"{self.name}: {invocation.phase} {invocation.request} (delivery {delivery})"
            self.ledger.check(
                not late_puts,
                f"{where}: the function returned with {len(late_puts)} answer PUT(s) still on the way; "
                "Lambda freezes the environment then, and CloudFormation never gets them",
            )
            self.ledger.check(
                not late_calls,
                f"{where}: ECR calls {late_calls} ran on after the function returned (frozen in Lambda)",
            )
        invocation.taken = self._taken(invocation)
        return invocation

    def _puts(self, url: str) -> list[dict[str, Any]]:
        if not url.startswith(f"http://127.0.0.1:{self.receiver.port}/"):
            return []  # not the receiver's: nothing can arrive (a refusing URL)
        return self.receiver.raw(url)

    @staticmethod
    def _taken(invocation: Invocation) -> dict[str, Any] | None:
        """The answer S3 stored first before a function returned (CloudFormation acts on it);
        None when none was stored."""
        for put in (put for delivery in invocation.deliveries for put in delivery.puts):
            if 200 <= put.get("status", 200) < 300:
                answer: dict[str, Any] = json.loads(put["raw"])
                return answer
        return None

    def _check(
        self,
        invocation: Invocation,
        delivery: int,
        puts: list[dict[str, Any]],
        remaining_ms: int,
        url: str,
        index: int,
    ) -> None:
        where = f"{self.name}: {invocation.phase} {invocation.request} (delivery {delivery})"
        self.ledger.check(
            remaining_ms > 0 or self.hooks.stops(index),
            f"{where}: the handler returned past the Lambda's deadline",
        )
        if not url.startswith(f"http://127.0.0.1:{self.receiver.port}/"):
            return  # the URL refused every connection: no PUT can be observed
        problems = protocol_problems(invocation.event, puts)
        self.ledger.check(not problems, f"{where}: {'; '.join(problems)}")

    # -- bookkeeping ------------------------------------------------------------------------

    def _begin(self, status: str) -> None:
        with self._lock:
            self._index = 0
            self.operation = []
        self._enter(FORWARD, status)

    def _enter(self, phase: str, status: str) -> None:
        self.status = status
        self._publish()
        self.hooks.phase(phase)

    def _end(self, status: str) -> str:
        self.status = status
        self._publish()
        return status

    def _publish(self) -> None:
        if self.publish is not None:
            self.publish(self)

    def _run(self, jobs: Iterable[Callable[[], bool]], stop_on_failure: bool = True) -> bool:
        """Run the jobs (each one resource's request), `parallelism` at a time. After a failure
        CloudFormation starts no new one (those in flight finish). True when all succeeded."""
        jobs = list(jobs)
        if self.parallelism <= 1:
            ok = True
            for job in jobs:
                if not job():
                    ok = False
                    if stop_on_failure:
                        break
            return ok
        failed = threading.Event()

        def run(job: Callable[[], bool]) -> None:
            if failed.is_set() and stop_on_failure:
                return
            if not job():
                failed.set()

        with ThreadPoolExecutor(self.parallelism) as pool:
            list(pool.map(run, jobs))
        return not failed.is_set()
