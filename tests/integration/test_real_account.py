"""The deployed provider, driven by real CloudFormation in a real account.

Deploys nothing of the provider itself: deploy it first (`sam build && sam deploy`), then

    PTC_STACK_NAME=ecr-ptc-provider AWS_PROFILE=... AWS_REGION=... \\
        .venv/bin/python -m pytest tests/integration -m integration -o addopts=""

Both are needed: PTC_STACK_NAME names the provider's stack, and `-m integration` selects these
tests alone. Only then, and only for these tests, does tests/conftest.py give back the AWS
settings the run was started with and let them leave 127.0.0.1; every other test keeps its fake
credentials and the loopback-only network (tests/test_network_guard.py). Without both, these
tests are skipped. (`./dev test` replaces the credentials with fake ones, so run pytest
directly; the test refuses to start with those.) The test
creates one consumer stack from examples/ecr-public.yaml and walks it through create, an
in-place update, a replacement under a new prefix, a replacement under the same prefix
(switching the template to examples/quay.yaml) and delete, checking the registry with
DescribePullThroughCacheRules after each step. Its prefixes are unique to the run
(ptc-it-<8 hex>-a/-b), and it removes its stack even when a step fails.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
STACK_ENV = "PTC_STACK_NAME"
SKIP_REASON = "set PTC_STACK_NAME and AWS credentials to run against a real account"
WAIT = {"Delay": 5, "MaxAttempts": 180}  # up to 15 minutes per stack operation
FAKE_ACCESS_KEY = "testing"  # what tests/conftest.py and ./dev test put in place of credentials

# tests/conftest.py skips these unless PTC_STACK_NAME is set and `-m integration` is given.
pytestmark = [pytest.mark.integration]


@dataclass
class Account:
    cloudformation: Any
    ecr: Any
    account_id: str
    provider_stack: str


@pytest.fixture(scope="module")
def account(real_aws_environment: None) -> Account:
    import boto3

    session = boto3.Session()
    credentials = session.get_credentials()
    if credentials is None or session.region_name is None:
        pytest.skip(SKIP_REASON + " (and a Region: AWS_REGION or the profile's region)")
    if credentials.access_key == FAKE_ACCESS_KEY:
        pytest.fail(
            "the AWS credentials are the test suite's fake ones (./dev test sets them): run "
            ".venv/bin/python -m pytest tests/integration -m integration directly, with your own"
        )
    provider_stack = os.environ[STACK_ENV]
    cloudformation = session.client("cloudformation")
    account_id = session.client("sts").get_caller_identity()["Account"]
    (stack,) = cloudformation.describe_stacks(StackName=provider_stack)["Stacks"]
    exports = {o.get("ExportName") for o in stack.get("Outputs", [])}
    assert f"{provider_stack}-ServiceToken" in exports, (
        f"stack {provider_stack} does not export {provider_stack}-ServiceToken: "
        "is it the provider deployed from template.yaml?"
    )
    return Account(cloudformation, session.client("ecr"), account_id, provider_stack)


@pytest.fixture
def consumer(account: Account) -> Iterator[ConsumerStack]:
    stack = ConsumerStack(account, f"ptc-it-{uuid.uuid4().hex[:8]}")
    try:
        yield stack
    finally:
        stack.remove()


class ConsumerStack:
    """One consumer stack of the test, and the rules it may leave behind."""

    def __init__(self, account: Account, name: str) -> None:
        self.account = account
        self.name = name
        self.prefixes: set[str] = set()

    def prefix(self, suffix: str) -> str:
        prefix = f"{self.name}-{suffix}"
        self.prefixes.add(prefix)
        return prefix

    def parameters(self, prefix: str, validate: bool = False) -> list[dict[str, str]]:
        values = {
            "ProviderStackName": self.account.provider_stack,
            "EcrRepositoryPrefix": prefix,
            "ValidateCredentials": "true" if validate else "false",
        }
        return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]

    def create(self, example: str, prefix: str) -> None:
        self.account.cloudformation.create_stack(
            StackName=self.name,
            TemplateBody=(ROOT / "examples" / example).read_text(encoding="utf-8"),
            Parameters=self.parameters(prefix),
            OnFailure="DELETE",
        )
        self._wait("stack_create_complete", "create")

    def update(self, example: str, prefix: str, validate: bool = False) -> None:
        self.account.cloudformation.update_stack(
            StackName=self.name,
            TemplateBody=(ROOT / "examples" / example).read_text(encoding="utf-8"),
            Parameters=self.parameters(prefix, validate),
        )
        self._wait("stack_update_complete", "update")

    def delete(self) -> None:
        self.account.cloudformation.delete_stack(StackName=self.name)
        self._wait("stack_delete_complete", "delete")

    def outputs(self) -> dict[str, str]:
        (stack,) = self.account.cloudformation.describe_stacks(StackName=self.name)["Stacks"]
        return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}

    def physical_id(self) -> str:
        resource = self.account.cloudformation.describe_stack_resource(
            StackName=self.name, LogicalResourceId="PullThroughCacheRule"
        )["StackResourceDetail"]
        return str(resource["PhysicalResourceId"])

    def _wait(self, waiter: str, what: str) -> None:
        from botocore.exceptions import WaiterError

        try:
            self.account.cloudformation.get_waiter(waiter).wait(StackName=self.name, WaiterConfig=WAIT)
        except WaiterError as error:
            pytest.fail(f"{what} of {self.name} did not complete: {error}\n{self._failures()}")

    def _failures(self) -> str:
        try:
            events = self.account.cloudformation.describe_stack_events(StackName=self.name)
        except Exception as error:  # noqa: BLE001 -- only to enrich a failure message
            return f"(no events: {error})"
        return "\n".join(
            f"{e['LogicalResourceId']} {e['ResourceStatus']}: {e.get('ResourceStatusReason', '')}"
            for e in events["StackEvents"][:20]
            if "FAILED" in e["ResourceStatus"]
        )

    def remove(self) -> None:
        """Delete the stack if it is still there, then any rule of this run left behind."""
        from botocore.exceptions import ClientError, WaiterError

        try:
            self.account.cloudformation.delete_stack(StackName=self.name)
            self.account.cloudformation.get_waiter("stack_delete_complete").wait(
                StackName=self.name, WaiterConfig=WAIT
            )
        except (ClientError, WaiterError):
            pass
        for prefix in self.prefixes:  # unique to this run: never someone else's rule
            if rule_of(self.account.ecr, prefix) is not None:
                self.account.ecr.delete_pull_through_cache_rule(ecrRepositoryPrefix=prefix)


def rule_of(ecr: Any, prefix: str) -> dict[str, Any] | None:
    """The rule as DescribePullThroughCacheRules reports it, or None."""
    try:
        rules = ecr.describe_pull_through_cache_rules(ecrRepositoryPrefixes=[prefix])
    except ecr.exceptions.PullThroughCacheRuleNotFoundException:
        return None
    found = [r for r in rules["pullThroughCacheRules"] if r["ecrRepositoryPrefix"] == prefix]
    return found[0] if found else None


def test_consumer_stack_create_update_replace_delete(account: Account, consumer: ConsumerStack) -> None:
    ecr = account.ecr
    first, second = consumer.prefix("a"), consumer.prefix("b")

    # Create: the rule exists, Ref is its prefix, the attributes come back.
    consumer.create("ecr-public.yaml", first)
    rule = rule_of(ecr, first)
    assert rule is not None, f"no rule {first} after create"
    assert rule["upstreamRegistryUrl"] == "public.ecr.aws"
    assert rule.get("upstreamRegistry") == "ecr-public"
    assert consumer.physical_id() == first
    outputs = consumer.outputs()
    assert outputs["EcrRepositoryPrefix"] == first
    assert outputs["RegistryId"] == account.account_id
    assert outputs["UpstreamRegistryUrl"] == "public.ecr.aws"
    assert outputs["CreatedAt"], "CreatedAt is set after a create"
    created = rule["createdAt"]

    # In-place update (nothing ECR holds changes): same id, the very same rule.
    consumer.update("ecr-public.yaml", first, validate=True)
    assert consumer.physical_id() == first
    rule = rule_of(ecr, first)
    assert rule is not None and rule["createdAt"] == created, "an in-place update replaced the rule"

    # Replacement under a new prefix: new id; CloudFormation's cleanup deleted the old rule.
    consumer.update("ecr-public.yaml", second)
    assert consumer.physical_id() == second
    assert rule_of(ecr, second) is not None
    assert rule_of(ecr, first) is None, f"the old rule {first} was left behind"

    # Replacement under the same prefix (another upstream): same id, a new rule.
    before = rule_of(ecr, second)
    assert before is not None
    consumer.update("quay.yaml", second)
    assert consumer.physical_id() == second
    rule = rule_of(ecr, second)
    assert rule is not None
    assert rule["upstreamRegistryUrl"] == "quay.io"
    assert rule.get("upstreamRegistry") == "quay"
    assert rule["createdAt"] >= before["createdAt"]

    # Delete: the rule is gone.
    consumer.delete()
    assert rule_of(ecr, second) is None, f"rule {second} is still there after delete"
