"""What CloudFormation will send for a property's value, when the template alone says it.

A literal is sent as a string (CloudFormation sends every scalar as one: `true` becomes
"true", `12` becomes "12"). `Fn::Sub` without variables and `Fn::Join` of literals are
literals too. Any other intrinsic function (Ref, Fn::GetAtt, Fn::ImportValue, Fn::Sub with
variables, Fn::FindInMap, ...) computes the value at deploy time: COMPUTED. Fn::If is not
seen here: the rule checks each condition scenario on its own (cfn-lint resolves them).
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


def _sub(argument: Any) -> Any:
    if isinstance(argument, list) and len(argument) == 2 and isinstance(argument[1], dict):
        template, variables = argument
    else:
        template, variables = argument, {}
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
