"""Stacks on MiniStack (an independent CloudFormation + Lambda, pinned in
requirements-ministack.txt) with the provider deployed by the real `sam build` + `sam deploy`.

MiniStack and the ECR emulator start once per session (devkit/cloudformation/ministack.py);
the provider is deployed once. A rule no stack owns (BYSTANDER, made at the start through ECR
directly) must come through every test untouched: no call of any test may name its prefix, and
it must still be exactly as made. Each test's stacks are deleted after it, and any rule a test
left behind is removed, so tests do not see each other's rules.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation.ministack import ACCOUNT, MiniStack, Operation

BYSTANDER = "hand-made/bystander"
BYSTANDER_URL = "public.ecr.aws"
SECRET_VALUE = {"username": "user", "accessToken": "token"}
REPOSITORY_HOST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
READS = frozenset({"DescribePullThroughCacheRules", "ValidatePullThroughCacheRule"})
_names = itertools.count(1)


@pytest.fixture(scope="session")
def ministack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MiniStack]:
    ms = MiniStack().start()
    try:
        provider = ms.deploy_provider(build_dir=tmp_path_factory.mktemp("sam"))
        assert provider.status == "CREATE_COMPLETE", provider.output_text
        ms.create_rule(BYSTANDER, BYSTANDER_URL)
        yield ms
    finally:
        ms.stop()


@pytest.fixture(autouse=True)
def bystander_untouched(ministack: MiniStack) -> Iterator[None]:
    """The rule no stack owns survives every test, and no test's call names it."""
    before = ministack.ecr_rules()[BYSTANDER]
    calls_before = len(ministack.ecr_calls())
    yield
    calls = ministack.ecr_calls()[calls_before:]
    named = [op for op, params in calls if params.get("ecrRepositoryPrefix") == BYSTANDER]
    named += [op for op, params in calls if BYSTANDER in (params.get("ecrRepositoryPrefixes") or [])]
    assert not named, f"calls named the rule no stack owns: {named}"
    assert ministack.ecr_rules().get(BYSTANDER) == before


class Stacks:
    """One test's stacks: create/update/delete through MiniStack, remembered for clean-up."""

    def __init__(self, ms: MiniStack) -> None:
        self.ms = ms
        self.names: list[str] = []
        self.rules_before = set(ms.ecr_rules())

    def name(self, base: str) -> str:
        return f"{base}-{next(_names)}"

    def create(
        self,
        name: str,
        template: Path | Mapping[str, Any] | str,
        parameters: Mapping[str, str] | None = None,
        disable_rollback: bool = False,
    ) -> Operation:
        self.names.append(name)
        return self.ms.create_stack(name, template, parameters, disable_rollback=disable_rollback)

    def update(
        self, name: str, template: Path | Mapping[str, Any] | str, parameters: Mapping[str, str] | None = None
    ) -> Operation:
        return self.ms.update_stack(name, template, parameters)

    def delete(self, name: str) -> Operation:
        return self.ms.delete_stack(name)

    def secret(self, label: str) -> str:
        """A fresh secret ecr-pullthroughcache/<label>-<n> in MiniStack; its ARN."""
        return self.ms.create_secret(f"ecr-pullthroughcache/{label}-{next(_names)}", SECRET_VALUE)

    def clean_up(self) -> None:
        for name in reversed(self.names):
            if self.ms._stack_id(name) is not None:
                self.ms.delete_stack(name)
        for prefix in set(self.ms.ecr_rules()) - self.rules_before:
            self.ms.delete_rule(prefix)


@pytest.fixture
def stacks(ministack: MiniStack) -> Iterator[Stacks]:
    made = Stacks(ministack)
    yield made
    made.clean_up()


def writes(op: Operation) -> list[str]:
    """The ECR calls of an operation that change the registry, in order."""
    return [name for name in op.ecr_operations() if name not in READS]


def prefixes_called(op: Operation) -> set[str]:
    """Every prefix an operation's ECR calls named."""
    named: set[str] = set()
    for _, params in op.ecr_calls:
        if params.get("ecrRepositoryPrefix"):
            named.add(str(params["ecrRepositoryPrefix"]))
        named.update(str(p) for p in params.get("ecrRepositoryPrefixes") or [])
    return named


def requests(op: Operation) -> list[tuple[str, str | None, str | None, str | None]]:
    """(RequestType, PhysicalResourceId on record, answer Status, answered id) per request."""
    return [
        (
            r.request_type,
            r.physical_id,
            None if r.answer is None else r.answer.get("Status"),
            None if r.answer is None else r.answer.get("PhysicalResourceId"),
        )
        for r in op.requests
    ]
