"""CloudFormation templates as data: YAML with the short-form tags (!Ref, !Sub, !GetAtt, ...)
read into their long form ({"Ref": ...}, {"Fn::Sub": ...}), so a test or the demo can change a
template (add a resource, swap a property) and deploy the result as JSON."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from health.template_text import load_yaml

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def load(path: Path | str) -> dict[str, Any]:
    """A template file (YAML or JSON) as a dict in long form."""
    return dict(parse(Path(path).read_text()))


def parse(text: str) -> Any:
    """CloudFormation YAML (or JSON) text in long form: a template, or any part of one (read as
    the health check reads a stack's template)."""
    return load_yaml(text)


def example(name: str) -> dict[str, Any]:
    """examples/<name>.yaml as a dict."""
    return load(EXAMPLES / f"{name}.yaml")


def custom_resources(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The template's Custom::PullThroughCacheRule resources, by logical id."""
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "Custom::PullThroughCacheRule"
    }


def with_resource(template: dict[str, Any], logical_id: str, resource: dict[str, Any]) -> dict[str, Any]:
    """A copy of `template` with `resource` added (or replacing the one of that logical id)."""
    changed = copy.deepcopy(template)
    changed["Resources"][logical_id] = copy.deepcopy(resource)
    return changed


def without_resource(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """A copy of `template` without `logical_id` (and without the outputs that refer to it)."""
    changed = copy.deepcopy(template)
    del changed["Resources"][logical_id]
    outputs = changed.get("Outputs", {})
    for name in [n for n, o in outputs.items() if logical_id in repr(o["Value"])]:
        del outputs[name]
    return changed


def output_expression(template: dict[str, Any], name: str) -> str:
    """The expression an output's value comes from, in the short form a template is written in
    (e.g. "!GetAtt PullThroughCacheRule.RepositoryUriPrefix", "!Ref PullThroughCacheRule"), so a
    report names the attribute itself, not the output's own name; "" for a literal value."""
    value = template.get("Outputs", {}).get(name, {}).get("Value")
    if not (isinstance(value, dict) and len(value) == 1):
        return ""
    function, argument = next(iter(value.items()))
    tag = "!" + str(function).removeprefix("Fn::")
    if function == "Fn::GetAtt" and isinstance(argument, list):
        return f"{tag} {'.'.join(str(part) for part in argument)}"
    if isinstance(argument, str):
        return f"{tag} {argument}"
    return f"{tag} {json.dumps(argument, separators=(', ', ': '))}"
