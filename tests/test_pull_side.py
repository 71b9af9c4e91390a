"""The pull side's examples, read as data: examples/puller-role.yaml grants exactly what a first
pull through a rule needs, on the rule's repositories only, and docs/reference.md says the same;
examples/repository-creation-template.yaml pairs a rule with the template of the repositories it
creates (same prefix, PULL_THROUGH_CACHE, a lifecycle policy that expires cached images).

cfn-lint runs on both in tests/test_template.py (and with rule E9101 in tests/test_lint_rule.py);
tests/ministack/test_examples.py deploys the puller role, and says why the other is lint-only.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from devkit.cloudformation import templates

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "docs" / "reference.md"
REPOSITORIES = "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}:repository/"
UNDER_THE_PREFIX = {
    "Fn::If": [
        "WholeRegistry",
        {"Fn::Sub": REPOSITORIES + "*"},
        {"Fn::Sub": REPOSITORIES + "${EcrRepositoryPrefix}/*"},
    ]
}
# What the pulling identity needs, the first pull included (ECR user guide: pull-through cache IAM)
PULL_ACTIONS = {
    "ecr:GetAuthorizationToken": "*",
    "ecr:BatchGetImage": UNDER_THE_PREFIX,
    "ecr:GetDownloadUrlForLayer": UNDER_THE_PREFIX,
    "ecr:CreateRepository": UNDER_THE_PREFIX,
    "ecr:BatchImportUpstreamImage": UNDER_THE_PREFIX,
}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def granted(template: dict[str, Any], role: str) -> dict[str, Any]:
    """action -> resource of every statement of the role's inline policies (one resource each)."""
    found: dict[str, Any] = {}
    for policy in template["Resources"][role]["Properties"]["Policies"]:
        for statement in as_list(policy["PolicyDocument"]["Statement"]):
            assert statement["Effect"] == "Allow" and "Condition" not in statement
            assert set(statement) <= {"Sid", "Effect", "Action", "Resource"}, statement
            for action in as_list(statement["Action"]):
                assert action not in found, f"{action} granted twice"
                found[action] = statement["Resource"]
    return found


@pytest.fixture(scope="module")
def puller() -> dict[str, Any]:
    return templates.example("puller-role")


@pytest.fixture(scope="module")
def cache_settings() -> dict[str, Any]:
    return templates.example("repository-creation-template")


# ---- examples/puller-role.yaml ---------------------------------------------------------------


def test_the_puller_role_grants_exactly_the_pull_actions_on_the_rules_repositories(
    puller: dict[str, Any],
) -> None:
    assert [r["Type"] for r in puller["Resources"].values()] == ["AWS::IAM::Role"]
    role = puller["Resources"]["PullerRole"]["Properties"]
    assert "ManagedPolicyArns" not in role and "PermissionsBoundary" not in role
    assert granted(puller, "PullerRole") == PULL_ACTIONS
    assert puller["Conditions"]["WholeRegistry"] == {"Fn::Equals": [{"Ref": "EcrRepositoryPrefix"}, "ROOT"]}
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": {"Ref": "TrustedService"}},
        "Action": "sts:AssumeRole",
    }
    services = puller["Parameters"]["TrustedService"]["AllowedValues"]
    assert all(s.endswith(".amazonaws.com") for s in services)


@pytest.mark.parametrize(
    ("prefix", "accepted"),
    [
        ("docker-hub", True),
        ("team/quay", True),
        ("a__b", True),
        ("ROOT", True),
        ("docker-hub/", False),  # the rule allows it; the ARN would read repository/docker-hub//*
        ("Quay", False),
        ("-hub", False),
    ],
)
def test_the_puller_roles_prefix_is_a_rules_prefix_without_its_trailing_slash(
    puller: dict[str, Any], cache_settings: dict[str, Any], prefix: str, accepted: bool
) -> None:
    for example in (puller, cache_settings):
        parameter = example["Parameters"]["EcrRepositoryPrefix"]
        fits = re.fullmatch(parameter["AllowedPattern"], prefix) is not None
        fits = fits and parameter["MinLength"] <= len(prefix) <= parameter["MaxLength"]
        assert fits is accepted


def test_the_reference_names_what_the_puller_needs(puller: dict[str, Any]) -> None:
    text = REFERENCE.read_text(encoding="utf-8")
    section = text[text.index("## Pulling through the cache") :]
    section = section[: section.index("\n## ", 1)]
    for action in PULL_ACTIONS:
        assert f"`{action}`" in section, action
    assert "examples/puller-role.yaml" in section
    assert "get-login-password" in section and "library/" in section


# ---- examples/repository-creation-template.yaml ----------------------------------------------


def lifecycle_rules(template: dict[str, Any], **parameters: str) -> list[dict[str, Any]]:
    """The template's LifecyclePolicy as ECR gets it: its !Sub filled with the parameters
    (defaults unless given), parsed as JSON."""
    props = template["Resources"]["CachedRepositoryTemplate"]["Properties"]
    text = props["LifecyclePolicy"]["Fn::Sub"]
    for name, spec in template["Parameters"].items():
        text = text.replace(f"${{{name}}}", str(parameters.get(name, spec.get("Default", ""))))
    assert "${" not in text, text
    return list(json.loads(text)["rules"])


def test_the_template_applies_to_the_rules_repositories(cache_settings: dict[str, Any]) -> None:
    resources = cache_settings["Resources"]
    rule = resources["PullThroughCacheRule"]
    assert rule["Type"] == "Custom::PullThroughCacheRule"
    template = resources["CachedRepositoryTemplate"]
    assert template["Type"] == "AWS::ECR::RepositoryCreationTemplate"
    props = template["Properties"]
    assert props["Prefix"] == rule["Properties"]["EcrRepositoryPrefix"] == {"Ref": "EcrRepositoryPrefix"}
    assert props["AppliedFor"] == ["PULL_THROUGH_CACHE"]
    assert props["ImageTagMutability"] == {"Ref": "ImageTagMutability"}
    assert cache_settings["Parameters"]["ImageTagMutability"]["Default"] == "MUTABLE"


def test_the_lifecycle_policy_expires_old_cached_images(cache_settings: dict[str, Any]) -> None:
    rules = lifecycle_rules(cache_settings)
    assert [r["rulePriority"] for r in rules] == [1, 2]
    assert all(r["action"] == {"type": "expire"} for r in rules)
    untagged, everything = (r["selection"] for r in rules)
    assert untagged == {
        "tagStatus": "untagged",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 7,
    }
    # ECR: a rule with tagStatus "any" must have the highest rulePriority
    assert everything == {
        "tagStatus": "any",
        "countType": "sinceImagePushed",
        "countUnit": "days",
        "countNumber": 90,
    }
    shorter = lifecycle_rules(cache_settings, ExpireAfterDays="30", ExpireUntaggedAfterDays="1")
    assert [r["selection"]["countNumber"] for r in shorter] == [1, 30]


def test_a_kms_key_brings_the_role_ecr_creates_the_repositories_with(cache_settings: dict[str, Any]) -> None:
    props = cache_settings["Resources"]["CachedRepositoryTemplate"]["Properties"]
    assert props["EncryptionConfiguration"] == {
        "Fn::If": [
            "EncryptWithKmsKey",
            {"EncryptionType": "KMS", "KmsKey": {"Ref": "KmsKeyArn"}},
            {"EncryptionType": "AES256"},
        ]
    }
    assert props["CustomRoleArn"] == {
        "Fn::If": [
            "EncryptWithKmsKey",
            {"Fn::GetAtt": ["RepositoryCreationRole", "Arn"]},
            {"Ref": "AWS::NoValue"},
        ]
    }
    role = cache_settings["Resources"]["RepositoryCreationRole"]
    assert role["Condition"] == "EncryptWithKmsKey"
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "ecr.amazonaws.com"}
    assert granted(cache_settings, "RepositoryCreationRole") == {
        "ecr:CreateRepository": UNDER_THE_PREFIX,
        "kms:CreateGrant": {"Ref": "KmsKeyArn"},
        "kms:RetireGrant": {"Ref": "KmsKeyArn"},
        "kms:DescribeKey": {"Ref": "KmsKeyArn"},
    }
    assert cache_settings["Parameters"]["KmsKeyArn"]["Default"] == ""
