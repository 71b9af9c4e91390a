"""The IAM policies docs/reference.md#iam gives to paste (deploying the provider, a consumer stack).

Unit: every JSON block of the section parses; both policies are well-formed identity policies
whose resources are ARNs once the placeholders are filled. Tools (.venv-tools): cfn-lint lints
both inside an AWS::IAM::ManagedPolicy (its W3037 knows every action name), and the provider
policy grants the create and delete permissions that CloudFormation's resource schemas (shipped
with cfn-lint) list for every resource type of template.yaml as `./dev translate` translates it.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest

from tests.test_template import output_of, require_tool, run_tool

ROOT = Path(__file__).resolve().parents[1]
PROVIDER, CONSUMER = "Deploying the provider", "Deploying a consumer stack"
FILL = {"REGION": "eu-west-1", "ACCOUNT": "123456789012", "STACK": "quay-cache"}
ARN = re.compile(r"arn:aws:[a-z0-9-]+:(eu-west-1)?:(123456789012|aws)?:\S+")

# What the schemas' create and delete handlers may call that this template never makes them call.
LEFT_OUT = {
    "no VPC, file system, KMS key, code signing, layer or capacity provider": (
        "ec2:*", "elasticfilesystem:*", "s3files:*", "kms:*", "lambda:GetCodeSigningConfig",
        "lambda:GetLayerVersion", "lambda:PassCapacityProvider", "lambda:PutFunctionScalingConfig",
        "lambda:AssociateRuntimeAlias",
    ),
    "inline policies of a role only, no managed policy": (
        "iam:*UserPolicy", "iam:*GroupPolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy",
    ),
    "a log group without data protection, deliveries, resource or index policies": (
        "logs:PutDataProtectionPolicy", "logs:CreateLogDelivery", "s3:REST.PUT.OBJECT", "firehose:*",
        "logs:PutResourcePolicy", "logs:PutIndexPolicy", "logs:PutBearerTokenAuthentication",
    ),
}  # fmt: skip

# Run by .venv-tools' Python: each resource type of the translated template and the permissions
# its schema's create and delete handlers list.
HANDLER_PERMISSIONS = """
import json, pathlib
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from devkit.cloudformation import templates
from devkit.release.translate import translate
resources = translate(templates.load(pathlib.Path("template.yaml")))["Resources"]
handlers = {t: PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", t).schema["handlers"]
            for t in {r["Type"] for r in resources.values()}}
print(json.dumps({t: h["create"]["permissions"] + h["delete"]["permissions"] for t, h in handlers.items()}))
"""


def json_blocks() -> dict[str, Any]:
    """Each ```json block of docs/reference.md#iam, parsed, under the ### heading it follows."""
    text = (ROOT / "docs" / "reference.md").read_text(encoding="utf-8")
    section = text[text.index("\n## IAM\n") :]
    section = section[: section.index("\n## ", 1)]
    blocks, heading = {}, ""
    for match in re.finditer(r"^### ([^\n]+)$|^```json\n(.*?)^```$", section, re.M | re.S):
        if match[1]:
            heading = match[1]
        else:
            assert heading not in blocks, f"two JSON blocks under '### {heading}'"
            blocks[heading] = json.loads(match[2])
    return blocks


def policy(heading: str) -> dict[str, Any]:
    """The policy under `heading`, its placeholders filled as the page says to."""
    text = json.dumps(json_blocks()[heading])
    for placeholder, value in FILL.items():
        text = text.replace(placeholder, value)
    filled: dict[str, Any] = json.loads(text)
    return filled


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ungranted(document: dict[str, Any], actions: list[str]) -> list[str]:
    """The actions no Allow statement of `document` names (IAM's wildcards; any resource)."""
    named = [a.lower() for s in document["Statement"] if s["Effect"] == "Allow" for a in as_list(s["Action"])]
    return sorted({a for a in actions if not any(fnmatchcase(a.lower(), n) for n in named)})


def test_the_section_holds_the_two_policies_and_every_json_block_parses() -> None:
    assert {PROVIDER, CONSUMER} <= set(json_blocks())


@pytest.mark.parametrize("heading", [PROVIDER, CONSUMER])
def test_the_policy_is_well_formed_and_scoped(heading: str) -> None:
    document = policy(heading)
    assert set(document) == {"Version", "Statement"} and document["Version"] == "2012-10-17"
    assert isinstance(document["Statement"], list) and document["Statement"]
    sids = [s["Sid"] for s in document["Statement"]]
    assert len(set(sids)) == len(sids), sids
    for statement in document["Statement"]:
        assert set(statement) <= {"Sid", "Effect", "Action", "Resource", "Condition"}, statement
        assert statement["Effect"] == "Allow", statement
        assert all(re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", a) for a in as_list(statement["Action"])), statement
        for resource in as_list(statement["Resource"]):
            if resource == "*":  # only for calls that take no resource: lists
                assert all(re.search(r":(Describe|List)", a) for a in as_list(statement["Action"])), statement
            else:
                assert ARN.fullmatch(resource), f"{statement['Sid']}: {resource}"


def lint(documents: dict[str, dict[str, Any]], tmp_path: Path) -> str:
    """cfn-lint's output on one template per document, each holding it as a managed policy's."""
    for name, document in documents.items():
        managed = {"Type": "AWS::IAM::ManagedPolicy", "Properties": {"PolicyDocument": document}}
        (tmp_path / f"{name}.json").write_text(json.dumps({"Resources": {name: managed}}), encoding="utf-8")
    result = run_tool([require_tool("cfn-lint"), *(str(tmp_path / f"{n}.json") for n in documents)], cwd=ROOT)
    return output_of(result)


@pytest.mark.tools
def test_cfn_lint_passes_both_policies_and_finds_a_misspelt_action(tmp_path: Path) -> None:
    broken = policy(PROVIDER)
    broken["Statement"][0]["Action"][0] = "cloudformation:CreateChangeSets"
    output = lint({"provider": policy(PROVIDER), "consumer": policy(CONSUMER), "broken": broken}, tmp_path)
    assert "W3037 'createchangesets'" in output and "broken.json" in output, output
    assert "provider.json" not in output and "consumer.json" not in output, output


@pytest.mark.tools
def test_the_provider_policy_grants_every_resource_types_create_and_delete_permissions() -> None:
    python = str(Path(require_tool("cfn-lint")).parent / "python")
    result = run_tool([python, "-c", HANDLER_PERMISSIONS], cwd=ROOT)
    assert result.returncode == 0, output_of(result)
    listed: dict[str, list[str]] = json.loads(result.stdout)
    left_out = [p for patterns in LEFT_OUT.values() for p in patterns]
    needed = {t: [a for a in listed[t] if not any(fnmatchcase(a, p) for p in left_out)] for t in listed}
    for kind, actions in needed.items():  # e.g. AWS::Lambda::Function: at least one lambda: action
        assert any(a.startswith(kind.split("::")[1].lower() + ":") for a in actions), (kind, listed[kind])
    everything = sorted({a for actions in needed.values() for a in actions})
    document = policy(PROVIDER)
    missing = ungranted(document, everything)
    assert missing == [], f"the provider policy (docs/reference.md#iam) grants none of {missing}"
    # the check sees a hole: without CreateFunction the policy fails it
    for statement in document["Statement"]:
        statement["Action"] = [a for a in as_list(statement["Action"]) if a != "lambda:CreateFunction"]
    assert ungranted(document, everything) == ["lambda:CreateFunction"]
    # and LEFT_OUT names only what the schemas still list
    anywhere = [a for actions in listed.values() for a in actions]
    assert [p for p in left_out if not any(fnmatchcase(a, p) for a in anywhere)] == []
