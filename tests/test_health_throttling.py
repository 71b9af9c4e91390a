"""The health check under throttling: CloudFormation's and ECR's throttled
reads are retried by botocore's standard mode on the clients health.clients makes, 10 attempts a
call, and the report comes out right; a read throttled past its 10 attempts fails the check
(CannotRead: ./dev health exits 2, the scheduled function raises). And the calls unthrottled are
the benchmark's formula (devkit/bench/health.py).

CloudFormation answers from devkit.cloudformation.read_api (400 Throttling on the wire, before
botocore's retry handler), ECR from the emulator (its scripted ThrottlingException). botocore
sleeps its backoff in botocore.endpoint: the sleep is recorded, not slept."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest

import ecr_ptc_emulator
from devkit.bench.health import formula
from devkit.cloudformation.read_api import ReadApi, Stack
from health import State, check
from health.clients import clients
from health.errors import CannotRead

MANAGED = "Custom::PullThroughCacheRule"
TEMPLATE = json.dumps(
    {
        "Parameters": {"Prefix": {"Type": "String"}},
        "Resources": {
            "Cache": {
                "Type": MANAGED,
                "Properties": {
                    "ServiceToken": {"Fn::ImportValue": "ecr-ptc-provider-ServiceToken"},
                    "EcrRepositoryPrefix": {"Ref": "Prefix"},
                    "UpstreamRegistryUrl": "public.ecr.aws",
                },
            }
        },
    }
)


@pytest.fixture
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's backoff delays, recorded instead of slept (botocore.endpoint's time.sleep only)."""
    delays: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=delays.append))
    return delays


@pytest.fixture
def account(emulator: None) -> tuple[Any, Any, ReadApi]:
    """health.clients' clients; CloudFormation holding 150 stacks (2 ListStacks pages), two of
    them with a rule, 'healthy' (in ECR) and 'missing' (not); ECR holding 'healthy' and
    'stray' (no stack's)."""
    cloudformation, ecr = clients(boto3.session.Session(region_name="us-east-1"))
    api = ReadApi().install(cloudformation)
    api.stacks = [
        Stack(f"app-{n}", resources={"Topic": ("AWS::SNS::Topic", f"topic-{n}")}) for n in range(148)
    ]
    for prefix in ("healthy", "missing"):
        api.stacks.append(Stack(prefix, TEMPLATE, {"Prefix": prefix}, {"Cache": (MANAGED, prefix)}))
    api.exports["ecr-ptc-provider-ServiceToken"] = "arn:aws:lambda:us-east-1:123456789012:function:p"
    for prefix in ("healthy", "stray"):
        ecr.create_pull_through_cache_rule(ecrRepositoryPrefix=prefix, upstreamRegistryUrl="public.ecr.aws")
    return cloudformation, ecr, api


def ecr_calls() -> dict[str, int]:
    counted: dict[str, int] = {}
    for operation, _ in ecr_ptc_emulator.calls():
        counted[operation] = counted.get(operation, 0) + 1
    return counted


def test_the_calls_are_the_benchmarks_formula(account: tuple[Any, Any, ReadApi]) -> None:
    """docs/benchmark.md's formula (devkit.bench.health.formula), pages included: 150 stacks
    (2 ListStacks pages), 2 holding a rule, 150 exports (2 ListExports pages), 2 rules in ECR
    of which 1 is a managed one (validated)."""
    cloudformation, ecr, api = account
    api.exports.update({f"export-{n}": f"value-{n}" for n in range(149)})
    before = sum(ecr_calls().values())

    check(cloudformation, ecr)

    made = sum(api.calls.values()) + sum(ecr_calls().values()) - before
    assert api.calls["ListStacks"] == 2 and api.calls["ListExports"] == 2
    assert made == formula(stacks=150, with_rule=2, rules=2, validated=1, exports=150)


def test_throttled_reads_are_retried_and_the_report_is_right(
    account: tuple[Any, Any, ReadApi], slept: list[float]
) -> None:
    cloudformation, ecr, api = account
    throttled = {
        "ListStacks": 3,
        "ListStackResources": 9,
        "ListExports": 2,
        "GetTemplate": 4,
        "DescribeStacks": 1,
    }
    for operation, times in throttled.items():
        api.throttle(operation, times)
    faults = ecr_ptc_emulator.faults()
    faults.fail("DescribePullThroughCacheRules", "ThrottlingException", message="Rate exceeded", times=9)
    faults.fail("ValidatePullThroughCacheRule", "ThrottlingException", message="Rate exceeded", times=5)
    before = ecr_calls()  # the two rules' creation

    report = check(cloudformation, ecr)

    states = {(rule.stack, rule.prefix): rule.state for rule in report.rules}
    assert states == {
        ("healthy", "healthy"): State.HEALTHY,
        ("missing", "missing"): State.MISSING,
        (None, "stray"): State.UNMANAGED,
    }
    # each read once, plus one attempt per throttled answer (9 = a call's 10th attempt succeeds)
    answered = {
        "ListStacks": 2,
        "ListStackResources": 150,
        "ListExports": 1,
        "GetTemplate": 2,
        "DescribeStacks": 2,
    }
    assert api.calls == {op: answered[op] + throttled[op] for op in answered}
    made = ecr_calls()
    assert made["DescribePullThroughCacheRules"] - before.get("DescribePullThroughCacheRules", 0) == 1 + 9
    assert made["ValidatePullThroughCacheRule"] == 1 + 5  # the one managed rule ECR holds
    # one backoff per throttled answer, botocore's: random, at most 20 s
    assert len(slept) == sum(throttled.values()) + 9 + 5
    assert all(0 <= delay <= 20 for delay in slept)


@pytest.mark.parametrize(
    ("service", "operation", "action", "code"),
    [
        ("cloudformation", "ListStackResources", "cloudformation:ListStackResources", "Throttling"),
        ("ecr", "DescribePullThroughCacheRules", "ecr:DescribePullThroughCacheRules", "ThrottlingException"),
    ],
)
def test_a_read_throttled_past_ten_attempts_fails_the_check(
    account: tuple[Any, Any, ReadApi],
    slept: list[float],
    service: str,
    operation: str,
    action: str,
    code: str,
) -> None:
    cloudformation, ecr, api = account
    if service == "cloudformation":
        api.throttle(operation, -1)
    else:
        ecr_ptc_emulator.faults().fail(operation, code, message="Rate exceeded", times=-1)

    with pytest.raises(CannotRead) as failed:
        check(cloudformation, ecr)

    assert (failed.value.action, failed.value.code) == (action, code)
    assert not failed.value.denied  # a failure, not a refusal: ./dev health exits 2 all the same
    attempts = api.calls[operation] if service == "cloudformation" else ecr_calls()[operation]
    assert attempts == 10  # the first call of the operation, and its 9 retries: then the check stops
    assert len(slept) == 9


def test_a_validation_throttled_past_ten_attempts_leaves_its_rule_not_validated(
    account: tuple[Any, Any, ReadApi], slept: list[float]
) -> None:
    """ECR's refusal to validate one rule (any code but a denial) does not stop the check: the
    rule is reported with what ECR answered, the other rules still are."""
    cloudformation, ecr, _ = account
    ecr_ptc_emulator.faults().fail(
        "ValidatePullThroughCacheRule", "ThrottlingException", message="Rate exceeded", times=-1
    )

    report = check(cloudformation, ecr)

    healthy = next(rule for rule in report.rules if rule.prefix == "healthy")
    assert healthy.state is State.HEALTHY
    assert "not validated: ECR answered ThrottlingException: Rate exceeded" in healthy.detail
    assert ecr_calls()["ValidatePullThroughCacheRule"] == 10
    assert len(slept) == 9


def test_sustained_throttling_spends_the_clients_retry_quota(
    account: tuple[Any, Any, ReadApi], slept: list[float]
) -> None:
    """botocore's standard mode keeps a retry quota per client (500 tokens; a throttled retry
    takes 5, a retried call that succeeds gives back 5): every ListStackResources throttled twice
    then answered nets 5 tokens a stack, so within the 100th stack a throttled answer is no
    longer retried and the check fails. Under throttling that lasts, the check
    fails (and the next scheduled run starts with a full quota); it does not run for ever."""
    cloudformation, ecr, api = account
    api.throttle_each("ListStackResources", 2)

    with pytest.raises(CannotRead) as failed:
        check(cloudformation, ecr)

    assert (failed.value.action, failed.value.code) == ("cloudformation:ListStackResources", "Throttling")
    # 99 stacks answered at their third attempt (5 tokens net each), the 100th's first retry
    # takes the last 5 tokens and its second throttled answer is not retried
    assert api.calls["ListStackResources"] == 99 * 3 + 2
    assert len(slept) == 99 * 2 + 1
