"""What CloudFormation will send for a property's value, when the template alone says it.

A literal is sent as a string (CloudFormation sends every scalar as one: `true` becomes
"true", `12` becomes "12"). `Fn::Sub` without variables and `Fn::Join` of literals are
literals too. Any other intrinsic function (Ref, Fn::GetAtt, Fn::ImportValue, Fn::Sub with
variables, Fn::FindInMap, ...) computes the value at deploy time: COMPUTED. Fn::If is not
seen here: the rule checks each condition scenario on its own (cfn-lint resolves them).

Of a computed value the template may still tell how it starts: an Fn::Sub's text before its
first variable, an Fn::Join's literal parts before the first computed one (`known_start`).
"""

from __future__ import annotations

import re
from typing import Any, Final


class Computed:
    """The value an intrinsic function computes at deploy time."""

    def __repr__(self) -> str:
        return "COMPUTED"


COMPUTED: Final = Computed()
_VARIABLE = re.compile(r"\$\{(?!!)([^}]*)\}")


def sent(value: Any) -> Any:
    """The value CloudFormation will send for `value`, or COMPUTED."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, argument),) = value.items()
            if key == "Fn::Sub":
                return _sub(argument)
            if key == "Fn::Join":
                return _join(argument)
            if key == "Ref" or str(key).startswith("Fn::") or key == "Condition":
                return COMPUTED
        return {str(k): sent(v) for k, v in value.items()}
    if isinstance(value, list):
        return [sent(v) for v in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return str(value)  # a plain str, not cfn-lint's str_node
    return value


def known_start(value: Any) -> tuple[str, bool]:
    """What the value CloudFormation sends for `value` is known to start with, and whether that
    is all of it: (the value, True) for a literal, the literal text before the first variable
    of an Fn::Sub (or before the first computed part of an Fn::Join) and False, ("", False) when
    nothing is known."""
    literal = sent(value)
    if isinstance(literal, str):
        return literal, True
    if isinstance(value, dict) and len(value) == 1:
        ((key, argument),) = value.items()
        if key == "Fn::Sub":
            return _sub_start(argument), False
        if key == "Fn::Join":
            return _join_start(argument), False
    return "", False


def sub_references(argument: Any) -> list[str]:
    """The names an Fn::Sub reads from the template (`argument`: its string, or its [string,
    variables] list): each ${Name} or ${Resource.Attribute} its own variables do not give, in
    order (${!Literal} is text)."""
    template, variables = _sub_parts(argument)
    if not isinstance(template, str):
        return []
    return [name for name in _VARIABLE.findall(str(template)) if name not in variables]


def _sub_start(argument: Any) -> str:
    template, variables = _sub_parts(argument)
    if not isinstance(template, str):
        return ""
    text = str(template)
    start, position = "", 0
    for found in _VARIABLE.finditer(text):
        start += text[position : found.start()].replace("${!", "${")
        value = sent(variables[found[1]]) if found[1] in variables else COMPUTED
        if not isinstance(value, str):
            return start
        start, position = start + value, found.end()
    return start + text[position:].replace("${!", "${")


def _join_start(argument: Any) -> str:
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        return ""
    delimiter, items = str(argument[0]), argument[1]
    if not isinstance(items, list):
        return ""
    start = ""
    for index, item in enumerate(items):
        part = sent(item)
        if not isinstance(part, str):
            return start + known_start(item)[0]
        start += part + (delimiter if index < len(items) - 1 else "")
    return start


def _sub_parts(argument: Any) -> tuple[Any, dict[str, Any]]:
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
        return argument[0], argument[1]
    return argument, {}


def _sub(argument: Any) -> Any:
    template, variables = _sub_parts(argument)
    if not isinstance(template, str):
        return COMPUTED
    text = str(template)
    for name in _VARIABLE.findall(text):
        value = sent(variables[name]) if name in variables else COMPUTED
        if not isinstance(value, str):
            return COMPUTED
        text = text.replace(f"${{{name}}}", value)
    return text.replace("${!", "${")


def _join(argument: Any) -> Any:
    if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
        return COMPUTED
    delimiter, items = argument
    parts = [sent(item) for item in items] if isinstance(items, list) else [COMPUTED]
    texts = [part for part in parts if isinstance(part, str)]
    return str(delimiter).join(texts) if len(texts) == len(parts) else COMPUTED
