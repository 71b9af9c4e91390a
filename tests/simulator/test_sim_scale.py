"""A stack of 50 rules (ECR's quota) created, updated in place (every credential rotated) and
deleted with CloudFormation's parallelism, against an ECR that throttles beyond a few calls per
second. Ten Lambda containers (separate processes, each with its own handler module) serve the
requests concurrently; retry pauses run on a shared virtual clock that also drives the throttle
(see devkit.aws_lambda.containers), so the run is as long as its calls, not its pauses."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from pathlib import Path as FilePath
from typing import Any

import boto3
import pytest

import ecr_ptc_emulator
from devkit.aws_lambda.containers import ContainerPool, VirtualClock
from devkit.cloudformation.invariants import Invariants, Registry
from devkit.cloudformation.receiver import Receiver
from devkit.cloudformation.simulator import SUCCESS, Ledger, Stack, Template
from ecr_ptc_emulator.server import start
from tests.simulator.conftest import Tally

RULES = 50
CONTAINERS = 10  # concurrent invocations: CloudFormation's parallelism for independent resources
RATE_PER_S, BURST = 5.0, 5  # ECR admits this many calls per (virtual) second, and bursts of this many


@pytest.fixture
def emulator_server() -> Iterator[str]:
    server, url = start(0)
    reset = urllib.request.Request(f"{url}/moto-api/reset", data=b"")
    try:
        urllib.request.urlopen(reset, timeout=30).close()
        yield url
    finally:
        urllib.request.urlopen(reset, timeout=30).close()
        server.stop()


def template(secret: str) -> Template:
    return {
        f"Hub{n:02d}": {
            "EcrRepositoryPrefix": f"hub-{n:02d}",
            "UpstreamRegistryUrl": "registry-1.docker.io",
            "CredentialArn": secret,
        }
        for n in range(RULES)
    }


def client(service: str, url: str) -> Any:
    return boto3.client(service, region_name="us-east-1", endpoint_url=url)


class Throttled:
    """Counts the calls the emulator's throttle refused (its server runs in this process)."""

    def __init__(self, faults: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        check = faults.check

        def counting(operation: str) -> None:
            try:
                check(operation)
            except Exception as error:
                if getattr(error, "error_type", "") == "ThrottlingException":
                    self.count += 1
                raise

        monkeypatch.setattr(faults, "check", counting)


def test_fifty_rules_created_rotated_and_deleted_in_parallel_against_a_throttling_ecr(
    emulator_server: str,
    receiver: Receiver,
    tally: Tally,
    tmp_path: FilePath,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = VirtualClock()
    faults = ecr_ptc_emulator.faults()  # the server runs in this process: same backend
    faults.clock = clock.now
    faults.throttle(RATE_PER_S, burst=BURST)
    throttled_calls = Throttled(faults, monkeypatch)
    secrets = client("secretsmanager", emulator_server)
    old, new = (
        secrets.create_secret(Name=f"ecr-pullthroughcache/{name}", SecretString='{"username":"u"}')["ARN"]
        for name in ("hub-old", "hub-new")
    )
    ledger = Ledger()
    invariants = Invariants(ledger, Registry(client("ecr", emulator_server)))
    invariants.note_foreign()
    report: list[str] = []

    with (
        clock.served() as clock_url,
        (tmp_path / "containers.log").open("wb") as log,
        ContainerPool(CONTAINERS, emulator_server, clock, clock_url, log) as pool,
    ):
        stack = Stack(pool, receiver, ledger, name="scale", parallelism=CONTAINERS, function_timeout_s=120)
        for name, operation, expected in (
            ("create", lambda: stack.create(template(old)), "CREATE_COMPLETE"),
            ("rotate every credential", lambda: stack.update(template(new)), "UPDATE_COMPLETE"),
            ("delete", stack.delete, "DELETE_COMPLETE"),
        ):
            throttled, retries, started = throttled_calls.count, pool.retries, clock.now()

            status = operation()

            requests = stack.operation
            throttled = throttled_calls.count - throttled
            retried = pool.retries - retries
            invariants.check(stack, f"after {name}")
            ledger.check(status == expected, f"{name}: the stack ended {status}, not {expected}")
            ledger.check(len(requests) == RULES, f"{name}: {len(requests)} requests, not {RULES}")
            failed = [str(i) for i in requests if i.status != SUCCESS]
            ledger.check(not failed, f"{name}: not every request succeeded: {failed}")
            ledger.check(
                throttled == retried,
                f"{name}: ECR throttled {throttled} calls but the containers retried {retried}",
            )
            report.append(
                f"{name}: {len(requests)} requests, {throttled} throttled calls retried, "
                f"{clock.now() - started:.1f} s of virtual time"
            )
            if status != expected:
                break

    ledger.check(
        ecr_ptc_emulator.rules() == {}, f"rules left after the delete: {sorted(ecr_ptc_emulator.rules())}"
    )
    tally.scale.append(
        f"{RULES} rules, {CONTAINERS} containers, ECR admitting {RATE_PER_S:g} calls/s: " + "; ".join(report)
    )
    tally.add(ledger, len(stack.history), "throttled-at-scale")
    assert ledger.violations == [], "\n\n".join(ledger.violations)
