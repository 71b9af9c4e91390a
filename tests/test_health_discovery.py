"""The health check's reads (src/health/discovery.py, registry.py, run.py) through check(), with
CloudFormation's and ECR's answers given by botocore's Stubber: every page read, deleted stacks
and deleted resources skipped, a stack gone between the reads skipped, a NoEcho parameter never
guessed, a native AWS::ECR::PullThroughCacheRule never UNMANAGED, a refused read named by its
action, and only read calls made."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber

from health import State, check
from health.clients import RETRIES
from health.clients import clients as clients_of
from health.errors import CannotRead
from health.report import Drift
from health.run import READ_ACTIONS

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT = "123456789012"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:ecr-pullthroughcache/ghcr-AbCdEf"


def stack_id(name: str) -> str:
    return f"arn:aws:cloudformation:us-east-1:{ACCOUNT}:stack/{name}/0a1b"


def summary(name: str, status: str = "CREATE_COMPLETE") -> dict[str, Any]:
    return {"StackName": name, "StackId": stack_id(name), "StackStatus": status, "CreationTime": "2026-01-01"}


def resource(logical: str, kind: str, physical: str, status: str = "CREATE_COMPLETE") -> dict[str, Any]:
    return {
        "LogicalResourceId": logical,
        "PhysicalResourceId": physical,
        "ResourceType": kind,
        "LastUpdatedTimestamp": "2026-01-01",
        "ResourceStatus": status,
    }


GHCR_TEMPLATE = """
Parameters:
  Prefix: {Type: String}
  Token: {Type: String, NoEcho: true}
Resources:
  Cache:
    Type: Custom::PullThroughCacheRule
    Properties:
      ServiceToken: !ImportValue ecr-ptc-provider-ServiceToken
      EcrRepositoryPrefix: !Ref Prefix
      UpstreamRegistryUrl: ghcr.io
      UpstreamRegistry: !Sub "github-container-${AWS::NoSuchThing}"
      CredentialArn: !Ref Token
"""


CALLED: list[str] = []


@pytest.fixture
def clients() -> Iterator[tuple[Any, Stubber, Any, Stubber]]:
    config = Config(region_name="us-east-1", retries={"mode": "standard", "max_attempts": 1})
    keys = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}
    cloudformation = boto3.client("cloudformation", config=config, **keys)
    ecr = boto3.client("ecr", config=config, **keys)
    CALLED.clear()
    for client in (cloudformation, ecr):
        client.meta.events.register("before-parameter-build", record_call)
    with Stubber(cloudformation) as cfn_stub, Stubber(ecr) as ecr_stub:
        yield cloudformation, cfn_stub, ecr, ecr_stub
        cfn_stub.assert_no_pending_responses()
        ecr_stub.assert_no_pending_responses()


def record_call(model: Any, **kwargs: Any) -> None:
    CALLED.append(f"{model.service_model.signing_name}:{model.name}")


def test_every_page_every_live_stack_and_what_each_holds(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    cloudformation, cfn, ecr, registry = clients
    cfn.add_response(
        "list_stacks", {"StackSummaries": [summary("old", "DELETE_COMPLETE")], "NextToken": "p2"}
    )
    cfn.add_response(
        "list_stacks",
        {"StackSummaries": [summary("ghcr-cache"), summary("native"), summary("gone")]},
        {"NextToken": "p2"},
    )
    ghcr_resources = [
        resource("Cache", "Custom::PullThroughCacheRule", "ghcr"),
        resource("Removed", "Custom::PullThroughCacheRule", "removed", status="DELETE_COMPLETE"),
    ]
    cfn.add_response(
        "list_stack_resources", {"StackResourceSummaries": ghcr_resources[:1], "NextToken": "r2"}
    )
    cfn.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": ghcr_resources[1:]},
        {"StackName": ANY, "NextToken": "r2"},
    )
    cfn.add_response(
        "list_exports",
        {
            "Exports": [
                {"ExportingStackId": stack_id("p"), "Name": "ecr-ptc-provider-ServiceToken", "Value": "arn:f"}
            ]
        },
    )
    cfn.add_response(
        "get_template",
        {"TemplateBody": GHCR_TEMPLATE},
        {"StackName": stack_id("ghcr-cache"), "TemplateStage": "Processed"},
    )
    parameters = [
        {"ParameterKey": "Prefix", "ParameterValue": "ghcr"},
        {"ParameterKey": "Token", "ParameterValue": "****"},
    ]
    cfn.add_response(
        "describe_stacks",
        {
            "Stacks": [
                {
                    "StackName": "ghcr-cache",
                    "StackId": stack_id("ghcr-cache"),
                    "CreationTime": "2026-01-01",
                    "StackStatus": "CREATE_COMPLETE",
                    "Parameters": parameters,
                }
            ]
        },
        {"StackName": stack_id("ghcr-cache")},
    )
    cfn.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": [resource("Rule", "AWS::ECR::PullThroughCacheRule", "native-rule")]},
        {"StackName": stack_id("native")},
    )
    cfn.add_client_error(
        "list_stack_resources",
        "ValidationError",
        "Stack with id gone does not exist",
        expected_params={"StackName": stack_id("gone")},
    )
    registry.add_response(
        "describe_pull_through_cache_rules",
        {
            "pullThroughCacheRules": [
                {
                    "ecrRepositoryPrefix": "ghcr",
                    "upstreamRegistryUrl": "ghcr.io",
                    "upstreamRegistry": "github-container-registry",
                    "credentialArn": SECRET,
                    "customRoleArn": "arn:aws:iam::123456789012:role/by-hand",
                },
            ],
            "nextToken": "e2",
        },
    )
    registry.add_response(
        "describe_pull_through_cache_rules",
        {
            "pullThroughCacheRules": [
                {"ecrRepositoryPrefix": "native-rule", "upstreamRegistryUrl": "quay.io"},
                {"ecrRepositoryPrefix": "by-hand", "upstreamRegistryUrl": "quay.io"},
            ]
        },
        {"nextToken": "e2"},
    )
    registry.add_response(
        "validate_pull_through_cache_rule",
        {"ecrRepositoryPrefix": "ghcr", "isValid": True},
        {"ecrRepositoryPrefix": "ghcr"},
    )

    report = check(cloudformation, ecr)

    assert [(r.stack, r.logical_id, r.prefix, r.state) for r in report.rules] == [
        ("ghcr-cache", "Cache", "ghcr", State.DRIFTED),
        (None, None, "by-hand", State.UNMANAGED),  # native-rule is a stack's: never UNMANAGED
    ]
    ghcr = report.rules[0]
    assert ghcr.drifted == (Drift("CustomRoleArn", "arn:aws:iam::123456789012:role/by-hand", None),)
    assert ghcr.not_checked == ("UpstreamRegistry", "CredentialArn")  # not guessed
    assert "not checked: UpstreamRegistry (Ref AWS::NoSuchThing)" in ghcr.detail
    assert "NoEcho" in ghcr.detail
    assert "****" not in report.to_json()
    assert set(CALLED) == set(READ_ACTIONS)  # every read, and nothing else


def test_the_documented_policy_grants_exactly_the_reads() -> None:
    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    section = text[text.index("\n## Health check\n") :]
    section = section[: section.index("\n## ", 1)]
    (block,) = re.findall(r"^```json\n(.*?)^```$", section, re.M | re.S)
    (statement,) = json.loads(block)["Statement"]
    assert statement["Action"] == list(READ_ACTIONS)


@pytest.mark.parametrize(
    ("service", "operation", "action"),
    [
        ("cloudformation", "list_stacks", "cloudformation:ListStacks"),
        ("ecr", "describe_pull_through_cache_rules", "ecr:DescribePullThroughCacheRules"),
    ],
)
def test_a_refused_read_names_its_action(
    clients: tuple[Any, Stubber, Any, Stubber], service: str, operation: str, action: str
) -> None:
    cloudformation, cfn, ecr, registry = clients
    if service == "ecr":
        cfn.add_response("list_stacks", {"StackSummaries": []})
    (cfn if service == "cloudformation" else registry).add_client_error(
        operation, "AccessDeniedException", "not authorized"
    )
    with pytest.raises(CannotRead) as refused:
        check(cloudformation, ecr)
    assert refused.value.action == action
    assert str(refused.value).startswith(
        f"{action} was refused (AccessDeniedException): the health check needs it"
    )
    assert "docs/reference.md#health-check" in str(refused.value)


def test_a_refused_validation_stops_the_check_naming_the_action(
    clients: tuple[Any, Stubber, Any, Stubber],
) -> None:
    cloudformation, cfn, ecr, registry = clients
    one_managed_rule(cfn, registry)
    registry.add_client_error("validate_pull_through_cache_rule", "AccessDeniedException", "no")
    with pytest.raises(CannotRead, match="ecr:ValidatePullThroughCacheRule was refused"):
        check(cloudformation, ecr)


def test_the_clients_retry_throttling_in_standard_mode_up_to_ten_attempts() -> None:
    session = boto3.Session(region_name="us-east-1", aws_access_key_id="t", aws_secret_access_key="t")
    for client in clients_of(session):
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 10}
        assert client.meta.config.retries == RETRIES.retries


def one_managed_rule(cfn: Stubber, registry: Stubber) -> None:
    """One stack holding 'k8s' as the template asks, and ECR holding it."""
    cfn.add_response("list_stacks", {"StackSummaries": [summary("k8s")]})
    cfn.add_response(
        "list_stack_resources",
        {"StackResourceSummaries": [resource("R", "Custom::PullThroughCacheRule", "k8s")]},
    )
    cfn.add_response("list_exports", {"Exports": []})
    properties = {"EcrRepositoryPrefix": "k8s", "UpstreamRegistryUrl": "registry.k8s.io"}
    body = {"Resources": {"R": {"Type": "Custom::PullThroughCacheRule", "Properties": properties}}}
    cfn.add_response("get_template", {"TemplateBody": json.dumps(body)})
    created = {"CreationTime": "2026-01-01", "StackStatus": "CREATE_COMPLETE"}
    cfn.add_response(
        "describe_stacks", {"Stacks": [{"StackName": "k8s", "StackId": stack_id("k8s"), **created}]}
    )
    held = {"ecrRepositoryPrefix": "k8s", "upstreamRegistryUrl": "registry.k8s.io", "upstreamRegistry": "k8s"}
    registry.add_response("describe_pull_through_cache_rules", {"pullThroughCacheRules": [held]})


def test_a_rule_ecr_will_not_validate_does_not_stop_the_check(
    clients: tuple[Any, Stubber, Any, Stubber],
) -> None:
    cloudformation, cfn, ecr, registry = clients
    one_managed_rule(cfn, registry)
    registry.add_client_error(
        "validate_pull_through_cache_rule", "ValidationException", "nothing to validate"
    )
    (entry,) = check(cloudformation, ecr).rules
    assert entry.state == State.HEALTHY
    assert entry.detail == "not validated: ECR answered ValidationException: nothing to validate"


def test_refused_credentials_say_so(clients: tuple[Any, Stubber, Any, Stubber]) -> None:
    cloudformation, cfn, _, _ = clients
    cfn.add_client_error(
        "list_stacks", "ExpiredToken", "The security token included in the request is expired"
    )
    with pytest.raises(
        CannotRead, match=r"cloudformation:ListStacks was refused \(ExpiredToken\): the credentials"
    ):
        check(cloudformation, _)
