"""Lifecycle scenarios with faults, and the invariants checked after every one.

A `Path` is one lifecycle path: the stack as it is before (created without faults), the stack
operation under test, and its `plan` -- the requests CloudFormation sends and the ECR calls each
makes when nothing goes wrong. The plan fixes the fault positions: "the Nth ECR call" and
"the Nth request" of the operation.

A `Fault` is one thing going wrong at one position. Each says how long it lasts:

- TRANSIENT faults clear before the provider gives up: the operation must end exactly as
  without the fault;
- PERMANENT faults outlast the provider's retries for the rest of the forward phase, then clear
  when CloudFormation starts the rollback (the outage ends, the permission is restored): the
  operation must fail with a Reason that says what to do, and the rollback must leave the
  registry as it was before the operation;
- CONDITIONS (a full registry, drift) are states of the registry: the operation either
  succeeds as without them or fails cleanly, as the fault says.

`run` plays one scenario on a `Lab` (the real handler in this process, moto with the ECR
emulator, the receiver) and checks, into a `Ledger`: every answer (by the Stack), the registry
against the stack's record after every stack operation (`Invariants`), the outcome the fault's
duration calls for, and finally that deleting the stack leaves only the rules that were not
the stack's, untouched.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import ecr_ptc_emulator
from devkit.aws_lambda.context import LambdaContext
from devkit.cloudformation.receiver import Receiver, refusing_url
from devkit.cloudformation.simulator import (
    CLEANUP,
    FAILED,
    FORWARD,
    ROLLBACK,
    SETTLED,
    Hooks,
    InProcessLambda,
    Invocation,
    Ledger,
    Properties,
    Sibling,
    Stack,
    Template,
)

TRANSIENT, PERMANENT, CONDITION = "transient", "permanent", "condition"
SAME, FAILURE = "same", "failure"  # what a scenario must end in
QUOTA = 50
TIMESTAMPS = ("createdAt", "updatedAt")
SHORT = {
    "CreatePullThroughCacheRule": "Create",
    "UpdatePullThroughCacheRule": "Update",
    "DeletePullThroughCacheRule": "Delete",
    "DescribePullThroughCacheRules": "Describe",
    "ValidatePullThroughCacheRule": "Validate",
}
LONG = {short: long for long, short in SHORT.items()}
Rules = dict[str, dict[str, Any]]


def canonical(prefix: str) -> str:
    """ECR reads "a" and "a/" as one prefix."""
    return prefix if prefix == "ROOT" else prefix.rstrip("/")


def settings(rules: Rules) -> Rules:
    """The rules without their timestamps: what a template can ask for."""
    return {p: {k: v for k, v in rule.items() if k not in TIMESTAMPS} for p, rule in rules.items()}


def mismatches(properties: Properties, rule: dict[str, Any] | None) -> list[str]:
    """How the rule ECR holds differs from what the template's properties ask for."""
    if rule is None:
        return ["it is missing from the registry"]
    want: dict[str, str | None] = {
        "upstreamRegistryUrl": properties["UpstreamRegistryUrl"],
        "credentialArn": properties.get("CredentialArn") or None,
        "customRoleArn": properties.get("CustomRoleArn") or None,
    }
    if properties.get("UpstreamRegistry"):
        want["upstreamRegistry"] = properties["UpstreamRegistry"]
    problems = [
        f"{k} is {rule.get(k)!r}, the template asks {v!r}" for k, v in want.items() if rule.get(k) != v
    ]
    upstream_prefix = properties.get("UpstreamRepositoryPrefix")
    held = rule.get("upstreamRepositoryPrefix")
    if upstream_prefix and held != canonical(upstream_prefix):
        problems.append(f"upstreamRepositoryPrefix is {held!r}, the template asks {upstream_prefix!r}")
    if not upstream_prefix and held not in (None, "ROOT"):
        problems.append(f"upstreamRepositoryPrefix is {held!r}, the template sets none")
    return problems


class Registry:
    """The registry as an onlooker sees it: read through the emulator, changed behind the
    stack's back with a plain ECR client."""

    def __init__(
        self,
        client: Any,
        rules: Callable[[], Rules] = ecr_ptc_emulator.rules,
        calls: Callable[[], list[tuple[str, dict[str, Any]]]] = ecr_ptc_emulator.calls,
    ) -> None:
        self.client = client
        self._rules = rules
        self._calls = calls

    def rules(self) -> Rules:
        return self._rules()

    def ops(self) -> list[str]:
        """The operations ECR received so far, by short name ("Create", "Describe" ...)."""
        return [SHORT.get(operation, operation) for operation, _ in self._calls()]

    def create_behind_the_stacks_back(self, prefix: str, url: str = "quay.io") -> None:
        self.client.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl=url)

    def delete_behind_the_stacks_back(self, prefix: str) -> None:
        self.client.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)


class Invariants:
    """The registry against the stack's record, and the rules that were never the stack's."""

    def __init__(self, ledger: Ledger, registry: Registry) -> None:
        self.ledger = ledger
        self.registry = registry
        self.foreign: Rules = {}  # rules that were not the stack's, as they were when they appeared
        self.adopted: set[str] = set()

    def note_foreign(self, owned: set[str] | None = None) -> None:
        """Every rule now in the registry that the stack does not own is foreign."""
        for prefix, rule in self.registry.rules().items():
            if prefix not in (owned or set()) and prefix not in self.foreign:
                self.foreign[prefix] = rule

    def check(self, stack: Stack, when: str) -> None:
        rules = self.registry.rules()
        where = f"{stack.name} {when} ({stack.status})"
        owned: dict[str, tuple[str, Properties]] = {}
        for logical_id, record in stack.resources.items():
            if isinstance(record.definition, Sibling):
                continue
            prefix = canonical(record.physical_id)
            asked = canonical(record.definition["EcrRepositoryPrefix"])
            self.ledger.check(
                asked == prefix,
                f"{where}: {logical_id} is on record as '{record.physical_id}' but asks for '{asked}'",
            )
            owned[prefix] = (logical_id, record.definition)
            if prefix in self.foreign and prefix not in self.adopted:
                adopting = str(record.definition.get("AdoptExisting", "")).lower() == "true"
                self.ledger.check(
                    adopting,
                    f"{where}: {logical_id} took over the rule '{prefix}' it did not create, "
                    "without AdoptExisting",
                )
                self.adopted.add(prefix)
        if stack.status in SETTLED:
            for prefix, (logical_id, properties) in owned.items():
                if stack.status == "DELETE_FAILED" and prefix not in rules:
                    continue  # the Delete may have happened and only its answer failed
                problems = mismatches(properties, rules.get(prefix))
                self.ledger.check(
                    not problems, f"{where}: {logical_id}'s rule '{prefix}': {'; '.join(problems)}"
                )
            for prefix in rules:
                self.ledger.check(
                    prefix in owned or prefix in self.foreign,
                    f"{where}: the registry holds '{prefix}', which the stack does not own and which "
                    "was not there before: an orphan",
                )
        for prefix, rule in self.foreign.items():
            if prefix in self.adopted:
                continue
            self.ledger.check(
                rules.get(prefix) == rule,
                f"{where}: the rule '{prefix}' was not the stack's and was touched: "
                f"{rule} became {rules.get(prefix)}",
            )

    def untouched_foreign(self) -> Rules:
        return {p: r for p, r in self.foreign.items() if p not in self.adopted}


# -- the lab: one in-process scenario's environment -----------------------------------------


class FakeClock:
    """Seconds that pass only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Listener = Callable[[int], None]  # called before each ECR call the handler makes, with its number


@functools.cache
def _clients() -> tuple[Any, Any]:
    """ECR and Secrets Manager clients for the whole run (creating one costs ~50 ms); moto's
    mock serves them whichever mock_aws is active, as it serves the handler's own client."""
    import boto3

    region = "us-east-1"
    return boto3.client("ecr", region_name=region), boto3.client("secretsmanager", region_name=region)


class Lab:
    """The real handler in this process against moto with the ECR emulator, answered to the
    real receiver. Retry pauses are recorded, not slept, yet they take the Lambda's time: each
    context's clock counts them (a scenario with a fake clock advances that instead). Every ECR
    call the handler makes passes the listeners first."""

    SECRETS = ("a", "b")

    def __init__(self, receiver: Receiver, ledger: Ledger) -> None:
        self.receiver = receiver
        self.ledger = ledger
        ecr, secrets = _clients()
        self.registry = Registry(ecr)
        self.invariants = Invariants(ledger, self.registry)
        self.faults = ecr_ptc_emulator.faults()
        self.lambda_ = InProcessLambda()
        self.pauses: list[float] = []
        self.paused_s = 0.0  # recorded pauses not taken by a fake clock
        self.clock: FakeClock | None = None
        self.listeners: list[Listener] = []
        self.handler_calls = 0  # ECR calls the handler made (also those that never reached ECR)
        self.secrets = {
            name: str(
                secrets.create_secret(
                    Name=f"ecr-pullthroughcache/{name}", SecretString='{"username":"u","accessToken":"t"}'
                )["ARN"]
            )
            for name in self.SECRETS
        }

    @property
    def app(self) -> Any:
        from handler import app

        return app

    def __enter__(self) -> Lab:
        from handler import response

        app = self.app
        self._saved = (app.retry_policy.sleep, app.resource._put, app.retry_policy.call_budget_s)
        app.retry_policy.sleep = self._sleep
        app.resource._put = functools.partial(response.put, sleep=self._sleep)
        app.resource._answers.clear()  # a fresh container: nothing remembered from other tests
        app.ecr_client.meta.events.register_first("before-send.ecr.*", self._before_send)
        return self

    def __exit__(self, *exc: object) -> None:
        app = self.app
        app.ecr_client.meta.events.unregister("before-send.ecr.*", self._before_send)
        app.retry_policy.sleep, app.resource._put, app.retry_policy.call_budget_s = self._saved

    def _sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            self.paused_s += seconds

    def context(self, timeout_s: float) -> LambdaContext:
        """A Lambda context on real time plus the pauses recorded instead of slept."""
        return LambdaContext(timeout_s, clock=lambda: time.monotonic() + self.paused_s)

    def _before_send(self, **kwargs: Any) -> None:
        self.handler_calls += 1
        for listener in list(self.listeners):
            listener(self.handler_calls)

    def resolve(self, template: Template) -> Template:
        """The template with $SECRET_<NAME> replaced by that secret's ARN."""
        resolved: Template = {}
        for logical_id, definition in template.items():
            if isinstance(definition, Sibling):
                resolved[logical_id] = definition
                continue
            resolved[logical_id] = {
                k: self.secrets[v.removeprefix("$SECRET_").lower()] if v.startswith("$SECRET_") else v
                for k, v in definition.items()
            }
        return resolved

    def stack(self, name: str = "sim-stack") -> Stack:
        return Stack(
            self.lambda_,
            self.receiver,
            self.ledger,
            name=name,
            ecr_log=self.registry.ops,
            new_context=self.context,
        )

    def clear(self) -> None:
        """Every fault off."""
        self.faults.clear()
        self.listeners.clear()
        self.clock = None
        self.app.retry_policy.call_budget_s = self._saved[2]


# -- lifecycle paths -------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One request of a plan: its phase, "<RequestType> <LogicalResourceId>", its ECR calls."""

    phase: str
    request: str
    calls: tuple[str, ...] = ()


@dataclass(frozen=True)
class Path:
    """One lifecycle path: the stack before, the operation under test, and its plan."""

    name: str
    operation: str  # "create" | "update" | "delete"
    plan: tuple[Step, ...]
    outcome: str  # the stack status the operation ends in without faults
    template: Template = field(default_factory=dict)  # of the operation (create, update)
    before: Template | None = None  # the stack, created first without faults
    foreign: tuple[str, ...] = ()  # "prefix=url": rules already there, not the stack's
    grows: bool = False  # the forward phase adds a rule while every old one still exists
    not_for: tuple[tuple[str, str], ...] = ()  # (fault kind, why it does not apply)

    def calls(self, phases: tuple[str, ...]) -> Iterator[tuple[int, int, int, str]]:
        """(n, request index, j, operation): the nth ECR call of the operation is the jth of
        request `index` (all 1-based but the index), for the steps in `phases`."""
        n = 0
        for index, step in enumerate(self.plan):
            for j, operation in enumerate(step.calls, 1):
                n += 1
                if step.phase in phases:
                    yield n, index, j, operation

    def requests(self, phases: tuple[str, ...]) -> list[int]:
        return [index for index, step in enumerate(self.plan) if step.phase in phases]

    @property
    def total_calls(self) -> int:
        return sum(len(step.calls) for step in self.plan)

    def final_template(self, status: str) -> Template:
        if status in ("DELETE_COMPLETE", "ROLLBACK_COMPLETE"):
            return {}
        if status == "UPDATE_ROLLBACK_COMPLETE":
            return self.before or {}
        return self.template if self.operation != "delete" else (self.before or {})


# -- faults ----------------------------------------------------------------------------------


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

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        self.lab, self.stack, self.path = lab, stack, path

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
        expected = self.path.total_calls + self.times
        lab.ledger.check(
            len(ops) == expected,
            f"{self.label}: {len(ops)} ECR calls, expected {expected} (the plan's and one retry per fault)",
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
class DriftCreated(Fault):
    """Someone created a rule (with another upstream) under the prefix the operation creates."""

    prefix: str
    kind: ClassVar[str] = "drift-created"
    duration: ClassVar[str] = CONDITION
    advice: ClassVar[str | None] = "AdoptExisting"

    def arm(self, lab: Lab, stack: Stack, path: Path) -> None:
        super().arm(lab, stack, path)
        lab.registry.create_behind_the_stacks_back(self.prefix, "registry.k8s.io")
        lab.invariants.note_foreign({canonical(r.physical_id) for r in stack.resources.values()})

    def expect(self, path: Path) -> str:
        return FAILURE


@dataclass
class AnswerLost(Fault):
    """The ResponseURL of request `index` refuses connections ("refused") or answers every
    PUT with 500 ("500"): CloudFormation never hears back and, after ServiceTimeout, fails it."""

    index: int
    how: str = "refused"
    kind: ClassVar[str] = "answer-lost"

    def response_url(self, index: int, url: str) -> str:
        if index != self.index:
            return url
        if self.how == "refused":
            return refusing_url()
        self.lab.receiver.respond(url, *[500] * 10)
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
class Redelivered(Fault):
    """Lambda delivers request `index` twice (an async retry): to the same warm container, or
    (`cold`) to another one that remembers nothing. CloudFormation acts on the first answer."""

    index: int
    cold: bool = False
    kind: ClassVar[str] = "redelivered"
    duration: ClassVar[str] = TRANSIENT

    def deliveries(self, index: int) -> int:
        return 2 if index == self.index else 1

    def before(self, index: int, delivery: int) -> None:
        if index == self.index and delivery == 2 and self.cold:
            self.lab.app.resource._answers.clear()

    def verify(self, lab: Lab, stack: Stack, ops: list[str]) -> None:
        first, second = stack.operation[self.index].deliveries
        if not self.cold:
            lab.ledger.check(
                second.ecr_calls == [] and [p["raw"] for p in second.puts] == [p["raw"] for p in first.puts],
                f"{self.label}: the second delivery did not repeat the first answer without ECR calls",
            )

    @property
    def label(self) -> str:
        return f"request {self.index} delivered twice ({'cold' if self.cold else 'warm'})"


@dataclass
class SlowEcr(Fault):
    """ECR calls of request `index` each take as long as the provider allows one (a fake clock
    runs), and the Lambda's timeout leaves room for only `call` - 1 of them: the deadline
    arrives before its `call`th call."""

    index: int
    call: int
    kind: ClassVar[str] = "deadline"
    advice: ClassVar[str | None] = "Timeout"

    def context(self, index: int, context: LambdaContext) -> LambdaContext:
        if index != self.index:
            return context
        app = self.lab.app
        step = app.retry_policy.call_budget_s
        clock = FakeClock()
        self.lab.clock = clock
        self.lab.listeners.append(lambda number: clock.advance(step))
        return LambdaContext(timeout_s=app.ANSWER_RESERVE_S + (self.call - 0.5) * step, clock=clock)

    def after(self, index: int, delivery: int) -> None:
        if index == self.index:
            self.lab.listeners.clear()
            self.lab.clock = None

    @property
    def label(self) -> str:
        return f"deadline before call {self.call} of request {self.index}"


@dataclass
class HungCall(Fault):
    """Call `call` of request `index` hangs until the handler's timeout answer has gone out (the
    real timer fires: the Lambda has 0.3 s before its answer is due), then completes."""

    index: int
    call: int
    kind: ClassVar[str] = "hung-call"
    advice: ClassVar[str | None] = "Timeout"

    def response_url(self, index: int, url: str) -> str:
        if index == self.index:
            self.url = url
        return url

    def context(self, index: int, context: LambdaContext) -> LambdaContext:
        if index != self.index:
            return context
        return LambdaContext(timeout_s=self.lab.app.ANSWER_RESERVE_S + 0.3)

    def before(self, index: int, delivery: int) -> None:
        if index != self.index:
            return
        self.lab.app.retry_policy.call_budget_s = 0.0  # every call starts; the timer decides
        first = self.lab.handler_calls + 1

        def hang(number: int) -> None:
            if number - first + 1 == self.call:
                for _ in range(500):  # bounded: at most 5 s for the timer's answer
                    if self.lab.receiver.raw(self.url):
                        return
                    time.sleep(0.01)

        self.lab.listeners.append(hang)

    def after(self, index: int, delivery: int) -> None:
        if index == self.index:
            self.lab.listeners.clear()
            self.lab.app.retry_policy.call_budget_s = self.lab._saved[2]

    @property
    def label(self) -> str:
        return f"call {self.call} of request {self.index} hangs past the deadline"


# -- one scenario ----------------------------------------------------------------------------


@dataclass
class Result:
    stack: Stack
    operation: list[Invocation]
    ops: list[str]


def run(lab: Lab, path: Path, fault: Fault | None = None) -> Result:
    """Play `path` with `fault` injected; every check goes into lab.ledger."""
    ledger, invariants = lab.ledger, lab.invariants
    for spec in path.foreign:
        prefix, url = spec.split("=", 1)
        lab.registry.create_behind_the_stacks_back(prefix, url)
    invariants.note_foreign()
    stack = lab.stack()
    if path.before is not None:
        status = stack.create(lab.resolve(path.before))
        ledger.check(
            status == "CREATE_COMPLETE", f"{path.name}: the stack before could not be created: {status}"
        )
        invariants.check(stack, "before the operation")
    template = lab.resolve(path.template)
    if fault is not None:
        stack.hooks = fault
        fault.arm(lab, stack, path)
    registry_before = settings(lab.registry.rules())
    mark = len(lab.registry.ops())

    if path.operation == "create":
        status = stack.create(template)
    elif path.operation == "update":
        status = stack.update(template)
    else:
        status = stack.delete()

    lab.clear()
    ops = lab.registry.ops()[mark:]
    operation = list(stack.operation)
    stack.hooks = Hooks()
    invariants.check(stack, "after the operation")
    trace = "\n  ".join(str(invocation) for invocation in operation)
    name = f"{path.name}{f' with {fault.label}' if fault else ''}"
    if fault is None:
        plan = [(s.phase, s.request, s.calls) for s in path.plan]
        done = [(i.phase, i.request, tuple(SHORT.get(c, c) for c in i.ecr_calls)) for i in operation]
        ledger.check(done == plan, f"{name}: the requests and calls were\n  {done}\nnot the plan\n  {plan}")
    else:
        fault.verify(lab, stack, ops)
    expect = SAME if fault is None else fault.expect(path)
    if expect == SAME:
        ledger.check(status == path.outcome, f"{name}: ended {status}, not {path.outcome}:\n  {trace}")
        ledger.check(
            stack.template == lab.resolve(path.final_template(path.outcome)),
            f"{name}: the stack's record is {stack.template}:\n  {trace}",
        )
    else:
        _check_clean_failure(lab, name, stack, operation, status, registry_before, fault, trace)

    # Finally the stack is deleted: only the rules that were never its own may remain, untouched.
    if stack.status != "DELETE_COMPLETE":
        status = stack.delete()
        ledger.check(status == "DELETE_COMPLETE", f"{name}: the stack could not be deleted: {status}")
    invariants.check(stack, "after deleting the stack")
    ledger.check(
        lab.registry.rules() == invariants.untouched_foreign(),
        f"{name}: after deleting the stack the registry holds {sorted(lab.registry.rules())}, "
        f"not just {sorted(invariants.untouched_foreign())}",
    )
    return Result(stack, operation, ops)


def _check_clean_failure(
    lab: Lab,
    name: str,
    stack: Stack,
    operation: list[Invocation],
    status: str,
    registry_before: Rules,
    fault: Fault | None,
    trace: str,
) -> None:
    """A permanent fault: the forward phase failed, saying what to do, and the rollback put the
    registry back as it was (a failed stack delete leaves it as it was, or without the rules
    whose Delete went through but whose answer was lost)."""
    ledger = lab.ledger
    forward = [i for i in operation if i.phase == FORWARD]
    failed = [i for i in forward if i.taken is None or i.taken["Status"] == FAILED]
    ledger.check(bool(failed), f"{name}: nothing failed:\n  {trace}")
    hint = fault.hint if fault is not None else None
    if hint and failed:
        reasons = [str(i.taken.get("Reason", "")) for i in failed if i.taken]
        ledger.check(
            any(hint.lower() in reason.lower() for reason in reasons),
            f"{name}: no Reason says what to do ({hint!r}): {reasons}",
        )
    ledger.check(
        status in ("ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "DELETE_FAILED"),
        f"{name}: ended {status}:\n  {trace}",
    )
    after = settings(lab.registry.rules())
    if status == "DELETE_FAILED":
        ok = after == {p: rule for p, rule in registry_before.items() if p in after}
    else:
        ok = after == registry_before
    ledger.check(
        ok, f"{name}: the registry is not as before the operation:\n  {registry_before}\n  {after}\n  {trace}"
    )
