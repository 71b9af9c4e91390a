"""What is wrong with a repository prefix (EcrRepositoryPrefix, UpstreamRepositoryPrefix), said
with a valid prefix close to it when there is one."""

from __future__ import annotations

import re

from .properties import Property
from .shapes import PREFIX_MAX, PREFIX_MIN, PREFIX_PATTERN, ROOT_LOOKALIKES
from .wording import Problem, characters, quoted

__all__ = ["prefix_problem", "suggest_prefix"]


def suggest_prefix(value: str) -> str | None:
    """A valid prefix close to `value`, or None."""
    words = [w for w in re.split(r"[^a-z0-9/]+", value.lower()) if w]
    suggestion = re.sub(r"/+", "/", "-".join(words).strip("/")).replace("-/", "/").replace("/-", "/")
    if PREFIX_MIN <= len(suggestion) <= PREFIX_MAX and re.fullmatch(PREFIX_PATTERN, suggestion):
        return suggestion
    return None


def prefix_problem(prop: Property, value: str) -> Problem | None:
    """Why `value` cannot be this repository prefix, or None when it can."""
    name = prop.name
    if not PREFIX_MIN <= len(value) <= PREFIX_MAX:
        return Problem(
            f"{name} {quoted(value, say_length=False)} is {characters(len(value))} long; it must be "
            f"{PREFIX_MIN} to {PREFIX_MAX}.",
            name,
        )
    if value in ROOT_LOOKALIKES:
        meant = "the whole registry" if name == "EcrRepositoryPrefix" else "every upstream repository"
        return Problem(
            f"{name} {quoted(value)} would be a literal prefix named 'root', not {meant}: write ROOT "
            f"(in capitals) for {meant}, or choose another name.",
            name,
        )
    if not re.fullmatch(PREFIX_PATTERN, value):
        suggestion = suggest_prefix(value)
        hint = "use lowercase letters and digits, with '.', '_', '-' or '/' only between them"
        if suggestion:
            hint += f", e.g. '{suggestion}'"
        return Problem(
            f"{name} {quoted(value)} is not a valid repository prefix: {hint} "
            "(or ROOT for the whole registry).",
            name,
        )
    return None
