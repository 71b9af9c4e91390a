"""Failures and their rollbacks on MiniStack, with the real provider: a failed Create, a failed
in-place update, a failed same-prefix replacement, a replacement followed by a sibling's
failure, a resource removed from the template, DeletionPolicy Retain, and two stacks whose
rules never touch. Failures come from the ECR emulator's faults (a refused call) or from a
second custom resource with bad input (the sibling that fails).

Where MiniStack's rollback differs from CloudFormation's, the assertions here are MiniStack's
(each difference is recorded in test_departures.py); the project's simulator
(tests/simulator) covers CloudFormation's own sequence.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import MiniStack
from tests.ministack.conftest import Stacks, prefixes_called, requests, writes


@pytest.fixture(autouse=True)
def no_faults_left(ministack: MiniStack) -> Iterator[None]:
    yield
    ministack.ecr_fault("clear")


def broken_sibling(after: str) -> dict[str, Any]:
    """A second custom resource whose input the provider refuses (before any ECR call)."""
    return {
        "Type": "Custom::PullThroughCacheRule",
        "DependsOn": after,
        "Properties": {
            "ServiceToken": {"Fn::ImportValue": "ecr-ptc-provider-ServiceToken"},
            "EcrRepositoryPrefix": "Not_A_Prefix!",
            "UpstreamRegistryUrl": "quay.io",
        },
    }


def test_failed_create_removes_the_rule_it_made(stacks: Stacks) -> None:
    """ValidateCredentials fails after the rule was made: the provider removes it and answers
    FAILED; the stack rolls back and no rule is left."""
    stacks.ms.ecr_fault("validation_result", is_valid=False, failure="Authentication failed")
    name = stacks.name("ghcr-fails")
    op = stacks.create(name, templates.example("ghcr"), {"CredentialArn": stacks.secret("ghcr")})
    assert op.status == "ROLLBACK_COMPLETE"
    [reason] = op.reasons()
    assert "Authentication failed" in reason
    [(kind, _, status, physical_id)] = requests(op)  # MiniStack sends no Delete after it
    assert (kind, status) == ("Create", "FAILED")
    assert physical_id is not None and physical_id.startswith("ecr-ptc:create-failed:")
    assert writes(op) == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule"]
    assert set(op.rules) == stacks.rules_before
    assert op.outputs == {}


def test_failed_in_place_update_rolls_back_to_the_old_credential(stacks: Stacks) -> None:
    name = stacks.name("ghcr-rotate-fails")
    template = templates.example("ghcr")
    first, second = stacks.secret("ghcr-a"), stacks.secret("ghcr-b")
    created = stacks.create(name, template, {"CredentialArn": first})
    made_at = created.rules["ghcr"]["createdAt"]
    stacks.ms.ecr_fault(
        "fail", operation="UpdatePullThroughCacheRule", code="AccessDeniedException", status=400, times=1
    )

    op = stacks.update(name, template, {"CredentialArn": second})
    assert op.status == "UPDATE_ROLLBACK_COMPLETE"
    [reason] = op.reasons()
    assert "AccessDenied" in reason
    forward, rollback = op.requests
    assert requests(op) == [("Update", "ghcr", "FAILED", "ghcr"), ("Update", "ghcr", "SUCCESS", "ghcr")]
    assert forward.properties["CredentialArn"] == second
    # the rollback: old and new properties swapped
    assert rollback.properties["CredentialArn"] == first
    assert rollback.old_properties is not None and rollback.old_properties["CredentialArn"] == second
    rule = op.rules["ghcr"]
    assert rule["credentialArn"] == first
    assert rule["createdAt"] == made_at  # never re-created
    assert op.outputs["CredentialArn"] == first


def test_failed_same_prefix_replacement_puts_the_old_rule_back(stacks: Stacks) -> None:
    """The new upstream's create is refused: the provider restores the old rule and answers
    FAILED; after the rollback the prefix holds the old upstream again."""
    name = stacks.name("azure-move-fails")
    template = templates.example("azure")
    parameters = {"CredentialArn": stacks.secret("azure"), "AzureRegistryName": "contoso"}
    stacks.create(name, template, parameters)
    stacks.ms.ecr_fault(
        "fail", operation="CreatePullThroughCacheRule", code="LimitExceededException", status=400, times=1
    )

    op = stacks.update(name, template, {**parameters, "AzureRegistryName": "fabrikam"})
    assert op.status == "UPDATE_ROLLBACK_COMPLETE"
    [reason] = op.reasons()
    assert "LimitExceeded" in reason
    assert requests(op) == [("Update", "azure", "FAILED", "azure"), ("Update", "azure", "SUCCESS", "azure")]
    assert op.rules["azure"]["upstreamRegistryUrl"] == "contoso.azurecr.io"
    assert op.outputs["UpstreamRegistryUrl"] == "contoso.azurecr.io"


def test_rollback_of_a_failed_same_prefix_replacement_makes_no_write(stacks: Stacks) -> None:
    name = stacks.name("azure-move-fails")
    template = templates.example("azure")
    parameters = {"CredentialArn": stacks.secret("azure"), "AzureRegistryName": "contoso"}
    stacks.create(name, template, parameters)
    stacks.ms.ecr_fault(
        "fail", operation="CreatePullThroughCacheRule", code="LimitExceededException", status=400, times=1
    )
    op = stacks.update(name, template, {**parameters, "AzureRegistryName": "fabrikam"})
    assert op.status == "UPDATE_ROLLBACK_COMPLETE"
    # forward: delete the old rule, the refused create, put the old rule back; rollback: nothing
    assert writes(op) == [
        "DeletePullThroughCacheRule",
        "CreatePullThroughCacheRule",
        "CreatePullThroughCacheRule",
    ]


def test_replacement_then_a_siblings_failure(stacks: Stacks) -> None:
    """The rule moves to a new prefix, then a sibling resource fails: the rollback leaves the
    old rule, and the new one is deleted (on MiniStack by a Delete of the new id; see
    test_departures for what CloudFormation sends)."""
    name = stacks.name("k8s-sibling")
    template = templates.example("k8s")
    stacks.create(name, template)
    changed = templates.with_resource(template, "Broken", broken_sibling("PullThroughCacheRule"))

    op = stacks.update(name, changed, {"EcrRepositoryPrefix": "k8s-moved"})
    assert op.status == "UPDATE_ROLLBACK_COMPLETE"
    assert [r.logical_id for r in op.requests] == ["PullThroughCacheRule", "Broken", "PullThroughCacheRule"]
    assert requests(op) == [
        ("Update", "k8s", "SUCCESS", "k8s-moved"),
        ("Create", None, "FAILED", requests(op)[1][3]),
        ("Delete", "k8s-moved", "SUCCESS", "k8s-moved"),
    ]
    [reason] = op.reasons()
    assert "EcrRepositoryPrefix 'Not_A_Prefix!'" in reason
    assert "k8s" in op.rules and "k8s-moved" not in op.rules
    assert op.rules["k8s"]["upstreamRegistryUrl"] == "registry.k8s.io"
    assert op.outputs["EcrRepositoryPrefix"] == "k8s"
    assert writes(op) == ["CreatePullThroughCacheRule", "DeletePullThroughCacheRule"]

    deleted = stacks.delete(name)
    assert requests(deleted) == [("Delete", "k8s", "SUCCESS", "k8s")]
    assert set(deleted.rules) == stacks.rules_before


def test_resource_removed_from_the_template_is_deleted(stacks: Stacks) -> None:
    name = stacks.name("two-rules")
    template = templates.example("k8s")
    quay = copy.deepcopy(template["Resources"]["PullThroughCacheRule"])
    quay["Properties"].update(
        EcrRepositoryPrefix="quay-sibling", UpstreamRegistryUrl="quay.io", UpstreamRegistry="quay"
    )
    both = templates.with_resource(template, "QuayCache", quay)
    created = stacks.create(name, both)
    assert created.status == "CREATE_COMPLETE", created.reasons()
    assert {"k8s", "quay-sibling"} <= set(created.rules)

    op = stacks.update(name, template)
    assert op.status == "UPDATE_COMPLETE"
    assert requests(op) == [("Delete", "quay-sibling", "SUCCESS", "quay-sibling")]
    assert op.requests[0].logical_id == "QuayCache"
    assert writes(op) == ["DeletePullThroughCacheRule"]
    assert prefixes_called(op) == {"quay-sibling"}  # the rule that stays is not touched
    assert "quay-sibling" not in op.rules
    assert op.rules["k8s"]["createdAt"] == created.rules["k8s"]["createdAt"]


def test_deletion_policy_retain_keeps_the_rule(stacks: Stacks) -> None:
    name = stacks.name("retained")
    template = templates.example("k8s")
    template["Resources"]["PullThroughCacheRule"]["DeletionPolicy"] = "Retain"
    created = stacks.create(name, template, {"EcrRepositoryPrefix": "k8s-kept"})
    assert created.status == "CREATE_COMPLETE"

    deleted = stacks.delete(name)
    assert deleted.status == "DELETE_COMPLETE"
    assert deleted.requests == []  # no Delete is sent for a retained resource
    assert deleted.ecr_calls == []
    assert [e.status for e in deleted.events if e.logical_id == "PullThroughCacheRule"] == ["DELETE_SKIPPED"]
    assert deleted.rules["k8s-kept"] == created.rules["k8s-kept"]


def test_two_stacks_whose_rules_never_touch(stacks: Stacks) -> None:
    """Every operation of one stack (create, in-place, replacement, a failed update, delete)
    names only its own prefixes; the other stack's rule stays exactly as it was."""
    k8s, ghcr = stacks.name("team-a"), stacks.name("team-b")
    other = stacks.create(ghcr, templates.example("ghcr"), {"CredentialArn": stacks.secret("team-b")})
    held = other.rules["ghcr"]
    template = templates.example("k8s")
    ops = [stacks.create(k8s, template, {"EcrRepositoryPrefix": "team-a/k8s"})]
    ops.append(stacks.update(k8s, template, {"EcrRepositoryPrefix": "team-a/k8s-2", "AdoptExisting": "true"}))
    stacks.ms.ecr_fault(
        "fail", operation="CreatePullThroughCacheRule", code="LimitExceededException", times=1
    )
    ops.append(stacks.update(k8s, template, {"EcrRepositoryPrefix": "team-a/k8s-3"}))
    stacks.ms.ecr_fault("clear")
    ops.append(stacks.delete(k8s))
    assert [op.status for op in ops] == [
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
        "UPDATE_ROLLBACK_COMPLETE",
        "DELETE_COMPLETE",
    ]
    for op in ops:
        assert prefixes_called(op) <= {"team-a/k8s", "team-a/k8s-2", "team-a/k8s-3"}, op.action
        assert op.rules["ghcr"] == held
    assert not {"team-a/k8s", "team-a/k8s-2", "team-a/k8s-3"} & set(ops[-1].rules)

    deleted = stacks.delete(ghcr)
    assert requests(deleted) == [("Delete", "ghcr", "SUCCESS", "ghcr")]
    assert prefixes_called(deleted) == {"ghcr"}


def test_an_update_never_takes_over_another_stacks_identical_rule(stacks: Stacks) -> None:
    first, second = stacks.name("owner"), stacks.name("intruder")
    template = templates.example("k8s")
    owner = stacks.create(first, template, {"EcrRepositoryPrefix": "k8s-owned"})
    stacks.create(second, template, {"EcrRepositoryPrefix": "k8s-other"})
    op = stacks.update(second, template, {"EcrRepositoryPrefix": "k8s-owned"})
    assert op.status == "UPDATE_ROLLBACK_COMPLETE"
    assert op.rules["k8s-owned"] == owner.rules["k8s-owned"]
    assert "k8s-other" in op.rules
    deleted = stacks.delete(second)
    assert deleted.rules["k8s-owned"] == owner.rules["k8s-owned"]
