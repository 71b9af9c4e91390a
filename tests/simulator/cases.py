"""The matrix: every lifecycle path x every fault at every position it can take."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from devkit.cloudformation.chaos import (
    AnswerLost,
    AnswerRetried,
    ConnectionErrors,
    DriftCreated,
    DriftDeleted,
    EcrErrors,
    EcrOutage,
    Fault,
    HungCall,
    Path,
    Quota,
    Redelivered,
    SecretLag,
    SlowEcr,
    ValidationFails,
    canonical,
)
from devkit.cloudformation.simulator import CLEANUP, FORWARD, ROLLBACK, Sibling
from tests.simulator.paths import PATHS

ALL = (FORWARD, ROLLBACK, CLEANUP)
EXCLUDED: list[tuple[str, str]] = []  # (case id, why): reported in the summary
ONLY_FORWARD = (FORWARD,)


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

    for n, _, _, _ in path.calls(ALL):
        add("throttled", f"call{n}", partial(EcrErrors, "ThrottlingException", 400, n))
        add("5xx", f"call{n}", partial(EcrErrors, "ServerException", 500, n))
        add("unreachable", f"call{n}", partial(ConnectionErrors, n))
    for n, index, j, operation in path.calls(ONLY_FORWARD):
        where = f"call{n}"
        add(
            "throttled-for-good",
            where,
            partial(EcrOutage, "ThrottlingException", 400, n, advice_text="retry"),
        )
        add(
            "503-for-good",
            where,
            partial(EcrOutage, "ServiceUnavailableException", 503, n, advice_text="retry"),
        )
        add(
            "access-denied",
            where,
            partial(EcrOutage, "AccessDeniedException", 400, n, operation, "permission"),
        )
        add("unreachable-for-good", where, partial(ConnectionErrors, n, times=-1))
        add("deadline", where, partial(SlowEcr, index, j))
        add("hung-call", where, partial(HungCall, index, j))
    for index in path.requests(ALL):
        add("answer-500-once", f"request{index}", partial(AnswerRetried, index))
        add("redelivered-warm", f"request{index}", partial(Redelivered, index))
        add("redelivered-cold", f"request{index}", partial(Redelivered, index, cold=True))
    for index in path.requests(ONLY_FORWARD):
        add("answer-refused", f"request{index}", partial(AnswerLost, index, "refused"))
        add("answer-500", f"request{index}", partial(AnswerLost, index, "500"))
    add("quota", "", Quota)
    if path.before and any(not isinstance(d, Sibling) for d in path.before.values()):
        add("drift-deleted", "", DriftDeleted)
    if prefixes := new_prefixes(path):
        add("drift-created", "", partial(DriftCreated, prefixes[0]))
    if names_secret(path):
        add("secret-lag", "", SecretLag)
        add("secret-missing", "", partial(SecretLag, calls=-1))
    if validates(path):
        add("validation-fails", "", ValidationFails)
    return cases


CASES = [case for path in PATHS for case in cases_for(path)]
