"""A template as GetTemplate returns it (a parsed JSON object, or YAML/JSON text) in long form:
the YAML short-form tags (!Ref, !Sub, !GetAtt, ...) read as {"Ref": ...}, {"Fn::Sub": ...}."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import yaml


class TemplateText(ValueError):
    """The template cannot be read as JSON or CloudFormation YAML."""


class _Loader(yaml.SafeLoader):
    pass


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:  # pragma: no cover - YAML has no other node
        raise yaml.constructor.ConstructorError(None, None, f"unexpected node for !{suffix}", node.start_mark)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_multi_constructor("!", _short_form)


def load_yaml(text: str) -> Any:
    """CloudFormation YAML (JSON is YAML too) in long form: a template, or any part of one."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader with the short forms


def long_form(body: Any) -> dict[str, Any]:
    """The template `body` as a dict in long form."""
    if isinstance(body, Mapping):
        return dict(body)
    if not isinstance(body, str):
        raise TemplateText(f"a template is an object or text, not {type(body).__name__}")
    try:
        parsed = json.loads(body)
    except ValueError:
        try:
            parsed = load_yaml(body)
        except yaml.YAMLError as problem:
            raise TemplateText(f"the template is neither JSON nor YAML: {problem}") from None
    if not isinstance(parsed, Mapping):
        raise TemplateText("the template is not an object")
    return dict(parsed)
