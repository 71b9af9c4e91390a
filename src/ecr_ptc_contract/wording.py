"""How a problem is said: the Problem itself (a sentence that starts with the property's name),
and how a sentence quotes a value, names a value's JSON type, counts characters and says that
a value is too long."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .properties import Property

__all__ = [
    "QUOTE_KEEP",
    "QUOTE_MAX",
    "Problem",
    "characters",
    "joined",
    "json_kind",
    "quoted",
    "shown",
    "too_long",
]

# A value longer than QUOTE_MAX characters is quoted by its first QUOTE_KEEP and its length.
QUOTE_MAX, QUOTE_KEEP = 100, 40


@dataclass(frozen=True)
class Problem:
    """One mistake: the sentence that says it, which starts with the property's name, and the
    property whose value shows it (None: the properties as a whole)."""

    message: str
    property: str | None = None

    def __str__(self) -> str:
        return self.message


def quoted(value: str, say_length: bool = True) -> str:
    """`value` as a problem quotes it: characters that do not print escaped, and a long value
    shortened to its start, followed by its length."""
    parts = []
    width = 0
    for character in value:
        text = character if character.isprintable() else ascii(character)[1:-1]
        parts.append(text)
        width += len(text)
        if width > QUOTE_MAX:
            break
    if width <= QUOTE_MAX:
        return f"'{''.join(parts)}'"
    start = "".join(parts)[:QUOTE_KEEP]
    return f"'{start}…' ({len(value)} characters)" if say_length else f"'{start}…'"


def shown(value: Any) -> str:
    """A value of any type, as a problem shows it: a string quoted, anything else as the JSON
    CloudFormation sent (null, true, 5, {"a": 1}), never as Python writes it."""
    if isinstance(value, str):
        return quoted(value)
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, RecursionError):
        return "(a value nested too deep to show)"
    return text if len(text) <= QUOTE_MAX else f"{text[:QUOTE_KEEP]}… ({len(text)} characters)"


def json_kind(value: Any) -> str:
    """What JSON calls the value's type, as a sentence names it ("an object", "a number")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    return "a list" if isinstance(value, list | tuple) else f"a {type(value).__name__}"


def characters(count: int) -> str:
    return "1 character" if count == 1 else f"{count} characters"


def joined(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def too_long(prop: Property, value: str, fix: str) -> Problem:
    if prop.min_length > 1:
        allowed = f"it must be {prop.min_length} to {prop.max_length}"
    else:
        allowed = f"it can be at most {prop.max_length}"
    return Problem(
        f"{prop.name} {quoted(value, say_length=False)} is {characters(len(value))} long; {allowed}: {fix}.",
        prop.name,
    )
