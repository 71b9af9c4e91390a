"""The upgrade procedure of README.md ("Versions, compatibility and upgrades") on MiniStack.

A provider stack of its own (UPGRADE_STACK) is deployed from the project's source with the
real `sam build && sam deploy`, consumer stacks import its ServiceToken export, then a newer
provider is deployed over it under the same stack name: a copy of template.yaml, samconfig.toml
and src/ whose version (src/ecr_ptc_contract/version.py, the template's SemanticVersion) is the next
patch release. New code, so `sam deploy` updates the function's code and configuration in
place, as a real release does.

What MiniStack shows here, with its real CloudFormation and Lambda: the export keeps its name
and value; the consumer stack gets no request and needs no change; its next update is served
by the new code (the decision line's provider_version); the upgrade touches no rule.

What it cannot show: that a request in flight during the upgrade is still answered. Lambda lets
an invocation that started on the old code finish on it; MiniStack (1.5.33) stops the function's
worker process when its code or configuration is updated, the invocation it was serving
included (lambda_svc._update_config -> invalidate_worker kills busy workers too). The in-flight
test below records that departure (it flips when MiniStack changes) and asserts what the
provider guarantees even then: the unanswered request fails the consumer's update after its
ServiceTimeout, the rollback (served by the new code) finds ECR holding the rule as the stack
says and writes nothing, and the same update afterwards succeeds. On AWS, CloudFormation
invokes the function asynchronously and an invocation stopped by a failure is retried with the
same RequestId; the provider decides every request from ECR's state, so a retry served by
another process is answered as the first would have been (tests/runtime covers a request
delivered twice).
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import ROOT, MiniStack, Operation
from devkit.release.version import PLACES
from ecr_ptc_contract import VERSION
from tests.ministack.conftest import Stacks, requests, writes

UPGRADE_STACK = "ecr-ptc-upgrade"
EXPORT = f"{UPGRADE_STACK}-ServiceToken"
VERSIONED = ("src/ecr_ptc_contract/version.py", "template.yaml")
# The consumer's ServiceTimeout in the in-flight test: the window in which the upgrade must
# reach the function while the request is held (MiniStack waits this long again after the
# invocation ends unanswered).
IN_FLIGHT_TIMEOUT_S = 30
WAIT_S = 120.0  # a bound for waiting on a condition, never reached when things work


def newer(version: str, steps: int) -> str:
    """The patch release `steps` after `version` (1.0.0, 2 -> 1.0.2)."""
    major, minor, patch = (int(part) for part in version.split("-", 1)[0].split("."))
    return f"{major}.{minor}.{patch + steps}"


@dataclass
class Provider:
    """The provider stack of these tests, and its releases."""

    ms: MiniStack
    work: Path
    version: str = VERSION
    releases: int = 0
    deploys: list[Operation] = field(default_factory=list)

    def source(self, version: str) -> Path:
        """A copy of the project's source (what `sam build` and `sam deploy` read) with `version`
        written in."""
        copy = self.work / f"source-{version}"
        if not copy.exists():
            copy.mkdir()
            # (the template's SAR metadata names LICENSE and README.md: sam deploy uploads them)
            for name in ("template.yaml", "samconfig.toml", "LICENSE", "README.md"):
                shutil.copy2(ROOT / name, copy / name)
            shutil.copytree(ROOT / "src", copy / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            for place in PLACES:
                if place.path in VERSIONED:
                    path = copy / place.path
                    text = path.read_text()
                    written = place.regex().sub(lambda m: m[0].replace(m["v"], version), text, count=1)
                    assert written != text, f"{place.path}: the version was not found"
                    path.write_text(written)
        return copy

    def build_next(self) -> tuple[str, Path, Path]:
        """`sam build` of the next release; (its version, its source, its build directory)."""
        self.releases += 1
        version = newer(VERSION, self.releases)
        source, build = self.source(version), self.work / f"build-{version}"
        self.ms.build_provider(build, source)
        return version, source, build

    def deploy(self, source: Path, build: Path, version: str, built: bool = False) -> Operation:
        op = self.ms.deploy_provider(UPGRADE_STACK, build_dir=build, source=source, build=not built)
        assert op.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), op.output_text[-3000:]
        self.version = version
        self.deploys.append(op)
        return op

    def export(self) -> dict[str, str]:
        """The stack's exports, by name (ListExports)."""
        exports = self.ms.client("cloudformation").list_exports()["Exports"]
        return {str(e["Name"]): str(e["Value"]) for e in exports if str(e["Name"]).startswith(UPGRADE_STACK)}

    def function(self) -> dict[str, Any]:
        name = self.ms.provider_function_name(UPGRADE_STACK)
        config: dict[str, Any] = self.ms.client("lambda").get_function(FunctionName=name)["Configuration"]
        return config

    def decision(self, request_id: str) -> dict[str, Any]:
        """The decision line the provider logged for this request (MiniStack's CloudWatch Logs)."""
        name = self.ms.provider_function_name(UPGRADE_STACK)
        for line in self.ms.function_logs(name):
            if not line.startswith("{"):
                continue  # START / END / REPORT (test_departures.py)
            record = json.loads(line)
            if record.get("correlation_id") == request_id and "decision" in record:
                decision: dict[str, Any] = record["decision"]
                return decision
        raise AssertionError(f"no decision line for request {request_id}")


@pytest.fixture(scope="module")
def provider(ministack: MiniStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    made = Provider(ministack, tmp_path_factory.mktemp("upgrade"))
    made.deploy(ROOT, made.work / f"build-{VERSION}", VERSION)
    yield made
    if ministack._stack_id(UPGRADE_STACK) is not None:
        ministack.delete_stack(UPGRADE_STACK)


def consumer(validate: bool = True, service_timeout: int | None = None) -> dict[str, Any]:
    """examples/ghcr.yaml (a credential: an in-place update to make), optionally changed."""
    template = templates.example("ghcr")
    properties = template["Resources"]["PullThroughCacheRule"]["Properties"]
    properties["ValidateCredentials"] = "true" if validate else "false"
    if service_timeout is not None:
        properties["ServiceTimeout"] = str(service_timeout)
    return template


def test_a_newer_provider_keeps_the_export_and_the_consumer_needs_no_change(
    provider: Provider, stacks: Stacks
) -> None:
    ms = stacks.ms
    a, b = stacks.secret("upgrade-a"), stacks.secret("upgrade-b")
    name = prefix = stacks.name("upgrade")
    parameters = {"ProviderStackName": UPGRADE_STACK, "EcrRepositoryPrefix": prefix}
    created = stacks.create(name, consumer(), parameters | {"CredentialArn": a})
    assert created.status == "CREATE_COMPLETE"
    assert provider.decision(created.requests[0].event["RequestId"])["provider_version"] == VERSION

    export, function = provider.export(), provider.function()
    seen = len(ms.requests())
    version, source, build = provider.build_next()
    upgrade = provider.deploy(source, build, version, built=True)

    assert upgrade.status == "UPDATE_COMPLETE"
    assert provider.export() == export  # same name, same value
    assert list(export) == [EXPORT]
    assert upgrade.outputs["ServiceToken"] == export[EXPORT] == function["FunctionArn"]
    updated = provider.function()
    assert updated["FunctionArn"] == function["FunctionArn"]
    assert updated["CodeSha256"] != function["CodeSha256"]  # new code, the same function
    assert upgrade.ecr_calls == []  # an upgrade touches no rule
    assert ms.requests()[seen:] == []  # the consumer was sent nothing
    stack = ms.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"

    # the consumer's next update, as it is, is served by the new code
    rotated = stacks.update(name, consumer(), parameters | {"CredentialArn": b})
    assert rotated.status == "UPDATE_COMPLETE"
    assert requests(rotated) == [("Update", prefix, "SUCCESS", prefix)]
    assert writes(rotated) == ["UpdatePullThroughCacheRule"]
    assert rotated.rules[prefix]["credentialArn"] == b
    assert rotated.outputs["CredentialArn"] == b
    assert provider.decision(rotated.requests[0].event["RequestId"])["provider_version"] == version != VERSION


def test_a_request_in_flight_during_the_upgrade(provider: Provider, stacks: Stacks) -> None:
    """The consumer's in-place update is held in flight (ECR throttles every
    UpdatePullThroughCacheRule: the provider retries within its deadline) while a newer
    provider is deployed; then ECR admits the call again.

    Lambda: the invocation finishes on the old code, the update answers SUCCESS,
    UPDATE_COMPLETE. MiniStack (the departure asserted here): the upgrade stops the worker
    serving it, the request is never answered, and the update fails after its ServiceTimeout."""
    ms = stacks.ms
    a, b = stacks.secret("inflight-a"), stacks.secret("inflight-b")
    name = prefix = stacks.name("in-flight")
    template = consumer(validate=False, service_timeout=IN_FLIGHT_TIMEOUT_S)
    parameters = {"ProviderStackName": UPGRADE_STACK, "EcrRepositoryPrefix": prefix}
    assert stacks.create(name, template, parameters | {"CredentialArn": a}).status == "CREATE_COMPLETE"
    old_version = provider.version
    version, source, build = provider.build_next()  # built before: the upgrade is the deploy alone

    held: list[Operation] = []
    ms.ecr_fault("fail", operation="UpdatePullThroughCacheRule", code="ThrottlingException", times=-1)
    try:
        update = threading.Thread(
            target=lambda: held.append(stacks.update(name, template, parameters | {"CredentialArn": b}))
        )
        update.start()
        _wait_until(lambda: _update_attempts(ms, prefix) > 0, "the provider to try the update")
        upgrade = provider.deploy(source, build, version, built=True)
        in_flight = [r for r in ms.requests() if r.event.get("StackId") == ms._stack_id(name)]
        assert in_flight and in_flight[-1].answer is None, (
            "the request was answered before the upgrade reached the function: the upgrade took "
            f"longer than the consumer's ServiceTimeout ({IN_FLIGHT_TIMEOUT_S} s); raise IN_FLIGHT_TIMEOUT_S"
        )
    finally:
        ms.ecr_fault("clear")
    update.join(WAIT_S + 3 * IN_FLIGHT_TIMEOUT_S)
    [op] = held

    assert upgrade.status == "UPDATE_COMPLETE"
    # MiniStack's departure: the in-flight request is never answered (Lambda: SUCCESS, by the
    # old code), so CloudFormation waits out its ServiceTimeout and rolls the update back
    first, rollback = op.requests
    assert first.request_type == "Update" and first.answer is None
    failed = [e for e in op.events if e.logical_id == "PullThroughCacheRule" and e.status == "UPDATE_FAILED"]
    assert [e.reason for e in failed] == [
        f"Custom resource 'PullThroughCacheRule' timed out after {IN_FLIGHT_TIMEOUT_S}s waiting for "
        "ResponseURL callback"
    ]
    assert op.status == "UPDATE_ROLLBACK_COMPLETE"
    # what holds either way: the rollback, served by the new code, finds ECR holding the rule
    # as the stack says (the held update never took effect) and writes nothing
    assert rollback.answer is not None and rollback.answer["Status"] == "SUCCESS"
    decision = provider.decision(rollback.event["RequestId"])
    assert decision["provider_version"] == version != old_version
    assert decision["ecr_calls"] == 1
    assert op.rules[prefix]["credentialArn"] == a == op.outputs["CredentialArn"]
    assert [c for c in writes(op) if c != "UpdatePullThroughCacheRule"] == []  # only the refused tries

    # and the same update afterwards works, with no change to the consumer
    again = stacks.update(name, template, parameters | {"CredentialArn": b})
    assert again.status == "UPDATE_COMPLETE"
    assert requests(again) == [("Update", prefix, "SUCCESS", prefix)]
    assert again.rules[prefix]["credentialArn"] == b == again.outputs["CredentialArn"]


def _update_attempts(ms: MiniStack, prefix: str) -> int:
    return sum(
        1
        for operation, params in ms.ecr_calls()
        if operation == "UpdatePullThroughCacheRule" and params.get("ecrRepositoryPrefix") == prefix
    )


def _wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll for a condition the system under test brings about (bounded, never a fixed pause)."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {WAIT_S:.0f} s for {what}")
        time.sleep(0.05)
