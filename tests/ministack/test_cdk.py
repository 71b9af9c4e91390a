"""A stack written with the CDK construct (tools/cdk-ptc), synthesized by the real aws-cdk-lib
and deployed on MiniStack: every upstream family's rule appears in the registry as the
construct declared it, the attributes (the repository URI prefixes, ROOT's without '/ROOT')
come out of a real engine's intrinsic functions, the granted role exists, and deleting the stack
removes the rules.

The stack is synthesized without the CDK's bootstrap version check (it reads an SSM parameter
that `cdk bootstrap` makes) and without CDKMetadata: `cdk deploy` needs a bootstrapped account,
and this deploys the template the way `aws cloudformation deploy` would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.cdk import cdk_env

cdk_env.use()

from devkit.cloudformation.ministack import ACCOUNT  # noqa: E402
from tests.cdk import apps  # noqa: E402
from tests.cdk.synth import assemblies_under, new_stack, template  # noqa: E402
from tests.ministack.conftest import REPOSITORY_HOST, Stacks, writes  # noqa: E402


@pytest.fixture(autouse=True)
def _cloud_assemblies(tmp_path: Path) -> Iterator[None]:
    with assemblies_under(tmp_path):
        yield


def test_a_cdk_stack_of_every_upstream_deploys_and_its_rules_appear(stacks: Stacks) -> None:
    secrets = {family: stacks.secret(f"cdk-{family}") for family in apps.CREDENTIALED}
    stack = new_stack("CdkEveryUpstream", bootstrap_rule=False)
    apps.every_upstream(stack, secrets)
    body: dict[str, Any] = template(stack).to_json()
    name = stacks.name("cdk-every-upstream")

    created = stacks.create(name, body)
    assert created.status == "CREATE_COMPLETE", created.reasons()
    rules = created.rules
    upstream_ecr = f"{apps.UPSTREAM_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    role_name = next(
        e.physical_id for e in created.events if e.logical_id.startswith("UpstreamRole") and e.physical_id
    )
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/{role_name}"  # a role's physical id is its name
    expected = {
        "cdk-ecr-public": ("public.ecr.aws", "ecr-public", None, None),
        "cdk-quay": ("quay.io", "quay", None, None),
        "cdk-k8s": ("registry.k8s.io", "k8s", None, None),
        "cdk-docker-hub": ("registry-1.docker.io", "docker-hub", secrets["docker-hub"], None),
        "cdk-ghcr": ("ghcr.io", "github-container-registry", secrets["ghcr"], None),
        "cdk-gitlab": ("registry.gitlab.com", "gitlab-container-registry", secrets["gitlab"], None),
        "cdk-azure": ("myregistry.azurecr.io", "azure-container-registry", secrets["azure"], None),
        "cdk-chainguard": ("cgr.dev", "chainguard", secrets["chainguard"], None),
        "cdk-ecr-team": (REPOSITORY_HOST, "ecr", None, None),
        "cdk-ecr-shared": (upstream_ecr, "ecr", None, "role"),
        "ROOT": ("public.ecr.aws", "ecr-public", None, None),
    }
    for prefix, (url, kind, credential, role) in expected.items():
        rule = rules[prefix]
        assert (rule["upstreamRegistryUrl"], rule["upstreamRegistry"]) == (url, kind), prefix
        assert rule.get("credentialArn") == credential, prefix
        assert rule.get("customRoleArn") == (None if role is None else role_arn), prefix
    assert rules["cdk-ecr-team"]["upstreamRepositoryPrefix"] == "team"
    assert writes(created) == ["CreatePullThroughCacheRule"] * len(expected)

    outputs = created.outputs
    assert outputs["GhcrUriPrefix"] == f"{REPOSITORY_HOST}/cdk-ghcr"
    assert outputs["GhcrImage"] == f"{REPOSITORY_HOST}/cdk-ghcr/myorg/app"
    assert outputs["RootUriPrefix"] == REPOSITORY_HOST
    assert outputs["RootImage"] == f"{REPOSITORY_HOST}/docker/library/nginx"
    assert outputs["RootPrefix"] == "ROOT"
    assert outputs["GhcrRegistryId"] == "123456789012"
    assert outputs["GhcrCreatedAt"] == outputs["GhcrUpdatedAt"] != ""
    assert outputs["GhcrCreatedAt"].startswith(str(rules["cdk-ghcr"]["createdAt"])[:10])

    policies = [e for e in created.events if e.resource_type == "AWS::IAM::Policy"]
    assert policies and policies[-1].status == "CREATE_COMPLETE"

    deleted = stacks.delete(name)
    assert deleted.status == "DELETE_COMPLETE", deleted.reasons()
    assert not set(expected) & set(deleted.rules)
