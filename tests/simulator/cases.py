"""The matrix: every lifecycle path x every fault at every position it can take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from devkit.cloudformation.faults import (
    AnswerLost,
    AnswerRetried,
    AnswerStoredLate,
    ConnectionErrors,
    DriftDeleted,
    EcrErrors,
    EcrOutage,
    Fault,
    ForeignRule,
    FrozenAtReturn,
    HungEcr,
    KilledAtDeadline,
    LostResponse,
    Quota,
    Redelivered,
    RootDebug,
    SecretLag,
    ServiceTimeout,
    SlowEcr,
    StaleTimeout,
    ThenInRollback,
    TimeoutFires,
    ValidationFails,
)
from devkit.cloudformation.invariants import canonical
from devkit.cloudformation.plans import Path
from devkit.cloudformation.simulator import CLEANUP, FORWARD, ROLLBACK, Sibling
from tests.simulator.paths import PATHS

ALL = (FORWARD, ROLLBACK, CLEANUP)
EXCLUDED: list[tuple[str, str]] = []  # (case id, why): reported in the summary
ONLY_FORWARD = (FORWARD,)
SERVICE_TIMEOUTS = range(1, 11)  # seconds: CloudFormation accepts 1-3600


@dataclass(frozen=True)
class Case:
    path: Path
    kind: str
    where: str
    make: Callable[[], Fault]

    @property
    def id(self) -> str:
        return f"{self.path.name}-{self.kind}{f'@{self.where}' if self.where else ''}"


def _custom(template: dict[str, object]) -> list[dict[str, str]]:
    return [d for d in template.values() if isinstance(d, dict)]


def new_prefixes(path: Path) -> list[str]:
    """Prefixes the operation creates a rule under (none of the stack's, none foreign)."""
    taken = {canonical(d["EcrRepositoryPrefix"]) for d in _custom(path.before or {})}
    taken |= {spec.split("=", 1)[0] for spec in path.foreign}
    asked = [canonical(d["EcrRepositoryPrefix"]) for d in _custom(path.template)]
    return [p for p in asked if p not in taken]


def names_secret(path: Path) -> bool:
    return path.operation != "delete" and any("CredentialArn" in d for d in _custom(path.template))


def validates(path: Path) -> bool:
    return any(d.get("ValidateCredentials") == "true" for d in _custom(path.template))


def in_rollback(then: Callable[[], Fault], first: Callable[[], Fault]) -> Callable[[], Fault]:
    return lambda: ThenInRollback(first(), then())


Add = Callable[[str, str, Callable[[], Fault]], None]


def cases_for(path: Path) -> list[Case]:
    cases: list[Case] = []

    def add(kind: str, where: str, make: Callable[[], Fault]) -> None:
        case = Case(path, kind, where, make)
        why = dict(path.not_for)
        reason = why.get(kind) or why.get(f"{kind}@{where}")
        if reason:
            EXCLUDED.append((case.id, reason))
        else:
            cases.append(case)

    for part in (_ecr, _for_good, _answers_and_deliveries, _conditions, _settings):
        part(path, add)
    return cases


def _ecr(path: Path, add: Add) -> None:
    """ECR's errors and lost responses, at every call of every phase: they clear, the same end."""
    for n, _, _, _ in path.calls(ALL):
        add("throttled", f"call{n}", partial(EcrErrors, "ThrottlingException", 400, n))
        add("5xx", f"call{n}", partial(EcrErrors, "ServerException", 500, n))
        add("unreachable", f"call{n}", partial(ConnectionErrors, n))
        add("lost-5xx", f"call{n}", partial(LostResponse, n, "5xx"))
        add("lost-timeout", f"call{n}", partial(LostResponse, n, "timeout"))


def _for_good(path: Path, add: Add) -> None:
    """For good in the forward phase: it fails, and the rollback puts the registry back; and two
    faults, the step failing for good, then a fault striking the rollback it causes."""
    for n, index, j, operation in path.calls(ONLY_FORWARD):
        where = f"call{n}"
        throttled = partial(EcrOutage, "ThrottlingException", 400, n, advice_text="retry")
        add("throttled-for-good", where, throttled)
        unavailable = partial(EcrOutage, "ServiceUnavailableException", 503, n, advice_text="retry")
        add("503-for-good", where, unavailable)
        denied = partial(EcrOutage, "AccessDeniedException", 400, n, operation, "permission")
        add("access-denied", where, denied)
        add("unreachable-for-good", where, partial(ConnectionErrors, n, times=-1))
        add("lost-for-good", where, partial(LostResponse, n, "5xx", times=-1))
        add("deadline", where, partial(SlowEcr, index, j))
        add("hung", where, partial(HungEcr, index, j))
        if path.operation != "delete":
            add("then-5xx", where, in_rollback(partial(EcrErrors, "ServerException", 500, 1), denied))
            add("then-lost-5xx", where, in_rollback(partial(LostResponse, 1, "5xx"), denied))
            add("then-lost-timeout", where, in_rollback(partial(LostResponse, 1, "timeout"), denied))
            add("then-answer-500-once", where, in_rollback(partial(AnswerRetried, 0), denied))


def _answers_and_deliveries(path: Path, add: Add) -> None:
    """The answer's PUT, the deliveries of a request, the watchdog's timeout answer, and the two
    moments Lambda takes the process away: the freeze at return, the kill at the deadline."""
    for index in path.requests(ALL):
        add("answer-500-once", f"request{index}", partial(AnswerRetried, index))
        add("answer-stored-late", f"request{index}", partial(AnswerStoredLate, index))
        add("redelivered-warm", f"request{index}", partial(Redelivered, index))
        add("redelivered-cold", f"request{index}", partial(Redelivered, index, cold=True))
        recorded = partial(Redelivered, index, cold=True, recorded=True)
        add("redelivered-cold-recorded", f"request{index}", recorded)
        if path.before is not None or index > 0:
            add("stale-timeout", f"request{index}", partial(StaleTimeout, index))
    for index in path.requests(ONLY_FORWARD):
        add("answer-refused", f"request{index}", partial(AnswerLost, index, "refused"))
        add("answer-500", f"request{index}", partial(AnswerLost, index, "500"))
        add("answer-403", f"request{index}", partial(AnswerLost, index, "403"))
        add("timeout-fires", f"request{index}-claim", partial(TimeoutFires, index, "claim"))
        if path.plan[index].calls:
            add("timeout-fires", f"request{index}-call1", partial(TimeoutFires, index, "sent"))
        for fault in (KilledAtDeadline, FrozenAtReturn):
            add(fault.kind, f"request{index}-claim", partial(fault, index, "claim"))
    # the answer comes due as each forward call goes out, and once ECR took it
    for n, index, j, _ in path.calls(ONLY_FORWARD):
        for where in ("sent", "landed"):
            for fault in (KilledAtDeadline, FrozenAtReturn):
                add(fault.kind, f"call{n}-{where}", partial(fault, index, where, j))


def _conditions(path: Path, add: Add) -> None:
    """States of the registry: full, drifted, another owner's rule where a new one goes."""
    add("quota", "", Quota)
    if path.before and any(not isinstance(d, Sibling) for d in path.before.values()):
        add("drift-deleted", "", DriftDeleted)
    prefixes = new_prefixes(path)
    for prefix in prefixes:
        add("foreign-as-asked", prefix, partial(ForeignRule, (prefix,), True))
        add("foreign-other", prefix, partial(ForeignRule, (prefix,), False))
    if len(prefixes) > 1:
        add("foreign-as-asked", "all", partial(ForeignRule, tuple(prefixes), True))
    if names_secret(path):
        add("secret-lag", "", SecretLag)
        add("secret-missing", "", partial(SecretLag, calls=-1))
    if validates(path):
        add("validation-fails", "", ValidationFails)


def _settings(path: Path, add: Add) -> None:
    """The resource's ServiceTimeout, and the root logger at DEBUG."""
    for seconds in SERVICE_TIMEOUTS:
        add("service-timeout", f"{seconds}s", partial(ServiceTimeout, seconds))
    add("root-debug", "", RootDebug)


CASES = [case for path in PATHS for case in cases_for(path)]
