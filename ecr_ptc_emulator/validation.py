"""Input validation driven by the ECR service model, worded like AWS's ValidationException:
``1 validation error detected: Value 'X' at 'field' failed to satisfy constraint: ...``."""

import re
from collections.abc import Mapping, Sequence
from typing import Any

from moto.core.utils import get_service_model

from .errors import AnyError, ValidationException

_TYPES: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "boolean": bool,
    "list": list,
    "structure": dict,
}


def operation_model(operation: str) -> Any:
    return get_service_model("ecr").operation_model(operation)


def validate(
    operation: str, params: dict[str, Any], enum_extras: Mapping[str, Sequence[str]] | None = None
) -> None:
    """Raise ValidationException listing every constraint of the model ``params`` break.

    ``enum_extras``: values an enum shape accepts besides the model's, by shape name (the
    upstream registry kinds taught to one backend).
    """
    extras = enum_extras or {}
    shape = operation_model(operation).input_shape
    problems = [
        f"Value null at '{name}' failed to satisfy constraint: Member must not be null"
        for name in shape.required_members
        if params.get(name) is None
    ]
    for name, member in shape.members.items():
        value = params.get(name)
        if value is None:
            continue
        problems += [
            f"Value '{_show(value)}' at '{name}' failed to satisfy constraint: {violation}"
            for violation in _violations(name, value, member, extras)
        ]
    if problems:
        count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''}"
        raise ValidationException(f"{count} detected: {'; '.join(problems)}")


def _violations(name: str, value: Any, shape: Any, extras: Mapping[str, Sequence[str]]) -> list[str]:
    expected = _TYPES.get(shape.type_name)
    if expected and (not isinstance(value, expected) or (expected is int and value is True)):
        raise AnyError("SerializationException", f"Unexpected value type at '{name}'")
    meta, found = shape.metadata, []
    if shape.type_name in ("string", "list", "integer"):
        unit, size = ("value", value) if shape.type_name == "integer" else ("length", len(value))
        if "min" in meta and size < meta["min"]:
            found.append(f"Member must have {unit} greater than or equal to {meta['min']}")
        if "max" in meta and size > meta["max"]:
            found.append(f"Member must have {unit} less than or equal to {meta['max']}")
    if "pattern" in meta and not re.fullmatch(meta["pattern"], value):
        found.append(f"Member must satisfy regular expression pattern: {meta['pattern']}")
    enum = getattr(shape, "enum", None)
    if enum:
        enum = [*enum, *extras.get(shape.name, ())]
    if enum and value not in enum:
        found.append(f"Member must satisfy enum value set: [{', '.join(enum)}]")
    if shape.type_name == "list":
        inner = {v: None for item in value for v in _violations(name, item, shape.member, extras)}
        if inner:
            found.append(f"Member must satisfy constraint: [{', '.join(inner)}]")
    return found


def _show(value: Any) -> str:
    return f"[{', '.join(map(str, value))}]" if isinstance(value, list) else str(value)
