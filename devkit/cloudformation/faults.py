"""The simulator's faults: each one thing going wrong at one position of a lifecycle path.

Each says how long it lasts:

- TRANSIENT faults clear before the provider gives up: the operation must end exactly as
  without the fault;
- PERMANENT faults outlast the provider's retries for the rest of the forward phase, then clear
  when CloudFormation starts the rollback (the outage ends, the permission is restored): the
  operation must fail with a Reason that says what to do, and the rollback must leave the
  registry as it was before the operation;
- CONDITIONS (a full registry, drift, another owner's rule) are states of the registry: the
  operation either succeeds as without them or fails cleanly, as the fault says.

The classes of fault, each at every position it can take (tests/simulator/cases.py):
ECR errors (throttling, 5xx) and connection failures, for a while or for good; responses lost
after ECR took the call (a 5xx or a read timeout after the change was made); ECR slow or hung
(attempts end at their own timeouts; the Lambda is stopped at its deadline); secrets not yet
visible; validation failing; the rule quota; drift; another owner's rule at a new prefix, as
the template asks or not; the answer's PUT refused, answered 5xx, answered 403, or stored but
answered too late; a request delivered twice (warm, cold, and cold after CloudFormation recorded
the first answer); the answer coming due at any point of the answer path, so that the watchdog's
timeout answer goes out there, or a stale one during the next request; the two moments Lambda
takes the process away: killed at the deadline right after the timeout answer (no undo runs),
and frozen at return while the watchdog's own thread still sends it; two faults in one scenario
(a failed step, then a fault during the rollback it causes).
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.invariants import LONG, canonical
from devkit.cloudformation.lab import Lab
from devkit.cloudformation.plans import Path
from devkit.cloudformation.receiver import refusing_url
from devkit.cloudformation.simulator import CLEANUP, FORWARD, ROLLBACK, Hooks, Sibling, Stack
from devkit.cloudformation.stack_api import CUSTOM_TYPE
from handler import logs

TRANSIENT, PERMANENT, CONDITION = "transient", "permanent", "condition"
SAME, FAILURE, EITHER = "same", "failure", "either"  # what a scenario must end in
QUOTA = 50


class Fault(Hooks):
    """One thing going wrong during the operation under test."""

    kind: ClassVar[str]
    duration: ClassVar[str] = PERMANENT
    advice: ClassVar[str | None] = None  # what a FAILED Reason must say (case-insensitive)

    @property
    def lasting(self) -> str:
        return self.duration

    @property
    def hint(self) -> str | None:
        return self.advice

    def prepare(self, lab: Lab) -> None:
        """Before the stack the operation starts from is created."""

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        self.lab, self.stack, self.path = lab, stack, path

    def finish(self, lab: Lab) -> None:
        """After the scenario, the stack deleted (undo what `prepare` did; last checks)."""

    def phase(self, phase: str) -> None:
        if phase != FORWARD and self.lasting == PERMANENT:
            self.lab.clear()  # the outage ends as CloudFormation starts rolling back

    def expect(self, path: Path) -> str:
        return SAME if self.lasting == TRANSIENT else FAILURE

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        """Checks that the fault really happened (a fault that never fires proves nothing)."""

    @property
    def label(self) -> str:
        return self.kind


# -- ECR's errors -------------------------------------------------------------------------------


@dataclass
class EcrErrors(Fault):
    """ECR answers `code` to `times` calls from the `at`th on, then recovers."""

    code: str
    status: int
    at: int
    times: int = 2
    kind: ClassVar[str] = "ecr-error"
    duration: ClassVar[str] = TRANSIENT

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        lab.faults.fail(None, self.code, status=self.status, times=self.times, after=self.at - 1)

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        lab.ledger.check(
            len(ops) >= self.path.total_calls + self.times,
            f"{self.label}: {len(ops)} ECR calls, expected at least {self.path.total_calls + self.times}",
        )

    @property
    def label(self) -> str:
        return f"{self.code} x{self.times} at call {self.at}"


@dataclass
class EcrOutage(Fault):
    """From the `at`th call on, ECR answers `code` to every call of `operation` (None: any)
    until CloudFormation rolls back."""

    code: str
    status: int
    at: int
    operation: str | None = None
    advice_text: str = ""
    kind: ClassVar[str] = "ecr-outage"

    @property
    def hint(self) -> str | None:
        return self.advice_text or None

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        earlier = [op for n, _, _, op in path.calls((FORWARD, ROLLBACK, CLEANUP)) if n < self.at]
        after = len(earlier) if self.operation is None else earlier.count(self.operation)
        operation = None if self.operation is None else LONG[self.operation]
        lab.faults.fail(operation, self.code, status=self.status, times=-1, after=after)

    @property
    def label(self) -> str:
        return f"{self.code} on {self.operation or 'every call'} from call {self.at}"


@dataclass
class ConnectionErrors(Fault):
    """The handler cannot connect to ECR for `times` calls from the `at`th (-1: until the
    rollback)."""

    at: int
    times: int = 2
    kind: ClassVar[str] = "connection"
    advice: ClassVar[str | None] = "network access"

    @property
    def lasting(self) -> str:
        return TRANSIENT if self.times > 0 else PERMANENT

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        first = lab.handler_calls + self.at

        def refuse(number: int) -> None:
            from botocore.exceptions import EndpointConnectionError

            if number >= first and (self.times < 0 or number < first + self.times):
                raise EndpointConnectionError(endpoint_url="https://api.ecr.us-east-1.amazonaws.com")

        lab.listeners.append(refuse)
        self._start = lab.handler_calls

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        if self.times < 0:
            return
        attempted = lab.handler_calls - self._start
        expected = self.path.total_calls + self.times
        lab.ledger.check(
            attempted == expected and len(ops) == self.path.total_calls,
            f"{self.label}: {attempted} attempts and {len(ops)} calls reaching ECR; expected "
            f"{expected} and {self.path.total_calls}",
        )

    @property
    def label(self) -> str:
        return (
            f"connection refused {'until rollback' if self.times < 0 else f'x{self.times}'} at call {self.at}"
        )


@dataclass
class LostResponse(Fault):
    """ECR takes the `at`th call (and `times` - 1 after it; -1: every write from it on until the
    rollback, reads still answered), then its response is lost: `how` "5xx" answers 500 after
    the change was made, "timeout" sends nothing until the attempt's read timeout ends."""

    at: int
    how: str = "5xx"
    times: int = 1
    kind: ClassVar[str] = "lost-response"
    advice: ClassVar[str | None] = None

    @property
    def lasting(self) -> str:
        return TRANSIENT if self.times > 0 else PERMANENT

    def expect(self, path: Path) -> str:
        # for good: what reading back can settle ends as planned; what it cannot, fails cleanly
        return SAME if self.times > 0 else EITHER

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        if self.times > 0:
            lab.faults.lose_response(None, self.how, times=self.times, after=self.at - 1)
            return
        # for good: every write's response, while reads are answered (what reading back needs)
        earlier = [op for n, _, _, op in path.calls((FORWARD, ROLLBACK, CLEANUP)) if n < self.at]
        for short in ("Create", "Update", "Delete"):
            lab.faults.lose_response(LONG[short], self.how, times=-1, after=earlier.count(short))

    @property
    def label(self) -> str:
        lasting = "every call" if self.times < 0 else f"x{self.times}"
        return f"response lost ({self.how}) {lasting} from call {self.at}"


# -- ECR slow or hung, and the Lambda's deadline ------------------------------------------------


@dataclass
class SlowEcr(Fault):
    """Every ECR call of request `index` takes `step` seconds, and the Lambda's timeout leaves
    room for only `call` - 1 of them: the deadline arrives during its `call`th call."""

    index: int
    call: int
    step: float = 3.0
    kind: ClassVar[str] = "deadline"
    advice: ClassVar[str | None] = "Timeout"

    def context(self, index: int, context: LambdaContext) -> LambdaContext:
        if index != self.index:
            return context
        self.lab.latency = lambda n: self.step
        return self.lab.context((self.call - 0.5) * self.step + 2.0)

    def after(self, index: int, delivery: int) -> None:
        if index == self.index:
            self.lab.latency = lambda n: 0.0

    @property
    def label(self) -> str:
        return f"deadline during call {self.call} of request {self.index}"


@dataclass
class HungEcr(Fault):
    """From call `call` of request `index` on, ECR never answers (until the rollback): every
    attempt runs until its own timeouts end."""

    index: int
    call: int
    kind: ClassVar[str] = "hung"
    advice: ClassVar[str | None] = None

    def before(self, index: int, delivery: int) -> None:
        if index == self.index:
            first = self.lab.handler_calls + self.call
            self.lab.latency = lambda n: float("inf") if n >= first else 0.0

    @property
    def label(self) -> str:
        return f"ECR hung from call {self.call} of request {self.index}"


# -- secrets, validation, the registry ----------------------------------------------------------


@dataclass
class SecretLag(Fault):
    """Secrets Manager does not yet show the secret to the next `calls` creates/updates naming it
    (-1: not until the rollback)."""

    calls: int = 3
    kind: ClassVar[str] = "secret-lag"
    advice: ClassVar[str | None] = "create it"

    @property
    def lasting(self) -> str:
        return TRANSIENT if self.calls > 0 else PERMANENT

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        lab.faults.hide_secret_for(self.calls if self.calls > 0 else 10**6)

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        if self.calls > 0:
            expected = self.path.total_calls + self.calls
            lab.ledger.check(len(ops) == expected, f"{self.label}: {len(ops)} ECR calls, expected {expected}")

    @property
    def label(self) -> str:
        return f"secret not visible to {self.calls if self.calls > 0 else 'any'} calls"


@dataclass
class ValidationFails(Fault):
    """ValidatePullThroughCacheRule reports the upstream unreachable until the rollback."""

    kind: ClassVar[str] = "validation-fails"
    advice: ClassVar[str | None] = "check the secret"

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        lab.faults.validation_result(False, "401 Unauthorized from the upstream registry")


@dataclass
class Quota(Fault):
    """The registry already holds 50 rules: the stack's, and others filling it up."""

    kind: ClassVar[str] = "quota"
    duration: ClassVar[str] = CONDITION
    advice: ClassVar[str | None] = "delete rules you no longer use"

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        for n in range(QUOTA - len(lab.registry.rules())):
            lab.registry.create_behind_the_stacks_back(f"filler-{n:02d}", "public.ecr.aws")
        lab.age_rules()
        lab.invariants.note_foreign({canonical(r.physical_id) for r in stack.resources.values()})

    def expect(self, path: Path) -> str:
        return FAILURE if path.grows else SAME


@dataclass
class DriftDeleted(Fault):
    """The stack's rules were deleted behind its back before the operation."""

    kind: ClassVar[str] = "drift-deleted"
    duration: ClassVar[str] = CONDITION

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        for record in stack.resources.values():
            if not isinstance(record.definition, Sibling):
                lab.registry.delete_behind_the_stacks_back(record.physical_id)

    def expect(self, path: Path) -> str:
        return SAME


@dataclass
class ForeignRule(Fault):
    """Another owner's rule already holds each of `prefixes` (prefixes the operation creates a rule
    under): exactly as the template asks (`identical`), or with another upstream. It must end
    untouched, and never become the stack's without AdoptExisting."""

    prefixes: tuple[str, ...]
    identical: bool
    kind: ClassVar[str] = "foreign-rule"
    duration: ClassVar[str] = CONDITION
    advice: ClassVar[str | None] = "AdoptExisting"

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        asked = {
            canonical(d["EcrRepositoryPrefix"]): d
            for d in lab.resolve(path.template).values()
            if not isinstance(d, Sibling)
        }
        for prefix in self.prefixes:
            if self.identical:
                wanted = asked[prefix]
                params = {
                    "ecrRepositoryPrefix": prefix,
                    "upstreamRegistryUrl": wanted["UpstreamRegistryUrl"],
                    **{
                        api: wanted[name]
                        for name, api in (
                            ("CredentialArn", "credentialArn"),
                            ("CustomRoleArn", "customRoleArn"),
                            ("UpstreamRegistry", "upstreamRegistry"),
                            ("UpstreamRepositoryPrefix", "upstreamRepositoryPrefix"),
                        )
                        if wanted.get(name)
                    },
                }
                lab.registry.client.create_pull_through_cache_rule(**params)
            else:
                lab.registry.create_behind_the_stacks_back(prefix, "registry.k8s.io")
        lab.age_rules()
        lab.invariants.note_foreign({canonical(r.physical_id) for r in stack.resources.values()})

    def expect(self, path: Path) -> str:
        return FAILURE

    @property
    def label(self) -> str:
        what = "as asked" if self.identical else "of another upstream"
        return f"another owner's rule {what} at {', '.join(self.prefixes)}"


# -- the answer's PUT ---------------------------------------------------------------------------


@dataclass
class AnswerLost(Fault):
    """The ResponseURL of request `index` refuses connections ("refused"), answers every PUT with
    500 ("500") or with 403, as an expired URL does ("403"): CloudFormation never hears back
    and, after ServiceTimeout, fails it."""

    index: int
    how: str = "refused"
    kind: ClassVar[str] = "answer-lost"

    def response_url(self, index: int, url: str) -> str:
        if index != self.index:
            return url
        if self.how == "refused":
            return refusing_url()
        self.lab.receiver.respond(url, *[int(self.how)] * 10)
        return url

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        lost = stack.operation[self.index]
        lab.ledger.check(lost.taken is None, f"{self.label}: an answer arrived anyway")

    @property
    def label(self) -> str:
        return f"ResponseURL {self.how} for request {self.index}"


@dataclass
class AnswerRetried(Fault):
    """S3 answers the first PUT of request `index` with 500, then stores the retry."""

    index: int
    kind: ClassVar[str] = "answer-retried"
    duration: ClassVar[str] = TRANSIENT

    def response_url(self, index: int, url: str) -> str:
        if index == self.index:
            self.lab.receiver.respond(url, 500)
        return url

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        invocation = stack.operation[self.index]
        puts = [put for d in invocation.deliveries for put in d.puts]
        lab.ledger.check(
            len(puts) == 2 and invocation.taken is not None,
            f"{self.label}: {len(puts)} PUTs, answer taken: {invocation.taken is not None}",
        )

    @property
    def label(self) -> str:
        return f"ResponseURL 500 once for request {self.index}"


@dataclass
class AnswerStoredLate(Fault):
    """S3 stores the answer of request `index` but its response comes after the PUT gave up:
    the provider cannot know CloudFormation has it, so what the answer names must stay."""

    index: int
    kind: ClassVar[str] = "answer-stored-late"
    duration: ClassVar[str] = TRANSIENT

    def response_url(self, index: int, url: str) -> str:
        if index == self.index:
            self.lab.receiver.stall(url, 0.5)
        return url

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        lab.ledger.check(stack.operation[self.index].taken is not None, f"{self.label}: nothing stored")

    @property
    def label(self) -> str:
        return f"answer of request {self.index} stored, S3's response late"


# -- deliveries and the watchdog ----------------------------------------------------------------


@dataclass
class Redelivered(Fault):
    """Lambda delivers request `index` twice (an async retry): to the same warm container, or
    (`cold`) to another one that remembers nothing, before or (`recorded`) after CloudFormation
    recorded the first answer. CloudFormation acts on the first answer."""

    index: int
    cold: bool = False
    recorded: bool = False
    kind: ClassVar[str] = "redelivered"
    duration: ClassVar[str] = TRANSIENT

    def deliveries(self, index: int) -> int:
        return 2 if index == self.index else 1

    def before(self, index: int, delivery: int) -> None:
        if index != self.index or delivery != 2:
            return
        if self.cold:
            self.lab.lambda_.new_container()
        if self.recorded:
            invocation = self.stack.history[-1]
            first = (
                json.loads(invocation.deliveries[0].puts[-1]["raw"]) if invocation.deliveries[0].puts else {}
            )
            view = self.lab.stack_api.stacks[self.stack.stack_id]
            if first.get("Status") == "SUCCESS" and invocation.event["RequestType"] != "Delete":
                view.resources[invocation.event["LogicalResourceId"]] = (
                    CUSTOM_TYPE,
                    first["PhysicalResourceId"],
                )

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        first, second = stack.operation[self.index].deliveries
        if not self.cold:
            lab.ledger.check(
                second.ecr_calls == [] and [p["raw"] for p in second.puts] == [p["raw"] for p in first.puts],
                f"{self.label}: the second delivery did not repeat the first answer without ECR calls",
            )
        if self.recorded and first.puts and second.puts:
            one, two = (json.loads(d.puts[-1]["raw"]) for d in (first, second))
            lab.ledger.check(
                (one["Status"], one["PhysicalResourceId"]) == (two["Status"], two["PhysicalResourceId"]),
                f"{self.label}: the second delivery answered {two['Status']} {two['PhysicalResourceId']}, "
                f"the first {one['Status']} {one['PhysicalResourceId']}",
            )

    @property
    def label(self) -> str:
        where = "warm" if not self.cold else ("cold, after it was recorded" if self.recorded else "cold")
        return f"request {self.index} delivered twice ({where})"


# -- the answer coming due, and the two moments Lambda takes the process away ------------------


def _at(lab: Lab, where: str, call: int, run: Callable[[], None]) -> None:
    """Run `run` at `where` of the current request: "sent" just before its `call`th ECR call
    goes out, "landed" once ECR took that call (its answer not yet back), "claim" just before
    the request's thread claims the answer (its work done)."""
    if where == "claim":
        answers = lab.provider.answers
        claim = type(answers).claim

        def late_claim(turn: Any) -> bool:
            run()
            return claim(answers, turn)

        answers.claim = late_claim  # type: ignore[method-assign]
        return
    number = lab.handler_calls + call
    listeners = lab.landed if where == "landed" else lab.listeners
    listeners.append(lambda n: run() if n == number else None)


def _at_label(where: str, call: int) -> str:
    return {"sent": f"as call {call} goes out", "landed": f"once ECR took call {call}"}.get(
        where, "before the claim"
    )


@dataclass
class TimeoutFires(Fault):
    """The answer of request `index` comes due at `where` (see `_at`: "sent" or "claim"), and the
    watchdog's thread runs the timeout answer then. CloudFormation acts on the timeout answer."""

    index: int
    where: str
    call: int = 1
    kind: ClassVar[str] = "timeout-fires"
    advice: ClassVar[str | None] = "ran out of time"

    def before(self, index: int, delivery: int) -> None:
        if index == self.index:
            _at(self.lab, self.where, self.call, self.lab.answer_due)

    def after(self, index: int, delivery: int) -> None:
        if index == self.index:
            self.lab.listeners.clear()
            self.lab.landed.clear()
            self.lab.provider.answers.__dict__.pop("claim", None)

    def expect(self, path: Path) -> str:
        return FAILURE

    @property
    def label(self) -> str:
        return f"timeout answer {_at_label(self.where, self.call)} of request {self.index}"


@dataclass
class StaleTimeout(Fault):
    """The timeout the previous request armed fires late, during request `index`'s first ECR
    call: it belongs to that request and must change nothing of this one."""

    index: int
    kind: ClassVar[str] = "stale-timeout"
    duration: ClassVar[str] = TRANSIENT

    def before(self, index: int, delivery: int) -> None:
        if index != self.index or not self.lab.armed:
            return
        stale = self.lab.armed[-1]
        first = self.lab.handler_calls + 1
        self.lab.listeners.append(lambda number: stale() if number == first else None)

    def after(self, index: int, delivery: int) -> None:
        if index == self.index:
            self.lab.listeners.clear()

    @property
    def label(self) -> str:
        return f"a stale timeout during request {self.index}"


@dataclass
class KilledAtDeadline(TimeoutFires):
    """At `where` of request `index` (see `_at`) the call outlives the time left: the answer
    comes due and the watchdog sends the timeout answer, then the deadline comes and Lambda
    kills the process, so nothing the request's thread planned after that point runs (no undo).
    CloudFormation's rollback, with the id that answer carried, must leave no rule behind."""

    kind: ClassVar[str] = "killed-at-deadline"

    def before(self, index: int, delivery: int) -> None:
        if index == self.index:
            _at(self.lab, self.where, self.call, self._answer_then_die)

    def _answer_then_die(self) -> None:
        self.lab.answer_due()
        self.lab.kill()

    def stops(self, index: int) -> bool:
        return index == self.index

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        lab.ledger.check(lab.lambda_.killed > 0, f"{self.label}: the process was never killed")

    @property
    def label(self) -> str:
        return f"killed at the deadline {_at_label(self.where, self.call)} of request {self.index}"


@dataclass
class FrozenAtReturn(Fault):
    """At `where` of request `index` the answer comes due: the watchdog's own thread sends the
    timeout answer while the request's thread goes on (ECR's answer reaching it at that moment),
    and S3 replies to that PUT only once the request's thread is done. Lambda freezes the
    environment when the function returns: an answer still on its way then never reaches
    CloudFormation (the simulator counts only what S3 had by then)."""

    index: int
    where: str
    call: int = 1
    kind: ClassVar[str] = "frozen-at-return"
    advice: ClassVar[str | None] = "ran out of time"
    _released: threading.Event = field(default_factory=threading.Event, init=False, repr=False)
    _watchdog: threading.Thread | None = field(default=None, init=False, repr=False)

    def before(self, index: int, delivery: int) -> None:
        if index != self.index or delivery != 1:
            return
        answers = self.lab.provider.answers
        finish = type(answers).finish

        def done_then_finish(turn: Any, event: Any) -> None:  # the request's thread is done
            self._released.set()
            finish(answers, turn, event)

        answers.finish = done_then_finish  # type: ignore[method-assign]
        _at(self.lab, self.where, self.call, self._timeout_on_its_thread)

    def _timeout_on_its_thread(self) -> None:
        self.lab.until_answer_due()
        put, answers = self.lab._put, self.lab.provider.answers
        reached = threading.Event()

        def held(url: str, body: bytes, time_left: Callable[[], float]) -> Any:
            if threading.current_thread() is self._watchdog:
                reached.set()
                self._released.wait()  # S3's reply comes once the request's thread is done
            return put(url, body, time_left)

        answers.send = held

        def watchdog() -> None:
            try:
                self.lab.fire_timeout()
            finally:
                reached.set()

        self._watchdog = threading.Thread(target=watchdog, name="answer-deadline", daemon=True)
        self._watchdog.start()
        reached.wait()  # the timeout answer is on its way (or was not the one to answer)

    def after(self, index: int, delivery: int) -> None:
        if index != self.index or delivery != 1:
            return
        self._released.set()  # the environment thaws at last: what it held goes on
        if self._watchdog is not None:
            self._watchdog.join()
        self.lab.listeners.clear()
        self.lab.landed.clear()
        answers = self.lab.provider.answers
        for name in ("claim", "finish"):
            answers.__dict__.pop(name, None)
        answers.send = self.lab._put

    def expect(self, path: Path) -> str:
        return FAILURE

    @property
    def label(self) -> str:
        where = _at_label(self.where, self.call)
        return f"frozen at return, the timeout answer sent {where} of request {self.index}"


# -- two faults ---------------------------------------------------------------------------------


@dataclass
class ThenInRollback(Fault):
    """`first` (permanent) fails the forward phase; `then` (transient) strikes the rollback it
    causes, its positions counted from the rollback's first ECR call and request."""

    first: Fault
    then: Fault
    kind: ClassVar[str] = "two-faults"

    @property
    def hint(self) -> str | None:
        return self.first.hint

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        self.first.arm(lab, stack, path)
        self._index_at_rollback: int | None = None

    def phase(self, phase: str) -> None:
        self.first.phase(phase)
        if phase == ROLLBACK and self._index_at_rollback is None:
            self._index_at_rollback = len(self.stack.operation)
            self.then.arm(self.lab, self.stack, self.path)

    def _shifted(self, index: int) -> int | None:
        return None if self._index_at_rollback is None else index - self._index_at_rollback

    def response_url(self, index: int, url: str) -> str:
        shifted = self._shifted(index)
        url = self.first.response_url(index, url)
        return url if shifted is None else self.then.response_url(shifted, url)

    def context(self, index: int, context: LambdaContext) -> LambdaContext:
        shifted = self._shifted(index)
        context = self.first.context(index, context)
        return context if shifted is None else self.then.context(shifted, context)

    def before(self, index: int, delivery: int) -> None:
        self.first.before(index, delivery)
        if (shifted := self._shifted(index)) is not None:
            self.then.before(shifted, delivery)

    def after(self, index: int, delivery: int) -> None:
        self.first.after(index, delivery)
        if (shifted := self._shifted(index)) is not None:
            self.then.after(shifted, delivery)

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        lab.ledger.check(self._index_at_rollback is not None, f"{self.label}: there was no rollback")

    @property
    def label(self) -> str:
        return f"{self.first.label}, then in the rollback {self.then.label}"


# -- the resource's ServiceTimeout, and what the log holds --------------------------------------


@dataclass
class ServiceTimeout(Fault):
    """Every rule of the stack sets ServiceTimeout to `seconds`, and each ECR call takes 50 ms:
    with any ServiceTimeout CloudFormation accepts, the path ends as without it."""

    seconds: int
    kind: ClassVar[str] = "service-timeout"
    duration: ClassVar[str] = TRANSIENT

    def prepare(self, lab: Lab) -> None:
        lab.service_timeout = self.seconds
        lab.latency = lambda n: 0.05

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        lab.latency = lambda n: 0.05

    def finish(self, lab: Lab) -> None:
        lab.service_timeout = None

    @property
    def label(self) -> str:
        return f"ServiceTimeout {self.seconds} s, ECR calls of 50 ms"


class _Sink:
    """Where awslambdaric's root handler writes (its StandardLogSink's interface)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, msg: str, frame_type: bytes | None = None) -> None:
        self.lines.append(msg)

    def log_error(self, message_lines: list[str]) -> None:
        self.lines.extend(message_lines)


# What a credential looks like in a log line when it was not redacted.
_LEAKS = (
    re.compile(r"X-Amz-Signature=(?!<redacted>)\w"),
    re.compile(r"X-Amz-Security-Token['\"]?\s*[:=]\s*['\"]?(?!<redacted>)\w"),
    re.compile(r"Credential=(?!<redacted>)\w"),
    re.compile(r"cloudformation-responses/"),
)


def _streams(logger: Any) -> list[logging.StreamHandler[Any]]:
    """The provider logger's own handler (Powertools writes each line through a StreamHandler;
    under pytest, its capture handlers are attached to the logger as well, and left alone)."""
    handler = logger.registered_handler
    return [handler] if isinstance(handler, logging.StreamHandler) else []


@dataclass
class RootDebug(Fault):
    """LogLevel DEBUG, the root logger set up by AWS's runtime interface client itself (its
    handler at DEBUG, as in Lambda), then the provider's logging configured as at its import:
    no line written during the path may carry a credential or a ResponseURL, and every line
    is the provider's JSON."""

    kind: ClassVar[str] = "root-debug"
    duration: ClassVar[str] = TRANSIENT

    def prepare(self, lab: Lab) -> None:
        from awslambdaric.bootstrap import _setup_logging
        from awslambdaric.lambda_runtime_log_utils import LogFormat

        from handler import wiring

        root = logging.getLogger()
        self._saved = (root.level, list(root.handlers), wiring.logger.log_level, logging.Formatter.converter)
        self._sink, self._buffer = _Sink(), io.StringIO()
        _setup_logging(LogFormat.JSON, "DEBUG", self._sink)
        self._streams = [h.setStream(self._buffer) for h in _streams(wiring.logger)]
        wiring.logger.setLevel("DEBUG")
        logs.configure(wiring.logger, wiring.scrubber)

    def finish(self, lab: Lab) -> None:
        from handler import wiring

        level, handlers, log_level, converter = self._saved
        for handler, stream in zip(_streams(wiring.logger), self._streams, strict=True):
            handler.setStream(stream)
        wiring.logger.setLevel(log_level)
        logs.configure(wiring.logger, wiring.scrubber)
        root = logging.getLogger()
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.Formatter.converter = converter
        lines = [line for line in self._buffer.getvalue().splitlines() if line.strip()]
        leaks = [line for line in lines + self._sink.lines if any(p.search(line) for p in _LEAKS)]
        lab.ledger.check(not leaks, f"{self.label}: a credential or a ResponseURL in the log: {leaks[:2]}")
        lab.ledger.check(
            any('"calling"' in line for line in lines), f"{self.label}: no DEBUG line was written"
        )
        lab.ledger.check(not self._sink.lines, f"{self.label}: lines reached the runtime's own handler")
        not_json = [line for line in lines if not _is_json_object(line)]
        lab.ledger.check(not not_json, f"{self.label}: lines that are not JSON objects: {not_json[:2]}")

    @property
    def label(self) -> str:
        return "the root logger at DEBUG, as the runtime client sets it"


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False
