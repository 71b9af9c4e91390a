"""The health check's resolution of a resource's properties from its stack's record
(src/health/resolution.py): what it resolves, and what it refuses to guess."""

from __future__ import annotations

from typing import Any

import pytest

from health.record import StackRecord
from health.resolution import Resolved, resolve_properties
from health.template_text import TemplateText, long_form

STACK_ID = "arn:aws-cn:cloudformation:cn-north-1:123456789012:stack/quay-cache/0a1b2c3d"
SECRET_ARN = "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:ecr-pullthroughcache/dh-AbCdEf"
TEMPLATE: dict[str, Any] = {
    "Parameters": {"Token": {"Type": "String", "NoEcho": True}, "Prefix": {"Type": "String"}},
    "Mappings": {"Upstreams": {"quay": {"Url": "quay.io"}}},
    "Resources": {
        "Secret": {"Type": "AWS::SecretsManager::Secret"},
        "Role": {"Type": "AWS::IAM::Role"},
        "Rule": {"Type": "Custom::PullThroughCacheRule"},
    },
}


def stack(**changes: Any) -> StackRecord:
    fields: dict[str, Any] = {
        "name": "quay-cache",
        "stack_id": STACK_ID,
        "template": TEMPLATE,
        "parameters": {"Prefix": "quay", "Token": None, "Provider": "ecr-ptc-provider"},
        "physical_ids": {"Secret": SECRET_ARN, "Role": "quay-cache-Role-1X2Y"},
        "exports": {"ecr-ptc-provider-ServiceToken": "arn:function", "shared-prefix": "team/quay"},
    }
    fields.update(changes)
    return StackRecord(**fields)


def one(value: Any, record: StackRecord | None = None) -> Resolved:
    return resolve_properties({"P": value}, record or stack())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("quay.io", "quay.io"),
        (True, "true"),  # CloudFormation sends every scalar as a string
        (5, "5"),
        ({"Ref": "Prefix"}, "quay"),
        ({"Ref": "Secret"}, SECRET_ARN),  # a resource's Ref is its physical id
        ({"Ref": "AWS::Region"}, "cn-north-1"),
        ({"Ref": "AWS::AccountId"}, "123456789012"),
        ({"Ref": "AWS::Partition"}, "aws-cn"),
        ({"Ref": "AWS::URLSuffix"}, "amazonaws.com.cn"),
        ({"Ref": "AWS::StackName"}, "quay-cache"),
        ({"Ref": "AWS::StackId"}, STACK_ID),
        ({"Fn::Sub": "${AWS::StackName}/${Prefix}-${!Literal}"}, "quay-cache/quay-${Literal}"),
        ({"Fn::Sub": ["${Base}/${Prefix}", {"Base": {"Ref": "AWS::AccountId"}}]}, "123456789012/quay"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Prefix"}, "c"]]}, "a-quay-c"),
        ({"Fn::Select": ["1", {"Fn::Split": ["/", "team/quay/x"]}]}, "quay"),
        ({"Fn::Select": [0, ["first", "second"]]}, "first"),
        ({"Fn::ImportValue": {"Fn::Sub": "${Provider}-ServiceToken"}}, "arn:function"),
        ({"Fn::FindInMap": ["Upstreams", {"Ref": "Prefix"}, "Url"]}, "quay.io"),
        ({"Fn::GetAtt": ["Secret", "Id"]}, SECRET_ARN),  # a secret's Id is its ARN, its physical id
        ({"Fn::Sub": "${Secret.Id}"}, SECRET_ARN),
    ],
)
def test_what_the_record_resolves(value: Any, expected: str) -> None:
    assert one(value) == Resolved(values={"P": expected})


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ({"Ref": "Token"}, "Ref Token: a NoEcho parameter"),
        ({"Fn::Sub": "ecr/${Token}"}, "NoEcho"),
        ({"Ref": "Nowhere"}, "Ref Nowhere: neither a parameter nor a resource"),
        ({"Fn::GetAtt": ["Role", "Arn"]}, "Fn::GetAtt Role.Arn (attributes are not on the stack's record)"),
        ({"Fn::GetAtt": "Secret.Name"}, "Fn::GetAtt Secret.Name"),
        ({"Fn::Sub": "${Role.Arn}"}, "Fn::GetAtt Role.Arn"),
        ({"Fn::If": ["IsProd", "a", "b"]}, "Fn::If (not resolved from the stack's record)"),
        ({"Fn::ImportValue": "not-exported"}, "Fn::ImportValue of 'not-exported': no such export"),
        ({"Fn::FindInMap": ["Upstreams", "ghcr", "Url"]}, "not in the template's Mappings"),
        ({"Fn::Select": ["5", ["a"]]}, "Fn::Select index 5 of 1 values"),
        ({"Fn::Join": ["-", ["a", {"Fn::GetAtt": ["Role", "Arn"]}]]}, "Fn::GetAtt Role.Arn"),
        ({"Ref": "AWS::NotificationARNs"}, "Ref AWS::NotificationARNs"),
    ],
)
def test_what_it_refuses_to_guess(value: Any, why: str) -> None:
    resolved = one(value)
    assert resolved.values == {}
    assert why in resolved.unresolved["P"]


def test_the_secret_id_is_only_the_physical_id_of_a_secret() -> None:
    not_a_secret = {**TEMPLATE, "Resources": {"Secret": {"Type": "AWS::IAM::Role"}}}
    assert "P" in one({"Fn::GetAtt": ["Secret", "Id"]}, stack(template=not_a_secret)).unresolved


def test_a_ref_to_no_value_leaves_the_property_out_and_the_others_resolved() -> None:
    resolved = resolve_properties(
        {"A": {"Ref": "AWS::NoValue"}, "B": {"Ref": "Prefix"}, "C": {"Fn::GetAtt": ["Role", "Arn"]}}, stack()
    )
    assert resolved.values == {"B": "quay"}
    assert set(resolved.unresolved) == {"C"}


def test_the_short_forms_of_a_yaml_template_are_read_in_long_form() -> None:
    text = """
Resources:
  Rule:
    Type: Custom::PullThroughCacheRule
    Properties:
      ServiceToken: !ImportValue
        Fn::Sub: ${ProviderStackName}-ServiceToken
      EcrRepositoryPrefix: !Ref EcrRepositoryPrefix
      CredentialArn: !GetAtt Secret.Id
      ValidateCredentials: true
"""
    rule = long_form(text)["Resources"]["Rule"]["Properties"]
    assert rule == {
        "ServiceToken": {"Fn::ImportValue": {"Fn::Sub": "${ProviderStackName}-ServiceToken"}},
        "EcrRepositoryPrefix": {"Ref": "EcrRepositoryPrefix"},
        "CredentialArn": {"Fn::GetAtt": ["Secret", "Id"]},
        "ValidateCredentials": True,
    }
    assert long_form('{"Resources": {}}') == {"Resources": {}}
    assert long_form({"Resources": {}}) == {"Resources": {}}
    with pytest.raises(TemplateText, match="not an object"):
        long_form("- a list")
