"""A resource's properties from its stack's own record: the template, the parameters' values,
the physical ids of the stack's resources, the pseudo parameters (from the stack's ARN) and the
account's exports. What the record cannot tell is *unresolved*, with the reason, never guessed.

Resolved: literals; Ref of a parameter, of a resource (its physical id), of the pseudo parameters
AWS::Region, AWS::AccountId, AWS::Partition, AWS::StackName, AWS::StackId, AWS::URLSuffix and
AWS::NoValue (the property is absent); Fn::Sub (both forms, ${!Literal}); Fn::Join; Fn::Select;
Fn::Split; Fn::ImportValue; Fn::FindInMap; and one Fn::GetAtt, an AWS::SecretsManager::Secret's
Id, which CloudFormation documents as the secret's ARN, the same value as its Ref (its physical
id). Unresolved: every other Fn::GetAtt (attributes are not on the record), Fn::If and the
conditions, a NoEcho parameter (shown as '****'), any other intrinsic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from handler.partitions import dns_suffix
from health.record import StackRecord

SECRET_TYPE = "AWS::SecretsManager::Secret"
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Unresolved(Exception):
    """The value cannot be told from the stack's record; the text says why."""


class _NoValue:
    """Ref AWS::NoValue: the property is not set."""


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class Resolved:
    """A resource's properties: those resolved (CloudFormation's strings: every scalar as text),
    and those that are not, each with its reason."""

    values: dict[str, Any] = field(default_factory=dict)
    unresolved: dict[str, str] = field(default_factory=dict)


def resolve_properties(properties: Mapping[str, Any], stack: StackRecord) -> Resolved:
    """Each property of a resource of `stack`, resolved or not (see the module's docstring)."""
    resolved = Resolved()
    for name, value in properties.items():
        try:
            result = resolve(value, stack)
        except Unresolved as why:
            resolved.unresolved[name] = str(why)
            continue
        if result is not NO_VALUE:
            resolved.values[name] = result
    return resolved


def resolve(value: Any, stack: StackRecord) -> Any:
    """One value of a template, resolved against `stack`'s record; raises Unresolved."""
    if isinstance(value, Mapping):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Ref":
                return _ref(argument, stack)
            if key.startswith("Fn::") or key == "Condition":
                return _function(key, argument, stack)
        return {k: _present(resolve(v, stack), k) for k, v in value.items()}
    if isinstance(value, list):
        return [item for item in (resolve(v, stack) for v in value) if item is not NO_VALUE]
    if isinstance(value, bool):
        return "true" if value else "false"  # CloudFormation sends every scalar as a string
    if isinstance(value, int | float):
        return str(value)
    if value is None or isinstance(value, str):
        return value
    return str(value)  # a YAML date, e.g.


def pseudo_parameters(stack: StackRecord) -> dict[str, str]:
    """The pseudo parameters, from the stack's ARN
    (arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<id>)."""
    parts = stack.stack_id.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return {"AWS::StackName": stack.name, "AWS::StackId": stack.stack_id}
    partition, region, account = parts[1], parts[3], parts[4]
    return {
        "AWS::Partition": partition,
        "AWS::Region": region,
        "AWS::AccountId": account,
        "AWS::StackName": stack.name,
        "AWS::StackId": stack.stack_id,
        "AWS::URLSuffix": dns_suffix(partition),
    }


def _present(value: Any, where: str) -> Any:
    if value is NO_VALUE:
        raise Unresolved(f"AWS::NoValue inside {where}")
    return value


def _ref(name: Any, stack: StackRecord) -> Any:
    if not isinstance(name, str):
        raise Unresolved(f"Ref of {name!r}")
    if name == "AWS::NoValue":
        return NO_VALUE
    if name.startswith("AWS::"):
        pseudo = pseudo_parameters(stack)
        if name not in pseudo:
            raise Unresolved(f"Ref {name}")
        return pseudo[name]
    if name in stack.parameters:
        shown = stack.parameters[name]
        if shown is None:
            raise Unresolved(f"Ref {name}: a NoEcho parameter (CloudFormation shows no value)")
        return shown
    if name in stack.physical_ids:
        return stack.physical_ids[name]
    raise Unresolved(f"Ref {name}: neither a parameter nor a resource on the stack's record")


def _function(key: str, argument: Any, stack: StackRecord) -> Any:
    if key == "Fn::Sub":
        return _sub(argument, stack)
    if key == "Fn::Join":
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolved("Fn::Join that is not [delimiter, [values]]")
        delimiter, items = resolve(argument[0], stack), resolve(argument[1], stack)
        if not isinstance(delimiter, str) or not isinstance(items, list):
            raise Unresolved("Fn::Join that is not [delimiter, [values]]")
        if not all(isinstance(item, str) for item in items):
            raise Unresolved("Fn::Join of values that are not strings")
        return delimiter.join(items)
    if key == "Fn::Select":
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolved("Fn::Select that is not [index, [values]]")
        index, items = resolve(argument[0], stack), resolve(argument[1], stack)
        if not (isinstance(index, str) and index.isdigit() and isinstance(items, list)):
            raise Unresolved("Fn::Select that is not [index, [values]]")
        if int(index) >= len(items):
            raise Unresolved(f"Fn::Select index {index} of {len(items)} values")
        return items[int(index)]
    if key == "Fn::Split":
        if not (isinstance(argument, list) and len(argument) == 2):
            raise Unresolved("Fn::Split that is not [delimiter, text]")
        delimiter, text = resolve(argument[0], stack), resolve(argument[1], stack)
        if not (isinstance(delimiter, str) and delimiter and isinstance(text, str)):
            raise Unresolved("Fn::Split that is not [delimiter, text]")
        return text.split(delimiter)
    if key == "Fn::ImportValue":
        name = resolve(argument, stack)
        if not isinstance(name, str) or name not in stack.exports:
            raise Unresolved(f"Fn::ImportValue of {name!r}: no such export in the account's exports")
        return stack.exports[name]
    if key == "Fn::FindInMap":
        return _find_in_map(argument, stack)
    if key == "Fn::GetAtt":
        return _get_att(argument, stack)
    raise Unresolved(f"{key} (not resolved from the stack's record)")


def _sub(argument: Any, stack: StackRecord) -> str:
    if isinstance(argument, str):
        text, variables = argument, {}
    elif isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str):
        text, named = argument[0], resolve(argument[1], stack)
        if not isinstance(named, Mapping):
            raise Unresolved("Fn::Sub whose variables are not an object")
        variables = dict(named)
    else:
        raise Unresolved("Fn::Sub that is not text or [text, {variables}]")

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("!"):
            return "${" + name[1:] + "}"  # ${!Literal} is written as ${Literal}
        if name in variables:
            value = variables[name]
        elif "." in name and not name.startswith("AWS::"):
            value = _get_att(name.split(".", 1), stack)
        else:
            value = _ref(name, stack)
        if not isinstance(value, str):
            raise Unresolved(f"Fn::Sub variable {name} is not text")
        return value

    return _SUB_VARIABLE.sub(substitute, text)


def _find_in_map(argument: Any, stack: StackRecord) -> Any:
    if not (isinstance(argument, list) and len(argument) == 3):
        raise Unresolved("Fn::FindInMap that is not [map, key, key]")
    names = [resolve(part, stack) for part in argument]
    mappings = stack.template.get("Mappings") or {}
    try:
        value = mappings[names[0]][names[1]][names[2]]
    except (KeyError, TypeError):
        raise Unresolved(f"Fn::FindInMap {names}: not in the template's Mappings") from None
    return resolve(value, stack)


def _get_att(argument: Any, stack: StackRecord) -> str:
    if isinstance(argument, str):
        argument = argument.split(".", 1)
    if not (isinstance(argument, list) and len(argument) == 2):
        raise Unresolved("Fn::GetAtt that is not [resource, attribute]")
    logical_id, attribute = argument
    resources = stack.template.get("Resources") or {}
    kind = (resources.get(logical_id) or {}).get("Type") if isinstance(logical_id, str) else None
    if kind == SECRET_TYPE and attribute == "Id" and logical_id in stack.physical_ids:
        return stack.physical_ids[logical_id]  # a secret's Id is its ARN, its physical id
    raise Unresolved(f"Fn::GetAtt {logical_id}.{attribute} (attributes are not on the stack's record)")
