"""An upstream ECR caches but this provider version does not know, through MiniStack's
CloudFormation and Lambda with the real provider: the emulator is taught one more upstream, and
a stack creates its rule, changes its credential in place, moves the prefix to another upstream
and back, and deletes it."""

from __future__ import annotations

from typing import Any

from tests.ministack.conftest import Stacks, writes

KIND, HOST = "artifactory", "registry.example.dev"


def template(url: str) -> dict[str, Any]:
    return {
        "Parameters": {"CredentialArn": {"Type": "String"}},
        "Resources": {
            "Cache": {
                "Type": "Custom::PullThroughCacheRule",
                "Properties": {
                    "ServiceToken": {"Fn::ImportValue": "ecr-ptc-provider-ServiceToken"},
                    "EcrRepositoryPrefix": "mirror",
                    "UpstreamRegistryUrl": url,
                    "CredentialArn": {"Ref": "CredentialArn"},
                },
            }
        },
        "Outputs": {"Kind": {"Value": {"Fn::GetAtt": ["Cache", "UpstreamRegistry"]}}},
    }


def test_a_rule_of_an_upstream_the_provider_does_not_know_lives_its_whole_life(stacks: Stacks) -> None:
    stacks.ms.ecr_teach_upstream(KIND, HOST, needs_credential=True)
    name = stacks.name("new-upstream")
    first, second = stacks.secret("new-a"), stacks.secret("new-b")

    created = stacks.create(name, template(HOST), {"CredentialArn": first})
    assert created.status == "CREATE_COMPLETE", created.reasons()
    assert created.rules["mirror"]["upstreamRegistry"] == KIND
    assert created.outputs["Kind"] == KIND

    rotated = stacks.update(name, template(HOST), {"CredentialArn": second})
    assert rotated.status == "UPDATE_COMPLETE", rotated.reasons()
    assert writes(rotated) == ["UpdatePullThroughCacheRule"]
    assert rotated.rules["mirror"]["credentialArn"] == second

    moved = stacks.update(name, template("quay.io"), {"CredentialArn": second})
    back = stacks.update(name, template(HOST), {"CredentialArn": second})
    assert (moved.status, back.status) == ("UPDATE_COMPLETE", "UPDATE_COMPLETE")
    assert writes(back) == ["DeletePullThroughCacheRule", "CreatePullThroughCacheRule"]
    assert back.rules["mirror"]["upstreamRegistryUrl"] == HOST

    deleted = stacks.delete(name)
    assert deleted.status == "DELETE_COMPLETE"
    assert "mirror" not in deleted.rules
