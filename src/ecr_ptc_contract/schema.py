"""The JSON Schema (draft 07) of the resource's Properties, computed from the contract's
tables: it accepts exactly what the provider accepts, NOT_IN_SCHEMA aside. An upstream host
or kind this version does not know is left to ECR: the schema's rules hold for the ones it
knows."""

from __future__ import annotations

from typing import Any

from .properties import CLOUDFORMATION_OWNED, NOT_IN_SCHEMA, PROPERTIES, REQUIRED, RESOURCE_TYPE, Property
from .shapes import BOOLEAN_PATTERN, ROOT
from .upstreams import COMMON_MISTAKES, ECR, UPSTREAMS

__all__ = ["json_schema"]


def json_schema() -> dict[str, Any]:
    """The contract as a JSON Schema (draft 07) of the resource's Properties: it accepts
    exactly what the handler's `parse` accepts, NOT_IN_SCHEMA aside."""
    properties: dict[str, Any] = {name: {"description": "CloudFormation's."} for name in CLOUDFORMATION_OWNED}
    for prop in PROPERTIES:
        properties[prop.name] = {"description": prop.summary, **_value_schema(prop)}
        if prop.default is not None:
            properties[prop.name]["default"] = prop.default
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": "urn:ecr-pull-through-cache-provider:custom-pullthroughcacherule:properties",
        "title": f"{RESOURCE_TYPE} Properties",
        "description": (
            "The Properties of a Custom::PullThroughCacheRule as CloudFormation sends them to the "
            "provider (computed from the property contract, ecr_ptc_contract). "
            f"Not expressible here, and checked by the provider: {NOT_IN_SCHEMA}"
        ),
        "type": "object",
        "properties": properties,
        "required": list(REQUIRED),
        "additionalProperties": False,
        "allOf": _relations(),
    }


_UNPADDED = {"not": {"pattern": r"^\s|\s$"}}
_UNSET = [{"type": "null"}, {"const": ""}]


def _value_schema(prop: Property) -> dict[str, Any]:
    if prop.boolean:
        return {"anyOf": [{"type": "null"}, {"type": "boolean"}, _string(pattern=BOOLEAN_PATTERN)]}
    string = _string(
        min_length=prop.min_length, max_length=prop.max_length, pattern=prop.pattern, allowed=prop.allowed
    )
    if prop.refused:
        string["allOf"].append({"not": {"enum": list(prop.refused)}})
    if prop.name == "UpstreamRegistryUrl":  # any host name, but those people write for another
        string["allOf"].append({"not": {"enum": list(COMMON_MISTAKES)}})
    return string if prop.required else {"anyOf": [*_UNSET, string]}


def _string(
    min_length: int | None = None,
    max_length: int | None = None,
    pattern: str | None = None,
    allowed: tuple[str, ...] = (),
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if min_length is not None:
        schema["minLength"] = min_length
    if max_length is not None:
        schema["maxLength"] = max_length
    if pattern is not None:
        schema["pattern"] = pattern
    if allowed:
        schema["enum"] = list(allowed)
    schema["allOf"] = [_UNPADDED]
    return schema


def _url_is(pattern: str) -> dict[str, Any]:
    return {
        "properties": {"UpstreamRegistryUrl": {"type": "string", "pattern": pattern}},
        "required": ["UpstreamRegistryUrl"],
    }


def _relations() -> list[dict[str, Any]]:
    """Which properties go together, as if/then rules. An upstream host or kind this version
    does not know is left to ECR: the rules hold for the ones it knows."""
    rules: list[dict[str, Any]] = []
    for upstream in UPSTREAMS:  # a known kind must have its own hosts, a known host its own kind
        rules.append(
            {
                "if": {
                    "properties": {"UpstreamRegistry": {"const": upstream.kind}},
                    "required": ["UpstreamRegistry"],
                },
                "then": {"properties": {"UpstreamRegistryUrl": {"pattern": upstream.host_pattern}}},
            }
        )
        rules.append(
            {
                "if": _url_is(upstream.host_pattern),
                "then": {"properties": {"UpstreamRegistry": {"enum": ["", None, upstream.kind]}}},
            }
        )
    for upstream in UPSTREAMS:  # the upstreams ECR refuses to cache without a secret
        if upstream.needs_credential:
            rules.append(
                {
                    "if": _url_is(upstream.host_pattern),
                    "then": {
                        "properties": {"CredentialArn": {"type": "string", "minLength": 1}},
                        "required": ["CredentialArn"],
                    },
                }
            )
    only_for_ecr = [p.name for p in PROPERTIES if p.only_for == ECR]
    for upstream in UPSTREAMS:  # a known upstream other than ECR has none of ECR's own properties
        if upstream.kind != ECR:
            rules.append(
                {
                    "if": _url_is(upstream.host_pattern),
                    "then": {"properties": {name: {"enum": ["", None]} for name in only_for_ecr}},
                }
            )
    rules.append(  # ROOT for the whole registry caches the upstream's whole registry
        {
            "if": {
                "properties": {"EcrRepositoryPrefix": {"const": ROOT}},
                "required": ["EcrRepositoryPrefix"],
            },
            "then": {"properties": {"UpstreamRepositoryPrefix": {"enum": ["", None, ROOT]}}},
        }
    )
    return rules
