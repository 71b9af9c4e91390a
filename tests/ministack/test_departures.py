"""Where MiniStack (the pinned version, requirements-ministack.txt) departs from CloudFormation.

Each test asserts what MiniStack does TODAY, and says what CloudFormation does instead, so it
fails (flips) when an upgrade of MiniStack changes the behaviour: then update the test, the
notes in the other MiniStack tests that rely on it, and the project's simulator if needed.
The lifecycle simulator (tests/simulator) keeps covering CloudFormation's own sequences.

Some are seen with the provider; the rest with a probe (tests/ministack/probe/probe.py, a
test-only function, never part of the provider) that records what CloudFormation says
mid-operation (DescribeStacks, ListStackResources on the request's StackId), which is what a
provider can use to tell a rollback from a forward update.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import MiniStack, Operation
from tests.ministack.conftest import Stacks, requests, writes

PROBE = Path(__file__).with_name("probe") / "probe.py"
PROBE_EXPORT = "ministack-probe-ServiceToken"


# ---- seen with the provider -----------------------------------------------------------------


def test_ref_of_a_secret_gives_its_name(stacks: Stacks) -> None:
    """CloudFormation: `!Ref` of an AWS::SecretsManager::Secret is its ARN, so
    examples/docker-hub.yaml deploys. MiniStack: its name, which the provider refuses."""
    name = stacks.name("docker-hub-as-written")
    op = stacks.create(
        name, templates.example("docker-hub"), {"DockerHubUsername": "me", "DockerHubAccessToken": "t"}
    )
    assert op.status == "ROLLBACK_COMPLETE"
    [request] = op.requests
    assert request.properties["CredentialArn"] == "ecr-pullthroughcache/docker-hub"
    [reason] = op.reasons()
    assert "CredentialArn 'ecr-pullthroughcache/docker-hub' is not a Secrets Manager secret ARN" in reason
    assert op.ecr_calls == []
    secret = [e for e in op.events if e.logical_id == "DockerHubCredentials"]
    assert secret[0].resource_type == "AWS::SecretsManager::Secret"
    assert {e.physical_id for e in secret if e.physical_id} == {"ecr-pullthroughcache/docker-hub"}


def bad_input_template() -> dict[str, Any]:
    return {
        "Resources": {
            "Cache": {
                "Type": "Custom::PullThroughCacheRule",
                "Properties": {
                    "ServiceToken": {"Fn::ImportValue": "ecr-ptc-provider-ServiceToken"},
                    "EcrRepositoryPrefix": "Not_A_Prefix!",
                    "UpstreamRegistryUrl": "quay.io",
                },
            }
        }
    }


def test_no_delete_after_a_failed_create(stacks: Stacks) -> None:
    """CloudFormation: the rollback sends the failed resource a Delete with the id its FAILED
    answer carried. MiniStack: nothing (and nothing when a stack kept with DisableRollback is
    deleted either)."""
    op = stacks.create(stacks.name("bad-input"), bad_input_template())
    assert op.status == "ROLLBACK_COMPLETE"
    [(kind, _, status, failed_id)] = requests(op)
    assert (kind, status) == ("Create", "FAILED")
    assert failed_id is not None and failed_id.startswith("ecr-ptc:create-failed:")

    kept = stacks.name("bad-input-kept")
    op = stacks.create(kept, bad_input_template(), disable_rollback=True)
    assert op.status == "CREATE_FAILED"
    deleted = stacks.delete(kept)
    assert deleted.status == "DELETE_COMPLETE"
    assert deleted.requests == []


def test_cleanup_delete_of_a_replaced_rule_has_no_cleanup_phase(stacks: Stacks) -> None:
    """CloudFormation: after a replacement the stack enters UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
    and the old id's Delete shows as DELETE_IN_PROGRESS / DELETE_COMPLETE events. MiniStack:
    the Delete is sent and answered, with no cleanup status and no events for it."""
    name = stacks.name("k8s-move")
    template = templates.example("k8s")
    stacks.create(name, template)
    op = stacks.update(name, template, {"EcrRepositoryPrefix": "k8s-moved"})
    assert requests(op) == [("Update", "k8s", "SUCCESS", "k8s-moved"), ("Delete", "k8s", "SUCCESS", "k8s")]
    assert writes(op) == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule"]
    statuses = [(e.logical_id, e.status) for e in op.events]
    assert not [s for s in statuses if "CLEANUP" in s[1]]
    assert not [s for s in statuses if s[1].startswith("DELETE")]


def test_no_top_level_service_token_in_the_request(stacks: Stacks) -> None:
    """CloudFormation's request carries ServiceToken at the top level too (and ResourceProperties
    keeps it). MiniStack: only inside ResourceProperties."""
    op = stacks.create(
        stacks.name("k8s-fields"), templates.example("k8s"), {"EcrRepositoryPrefix": "k8s-fields"}
    )
    [request] = op.requests
    assert set(request.event) == {
        "RequestType",
        "RequestId",
        "StackId",
        "ResponseURL",
        "ResourceType",
        "LogicalResourceId",
        "ResourceProperties",
    }
    assert request.event["ResourceProperties"]["ServiceToken"].startswith("arn:aws:lambda:us-east-1:")


def test_replacement_then_a_siblings_failure_only_deletes_the_new_id(stacks: Stacks) -> None:
    """CloudFormation: the rollback sends the replaced resource an Update back to its old
    properties (with the NEW id on record), and if that answers the old id, a cleanup Delete of
    the new id; the failed sibling gets a Delete too. MiniStack: only a Delete of the new id."""
    name = stacks.name("k8s-sibling")
    template = templates.example("k8s")
    stacks.create(name, template)
    broken = {
        "Type": "Custom::PullThroughCacheRule",
        "DependsOn": "PullThroughCacheRule",
        "Properties": {
            "ServiceToken": {"Fn::ImportValue": "ecr-ptc-provider-ServiceToken"},
            "EcrRepositoryPrefix": "Not_A_Prefix!",
            "UpstreamRegistryUrl": "quay.io",
        },
    }
    op = stacks.update(
        name, templates.with_resource(template, "Broken", broken), {"EcrRepositoryPrefix": "k8s-2"}
    )
    assert op.status == "UPDATE_ROLLBACK_COMPLETE"
    assert [(r.request_type, r.logical_id, r.physical_id) for r in op.requests] == [
        ("Update", "PullThroughCacheRule", "k8s"),
        ("Create", "Broken", None),
        ("Delete", "PullThroughCacheRule", "k8s-2"),
    ]
    # the Delete carries the new properties, and the old rule comes back in the outputs
    assert op.requests[2].properties["EcrRepositoryPrefix"] == "k8s-2"
    assert op.outputs["EcrRepositoryPrefix"] == "k8s"


def test_a_removed_resource_is_deleted_without_events(stacks: Stacks) -> None:
    """CloudFormation: a resource the template no longer has is deleted in the cleanup phase,
    with DELETE_IN_PROGRESS / DELETE_COMPLETE events. MiniStack: the Delete is sent, no events."""
    name = stacks.name("k8s-remove")
    template = templates.example("k8s")
    quay = json.loads(json.dumps(template["Resources"]["PullThroughCacheRule"]))
    quay["Properties"].update(
        EcrRepositoryPrefix="quay-removed", UpstreamRegistryUrl="quay.io", UpstreamRegistry="quay"
    )
    stacks.create(name, templates.with_resource(template, "Removed", quay))
    op = stacks.update(name, template)
    assert requests(op) == [("Delete", "quay-removed", "SUCCESS", "quay-removed")]
    assert [e for e in op.events if e.logical_id == "Removed"] == []


def test_the_lambda_report_lines_are_plain_text(stacks: Stacks) -> None:
    """Lambda with LoggingConfig LogFormat JSON (template.yaml) writes its START / END / REPORT
    records as JSON. MiniStack writes them as plain text beside the provider's JSON lines."""
    stacks.create(stacks.name("k8s-logs"), templates.example("k8s"), {"EcrRepositoryPrefix": "k8s-logs"})
    lines = stacks.ms.function_logs(stacks.ms.provider_function_name())
    assert [line for line in lines if line.startswith("START RequestId: ")]
    assert [line for line in lines if line.startswith("REPORT RequestId: ")]
    assert [line for line in lines if line.startswith('{"level":"INFO"')]


def test_events_of_a_resource_added_by_an_update_say_update(stacks: Stacks) -> None:
    """CloudFormation: a resource created by a stack update gets CREATE_IN_PROGRESS /
    CREATE_COMPLETE events, and unchanged resources get none. MiniStack: UPDATE_IN_PROGRESS /
    UPDATE_COMPLETE for the new one, and for every unchanged one too (without a request)."""
    name = stacks.name("k8s-add")
    template = templates.example("k8s")
    stacks.create(name, template)
    quay = json.loads(json.dumps(template["Resources"]["PullThroughCacheRule"]))
    quay["Properties"].update(
        EcrRepositoryPrefix="quay-added", UpstreamRegistryUrl="quay.io", UpstreamRegistry="quay"
    )
    op = stacks.update(name, templates.with_resource(template, "Added", quay))
    assert op.status == "UPDATE_COMPLETE"
    assert requests(op) == [("Create", None, "SUCCESS", "quay-added")]
    events = [
        (e.logical_id, e.status) for e in op.events if e.resource_type == "Custom::PullThroughCacheRule"
    ]
    assert sorted(events) == [
        ("Added", "UPDATE_COMPLETE"),
        ("Added", "UPDATE_IN_PROGRESS"),
        ("PullThroughCacheRule", "UPDATE_COMPLETE"),
        ("PullThroughCacheRule", "UPDATE_IN_PROGRESS"),
    ]


# ---- seen with the probe ----------------------------------------------------------------------


class Probe:
    def __init__(self, ms: MiniStack, log: Path) -> None:
        self.ms = ms
        self.log = log

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]

    def during(self, op: Operation) -> list[dict[str, Any]]:
        ids = {r.event["RequestId"] for r in op.requests}
        return [r for r in self.records() if r["event"]["RequestId"] in ids]


def probe_template(resources: dict[str, dict[str, str]]) -> dict[str, Any]:
    return {
        "Resources": {
            name: {
                "Type": "Custom::Probe",
                "Properties": {"ServiceToken": {"Fn::ImportValue": PROBE_EXPORT}, **props},
            }
            for name, props in resources.items()
        }
    }


@pytest.fixture(scope="module")
def probe(ministack: MiniStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Probe]:
    log = tmp_path_factory.mktemp("probe") / "requests.jsonl"
    log.touch()
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.write(PROBE, "probe.py")
    s3 = ministack.client("s3")
    s3.create_bucket(Bucket="ministack-probe")
    s3.put_object(Bucket="ministack-probe", Key="probe.zip", Body=package.getvalue())
    function = {
        "Resources": {
            "Role": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "AssumeRolePolicyDocument": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "lambda.amazonaws.com"},
                                "Action": "sts:AssumeRole",
                            }
                        ],
                    }
                },
            },
            "Function": {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Runtime": "python3.13",
                    "Handler": "probe.handler",
                    "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                    "Timeout": 30,
                    "Code": {"S3Bucket": "ministack-probe", "S3Key": "probe.zip"},
                    "LoggingConfig": {"LogFormat": "JSON", "ApplicationLogLevel": "INFO"},
                    "Environment": {"Variables": {"PROBE_LOG": str(log)}},
                },
            },
        },
        "Outputs": {
            "Token": {"Value": {"Fn::GetAtt": ["Function", "Arn"]}, "Export": {"Name": PROBE_EXPORT}}
        },
    }
    op = ministack.create_stack("ministack-probe", function)
    assert op.status == "CREATE_COMPLETE", op.reasons()
    yield Probe(ministack, log)
    ministack.delete_stack("ministack-probe")


def seen(probe: Probe, op: Operation) -> list[tuple[str, str, str | None, str]]:
    """(RequestType, LogicalResourceId, PhysicalResourceId, StackStatus the function read)."""
    return [
        (
            r["event"]["RequestType"],
            r["event"]["LogicalResourceId"],
            r["event"].get("PhysicalResourceId"),
            r["stack_status"],
        )
        for r in probe.during(op)
    ]


def test_the_function_reaches_cloudformation_and_reads_the_stack_status(stacks: Stacks, probe: Probe) -> None:
    """What DescribeStacks(StackName=<the request's StackId>) says during each request. The
    same as CloudFormation, except where marked."""
    name = stacks.name("probe-status")
    created = stacks.create(name, probe_template({"A": {"Id": "a1"}}))
    updated = stacks.update(name, probe_template({"A": {"Id": "a1", "V": "2"}}))
    failed = stacks.update(name, probe_template({"A": {"Id": "a1", "V": "3", "Fail": "true"}}))
    replaced = stacks.update(name, probe_template({"A": {"Id": "a2", "V": "2"}}))
    sibling = stacks.update(name, probe_template({"A": {"Id": "a3"}, "B": {"Id": "b", "Fail": "true"}}))
    deleted = stacks.delete(name)
    [record, *_] = probe.during(created)
    assert record["endpoint"] == stacks.ms.url  # AWS_ENDPOINT_URL, set by MiniStack
    # departure: Lambda sets AWS_LAMBDA_LOG_FORMAT=JSON for a JSON LoggingConfig; MiniStack does not
    assert record["log_format"] is None
    assert seen(probe, created) == [("Create", "A", None, "CREATE_IN_PROGRESS")]
    assert seen(probe, updated) == [("Update", "A", "probe-a1", "UPDATE_IN_PROGRESS")]
    assert seen(probe, failed) == [
        ("Update", "A", "probe-a1", "UPDATE_IN_PROGRESS"),
        ("Update", "A", "probe-a1", "UPDATE_ROLLBACK_IN_PROGRESS"),  # the rollback, as on CloudFormation
    ]
    assert seen(probe, replaced) == [
        ("Update", "A", "probe-a1", "UPDATE_IN_PROGRESS"),
        # departure: CloudFormation sends this Delete in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS
        ("Delete", "A", "probe-a1", "UPDATE_IN_PROGRESS"),
    ]
    assert seen(probe, sibling) == [
        ("Update", "A", "probe-a2", "UPDATE_IN_PROGRESS"),
        ("Create", "B", None, "UPDATE_IN_PROGRESS"),
        # departure: no Update back to a2's properties first (see above)
        ("Delete", "A", "probe-a3", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"),
    ]
    assert seen(probe, deleted) == [("Delete", "A", "probe-a2", "DELETE_IN_PROGRESS")]


def test_a_failed_update_that_answers_another_id_is_rolled_back_with_the_id_on_record(
    stacks: Stacks, probe: Probe
) -> None:
    """CloudFormation records the PhysicalResourceId even of a FAILED Update: the rollback's
    Update carries it, and once that answers another id the cleanup Deletes it (seen in the
    field: aws/aws-cdk#13527 and #30012, where a failed update's id became the log stream's name
    and was then sent to onDelete). MiniStack ignores it: the rollback carries the id on record
    and nothing deletes the failed one. The provider's FAILED answers are safe on both
    (docs/reference.md, "Time"); the lifecycle simulator models CloudFormation."""
    name = stacks.name("probe-failed-id")
    stacks.create(name, probe_template({"A": {"Id": "a1"}}))
    failed = stacks.update(name, probe_template({"A": {"Id": "a9", "Fail": "true"}}))
    assert failed.status == "UPDATE_ROLLBACK_COMPLETE"
    assert seen(probe, failed) == [
        ("Update", "A", "probe-a1", "UPDATE_IN_PROGRESS"),  # answered FAILED with probe-a9
        # departure: CloudFormation sends probe-a9 here, then a Delete of probe-a9
        ("Update", "A", "probe-a1", "UPDATE_ROLLBACK_IN_PROGRESS"),
    ]
    stacks.delete(name)


def test_what_list_stack_resources_says_mid_operation(stacks: Stacks, probe: Probe) -> None:
    """CloudFormation lists the resource being created (CREATE_IN_PROGRESS, no physical id) and
    shows UPDATE_IN_PROGRESS during its update. MiniStack: not listed while created; during an
    update the previous operation's status; the id on record before the request."""
    name = stacks.name("probe-resources")
    created = stacks.create(name, probe_template({"A": {"Id": "a1"}}))
    replaced = stacks.update(name, probe_template({"A": {"Id": "a2"}}))
    [create] = probe.during(created)
    assert create["resources"] == []
    update, cleanup = probe.during(replaced)
    assert update["resources"] == [
        {
            "LogicalResourceId": "A",
            "PhysicalResourceId": "probe-a1",
            "ResourceType": "Custom::Probe",
            "ResourceStatus": "CREATE_COMPLETE",
        }
    ]
    # during the old id's Delete, the record already holds the new id (as on CloudFormation)
    assert [(r["PhysicalResourceId"], r["ResourceStatus"]) for r in cleanup["resources"]] == [
        ("probe-a2", "UPDATE_COMPLETE")
    ]


def test_last_updated_time_is_set_by_a_create(stacks: Stacks, probe: Probe) -> None:
    """CloudFormation: no LastUpdatedTime until the first update. MiniStack: set at the
    creation (its own clock reading, a millisecond or so after CreationTime)."""
    created = stacks.create(stacks.name("probe-time"), probe_template({"A": {"Id": "t"}}))
    [record] = probe.during(created)
    assert record["last_updated"] != "None"
    created_at = datetime.fromisoformat(record["creation_time"])
    updated_at = datetime.fromisoformat(record["last_updated"])
    assert abs((updated_at - created_at).total_seconds()) < 1


def test_service_timeout_counts_from_the_end_of_the_invocation(stacks: Stacks, probe: Probe) -> None:
    """CloudFormation: ServiceTimeout counts from the invocation; an answer after it is too
    late and the resource fails. MiniStack invokes synchronously and only then waits
    ServiceTimeout for the answer: a function that answers after 2 s with ServiceTimeout 1
    succeeds (one that returns without answering fails once ServiceTimeout has passed)."""
    late = stacks.create(
        stacks.name("probe-late"), probe_template({"A": {"Id": "late", "Sleep": "2", "ServiceTimeout": "1"}})
    )
    assert late.status == "CREATE_COMPLETE"
    silent = stacks.create(
        stacks.name("probe-silent"),
        probe_template({"A": {"Id": "silent", "NoAnswer": "true", "ServiceTimeout": "1"}}),
        disable_rollback=True,
    )
    assert silent.status == "CREATE_FAILED"
    assert "timed out after 1s waiting for ResponseURL callback" in silent.status_reason


def test_a_sub_of_an_undeclared_parameter_is_not_refused(stacks: Stacks) -> None:
    """CloudFormation refuses a template whose `!Sub` names a parameter it does not declare
    ("Unresolved resource dependencies"; cfn-lint's E1019). MiniStack creates the stack and
    puts the bare name in its place. So the docs' templates are checked for it by cfn-lint
    (tests/test_docs_snippets.py), not by deploying them here."""
    template = {
        "Resources": {
            "Secret": {
                "Type": "AWS::SecretsManager::Secret",
                "Properties": {
                    "Name": "ecr-pullthroughcache/undeclared",
                    "SecretString": {"Fn::Sub": '{"username":"${Undeclared}"}'},
                },
            }
        }
    }
    created = stacks.create(stacks.name("undeclared"), template)
    assert created.status == "CREATE_COMPLETE"
    value = stacks.ms.client("secretsmanager").get_secret_value(SecretId="ecr-pullthroughcache/undeclared")
    assert value["SecretString"] == '{"username":"Undeclared"}'
