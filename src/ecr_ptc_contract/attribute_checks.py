"""What is wrong with an attribute a template reads from the resource (Fn::GetAtt, or
${Resource.Attribute} in Fn::Sub): one the resource does not have, with the closest it has."""

from __future__ import annotations

import difflib

from .attributes import ATTRIBUTES
from .properties import RESOURCE_TYPE
from .wording import QUOTE_MAX, Problem, quoted

__all__ = ["attribute_problem"]


def attribute_problem(reference: str, attribute: str) -> Problem | None:
    """Why `attribute` cannot be read from the resource, or None when it can. `reference` is
    how the template writes it ("Fn::GetAtt Cache.RepositoryUrl", "Fn::Sub ${Cache.Arn}"):
    the sentence starts with it."""
    if attribute in ATTRIBUTES:
        return None
    by_case = [a for a in ATTRIBUTES if a.lower() == attribute.lower()]
    close = by_case or difflib.get_close_matches(attribute[:QUOTE_MAX], ATTRIBUTES, n=1, cutoff=0.6)
    guess = f"; did you mean '{close[0]}'?" if close else "."
    return Problem(
        f"{reference}: {RESOURCE_TYPE} has no attribute {quoted(attribute)}{guess} "
        f"Its attributes: {', '.join(ATTRIBUTES)}."
    )
