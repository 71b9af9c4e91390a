"""The CloudFormation template that adopts the rules: one Custom::PullThroughCacheRule each,
AdoptExisting "true", the provider's ServiceToken imported from its stack's export, this
account's secrets and roles as parameters, and each rule's repository URI prefix (its
RepositoryUriPrefix attribute) as an output. Written as YAML with the short tags (!Ref, !Sub,
!GetAtt), readable by devkit.cloudformation.templates."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from devkit.importer.rules import Declared
from ecr_ptc_contract import RESOURCE_TYPE
from ecr_ptc_contract.attributes import REPOSITORY_URI_PREFIX

PROVIDER_STACK = "ecr-ptc-provider"


def template(declared: Sequence[Declared], account: str, region: str, retain: bool = False) -> dict[str, Any]:
    """The template, as data in CloudFormation's long form."""
    parameters: dict[str, Any] = {
        "ProviderStackName": {
            "Type": "String",
            "Default": PROVIDER_STACK,
            "Description": "Stack that deployed the provider (it exports <name>-ServiceToken)",
        }
    }
    resources: dict[str, Any] = {}
    outputs: dict[str, Any] = {}
    for rule in declared:
        properties: dict[str, Any] = {
            "ServiceToken": {"Fn::ImportValue": {"Fn::Sub": "${ProviderStackName}-ServiceToken"}}
        }
        for name, value in rule.properties.items():
            parameter = rule.parameters.get(name)
            if parameter is None:
                properties[name] = value
            else:
                properties[name] = {"Ref": parameter.name}
                parameters[parameter.name] = {
                    "Type": "String",
                    "Default": parameter.default,
                    "Description": parameter.description,
                }
        properties["AdoptExisting"] = "true"
        resource: dict[str, Any] = {"Type": RESOURCE_TYPE}
        if retain:
            resource.update(DeletionPolicy="Retain", UpdateReplacePolicy="Retain")
        resource["Properties"] = properties
        resources[rule.logical_id] = resource
        outputs[f"{rule.logical_id}UriPrefix"] = {  # the provider's, right in every partition
            "Description": f"Where the rule '{rule.prefix}' caches: pull <this>/<upstream repository>:<tag>",
            "Value": {"Fn::GetAtt": [rule.logical_id, REPOSITORY_URI_PREFIX]},
        }
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": f"Pull-through cache rules of {account} in {region}, adopted unchanged (./dev import)",
        "Parameters": parameters,
        "Resources": resources,
        "Outputs": outputs,
    }


class _Dumper(yaml.SafeDumper):
    pass


def _mapping(dumper: yaml.SafeDumper, data: dict[str, Any]) -> yaml.Node:
    if len(data) == 1:
        ((key, value),) = data.items()
        if key == "Ref" and isinstance(value, str):
            return dumper.represent_scalar("!Ref", value)
        if key == "Fn::Sub" and isinstance(value, str):
            return dumper.represent_scalar("!Sub", value)
        if key == "Fn::GetAtt" and isinstance(value, list) and len(value) == 2:
            return dumper.represent_scalar("!GetAtt", ".".join(value))
    return dumper.represent_mapping("tag:yaml.org,2002:map", data)


_Dumper.add_representer(dict, _mapping)


def to_yaml(body: dict[str, Any], header: str = "") -> str:
    """The template as YAML (short tags for Ref and Sub), after `header` as comment lines."""
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header.splitlines())
    text = yaml.dump(body, Dumper=_Dumper, sort_keys=False, width=110, allow_unicode=True)
    return comments + text
