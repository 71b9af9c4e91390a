"""./dev health on MiniStack with the ECR emulator: the provider deployed by sam, three consumer
stacks (quay and ghcr from examples/, and k8s as a nested stack of a 'platform' stack: ListStacks
lists nested stacks too), then a rule deleted by hand, a credential changed by hand, a rule failing
validation (the emulator's fault for one prefix) and a rule no stack holds. The real command,
run as a user runs it (its own process, the endpoints in the environment), must report exactly
those; a stack update then repairs the missing and the drifted rules.

MiniStack's departure: Ref of an AWS::SecretsManager::Secret gives its name, not its ARN, so
examples/docker-hub.yaml fails there; the credential comes in as the ghcr example's
CredentialArn parameter (a secret made with create_secret), which resolves from the parameters.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation import templates
from devkit.cloudformation.ministack import ACCOUNT, REGION, MiniStack

ROOT = Path(__file__).resolve().parents[1]
SECRET_VALUE = {"username": "user", "accessToken": "token"}
FAILURE = "Authentication failed: 401 Unauthorized from registry.k8s.io"


def health(ms: MiniStack, *arguments: str) -> subprocess.CompletedProcess[str]:
    """./dev health with MiniStack's endpoints, as `./dev local env` exports them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=ms.url,
        AWS_ENDPOINT_URL_ECR=ms.ecr_url,
        AWS_ACCESS_KEY_ID=ACCOUNT,
        AWS_SECRET_ACCESS_KEY="test",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        PYTHONDONTWRITEBYTECODE="1",
    )
    return subprocess.run(
        ["bash", str(ROOT / "dev"), "health", *arguments],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def states(ms: MiniStack) -> tuple[int, dict[str, dict[str, Any]]]:
    result = health(ms, "--json")
    assert result.returncode in (0, 1), result.stdout + result.stderr
    report = json.loads(result.stdout)
    return result.returncode, {r["prefix"]: r for r in report["rules"]}


def nested_platform(ms: MiniStack) -> dict[str, Any]:
    """A stack whose one resource is a nested stack made from examples/k8s.yaml."""
    s3 = ms.client("s3")
    s3.create_bucket(Bucket="nested-templates")
    s3.put_object(Bucket="nested-templates", Key="k8s.yaml", Body=(ROOT / "examples/k8s.yaml").read_bytes())
    nested = {
        "TemplateURL": f"{ms.url}/nested-templates/k8s.yaml",
        "Parameters": {"EcrRepositoryPrefix": "k8s"},
    }
    return {"Resources": {"K8s": {"Type": "AWS::CloudFormation::Stack", "Properties": nested}}}


def break_by_hand(ms: MiniStack, other_secret: str) -> None:
    """A rule deleted, a credential changed, a rule failing validation, a rule no stack holds."""
    ms.delete_rule("quay")
    ms.ecr().update_pull_through_cache_rule(ecrRepositoryPrefix="ghcr", credentialArn=other_secret)
    ms.ecr_fault("validation_result", is_valid=False, failure=FAILURE, prefix="k8s")
    ms.create_rule("by-hand", "public.ecr.aws")


def update_what_ecr_does_not_hold(ms: MiniStack, ghcr_secret: str) -> None:
    """Updates of a property ECR does not hold (ValidateCredentials, ServiceTimeout): the provider's
    Update reads the rule and puts it back as the stack asks."""
    quay = ms.update_stack("quay-cache", ROOT / "examples/quay.yaml", {"ValidateCredentials": "true"})
    assert quay.status == "UPDATE_COMPLETE", quay.reasons()
    longer = templates.example("ghcr")
    longer["Resources"]["PullThroughCacheRule"]["Properties"]["ServiceTimeout"] = "60"
    ghcr = ms.update_stack("ghcr-cache", longer, {"CredentialArn": ghcr_secret})
    assert ghcr.status == "UPDATE_COMPLETE", ghcr.reasons()
    assert [r.request_type for r in quay.requests + ghcr.requests] == ["Update", "Update"]


def test_health_reports_what_was_done_by_hand_and_an_update_repairs_it(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # (short directories: the build's multiprocessing socket path must fit AF_UNIX's limit)
    ms = MiniStack().start(under=tmp_path_factory.mktemp("ms"))
    try:
        provider = ms.deploy_provider(build_dir=tmp_path_factory.mktemp("sam"))
        assert provider.status == "CREATE_COMPLETE", provider.output_text
        asked = ms.create_secret("ecr-pullthroughcache/ghcr", SECRET_VALUE)
        other = ms.create_secret("ecr-pullthroughcache/ghcr-by-hand", SECRET_VALUE)
        assert ms.create_stack("quay-cache", ROOT / "examples/quay.yaml").status == "CREATE_COMPLETE"
        ghcr = ms.create_stack("ghcr-cache", ROOT / "examples/ghcr.yaml", {"CredentialArn": asked})
        assert ghcr.status == "CREATE_COMPLETE", ghcr.reasons()
        assert ms.create_stack("platform", nested_platform(ms)).status == "CREATE_COMPLETE"
        assert set(ms.ecr_rules()) == {"quay", "ghcr", "k8s"}

        code, found = states(ms)
        assert code == 0
        assert {p: r["state"] for p, r in found.items()} == {
            "quay": "HEALTHY",
            "ghcr": "HEALTHY",
            "k8s": "HEALTHY",
        }
        assert found["k8s"]["stack"].startswith("platform-K8s-")  # the nested stack, found by ListStacks
        assert all(r["not_checked"] == [] for r in found.values())  # every property resolved

        break_by_hand(ms, other)
        calls_before = len(ms.ecr_calls())

        code, found = states(ms)
        assert code == 1
        assert {p: r["state"] for p, r in found.items()} == {
            "quay": "MISSING",
            "ghcr": "DRIFTED",
            "k8s": "INVALID",
            "by-hand": "UNMANAGED",
        }
        assert (found["quay"]["stack"], found["quay"]["logical_id"]) == ("quay-cache", "PullThroughCacheRule")
        assert found["ghcr"]["drifted"] == [{"field": "CredentialArn", "held": other, "asked": asked}]
        assert FAILURE in found["k8s"]["detail"]
        assert found["by-hand"]["stack"] is None and "./dev import" in found["by-hand"]["detail"]
        reads = {"DescribePullThroughCacheRules", "ValidatePullThroughCacheRule"}
        assert {op for op, _ in ms.ecr_calls()[calls_before:]} <= reads  # the check wrote nothing

        shown = health(ms)
        assert shown.returncode == 1, shown.stderr
        print(shown.stdout)  # the table, for the record (pytest -s)
        lines = shown.stdout.splitlines()
        assert lines[0].split() == ["STACK", "RESOURCE", "PREFIX", "STATE", "DETAIL"]
        assert lines[-1] == "4 rules: 1 MISSING, 1 DRIFTED, 1 INVALID, 1 UNMANAGED"
        assert any(
            line.split()[:4] == ["quay-cache", "PullThroughCacheRule", "quay", "MISSING"] for line in lines
        )

        update_what_ecr_does_not_hold(ms, asked)

        code, found = states(ms)
        assert code == 1  # k8s still fails validation, by-hand is still no stack's
        assert {p: r["state"] for p, r in found.items()} == {
            "quay": "HEALTHY",
            "ghcr": "HEALTHY",
            "k8s": "INVALID",
            "by-hand": "UNMANAGED",
        }
        ms.ecr_fault("clear")
        ms.delete_rule("by-hand")
        code, found = states(ms)
        assert code == 0 and {r["state"] for r in found.values()} == {"HEALTHY"}
    finally:
        ms.stop()


@pytest.mark.parametrize("missing", ["ecr:DescribePullThroughCacheRules"])
def test_a_refused_read_exits_2_naming_the_action(
    tmp_path_factory: pytest.TempPathFactory, missing: str
) -> None:
    ms = MiniStack().start(under=tmp_path_factory.mktemp("ms"))
    try:
        ms.ecr_fault(
            "fail", operation="DescribePullThroughCacheRules", code="AccessDeniedException", times=-1
        )
        result = health(ms)
        assert result.returncode == 2
        assert result.stdout == ""
        assert f"{missing} was refused (AccessDeniedException)" in result.stderr
        assert "docs/reference.md#health-check" in result.stderr
    finally:
        ms.stop()
